//! Differential test of the HTTP head parser against httparse, a parser
//! trusted by much of the Rust ecosystem: on well-formed heads both must
//! agree on the method, target, version, status and every header, and
//! wherever httparse accepts a head, ours must find the same end.

use proptest::prelude::*;
use wirelab_shared::http::frame::{Limits, Status, find_head_end};
use wirelab_shared::http::message::{StartLine, parse_head, text};

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Host".to_string()),
        Just("Content-Type".to_string()),
        Just("User-Agent".to_string()),
        Just("Accept-Language".to_string()),
        "[A-Za-z][A-Za-z0-9-]{0,15}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    "[!-~]([ !-~]{0,30}[!-~])?"
}

fn request() -> impl Strategy<Value = (String, String, u8, Vec<(String, String)>)> {
    (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("HEAD"),
            Just("PUT"),
            Just("DELETE")
        ]
        .prop_map(str::to_string),
        "/[a-z0-9/._~%-]{0,30}(\\?[a-z0-9=&+%]{0,20})?",
        0u8..2,
        proptest::collection::vec((header_name(), header_value()), 0..8),
    )
}

proptest! {
    #[test]
    fn requests_agree_with_httparse((method, target, minor, headers) in request()) {
        let mut msg = format!("{method} {target} HTTP/1.{minor}\r\n");
        for (n, v) in &headers {
            msg.push_str(&format!("{n}: {v}\r\n"));
        }
        msg.push_str("\r\n");
        let bytes = msg.as_bytes();

        let mut theirs_headers = [httparse::EMPTY_HEADER; 16];
        let mut theirs = httparse::Request::new(&mut theirs_headers);
        let status = theirs.parse(bytes).unwrap();
        let httparse::Status::Complete(their_len) = status else {
            return Err(TestCaseError::fail("httparse says partial"));
        };

        let ours = parse_head(bytes);
        prop_assert_eq!(ours.end, their_len);
        prop_assert_eq!(find_head_end(bytes, &Limits::default()).unwrap(), Some(their_len));
        let StartLine::Request { method: m, target: t, .. } = ours.start else {
            return Err(TestCaseError::fail("not a request"));
        };
        prop_assert_eq!(text(bytes, m), theirs.method.unwrap());
        prop_assert_eq!(text(bytes, t), theirs.path.unwrap());
        prop_assert_eq!(ours.version_text(bytes).unwrap(), format!("HTTP/1.{}", theirs.version.unwrap()));
        let fields = ours.fields(bytes);
        prop_assert_eq!(fields.len(), theirs.headers.len());
        for (mine, other) in fields.iter().zip(theirs.headers.iter()) {
            prop_assert_eq!(mine.name, other.name);
            prop_assert_eq!(mine.value.as_bytes(), other.value);
        }
    }

    #[test]
    fn responses_agree_with_httparse(code in 100u16..600, reason in "[A-Za-z ]{0,20}", headers in proptest::collection::vec((header_name(), header_value()), 0..8)) {
        let mut msg = format!("HTTP/1.1 {code} {reason}\r\n");
        for (n, v) in &headers {
            msg.push_str(&format!("{n}: {v}\r\n"));
        }
        msg.push_str("\r\n");
        let bytes = msg.as_bytes();
        let mut theirs_headers = [httparse::EMPTY_HEADER; 16];
        let mut theirs = httparse::Response::new(&mut theirs_headers);
        let httparse::Status::Complete(their_len) = theirs.parse(bytes).unwrap() else {
            return Err(TestCaseError::fail("httparse says partial"));
        };
        let ours = parse_head(bytes);
        prop_assert_eq!(ours.end, their_len);
        prop_assert_eq!(ours.status(bytes), theirs.code);
        let StartLine::Status { reason: r, .. } = ours.start else {
            return Err(TestCaseError::fail("not a response"));
        };
        prop_assert_eq!(text(bytes, r), theirs.reason.unwrap());
        prop_assert_eq!(ours.fields(bytes).len(), theirs.headers.len());
    }

    /// On arbitrary bytes: whenever httparse finds a complete request head,
    /// our framer finds a head ending at the same place.
    #[test]
    fn wherever_httparse_completes_we_agree_on_the_end(bytes in proptest::collection::vec(prop_oneof![
        Just(b'\r'), Just(b'\n'), Just(b' '), Just(b':'), Just(b'/'), b'a'..=b'z', Just(b'G'), Just(b'E'), Just(b'T'),
    ], 0..80)) {
        let mut input = b"GET / HTTP/1.1\r\n".to_vec();
        input.extend_from_slice(&bytes);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut theirs = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(n)) = theirs.parse(&input) {
            prop_assert_eq!(find_head_end(&input, &Limits::default()).unwrap(), Some(n));
            prop_assert!(matches!(
                wirelab_shared::http::frame::frame_request(&input[..n], &Limits::default()),
                Ok(Status::Complete(_)) | Err(_)
            ));
        }
    }
}
