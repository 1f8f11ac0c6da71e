//! Fuzz bodies for POP3: the dissectors, the command and reply parsers,
//! the transcript follower, the page's mailbox view and the client engine
//! over any bytes; and the reference server engine on an in-memory store.

use super::{assert_bounded_per_line, check, drive, follow};
use crate::pop3;
use std::sync::Arc;

/// The most the server may answer to one line: a whole message of the
/// course's mailbox (under 1 KB) with its status line and stuffing.
const MAX_REPLY_PER_LINE: usize = 4096;

/// Parsers, dissectors and followers over the same bytes.
pub fn pop3(data: &[u8]) {
    check(&pop3::dissect::dissect_command(data), data);
    check(&pop3::dissect::dissect_reply(data), data);
    for c in [
        pop3::Command::Retr(1),
        pop3::Command::List(None),
        pop3::Command::Capa,
    ] {
        check(&pop3::dissect::dissect_reply_to(data, &c), data);
    }
    super::commands_round_trip(data, pop3::Command::parse, pop3::Command::to_bytes);
    replies_round_trip(data);
    let (a, b) = data.split_at(data.len() / 3);
    let mut t = pop3::Pop3Transcript::new();
    for m in t.push_server(b).iter().chain(t.push_client(a).iter()) {
        check(&m.dissection, &m.bytes);
    }
    check(&t.dissect_draft(data), data);
    follow(
        &mut crate::transcript::FollowedConversation::new(pop3::Pop3Transcript::new()),
        data,
    );
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
    client(data);
}

/// A reply the framer delimits and the parser reads writes back as one
/// that parses to the same.
fn replies_round_trip(data: &[u8]) {
    for multiline in [false, true] {
        let Ok(Some(len)) = pop3::frame::next_reply(data, multiline) else {
            continue;
        };
        assert!(len <= data.len());
        if let Ok(reply) = pop3::Reply::parse(&data[..len], multiline) {
            let wire = reply.to_bytes();
            assert_eq!(pop3::Reply::parse(&wire, multiline).as_ref(), Ok(&reply));
        }
    }
}

/// The client engine reading any server: one command per reply at most.
fn client(data: &[u8]) {
    let mut client = pop3::client::Pop3Client::new("bob", "hungry", true);
    let out = drive(&mut client, data);
    assert_bounded_per_line(&out, data, 0, 512);
    assert!(out.close, "the server went away, so did the client");
}

/// The server engine on the course's mailboxes, fed any bytes as one
/// connection: replies bounded per line, no lock left behind.
pub fn pop3_server(data: &[u8]) {
    let store = Arc::new(crate::mail::MemoryStore::course());
    let mut server = pop3::Pop3Server::new(pop3::Pop3ServerConfig::default(), store.clone());
    let out = drive(&mut server, data);
    assert_bounded_per_line(&out, data, 512, MAX_REPLY_PER_LINE);
    assert!(out.close, "the stream ended, so did the session");
    drop(server);
    assert!(
        !store.is_locked("bob@hamburger.edu"),
        "a finished session leaves no lock"
    );
}
