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
        ..Limits::default()
    };
    let mut rest = data;
    // Each round consumes at least one byte, so this ends.
    while let Ok(Status::Complete(frame)) = frame_request(rest, &limits) {
        assert!(frame.len > 0 && frame.len <= rest.len());
        rest = &rest[frame.len..];
    }
    let _ = frame_response(data, Some("GET"), &limits);
}

/// FTP command lines: the dissector, the parser and the client's diagnostics.
pub fn ftp_command(data: &[u8]) {
    check(&crate::ftp::dissect::dissect_command(data), data);
    let _ = crate::ftp::command::Command::parse(data);
    let client = crate::ftp::client::FtpClient::new();
    for diagnostic in client.diagnose(data) {
        assert!(diagnostic.span.end <= data.len());
    }
}

/// FTP replies: the dissector, the framer, the parser and the client engine.
pub fn ftp_reply(data: &[u8]) {
    check(&crate::ftp::dissect::dissect_reply(data), data);
    if let Ok(Some(frame)) = crate::ftp::frame::next_reply(data, crate::ftp::MAX_LINE) {
        assert!(frame.consumed <= data.len());
        let _ = crate::ftp::reply::Reply::parse(&data[..frame.consumed]);
    }
    let mut client = crate::ftp::client::FtpClient::new();
    let (a, b) = data.split_at(data.len() / 2);
    crate::engine::Engine::handle_input(&mut client, a, crate::engine::Millis(0));
    crate::engine::Engine::handle_input(&mut client, b, crate::engine::Millis(1));
    crate::engine::Engine::handle_eof(&mut client, crate::engine::Millis(2));
    crate::engine::drain(&mut client);
    // The page's view of a control connection: the same bytes both ways.
    use crate::conversation::Conversation;
    let mut conversation = crate::ftp::conversation::FtpConversation::new();
    let mut messages = conversation.server_bytes(a, 0.0);
    messages.extend(conversation.client_bytes(b, 1.0));
    messages.extend(conversation.server_bytes(b, 2.0));
    messages.extend(conversation.closed(3.0));
    let total: usize = messages.iter().map(|m| m.bytes.len()).sum();
    assert!(total <= a.len() + 2 * b.len());
}

/// LIST output, and whatever else a data connection carries.
pub fn ftp_list(data: &[u8]) {
    use crate::ftp::session::{DataKind, TransferType};
    check(&crate::ftp::dissect::dissect_list(data), data);
    let kinds = [
        None,
        Some(DataKind::NameList),
        Some(DataKind::Download { path: "/f".into() }),
    ];
    for kind in &kinds {
        for t in [TransferType::Ascii, TransferType::Image] {
            check(
                &crate::ftp::data::dissect_data(data, kind.as_ref(), t),
                data,
            );
        }
    }
}

/// The FTP server engine: the first half of the input as control bytes, the
/// second as data connection events, in any order the bytes say.
pub fn ftp_server(data: &[u8]) {
    use crate::engine::{Engine, Millis, drain};
    use crate::ftp::server::{DataConnId, DataEvent, FtpServer, ServerSettings};
    let mut server = FtpServer::new(
        ServerSettings::default(),
        crate::ftp::fs::MemoryTree::demo(0).with_quota(Some(4096)),
        ([127, 0, 0, 1], 40000).into(),
        ([127, 0, 0, 1], 21).into(),
    );
    let mut script = b"USER anonymous\r\nPASS x\r\nPASV\r\n".to_vec();
    script.extend_from_slice(data);
    // The server may hang up on its own (timeouts, bad commands); at the
    // end it must have closed one way or the other.
    let mut closed = false;
    for (i, chunk) in script.chunks(7).enumerate() {
        server.handle_input(chunk, Millis(i as u64));
        let out = drain(&mut server);
        assert!(out.transmitted.iter().all(|t| t.ends_with(b"\r\n")));
        closed |= out.close;
        let id = DataConnId(u64::from(chunk[0] % 4));
        let event = match chunk.get(1).copied().unwrap_or(0) % 7 {
            0 => DataEvent::Listening {
                addr: ([127, 0, 0, 1], 21000).into(),
            },
            1 => DataEvent::Opened,
            2 => DataEvent::Received(chunk.to_vec()),
            3 => DataEvent::PeerClosed,
            4 => DataEvent::Closed,
            5 => DataEvent::Failed {
                reason: "fuzz".into(),
            },
            _ => continue,
        };
        server.handle_data(id, event, Millis(i as u64));
        closed |= drain(&mut server).close;
        server.handle_timeout(Millis(i as u64 * 10_000));
        closed |= drain(&mut server).close;
    }
    server.handle_eof(Millis(u64::MAX / 2));
    closed |= drain(&mut server).close;
    assert!(closed);
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
    use crate::dns::server::{AuthoritativeTcp, Authority, TcpLimits, Via};
    let authority = std::sync::Arc::new(Authority::new("fuzz.", Vec::new()));
    if let Some(reply) = authority.answer(data, Via::Udp) {
        assert!(reply.len() <= crate::dns::server::MAX_UDP_REPLY);
        Message::parse(&reply).expect("the server's replies parse");
    }
    let mut framer = crate::dns::frame::TcpFramer::new();
    framer.push(data);
    while framer.next_message().is_some() {}
    // The TCP server under tight limits: a bounded number of replies, and
    // an oversized prefix or too much pipelining ends in a close.
    let limits = TcpLimits {
        max_message: 64,
        max_in_flight: 2,
    };
    let mut tcp = AuthoritativeTcp::with_limits(authority, 0, limits);
    let out = drive(&mut tcp, data);
    assert!(out.transmitted.len() <= data.len() / 14 + 1);
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
    // The same follower as the workbench's conversation: messages still
    // growing and those flushed at close are dissected too.
    use crate::conversation::Conversation;
    let mut c = crate::transcript::FollowedConversation::new(smtp::SmtpTranscript::new());
    c.server_bytes(b"220 hamburger.edu\r\n", 0.0);
    c.client_bytes(a, 1.0);
    c.server_bytes(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", 2.0);
    c.client_bytes(b, 3.0);
    for m in c.in_progress().iter().chain(c.closed(4.0).iter()) {
        check(&m.dissection, &m.bytes);
    }
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
    // What the page makes of a session: the mailbox view and each message.
    let mut t = pop3::Pop3Transcript::new();
    t.push_server(b"+OK ready\r\n");
    t.push_client(b"USER bob\r\nPASS hungry\r\nLIST\r\nRETR 1\r\nTOP 2 0\r\nDELE 1\r\n");
    t.push_server(b"+OK\r\n+OK\r\n");
    t.push_server(data);
    let mailbox = pop3::mailbox::SessionMailbox::of(t.messages());
    for r in &mailbox.retrieved {
        let view = crate::mail::view::MessageView::of(&r.message);
        assert!(!view.parts.is_empty());
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
    let view = crate::mail::view::MessageView::of(data);
    for p in &view.parts {
        assert!(p.span.end <= data.len() && p.body.end <= data.len());
    }
    let _ = crate::mail::view::Headline::of(data);
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
            super::ftp_command(&data);
            super::ftp_reply(&data);
            super::ftp_list(&data);
            super::ftp_server(&data);
            super::dns(&data);
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
