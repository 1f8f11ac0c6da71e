//! DNS message → [`Dissection`], down to the bit: every header flag its own
//! field with its bit positions, every name its labels and where each
//! compression pointer jumps, every record its TYPE, CLASS, TTL, RDLENGTH
//! and decoded RDATA.
//!
//! The reader is lenient: it shows what it could read and explains the rest
//! with diagnostics (pointer loops and forward pointers, labels over 63
//! bytes, names over 255, counts that do not match the records, truncated
//! messages, RDLENGTH that does not fit the type, TC set). [`dissect_reply`]
//! adds what only a query-reply pair shows: an ID or question that does not
//! match.

use super::header::{FLAG_BITS, HEADER_LEN, Header};
use super::message::{Message, Question};
use super::name::{NamePart, decode_name, label_text};
use super::rdata::{EdnsOption, RData, generic_text, quoted};
use super::reply::{ReplyKind, classify};
use super::types::{Class, Rcode, RecordType};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::text::hex_spaced;

/// Over UDP, a message without EDNS is at most 512 bytes (RFC 1035 §4.2.1).
pub const CLASSIC_UDP_LIMIT: usize = 512;

/// How the message travelled, for the checks that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    /// Inside a TCP stream (the dissection is of the message alone).
    Tcp,
}

/// Dissects one DNS message as received in a UDP datagram.
pub fn dissect(bytes: &[u8]) -> Dissection {
    dissect_message(bytes, Transport::Udp)
}

/// Dissects a TCP stream: each message with its two-byte length prefix.
pub fn dissect_tcp(bytes: &[u8]) -> Dissection {
    let mut d = Dissection::new(Protocol::Dns, String::new(), bytes.len());
    let mut pos = 0;
    let mut summaries = Vec::new();
    let mut index = 0;
    while pos < bytes.len() {
        index += 1;
        if bytes.len() - pos < 2 {
            d.fields.push(Field::new(
                "Length prefix (incomplete)",
                Span::new(pos, bytes.len()),
                hex_spaced(&bytes[pos..]),
            ));
            d.diagnostics.push(
                Diagnostic::error(
                    Span::new(pos, bytes.len()),
                    "the stream ends inside a two-byte length prefix",
                )
                .reference("RFC 1035 §4.2.2"),
            );
            break;
        }
        let len = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]) as usize;
        let body_start = pos + 2;
        let body_end = (body_start + len).min(bytes.len());
        let inner = dissect_message(&bytes[body_start..body_end], Transport::Tcp);
        let mut field = Field::new(
            format!("DNS message {index} over TCP"),
            Span::new(pos, body_end),
            inner.summary.clone(),
        );
        field.children.push(
            Field::new("Length", Span::new(pos, pos + 2), format!("{len} bytes")).help(
                "Over TCP each message is preceded by its length, two bytes big-endian, so \
                 the receiver knows where it ends (RFC 1035 §4.2.2, RFC 7766 §8).",
            ),
        );
        for f in inner.fields {
            field.children.push(shift(f, body_start));
        }
        d.fields.push(field);
        for diag in inner.diagnostics {
            d.diagnostics.push(Diagnostic {
                span: diag.span.shifted(body_start),
                ..diag
            });
        }
        if body_start + len > bytes.len() {
            d.diagnostics.push(
                Diagnostic::error(
                    Span::new(pos, pos + 2),
                    format!(
                        "the length prefix announces {len} bytes but only {} follow: the \
                         rest has not arrived (a reader keeps waiting)",
                        bytes.len() - body_start
                    ),
                )
                .reference("RFC 1035 §4.2.2"),
            );
        }
        summaries.push(inner.summary);
        pos = body_end;
    }
    d.summary = match summaries.len() {
        0 => "(empty)".into(),
        1 => summaries.remove(0),
        n => format!("{} (+{} more messages)", summaries[0], n - 1),
    };
    d
}

fn shift(mut field: Field, by: usize) -> Field {
    field.span = field.span.shifted(by);
    field.children = field.children.into_iter().map(|c| shift(c, by)).collect();
    field
}

/// Dissects a reply together with the query it answers, adding the checks
/// only the pair allows: same ID, same question, QR set.
pub fn dissect_reply(query: &[u8], reply: &[u8]) -> Dissection {
    let mut d = dissect(reply);
    d.diagnostics.extend(reply_checks(query, reply));
    d
}

/// The checks of [`dissect_reply`] alone (spans within the reply), for a
/// caller that dissects the reply another way (inside a TCP stream).
pub fn reply_checks(query: &[u8], reply: &[u8]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let (Some(q), Some(r)) = (Header::parse(query), Header::parse(reply)) else {
        return out;
    };
    if q.id != r.id {
        out.push(
            Diagnostic::error(
                Span::new(0, 2),
                format!(
                    "the reply's ID 0x{:04X} does not match the query's 0x{:04X}: a client \
                     must drop it (it could be a spoofed reply, the cache poisoning attack)",
                    r.id, q.id
                ),
            )
            .reference("RFC 1035 §7.3, RFC 5452 §4.3"),
        );
    }
    if !r.qr {
        out.push(
            Diagnostic::error(Span::new(2, 3), "QR is 0: this is a query, not a reply")
                .reference("RFC 1035 §4.1.1"),
        );
    }
    if let (Ok(qm), Ok(rm)) = (Message::parse(query), Message::parse(reply))
        && !rm.questions.is_empty()
        && qm.questions != rm.questions
    {
        out.push(
            Diagnostic::error(
                Span::new(HEADER_LEN, HEADER_LEN),
                "the reply's question is not the query's: a client must drop it",
            )
            .reference("RFC 5452 §4.2"),
        );
    }
    out
}

/// The dissector proper.
pub fn dissect_message(bytes: &[u8], transport: Transport) -> Dissection {
    let mut d = Dissection::new(Protocol::Dns, String::new(), bytes.len());
    let Some(header) = Header::parse(bytes) else {
        d.summary = format!("truncated DNS message ({} bytes)", bytes.len());
        if !bytes.is_empty() {
            d.fields.push(Field::new(
                "Header (incomplete)",
                Span::new(0, bytes.len()),
                hex_spaced(bytes),
            ));
        }
        d.diagnostics.push(
            Diagnostic::error(
                Span::new(0, bytes.len()),
                format!(
                    "a DNS message starts with a 12-byte header; this one has only {} bytes",
                    bytes.len()
                ),
            )
            .reference("RFC 1035 §4.1.1"),
        );
        return d;
    };
    d.fields.push(header_field(bytes, &header));
    header_diagnostics(&header, &mut d.diagnostics);

    let mut pos = HEADER_LEN;
    let mut ended = false;
    // Questions.
    if header.qdcount > 0 {
        let start = pos;
        let mut children = Vec::new();
        for i in 0..header.qdcount {
            if pos >= bytes.len() {
                count_mismatch("QDCOUNT", header.qdcount, i, bytes.len(), &mut d);
                ended = true;
                break;
            }
            let (field, end) = question_field(bytes, pos, i as usize + 1, &mut d.diagnostics);
            pos = end.unwrap_or(field.span.end);
            children.push(field);
            if end.is_none() {
                ended = true;
                break;
            }
        }
        d.fields.push(
            Field::new(
                "Question section",
                Span::new(start, pos),
                format!("{} question(s)", children.len()),
            )
            .help("What is asked: a name, a type and a class (RFC 1035 §4.1.2).")
            .with_children(children),
        );
    }
    // Records.
    let sections = [
        (
            "Answer",
            "ANCOUNT",
            header.ancount,
            "The records that answer the question (RFC 1035 §4.1.3).",
        ),
        (
            "Authority",
            "NSCOUNT",
            header.nscount,
            "Records of authoritative servers: NS records of a referral, or the SOA of a negative answer (RFC 1035 §4.1.3, RFC 2308).",
        ),
        (
            "Additional",
            "ARCOUNT",
            header.arcount,
            "Helpful records: the addresses of the servers and mail exchangers named above (glue), and the OPT pseudo-record (RFC 1035 §4.1.3, RFC 6891).",
        ),
    ];
    let mut opt_count = 0;
    for (section, count_name, count, help) in sections {
        if count == 0 || ended {
            if count > 0 {
                count_mismatch(count_name, count, 0, bytes.len(), &mut d);
            }
            continue;
        }
        let start = pos;
        let mut children = Vec::new();
        for i in 0..count {
            if pos >= bytes.len() {
                count_mismatch(count_name, count, i, bytes.len(), &mut d);
                ended = true;
                break;
            }
            let (field, end, rtype) =
                record_field(bytes, pos, section, i as usize + 1, &mut d.diagnostics);
            {
                {
                    if rtype == RecordType::OPT {
                        opt_count += 1;
                        if section != "Additional" {
                            d.diagnostics.push(
                                Diagnostic::error(
                                    field.span,
                                    "an OPT pseudo-record belongs in the additional section",
                                )
                                .reference("RFC 6891 §6.1.1"),
                            );
                        } else if opt_count == 2 {
                            d.diagnostics.push(
                                Diagnostic::error(
                                    field.span,
                                    "a second OPT record: a message carries at most one, the \
                                     server must answer FORMERR",
                                )
                                .reference("RFC 6891 §6.1.1"),
                            );
                        }
                    }
                    pos = end.unwrap_or(field.span.end);
                    children.push(field);
                    if end.is_none() {
                        ended = true;
                        break;
                    }
                }
            }
        }
        d.fields.push(
            Field::new(
                format!("{section} section"),
                Span::new(start, pos),
                format!("{} record(s)", children.len()),
            )
            .help(help)
            .with_children(children),
        );
    }
    if !ended && pos < bytes.len() {
        d.fields.push(
            Field::new(
                "Extra bytes",
                Span::new(pos, bytes.len()),
                hex_spaced(&bytes[pos..]),
            )
            .help("Bytes after the last record the counts announce."),
        );
        d.diagnostics.push(
            Diagnostic::error(
                Span::new(pos, bytes.len()),
                format!(
                    "{} bytes follow the last record the header's counts announce: the counts \
                     are too low, or the message has garbage at its end",
                    bytes.len() - pos
                ),
            )
            .reference("RFC 1035 §4.1.1"),
        );
    }
    if transport == Transport::Udp && bytes.len() > CLASSIC_UDP_LIMIT && opt_count == 0 {
        d.diagnostics.push(
            Diagnostic::warning(
                Span::new(CLASSIC_UDP_LIMIT, bytes.len()),
                format!(
                    "{} bytes over UDP without EDNS: messages over 512 bytes need an OPT \
                     record announcing a larger size, or TCP",
                    bytes.len()
                ),
            )
            .reference("RFC 1035 §4.2.1, RFC 6891 §6.2.3"),
        );
    }
    d.summary = summary(bytes, &header);
    d
}

fn count_mismatch(name: &str, count: u16, found: u16, at: usize, d: &mut Dissection) {
    d.diagnostics.push(
        Diagnostic::error(
            Span::point(at),
            format!(
                "{name} says {count} but the message ends after {found}: the message is \
                 truncated or the count is wrong"
            ),
        )
        .reference("RFC 1035 §4.1.1"),
    );
}

fn summary(bytes: &[u8], header: &Header) -> String {
    let kind = if header.qr { "Response" } else { "Query" };
    let flags = header.flag_names();
    let Ok(message) = Message::parse(bytes) else {
        return format!("{kind} 0x{:04X} [{flags}] (malformed)", header.id);
    };
    let q = message.question();
    let asked = q
        .map(|q| format!("{}? {}", q.qtype, q.name))
        .unwrap_or_else(|| "no question".into());
    if !header.qr {
        return format!("{kind} 0x{:04X}: {asked} [{flags}]", header.id);
    }
    let what = match q {
        Some(q) => match classify(q, &message) {
            ReplyKind::Answer { chain, records } => {
                let mut parts: Vec<String> = chain
                    .iter()
                    .map(|r| format!("CNAME {}", r.data.to_text()))
                    .collect();
                parts.extend(
                    records
                        .iter()
                        .map(|r| format!("{} {}", r.rtype, r.data.to_text())),
                );
                parts.join(", ")
            }
            other => other.describe(),
        },
        None => message.rcode().to_string(),
    };
    format!(
        "{kind} 0x{:04X} {} [{flags}]: {what}",
        header.id,
        message.rcode()
    )
}

fn header_field(bytes: &[u8], h: &Header) -> Field {
    let flags = u16::from_be_bytes([bytes[2], bytes[3]]);
    let mut flag_children = Vec::new();
    for (i, bits) in FLAG_BITS.iter().enumerate() {
        let value = bits.get(flags);
        let byte = 2 + (bits.first_bit as usize) / 8;
        let meaning = flag_meaning(i, value, h);
        flag_children.push(
            Field::new(
                bits.name,
                Span::new(byte, byte + 1),
                format!("{} = {value}: {meaning}", bits.bit_picture(flags)),
            )
            .help(format!(
                "{} of the flags word (bit 0 is the leftmost). {}",
                capitalise(&bits.positions()),
                bits.help
            )),
        );
    }
    let count = |name: &str, at: usize, help: &str| {
        Field::new(
            name,
            Span::new(at, at + 2),
            u16::from_be_bytes([bytes[at], bytes[at + 1]]).to_string(),
        )
        .help(help.to_string())
    };
    Field::new(
        "Header",
        Span::new(0, HEADER_LEN),
        format!(
            "ID 0x{:04X}, {} [{}]",
            h.id,
            if h.qr { "response" } else { "query" },
            h.flag_names()
        ),
    )
    .help("The fixed 12-byte header: identification, flags and four counts (RFC 1035 §4.1.1).")
    .child(
        Field::new("ID", Span::new(0, 2), format!("0x{:04X} ({})", h.id, h.id)).help(
            "16 bits chosen by the client; the reply copies them so the client can match \
             it to its query. A resolver picks them at random to resist spoofed replies \
             (RFC 1035 §4.1.1, RFC 5452).",
        ),
    )
    .child(
        Field::new(
            "Flags",
            Span::new(2, 4),
            format!("0x{flags:04X} ({})", describe_flags(h)),
        )
        .help("Sixteen bits: QR, Opcode (4), AA, TC, RD, RA, Z, AD, CD, RCODE (4).")
        .with_children(flag_children),
    )
    .child(count(
        "QDCOUNT",
        4,
        "How many entries the question section holds (in practice always 1, RFC 9619).",
    ))
    .child(count(
        "ANCOUNT",
        6,
        "How many records the answer section holds.",
    ))
    .child(count(
        "NSCOUNT",
        8,
        "How many records the authority section holds.",
    ))
    .child(count(
        "ARCOUNT",
        10,
        "How many records the additional section holds (the OPT record included).",
    ))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn describe_flags(h: &Header) -> String {
    let mut parts = vec![if h.qr {
        "response".to_string()
    } else {
        "standard query".to_string()
    }];
    if h.opcode != 0 {
        parts.push(h.opcode().name());
    }
    let names = h.flag_names();
    let names: Vec<&str> = names
        .split(' ')
        .filter(|n| *n != "qr" && !n.is_empty())
        .collect();
    if !names.is_empty() {
        parts.push(names.join(" ").to_uppercase());
    }
    if h.qr {
        parts.push(h.rcode().name());
    }
    parts.join(", ")
}

fn flag_meaning(index: usize, value: u16, h: &Header) -> String {
    let on = value != 0;
    match index {
        0 => if on { "response" } else { "query" }.into(),
        1 => super::types::Opcode(value as u8).describe(),
        2 => if on {
            "the server is an authority for the name"
        } else {
            "not authoritative"
        }
        .into(),
        3 => if on {
            "truncated: retry over TCP"
        } else {
            "not truncated"
        }
        .into(),
        4 => if on {
            "recursion desired: resolve it for me"
        } else {
            "no recursion: answer or refer (iterative)"
        }
        .into(),
        5 => if on {
            "recursion available"
        } else if h.qr {
            "this server does not recurse for you"
        } else {
            "not used in a query"
        }
        .into(),
        6 => if on {
            "reserved, must be 0"
        } else {
            "reserved"
        }
        .into(),
        7 => if on {
            "authentic data (DNSSEC validated)"
        } else {
            "not validated"
        }
        .into(),
        8 => if on {
            "checking disabled"
        } else {
            "checking enabled"
        }
        .into(),
        _ => {
            let r = Rcode(value);
            format!("{} ({})", r.name(), r.meaning())
        }
    }
}

fn header_diagnostics(h: &Header, out: &mut Vec<Diagnostic>) {
    if h.z {
        out.push(
            Diagnostic::warning(
                Span::new(3, 4),
                "the reserved Z bit is set; it must be zero",
            )
            .reference("RFC 1035 §4.1.1"),
        );
    }
    if ![0, 1, 2, 4, 5, 6].contains(&h.opcode) {
        out.push(
            Diagnostic::warning(
                Span::new(2, 3),
                format!("opcode {} is unassigned; a server answers NOTIMP", h.opcode),
            )
            .reference("RFC 1035 §4.1.1"),
        );
    }
    if h.tc {
        out.push(
            Diagnostic::warning(
                Span::new(2, 3),
                "TC is set: the reply was truncated to fit in a UDP datagram; ask again over \
                 TCP to get all of it",
            )
            .reference("RFC 1035 §4.2.1, RFC 7766 §5"),
        );
    }
    if !h.qr {
        if h.aa || h.ra {
            out.push(
                Diagnostic::note(
                    Span::new(2, 4),
                    "AA and RA only mean something in a response; servers ignore them in a query",
                )
                .reference("RFC 1035 §4.1.1"),
            );
        }
        if h.rcode != 0 {
            out.push(
                Diagnostic::warning(
                    Span::new(3, 4),
                    "a query carries RCODE 0; only responses have a response code",
                )
                .reference("RFC 1035 §4.1.1"),
            );
        }
        if h.qdcount != 1 {
            out.push(
                Diagnostic::warning(
                    Span::new(4, 6),
                    format!(
                        "QDCOUNT is {}: servers answer exactly one question per query, others \
                         get FORMERR",
                        h.qdcount
                    ),
                )
                .reference("RFC 9619"),
            );
        }
    }
}

/// The fields of a name at `pos`, and where it ends in place; diagnostics
/// for a broken name.
fn name_field(
    bytes: &[u8],
    pos: usize,
    label: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Field, Option<usize>, String) {
    let (parts, result) = match decode_name(bytes, pos) {
        Ok(d) => (d.parts.clone(), Ok(d)),
        Err((e, parts)) => (parts, Err(e)),
    };
    // Fields for the parts in place (before the first pointer jump).
    let mut children = Vec::new();
    let mut in_place_end = pos;
    for part in &parts {
        match part {
            NamePart::Label { span, label } => {
                if span.start < pos {
                    break;
                }
                children.push(
                    Field::new(
                        "Label",
                        *span,
                        format!("{} \"{}\"", label.len(), label_text(label)),
                    )
                    .child(
                        Field::new(
                            "Length",
                            Span::new(span.start, span.start + 1),
                            format!("{} (top bits 00: a label follows)", label.len()),
                        )
                        .help(
                            "A label is a length byte (0-63) and that many bytes (RFC 1035 §3.1).",
                        ),
                    )
                    .child(Field::new(
                        "Text",
                        Span::new(span.start + 1, span.end),
                        label_text(label),
                    )),
                );
                in_place_end = span.end;
            }
            NamePart::Pointer { span, target } => {
                let target_name = decode_name(bytes, *target)
                    .map(|d| d.name.to_string())
                    .unwrap_or_else(|_| "(unreadable)".into());
                children.push(
                    Field::new(
                        "Compression pointer",
                        *span,
                        format!("→ offset {target}: {target_name}"),
                    )
                    .help(
                        "Two bytes whose top bits are 11: the rest of the name is the one \
                         already written at this offset, from the start of the message \
                         (RFC 1035 §4.1.4).",
                    )
                    .child(Field::new(
                        "Pointer marker",
                        Span::new(span.start, span.start + 1),
                        "11.. .... = pointer",
                    ))
                    .child(Field::new(
                        "Offset",
                        *span,
                        format!("..{:014b} = {target}", target),
                    )),
                );
                in_place_end = span.end;
                break;
            }
            NamePart::Root { span } => {
                children.push(
                    Field::new("Root", *span, "0 (end of name)")
                        .help("A zero length byte: the root label, which ends every name."),
                );
                in_place_end = span.end;
                break;
            }
        }
    }
    match result {
        Ok(decoded) => {
            let text = decoded.name.to_string();
            let field = Field::new(label, Span::new(pos, decoded.end), text.clone())
                .with_children(children);
            (field, Some(decoded.end), text)
        }
        Err(e) => {
            let end = e.span.end.max(in_place_end).min(bytes.len());
            let mut field =
                Field::new(label, Span::new(pos, end), "(malformed name)").with_children(children);
            if e.span.start >= pos && e.span.end <= end && e.span.end > in_place_end {
                field.children.push(Field::new(
                    "Malformed",
                    Span::new(in_place_end.max(e.span.start), e.span.end),
                    hex_spaced(Span::new(in_place_end.max(e.span.start), e.span.end).slice(bytes)),
                ));
            }
            diagnostics.push(Diagnostic::error(e.span, e.message()).reference(e.reference()));
            (field, None, String::new())
        }
    }
}

fn question_field(
    bytes: &[u8],
    pos: usize,
    index: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Field, Option<usize>) {
    let (name, end, text) = name_field(bytes, pos, "Name", diagnostics);
    let Some(end) = end else {
        let span = name.span;
        return (
            Field::new(format!("Question {index}"), span, "(malformed)").child(name),
            None,
        );
    };
    if end + 4 > bytes.len() {
        diagnostics.push(
            Diagnostic::error(
                Span::new(end, bytes.len()),
                "the message ends before this question's QTYPE and QCLASS",
            )
            .reference("RFC 1035 §4.1.2"),
        );
        let span = Span::new(pos, bytes.len());
        let mut f = Field::new(format!("Question {index}"), span, "(truncated)").child(name);
        if end < bytes.len() {
            f.children.push(Field::new(
                "QTYPE/QCLASS (truncated)",
                Span::new(end, bytes.len()),
                hex_spaced(&bytes[end..]),
            ));
        }
        return (f, None);
    }
    let qtype = RecordType(u16::from_be_bytes([bytes[end], bytes[end + 1]]));
    let qclass = Class(u16::from_be_bytes([bytes[end + 2], bytes[end + 3]]));
    if qtype == RecordType::OPT {
        diagnostics.push(
            Diagnostic::error(
                Span::new(end, end + 2),
                "OPT is a pseudo-type: it cannot be asked for",
            )
            .reference("RFC 6891 §6.1.1"),
        );
    }
    let field = Field::new(
        format!("Question {index}"),
        Span::new(pos, end + 4),
        format!("{text} {qtype} {qclass}"),
    )
    .child(name.help("The name asked about (RFC 1035 §4.1.2)."))
    .child(
        Field::new(
            "QTYPE",
            Span::new(end, end + 2),
            format!("{qtype} ({})", qtype.0),
        )
        .help(format!("The type asked for: {}.", qtype.meaning())),
    )
    .child(
        Field::new(
            "QCLASS",
            Span::new(end + 2, end + 4),
            format!("{qclass} ({})", qclass.0),
        )
        .help("The class: IN, the Internet, in practice always (RFC 1035 §3.2.4)."),
    );
    (field, Some(end + 4))
}

fn ttl_text(ttl: u32) -> String {
    let units = [
        (86400 * 7, "week"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ];
    for (secs, unit) in units {
        if ttl >= secs && ttl.is_multiple_of(secs) {
            let n = ttl / secs;
            return format!("{ttl} s ({n} {unit}{})", if n == 1 { "" } else { "s" });
        }
    }
    format!("{ttl} s")
}

fn record_field(
    bytes: &[u8],
    pos: usize,
    section: &str,
    index: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Field, Option<usize>, RecordType) {
    let (name, end, owner) = name_field(bytes, pos, "Name", diagnostics);
    let Some(end) = end else {
        let span = name.span;
        return (
            Field::new(format!("{section} {index}"), span, "(malformed)").child(name),
            None,
            RecordType(0),
        );
    };
    if end + 10 > bytes.len() {
        diagnostics.push(
            Diagnostic::error(
                Span::new(end, bytes.len()),
                format!(
                    "the message ends inside {section} record {index}: TYPE, CLASS, TTL and \
                     RDLENGTH take 10 bytes"
                ),
            )
            .reference("RFC 1035 §4.1.3"),
        );
        let mut f = Field::new(
            format!("{section} {index}"),
            Span::new(pos, bytes.len()),
            "(truncated)",
        )
        .child(name);
        if end < bytes.len() {
            f.children.push(Field::new(
                "Fixed fields (truncated)",
                Span::new(end, bytes.len()),
                hex_spaced(&bytes[end..]),
            ));
        }
        return (f, None, RecordType(0));
    }
    let w = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let rtype = RecordType(w(end));
    let class_raw = w(end + 2);
    let ttl = u32::from_be_bytes([
        bytes[end + 4],
        bytes[end + 5],
        bytes[end + 6],
        bytes[end + 7],
    ]);
    let rdlength = w(end + 8) as usize;
    let rdata_start = end + 10;
    let rdata_end = rdata_start + rdlength;
    let is_opt = rtype == RecordType::OPT;
    let mut children = vec![
        name.help(if is_opt {
            "The OPT record's name is always the root (RFC 6891 §6.1.2)."
        } else {
            "The owner: the name this record is about."
        }),
        Field::new(
            "TYPE",
            Span::new(end, end + 2),
            format!("{rtype} ({})", rtype.0),
        )
        .help(format!("The record type: {}.", rtype.meaning())),
    ];
    if is_opt {
        if !bytes[pos..end].eq(&[0]) {
            diagnostics.push(
                Diagnostic::error(
                    Span::new(pos, end),
                    "the OPT record's name must be the root (a single zero byte)",
                )
                .reference("RFC 6891 §6.1.2"),
            );
        }
        let flags = w(end + 6);
        let version = bytes[end + 5];
        children.push(
            Field::new(
                "UDP payload size",
                Span::new(end + 2, end + 4),
                format!("{class_raw} bytes"),
            )
            .help(
                "In OPT the CLASS field is the largest UDP payload the sender can receive \
                 (RFC 6891 §6.1.2); 1232 avoids IP fragmentation.",
            ),
        );
        children.push(
            Field::new(
                "Extended RCODE",
                Span::new(end + 4, end + 5),
                bytes[end + 4].to_string(),
            )
            .help("The upper 8 bits of the 12-bit response code (RFC 6891 §6.1.3)."),
        );
        children.push(
            Field::new(
                "EDNS version",
                Span::new(end + 5, end + 6),
                version.to_string(),
            )
            .help("0 is the only version (RFC 6891 §6.1.3)."),
        );
        children.push(
            Field::new(
                "EDNS flags",
                Span::new(end + 6, end + 8),
                format!("0x{flags:04X}"),
            )
            .child(
                Field::new(
                    "DO (DNSSEC OK)",
                    Span::new(end + 6, end + 7),
                    format!(
                        "{}... .... .... .... = {}",
                        flags >> 15,
                        if flags & 0x8000 != 0 {
                            "send DNSSEC records"
                        } else {
                            "no DNSSEC records"
                        }
                    ),
                )
                .help("Bit 0 of the EDNS flags (RFC 3225)."),
            )
            .child(
                Field::new(
                    "Z",
                    Span::new(end + 6, end + 8),
                    format!(".{:015b} = {}", flags & 0x7FFF, flags & 0x7FFF),
                )
                .help("The other 15 bits, reserved: must be zero (RFC 6891 §6.1.4)."),
            ),
        );
        if version != 0 {
            diagnostics.push(
                Diagnostic::note(
                    Span::new(end + 5, end + 6),
                    format!(
                        "EDNS version {version}: a server that only knows version 0 answers BADVERS"
                    ),
                )
                .reference("RFC 6891 §6.1.3"),
            );
        }
    } else {
        let class = Class(class_raw);
        children.push(
            Field::new(
                "CLASS",
                Span::new(end + 2, end + 4),
                format!("{class} ({class_raw})"),
            )
            .help("The class: IN, the Internet (RFC 1035 §3.2.4)."),
        );
        children.push(
            Field::new("TTL", Span::new(end + 4, end + 8), ttl_text(ttl)).help(
                "Time to live: how many seconds a cache may keep this record before asking \
                 again (RFC 1035 §3.2.1).",
            ),
        );
        if ttl > i32::MAX as u32 {
            diagnostics.push(
                Diagnostic::warning(
                    Span::new(end + 4, end + 8),
                    "a TTL with the top bit set: receivers treat it as 0",
                )
                .reference("RFC 2181 §8"),
            );
        }
        if class != Class::IN && class != Class::CH {
            diagnostics.push(Diagnostic::note(
                Span::new(end + 2, end + 4),
                format!("class {class}: nearly everything is class IN"),
            ));
        }
    }
    children.push(
        Field::new(
            "RDLENGTH",
            Span::new(end + 8, end + 10),
            format!("{rdlength} bytes"),
        )
        .help("The length of the RDATA that follows (RFC 1035 §4.1.3)."),
    );
    if rtype.is_meta() && !is_opt {
        diagnostics.push(
            Diagnostic::error(
                Span::new(end, end + 2),
                format!("{rtype} may only appear in a question, never in a record"),
            )
            .reference("RFC 6895 §3.1"),
        );
    }
    let mut complete = true;
    let rdata_span = Span::new(rdata_start, rdata_end.min(bytes.len()));
    if rdata_end > bytes.len() {
        diagnostics.push(
            Diagnostic::error(
                Span::new(end + 8, end + 10),
                format!(
                    "RDLENGTH is {rdlength} but only {} bytes remain: the message is truncated",
                    bytes.len() - rdata_start
                ),
            )
            .reference("RFC 1035 §4.1.3"),
        );
        complete = false;
    }
    let value_text;
    match RData::decode(bytes, rdata_span, rtype) {
        Ok(data) if complete => {
            value_text = data.to_text();
            children.push(
                Field::new("RDATA", rdata_span, value_text.clone())
                    .help(format!("The data: {}.", rtype.meaning()))
                    .with_children(rdata_fields(bytes, rdata_span, &data)),
            );
        }
        Ok(_) => {
            value_text = "(truncated)".into();
            if !rdata_span.is_empty() {
                children.push(Field::new(
                    "RDATA (truncated)",
                    rdata_span,
                    hex_spaced(rdata_span.slice(bytes)),
                ));
            }
        }
        Err(e) => {
            value_text = generic_text(rdata_span.slice(bytes));
            if complete {
                diagnostics.push(Diagnostic::error(e.span, e.message).reference("RFC 1035 §3.3"));
            }
            if !rdata_span.is_empty() {
                children.push(Field::new(
                    "RDATA (does not fit its type)",
                    rdata_span,
                    hex_spaced(rdata_span.slice(bytes)),
                ));
            }
        }
    }
    let title = if is_opt {
        format!("OPT (EDNS): UDP size {class_raw}")
    } else {
        format!("{owner} {ttl} {} {rtype} {value_text}", Class(class_raw))
    };
    let field = Field::new(
        format!("{section} {index}"),
        Span::new(pos, rdata_span.end),
        title,
    )
    .with_children(children);
    (field, complete.then_some(rdata_end), rtype)
}

/// The parts of decoded RDATA, with spans.
fn rdata_fields(bytes: &[u8], span: Span, data: &RData) -> Vec<Field> {
    let s = span.start;
    let mut ignored = Vec::new();
    let name_at = |at: usize, label: &str, ignored: &mut Vec<Diagnostic>| {
        let (f, end, _) = name_field(bytes, at, label, ignored);
        end.map(|end| (f, end))
    };
    let num = |name: &str, at: usize, len: usize, text: String, help: &str| {
        Field::new(name, Span::new(at, at + len), text).help(help.to_string())
    };
    match data {
        RData::A(a) => vec![Field::new("Address", span, a.to_string())],
        RData::Aaaa(a) => vec![Field::new("Address", span, a.to_string())],
        RData::Ns(_) | RData::Cname(_) | RData::Ptr(_) => {
            let label = match data {
                RData::Ns(_) => "NSDNAME",
                RData::Cname(_) => "CNAME",
                _ => "PTRDNAME",
            };
            name_at(s, label, &mut ignored)
                .map(|(f, _)| vec![f])
                .unwrap_or_default()
        }
        RData::Mx { preference, .. } => {
            let mut v = vec![num(
                "Preference",
                s,
                2,
                preference.to_string(),
                "Lower is preferred: mail goes to the lowest first (RFC 1035 §3.3.9).",
            )];
            if let Some((f, _)) = name_at(s + 2, "Exchange", &mut ignored) {
                v.push(f.help("The mail server's name; its address is looked up separately."));
            }
            v
        }
        RData::Soa {
            serial,
            refresh,
            retry,
            expire,
            minimum,
            ..
        } => {
            let mut v = Vec::new();
            let mut at = s;
            if let Some((f, end)) = name_at(at, "MNAME", &mut ignored) {
                v.push(f.help("The primary name server of the zone."));
                at = end;
            }
            if let Some((f, end)) = name_at(at, "RNAME", &mut ignored) {
                v.push(f.help(
                    "The administrator's mailbox, its first dot standing for @ \
                     (hostmaster.umass.edu. is hostmaster@umass.edu).",
                ));
                at = end;
            }
            for (name, value, help) in [
                ("SERIAL", serial, "The zone's version; secondaries copy the zone when it grows."),
                ("REFRESH", refresh, "Seconds between a secondary's checks for a new serial."),
                ("RETRY", retry, "Seconds before a secondary retries a failed check."),
                ("EXPIRE", expire, "Seconds after which a secondary that cannot reach the primary stops answering."),
                ("MINIMUM", minimum, "How long caches keep a negative answer (NXDOMAIN, NODATA), capped by the SOA's own TTL (RFC 2308 §4)."),
            ] {
                v.push(num(name, at, 4, ttl_text(*value), help));
                at += 4;
            }
            v
        }
        RData::Txt(strings) => {
            let mut v = Vec::new();
            let mut at = s;
            for (i, text) in strings.iter().enumerate() {
                v.push(
                    Field::new(
                        format!("String {}", i + 1),
                        Span::new(at, at + 1 + text.len()),
                        quoted(text),
                    )
                    .child(Field::new(
                        "Length",
                        Span::new(at, at + 1),
                        text.len().to_string(),
                    ))
                    .child(Field::new(
                        "Text",
                        Span::new(at + 1, at + 1 + text.len()),
                        quoted(text),
                    )),
                );
                at += 1 + text.len();
            }
            v
        }
        RData::Srv {
            priority,
            weight,
            port,
            ..
        } => {
            let mut v = vec![
                num("Priority", s, 2, priority.to_string(), "Lower is tried first (RFC 2782)."),
                num("Weight", s + 2, 2, weight.to_string(), "Shares the load among equal priorities."),
                num("Port", s + 4, 2, port.to_string(), "The service's port on the target."),
            ];
            if let Some((f, _)) = name_at(s + 6, "Target", &mut ignored) {
                v.push(f);
            }
            v
        }
        RData::Caa { flags, tag, value } => vec![
            num(
                "Flags",
                s,
                1,
                format!(
                    "{flags}{}",
                    if flags & 0x80 != 0 { " (critical)" } else { "" }
                ),
                "Bit 0 is the issuer-critical flag (RFC 8659 §4.1).",
            ),
            num("Tag length", s + 1, 1, tag.len().to_string(), ""),
            Field::new(
                "Tag",
                Span::new(s + 2, s + 2 + tag.len()),
                String::from_utf8_lossy(tag).into_owned(),
            ),
            Field::new("Value", Span::new(s + 2 + tag.len(), span.end), quoted(value)),
        ]
        .into_iter()
        .filter(|f| !f.span.is_empty() || f.name == "Tag")
        .collect(),
        RData::Opt(options) => {
            let mut v = Vec::new();
            let mut at = s;
            for o in options {
                let end = at + 4 + o.data.len();
                let mut field = Field::new(
                    format!("Option {}", EdnsOption::code_name(o.code)),
                    Span::new(at, end),
                    hex_spaced(&o.data),
                )
                .child(Field::new(
                    "Option code",
                    Span::new(at, at + 2),
                    format!("{} ({})", EdnsOption::code_name(o.code), o.code),
                ))
                .child(Field::new(
                    "Option length",
                    Span::new(at + 2, at + 4),
                    o.data.len().to_string(),
                ));
                if !o.data.is_empty() {
                    field.children.push(Field::new(
                        "Option data",
                        Span::new(at + 4, end),
                        hex_spaced(&o.data),
                    ));
                }
                v.push(field);
                at = end;
            }
            v
        }
        RData::Unknown(raw) => vec![
            Field::new("Raw data", span, generic_text(raw))
                .help("A type this lab does not decode, kept as bytes (RFC 3597)."),
        ],
    }
    .into_iter()
    .filter(|f| !f.span.is_empty())
    .collect()
}

/// The message's question, for callers that only need that.
pub fn question_of(bytes: &[u8]) -> Option<Question> {
    Message::parse(bytes).ok()?.questions.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use crate::dns::message::{Edns, Record};
    use crate::dns::name::Name;
    use std::net::Ipv4Addr;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn gaia_reply() -> Vec<u8> {
        let q = Message::query(
            0xBEEF,
            Question::new(n("gaia.cs.umass.edu"), RecordType::A),
            false,
        );
        let mut r = Message::response_to(&q);
        r.header.aa = true;
        r.answers.push(Record::new(
            n("gaia.cs.umass.edu"),
            3600,
            RData::A(Ipv4Addr::new(128, 119, 245, 12)),
        ));
        r.authority.push(Record::new(
            n("cs.umass.edu"),
            86400,
            RData::Ns(n("dns.cs.umass.edu")),
        ));
        r.additional.push(Record::new(
            n("dns.cs.umass.edu"),
            86400,
            RData::A(Ipv4Addr::new(127, 0, 0, 21)),
        ));
        r.set_edns(Some(Edns::with_size(1232)));
        r.to_bytes()
    }

    #[test]
    fn a_reply_is_covered_to_the_last_byte() {
        let bytes = gaia_reply();
        let d = dissect(&bytes);
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert_eq!(
            d.summary,
            "Response 0xBEEF NOERROR [qr aa]: A 128.119.245.12"
        );
        let aa = d.find("AA (authoritative answer)").unwrap();
        assert_eq!(aa.span, Span::new(2, 3));
        assert!(
            aa.value.starts_with(".... .1.. .... .... = 1"),
            "{}",
            aa.value
        );
        let ra = d.find("RA (recursion available)").unwrap();
        assert_eq!(ra.span, Span::new(3, 4));
        // The answer's name is a pointer back to the question.
        let ptr = d.find("Compression pointer").unwrap();
        assert_eq!(ptr.value, "→ offset 12: gaia.cs.umass.edu.");
        assert!(d.find("UDP payload size").is_some());
        assert_eq!(d.find("TTL").unwrap().value, "3600 s (1 hour)");
    }

    #[test]
    fn truncation_and_counts_are_diagnosed() {
        let bytes = gaia_reply();
        for cut in 0..bytes.len() {
            let d = dissect(&bytes[..cut]);
            assert!(d.check_invariants(false).is_empty(), "cut {cut}");
            assert!(
                d.worst() == Some(Severity::Error),
                "cut {cut}: {:?}",
                d.diagnostics
            );
        }
        let mut extra = bytes.clone();
        extra.extend_from_slice(&[1, 2]);
        let d = dissect(&extra);
        assert!(d.diagnostics[0].message.contains("2 bytes follow"));
    }

    #[test]
    fn rdlength_mismatch_and_loops() {
        let mut bytes = gaia_reply();
        // The A record's RDLENGTH (bytes 45-46) says 5 instead of 4.
        let at = bytes
            .windows(6)
            .position(|w| w == [0, 4, 128, 119, 245, 12])
            .unwrap();
        bytes[at + 1] = 3;
        let d = dissect(&bytes);
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("always 4 bytes")),
            "{:?}",
            d.diagnostics
        );
        // A question whose name points at itself.
        let mut looped = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        looped.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
        let d = dissect(&looped);
        assert!(
            d.diagnostics[0].message.contains("loop"),
            "{:?}",
            d.diagnostics
        );
    }

    #[test]
    fn reply_must_match_its_query() {
        let q = Message::query(
            0x1111,
            Question::new(n("gaia.cs.umass.edu"), RecordType::A),
            false,
        )
        .to_bytes();
        let d = dissect_reply(&q, &gaia_reply());
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("does not match"))
        );
        assert_eq!(d.diagnostics[0].span, Span::new(0, 2));
    }

    #[test]
    fn tcp_stream_with_two_messages_and_a_partial_one() {
        let one = crate::dns::frame::tcp_wrap(&gaia_reply());
        let mut stream = one.clone();
        stream.extend_from_slice(&one);
        let d = dissect_tcp(&stream);
        assert_eq!(d.fields.len(), 2);
        assert!(d.check_invariants(true).is_empty());
        assert!(d.summary.ends_with("(+1 more messages)"));
        let d = dissect_tcp(&one[..one.len() - 3]);
        assert!(
            d.diagnostics
                .iter()
                .any(|x| x.message.contains("announces"))
        );
    }
}
