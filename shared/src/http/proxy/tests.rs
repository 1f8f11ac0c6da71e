//! Requests a forward proxy takes or refuses, and what it writes.

use super::*;
use crate::http::frame::{Limits, Status, frame_request, frame_response};

const VIA: &str = "127.0.0.1:3128";

fn request(raw: &str) -> Result<ProxyRequest, Refusal> {
    let Ok(Status::Complete(frame)) = frame_request(raw.as_bytes(), &Limits::default()) else {
        panic!("a complete request: {raw:?}");
    };
    read_request(raw.as_bytes(), &frame, VIA)
}

#[test]
fn absolute_urls_are_split_and_keyed() {
    let o = parse_absolute("HTTP://Gaia.CS.umass.edu:8081/kiwi.gif?x=1#top").unwrap();
    assert_eq!(
        (o.host.as_str(), o.port, o.path.as_str()),
        ("gaia.cs.umass.edu", 8081, "/kiwi.gif?x=1")
    );
    assert_eq!(o.uri(), "http://gaia.cs.umass.edu:8081/kiwi.gif?x=1");
    let o = parse_absolute("http://127.0.0.1").unwrap();
    assert_eq!((o.port, o.uri()), (80, "http://127.0.0.1/".to_string()));
    let o = parse_absolute("http://[::1]:8081?q").unwrap();
    assert_eq!(
        (o.host.as_str(), o.uri()),
        ("::1", "http://[::1]:8081/?q".to_string())
    );
    for bad in [
        "https://127.0.0.1/",
        "http://",
        "http://:80/",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:0/",
        "http://user:pw@127.0.0.1/",
        "http://[::1/",
        "http://exa mple/",
        "http://a_b/",
        "ftp://127.0.0.1/",
        "127.0.0.1:8081/x",
    ] {
        assert!(parse_absolute(bad).is_err(), "{bad}");
    }
}

#[test]
fn what_is_refused_and_why() {
    assert_eq!(
        request("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Err(Refusal::Connect)
    );
    assert_eq!(
        request("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
        Err(Refusal::OriginForm)
    );
    assert!(matches!(
        request("GET http://[zz]/ HTTP/1.1\r\n\r\n"),
        Err(Refusal::Malformed(_))
    ));
    assert_eq!(
        request("GET http://a/ HTTP/2.0\r\n\r\n"),
        Err(Refusal::Version)
    );
    let looped = "GET http://a/ HTTP/1.1\r\nVia: 1.1 other, 1.1 127.0.0.1:3128 (wirelab)\r\n\r\n";
    assert_eq!(request(looped), Err(Refusal::Loop));
    assert!(Refusal::OriginForm.message().contains("absolute form"));
    assert_eq!(Refusal::OriginForm.status(), 400);
}

#[test]
fn a_request_is_forwarded_in_origin_form_with_via() {
    let r = request(
        "GET http://127.0.0.1:8081/fruit/kiwi.gif HTTP/1.1\r\nHost: wrong\r\nUser-Agent: curl\r\n\
         Proxy-Connection: keep-alive\r\nIf-None-Match: \"client\"\r\nVia: 1.0 far\r\n\r\n",
    )
    .unwrap();
    assert!(r.keep_alive);
    assert_eq!(
        r.line(),
        "GET http://127.0.0.1:8081/fruit/kiwi.gif HTTP/1.1"
    );
    let plain = String::from_utf8(upstream_request(&r, &[], VIA)).unwrap();
    assert_eq!(
        plain,
        "GET /fruit/kiwi.gif HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUser-Agent: curl\r\n\
         If-None-Match: \"client\"\r\nVia: 1.0 far, 1.1 127.0.0.1:3128 (wirelab)\r\n\r\n"
    );
    // Revalidating: the proxy's validators replace the client's.
    let ours = vec![("If-None-Match".to_string(), "\"v1\"".to_string())];
    let conditional = String::from_utf8(upstream_request(&r, &ours, VIA)).unwrap();
    assert!(conditional.contains("If-None-Match: \"v1\"\r\n"));
    assert!(!conditional.contains("client"));
    let closing = request("GET http://a/ HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
    assert!(!closing.keep_alive);
    assert!(
        !request("GET http://a/ HTTP/1.0\r\n\r\n")
            .unwrap()
            .keep_alive
    );
}

#[test]
fn the_client_gets_age_via_and_cache_status() {
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nAge: 3\r\n\
                ETag: \"v1\"\r\n\r\n4\r\nkiwi\r\n0\r\n\r\n";
    let Ok(Status::Complete(frame)) = frame_response(raw, Some("GET"), &Limits::default()) else {
        panic!("framed");
    };
    let origin = read_response(raw, &frame).unwrap();
    assert_eq!(
        (origin.status, origin.body.as_slice()),
        (200, b"kiwi".as_slice())
    );
    assert!(
        origin
            .fields
            .iter()
            .all(|(n, _)| n != "Transfer-Encoding" && n != "Connection")
    );
    let delivery = Delivery {
        version: Version::Http11,
        head_only: false,
        keep_alive: true,
        age: 7,
        cache_status: "wirelab; hit; ttl=53",
        via_name: VIA,
    };
    let out = client_response(200, "OK", &origin.fields, &origin.body, delivery);
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    for line in [
        "ETag: \"v1\"",
        "Age: 7",
        "Via: 1.1 127.0.0.1:3128 (wirelab)",
        "Cache-Status: wirelab; hit; ttl=53",
        "Content-Length: 4",
    ] {
        assert!(out.contains(&format!("{line}\r\n")), "{line} in {out}");
    }
    assert!(!out.contains("Age: 3") && out.ends_with("\r\n\r\nkiwi"));
    // HEAD: the origin's length, no body.
    let head = Delivery {
        head_only: true,
        ..delivery
    };
    let fields = vec![("Content-Length".to_string(), "1000".to_string())];
    let out = String::from_utf8(client_response(200, "OK", &fields, b"", head)).unwrap();
    assert!(out.ends_with("Content-Length: 1000\r\n\r\n"), "{out}");
    assert_eq!(out.matches("Content-Length").count(), 1);
    let not_modified = client_response(304, "Not Modified", &[], b"", delivery);
    assert!(
        !String::from_utf8(not_modified)
            .unwrap()
            .contains("Content-Length")
    );
    let refused = error_response(
        403,
        "not in the policy",
        Delivery {
            keep_alive: false,
            ..delivery
        },
    );
    let refused = String::from_utf8(refused).unwrap();
    assert!(
        refused.starts_with("HTTP/1.1 403 Forbidden\r\n")
            && refused.contains("Connection: close\r\n")
    );
    assert!(refused.ends_with("not in the policy\n"));
}
