//! Fuzz bodies for SMTP: the dissectors, the command and reply parsers,
//! dot-stuffing, the transcript follower and the client engine over any
//! bytes; and the reference server engine on an in-memory store.

use super::{assert_bounded_per_line, check, drive, follow};
use crate::engine::{Engine, Millis, drain};
use crate::smtp;
use crate::stuffing::{find_end, stuff, unstuff};
use std::sync::Arc;

/// The most a server may answer to one line: its longest reply is the
/// EHLO list, a few hundred bytes.
const MAX_REPLY_PER_LINE: usize = 1024;

/// Parsers, dissectors and followers over the same bytes.
pub fn smtp(data: &[u8]) {
    check(&smtp::dissect::dissect_command(data), data);
    check(&smtp::dissect::dissect_reply(data), data);
    check(&smtp::dissect::dissect_data(data, None, false), data);
    check(&smtp::transcript::dissect_data_line(data), data);
    super::commands_round_trip(data, smtp::Command::parse, smtp::Command::to_bytes);
    replies_round_trip(data);
    stuffing_round_trip(data);
    let (a, b) = data.split_at(data.len() / 3);
    let mut t = smtp::SmtpTranscript::new();
    t.push_server(b"220 hamburger.edu\r\n");
    for m in t.push_client(a).iter().chain(t.push_server(b).iter()) {
        check(&m.dissection, &m.bytes);
    }
    check(&t.dissect_draft(data), data);
    follow(
        &mut crate::transcript::FollowedConversation::new(smtp::SmtpTranscript::new()),
        data,
    );
    // The same follower after the server accepted a whole envelope, so
    // the client's bytes are read as message text.
    use crate::conversation::Conversation;
    let mut c = crate::transcript::FollowedConversation::new(smtp::SmtpTranscript::new());
    c.server_bytes(b"220 hamburger.edu\r\n", 0.0);
    c.client_bytes(a, 1.0);
    c.server_bytes(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", 2.0);
    c.client_bytes(b, 3.0);
    for m in c.in_progress().iter().chain(c.closed(4.0).iter()) {
        check(&m.dissection, &m.bytes);
    }
    client(data);
}

/// A reply that parses writes back as one that parses to the same.
fn replies_round_trip(data: &[u8]) {
    if let Ok(reply) = smtp::Reply::parse(data) {
        let wire = reply.to_bytes();
        assert_eq!(smtp::Reply::parse(&wire).as_ref(), Ok(&reply));
    }
}

/// Any text, stuffed, is one block that the framer, the unstuffer and the
/// streaming DATA receiver all read back as the same text.
fn stuffing_round_trip(data: &[u8]) {
    let mut text = data.to_vec();
    if !text.is_empty() && !text.ends_with(b"\r\n") {
        text.extend_from_slice(b"\r\n");
    }
    let wire = stuff(&text);
    let end = find_end(&wire).expect("a stuffed block has its end");
    assert_eq!(end.len, wire.len(), "the block ended early");
    assert_eq!(unstuff(&wire[..end.content_end]).0, text);
    let mut receiver = smtp::frame::DataReceiver::new(usize::MAX);
    assert_eq!(receiver.feed(&wire), Some(wire.len()));
    assert_eq!(receiver.into_text(), text);
}

/// The client engine reading any server: it answers each reply with at
/// most one command (or the message it is sending).
fn client(data: &[u8]) {
    let mail = smtp::client::OutgoingMail {
        mail_from: "alice@crepes.fr".into(),
        rcpt_to: vec!["bob@hamburger.edu".into()],
        message: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
    };
    let mut client = smtp::client::SmtpClient::new("crepes.fr", vec![mail]);
    let out = drive(&mut client, data);
    assert_bounded_per_line(&out, data, 0, MAX_REPLY_PER_LINE);
    assert!(out.close, "the server went away, so did the client");
}

/// The server engine on the course's mailboxes, fed any bytes as one
/// connection: replies bounded per line, and the session closed at the
/// end of the stream.
pub fn smtp_server(data: &[u8]) {
    let store = Arc::new(crate::mail::MemoryStore::course());
    let mut server = smtp::SmtpServer::new(smtp::SmtpServerConfig::default(), store);
    let out = drive(&mut server, data);
    assert_bounded_per_line(&out, data, MAX_REPLY_PER_LINE, MAX_REPLY_PER_LINE);
    assert!(out.close);
    assert_eq!(
        server.state(),
        smtp::SmtpState::Closed,
        "the stream ended, so did the session"
    );
    // Nothing more is answered after the close.
    server.handle_input(b"NOOP\r\n", Millis(3));
    assert!(drain(&mut server).transmitted.is_empty());
}
