//! The dissection benchmark's inputs and figures, behind the page's hidden
//! `/bench` route (not linked from anywhere): the transcripts the page
//! would hold after a 1 MB HTTP response (once with Content-Length, once
//! chunked) and after a 10,000-line SMTP session, replayed through the same
//! [`follow`](crate::follow::follow) and [`Conversation`] the workbenches
//! use on every render, each stage timed over several runs.
//! `cargo xtask bench` opens the route in headless Chromium and reads the
//! figures from its `data-testid="bench-row"` elements.
//!
//! This file is plain Rust (native unit tests, no DOM); [`page`] times it
//! in the browser.

pub mod page;

use crate::session::{Session, SessionAction};
use wirelab_shared::conversation::Conversation;
use wirelab_shared::dissect::Dissection;
use wirelab_shared::http::conversation::HttpConversation;
use wirelab_shared::http::dissect_response_to;
use wirelab_shared::relay_protocol::{RelayMessage, Transport};
use wirelab_shared::smtp::SmtpTranscript;
use wirelab_shared::transcript::FollowedConversation;

/// The body of the HTTP response: 1 MiB.
pub const BODY_BYTES: usize = 1024 * 1024;
/// What the relay reads from a server at most at once, so what one
/// WebSocket message (one transcript entry) carries.
pub const READ_BYTES: usize = 16 * 1024;
/// The chunk size of the chunked response, as a web server writes it.
pub const CHUNK_BYTES: usize = 8 * 1024;
/// The lines of the SMTP session, both directions.
pub const SMTP_LINES: usize = 10_000;
/// Lines of each mail of the SMTP session: its envelope, text and reply.
const LINES_PER_MAIL: usize = 100;

/// One input of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// A GET answered by a head and a 1 MiB body with Content-Length.
    HttpContentLength,
    /// The same body with `Transfer-Encoding: chunked`.
    HttpChunked,
    /// A 10,000-line SMTP session: a hundred mails of 100 lines each.
    Smtp,
}

impl Case {
    pub const ALL: [Case; 3] = [Case::HttpContentLength, Case::HttpChunked, Case::Smtp];

    /// Its key in `data-case` and in the bench client's result line.
    pub fn key(self) -> &'static str {
        match self {
            Case::HttpContentLength => "http_cl",
            Case::HttpChunked => "http_chunked",
            Case::Smtp => "smtp",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Case::HttpContentLength => "1 MB HTTP response, Content-Length",
            Case::HttpChunked => "1 MB HTTP response, chunked",
            Case::Smtp => "10,000-line SMTP session",
        }
    }

    /// The transcript the page holds once it has all been seen.
    pub fn session(self) -> Session {
        match self {
            Case::HttpContentLength => http_session(&content_length_response()),
            Case::HttpChunked => http_session(&chunked_response()),
            Case::Smtp => smtp_session(),
        }
    }

    /// The dissector alone on a whole message, without the framing that
    /// cut it out of the transcript: the HTTP response's; `None` for SMTP,
    /// whose messages are a line or a mail's text and dissected in the
    /// session's context.
    pub fn dissect_alone(self, bytes: &[u8]) -> Option<Dissection> {
        match self {
            Case::HttpContentLength | Case::HttpChunked => {
                Some(dissect_response_to(bytes, Some("GET")))
            }
            Case::Smtp => None,
        }
    }

    /// The conversation the case's workbench follows it with.
    pub fn conversation(self) -> Box<dyn Conversation> {
        match self {
            Case::HttpContentLength | Case::HttpChunked => Box::new(HttpConversation::new()),
            Case::Smtp => Box::new(FollowedConversation::new(SmtpTranscript::new())),
        }
    }
}

/// A session connected to `target`, at time 1 ms.
fn connected(target: &str) -> Session {
    let mut session = Session::default();
    session.apply(SessionAction::Connecting {
        target: target.into(),
        at: 0.0,
    });
    session.apply(SessionAction::Relay {
        message: RelayMessage::Connected {
            transport: Transport::Tcp,
            target: Some(target.into()),
            peer: "127.0.0.1:8081".into(),
            local: "127.0.0.1:50000".into(),
            connect_ms: 0.2,
            t_ms: None,
            started_us: None,
            at_us: None,
            recording: None,
        },
        at: 1.0,
    });
    session
}

/// A GET, then `response` as the relay delivers it: [`READ_BYTES`] at a
/// time.
fn http_session(response: &[u8]) -> Session {
    let mut session = connected("http");
    session.apply(SessionAction::Sent {
        bytes: b"GET /big.html HTTP/1.1\r\nHost: www.someschool.edu\r\nAccept: text/html\r\n\r\n"
            .to_vec(),
        at: 2.0,
    });
    for (i, read) in response.chunks(READ_BYTES).enumerate() {
        session.apply(SessionAction::Received {
            bytes: read.to_vec(),
            at: 3.0 + i as f64 * 0.1,
        });
    }
    session
}

/// The head of the response, with `framing` as its last header.
fn head(framing: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nDate: Tue, 09 Aug 2011 15:44:04 GMT\r\nServer: Apache/2.2.3 (CentOS)\r\n\
         Last-Modified: Tue, 09 Aug 2011 15:11:03 GMT\r\nContent-Type: text/html; charset=UTF-8\r\n\
         {framing}\r\n\r\n"
    )
}

/// [`BODY_BYTES`] of HTML text, lines of a paragraph.
fn body() -> Vec<u8> {
    let line =
        b"<p>The Web's application-layer protocol is HTTP: a client asks, a server answers.</p>\n";
    line.iter().copied().cycle().take(BODY_BYTES).collect()
}

fn content_length_response() -> Vec<u8> {
    let mut response = head(&format!("Content-Length: {BODY_BYTES}")).into_bytes();
    response.extend(body());
    response
}

fn chunked_response() -> Vec<u8> {
    let mut response = head("Transfer-Encoding: chunked").into_bytes();
    for chunk in body().chunks(CHUNK_BYTES) {
        response.extend(format!("{:x}\r\n", chunk.len()).into_bytes());
        response.extend(chunk);
        response.extend(b"\r\n");
    }
    response.extend(b"0\r\n\r\n");
    response
}

/// A session of [`SMTP_LINES`] lines: the greeting and HELO, mails of
/// [`LINES_PER_MAIL`] lines (each one's text sent at once, as the page
/// sends what is typed; the last one longer to make the count), QUIT.
fn smtp_session() -> Session {
    let mut session = connected("smtp");
    let mut at = 2.0;
    let mut say = |session: &mut Session, sent: bool, text: &str| {
        at += 0.1;
        let bytes = text.as_bytes().to_vec();
        session.apply(if sent {
            SessionAction::Sent { bytes, at }
        } else {
            SessionAction::Received { bytes, at }
        });
    };
    say(&mut session, false, "220 hamburger.edu\r\n");
    say(&mut session, true, "HELO crepes.fr\r\n");
    say(&mut session, false, "250 Hello crepes.fr\r\n");
    // Less the three lines above and QUIT with its reply.
    let mut remaining = SMTP_LINES - 5;
    let mut mail = 0;
    while remaining > 0 {
        let lines = if remaining >= 2 * LINES_PER_MAIL {
            LINES_PER_MAIL
        } else {
            remaining
        };
        mail += 1;
        for (sent, text) in MAIL_EXCHANGE {
            say(&mut session, sent, text);
        }
        say(
            &mut session,
            true,
            &mail_text(mail, lines - MAIL_EXCHANGE.len() - 1),
        );
        say(&mut session, false, "250 Message accepted for delivery\r\n");
        remaining -= lines;
    }
    say(&mut session, true, "QUIT\r\n");
    say(
        &mut session,
        false,
        "221 hamburger.edu closing connection\r\n",
    );
    session
}

/// The envelope of each mail, up to the 354 that invites its text.
const MAIL_EXCHANGE: [(bool, &str); 6] = [
    (true, "MAIL FROM:<alice@crepes.fr>\r\n"),
    (false, "250 alice@crepes.fr ... Sender ok\r\n"),
    (true, "RCPT TO:<bob@hamburger.edu>\r\n"),
    (false, "250 bob@hamburger.edu ... Recipient ok\r\n"),
    (true, "DATA\r\n"),
    (
        false,
        "354 Enter mail, end with \".\" on a line by itself\r\n",
    ),
];

/// A mail's text of `lines` lines: headers, a blank line, lines of text,
/// the final dot.
fn mail_text(n: usize, lines: usize) -> String {
    let mut text = format!(
        "From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: Searching for the meaning of life {n}\r\n\r\n"
    );
    for i in 5..lines {
        text.push_str(&format!(
            "Do you like ketchup? How about pickles? Line {i}.\r\n"
        ));
    }
    text.push_str(".\r\n");
    text
}

/// The `p`-th percentile (0-100) of `samples` by nearest rank; `None` with
/// none.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len().max(1)) - 1;
    sorted.get(index).copied()
}

/// The median and p95 of `samples`, in that order.
pub fn median_and_p95(samples: &[f64]) -> Option<(f64, f64)> {
    Some((percentile(samples, 50.0)?, percentile(samples, 95.0)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::follow::{follow, messages};
    use crate::session::Direction;
    use wirelab_shared::conversation::Sender;

    #[test]
    fn each_http_case_is_a_request_and_a_complete_megabyte_response() {
        for case in [Case::HttpContentLength, Case::HttpChunked] {
            let items = follow(&case.session(), case.conversation().as_mut());
            let messages = messages(&items);
            assert_eq!(messages.len(), 2, "{case:?}");
            let response = &messages[1];
            assert_eq!(response.sender, Sender::Server);
            assert!(response.complete, "{case:?}");
            assert!(response.bytes.len() > BODY_BYTES, "{case:?}");
            let alone = case.dissect_alone(&response.bytes);
            assert_eq!(alone.as_ref(), Some(&response.dissection), "{case:?}");
            assert_eq!(response.dissection.summary, "HTTP/1.1 200 OK");
        }
        let reads = Case::HttpChunked
            .session()
            .entries
            .iter()
            .filter(|e| e.direction == Direction::Received)
            .count();
        assert!(reads > BODY_BYTES / READ_BYTES, "{reads} reads");
    }

    #[test]
    fn the_smtp_session_has_ten_thousand_lines() {
        let session = Case::Smtp.session();
        let lines: usize = session
            .entries
            .iter()
            .filter(|e| e.direction != Direction::Event)
            .map(|e| e.bytes.iter().filter(|&&b| b == b'\n').count())
            .sum();
        assert_eq!(lines, SMTP_LINES);
        let items = follow(&session, Case::Smtp.conversation().as_mut());
        let messages = messages(&items);
        // Every command, reply and mail text is a whole message of its own:
        // three to start, eight a mail (the last one longer), two to end.
        assert_eq!(messages.len(), 3 + 99 * 8 + 2);
        assert!(messages.iter().all(|m| m.complete));
        let texts = messages
            .iter()
            .filter(|m| m.dissection.summary.starts_with("Message data"))
            .count();
        assert_eq!(texts, 99);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        assert_eq!(median_and_p95(&samples), Some((10.0, 19.0)));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[3.0], 95.0), Some(3.0));
    }
}
