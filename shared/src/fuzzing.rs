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

/// Feeds `data` to a server engine in two pieces, then ends the stream;
/// whatever it answers must be bounded by what it was given.
fn drive<E: crate::engine::Engine>(
    engine: &mut E,
    data: &[u8],
) -> crate::engine::Drained<E::Event> {
    use crate::engine::{Engine, Millis};
    let (a, b) = data.split_at(data.len() / 2);
    Engine::handle_input(engine, a, Millis(0));
    crate::engine::drain(engine);
    Engine::handle_input(engine, b, Millis(1));
    crate::engine::drain(engine);
    Engine::handle_eof(engine, Millis(2));
    crate::engine::drain(engine)
}

/// SMTP: the dissectors, the server engine on an in-memory store, and the
/// transcript follower with the bytes split between the two sides.
pub fn smtp(data: &[u8]) {
    use crate::smtp;
    check(&smtp::dissect::dissect_command(data), data);
    check(&smtp::dissect::dissect_reply(data), data);
    check(&smtp::dissect::dissect_data(data, None, false), data);
    check(&smtp::transcript::dissect_data_line(data), data);
    let store = std::sync::Arc::new(crate::mail::MemoryStore::course());
    let mut server = smtp::SmtpServer::new(smtp::SmtpServerConfig::default(), store);
    drive(&mut server, data);
    assert_eq!(
        server.state(),
        smtp::SmtpState::Closed,
        "the stream ended, so did the session"
    );
    let (a, b) = data.split_at(data.len() / 3);
    let mut t = smtp::SmtpTranscript::new();
    t.push_server(b"220 hamburger.edu\r\n");
    for m in t.push_client(a).iter().chain(t.push_server(b).iter()) {
        check(&m.dissection, &m.bytes);
    }
    check(&t.dissect_draft(data), data);
}

/// POP3: the dissectors, the server engine and the transcript follower.
pub fn pop3(data: &[u8]) {
    use crate::pop3;
    check(&pop3::dissect::dissect_command(data), data);
    check(&pop3::dissect::dissect_reply(data), data);
    for c in [
        pop3::Command::Retr(1),
        pop3::Command::List(None),
        pop3::Command::Capa,
    ] {
        check(&pop3::dissect::dissect_reply_to(data, &c), data);
    }
    let store = std::sync::Arc::new(crate::mail::MemoryStore::course());
    let mut server = pop3::Pop3Server::new(pop3::Pop3ServerConfig::default(), store.clone());
    drive(&mut server, data);
    drop(server);
    assert!(
        !store.is_locked("bob@hamburger.edu"),
        "a finished session leaves no lock"
    );
    let (a, b) = data.split_at(data.len() / 3);
    let mut t = pop3::Pop3Transcript::new();
    for m in t.push_server(b).iter().chain(t.push_client(a).iter()) {
        check(&m.dissection, &m.bytes);
    }
}

/// Whole messages: the MIME tree and the dissection.
pub fn mail(data: &[u8]) {
    check(&crate::mail::dissect(data), data);
    let root = crate::mail::mime::parse(data);
    for e in root.walk() {
        assert!(e.span.end <= data.len() && e.body.end <= data.len());
        let _ = e.decoded(data);
        let _ = e.text(data);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_bodies_hold_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::line(&data);
            super::all_kinds(&data);
            super::smtp(&data);
            super::pop3(&data);
            super::mail(&data);
        }

        #[test]
        fn fuzz_bodies_hold_on_protocol_like_input(lines in proptest::collection::vec(prop_oneof![
            Just("HELO crepes.fr".to_string()), Just("MAIL FROM:<alice@crepes.fr>".to_string()),
            Just("RCPT TO:<bob@hamburger.edu>".to_string()), Just("DATA".to_string()), Just(".".to_string()),
            Just("USER bob".to_string()), Just("PASS hungry".to_string()), Just("LIST".to_string()),
            Just("RETR 1".to_string()), Just("DELE 1".to_string()), Just("QUIT".to_string()),
            Just("Content-Type: multipart/mixed; boundary=b".to_string()), Just("--b".to_string()),
            Just("--b--".to_string()), Just("".to_string()), Just("+OK".to_string()), Just("250 ok".to_string()),
            "[ -~]{0,30}",
        ], 0..30), lf_only in any::<bool>()) {
            let sep = if lf_only { "\n" } else { "\r\n" };
            let data = lines.join(sep).into_bytes();
            super::smtp(&data);
            super::pop3(&data);
            super::mail(&data);
        }
    }
}
