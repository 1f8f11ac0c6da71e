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

/// DNS: the dissectors (UDP, TCP, zone), the strict parser, the encoder
/// and the authoritative server over the same bytes.
pub fn dns(data: &[u8]) {
    use crate::dns::{Message, dissect, zone};
    check(&dissect::dissect(data), data);
    check(&dissect::dissect_tcp(data), data);
    check(&zone::dissect_zone(data), data);
    // Whatever parses strictly encodes to something that parses to the same.
    if let Ok(message) = Message::parse(data) {
        let again = Message::parse(&message.to_bytes()).expect("re-encoded message parses");
        assert_eq!(again.questions, message.questions);
        assert_eq!(again.answers, message.answers);
        assert_eq!(again.authority, message.authority);
        assert_eq!(again.additional, message.additional);
    }
    let authority = crate::dns::server::Authority::new("fuzz.", Vec::new());
    if let Some(reply) = authority.answer(data, crate::dns::server::Via::Udp) {
        assert!(reply.len() <= crate::dns::server::MAX_UDP_REPLY);
        Message::parse(&reply).expect("the server's replies parse");
    }
    let mut framer = crate::dns::frame::TcpFramer::new();
    framer.push(data);
    while framer.next_message().is_some() {}
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_bodies_hold_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::line(&data);
            super::all_kinds(&data);
            super::dns(&data);
        }

        #[test]
        fn dns_fuzz_body_holds_on_mutated_messages(
            flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..6),
            cut in 0usize..200,
        ) {
            // A real reply, damaged: closer to the interesting paths than noise.
            let mut data = Vec::new();
            data.extend_from_slice(&[0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 1, 0, 1]);
            data.extend_from_slice(b"\x04gaia\x02cs\x05umass\x03edu\x00\x00\x01\x00\x01");
            data.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 14, 16, 0, 4, 128, 119, 245, 12]);
            data.extend_from_slice(&[0xC0, 17, 0, 2, 0, 1, 0, 0, 14, 16, 0, 6, 3, b'd', b'n', b's', 0xC0, 17]);
            data.extend_from_slice(&[0xC0, 0x3F, 0, 1, 0, 1, 0, 0, 14, 16, 0, 4, 127, 0, 0, 21]);
            for (at, byte) in flips {
                if at < data.len() {
                    data[at] = byte;
                }
            }
            data.truncate(cut.max(1));
            super::dns(&data);
        }
    }
}
