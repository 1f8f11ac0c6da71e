//! POP3 dissectors: one command line (`pop3-command`) and one reply
//! (`pop3-reply`), the multi-line ones taken apart by what they carry: a
//! scan listing (`1 498`), unique ids, capabilities, or a whole message,
//! dissected as such with the byte-stuffing shown.
//!
//! Without the command a reply answers, [`dissect_reply`] guesses what its
//! body is; [`dissect_reply_to`] is told (the transcript knows).

use super::command::{Command, parse_line};
use super::frame::{MAX_COMMAND_LINE, MAX_STATUS_LINE};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::{LineEnding, first_line, split_lines};
use crate::mail::cover::cover;
use crate::mail::dissect_with_envelope;
use crate::stuffing::{OffsetMap, find_end, remap_fields, unstuff};
use crate::text::visible;

fn keyword_help(keyword: &str) -> &'static str {
    match keyword {
        "USER" => "USER name: the mailbox to open (RFC 1939 §7).",
        "PASS" => "PASS password: the password of the mailbox named by USER (RFC 1939 §7).",
        "STAT" => "STAT: the number of messages and their total size (RFC 1939 §5).",
        "LIST" => "LIST [n]: the size of each message, or of message n (RFC 1939 §5).",
        "RETR" => "RETR n: the whole message n (RFC 1939 §5).",
        "DELE" => "DELE n: marks message n for deletion; it is removed at QUIT (RFC 1939 §5).",
        "NOOP" => "NOOP: does nothing; the server answers +OK (RFC 1939 §5).",
        "RSET" => "RSET: unmarks every message marked for deletion (RFC 1939 §5).",
        "QUIT" => {
            "QUIT: in TRANSACTION, enters UPDATE: the marked messages are removed and the server closes (RFC 1939 §6)."
        }
        "TOP" => {
            "TOP n k: the header of message n and the first k lines of its body (RFC 1939 §7)."
        }
        "UIDL" => {
            "UIDL [n]: a unique id per message that stays the same across sessions (RFC 1939 §7)."
        }
        "CAPA" => "CAPA: the server's capabilities (RFC 2449 §5).",
        _ => "Not a POP3 command.",
    }
}

fn eol(span: Span, ending: Option<LineEnding>, d: &mut Dissection) -> Option<Field> {
    match ending {
        Some(LineEnding::CrLf) => Some(
            Field::new("End of line", span, "CR LF (␍␊)")
                .help("CR LF ends every POP3 line (RFC 1939 §3)."),
        ),
        Some(LineEnding::BareLf) => {
            d.diagnostics.push(
                Diagnostic::warning(
                    span,
                    "the line ends with a bare LF; POP3 lines end with CR LF",
                )
                .reference("RFC 1939 §3"),
            );
            Some(Field::new("End of line", span, "LF alone (␊)"))
        }
        None => {
            d.diagnostics.push(
                Diagnostic::note(
                    Span::point(span.start),
                    "no CR LF yet: the other side waits for the end of the line",
                )
                .reference("RFC 1939 §3"),
            );
            None
        }
    }
}

/// Dissects one command line (the `pop3-command` kind).
pub fn dissect_command(bytes: &[u8]) -> Dissection {
    let (content, line_end, ending) = first_line(bytes);
    let line = content.slice(bytes);
    let parsed = parse_line(line);
    let keyword = String::from_utf8_lossy(parsed.syntax.keyword.slice(line)).to_ascii_uppercase();
    let summary = if keyword == "PASS" {
        "PASS ••••••".to_string()
    } else if line.is_empty() {
        "(empty line)".to_string()
    } else {
        visible(line)
    };
    let mut d = Dissection::new(Protocol::Pop3, summary, bytes.len());
    if bytes.is_empty() {
        return d;
    }
    let mut children = Vec::new();
    if !parsed.syntax.keyword.is_empty() {
        children.push(
            Field::new("Keyword", parsed.syntax.keyword, keyword.clone())
                .help(keyword_help(&keyword)),
        );
    }
    for (i, arg) in parsed.syntax.arguments.iter().enumerate() {
        let name = match (keyword.as_str(), i) {
            ("USER", _) => "User name",
            ("PASS", _) => "Password",
            ("TOP", 1) => "Number of lines",
            ("LIST" | "RETR" | "DELE" | "UIDL" | "TOP", _) => "Message number",
            _ => "Argument",
        };
        children.push(Field::new(name, *arg, visible(arg.slice(line))));
    }
    let mut children = cover(line, Span::new(0, line.len()), children);
    d.diagnostics.extend(parsed.syntax.notes.iter().cloned());
    if let Err(e) = &parsed.command {
        d.diagnostics.push(
            Diagnostic::error(e.span(), format!("{e}: the server answers -ERR"))
                .reference("RFC 1939 §3"),
        );
    }
    if keyword == "PASS" {
        d.diagnostics.push(
            Diagnostic::note(
                parsed.syntax.arguments.first().copied().unwrap_or(parsed.syntax.keyword),
                "the password crosses the network in clear text; real servers require TLS (RFC 2595) or APOP/SASL",
            )
            .reference("RFC 1939 §13"),
        );
    }
    if line.len() > MAX_COMMAND_LINE {
        d.diagnostics.push(
            Diagnostic::warning(
                content,
                "a POP3 command line is at most 255 octets with its CR LF",
            )
            .reference("RFC 2449 §4"),
        );
    }
    if let Some(f) = eol(Span::new(content.end, line_end), ending, &mut d) {
        children.push(f);
    }
    let shown = if keyword == "PASS" {
        "PASS ••••••".to_string()
    } else {
        visible(line)
    };
    d.fields.push(
        Field::new(
            format!(
                "Command: {}",
                if keyword.is_empty() {
                    "(none)"
                } else {
                    &keyword
                }
            ),
            Span::new(0, line_end),
            shown,
        )
        .help(keyword_help(&keyword))
        .with_children(children),
    );
    d.following_bytes(
        bytes,
        line_end,
        "more bytes follow this command; each command is dissected on its own",
    );
    d
}

/// What the body of a multi-line reply holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Listing,
    Uids,
    Capabilities,
    Message,
    Lines,
}

fn guess_body(body: &[u8]) -> BodyKind {
    let lines: Vec<&[u8]> = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && *l != b"\r")
        .collect();
    let pairs = !lines.is_empty()
        && lines.iter().all(|l| {
            let t = String::from_utf8_lossy(l);
            let mut it = t.trim_end().split(' ');
            matches!((it.next(), it.next(), it.next()), (Some(n), Some(_), None) if n.parse::<u32>().is_ok())
        });
    if pairs {
        let all_sizes = lines.iter().all(|l| {
            String::from_utf8_lossy(l)
                .trim_end()
                .split(' ')
                .nth(1)
                .is_some_and(|s| s.parse::<u64>().is_ok())
        });
        return if all_sizes {
            BodyKind::Listing
        } else {
            BodyKind::Uids
        };
    }
    let first = lines.first().copied().unwrap_or_default();
    let colon = first.iter().position(|&b| b == b':');
    if colon.is_some_and(|c| c > 0 && first[..c].iter().all(|&b| b.is_ascii_graphic())) {
        return BodyKind::Message;
    }
    BodyKind::Lines
}

/// Dissects one reply without knowing its command (the `pop3-reply` kind):
/// anything after the status line is read as a multi-line body.
pub fn dissect_reply(bytes: &[u8]) -> Dissection {
    dissect(bytes, None)
}

/// Dissects one reply to `command`.
pub fn dissect_reply_to(bytes: &[u8], command: &Command) -> Dissection {
    dissect(bytes, Some(command))
}

fn dissect(bytes: &[u8], command: Option<&Command>) -> Dissection {
    let (content, line_end, ending) = first_line(bytes);
    let line = content.slice(bytes);
    let mut d = Dissection::new(Protocol::Pop3, visible(line), bytes.len());
    if bytes.is_empty() {
        d.summary = "(empty)".into();
        return d;
    }
    let mut children = Vec::new();
    let (ok, status_len) = if line.starts_with(b"+OK") {
        (Some(true), 3)
    } else if line.starts_with(b"-ERR") {
        (Some(false), 4)
    } else {
        (None, 0)
    };
    match ok {
        Some(ok) => {
            children.push(
                Field::new("Status", Span::new(0, status_len), if ok { "+OK: success" } else { "-ERR: failure" })
                    .help("Every POP3 reply starts with +OK or -ERR; the text after it is for humans (RFC 1939 §3)."),
            );
            let mut text_start = status_len;
            if line.get(status_len) == Some(&b' ') {
                children.push(Field::new(
                    "Space",
                    Span::new(status_len, status_len + 1),
                    "␠",
                ));
                text_start += 1;
            } else if status_len < line.len() {
                d.diagnostics.push(
                    Diagnostic::error(
                        Span::new(status_len, status_len + 1),
                        "the status indicator is followed by a space",
                    )
                    .reference("RFC 1939 §3"),
                );
            }
            let text = &line[text_start.min(line.len())..];
            let mut text_children = Vec::new();
            if text.first() == Some(&b'[')
                && let Some(close) = text.iter().position(|&b| b == b']')
            {
                let code = String::from_utf8_lossy(&text[1..close]).into_owned();
                let meaning = match code.split('/').next().unwrap_or_default() {
                    "IN-USE" => "IN-USE: another session holds the mailbox (RFC 2449 §8.1.1)",
                    "LOGIN-DELAY" => {
                        "LOGIN-DELAY: logging in again so soon is refused (RFC 2449 §8.1.2)"
                    }
                    "AUTH" => "AUTH: the credentials are wrong (RFC 3206)",
                    "SYS" => "SYS: a server-side problem, TEMP (try again) or PERM (RFC 3206)",
                    _ => "a response code (RFC 2449 §8)",
                };
                text_children.push(Field::new(
                    "Response code",
                    Span::new(text_start, text_start + close + 1),
                    meaning,
                ));
            }
            if !text.is_empty() {
                let tspan = Span::new(text_start, line.len());
                let mut f = Field::new("Text", tspan, visible(text));
                if !text_children.is_empty() {
                    f = f.with_children(cover(bytes, tspan, text_children));
                }
                children.push(f);
            }
        }
        None => {
            d.diagnostics.push(
                Diagnostic::error(
                    Span::new(0, line.len().min(4)),
                    "a POP3 reply starts with +OK or -ERR",
                )
                .reference("RFC 1939 §3"),
            );
            if !line.is_empty() {
                children.push(Field::new("Text", content, visible(line)));
            }
        }
    }
    if line.len() > MAX_STATUS_LINE {
        d.diagnostics.push(
            Diagnostic::warning(
                content,
                "the first line of a reply is at most 512 octets with its CR LF",
            )
            .reference("RFC 2449 §4"),
        );
    }
    if let Some(f) = eol(Span::new(content.end, line_end), ending, &mut d) {
        children.push(f);
    }
    d.fields.push(
        Field::new("Status line", Span::new(0, line_end), visible(line)).with_children(children),
    );
    let multiline = match command {
        Some(c) => ok == Some(true) && c.expects_multiline(),
        None => ok == Some(true) && line_end < bytes.len(),
    };
    if let Some(c) = command {
        d.diagnostics.push(Diagnostic::note(
            Span::new(0, status_len.max(1).min(bytes.len())),
            context(c, ok),
        ));
    }
    if !multiline {
        d.following_bytes(bytes, line_end, "more bytes follow this one-line reply");
        return d;
    }
    let rest = &bytes[line_end..];
    let end = find_end(rest);
    let body_end = line_end + end.map_or(rest.len(), |e| e.content_end);
    let (body, removed) = unstuff(&bytes[line_end..body_end]);
    let kind = match command {
        Some(Command::List(None)) => BodyKind::Listing,
        Some(Command::Uidl(None)) => BodyKind::Uids,
        Some(Command::Capa) => BodyKind::Capabilities,
        Some(Command::Retr(_) | Command::Top(..)) => BodyKind::Message,
        Some(_) => BodyKind::Lines,
        None => guess_body(&body),
    };
    if body_end > line_end {
        let span = Span::new(line_end, body_end);
        let field = match kind {
            BodyKind::Message => {
                let mail = dissect_with_envelope(&body, None);
                let map = OffsetMap {
                    removed,
                    base: line_end,
                };
                let (fields, diagnostics) =
                    remap_fields(mail.fields, mail.diagnostics, &map, bytes);
                d.diagnostics.extend(diagnostics);
                let text = String::from_utf8_lossy(line);
                if let Some(n) = text.split(' ').nth(1).and_then(|n| n.parse::<usize>().ok())
                    && text.contains("octets")
                    && n != body.len()
                {
                    d.diagnostics.push(Diagnostic::warning(
                        content,
                        format!(
                            "the status line announces {n} octets, the message has {}",
                            body.len()
                        ),
                    ));
                }
                Field::new("Message", span, mail.summary)
                    .help("The message as stored, byte-stuffed: a line starting with '.' got one more (RFC 1939 §3).")
                    .with_children(fields)
            }
            _ => {
                let mut items = Vec::new();
                for (i, (lcontent, lending)) in
                    split_lines(&bytes[line_end..body_end]).iter().enumerate()
                {
                    let s = lcontent.shifted(line_end);
                    let e = s.end + lending.map_or(0, |x| x.len());
                    let text = String::from_utf8_lossy(s.slice(bytes)).into_owned();
                    let mut parts = text.split(' ');
                    let (first, second) = (
                        parts.next().unwrap_or_default(),
                        parts.next().unwrap_or_default(),
                    );
                    let (name, value, help) = match kind {
                        BodyKind::Listing => (
                            format!("Message {first}"),
                            format!("{second} octets"),
                            "A scan listing: message number and exact size in octets (RFC 1939 §5).",
                        ),
                        BodyKind::Uids => (
                            format!("Message {first}"),
                            format!("unique id {second}"),
                            "A unique-id listing: message number and its id (RFC 1939 §7).",
                        ),
                        BodyKind::Capabilities => (
                            format!("Capability: {first}"),
                            text.clone(),
                            "A capability of the server (RFC 2449 §6).",
                        ),
                        _ => (format!("Line {}", i + 1), text.clone(), ""),
                    };
                    let mut f = Field::new(name, Span::new(s.start, e), value);
                    if !help.is_empty() {
                        f = f.help(help);
                    }
                    items.push(f);
                }
                let label = match kind {
                    BodyKind::Listing => "Scan listing",
                    BodyKind::Uids => "Unique-id listing",
                    BodyKind::Capabilities => "Capabilities",
                    _ => "Lines",
                };
                Field::new(label, span, format!("{} line(s)", items.len())).with_children(items)
            }
        };
        d.fields.push(field);
    }
    match end {
        Some(e) => {
            let s = Span::new(line_end + e.content_end, line_end + e.len);
            d.fields.push(Field::new("End of multi-line reply", s, ".␍␊").help(
                "A line with a single dot ends a multi-line reply; lines of the text that start with a dot get one more (RFC 1939 §3).",
            ));
            d.following_bytes(bytes, s.end, "more bytes follow this reply");
        }
        None => d.diagnostics.push(
            Diagnostic::note(
                Span::point(bytes.len()),
                "the multi-line reply has not ended yet: a line with a single '.' ends it",
            )
            .reference("RFC 1939 §3"),
        ),
    }
    d
}

fn context(command: &Command, ok: Option<bool>) -> String {
    let k = command.keyword();
    let Some(ok) = ok else {
        return format!(
            "answers {k}, but without +OK or -ERR a client cannot tell success from failure"
        );
    };
    match (command, ok) {
        (Command::Pass(_), true) => {
            "answers PASS: logged in, the session enters the TRANSACTION state".into()
        }
        (Command::Pass(_), false) => {
            "answers PASS: login refused, the session stays in AUTHORIZATION".into()
        }
        (Command::Retr(n), true) => {
            format!("answers RETR {n}: message {n} follows, up to a line with a single dot")
        }
        (Command::Dele(n), true) => {
            format!("answers DELE {n}: marked for deletion; it is removed only at QUIT (UPDATE)")
        }
        (Command::List(None), true) => {
            "answers LIST: one line per message, number and size in octets".into()
        }
        (Command::Quit, true) => {
            "answers QUIT: the marked messages are deleted (UPDATE) and the connection closes"
                .into()
        }
        (_, true) => format!("answers {k}: success"),
        (_, false) => format!("answers {k}: refused"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let d = dissect_command(b"retr 1\r\n");
        assert!(d.check_invariants(true).is_empty());
        assert_eq!(d.find("Message number").unwrap().value, "1");
        let d = dissect_command(b"pass hungry\r\n");
        assert_eq!(d.summary, "PASS ••••••");
        assert!(d.diagnostics[0].message.contains("clear text"));
        let d = dissect_command(b"retr x\r\n");
        assert!(d.diagnostics[0].message.contains("-ERR"));
    }

    #[test]
    fn the_course_list_reply_without_context() {
        let d = dissect_reply(b"+OK 2 messages (1410 octets)\r\n1 498\r\n2 912\r\n.\r\n");
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(d.find("Message 2").unwrap().value, "912 octets");
        assert!(d.find("End of multi-line reply").is_some());
        let d = dissect_reply(b"-ERR [IN-USE] locked\r\n");
        assert!(d.find("Response code").unwrap().value.starts_with("IN-USE"));
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn a_retrieved_message_is_dissected_with_stuffing() {
        let wire = b"+OK 30 octets\r\nSubject: dots\r\n\r\n..one\r\n...two\r\n.\r\n";
        let d = dissect_reply_to(wire, &Command::Retr(1));
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(d.fields.iter().filter(|f| f.name == "Message").count(), 1);
        assert_eq!(d.walk().filter(|f| f.name == "Dot-stuffing").count(), 2);
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("RETR 1: message 1 follows"))
        );
        assert!(
            !d.diagnostics
                .iter()
                .any(|x| x.message.contains("announces"))
        );
        let guessed = dissect_reply(wire);
        assert!(guessed.find("Header: Subject").is_some());
    }

    #[test]
    fn uids_capabilities_and_partial() {
        let d = dissect_reply(b"+OK\r\n1 seed-1\r\n.\r\n");
        assert!(d.find("Unique-id listing").is_some());
        let d = dissect_reply_to(
            b"+OK Capability list follows\r\nTOP\r\nUSER\r\n.\r\n",
            &Command::Capa,
        );
        assert!(d.find("Capability: USER").is_some());
        let d = dissect_reply_to(b"+OK\r\n1 498\r\n", &Command::List(None));
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("not ended yet"))
        );
        assert!(d.check_invariants(true).is_empty());
        let d = dissect_reply(b"OK fine\r\n");
        assert!(d.diagnostics[0].message.contains("+OK or -ERR"));
    }
}
