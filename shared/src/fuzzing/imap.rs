//! Fuzz bodies for IMAP: the framer, the command and response parsers,
//! the dissectors and the server engine over any bytes. Each message the framer delimits is
//! dissected within its bounds; one that parses writes back to bytes that
//! parse to the same, frame whole, have only partial strict prefixes, and
//! dissect with every byte covered.

use super::{assert_bounded_per_line, check, drive};
use crate::dissect::Dissection;
use crate::imap::command::{Command, ImapState};
use crate::imap::dissect::{dissect_command, dissect_command_in, dissect_response};
use crate::imap::frame::{FrameError, Framed, Limits, next_command, next_response};
use crate::imap::response::Response;
use crate::imap::syntax::SyntaxError;

/// Small limits, so that the fuzzer reaches them with small inputs.
const LIMITS: Limits = Limits {
    line: 200,
    literal: 300,
    message: 1000,
};

/// Written messages longer than this are not cut at every byte (the check
/// is quadratic).
const MAX_PREFIX_CHECK: usize = 1024;

pub fn imap_command(data: &[u8]) {
    check(&dissect_command(data), data);
    for state in [
        ImapState::NotAuthenticated,
        ImapState::Authenticated,
        ImapState::Selected,
        ImapState::Logout,
    ] {
        check(&dissect_command_in(data, Some(state)), data);
    }
    for message in messages(data, next_command) {
        check(&dissect_command(message), message);
        round_trip(
            message,
            Command::parse,
            Command::to_bytes,
            next_command,
            dissect_command,
        );
    }
    server(data);
}

/// The server engine fed any bytes as one connection: answers bounded per
/// line (a `+`, a BAD with its reason, a BYE), and closed at the end.
fn server(data: &[u8]) {
    let config = crate::imap::ImapServerConfig {
        limits: LIMITS,
        max_errors: 20,
        ..Default::default()
    };
    // bob's mailbox is empty: one FETCH line may ask for every message's
    // body many times over, so with mail in it the answer to a line has no
    // bound but the mailbox's size.
    let accounts = vec![crate::mail::store::Account::new(
        "bob@hamburger.edu",
        "hungry",
        false,
    )];
    let store = crate::mail::store::MemoryStore::new(accounts, Default::default());
    let mut server = crate::imap::ImapServer::new(config, store);
    let out = drive(&mut server, data);
    assert_bounded_per_line(&out, data, 256, 1024);
    assert!(out.close, "the stream ended, so did the session");
}

pub fn imap_response(data: &[u8]) {
    check(&dissect_response(data), data);
    for message in messages(data, next_response) {
        check(&dissect_response(message), message);
        round_trip(
            message,
            Response::parse,
            Response::to_bytes,
            next_response,
            dissect_response,
        );
    }
}

type Framer = fn(&[u8], &Limits) -> Result<Framed, FrameError>;

/// The whole messages at the start of `data`, as the framer cuts them.
fn messages(data: &[u8], frame: Framer) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Ok(Framed::Complete(n)) = frame(rest, &LIMITS) {
        assert!(n > 0 && n <= rest.len(), "a frame inside the buffer");
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

fn round_trip<T: PartialEq + std::fmt::Debug>(
    message: &[u8],
    parse: fn(&[u8]) -> Result<T, SyntaxError>,
    write: fn(&T) -> Vec<u8>,
    frame: Framer,
    dissect: fn(&[u8]) -> Dissection,
) {
    let Ok(value) = parse(message) else {
        return;
    };
    let wire = write(&value);
    assert_eq!(
        parse(&wire).as_ref(),
        Ok(&value),
        "{:?}",
        String::from_utf8_lossy(&wire)
    );
    let roomy = Limits {
        line: wire.len(),
        literal: wire.len() as u64,
        message: wire.len(),
    };
    assert_eq!(frame(&wire, &roomy), Ok(Framed::Complete(wire.len())));
    let problems = dissect(&wire).check_invariants(true);
    assert!(problems.is_empty(), "{problems:?}");
    if wire.len() <= MAX_PREFIX_CHECK {
        for cut in 0..wire.len() {
            assert!(
                matches!(
                    frame(&wire[..cut], &roomy),
                    Ok(Framed::Partial | Framed::AwaitingContinuation { .. })
                ),
                "a strict prefix of {cut} bytes is not partial"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_session_with_the_mail_store_keeps_the_fuzz_bounds() {
        super::imap_command(
            b"a LOGIN bob hungry\r\na SELECT INBOX\r\na FETCH 1:* (FLAGS BODY[])\r\n\
              a UID SEARCH ALL\r\na LIST \"\" *\r\na STATUS INBOX (MESSAGES)\r\na CLOSE\r\n\
              a LOGOUT\r\n",
        );
    }
}
