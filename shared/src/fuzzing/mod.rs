//! The bodies of the fuzz targets: one function per parser, dissector or
//! engine, each taking arbitrary bytes and asserting what must hold for
//! any input (no panic, a dissection whose spans nest inside the message,
//! round trips where the format has one, engine output bounded by what was
//! put in).
//!
//! Compiled only for this crate's tests and with the `fuzzing` feature, so
//! neither the relay nor the page carries it. The libFuzzer binaries in
//! `shared/fuzz/` are one line each around [`TARGETS`]; `cargo xtask fuzz`
//! builds and runs them. Every `cargo test` runs each body over its seed
//! corpus (`shared/fuzz/corpus/<target>/`) and over proptest inputs.
//!
//! A new protocol adds its body here, an entry in [`TARGETS`], a one-line
//! target in `shared/fuzz/fuzz_targets/` and its seeds in [`seeds`].

use crate::dissect::Dissection;
use crate::engine::{Drained, Engine, Millis};

mod bittorrent;
mod dns;
mod ftp;
mod http;
mod http_cache;
mod imap;
mod line;
mod mime;
mod pop3;
mod relay_protocol;
mod smtp;

#[cfg(test)]
mod seeds;
#[cfg(test)]
mod tests;

/// One fuzz target: the name of its binary and corpus folder, and its body.
pub struct Target {
    pub name: &'static str,
    pub body: fn(&[u8]),
}

/// Every fuzz target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "line",
        body: line::line,
    },
    Target {
        name: "all_kinds",
        body: line::all_kinds,
    },
    Target {
        name: "http",
        body: http::http,
    },
    Target {
        name: "http_server",
        body: http::http_server,
    },
    Target {
        name: "http_cache",
        body: http_cache::http_cache,
    },
    Target {
        name: "smtp",
        body: smtp::smtp,
    },
    Target {
        name: "smtp_server",
        body: smtp::smtp_server,
    },
    Target {
        name: "pop3",
        body: pop3::pop3,
    },
    Target {
        name: "pop3_server",
        body: pop3::pop3_server,
    },
    Target {
        name: "imap_command",
        body: imap::imap_command,
    },
    Target {
        name: "imap_response",
        body: imap::imap_response,
    },
    Target {
        name: "mail",
        body: mime::mail,
    },
    Target {
        name: "ftp_command",
        body: ftp::ftp_command,
    },
    Target {
        name: "ftp_reply",
        body: ftp::ftp_reply,
    },
    Target {
        name: "ftp_list",
        body: ftp::ftp_list,
    },
    Target {
        name: "ftp_server",
        body: ftp::ftp_server,
    },
    Target {
        name: "dns",
        body: dns::dns,
    },
    Target {
        name: "dns_zone",
        body: dns::dns_zone,
    },
    Target {
        name: "dns_server",
        body: dns::dns_server,
    },
    Target {
        name: "dns_resolver",
        body: dns::dns_resolver,
    },
    Target {
        name: "relay_protocol",
        body: relay_protocol::relay_protocol,
    },
    Target {
        name: "bittorrent",
        body: bittorrent::bittorrent,
    },
    Target {
        name: "bittorrent_tracker",
        body: bittorrent::bittorrent_tracker,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Runs the body of the target called `name` over `data`; the libFuzzer
/// binaries are this call and nothing else.
///
/// # Panics
///
/// When there is no such target (a binary named after a body that was
/// removed), as well as whenever the body finds a bug.
pub fn run(name: &str, data: &[u8]) {
    match target(name) {
        Some(t) => (t.body)(data),
        None => panic!("no fuzz target called {name:?}"),
    }
}

/// Checks the structural rules every dissection must keep for any input.
pub fn check(dissection: &Dissection, input: &[u8]) {
    assert_eq!(dissection.length, input.len(), "length must be the input's");
    let problems = dissection.check_invariants(false);
    assert!(problems.is_empty(), "{problems:?}");
}

/// Feeds `data` to an engine in two pieces, then ends the stream, and
/// returns everything it put out on the way.
fn drive<E: Engine>(engine: &mut E, data: &[u8]) -> Drained<E::Event> {
    let (a, b) = data.split_at(data.len() / 2);
    engine.handle_input(a, Millis(0));
    let mut all = crate::engine::drain(engine);
    engine.handle_input(b, Millis(1));
    append(&mut all, crate::engine::drain(engine));
    engine.handle_eof(Millis(2));
    append(&mut all, crate::engine::drain(engine));
    all
}

/// Adds what a later drain collected to what earlier ones did.
fn append<E>(all: &mut Drained<E>, more: Drained<E>) {
    all.transmitted.extend(more.transmitted);
    all.events.extend(more.events);
    all.close |= more.close;
    all.deadline = more.deadline;
}

/// How many lines a client could have sent in `data`: the most replies a
/// line-based server may owe it.
/// Every line of `data` that `parse` reads as a command writes back (with
/// `write`) as a line that parses to the same command: SMTP and POP3.
fn commands_round_trip<C, E>(
    data: &[u8],
    parse: impl Fn(&[u8]) -> Result<C, E>,
    write: impl Fn(&C) -> Vec<u8>,
) where
    C: PartialEq + std::fmt::Debug,
    E: PartialEq + std::fmt::Debug,
{
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Ok(command) = parse(line) {
            let wire = write(&command);
            let again = parse(wire.strip_suffix(b"\r\n").unwrap_or(&wire));
            assert_eq!(
                again.as_ref(),
                Ok(&command),
                "{:?}",
                String::from_utf8_lossy(&wire)
            );
        }
    }
}

fn line_count(data: &[u8]) -> usize {
    data.iter().filter(|&&b| b == b'\n').count() + 1
}

/// Asserts that a line-based server answered no more than `per_line`
/// bytes for each line it was sent, plus `greeting` once.
fn assert_bounded_per_line<E>(out: &Drained<E>, data: &[u8], greeting: usize, per_line: usize) {
    let sent: usize = out.transmitted.iter().map(Vec::len).sum();
    let bound = greeting + line_count(data) * per_line;
    assert!(
        sent <= bound,
        "{sent} bytes answered to {} lines, more than {bound}",
        line_count(data)
    );
}

/// Follows `data` as a connection seen by the page: its first third sent
/// by the server, the rest by the client and then the server again, in
/// the order a pipelining client would see them. Every message, finished,
/// growing or flushed at close, must be dissected over its own bytes, and
/// no more bytes may come out as messages than went in.
fn follow<C: crate::conversation::Conversation>(conversation: &mut C, data: &[u8]) {
    let (a, rest) = data.split_at(data.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    let mut messages = conversation.server_bytes(a, 0.0);
    messages.extend(conversation.client_bytes(b, 1.0));
    messages.extend(conversation.client_bytes(c, 2.0));
    messages.extend(conversation.server_bytes(b, 3.0));
    messages.extend(conversation.server_bytes(c, 4.0));
    for m in conversation.in_progress() {
        check(&m.dissection, &m.bytes);
    }
    let _ = conversation.state();
    let _ = conversation.state_hint();
    if let Some(draft) = conversation.dissect_draft(a) {
        check(&draft, a);
    }
    messages.extend(conversation.closed(5.0));
    for m in &messages {
        check(&m.dissection, &m.bytes);
    }
    let total: usize = messages.iter().map(|m| m.bytes.len()).sum();
    assert!(
        total <= a.len() + 2 * rest.len(),
        "messages out of thin air"
    );
}
