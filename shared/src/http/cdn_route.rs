//! Which replica served which object, and why: the report of
//! `/api/cdn/route?from=<address>`, for which the relay plays a client at
//! that loopback address (a region, see [`super::cdn::REPLICAS`]): it
//! fetches the origin's base page, looks each image's host up as a
//! browser would (the provider's alias first, then the CDN's name at the
//! CDN's server) and fetches the image from the address DNS gave. The
//! page shows the report; the pieces that need no sockets are here.

use super::cdn::{REPLICAS, replica_at};
use crate::dns::nearest::common_prefix_bits;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The most images of one page a report follows.
pub const MAX_OBJECTS: usize = 16;
/// The longest image URL taken from a page.
pub const MAX_URL: usize = 512;

/// One client's view of the base page and its images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteReport {
    /// The address the queries and requests came from.
    pub client: String,
    /// The base page's URL, at the origin.
    pub page: String,
    pub objects: Vec<ObjectRoute>,
    /// Why the base page could not be read, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One image: the name looked up, the replica DNS gave, what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRoute {
    pub url: String,
    /// The URL's host name.
    pub host: String,
    /// The CDN name an alias led to (`video.sina.com` → `www.cdn.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
    /// The address the CDN's DNS server answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// That address's replica (`paris.cdn.com`) and region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Why DNS chose it, in words.
    pub why: String,
    /// The replica's answer: status and `Server` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// What went wrong on the way, if anything did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ObjectRoute {
    /// A route known by its URL and host only, so far.
    pub fn new(url: &str, host: &str) -> Self {
        ObjectRoute {
            url: url.to_string(),
            host: host.to_string(),
            alias_of: None,
            address: None,
            replica: None,
            region: None,
            why: String::new(),
            status: None,
            server: None,
            error: None,
        }
    }

    /// Records the address DNS gave `client`, with its replica and why.
    pub fn answered(&mut self, client: IpAddr, address: IpAddr) {
        self.address = Some(address.to_string());
        if let Some(replica) = replica_at(address) {
            self.replica = Some(replica.host.to_string());
            self.region = Some(replica.region.to_string());
        }
        self.why = why(client, address);
    }
}

/// The `src` of every `<img>` of `html`, at most [`MAX_OBJECTS`], each at
/// most [`MAX_URL`] bytes (longer ones are skipped).
pub fn image_urls(html: &str) -> Vec<String> {
    html.split("<img src=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(url, _)| url))
        .filter(|url| url.len() <= MAX_URL)
        .take(MAX_OBJECTS)
        .map(str::to_string)
        .collect()
}

/// An `http://host:port/path` URL's parts; `None` for anything else.
pub fn split_url(url: &str) -> Option<(&str, u16, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, 80),
    };
    (!host.is_empty()).then_some((host, port, path))
}

/// Why the CDN's DNS server gave `client` the replica at `chosen`: the
/// leading bits the client's address shares with each replica's.
pub fn why(client: IpAddr, chosen: IpAddr) -> String {
    let shares: Vec<String> = REPLICAS
        .iter()
        .map(|r| {
            format!(
                "{} bits with {} ({})",
                common_prefix_bits(client, r.ip()),
                r.host,
                r.address
            )
        })
        .collect();
    let verdict = match replica_at(chosen) {
        Some(r) => format!("the nearest is {} in {}", r.host, r.region),
        None => format!("{chosen} is no replica of the lab"),
    };
    format!(
        "the query came from {client}, which shares {}: {verdict}",
        shares.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::cdn::origin_files;

    #[test]
    fn the_base_pages_images_are_found_and_split() {
        let files = origin_files(8082);
        let page = String::from_utf8(files[0].1.body.to_vec()).unwrap();
        let urls = image_urls(&page);
        assert_eq!(urls.len(), 3);
        assert_eq!(
            split_url(&urls[0]),
            Some(("www.cdn.com", 8082, "/www.sina.com/sports/ruth.gif"))
        );
        assert_eq!(
            split_url(&urls[2]),
            Some(("video.sina.com", 8082, "/sports/tennis.jpg"))
        );
        assert_eq!(split_url("http://a.b"), Some(("a.b", 80, "/")));
        for bad in [
            "https://a/",
            "http://:80/",
            "http://a:x/",
            "http://a:99999/",
        ] {
            assert_eq!(split_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hostile_page_is_bounded() {
        let long = format!("<img src=\"{}\">", "x".repeat(MAX_URL + 1));
        assert!(image_urls(&long).is_empty());
        let many = "<img src=\"http://a/\">".repeat(100);
        assert_eq!(image_urls(&many).len(), MAX_OBJECTS);
        assert!(image_urls("<img src=\"unterminated").is_empty());
    }

    #[test]
    fn why_counts_the_shared_bits() {
        let paris = "127.1.0.80".parse().unwrap();
        let text = why("127.1.0.7".parse().unwrap(), paris);
        assert_eq!(
            text,
            "the query came from 127.1.0.7, which shares 15 bits with ny.cdn.com (127.0.0.80) \
             and 25 bits with paris.cdn.com (127.1.0.80): the nearest is paris.cdn.com in Paris"
        );
        let mut route = ObjectRoute::new("http://www.cdn.com:1/x", "www.cdn.com");
        route.answered("127.1.0.7".parse().unwrap(), paris);
        assert_eq!(route.replica.as_deref(), Some("paris.cdn.com"));
        assert_eq!(route.region.as_deref(), Some("Paris"));
        let stranger = why("127.1.0.7".parse().unwrap(), "10.0.0.1".parse().unwrap());
        assert!(
            stranger.ends_with("10.0.0.1 is no replica of the lab"),
            "{stranger}"
        );
    }
}
