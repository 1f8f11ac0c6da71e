//! Content distribution by DNS redirection (the textbook's §2.9.2, the
//! slides' URL rewriting). The content provider's origin server,
//! `www.sina.com`, keeps every object and serves the base page
//! `/sports/`, in which each image is named by the CDN:
//! `http://www.sina.com/sports/ruth.gif` became
//! `http://www.cdn.com:<port>/www.sina.com/sports/ruth.gif`. The CDN's
//! replicas ([`REPLICAS`]) hold the same objects under that path (and
//! under the origin's own path, for `video.sina.com`, an alias into the
//! CDN's zone), and each says which replica it is: its `Server` header
//! and its home page. Which replica a client reaches is the choice of the
//! CDN's DNS server (`crate::dns::nearest`), not of anything here.
//!
//! The caller serves [`origin_files`] from the reference web server and
//! runs one web server per replica with [`replica_files`] and
//! [`replica_server_header`], all replicas on one port, which the origin's
//! page names.

use super::response::escape;
use super::site::{PAGES_LAST_MODIFIED, StaticFile};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// The content provider's web server (the lab's reference web server).
pub const ORIGIN_HOST: &str = "www.sina.com";
/// The name the rewritten URLs use, answered by the CDN's DNS server.
pub const CDN_HOST: &str = "www.cdn.com";
/// The provider's own name for its objects, a CNAME into the CDN's zone.
pub const ALIAS_HOST: &str = "video.sina.com";
/// The origin's base page.
pub const BASE_PAGE: &str = "/sports/index.html";

/// One of the CDN's servers, and the clients it is nearest to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replica {
    /// The relay's catalog name (`cdn-ny`).
    pub catalog: &'static str,
    /// Its own name in the CDN's zone.
    pub host: &'static str,
    pub address: Ipv4Addr,
    /// The region it stands for.
    pub region: &'static str,
    /// The source addresses the CDN's DNS server sends here.
    pub clients: &'static str,
}

impl Replica {
    pub fn ip(&self) -> IpAddr {
        IpAddr::V4(self.address)
    }
}

/// The CDN's replicas, in the order `www.cdn.com`'s addresses are listed
/// (the first also takes the clients nearest to neither).
pub const REPLICAS: &[Replica] = &[
    Replica {
        catalog: "cdn-ny",
        host: "ny.cdn.com",
        address: Ipv4Addr::new(127, 0, 0, 80),
        region: "New York",
        clients: "127.0.x.x (the lab's own addresses, the resolver dns.poly.edu among them) and any address nearest to neither",
    },
    Replica {
        catalog: "cdn-paris",
        host: "paris.cdn.com",
        address: Ipv4Addr::new(127, 1, 0, 80),
        region: "Paris",
        clients: "127.1.x.x",
    },
];

/// The replica at `address`.
pub fn replica_at(address: IpAddr) -> Option<&'static Replica> {
    REPLICAS.iter().find(|r| r.ip() == address)
}

/// An object the provider has the CDN distribute.
struct Object {
    /// Where the origin serves it.
    path: &'static str,
    /// The same object's path on a replica: the provider's name first, so
    /// one CDN server can hold many providers' objects.
    cdn_path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    alt: &'static str,
}

const OBJECTS: [Object; 2] = [
    Object {
        path: "/sports/ruth.gif",
        cdn_path: "/www.sina.com/sports/ruth.gif",
        content_type: "image/gif",
        body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/http/kiwi.gif")),
        alt: "ruth.gif, the textbook's example",
    },
    Object {
        path: "/sports/tennis.jpg",
        cdn_path: "/www.sina.com/sports/tennis.jpg",
        content_type: "image/jpeg",
        body: include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/http/pic01.jpg"
        )),
        alt: "tennis, the slides' example",
    },
];

/// The rewritten URL of an object the origin serves at `path`.
pub fn cdn_url(port: u16, path: &str) -> String {
    format!("http://{CDN_HOST}:{port}/{ORIGIN_HOST}{path}")
}

/// The objects' URLs as the origin's base page names them, in its order:
/// the rewritten ones, then the one through the provider's alias.
pub fn object_urls(cdn_port: u16) -> Vec<String> {
    let mut urls: Vec<String> = OBJECTS.iter().map(|o| cdn_url(cdn_port, o.path)).collect();
    urls.push(format!("http://{ALIAS_HOST}:{cdn_port}{}", OBJECTS[1].path));
    urls
}

/// The origin's files: the base page, whose objects are named by the CDN
/// on `cdn_port`, and the objects themselves (the origin keeps a copy).
pub fn origin_files(cdn_port: u16) -> Vec<(&'static str, StaticFile)> {
    let mut files = vec![(
        BASE_PAGE,
        StaticFile::owned(
            "text/html; charset=utf-8",
            base_page(cdn_port).into_bytes(),
            PAGES_LAST_MODIFIED,
        ),
    )];
    for o in &OBJECTS {
        files.push((
            o.path,
            StaticFile::new(o.content_type, o.body, PAGES_LAST_MODIFIED),
        ));
    }
    files
}

fn base_page(cdn_port: u16) -> String {
    let urls = object_urls(cdn_port);
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>www.sina.com sports</title></head>\n<body>\n\
         <h1>www.sina.com/sports/</h1>\n\
         <p>The base page comes from the origin server. Its images are distributed by the CDN \
         company cdn.com, so their URLs were rewritten to the CDN's name: \
         <code>http://www.sina.com/sports/ruth.gif</code> became \
         <code>http://www.cdn.com/www.sina.com/sports/ruth.gif</code>. \
         A browser looks www.cdn.com up, the CDN's DNS server answers with the replica nearest to \
         the asker, and the image comes from that replica (its Server header names it). \
         The last image uses the provider's own name, video.sina.com, a CNAME into the CDN's zone.</p>\n",
    );
    for (url, alt) in urls.iter().zip(
        OBJECTS
            .iter()
            .map(|o| o.alt)
            .chain(["tennis, through the alias video.sina.com"]),
    ) {
        let _ = writeln!(html, "<img src=\"{url}\" alt=\"{}\">", escape(alt));
    }
    html.push_str("</body></html>\n");
    html
}

/// A replica's files: every object under the CDN's path and the origin's,
/// and a home page saying which replica this is.
pub fn replica_files(replica: &Replica) -> BTreeMap<&'static str, StaticFile> {
    let mut files = BTreeMap::new();
    for o in &OBJECTS {
        for path in [o.cdn_path, o.path] {
            files.insert(
                path,
                StaticFile::new(o.content_type, o.body, PAGES_LAST_MODIFIED),
            );
        }
    }
    files.insert(
        "/index.html",
        StaticFile::owned(
            "text/html; charset=utf-8",
            replica_home(replica).into_bytes(),
            PAGES_LAST_MODIFIED,
        ),
    );
    files
}

fn replica_home(replica: &Replica) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{host}</title></head>\n<body>\n\
         <h1>CDN replica {host} ({region}, {address})</h1>\n\
         <p>This is the {region} replica of the CDN cdn.com. The CDN's DNS server sends here the \
         clients whose queries come from {clients}. It holds copies of its customers' objects:</p>\n<ul>\n",
        host = replica.host,
        region = replica.region,
        address = replica.address,
        clients = escape(replica.clients),
    );
    for o in &OBJECTS {
        let _ = writeln!(html, "<li><a href=\"{0}\">{0}</a></li>", o.cdn_path);
    }
    html.push_str("</ul>\n</body></html>\n");
    html
}

/// The `Server` header of a replica: every answer names who sent it.
pub fn replica_server_header(replica: &Replica) -> String {
    format!(
        "wirelab/{} (CDN replica {} in {}, {})",
        env!("CARGO_PKG_VERSION"),
        replica.host,
        replica.region,
        replica.address
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::hierarchy::default_zone;
    use crate::dns::nearest::nearest_to;
    use crate::dns::zone::parse_zone;
    use crate::dns::{Name, RData, RecordType};

    #[test]
    fn the_base_page_names_every_object_by_the_cdn() {
        let files = origin_files(8082);
        let page = String::from_utf8(files[0].1.body.to_vec()).unwrap();
        assert_eq!(files[0].0, BASE_PAGE);
        assert!(page.contains("<img src=\"http://www.cdn.com:8082/www.sina.com/sports/ruth.gif\""));
        assert!(page.contains("<img src=\"http://video.sina.com:8082/sports/tennis.jpg\""));
        for url in object_urls(8082) {
            assert!(page.contains(&url), "{url}");
        }
        // The origin keeps every object.
        let paths: Vec<&str> = files.iter().map(|(p, _)| *p).collect();
        assert!(paths.contains(&"/sports/ruth.gif") && paths.contains(&"/sports/tennis.jpg"));
    }

    #[test]
    fn replicas_hold_the_origins_objects_and_say_who_they_are() {
        let origin: BTreeMap<_, _> = origin_files(1).into_iter().collect();
        for replica in REPLICAS {
            let files = replica_files(replica);
            for o in &OBJECTS {
                assert_eq!(files[o.cdn_path].body, origin[o.path].body);
                assert_eq!(files[o.path].body, origin[o.path].body);
            }
            let home = String::from_utf8(files["/index.html"].body.to_vec()).unwrap();
            assert!(home.contains(replica.host) && home.contains(replica.region));
            assert!(replica_server_header(replica).contains(replica.host));
        }
    }

    /// The CDN's zone lists one address per replica, in the order of
    /// [`REPLICAS`], and each replica's own name; the nearest rule sends
    /// each region to its replica.
    #[test]
    fn the_cdn_zone_and_the_replicas_agree() {
        let origin = Name::parse("cdn.com").unwrap();
        let zone = parse_zone(default_zone("cdn.com.zone").unwrap(), Some(&origin)).zone;
        let www = zone.rrset(&Name::parse(CDN_HOST).unwrap(), RecordType::A);
        let listed: Vec<RData> = www.iter().map(|r| r.data.clone()).collect();
        let planned: Vec<RData> = REPLICAS.iter().map(|r| RData::A(r.address)).collect();
        assert_eq!(listed, planned);
        for replica in REPLICAS {
            let own = zone.rrset(&Name::parse(replica.host).unwrap(), RecordType::A);
            assert_eq!(own[0].data, RData::A(replica.address));
            let chosen = nearest_to(replica.ip(), www.clone());
            assert_eq!(chosen[0].data, RData::A(replica.address));
            assert_eq!(replica_at(replica.ip()), Some(replica));
        }
    }
}
