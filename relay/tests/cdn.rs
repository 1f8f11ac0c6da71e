//! CDN redirection with real clients: dig asks the CDN's DNS server from
//! two regions (two source addresses) and gets two replicas, the resolver
//! follows the provider's CNAME into the CDN's zone, curl fetches each
//! object of the origin's base page from the replica DNS gave, and
//! `/api/cdn/route` does the same for the page as a client of a region.

mod common;

use common::*;
use std::process::Command;
use wirelab_shared::http::cdn::{REPLICAS, replica_at};
use wirelab_shared::http::cdn_route::RouteReport;

/// A Paris client: 127.1.x.x is Paris's region (see cdn.com.zone).
const PARIS_CLIENT: &str = "127.1.0.7";
/// A New York client: the lab's own 127.0.x.x.
const NEW_YORK_CLIENT: &str = "127.0.0.1";
const CDN_DNS: &str = "127.0.0.50";

/// dig's output lines for `args`, asked of `server` from `source`.
fn dig(source: &str, server: &str, port: u16, args: &[&str]) -> Vec<String> {
    run_dig(Some(source), server, port, args)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// dig's +short answer lines.
fn dig_short(source: &str, server: &str, port: u16, args: &[&str]) -> Vec<String> {
    let mut all = vec!["+short"];
    all.extend_from_slice(args);
    dig(source, server, port, &all)
}

/// The head and body curl gets for `url`, with the URL's host taken to
/// the IP `address` (what DNS answered: curl would ask the system's
/// resolver, which does not know the lab).
fn curl_via(url: &str, address: &str) -> (String, Vec<u8>) {
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .expect("an http URL");
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5", "-D", "-", "--resolve"])
        .arg(format!("{authority}:{address}"))
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {url} failed");
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&out.stdout[..split]).into_owned();
    (head, out.stdout[split + 4..].to_vec())
}

fn dns_port(relay: &TestRelay) -> u16 {
    relay.relay.target("dns-cdn").expect("dns-cdn").port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_from_two_regions_gets_two_replicas() {
    let Some(_) = wirelab_testkit::require_tool("dig", "dnsutils") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = dns_port(&relay);
    for transport in ["+notcp", "+tcp"] {
        let ask = |source| dig_short(source, CDN_DNS, port, &["www.cdn.com", "A", transport]);
        assert_eq!(ask(NEW_YORK_CLIENT), vec!["127.0.0.80"], "{transport}");
        assert_eq!(ask(PARIS_CLIENT), vec!["127.1.0.80"], "{transport}");
        // Outside both regions: as near to both, the first listed.
        assert_eq!(ask("127.9.0.1"), vec!["127.0.0.80"], "{transport}");
    }
    // The replicas' own names are plain records, the same for everyone.
    assert_eq!(
        dig_short(PARIS_CLIENT, CDN_DNS, port, &["ny.cdn.com"]),
        vec!["127.0.0.80"]
    );
    // The hierarchy leads there: com refers cdn.com to dns.cdn.com, with glue.
    let com = dig(
        PARIS_CLIENT,
        "127.0.0.12",
        port,
        &[
            "www.cdn.com",
            "+norecurse",
            "+noall",
            "+authority",
            "+additional",
        ],
    );
    assert!(
        com.iter().any(|l| l.ends_with("NS\tdns.cdn.com.")),
        "{com:?}"
    );
    assert!(com.iter().any(|l| l.ends_with("A\t127.0.0.50")), "{com:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resolver_follows_the_cname_and_the_cdn_sees_the_resolver() {
    let Some(_) = wirelab_testkit::require_tool("dig", "dnsutils") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = dns_port(&relay);
    // The provider's server answers the alias only.
    assert_eq!(
        dig_short(
            PARIS_CLIENT,
            "127.0.0.42",
            port,
            &["video.sina.com", "+norecurse"]
        ),
        vec!["www.cdn.com."]
    );
    // The resolver follows it into cdn.com. The CDN sees the resolver's
    // address (New York), not the Paris student behind it.
    assert_eq!(
        dig_short(PARIS_CLIENT, "127.0.0.1", port, &["video.sina.com"]),
        vec!["www.cdn.com.", "127.0.0.80"]
    );
    // Asked directly, the CDN answers the student's own region.
    assert_eq!(
        dig_short(PARIS_CLIENT, CDN_DNS, port, &["www.cdn.com"]),
        vec!["127.1.0.80"]
    );
    // The resolver's trace shows whom it asked: the CDN's server among them.
    let (status, traces) = relay.get("/api/dns/traces").await;
    assert_eq!(status, 200);
    assert!(traces.contains("dns.sina.com"), "{traces}");
    assert!(traces.contains("dns.cdn.com"), "{traces}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_fetches_each_object_from_the_replica_dns_gave() {
    let Some(_) = wirelab_testkit::require_tool("dig", "dnsutils") else {
        return;
    };
    let Some(_) = wirelab_testkit::require_tool("curl", "curl") else {
        return;
    };
    let relay = start(|_| {}).await;
    let port = dns_port(&relay);
    let origin = relay.relay.target("http").expect("http").clone();
    let origin_address = origin.host.clone();
    let cdn_port = relay.relay.target("cdn-ny").expect("cdn-ny").port;
    assert_eq!(relay.relay.target("cdn-paris").unwrap().port, cdn_port);

    // The base page comes from the origin, its images named by the CDN.
    let (head, page) = curl_via(
        &format!("http://www.sina.com:{}/sports/", origin.port),
        &origin_address,
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let page = String::from_utf8(page).unwrap();
    let urls: Vec<&str> = page
        .split("<img src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(urls.len(), 3, "{page}");
    let mut replicas_seen = Vec::new();
    for url in &urls {
        let host = url
            .strip_prefix("http://")
            .and_then(|r| r.split(':').next())
            .unwrap();
        assert!(url.contains(&format!(":{cdn_port}/")), "{url}");
        // The origin keeps a copy: the object's path there, without the
        // provider's name in front.
        let origin_path = url.split_once(&format!(":{cdn_port}")).unwrap().1;
        let origin_path = origin_path
            .strip_prefix("/www.sina.com")
            .unwrap_or(origin_path);
        let (_, original) = curl_via(
            &format!("http://www.sina.com:{}{origin_path}", origin.port),
            &origin_address,
        );
        for source in [NEW_YORK_CLIENT, PARIS_CLIENT] {
            // Each region's client asks the CDN's name of the CDN's server
            // (the alias's server first, for video.sina.com).
            let cdn_name = if host == "www.cdn.com" {
                host.to_string()
            } else {
                let alias = dig_short(source, "127.0.0.42", port, &[host, "+norecurse"]);
                alias[0].trim_end_matches('.').to_string()
            };
            let answer = dig_short(source, CDN_DNS, port, &[&cdn_name]);
            assert_eq!(answer.len(), 1, "{answer:?}");
            let address = &answer[0];
            let replica = replica_at(address.parse().unwrap()).expect("a replica");
            let (head, body) = curl_via(url, address);
            assert!(head.starts_with("HTTP/1.1 200"), "{url}: {head}");
            assert!(
                head.contains(&format!("Server: wirelab/{}", env!("CARGO_PKG_VERSION")))
                    && head.contains(&format!(
                        "CDN replica {} in {}",
                        replica.host, replica.region
                    )),
                "{url} from {source}: {head}"
            );
            assert_eq!(body, original, "{url} from {address}");
            replicas_seen.push((source, replica.catalog));
        }
    }
    for source in [NEW_YORK_CLIENT, PARIS_CLIENT] {
        let expected = if source == PARIS_CLIENT {
            REPLICAS[1]
        } else {
            REPLICAS[0]
        };
        assert!(
            replicas_seen
                .iter()
                .filter(|(s, _)| *s == source)
                .all(|(_, catalog)| *catalog == expected.catalog),
            "{replicas_seen:?}"
        );
    }
}

/// `/api/cdn/route` plays a client in each region: every image of the
/// base page comes from that region's replica, with the reason; an
/// address outside the loopback is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_api_follows_each_image_to_the_clients_replica() {
    let relay = start(|_| {}).await;
    for (client, replica) in [
        (NEW_YORK_CLIENT, &REPLICAS[0]),
        (PARIS_CLIENT, &REPLICAS[1]),
    ] {
        let (status, body) = relay.get(&format!("/api/cdn/route?from={client}")).await;
        assert_eq!(status, 200, "{body}");
        let report: RouteReport = serde_json::from_str(&body).unwrap();
        assert_eq!(report.client, client);
        assert_eq!(report.error, None);
        assert_eq!(report.objects.len(), 3, "{body}");
        for object in &report.objects {
            assert_eq!(object.error, None, "{object:?}");
            assert_eq!(object.replica.as_deref(), Some(replica.host), "{object:?}");
            assert_eq!(object.address, Some(replica.address.to_string()));
            assert_eq!(object.status, Some(200));
            let server = object.server.as_deref().unwrap_or_default();
            assert!(server.contains(replica.host), "{server}");
            assert!(
                object
                    .why
                    .starts_with(&format!("the query came from {client}"))
            );
        }
        let alias = &report.objects[2];
        assert_eq!(alias.host, "video.sina.com");
        assert_eq!(alias.alias_of.as_deref(), Some("www.cdn.com"));
    }
    for bad in ["10.0.0.1", "::1", "www.cdn.com", ""] {
        let (status, body) = relay.get(&format!("/api/cdn/route?from={bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}
