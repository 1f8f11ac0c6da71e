//! SMTP dissectors: one command line, one reply (single or multi-line), and
//! the DATA text with the message inside it, over the exact bytes sent.
//!
//! These dissect a message on its own (the `smtp-command` and `smtp-reply`
//! kinds); [`super::transcript::SmtpTranscript`] calls them and adds what
//! only the session knows (a command out of sequence, the envelope next to
//! the header, 8-bit data without 8BITMIME).

use super::command::{Command, CommandError, parse_line};
use super::frame::{MAX_COMMAND_LINE, MAX_REPLY_LINE};
use super::reply::{Reply, code_meaning, digits_meaning, enhanced_meaning, parse_enhanced};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::{LineEnding, first_line, split_lines};
use crate::mail::address::check_address;
use crate::mail::cover::cover;
use crate::mail::{Envelope, dissect_with_envelope};
use crate::stuffing::{OffsetMap, find_end, remap_fields, unstuff};
use crate::text::visible;

fn verb_help(verb: &str) -> &'static str {
    match verb {
        "HELO" => "HELO domain: the client introduces itself (RFC 5321 §4.1.1.1).",
        "EHLO" => {
            "EHLO domain: like HELO, and asks the server to list its extensions (RFC 5321 §4.1.1.1)."
        }
        "MAIL" => {
            "MAIL FROM:<reverse-path>: starts a mail transaction and gives the envelope sender, where bounces go (RFC 5321 §4.1.1.2)."
        }
        "RCPT" => {
            "RCPT TO:<forward-path>: one envelope recipient; repeat for more (RFC 5321 §4.1.1.3)."
        }
        "DATA" => {
            "DATA: the message follows, ended by a line with a single '.' (RFC 5321 §4.1.1.4)."
        }
        "RSET" => "RSET: aborts the current mail transaction (RFC 5321 §4.1.1.5).",
        "VRFY" => "VRFY: asks whether a user or mailbox exists (RFC 5321 §4.1.1.6).",
        "EXPN" => "EXPN: asks for the members of a mailing list (RFC 5321 §4.1.1.7).",
        "HELP" => "HELP: asks for help (RFC 5321 §4.1.1.8).",
        "NOOP" => "NOOP: does nothing; the server answers 250 (RFC 5321 §4.1.1.9).",
        "QUIT" => "QUIT: the server answers 221 and closes the connection (RFC 5321 §4.1.1.10).",
        _ => "Not a command of RFC 5321.",
    }
}

fn param_help(keyword: &str) -> &'static str {
    match keyword {
        "SIZE" => {
            "SIZE=n: the message size announced in advance, so the server can refuse it early (RFC 1870)."
        }
        "BODY" => "BODY=8BITMIME or 7BIT: whether the message contains 8-bit bytes (RFC 6152).",
        "SMTPUTF8" => "SMTPUTF8: addresses and headers in UTF-8 (RFC 6531).",
        "RET" | "ENVID" | "NOTIFY" | "ORCPT" => {
            "A delivery status notification parameter (RFC 3461)."
        }
        "AUTH" => "AUTH=<mailbox>: the authenticated submitter (RFC 4954).",
        _ => "An extension parameter; a server that does not know it answers 555.",
    }
}

fn ending_field(
    bytes: &[u8],
    span: Span,
    ending: Option<LineEnding>,
    d: &mut Dissection,
) -> Option<Field> {
    match ending {
        Some(LineEnding::CrLf) => Some(
            Field::new("End of line", span, "CR LF (␍␊)")
                .help("CR LF ends every command and reply line (RFC 5321 §2.3.8)."),
        ),
        Some(LineEnding::BareLf) => {
            d.diagnostics.push(
                Diagnostic::warning(
                    span,
                    "the line ends with a bare LF; SMTP lines end with CR LF, and servers treat a \
                     bare LF differently (some refuse it)",
                )
                .reference("RFC 5321 §2.3.8"),
            );
            Some(Field::new("End of line", span, "LF alone (␊)"))
        }
        None => {
            let _ = bytes;
            d.diagnostics.push(
                Diagnostic::note(
                    Span::point(span.start),
                    "no CR LF yet: the server waits for the end of the line before it acts",
                )
                .reference("RFC 5321 §2.3.8"),
            );
            None
        }
    }
}

fn trailing(bytes: &[u8], line_end: usize, d: &mut Dissection, what: &str) {
    let count = bytes.len().saturating_sub(line_end);
    d.following_bytes(
        bytes,
        line_end,
        format!("{count} more bytes follow this {what}; each {what} is dissected on its own"),
    );
}

/// Dissects one command line (the `smtp-command` kind).
pub fn dissect_command(bytes: &[u8]) -> Dissection {
    let (content, line_end, ending) = first_line(bytes);
    let line = content.slice(bytes);
    let parsed = parse_line(line);
    let verb = String::from_utf8_lossy(parsed.syntax.verb.slice(line)).to_ascii_uppercase();
    let summary = if line.is_empty() {
        "(empty line)".to_string()
    } else {
        visible(line)
    };
    let mut d = Dissection::new(Protocol::Smtp, summary, bytes.len());
    if bytes.is_empty() {
        return d;
    }
    let mut children = Vec::new();
    if !parsed.syntax.verb.is_empty() {
        children.push(Field::new("Verb", parsed.syntax.verb, verb.clone()).help(verb_help(&verb)));
    }
    if let Some(path) = &parsed.syntax.path {
        let kw = visible(path.keyword.slice(line));
        children.push(Field::new("Keyword", path.keyword, kw).help(
            "FROM: or TO:, written right after the verb and its space, with no space before the path.",
        ));
        let address = String::from_utf8_lossy(path.address.slice(line)).into_owned();
        let mut path_children = Vec::new();
        if !path.address.is_empty() {
            let mut addr_children = Vec::new();
            // Split only text that decoded as it was sent: in a lossy
            // decoding, lengths are no longer byte offsets.
            let exact = std::str::from_utf8(path.address.slice(line)).is_ok();
            if let (true, Ok((local, domain))) = (exact, check_address(&address)) {
                let at = path.address.start + local.len();
                addr_children.push(
                    Field::new("Local part", Span::new(path.address.start, at), local)
                        .help("The mailbox at the destination; only that server interprets it."),
                );
                addr_children.push(Field::new("At sign", Span::new(at, at + 1), "@"));
                addr_children.push(
                    Field::new("Domain", Span::new(at + 1, path.address.end), domain)
                        .help("Where the mail goes: its MX records name the receiving servers."),
                );
            }
            path_children.push(
                Field::new("Address", path.address, address.clone()).with_children(addr_children),
            );
        }
        let path_value = if address.is_empty() {
            "<> (null sender)".into()
        } else {
            address
        };
        children.push(
            Field::new("Path", path.path, path_value)
                .help(if verb == "MAIL" {
                    "The reverse-path: the envelope sender, where non-delivery reports go. <> is the null sender of bounces."
                } else {
                    "The forward-path: one envelope recipient."
                })
                .with_children(cover(line, path.path, path_children)),
        );
    }
    for p in &parsed.syntax.params {
        let text = String::from_utf8_lossy(p.slice(line)).into_owned();
        let keyword = text
            .split('=')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        children
            .push(Field::new(format!("Parameter: {keyword}"), *p, text).help(param_help(&keyword)));
    }
    if let Some(arg) = parsed.syntax.argument {
        let help = match verb.as_str() {
            "HELO" | "EHLO" => {
                "The client's own domain name (or an address literal such as [192.0.2.1])."
            }
            _ => "The command's argument.",
        };
        children.push(Field::new("Argument", arg, visible(arg.slice(line))).help(help));
    }
    let mut children = cover(line, Span::new(0, line.len()), children);
    d.diagnostics.extend(parsed.syntax.notes.iter().cloned());
    match &parsed.command {
        Ok(_) => {}
        Err(e) => {
            let meaning = match e {
                CommandError::Unrecognized { .. } => "a server answers 500 (command unrecognized)",
                CommandError::NotImplemented { .. } => {
                    "a server that lacks it answers 502 (command not implemented)"
                }
                CommandError::Syntax { .. } => {
                    "a server answers 501 (syntax error in parameters or arguments)"
                }
            };
            d.diagnostics.push(
                Diagnostic::error(e.span(), format!("{e}: {meaning}"))
                    .reference("RFC 5321 §4.1, §4.2.3"),
            );
        }
    }
    if line.len() > MAX_COMMAND_LINE {
        d.diagnostics.push(
            Diagnostic::error(
                content,
                format!(
                    "the command line is {} octets long; RFC 5321 allows 512 with the CR LF",
                    line.len() + 2
                ),
            )
            .reference("RFC 5321 §4.5.3.1.4"),
        );
    }
    if let Some(i) = line.iter().position(|&b| b >= 0x80) {
        d.diagnostics.push(
            Diagnostic::warning(
                Span::new(i, i + 1),
                "commands are ASCII; non-ASCII addresses need the SMTPUTF8 extension",
            )
            .reference("RFC 5321 §2.4, RFC 6531"),
        );
    }
    let eol_span = Span::new(content.end, line_end);
    if let Some(eol) = ending_field(bytes, eol_span, ending, &mut d) {
        children.push(eol);
    }
    d.fields.push(
        Field::new(
            format!(
                "Command: {}",
                if verb.is_empty() { "(none)" } else { &verb }
            ),
            Span::new(0, line_end),
            visible(line),
        )
        .help(verb_help(&verb))
        .with_children(children),
    );
    trailing(bytes, line_end, &mut d, "command");
    d
}

/// Known EHLO keywords (RFC 5321 §4.1.1.1 and the extension RFCs).
fn extension_help(keyword: &str) -> Option<&'static str> {
    Some(match keyword {
        "SIZE" => "SIZE n: the largest message the server accepts, in octets (RFC 1870).",
        "8BITMIME" => {
            "8BITMIME: the server accepts 8-bit message bodies with MAIL FROM:<...> BODY=8BITMIME (RFC 6152)."
        }
        "PIPELINING" => {
            "PIPELINING: the client may send several commands without waiting for each reply (RFC 2920)."
        }
        "ENHANCEDSTATUSCODES" => {
            "ENHANCEDSTATUSCODES: replies carry codes such as 2.1.0 after the reply code (RFC 2034, RFC 3463)."
        }
        "HELP" => "HELP: the server answers the HELP command.",
        "STARTTLS" => "STARTTLS: the connection can be switched to TLS (RFC 3207).",
        "AUTH" => "AUTH: the client can log in, with the listed mechanisms (RFC 4954).",
        "SMTPUTF8" => "SMTPUTF8: UTF-8 addresses and headers (RFC 6531).",
        "DSN" => "DSN: delivery status notifications (RFC 3461).",
        "CHUNKING" => "CHUNKING: the BDAT command (RFC 3030).",
        _ => return None,
    })
}

/// Dissects one reply (the `smtp-reply` kind).
pub fn dissect_reply(bytes: &[u8]) -> Dissection {
    dissect_reply_to(bytes, None)
}

/// Dissects one reply, knowing the command it answers (if any).
pub fn dissect_reply_to(bytes: &[u8], command: Option<&Command>) -> Dissection {
    let lines = split_lines(bytes);
    let first_text = lines
        .first()
        .map(|(c, _)| visible(c.slice(bytes)))
        .unwrap_or_default();
    let summary = match lines.len() {
        0 => "(empty)".to_string(),
        1 => first_text,
        n => format!("{first_text} (+{} more lines)", n - 1),
    };
    let mut d = Dissection::new(Protocol::Smtp, summary, bytes.len());
    let after_ehlo = matches!(command, Some(Command::Ehlo(_)));
    let mut consumed = 0;
    let mut finished = false;
    for (i, (content, ending)) in lines.iter().enumerate() {
        if finished {
            break;
        }
        let line = content.slice(bytes);
        let line_end = content.end + ending.map_or(0, |e| e.len());
        consumed = line_end;
        let mut children = Vec::new();
        let has_code = line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit);
        let mut text_start = content.start;
        if has_code {
            let code: u16 = std::str::from_utf8(&line[..3])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let code_span = Span::new(content.start, content.start + 3);
            children.push(
                Field::new("Code", code_span, format!("{code}: {}", code_meaning(code)))
                    .help(format!("{} (RFC 5321 §4.2.1).", digits_meaning(code))),
            );
            if !(200..600).contains(&code) {
                d.diagnostics.push(
                    Diagnostic::error(
                        code_span,
                        format!("{code} is not a valid reply code (200 to 599)"),
                    )
                    .reference("RFC 5321 §4.2"),
                );
            }
            text_start = content.start + 3;
            match line.get(3) {
                Some(b'-') => {
                    children.push(Field::new("Separator", Span::new(text_start, text_start + 1), "- (more lines follow)").help(
                        "A hyphen after the code: this reply continues on the next line (RFC 5321 §4.2.1).",
                    ));
                    text_start += 1;
                    if i + 1 == lines.len() {
                        d.diagnostics.push(
                            Diagnostic::note(Span::point(bytes.len()), "the reply is not finished: its last line will have a space after the code")
                                .reference("RFC 5321 §4.2.1"),
                        );
                    }
                }
                Some(b' ') => {
                    children.push(Field::new("Separator", Span::new(text_start, text_start + 1), "space (last line)").help(
                        "A space after the code: this is the last line of the reply (RFC 5321 §4.2.1).",
                    ));
                    text_start += 1;
                    finished = true;
                }
                None => finished = true,
                Some(_) => {
                    d.diagnostics.push(
                        Diagnostic::error(
                            Span::new(text_start, text_start + 1),
                            "the code must be followed by a space or a hyphen",
                        )
                        .reference("RFC 5321 §4.2"),
                    );
                    finished = true;
                }
            }
            if let Some(first) = lines.first().map(|(c, _)| c.slice(bytes))
                && i > 0
                && first.get(..3) != line.get(..3)
            {
                d.diagnostics.push(
                    Diagnostic::error(
                        code_span,
                        "every line of a multi-line reply must carry the same code",
                    )
                    .reference("RFC 5321 §4.2.1"),
                );
            }
        } else {
            d.diagnostics.push(
                Diagnostic::error(
                    Span::new(content.start, content.start + line.len().min(3)),
                    "a reply line starts with a three-digit code",
                )
                .reference("RFC 5321 §4.2"),
            );
            finished = true;
        }
        let text_span = Span::new(text_start, content.end);
        let text = String::from_utf8_lossy(text_span.slice(bytes)).into_owned();
        if !text_span.is_empty() {
            let mut text_field_children = Vec::new();
            if let Some((enhanced, len)) = parse_enhanced(&text) {
                let es = Span::new(text_start, text_start + len);
                text_field_children.push(Field::new("Enhanced status code", es, enhanced_meaning(enhanced)).help(
                    "class.subject.detail: a machine-readable refinement of the reply code (RFC 3463).",
                ));
            }
            let keyword = text
                .split(' ')
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            let is_extension = i > 0 && (after_ehlo || extension_help(&keyword).is_some());
            let (name, help) = if is_extension {
                (
                    format!("Extension: {keyword}"),
                    extension_help(&keyword).unwrap_or(
                        "An extension the server supports, listed after EHLO (RFC 5321 §4.1.1.1).",
                    ),
                )
            } else {
                (
                    "Text".to_string(),
                    "Human-readable text; clients act on the code, not on the text (RFC 5321 §4.2).",
                )
            };
            let mut f = Field::new(name, text_span, text.clone()).help(help);
            if !text_field_children.is_empty() {
                f = f.with_children(cover(bytes, text_span, text_field_children));
            }
            children.push(f);
        }
        if line.len() > MAX_REPLY_LINE {
            d.diagnostics.push(
                Diagnostic::warning(
                    *content,
                    "a reply line is at most 512 octets with its CR LF",
                )
                .reference("RFC 5321 §4.5.3.1.5"),
            );
        }
        if let Some(eol) = ending_field(bytes, Span::new(content.end, line_end), *ending, &mut d) {
            children.push(eol);
        }
        let name = if lines.len() > 1 {
            format!("Reply line {}", i + 1)
        } else {
            "Reply line".to_string()
        };
        d.fields.push(
            Field::new(name, Span::new(content.start, line_end), visible(line))
                .with_children(children),
        );
    }
    if let Ok(reply) = Reply::parse(&bytes[..consumed])
        && let Some(cmd) = command
    {
        d.diagnostics.push(Diagnostic::note(
            Span::new(0, 3.min(bytes.len())),
            reply_context(cmd, &reply),
        ));
    }
    trailing(bytes, consumed, &mut d, "reply");
    d
}

/// What a reply means for the command it answers, in a sentence.
pub fn reply_context(command: &Command, reply: &Reply) -> String {
    let ok = reply.is_positive();
    let verb = command.verb();
    match (command, reply.code) {
        (Command::Rcpt { forward_path, .. }, _) if ok => {
            format!("answers RCPT TO:<{forward_path}>: this recipient is accepted")
        }
        (Command::Rcpt { forward_path, .. }, 550 | 551 | 553) => format!(
            "answers RCPT TO:<{forward_path}>: this recipient is refused; the transaction goes on with the recipients accepted so far"
        ),
        (Command::Mail { reverse_path, .. }, _) if ok => {
            format!("answers MAIL FROM:<{reverse_path}>: the transaction is open, give recipients")
        }
        (Command::Data, 354) => {
            "answers DATA: send the message now, then a line with a single '.'".into()
        }
        (Command::Quit, 221) => "answers QUIT: the server closes the connection".into(),
        (_, 503) => format!("answers {verb}: bad sequence, the command came at the wrong time"),
        (_, c) if c >= 500 => format!("answers {verb}: refused for good; do not repeat it as is"),
        (_, c) if c >= 400 => {
            format!("answers {verb}: refused for now; a client tries again later")
        }
        _ => format!("answers {verb}"),
    }
}

/// Dissects the DATA text as sent (dot-stuffed, with its `.` line): the
/// message inside, with the envelope next to it when known. `eight_bit_ok`
/// says whether MAIL FROM declared BODY=8BITMIME.
pub fn dissect_data(wire: &[u8], envelope: Option<&Envelope>, eight_bit_ok: bool) -> Dissection {
    let end = find_end(wire);
    let content_end = end.map_or(wire.len(), |e| e.content_end);
    let (message, removed) = unstuff(&wire[..content_end]);
    let mail = dissect_with_envelope(&message, envelope);
    let map = OffsetMap { removed, base: 0 };
    let (fields, diagnostics) = remap_fields(mail.fields, mail.diagnostics, &map, wire);
    let mut d = Dissection::new(
        Protocol::Smtp,
        format!("Message data: {}", mail.summary),
        wire.len(),
    );
    d.diagnostics = diagnostics;
    let n_dots = map.removed.len();
    let mut message_field = Field::new(
        "Message",
        Span::new(0, content_end),
        format!("{} bytes as stored{}", message.len(), if n_dots > 0 { format!(", {n_dots} stuffed dot(s) removed") } else { String::new() }),
    )
    .help("The message: header fields, an empty line, the body (RFC 5322). The server stores it as is, adding only trace fields on top.")
    .with_children(fields);
    if message_field.children.is_empty() && content_end > 0 {
        message_field = message_field.child(Field::new(
            "Text",
            Span::new(0, content_end),
            visible(&wire[..content_end]),
        ));
    }
    if content_end > 0 {
        d.fields.push(message_field);
    }
    match end {
        Some(e) => {
            d.fields.push(
                Field::new("End of data", Span::new(e.content_end, e.len), ".␍␊").help(
                    "A line with a single dot: with the CR LF before it, CR LF . CR LF ends the \
                     message (RFC 5321 §4.1.1.4). A text line starting with a dot is sent with an \
                     extra dot (dot-stuffing).",
                ),
            );
            if e.len < wire.len() {
                trailing(wire, e.len, &mut d, "message");
            }
        }
        None => d.diagnostics.push(
            Diagnostic::note(
                Span::point(wire.len()),
                "the end of the data has not been sent yet: a line with a single '.' ends the message",
            )
            .reference("RFC 5321 §4.1.1.4"),
        ),
    }
    if !eight_bit_ok && let Some(i) = message.iter().position(|&b| b >= 0x80) {
        let at = map.start(i);
        d.diagnostics.push(
            Diagnostic::warning(
                Span::new(at, at + 1),
                "8-bit data, but MAIL FROM did not declare BODY=8BITMIME: SMTP carries 7-bit \
                 ASCII unless both sides agree on 8BITMIME (this server accepts it anyway)",
            )
            .reference("RFC 5321 §2.4, RFC 6152"),
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;

    #[test]
    fn the_course_mail_from_is_dissected_with_its_space() {
        let d = dissect_command(b"MAIL FROM: <alice@crepes.fr>\r\n");
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(d.summary, "MAIL FROM: <alice@crepes.fr>");
        assert_eq!(d.find("Verb").unwrap().value, "MAIL");
        assert_eq!(d.find("Path").unwrap().value, "alice@crepes.fr");
        assert_eq!(d.find("Domain").unwrap().value, "crepes.fr");
        assert_eq!(d.diagnostics.len(), 1);
        assert_eq!(d.diagnostics[0].severity, Severity::Warning);
    }

    #[test]
    fn errors_and_partial_lines() {
        let d = dissect_command(b"HELLO crepes.fr\r\n");
        assert!(d.diagnostics[0].message.contains("500"));
        let d = dissect_command(b"RCPT TO:<bob@hamburger.edu>");
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("no CR LF yet"))
        );
        assert!(d.check_invariants(true).is_empty());
        let d = dissect_command(b"QUIT\nNOOP\r\n");
        assert_eq!(d.diagnostics.len(), 2);
        assert!(d.check_invariants(true).is_empty());
        let d = dissect_command(b"");
        assert!(d.fields.is_empty());
    }

    #[test]
    fn ehlo_replies_list_extensions() {
        let bytes = b"250-hamburger.edu Hello crepes.fr\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";
        let d = dissect_reply_to(bytes, Some(&Command::Ehlo("crepes.fr".into())));
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert!(d.find("Extension: 8BITMIME").is_some());
        assert_eq!(
            d.summary,
            "250-hamburger.edu Hello crepes.fr (+3 more lines)"
        );
        let d = dissect_reply(b"550 5.1.1 No such user here\r\n");
        assert!(
            d.find("Enhanced status code")
                .unwrap()
                .value
                .starts_with("5.1.1")
        );
        assert!(d.check_invariants(true).is_empty());
        let d = dissect_reply(b"250-unfinished\r\n");
        assert!(d.diagnostics[0].message.contains("not finished"));
        let d = dissect_reply(b"hello\r\n");
        assert_eq!(d.diagnostics[0].severity, Severity::Error);
    }

    #[test]
    fn data_with_stuffing_and_envelope() {
        let wire = b"From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\n\r\n..a dot line\r\nDo you like ketchup?\r\n.\r\n";
        let env = Envelope {
            mail_from: Some("alice@crepes.fr".into()),
            rcpt_to: vec!["bob@hamburger.edu".into()],
        };
        let d = dissect_data(wire, Some(&env), false);
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}\n{:#?}",
            d.check_invariants(true),
            d.fields
        );
        assert_eq!(d.find("Dot-stuffing").unwrap().span, Span::new(48, 49));
        assert_eq!(
            d.find("End of data").unwrap().span,
            Span::new(wire.len() - 3, wire.len())
        );
        assert!(d.find("Envelope vs header").is_some());
        assert_eq!(
            d.find("Body").unwrap().value,
            ".a dot line\r\nDo you like ketchup?\r\n"
        );
        let d = dissect_data("caf\u{e9}\r\n.\r\n".as_bytes(), None, false);
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("BODY=8BITMIME"))
        );
        let d = dissect_data(b"partial", None, true);
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("not been sent yet"))
        );
        assert!(d.check_invariants(true).is_empty());
    }
}
