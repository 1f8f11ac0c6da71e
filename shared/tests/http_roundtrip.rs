//! Round trips: a message written out by the server's response builder, or
//! a request assembled from parts, is framed and read back with the same
//! start line, headers and body (write → frame → parse → compare).

use proptest::prelude::*;
use wirelab_shared::http::frame::{Limits, Status, body_bytes, frame_request, frame_response};
use wirelab_shared::http::message::{Version, parse_head};
use wirelab_shared::http::response::{Body, Response, Wire};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9-]{0,12}"
}

fn value() -> impl Strategy<Value = String> {
    "[!-~]([ !-~]{0,20}[!-~])?"
}

proptest! {
    #[test]
    fn responses_round_trip(
        status in prop_oneof![Just(200u16), Just(201), Just(301), Just(404), Just(500)],
        headers in proptest::collection::vec((token(), value()), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        chunked in any::<bool>(),
        chunk_size in 1usize..50,
    ) {
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .filter(|(n, _)| !["content-length", "transfer-encoding"].contains(&n.to_ascii_lowercase().as_str()))
            .collect();
        let mut response = Response::new(status);
        response.headers = headers.clone();
        response.body = if chunked {
            Body::Chunks { chunks: body.chunks(chunk_size).map(<[u8]>::to_vec).collect(), trailers: Vec::new() }
        } else {
            Body::Full(body.clone())
        };
        let (wire, close) = response.to_bytes(Wire { request_version: Version::Http11, head_only: false, accepts_trailers: false });
        prop_assert!(!close);
        let Status::Complete(frame) = frame_response(&wire, Some("GET"), &Limits::default()).unwrap() else {
            return Err(TestCaseError::fail("not complete"));
        };
        prop_assert_eq!(frame.len, wire.len());
        prop_assert_eq!(body_bytes(&wire, &frame), body);
        let head = parse_head(&wire);
        prop_assert_eq!(head.status(&wire), Some(status));
        let fields = head.fields(&wire);
        for (name, value) in &headers {
            prop_assert!(fields.iter().any(|f| f.name == name && &f.value == value), "{} lost", name);
        }
    }

    #[test]
    fn requests_round_trip(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT")],
        path in "/[a-z0-9/._-]{0,20}",
        headers in proptest::collection::vec((token(), value()), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let mut wire = format!("{method} {path} HTTP/1.1\r\nHost: lab\r\n").into_bytes();
        let headers: Vec<_> = headers
            .into_iter()
            .filter(|(n, _)| !["content-length", "transfer-encoding", "host"].contains(&n.to_ascii_lowercase().as_str()))
            .collect();
        for (n, v) in &headers {
            wire.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        wire.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        wire.extend_from_slice(&body);
        let Status::Complete(frame) = frame_request(&wire, &Limits::default()).unwrap() else {
            return Err(TestCaseError::fail("not complete"));
        };
        let head = parse_head(&wire[..frame.head_end]);
        // Write it back out from what was parsed: the same bytes.
        let mut again = format!(
            "{} {} {}\r\n",
            head.method(&wire).unwrap(),
            path,
            head.version_text(&wire).unwrap()
        ).into_bytes();
        for f in head.fields(&wire) {
            again.extend_from_slice(format!("{}: {}\r\n", f.name, f.value).as_bytes());
        }
        again.extend_from_slice(b"\r\n");
        again.extend_from_slice(&body_bytes(&wire, &frame));
        prop_assert_eq!(again, wire);
    }
}
