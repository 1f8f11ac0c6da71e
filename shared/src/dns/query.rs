//! Building queries: from a name, a type, flags and an ID to the bytes of a
//! query, and the `dig`-like one-liner a student types
//! (`gaia.cs.umass.edu A +norecurse`, `-t MX hamburger.edu @dns-edu +tcp`).
//!
//! The one-liner understands, in any order: a name, a type, a class,
//! `@server` (a catalog name or an address, kept as text for the caller),
//! `-t TYPE`, `-c CLASS`, `-q NAME`, `-p PORT`, `-x ADDRESS` (reverse
//! lookup), and the options `+[no]recurse` (`+[no]rec`), `+[no]tcp`
//! (`+[no]vc`), `+[no]edns[=0]`, `+bufsize=N`, `+[no]dnssec`,
//! `+[no]cdflag`, `+[no]adflag`, `+[no]trace`, and `+id=N` (wirelab's own:
//! dig picks the ID at random). Unlike dig, EDNS is off unless asked for,
//! so the bytes are the classic RFC 1035 query the course draws.

use super::frame::tcp_wrap;
use super::message::{Edns, Message, Question};
use super::name::Name;
use super::types::{Class, RecordType};
use crate::dissect::Span;
use std::net::IpAddr;

/// How a query travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryTransport {
    #[default]
    Udp,
    Tcp,
}

/// Everything the query builder needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySpec {
    pub name: Name,
    pub qtype: RecordType,
    pub qclass: Class,
    pub id: u16,
    pub recursion_desired: bool,
    pub checking_disabled: bool,
    pub authentic_data: bool,
    /// `Some(size)` adds an OPT record announcing that UDP payload size.
    pub edns: Option<u16>,
    pub dnssec_ok: bool,
    pub transport: QueryTransport,
    /// `@server` as typed, for the caller to map to a target.
    pub server: Option<String>,
    pub port: Option<u16>,
    /// `+trace`: the caller resolves iteratively from the root.
    pub trace: bool,
}

impl Default for QuerySpec {
    fn default() -> Self {
        QuerySpec {
            name: Name::root(),
            qtype: RecordType::A,
            qclass: Class::IN,
            id: 0,
            recursion_desired: true,
            checking_disabled: false,
            authentic_data: false,
            edns: None,
            dnssec_ok: false,
            transport: QueryTransport::Udp,
            server: None,
            port: None,
            trace: false,
        }
    }
}

/// A one-liner that cannot be understood, with where (character offsets
/// into the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OneLinerError {
    pub message: String,
    pub span: Span,
}

impl QuerySpec {
    /// A query for `name` and `qtype` with this ID, recursion desired.
    pub fn new(name: Name, qtype: RecordType, id: u16) -> Self {
        QuerySpec {
            name,
            qtype,
            id,
            ..QuerySpec::default()
        }
    }

    pub fn question(&self) -> Question {
        Question {
            name: self.name.clone(),
            qtype: self.qtype,
            qclass: self.qclass,
        }
    }

    pub fn to_message(&self) -> Message {
        let mut m = Message::query(self.id, self.question(), self.recursion_desired);
        m.header.cd = self.checking_disabled;
        m.header.ad = self.authentic_data;
        if let Some(size) = self.edns {
            m.set_edns(Some(Edns {
                udp_size: size,
                dnssec_ok: self.dnssec_ok,
                ..Edns::default()
            }));
        }
        m
    }

    /// The message as one UDP datagram.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_message().to_bytes()
    }

    /// The bytes for the chosen transport: the message, with its two-byte
    /// length in front over TCP.
    pub fn to_wire(&self) -> Vec<u8> {
        match self.transport {
            QueryTransport::Udp => self.to_bytes(),
            QueryTransport::Tcp => tcp_wrap(&self.to_bytes()),
        }
    }

    /// The same query asked of another server: the next step of an
    /// iterative resolution (RD off, a new ID).
    pub fn next_hop(&self, id: u16) -> QuerySpec {
        QuerySpec {
            id,
            recursion_desired: false,
            server: None,
            ..self.clone()
        }
    }

    /// The query a message is, for a form that edits it: the first
    /// question, the ID, RD, CD, AD and the EDNS size and DO bit. `None`
    /// without exactly one question. Bits the spec does not hold (QR, AA,
    /// TC, RA, Z, the RCODE, other records) are not kept: compare
    /// `spec.to_bytes()` with the message to know whether it says it all.
    pub fn from_message(message: &Message) -> Option<QuerySpec> {
        let [question] = message.questions.as_slice() else {
            return None;
        };
        let edns = message.edns();
        Some(QuerySpec {
            name: question.name.clone(),
            qtype: question.qtype,
            qclass: question.qclass,
            id: message.header.id,
            recursion_desired: message.header.rd,
            checking_disabled: message.header.cd,
            authentic_data: message.header.ad,
            edns: edns.as_ref().map(|e| e.udp_size),
            dnssec_ok: edns.is_some_and(|e| e.dnssec_ok),
            ..QuerySpec::default()
        })
    }

    /// The one-liner that builds this query (the inverse of
    /// [`parse_one_liner`], server included).
    pub fn to_one_liner(&self) -> String {
        let name = self.name.to_string();
        let short = name.trim_end_matches('.');
        // A one-label name that reads as a type (`a`, `mx`) keeps its final
        // dot, or the line would ask for that type with no name.
        let mut parts = vec![
            if short.is_empty() || RecordType::from_text(short).is_some() {
                name.clone()
            } else {
                short.to_string()
            },
        ];
        parts.push(self.qtype.to_string());
        if self.qclass != Class::IN {
            parts.push(self.qclass.to_string());
        }
        if let Some(s) = &self.server {
            parts.push(format!("@{s}"));
        }
        if let Some(p) = self.port {
            parts.push(format!("-p {p}"));
        }
        if !self.recursion_desired {
            parts.push("+norecurse".into());
        }
        if self.transport == QueryTransport::Tcp {
            parts.push("+tcp".into());
        }
        if let Some(size) = self.edns {
            parts.push(format!("+bufsize={size}"));
        }
        if self.dnssec_ok {
            parts.push("+dnssec".into());
        }
        if self.checking_disabled {
            parts.push("+cdflag".into());
        }
        if self.authentic_data {
            parts.push("+adflag".into());
        }
        if self.trace {
            parts.push("+trace".into());
        }
        parts.push(format!("+id={}", self.id));
        parts.join(" ")
    }
}

/// The name of a reverse lookup: `128.119.245.12` →
/// `12.245.119.128.in-addr.arpa.`, IPv6 by nibbles under `ip6.arpa.`.
pub fn reverse_name(address: IpAddr) -> Name {
    let text = match address {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let mut s = String::new();
            for b in a.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xF, b >> 4));
            }
            s.push_str("ip6.arpa.");
            s
        }
    };
    Name::parse(&text).unwrap_or_default()
}

/// Splits into whitespace-separated words with their character spans.
fn words(text: &str) -> Vec<(&str, Span)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((&text[s..i], Span::new(s, i)));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((&text[s..], Span::new(s, text.len())));
    }
    out
}

/// Parses a `dig`-like one-liner into a query; `id` is used unless the
/// line says `+id=N`.
pub fn parse_one_liner(text: &str, id: u16) -> Result<QuerySpec, OneLinerError> {
    let mut spec = QuerySpec {
        id,
        ..QuerySpec::default()
    };
    let err = |span: Span, message: String| OneLinerError { message, span };
    let mut name: Option<Name> = None;
    let mut type_given = false;
    let tokens = words(text);
    let mut i = 0;
    while i < tokens.len() {
        let (word, span) = tokens[i];
        i += 1;
        if i == 1 && word.eq_ignore_ascii_case("dig") {
            continue;
        }
        let mut value = |what: &str| -> Result<(&str, Span), OneLinerError> {
            let v = tokens
                .get(i)
                .copied()
                .ok_or_else(|| err(span, format!("{word} needs {what} after it")))?;
            i += 1;
            Ok(v)
        };
        if let Some(server) = word.strip_prefix('@') {
            if server.is_empty() {
                return Err(err(
                    span,
                    "@ needs a server after it (@dns-root, @127.0.0.10)".into(),
                ));
            }
            spec.server = Some(server.to_string());
        } else if let Some(option) = word.strip_prefix('+') {
            apply_plus_option(&mut spec, option, span)?;
        } else if word.starts_with('-') && word.len() > 1 {
            match word {
                "-t" => {
                    let (v, vspan) = value("a type (A, MX, ...)")?;
                    spec.qtype = RecordType::from_text(v)
                        .ok_or_else(|| err(vspan, format!("unknown type {v:?}")))?;
                    type_given = true;
                }
                "-c" => {
                    let (v, vspan) = value("a class (IN, CH)")?;
                    spec.qclass = Class::from_text(v)
                        .ok_or_else(|| err(vspan, format!("unknown class {v:?}")))?;
                }
                "-q" => {
                    let (v, vspan) = value("a name")?;
                    name = Some(Name::parse(v).map_err(|e| err(vspan, format!("{v:?}: {e}")))?);
                }
                "-p" => {
                    let (v, vspan) = value("a port")?;
                    spec.port = Some(
                        v.parse()
                            .map_err(|_| err(vspan, format!("{v:?} is not a port number")))?,
                    );
                }
                "-x" => {
                    let (v, vspan) = value("an IPv4 or IPv6 address")?;
                    let address: IpAddr = v
                        .parse()
                        .map_err(|_| err(vspan, format!("{v:?} is not an IP address")))?;
                    name = Some(reverse_name(address));
                    if !type_given {
                        spec.qtype = RecordType::PTR;
                    }
                }
                "-4" | "-6" => {}
                _ => return Err(err(span, format!("unknown option {word}"))),
            }
        } else if let Some(t) =
            RecordType::from_text(word).filter(|_| name.is_some() || !looks_like_name(word))
        {
            spec.qtype = t;
            type_given = true;
        } else if let Some(c) = Class::from_text(word).filter(|_| name.is_some()) {
            spec.qclass = c;
        } else if name.is_none() {
            name = Some(Name::parse(word).map_err(|e| err(span, format!("{word:?}: {e}")))?);
        } else {
            return Err(err(
                span,
                format!(
                    "{word:?} is neither a type, a class nor an option, and the name is already given"
                ),
            ));
        }
    }
    spec.name = name.ok_or_else(|| {
        err(
            Span::point(text.len()),
            "give a name to look up, for example gaia.cs.umass.edu A".into(),
        )
    })?;
    Ok(spec)
}

/// A word that is a type mnemonic but written like a host name (`ns.fr`).
fn looks_like_name(word: &str) -> bool {
    word.contains('.')
}

fn apply_plus_option(spec: &mut QuerySpec, option: &str, span: Span) -> Result<(), OneLinerError> {
    let lower = option.to_ascii_lowercase();
    let (negated, body) = match lower.strip_prefix("no") {
        Some(rest) => (true, rest.to_string()),
        None => (false, lower.clone()),
    };
    let (key, value) = match body.split_once('=') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => (body.clone(), None),
    };
    let on = !negated;
    let bad = |message: String| OneLinerError { message, span };
    // dig accepts any unambiguous prefix; these are the forms people type.
    match key.as_str() {
        "rec" | "recurse" | "recursive" => spec.recursion_desired = on,
        "tcp" | "vc" => {
            spec.transport = if on {
                QueryTransport::Tcp
            } else {
                QueryTransport::Udp
            }
        }
        "edns" => {
            spec.edns = if on {
                if let Some(v) = &value
                    && v != "0"
                {
                    return Err(bad(format!("EDNS version {v}: only version 0 exists")));
                }
                Some(spec.edns.unwrap_or(1232))
            } else {
                None
            }
        }
        "bufsize" => {
            let v = value.ok_or_else(|| bad("+bufsize needs a size, +bufsize=1232".into()))?;
            let size: u16 = v
                .parse()
                .map_err(|_| bad(format!("{v:?} is not a size from 0 to 65535")))?;
            spec.edns = Some(size);
        }
        "dnssec" => {
            spec.dnssec_ok = on;
            if on && spec.edns.is_none() {
                spec.edns = Some(1232);
            }
        }
        "cd" | "cdflag" => spec.checking_disabled = on,
        "ad" | "adflag" => spec.authentic_data = on,
        "trace" => spec.trace = on,
        "id" => {
            let v = value.ok_or_else(|| bad("+id needs a number, +id=4660".into()))?;
            let id = if let Some(hex) = v.strip_prefix("0x") {
                u16::from_str_radix(hex, 16).ok()
            } else {
                v.parse().ok()
            };
            spec.id = id.ok_or_else(|| bad(format!("{v:?} is not an ID from 0 to 65535")))?;
        }
        // Display options of dig: accepted, nothing to build.
        "short" | "stats" | "cmd" | "comments" | "question" | "answer" | "authority"
        | "additional" | "all" | "qr" | "multiline" | "nssearch" | "cookie" => {}
        _ => return Err(bad(format!("unknown option +{option}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Message;

    #[test]
    fn the_course_one_liner() {
        let spec = parse_one_liner("gaia.cs.umass.edu A +norecurse", 0x2a).unwrap();
        assert_eq!(spec.name, Name::parse("gaia.cs.umass.edu").unwrap());
        assert_eq!(spec.qtype, RecordType::A);
        assert!(!spec.recursion_desired);
        let m = Message::parse(&spec.to_bytes()).unwrap();
        assert_eq!(m.header.id, 0x2a);
        assert!(!m.header.rd);
        assert!(m.edns().is_none());
        assert_eq!(spec.to_bytes().len(), 12 + 19 + 4);
    }

    #[test]
    fn dig_style_options() {
        let spec = parse_one_liner(
            "dig @dns-edu -t MX hamburger.edu +tcp +bufsize=4096 +id=0x1234",
            0,
        )
        .unwrap();
        assert_eq!(spec.server.as_deref(), Some("dns-edu"));
        assert_eq!(spec.qtype, RecordType::MX);
        assert_eq!(spec.transport, QueryTransport::Tcp);
        assert_eq!(spec.edns, Some(4096));
        assert_eq!(spec.id, 0x1234);
        let wire = spec.to_wire();
        assert_eq!(
            u16::from_be_bytes([wire[0], wire[1]]) as usize,
            wire.len() - 2
        );
        let again = parse_one_liner(&spec.to_one_liner(), 0).unwrap();
        assert_eq!(again, spec);
        let rev = parse_one_liner("-x 128.119.245.12", 1).unwrap();
        assert_eq!(rev.name.to_string(), "12.245.119.128.in-addr.arpa.");
        assert_eq!(rev.qtype, RecordType::PTR);
        // A name that happens to be a type mnemonic, written as a name.
        let ns = parse_one_liner("ns.fr NS", 1).unwrap();
        assert_eq!(ns.name.to_string(), "ns.fr.");
        assert_eq!(ns.qtype, RecordType::NS);
    }

    #[test]
    fn a_message_gives_its_query_back() {
        let mut spec = parse_one_liner("hamburger.edu MX +norecurse +dnssec +cdflag", 7).unwrap();
        spec.edns = Some(4096);
        let back = QuerySpec::from_message(&spec.to_message()).unwrap();
        assert_eq!(back.to_bytes(), spec.to_bytes());
        assert_eq!(
            (back.qtype, back.id, back.edns),
            (RecordType::MX, 7, Some(4096))
        );
        assert!(back.dnssec_ok && back.checking_disabled && !back.recursion_desired);
        // A name that is also a type mnemonic keeps its dot.
        let a = QuerySpec::new(Name::parse("a").unwrap(), RecordType::MX, 1);
        assert_eq!(a.to_one_liner(), "a. MX +id=1");
        assert_eq!(parse_one_liner(&a.to_one_liner(), 0).unwrap(), a);
        let root = QuerySpec::new(Name::root(), RecordType::NS, 1);
        assert_eq!(parse_one_liner(&root.to_one_liner(), 0).unwrap(), root);
        // A bit the spec does not hold is dropped, and the bytes say so.
        let mut m = spec.to_message();
        m.header.qr = true;
        assert_ne!(
            QuerySpec::from_message(&m).unwrap().to_bytes(),
            m.to_bytes()
        );
        m.questions.clear();
        assert!(QuerySpec::from_message(&m).is_none());
    }

    #[test]
    fn mistakes_point_at_the_word() {
        let e = parse_one_liner("gaia.cs.umass.edu +norecurs", 0).unwrap_err();
        assert_eq!(e.span, Span::new(18, 27));
        let e = parse_one_liner("A", 0).unwrap_err();
        assert!(e.message.contains("give a name"));
        let e = parse_one_liner("a.b -t BOGUS", 0).unwrap_err();
        assert_eq!(e.span, Span::new(7, 12));
        assert!(parse_one_liner("a..b", 0).is_err());
        assert!(parse_one_liner("a.b -p", 0).is_err());
    }
}
