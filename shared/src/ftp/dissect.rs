//! FTP messages taken apart for the student: command lines
//! ([`dissect_command`]), replies ([`dissect_reply`], one or several, single
//! or multi-line) and LIST output ([`dissect_list`]).
//!
//! Each returns a [`Dissection`] whose leaves cover every byte of a
//! well-formed message, with the code digits explained, the host-port
//! numbers of PORT and 227 shown with their `p1*256+p2` arithmetic, and
//! diagnostics that cite the RFC. [`dissect_command_in`] adds what depends
//! on the session (a command before login, a transfer without a data
//! connection, a PORT to someone else's address): pass the client engine.

use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::{LineEnding, split_lines};
use crate::ftp::address::{
    find_extended_port, find_host_port, parse_extended_address, parse_host_port, part_name,
    protocol_name,
};
use crate::ftp::client::{FtpClient, quoted_path};
use crate::ftp::command::{Arg, command_info, split};
use crate::ftp::list::{ListLine, octal_mode, parse_line, type_name};
use crate::ftp::reply::{
    first_digit_meaning, is_last_line, parse_code, second_digit_meaning, standard_meaning,
    unindent_middle,
};
use crate::text::visible;

const CRLF_HELP: &str = "CR LF ends every command and reply line on the control connection \
     (RFC 959 §4.1, the Telnet end of line).";

fn eol_field(
    bytes: &[u8],
    content: Span,
    ending: Option<LineEnding>,
    d: &mut Dissection,
    what: &str,
) -> Option<Field> {
    match ending {
        Some(LineEnding::CrLf) => Some(
            Field::new(
                "End of line",
                Span::new(content.end, content.end + 2),
                "CR LF (␍␊)",
            )
            .help(CRLF_HELP),
        ),
        Some(LineEnding::BareLf) => {
            let span = Span::new(content.end, content.end + 1);
            d.diagnostics.push(
                Diagnostic::warning(
                    span,
                    format!("this {what} ends with a bare LF; FTP lines end with CR LF, and strict peers wait for the CR"),
                )
                .reference("RFC 959 §4.1"),
            );
            Some(
                Field::new("End of line", span, "LF alone (␊)")
                    .help("A line ended by LF without CR."),
            )
        }
        None => {
            d.diagnostics.push(
                Diagnostic::note(
                    Span::point(content.end.min(bytes.len())),
                    format!("this {what} has no CR LF yet: the peer waits for the end of the line before acting on it"),
                )
                .reference("RFC 959 §4.1"),
            );
            None
        }
    }
}

fn check_ascii(bytes: &[u8], span: Span, d: &mut Dissection, what: &str) {
    let text = span.slice(bytes);
    if let Some(i) = text.iter().position(|b| !b.is_ascii()) {
        let at = span.start + i;
        let shown = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.chars().find(|c| !c.is_ascii()))
            .map(|c| format!(" ({c:?}, U+{:04X})", c as u32))
            .unwrap_or_default();
        d.diagnostics.push(
            Diagnostic::note(
                Span::new(at, at + 1),
                format!(
                    "{what} holds a byte outside 7-bit ASCII{shown}: RFC 959 control lines are \
                     NVT-ASCII; only pathnames may be UTF-8 (RFC 2640). Typographic quotes such as ’ \
                     (printed in the course's \"425 Can’t open data connection\") are not ASCII: \
                     a server sends the plain apostrophe '"
                ),
            )
            .reference("RFC 959 §4.2"),
        );
    }
}

/// Fields for a host-port `h1,h2,h3,h4,p1,p2` found at `offset`.
fn host_port_fields(hp: &crate::ftp::address::HostPort, offset: usize) -> Vec<Field> {
    // Each number's field takes the comma before it, so the fields cover
    // the whole argument.
    let mut n = hp.numbers;
    for (number, previous) in n.iter_mut().skip(1).zip(hp.numbers.iter()) {
        number.span = Span::new(previous.span.end, number.span.end);
    }
    let mut fields: Vec<Field> = Vec::new();
    let mut host = Field::new(
        "Host address",
        Span::new(n[0].span.start + offset, n[3].span.end + offset),
        hp.ip().to_string(),
    )
    .help("h1.h2.h3.h4: the IPv4 address, one byte per number (RFC 959 §4.1.2).");
    for (i, num) in n.iter().enumerate().take(4) {
        host.children.push(
            Field::new(
                part_name(i),
                num.span.shifted(offset),
                num.value.to_string(),
            )
            .help(format!("Byte {} of the IPv4 address.", i + 1)),
        );
    }
    let mut port = Field::new(
        "Port",
        Span::new(n[4].span.start + offset, n[5].span.end + offset),
        format!("{} ({})", hp.port(), hp.port_arithmetic()),
    )
    .help("p1,p2: the TCP port split into two bytes, high byte first: port = p1*256 + p2.");
    port.children.push(
        Field::new("p1", n[4].span.shifted(offset), n[4].value.to_string()).help(format!(
            "The high byte: {} * 256 = {}.",
            n[4].value,
            u32::from(n[4].value) * 256
        )),
    );
    port.children.push(
        Field::new("p2", n[5].span.shifted(offset), n[5].value.to_string())
            .help("The low byte, added to p1*256."),
    );
    fields.push(host);
    fields.push(port);
    fields
}

/// Dissects one or more command lines as a client sends them.
pub fn dissect_command(bytes: &[u8]) -> Dissection {
    let lines = split_lines(bytes);
    let summary = match lines.first() {
        None => "(empty)".to_string(),
        Some((first, _)) => {
            let more = if lines.len() > 1 {
                format!(" (+{} more lines)", lines.len() - 1)
            } else {
                String::new()
            };
            format!("{}{more}", visible(first.slice(bytes)))
        }
    };
    let mut d = Dissection::new(Protocol::Ftp, summary, bytes.len());
    for (content, ending) in lines {
        let field = command_line(bytes, content, ending, &mut d);
        d.fields.push(field);
    }
    d
}

fn command_line(
    bytes: &[u8],
    content: Span,
    ending: Option<LineEnding>,
    d: &mut Dissection,
) -> Field {
    let whole_end = content.end + ending.map_or(0, |e| e.len());
    let mut line = Field::new(
        "Command",
        Span::new(content.start, whole_end),
        visible(content.slice(bytes)),
    );
    let mut at = content.start;
    // Telnet commands (IAC IP, IAC DM) that clients send before ABOR.
    let text = content.slice(bytes);
    let mut telnet_len = 0;
    while telnet_len < text.len()
        && (text[telnet_len] == 0xFF
            || (telnet_len > 0 && text[telnet_len - 1] == 0xFF)
            || text[telnet_len] == 0xF2)
    {
        telnet_len += 1;
    }
    if telnet_len > 0 {
        line.children.push(
            Field::new("Telnet commands", Span::new(at, at + telnet_len), crate::text::hex_spaced(&text[..telnet_len]))
                .help("Telnet IAC sequences (IAC IP = FF F4, interrupt; IAC DM = FF F2, data mark) that RFC 959 §4.1.3 asks a client to send before ABOR, so the server notices the abort during a transfer."),
        );
        at += telnet_len;
    }
    let rest = Span::new(at, content.end);
    let parts = split(rest.slice(bytes));
    let verb_span = Span::new(at, at + parts.verb.len());
    let verb = String::from_utf8_lossy(parts.verb).to_ascii_uppercase();
    let info = command_info(&verb);
    if parts.verb.is_empty() {
        d.diagnostics.push(
            Diagnostic::error(verb_span, "an empty command line: the server answers 500")
                .reference("RFC 959 §5.3"),
        );
    } else {
        let mut verb_field = Field::new("Verb", verb_span, verb.clone());
        match info {
            Some(info) => {
                verb_field = verb_field.help(format!(
                    "{} {} ({})",
                    info.syntax, info.help, info.reference
                ));
                if parts.verb.iter().any(u8::is_ascii_lowercase) {
                    d.diagnostics.push(
                        Diagnostic::note(verb_span, "command verbs are case-insensitive: the server reads this as upper case")
                            .reference("RFC 959 §5.3"),
                    );
                }
            }
            None => {
                let message = if parts.verb.iter().all(u8::is_ascii_alphabetic) {
                    format!(
                        "{verb} is not a command of RFC 959 or of the extensions this lab knows: a server answers 500 or 502"
                    )
                } else {
                    "a command starts with a verb of letters (USER, RETR, ...): a server answers 500".to_string()
                };
                d.diagnostics
                    .push(Diagnostic::error(verb_span, message).reference("RFC 959 §5.3.1"));
            }
        }
        line.children.push(verb_field);
    }
    if let Some(arg) = parts.argument {
        let sp = verb_span.end;
        line.children.push(
            Field::new("Separator", Span::new(sp, sp + 1), "SP")
                .help("One space separates the verb from its argument (RFC 959 §5.3)."),
        );
        let arg_span = Span::new(sp + 1, sp + 1 + arg.len());
        if !arg.is_empty() {
            line.children
                .push(argument_field(bytes, &verb, arg_span, d));
        }
        if let Some(info) = info
            && info.arg == Arg::None
            && !arg.iter().all(|&b| b == b' ')
        {
            d.diagnostics.push(
                Diagnostic::warning(
                    arg_span,
                    format!("{} takes no argument: {}", info.verb, info.syntax),
                )
                .reference(info.reference),
            );
        }
        if arg.first() == Some(&b' ') {
            d.diagnostics.push(
                Diagnostic::warning(Span::new(sp + 1, sp + 2), "two spaces after the verb: the second is part of the argument (a file name starting with a space)")
                    .reference("RFC 959 §5.3"),
            );
        }
    }
    if let Some(info) = info
        && info.arg == Arg::Required
        && parts.argument.is_none_or(<[u8]>::is_empty)
    {
        d.diagnostics.push(
            Diagnostic::error(
                verb_span,
                format!(
                    "{} needs an argument: {}; the server answers 501",
                    info.verb, info.syntax
                ),
            )
            .reference(info.reference),
        );
    }
    check_ascii(bytes, rest, d, "the command line");
    if let Some(eol) = eol_field(bytes, content, ending, d, "command") {
        line.children.push(eol);
    }
    line
}

fn argument_field(bytes: &[u8], verb: &str, span: Span, d: &mut Dissection) -> Field {
    let arg = span.slice(bytes);
    let mut field = Field::new("Argument", span, visible(arg));
    match verb {
        "PORT" => match parse_host_port(arg) {
            Ok(hp) => {
                field.value = format!("{} (host-port h1,h2,h3,h4,p1,p2)", hp.addr());
                field.children = host_port_fields(&hp, span.start);
                field.help = Some("Where the server must connect for the next transfer (active mode).".into());
                if hp.port() < 1024 {
                    d.diagnostics.push(
                        Diagnostic::warning(span, format!("port {} is a privileged port: servers refuse PORT to ports below 1024, a classic of bounce attacks", hp.port()))
                            .reference("RFC 2577 §3"),
                    );
                }
            }
            Err(e) => {
                let at = e.span().shifted(span.start);
                d.diagnostics.push(
                    Diagnostic::error(at, format!("malformed PORT argument: {e}; the server answers 501 (example: PORT 127,0,0,1,158,107 for 127.0.0.1 port 158*256+107 = 40555)"))
                        .reference("RFC 959 §4.1.2"),
                );
            }
        },
        "EPRT" => match parse_extended_address(arg) {
            Ok(e) => {
                field.value = format!("{} (protocol {})", e.addr(), protocol_name(e.protocol.1));
                let off = span.start;
                field.children = vec![
                    Field::new("Delimiter", Span::new(off, off + 1), (e.delimiter as char).to_string())
                        .help("Any printable character, written before, between and after the three fields (RFC 2428 §2)."),
                    Field::new("Network protocol", Span::new(off + 1, e.address.0.start + off), format!("{} ({})", e.protocol.1, protocol_name(e.protocol.1)))
                        .help("1 for IPv4, 2 for IPv6 (the address family numbers of IANA)."),
                    Field::new("Network address", Span::new(e.address.0.start + off, e.port.0.start + off), e.address.1.to_string())
                        .help("The client's address, written as text: IPv6 fits, unlike PORT."),
                    Field::new("TCP port", Span::new(e.port.0.start + off, span.end), e.port.1.to_string())
                        .help("The port in decimal: no p1*256+p2 needed."),
                ];
            }
            Err(e) => {
                d.diagnostics.push(
                    Diagnostic::error(e.span().shifted(span.start), format!("malformed EPRT argument: {e}; the server answers 501"))
                        .reference("RFC 2428 §2"),
                );
            }
        },
        "TYPE" => {
            let text = String::from_utf8_lossy(arg).to_ascii_uppercase();
            match crate::ftp::session::TransferType::parse_argument(&text) {
                Ok(t) => {
                    field.value = t.to_string();
                    field.help = Some("A: text, every line end travels as CR LF; I: binary, every byte as stored (RFC 959 §3.1.1).".into());
                }
                Err(_) => d.diagnostics.push(
                    Diagnostic::error(span, format!("TYPE {text} is not one a server supports today: use A or I; the server answers 504"))
                        .reference("RFC 959 §3.1.1"),
                ),
            }
        }
        "PASS" => {
            field.name = "Password".into();
            field.help = Some("Sent in clear text: anyone who can see the control connection reads it.".into());
            d.diagnostics.push(
                Diagnostic::note(span, "FTP sends the password in clear text; FTPS (RFC 4217) or SFTP protect it")
                    .reference("RFC 2577 §7"),
            );
        }
        "USER" => {
            field.name = "User name".into();
            if arg.eq_ignore_ascii_case(b"anonymous") || arg.eq_ignore_ascii_case(b"ftp") {
                field.help = Some("Anonymous FTP: any password (by custom, an e-mail address) gives read access to public files (RFC 1635).".into());
            }
        }
        "EPSV" => field.help = Some("1 or 2 asks for a protocol; ALL tells the server that only EPSV will follow (RFC 2428 §3).".into()),
        "MODE" | "STRU" | "OPTS" | "HELP" => {}
        _ => {
            field.name = "Pathname".into();
            field.help = Some("A path on the server, relative to the current directory unless it starts with /. FTP does not percent-decode: %2e is three characters.".into());
        }
    }
    field
}

/// [`dissect_command`] plus what depends on the session `client` follows.
pub fn dissect_command_in(bytes: &[u8], client: &FtpClient) -> Dissection {
    let mut d = dissect_command(bytes);
    if let Some((first, ending)) = split_lines(bytes).first() {
        let end = first.end + ending.map_or(0, |e| e.len());
        d.diagnostics.extend(client.diagnose(&bytes[..end]));
    }
    d
}

/// Dissects one or more replies (each single or multi-line).
pub fn dissect_reply(bytes: &[u8]) -> Dissection {
    let lines = split_lines(bytes);
    let mut d = Dissection::new(Protocol::Ftp, String::new(), bytes.len());
    let mut i = 0;
    let mut summaries = Vec::new();
    while i < lines.len() {
        let (first, _) = lines[i];
        let first_text = first.slice(bytes);
        let code = parse_code(first_text);
        let mut count = 1;
        if let Some(code) = code
            && first_text.get(3) == Some(&b'-')
        {
            while i + count < lines.len() {
                let (span, _) = lines[i + count];
                count += 1;
                if is_last_line(span.slice(bytes), code) {
                    break;
                }
            }
        }
        let group = &lines[i..i + count];
        let (field, summary) = reply_field(bytes, group, &mut d);
        summaries.push(summary);
        d.fields.push(field);
        i += count;
    }
    d.summary = match summaries.len() {
        0 => "(empty)".to_string(),
        1 => summaries.remove(0),
        n => format!("{} (+{} more replies)", summaries[0], n - 1),
    };
    d
}

fn code_field(bytes: &[u8], start: usize, code: u16) -> Field {
    let digits = &bytes[start..start + 3];
    let (first_name, first_help) = first_digit_meaning(digits[0]);
    let (second_name, second_help) = second_digit_meaning(digits[1]);
    let value = match standard_meaning(code) {
        Some((meaning, _)) => format!("{code} ({meaning})"),
        None => code.to_string(),
    };
    let help = match standard_meaning(code) {
        Some((meaning, reference)) => format!(
            "{code}: {meaning} ({reference}). The first digit says how it went, the second what it is about, the third refines."
        ),
        None => {
            format!("{code} has no standard meaning; a client reads it by its first two digits.")
        }
    };
    Field::new("Reply code", Span::new(start, start + 3), value)
        .help(help)
        .child(
            Field::new(
                "First digit",
                Span::new(start, start + 1),
                format!("{} = {first_name}", digits[0] as char),
            )
            .help(format!("{first_help} (RFC 959 §4.2.1).")),
        )
        .child(
            Field::new(
                "Second digit",
                Span::new(start + 1, start + 2),
                format!("{} = {second_name}", digits[1] as char),
            )
            .help(format!("{second_help} (RFC 959 §4.2.1).")),
        )
        .child(
            Field::new(
                "Third digit",
                Span::new(start + 2, start + 3),
                (digits[2] as char).to_string(),
            )
            .help(
                "A finer distinction within the group the first two digits name (RFC 959 §4.2.1).",
            ),
        )
}

fn text_field(
    bytes: &[u8],
    span: Span,
    code: Option<u16>,
    first: bool,
    d: &mut Dissection,
) -> Field {
    let text = span.slice(bytes);
    let mut field = Field::new("Text", span, visible(text))
        .help("Free text for people; a client acts on the code only (RFC 959 §4.2).");
    let Some(code) = code.filter(|_| first) else {
        return field;
    };
    match code {
        227 => match find_host_port(text) {
            Some(hp) => {
                let mut pa = Field::new("Passive address", hp.span.shifted(span.start), format!("{} — connect the data connection here", hp.addr()))
                    .help("h1,h2,h3,h4,p1,p2: the address and port where the server now listens for the data connection.");
                pa.children = host_port_fields(&hp, span.start);
                field.children.push(pa);
            }
            None => d.diagnostics.push(
                Diagnostic::error(span, "a 227 reply must carry h1,h2,h3,h4,p1,p2: without it the client cannot open the data connection")
                    .reference("RFC 959 §4.1.2"),
            ),
        },
        229 => match find_extended_port(text) {
            Some((port_span, port)) => field.children.push(
                Field::new("Port", port_span.shifted(span.start), port.to_string())
                    .help("Only the port: the data connection goes to the same host as the control connection (RFC 2428 §3)."),
            ),
            None => d.diagnostics.push(
                Diagnostic::error(span, "a 229 reply carries the port as (|||port|)").reference("RFC 2428 §3"),
            ),
        },
        257 => {
            if let Some(path) = quoted_path(&String::from_utf8_lossy(text)) {
                let start = text.iter().position(|&b| b == b'"').unwrap_or(0);
                let end = closing_quote(text, start).map_or(text.len(), |e| e + 1);
                field.children.push(
                    Field::new("Directory", Span::new(span.start + start, span.start + end), path)
                        .help("The path between double quotes; a quote inside is doubled (RFC 959 Appendix II)."),
                );
            }
        }
        213 if text.len() == 14 && text.iter().all(u8::is_ascii_digit) => {
            let t = String::from_utf8_lossy(text);
            field.children.push(
                Field::new("Modification time", span, format!("{}-{}-{} {}:{}:{} UTC", &t[0..4], &t[4..6], &t[6..8], &t[8..10], &t[10..12], &t[12..14]))
                    .help("YYYYMMDDHHMMSS in UTC, the answer to MDTM (RFC 3659 §3)."),
            );
        }
        213 if !text.is_empty() && text.iter().all(u8::is_ascii_digit) => {
            field.children.push(
                Field::new("Size", span, format!("{} bytes", String::from_utf8_lossy(text)))
                    .help("The size as it would be transferred in the current TYPE, the answer to SIZE (RFC 3659 §4)."),
            );
        }
        _ => {}
    }
    fill_gaps(bytes, &mut field, "Message");
    field
}

/// Adds leaves for the parts of `field` its children do not cover, so a
/// text with a highlighted piece inside still covers every byte.
fn fill_gaps(bytes: &[u8], field: &mut Field, name: &str) {
    if field.children.is_empty() {
        return;
    }
    field.children.sort_by_key(|c| c.span.start);
    let mut gaps = Vec::new();
    let mut at = field.span.start;
    for child in &field.children {
        if child.span.start > at {
            gaps.push(Span::new(at, child.span.start));
        }
        at = at.max(child.span.end);
    }
    if at < field.span.end {
        gaps.push(Span::new(at, field.span.end));
    }
    for gap in gaps {
        field
            .children
            .push(Field::new(name, gap, visible(gap.slice(bytes))));
    }
    field.children.sort_by_key(|c| c.span.start);
}

fn closing_quote(text: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < text.len() {
        if text[i] == b'"' {
            if text.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

fn reply_field(
    bytes: &[u8],
    group: &[(Span, Option<LineEnding>)],
    d: &mut Dissection,
) -> (Field, String) {
    let (first, _) = group[0];
    let (last, last_ending) = group[group.len() - 1];
    let whole = Span::new(first.start, last.end + last_ending.map_or(0, |e| e.len()));
    let first_text = first.slice(bytes);
    let code = parse_code(first_text);
    let multi = code.is_some() && first_text.get(3) == Some(&b'-');
    let summary = {
        let text = visible(first_text);
        if multi && group.len() > 1 {
            format!("{text} (+{} lines)", group.len() - 1)
        } else {
            text
        }
    };
    let mut reply = Field::new(
        if multi { "Multi-line reply" } else { "Reply" },
        whole,
        summary.clone(),
    );
    if code.is_none() {
        let digits_ok = first_text.len() >= 3 && first_text[..3].iter().all(u8::is_ascii_digit);
        let message = if digits_ok {
            "reply codes start with 1 to 5 (RFC 959 §4.2.1); a first digit of 6 is a protected reply of RFC 2228"
        } else {
            "a reply starts with a three-digit code (331, 226, ...)"
        };
        d.diagnostics.push(
            Diagnostic::error(
                Span::new(first.start, (first.start + 3).min(first.end)),
                message,
            )
            .reference("RFC 959 §4.2"),
        );
    } else if let Some(c) = code
        && standard_meaning(c).is_none()
    {
        d.diagnostics.push(
            Diagnostic::note(Span::new(first.start, first.start + 3), format!("{c} is not a code defined by RFC 959 or its extensions; a client reads it by its first digit ({})", first_digit_meaning(first_text[0]).0))
                .reference("RFC 959 §4.2.1"),
        );
    }
    for (index, (content, ending)) in group.iter().enumerate() {
        let text = content.slice(bytes);
        let is_first = index == 0;
        let is_last =
            multi && index == group.len() - 1 && code.is_some_and(|c| is_last_line(text, c));
        let whole_end = content.end + ending.map_or(0, |e| e.len());
        let mut line = Field::new(
            format!("Line {}", index + 1),
            Span::new(content.start, whole_end),
            visible(text),
        );
        let mut text_start = content.start;
        if (is_first || is_last)
            && let Some(c) = code
        {
            line.children.push(code_field(bytes, content.start, c));
            text_start = content.start + 3;
            match text.get(3) {
                Some(b' ') => {
                    line.children.push(Field::new("Separator", Span::new(text_start, text_start + 1), "SP").help(if is_last || !multi {
                        "A space after the code: this is the reply's last line (RFC 959 §4.2)."
                    } else {
                        "A space after the code: a single-line reply (RFC 959 §4.2)."
                    }));
                    text_start += 1;
                }
                Some(b'-') if is_first => {
                    line.children.push(
                        Field::new("Separator", Span::new(text_start, text_start + 1), "- (more lines follow)")
                            .help(format!("A hyphen after the code opens a multi-line reply; it ends with a line starting with {} and a space (RFC 959 §4.2).", c)),
                    );
                    text_start += 1;
                }
                None => {
                    if is_first && !multi {
                        d.diagnostics.push(
                            Diagnostic::note(Span::new(content.start, content.end), "a code without text: RFC 959 asks for a space and text after the code; clients accept it").reference("RFC 959 §4.2"),
                        );
                    }
                }
                Some(_) => {
                    d.diagnostics.push(
                        Diagnostic::error(Span::new(text_start, text_start + 1), "after the code comes a space (last line) or a hyphen (more lines follow)").reference("RFC 959 §4.2"),
                    );
                }
            }
        } else if multi {
            let unindented = unindent_middle(text, code.unwrap_or(0));
            if unindented.len() < text.len() {
                line.children.push(Field::new("Indent", Span::new(content.start, content.start + 1), "SP").help("A space the server added so that this middle line does not read as the last one (RFC 959 §4.2)."));
                text_start += 1;
            }
        }
        let text_span = Span::new(text_start, content.end);
        if !text_span.is_empty() {
            line.children
                .push(text_field(bytes, text_span, code, is_first, d));
        }
        check_ascii(bytes, text_span, d, "the reply text");
        if let Some(eol) = eol_field(bytes, *content, *ending, d, "reply line") {
            line.children.push(eol);
        }
        reply.children.push(line);
    }
    if multi
        && let Some(c) = code
        && !is_last_line(last.slice(bytes), c)
    {
        d.diagnostics.push(
            Diagnostic::error(Span::point(whole.end), format!("the multi-line reply is not finished: its last line starts with {c} and a space; a client keeps waiting for it"))
                .reference("RFC 959 §4.2"),
        );
    }
    (reply, summary)
}

/// Dissects LIST output (a Unix `ls -l` listing), one field per line.
pub fn dissect_list(bytes: &[u8]) -> Dissection {
    let lines = split_lines(bytes);
    let mut d = Dissection::new(Protocol::Ftp, String::new(), bytes.len());
    let (mut dirs, mut files, mut others) = (0, 0, 0);
    let mut bare_lf = None;
    for (content, ending) in &lines {
        let text = content.slice(bytes);
        let whole_end = content.end + ending.map_or(0, |e| e.len());
        let line_span = Span::new(content.start, whole_end);
        let off = content.start;
        let mut field = match parse_line(text) {
            ListLine::Total { blocks } => {
                Field::new("Total", line_span, format!("{} blocks", blocks.text))
                    .help("ls prints the disk blocks the listed files use first; not a file.")
                    .child(Field::new("Label", Span::new(off, off + 5), "total"))
                    .child(Field::new("Blocks", blocks.span.shifted(off), blocks.text))
            }
            ListLine::Entry(e) => {
                match e.type_char {
                    'd' => dirs += 1,
                    '-' => files += 1,
                    _ => others += 1,
                }
                let kind = type_name(e.type_char);
                let shown = match &e.target {
                    Some(t) => format!("{} -> {}", e.name.text, t.text),
                    None if e.is_dir() => format!("{}/", e.name.text),
                    None => e.name.text.clone(),
                };
                let perms = &e.mode.text[1..10.min(e.mode.text.len())];
                let mut mode = Field::new("Mode", e.mode.span.shifted(off), e.mode.text.clone())
                    .help("The file type, then read/write/execute for the owner, the group and everyone else.")
                    .child(Field::new("Type", Span::new(off, off + 1), format!("{} ({kind})", e.type_char)));
                let mut perm = Field::new(
                    "Permissions",
                    Span::new(off + 1, e.mode.span.end + off),
                    match octal_mode(perms) {
                        Some(octal) => format!("{perms} ({octal})"),
                        None => perms.to_string(),
                    },
                );
                for (i, who) in ["Owner", "Group", "Others"].iter().enumerate() {
                    let s = Span::new(off + 1 + i * 3, off + 4 + i * 3);
                    perm.children.push(Field::new(
                        format!("{who} permissions"),
                        s,
                        visible(s.slice(bytes)),
                    ));
                }
                if e.mode.span.end > 10 {
                    perm.children.push(Field::new(
                        "ACL marker",
                        Span::new(off + 10, e.mode.span.end + off),
                        visible(&text[10..e.mode.span.end]),
                    ));
                }
                mode.children.push(perm);
                let mut entry = Field::new(
                    "Entry",
                    line_span,
                    format!("{shown} ({kind}, {} bytes)", e.size.text),
                )
                .child(mode);
                entry.children.push(Field::new("Links", e.links.span.shifted(off), e.links.text.clone()).help("How many names (hard links) the file has; for a directory, 2 plus its subdirectories."));
                if let Some(o) = &e.owner {
                    entry.children.push(
                        Field::new("Owner", o.span.shifted(off), o.text.clone())
                            .help("The user who owns the file on the server."),
                    );
                }
                if let Some(g) = &e.group {
                    entry.children.push(
                        Field::new("Group", g.span.shifted(off), g.text.clone())
                            .help("The group that owns the file."),
                    );
                }
                entry.children.push(
                    Field::new(
                        "Size",
                        e.size.span.shifted(off),
                        format!("{} bytes", e.size.text),
                    )
                    .help("The size in bytes (for a directory, what it takes on disk)."),
                );
                entry.children.push(Field::new("Modified", e.date.span.shifted(off), e.date.text.clone()).help("Month, day, then the time for files changed in the last six months or the year for older ones (local time of the server)."));
                entry.children.push(
                    Field::new("Name", e.name.span.shifted(off), e.name.text.clone())
                        .help("The rest of the line: names may contain spaces."),
                );
                if let Some(t) = &e.target {
                    entry.children.push(
                        Field::new("Link target", t.span.shifted(off), t.text.clone())
                            .help("Where the symbolic link points, after \" -> \"."),
                    );
                }
                entry
            }
            ListLine::Unparsed => {
                if !text.is_empty() {
                    d.diagnostics.push(
                        Diagnostic::note(*content, "not a Unix ls -l line: LIST output has no standard format (it is meant for people); MLSD of RFC 3659 is the machine-readable listing")
                            .reference("RFC 959 §4.1.3"),
                    );
                }
                let mut f = Field::new("Line", line_span, visible(text));
                if !text.is_empty() {
                    f.children.push(Field::new("Text", *content, visible(text)));
                }
                f
            }
        };
        match ending {
            Some(LineEnding::CrLf) => field.children.push(Field::new("End of line", Span::new(content.end, whole_end), "CR LF (␍␊)").help("A listing travels in ASCII type, so every line ends with CR LF.")),
            Some(LineEnding::BareLf) => {
                bare_lf.get_or_insert(Span::new(content.end, whole_end));
                field.children.push(Field::new("End of line", Span::new(content.end, whole_end), "LF alone (␊)"));
            }
            None => d.diagnostics.push(Diagnostic::note(Span::point(content.end), "the last line has no line ending: the listing was cut, or the data connection closed early").reference("RFC 959 §4.1.3")),
        }
        d.fields.push(field);
    }
    if let Some(span) = bare_lf {
        d.diagnostics.push(
            Diagnostic::warning(span, "lines end with a bare LF: a listing travels in ASCII type, where line ends are CR LF (this server sent it as binary, or the transfer converted it)")
                .reference("RFC 959 §3.1.1.1"),
        );
    }
    d.summary = if lines.is_empty() {
        "(empty listing)".to_string()
    } else {
        let mut parts = vec![format!("{dirs} directories"), format!("{files} files")];
        if others > 0 {
            parts.push(format!("{others} other entries"));
        }
        format!("Listing: {}", parts.join(", "))
    };
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;

    #[test]
    fn port_command_shows_the_arithmetic() {
        let d = dissect_command(b"PORT 127,0,0,1,158,107\r\n");
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        let port = d.find("Port").unwrap();
        assert_eq!(port.value, "40555 (158*256+107 = 40555)");
        assert_eq!(port.span, Span::new(14, 22));
        assert_eq!(d.find("p1").unwrap().span, Span::new(14, 18));
        assert_eq!(d.find("Host address").unwrap().value, "127.0.0.1");
    }

    #[test]
    fn malformed_port_and_missing_arguments_are_errors() {
        let d = dissect_command(b"PORT 127,0,0,1,300,1\r\n");
        assert_eq!(d.worst(), Some(Severity::Error));
        assert_eq!(d.diagnostics[0].span, Span::new(15, 18));
        let d = dissect_command(b"RETR\r\n");
        assert!(d.diagnostics[0].message.contains("needs an argument"));
        let d = dissect_command(b"retr x\n");
        assert_eq!(d.diagnostics.len(), 2, "{:?}", d.diagnostics);
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn reply_digits_are_explained() {
        let d = dissect_reply(b"331 Username OK, password required\r\n");
        assert_eq!(d.summary, "331 Username OK, password required");
        assert!(d.check_invariants(true).is_empty());
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert_eq!(
            d.find("First digit").unwrap().value,
            "3 = Positive Intermediate"
        );
        assert_eq!(
            d.find("Second digit").unwrap().value,
            "3 = Authentication and accounting"
        );
    }

    #[test]
    fn pasv_reply_gives_the_address() {
        let d = dissect_reply(b"227 Entering Passive Mode (127,0,0,1,82,9)\r\n");
        assert!(d.check_invariants(true).is_empty());
        let port = d.find("Port").unwrap();
        assert_eq!(port.value, "21001 (82*256+9 = 21001)");
        let d = dissect_reply(b"229 Entering Extended Passive Mode (|||21001|)\r\n");
        assert_eq!(d.find("Port").unwrap().value, "21001");
        let d = dissect_reply(b"257 \"/a \"\"b\"\"\" is the current directory\r\n");
        assert_eq!(d.find("Directory").unwrap().value, "/a \"b\"");
    }

    #[test]
    fn multi_line_replies_and_unfinished_ones() {
        let d = dissect_reply(b"211-Features:\r\n EPSV\r\n211 End\r\n");
        assert!(d.check_invariants(true).is_empty());
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].children.len(), 3);
        let d = dissect_reply(b"211-Features:\r\n EPSV\r\n");
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("not finished"))
        );
        let d = dissect_reply(b"150 Opening\r\n226 Done\r\n");
        assert_eq!(d.fields.len(), 2);
        assert_eq!(d.summary, "150 Opening (+1 more replies)");
    }

    #[test]
    fn the_course_apostrophe_is_noted() {
        let d = dissect_reply("425 Can’t open data connection\r\n".as_bytes());
        assert_eq!(d.diagnostics.len(), 1);
        assert!(
            d.diagnostics[0].message.contains("U+2019"),
            "{}",
            d.diagnostics[0].message
        );
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn listings_are_split_into_columns() {
        let listing = b"drwxr-xr-x    2 ftp      ftp             0 Nov 14 22:13 pub\r\n-rw-r--r--    1 ftp      ftp           256 Nov 14 22:13 bytes.bin\r\n";
        let d = dissect_list(listing);
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(d.summary, "Listing: 1 directories, 1 files");
        assert!(d.diagnostics.is_empty());
        assert_eq!(d.find("Name").unwrap().value, "pub");
        assert_eq!(d.find("Permissions").unwrap().value, "rwxr-xr-x (755)");
        let d = dissect_list(b"hello\nworld\n");
        assert_eq!(d.diagnostics.len(), 3);
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn well_formed_replies_are_fully_covered(
            code in 100u16..600,
            lines in proptest::collection::vec("[ -~]{0,30}", 1..4),
        ) {
            let bytes = crate::ftp::reply::Reply { code, lines }.to_bytes();
            let d = dissect_reply(&bytes);
            prop_assert!(d.check_invariants(true).is_empty(), "{:?}", d.check_invariants(true));
            prop_assert_eq!(d.fields.len(), 1);
        }

        #[test]
        fn well_formed_commands_are_fully_covered(
            verb in proptest::sample::select(crate::ftp::command::COMMANDS.iter().map(|c| c.verb).collect::<Vec<_>>()),
            arg in proptest::option::of("[!-~][ -~]{0,20}"),
        ) {
            let line = match arg {
                Some(a) => format!("{verb} {a}\r\n"),
                None => format!("{verb}\r\n"),
            };
            let d = dissect_command(line.as_bytes());
            prop_assert!(d.check_invariants(true).is_empty(), "{:?}", d.check_invariants(true));
        }

        #[test]
        fn formatted_listings_are_fully_covered_and_read_back(
            entries in proptest::collection::vec(("[a-zA-Z0-9._ -]{1,20}", any::<bool>(), 0u64..1u64 << 40, 0u64..4_000_000_000), 0..8),
            now in proptest::option::of(0u64..4_000_000_000),
        ) {
            let entries: Vec<crate::ftp::fs::DirEntry> = entries
                .into_iter()
                .filter(|(name, _, _, _)| !name.starts_with(' '))
                .map(|(name, dir, size, modified)| crate::ftp::fs::DirEntry {
                    name,
                    meta: crate::ftp::fs::Metadata {
                        kind: if dir { crate::ftp::fs::FileKind::Directory } else { crate::ftp::fs::FileKind::File },
                        size,
                        modified,
                    },
                })
                .collect();
            let bytes = crate::ftp::list::format_listing(&entries, now);
            let d = dissect_list(&bytes);
            prop_assert!(d.check_invariants(true).is_empty(), "{:?}", d.check_invariants(true));
            prop_assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
            let names: Vec<_> = d.walk().filter(|f| f.name == "Name").map(|f| f.value.clone()).collect();
            let expected: Vec<_> = entries.iter().map(|e| e.name.clone()).collect();
            prop_assert_eq!(names, expected);
        }
    }
}
