//! The bodies of the fuzz targets, one function per parser, kept here so
//! that the cargo-fuzz binaries in `shared/fuzz/` are one-liners and the
//! same bodies run in the ordinary test suite (over proptest inputs) on
//! every `cargo test`, with no nightly toolchain.
//!
//! Each function feeds arbitrary bytes to a parser and checks what must
//! hold for any input: no panic, spans within the message, nesting.

use crate::dissect::Dissection;

/// Checks the structural rules every dissection must keep for any input.
pub fn check(dissection: &Dissection, input: &[u8]) {
    assert_eq!(dissection.length, input.len(), "length must be the input's");
    let problems = dissection.check_invariants(false);
    assert!(problems.is_empty(), "{problems:?}");
}

/// Every registered kind (see [`crate::kinds`]) over the same bytes.
pub fn all_kinds(data: &[u8]) {
    for kind in crate::kinds::KINDS {
        let d = (kind.dissect)(data);
        check(&d, data);
    }
}

/// Text lines and the uppercase server engine.
pub fn line(data: &[u8]) {
    check(&crate::line::dissect(data), data);
    let mut server = crate::upper::UpperTcpServer::new();
    let (a, b) = data.split_at(data.len() / 2);
    crate::engine::Engine::handle_input(&mut server, a, crate::engine::Millis(0));
    crate::engine::Engine::handle_input(&mut server, b, crate::engine::Millis(1));
    crate::engine::Engine::handle_eof(&mut server, crate::engine::Millis(2));
    let out = crate::engine::drain(&mut server);
    assert_eq!(out.bytes().len(), data.len());
}

/// HTTP: the framer consumes a stream message by message, and both
/// dissectors survive anything.
pub fn http(data: &[u8]) {
    use crate::http::frame::{Limits, Status, frame_request, frame_response};
    check(&crate::http::dissect_request(data), data);
    check(&crate::http::dissect_response_to(data, Some("HEAD")), data);
    let limits = Limits {
        max_line: 256,
        max_headers: 16,
        max_head: 1024,
        max_body: 1024,
    };
    let mut rest = data;
    // Each round consumes at least one byte, so this ends.
    while let Ok(Status::Complete(frame)) = frame_request(rest, &limits) {
        assert!(frame.len > 0 && frame.len <= rest.len());
        rest = &rest[frame.len..];
    }
    let _ = frame_response(data, Some("GET"), &limits);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_bodies_hold_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::line(&data);
            super::http(&data);
            super::all_kinds(&data);
        }
    }
}
