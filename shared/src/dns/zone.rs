//! Zone data: the RFC 1035 §5 master file format (`$ORIGIN`, `$TTL`,
//! relative names, `@`, parentheses, comments, quoted strings, TTL units
//! such as `1h`), checked with diagnostics, and the authoritative lookup of
//! RFC 1034 §4.3.2 over it: exact match, CNAME chasing inside the zone,
//! referral with NS and glue at a delegation, NXDOMAIN and NODATA with the
//! SOA for negative caching (RFC 2308 §3).
//!
//! [`parse_zone`] never fails: it returns the records it could read and a
//! diagnostic for each problem, with byte spans into the file, so the page
//! and `wirelab dissect zone` can point at the line. Wildcards and
//! `$INCLUDE` are not supported (a diagnostic says so).

use super::message::Record;
use super::name::Name;
use super::rdata::RData;
use super::types::{Class, RecordType};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A zone: its origin (apex) and its records, indexed by owner.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    pub origin: Name,
    records: Vec<Record>,
    by_owner: HashMap<Name, Vec<usize>>,
    /// Every owner and every name between an owner and the apex: a name in
    /// here exists (RFC 8020), even if it owns no record.
    existing: HashSet<Name>,
}

/// What the zone says about a question (RFC 1034 §4.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Authoritative data: the CNAMEs followed (`chain`) and the records.
    /// An empty `records` with a chain that leaves the zone means "go on
    /// from the chain's last target elsewhere".
    Answer {
        chain: Vec<Record>,
        records: Vec<Record>,
    },
    /// The name is below a zone cut: the NS records there and their glue.
    Referral {
        chain: Vec<Record>,
        ns: Vec<Record>,
        glue: Vec<Record>,
    },
    NxDomain {
        chain: Vec<Record>,
        soa: Option<Record>,
    },
    NoData {
        chain: Vec<Record>,
        soa: Option<Record>,
    },
}

impl Zone {
    /// A zone from records (typically [`parse_zone`]'s).
    pub fn new(origin: Name, records: Vec<Record>) -> Zone {
        let mut by_owner: HashMap<Name, Vec<usize>> = HashMap::new();
        let mut existing = HashSet::new();
        for (i, r) in records.iter().enumerate() {
            by_owner.entry(r.name.clone()).or_default().push(i);
            let mut n = r.name.clone();
            while n.is_subdomain_of(&origin) && existing.insert(n.clone()) {
                match n.parent() {
                    Some(p) => n = p,
                    None => break,
                }
            }
        }
        Zone {
            origin,
            records,
            by_owner,
            existing,
        }
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records of `name` with type `rtype` (every type for ANY).
    pub fn rrset(&self, name: &Name, rtype: RecordType) -> Vec<Record> {
        self.by_owner
            .get(name)
            .map(|idx| {
                idx.iter()
                    .map(|&i| &self.records[i])
                    .filter(|r| rtype == RecordType::ANY || r.rtype == rtype)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The SOA, with its TTL lowered to its MINIMUM as RFC 2308 §3 asks of
    /// the SOA in a negative answer.
    pub fn negative_soa(&self) -> Option<Record> {
        let mut soa = self
            .rrset(&self.origin, RecordType::SOA)
            .into_iter()
            .next()?;
        if let RData::Soa { minimum, .. } = soa.data {
            soa.ttl = soa.ttl.min(minimum);
        }
        Some(soa)
    }

    /// The closest zone cut at or above `name` (below the apex), if any.
    fn delegation(&self, name: &Name) -> Option<Name> {
        let depth = self.origin.label_count();
        for count in depth + 1..=name.label_count() {
            let candidate = name.suffix(count);
            if !self.rrset(&candidate, RecordType::NS).is_empty() {
                return Some(candidate);
            }
        }
        None
    }

    /// A and AAAA records of `name` held by this zone (glue or not).
    pub fn addresses(&self, name: &Name) -> Vec<Record> {
        let mut v = self.rrset(name, RecordType::A);
        v.extend(self.rrset(name, RecordType::AAAA));
        v
    }

    /// Looks `qname`/`qtype` up. `qname` must be at or below the origin.
    pub fn lookup(&self, qname: &Name, qtype: RecordType) -> Lookup {
        let mut chain: Vec<Record> = Vec::new();
        let mut name = qname.clone();
        // Each CNAME step moves to a new name; a loop stops at the bound.
        for _ in 0..16 {
            if !name.is_subdomain_of(&self.origin) {
                // The alias leads out of the zone: the asker goes on.
                return Lookup::Answer {
                    chain,
                    records: Vec::new(),
                };
            }
            if let Some(cut) = self.delegation(&name) {
                let ns = self.rrset(&cut, RecordType::NS);
                let glue = ns
                    .iter()
                    .filter_map(|r| r.data.target_name())
                    .flat_map(|t| self.addresses(t))
                    .collect();
                return Lookup::Referral { chain, ns, glue };
            }
            if !self.existing.contains(&name) {
                return Lookup::NxDomain {
                    chain,
                    soa: self.negative_soa(),
                };
            }
            let records = self.rrset(&name, qtype);
            if !records.is_empty() {
                return Lookup::Answer { chain, records };
            }
            let cname = self.rrset(&name, RecordType::CNAME);
            match cname.first() {
                Some(c) if qtype != RecordType::CNAME => {
                    chain.push(c.clone());
                    match &c.data {
                        RData::Cname(target) => name = target.clone(),
                        _ => break,
                    }
                    if chain.iter().filter(|r| r.name == name).count() > 0 {
                        // A CNAME loop inside the zone: stop with what we have.
                        break;
                    }
                }
                _ => {
                    return Lookup::NoData {
                        chain,
                        soa: self.negative_soa(),
                    };
                }
            }
        }
        Lookup::Answer {
            chain,
            records: Vec::new(),
        }
    }
}

/// A zone file read with its problems.
#[derive(Debug, Clone)]
pub struct ParsedZone {
    pub zone: Zone,
    /// Where each record of `zone.records()` was written.
    pub record_spans: Vec<Span>,
    pub diagnostics: Vec<Diagnostic>,
    /// Each entry (record or directive) as a dissection field.
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Token {
    text: String,
    span: Span,
    quoted: bool,
}

/// One logical entry: tokens up to the end of line, parentheses joined.
#[derive(Debug, Clone)]
struct Entry {
    tokens: Vec<Token>,
    /// The line began with a blank: the owner is the previous one.
    blank_owner: bool,
    span: Span,
}

fn tokenize(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Entry> {
    let bytes = text.as_bytes();
    let mut entries = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    let mut paren_open_at = 0;
    let mut current: Option<Entry> = None;
    let mut at_line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                if depth == 0
                    && let Some(e) = current.take()
                {
                    entries.push(e);
                }
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                if at_line_start && depth == 0 && current.is_none() {
                    // Remember the blank for the entry this line starts.
                    current = Some(Entry {
                        tokens: Vec::new(),
                        blank_owner: true,
                        span: Span::new(i, i),
                    });
                }
                at_line_start = false;
                i += 1;
                continue;
            }
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        at_line_start = false;
        let entry = current.get_or_insert_with(|| Entry {
            tokens: Vec::new(),
            blank_owner: false,
            span: Span::new(i, i),
        });
        match c {
            b'(' => {
                if depth == 0 {
                    paren_open_at = i;
                }
                depth += 1;
                i += 1;
                entry.span.end = i;
            }
            b')' => {
                if depth == 0 {
                    diagnostics.push(
                        Diagnostic::error(Span::new(i, i + 1), "a ) without its (")
                            .reference("RFC 1035 §5.1"),
                    );
                } else {
                    depth -= 1;
                }
                i += 1;
                entry.span.end = i;
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut value = Vec::new();
                let mut closed = false;
                while i < bytes.len() {
                    match bytes[i] {
                        b'"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        b'\\' if i + 1 < bytes.len() => {
                            value.push(b'\\');
                            value.push(bytes[i + 1]);
                            i += 2;
                        }
                        b'\n' => break,
                        b => {
                            value.push(b);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    diagnostics.push(
                        Diagnostic::error(
                            Span::new(start, i),
                            "a quoted string does not end on its line",
                        )
                        .reference("RFC 1035 §5.1"),
                    );
                }
                entry.tokens.push(Token {
                    text: String::from_utf8_lossy(&value).into_owned(),
                    span: Span::new(start, i),
                    quoted: true,
                });
                entry.span.end = i;
            }
            _ => {
                let start = i;
                while i < bytes.len() {
                    match bytes[i] {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                        b'\\' if i + 1 < bytes.len() => i += 2,
                        _ => i += 1,
                    }
                }
                let i_end = i.min(bytes.len());
                entry.tokens.push(Token {
                    text: text[start..i_end].to_string(),
                    span: Span::new(start, i_end),
                    quoted: false,
                });
                entry.span.end = i_end;
            }
        }
    }
    if depth > 0 {
        diagnostics.push(
            Diagnostic::error(
                Span::new(paren_open_at, paren_open_at + 1),
                "this ( is never closed",
            )
            .reference("RFC 1035 §5.1"),
        );
    }
    if let Some(e) = current.take() {
        entries.push(e);
    }
    entries
        .into_iter()
        .filter(|e| !e.tokens.is_empty())
        .collect()
}

/// A TTL: seconds, or with units (`1w2d3h4m5s`, case-insensitive, BIND's
/// extension).
pub fn parse_ttl(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return None,
        };
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
    }
    if !number.is_empty() {
        return None;
    }
    u32::try_from(total).ok()
}

/// Undoes `\X` and `\DDD` in a character-string.
fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b[i + 1..].len() >= 3 && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
                let v: u32 = text[i + 1..i + 4].parse().unwrap_or(999);
                if v > 255 {
                    return Err(format!("\\{} is not a byte", &text[i + 1..i + 4]));
                }
                out.push(v as u8);
                i += 4;
            } else if i + 1 < b.len() {
                out.push(b[i + 1]);
                i += 2;
            } else {
                return Err("a lone \\ at the end".into());
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// RDATA from its presentation form (zone file tokens).
fn rdata_from_tokens(
    rtype: RecordType,
    tokens: &[Token],
    origin: &Name,
) -> Result<RData, (String, Option<Span>)> {
    let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
    let span_of = |i: usize| tokens.get(i).map(|t| t.span);
    let need = |n: usize, form: &str| -> Result<(), (String, Option<Span>)> {
        if tokens.len() != n {
            return Err((
                format!(
                    "{rtype} takes {n} field(s) ({form}), this record has {}",
                    tokens.len()
                ),
                tokens.first().map(|t| {
                    Span::new(
                        t.span.start,
                        tokens.last().map_or(t.span.end, |l| l.span.end),
                    )
                }),
            ));
        }
        Ok(())
    };
    let name = |i: usize| -> Result<Name, (String, Option<Span>)> {
        Name::parse_relative(texts[i], origin)
            .map_err(|e| (format!("{:?}: {e}", texts[i]), span_of(i)))
    };
    let num = |i: usize, what: &str| -> Result<u64, (String, Option<Span>)> {
        texts[i].parse::<u64>().map_err(|_| {
            (
                format!("{what} must be a number, not {:?}", texts[i]),
                span_of(i),
            )
        })
    };
    let u16_at = |i: usize, what: &str| -> Result<u16, (String, Option<Span>)> {
        let v = num(i, what)?;
        u16::try_from(v).map_err(|_| (format!("{what} {v} is over 65535"), span_of(i)))
    };
    let ttl_at = |i: usize, what: &str| -> Result<u32, (String, Option<Span>)> {
        parse_ttl(texts[i]).ok_or_else(|| {
            (
                format!("{what} must be a number of seconds, not {:?}", texts[i]),
                span_of(i),
            )
        })
    };
    // RFC 3597 generic form, allowed for any type.
    if texts.first() == Some(&"\\#") {
        let len: usize = texts
            .get(1)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| ("\\# needs a length".to_string(), span_of(0)))?;
        let hex: String = texts[2..].concat();
        let bytes = crate::text::parse_hex(&hex)
            .ok_or_else(|| ("\\# data must be hexadecimal".to_string(), span_of(2)))?;
        if bytes.len() != len {
            return Err((
                format!("\\# says {len} bytes but gives {}", bytes.len()),
                span_of(1),
            ));
        }
        let mut msg = Vec::new();
        msg.extend_from_slice(&bytes);
        return RData::decode(&msg, Span::new(0, msg.len()), rtype)
            .map_err(|e| (e.message, span_of(0)));
    }
    Ok(match rtype {
        RecordType::A => {
            need(1, "an IPv4 address")?;
            RData::A(
                texts[0]
                    .parse::<Ipv4Addr>()
                    .map_err(|_| (format!("{:?} is not an IPv4 address", texts[0]), span_of(0)))?,
            )
        }
        RecordType::AAAA => {
            need(1, "an IPv6 address")?;
            RData::Aaaa(
                texts[0]
                    .parse::<Ipv6Addr>()
                    .map_err(|_| (format!("{:?} is not an IPv6 address", texts[0]), span_of(0)))?,
            )
        }
        RecordType::NS => {
            need(1, "a name server")?;
            RData::Ns(name(0)?)
        }
        RecordType::CNAME => {
            need(1, "the canonical name")?;
            RData::Cname(name(0)?)
        }
        RecordType::PTR => {
            need(1, "a name")?;
            RData::Ptr(name(0)?)
        }
        RecordType::MX => {
            need(2, "preference and exchange")?;
            RData::Mx {
                preference: u16_at(0, "the preference")?,
                exchange: name(1)?,
            }
        }
        RecordType::SOA => {
            need(7, "mname rname serial refresh retry expire minimum")?;
            RData::Soa {
                mname: name(0)?,
                rname: name(1)?,
                serial: u32::try_from(num(2, "the serial")?)
                    .map_err(|_| ("the serial is over 2^32-1".to_string(), span_of(2)))?,
                refresh: ttl_at(3, "refresh")?,
                retry: ttl_at(4, "retry")?,
                expire: ttl_at(5, "expire")?,
                minimum: ttl_at(6, "minimum")?,
            }
        }
        RecordType::TXT => {
            if tokens.is_empty() {
                return Err(("TXT needs at least one string".into(), None));
            }
            let mut strings = Vec::new();
            for (i, t) in tokens.iter().enumerate() {
                let s = unescape(&t.text).map_err(|e| (e, span_of(i)))?;
                if s.len() > 255 {
                    return Err((
                        "a character-string holds at most 255 bytes: split it in several quoted strings".into(),
                        span_of(i),
                    ));
                }
                strings.push(s);
            }
            RData::Txt(strings)
        }
        RecordType::SRV => {
            need(4, "priority weight port target")?;
            RData::Srv {
                priority: u16_at(0, "the priority")?,
                weight: u16_at(1, "the weight")?,
                port: u16_at(2, "the port")?,
                target: name(3)?,
            }
        }
        RecordType::CAA => {
            need(3, "flags tag value")?;
            let flags = u8::try_from(num(0, "the flags")?)
                .map_err(|_| ("CAA flags are one byte".to_string(), span_of(0)))?;
            let tag = texts[1].as_bytes().to_vec();
            if tag.is_empty() || !tag.iter().all(u8::is_ascii_alphanumeric) {
                return Err((
                    "a CAA tag is letters and digits (issue, issuewild, iodef)".into(),
                    span_of(1),
                ));
            }
            RData::Caa {
                flags,
                tag,
                value: unescape(texts[2]).map_err(|e| (e, span_of(2)))?,
            }
        }
        RecordType::OPT => {
            return Err((
                "OPT is a pseudo-record of messages; it has no place in a zone".into(),
                None,
            ));
        }
        _ => {
            return Err((
                format!(
                    "this lab reads {rtype} only in the generic form \\# <length> <hex> (RFC 3597 §5)"
                ),
                span_of(0),
            ));
        }
    })
}

/// Reads a master file. `default_origin` is used until a `$ORIGIN` (the
/// zone's name, usually taken from the file name).
pub fn parse_zone(text: &str, default_origin: Option<&Name>) -> ParsedZone {
    let mut diagnostics = Vec::new();
    let entries = tokenize(text, &mut diagnostics);
    let mut origin: Option<Name> = default_origin.cloned();
    let mut default_ttl: Option<u32> = None;
    let mut last_owner: Option<Name> = None;
    let mut last_ttl: Option<u32> = None;
    let mut records = Vec::new();
    let mut spans = Vec::new();
    let mut fields = Vec::new();
    let mut zone_origin: Option<Name> = None;
    for entry in entries {
        let first = &entry.tokens[0];
        if !entry.blank_owner && first.text.starts_with('$') && !first.quoted {
            let directive = first.text.to_ascii_uppercase();
            let arg = entry.tokens.get(1);
            match (directive.as_str(), arg) {
                ("$ORIGIN", Some(a)) => {
                    match Name::parse_relative(&a.text, origin.as_ref().unwrap_or(&Name::root())) {
                        Ok(n) => {
                            fields.push(Field::new("$ORIGIN", entry.span, n.to_string()).help(
                                "The origin: names without a final dot are relative to it, and @ \
                                 stands for it (RFC 1035 §5.1).",
                            ));
                            origin = Some(n);
                        }
                        Err(e) => diagnostics.push(Diagnostic::error(a.span, e.to_string())),
                    }
                }
                ("$TTL", Some(a)) => match parse_ttl(&a.text) {
                    Some(t) => {
                        fields.push(
                            Field::new("$TTL", entry.span, format!("{t} s"))
                                .help("The TTL of the records that give none (RFC 2308 §4)."),
                        );
                        default_ttl = Some(t);
                    }
                    None => diagnostics.push(
                        Diagnostic::error(a.span, format!("{:?} is not a TTL", a.text))
                            .reference("RFC 2308 §4"),
                    ),
                },
                ("$INCLUDE", _) => diagnostics.push(
                    Diagnostic::error(
                        entry.span,
                        "$INCLUDE is not supported by this lab: put the records in this file",
                    )
                    .reference("RFC 1035 §5.1"),
                ),
                (_, None) if directive == "$ORIGIN" || directive == "$TTL" => diagnostics.push(
                    Diagnostic::error(entry.span, format!("{directive} needs a value")),
                ),
                _ => diagnostics.push(Diagnostic::error(
                    first.span,
                    format!("unknown directive {}", first.text),
                )),
            }
            continue;
        }
        let mut idx = 0;
        let tokens = &entry.tokens;
        let owner = if entry.blank_owner {
            match &last_owner {
                Some(o) => o.clone(),
                None => {
                    diagnostics.push(
                        Diagnostic::error(
                            entry.span,
                            "this line starts with a blank, so it reuses the previous owner, but \
                             there is none yet",
                        )
                        .reference("RFC 1035 §5.1"),
                    );
                    continue;
                }
            }
        } else {
            idx = 1;
            let relative = first.text == "@" || !first.text.ends_with('.');
            if origin.is_none() && relative {
                diagnostics.push(
                    Diagnostic::error(
                        first.span,
                        format!("{:?} is relative but no $ORIGIN is set", first.text),
                    )
                    .reference("RFC 1035 §5.1"),
                );
                continue;
            }
            let o = origin.clone().unwrap_or_default();
            match Name::parse_relative(&first.text, &o) {
                Ok(n) => n,
                Err(e) => {
                    diagnostics.push(Diagnostic::error(
                        first.span,
                        format!("{:?}: {e}", first.text),
                    ));
                    continue;
                }
            }
        };
        let rel_origin = origin.clone().unwrap_or_default();
        // [TTL] [CLASS] TYPE or [CLASS] [TTL] TYPE.
        let mut ttl: Option<(u32, Span)> = None;
        let mut class: Option<(Class, Span)> = None;
        let mut rtype: Option<(RecordType, Span)> = None;
        while idx < tokens.len() {
            let t = &tokens[idx];
            if t.quoted {
                break;
            }
            if ttl.is_none() && t.text.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                match parse_ttl(&t.text) {
                    Some(v) => {
                        ttl = Some((v, t.span));
                        idx += 1;
                        continue;
                    }
                    None => break,
                }
            }
            if class.is_none()
                && let Some(c) = Class::from_text(&t.text)
            {
                class = Some((c, t.span));
                idx += 1;
                continue;
            }
            if let Some(ty) = RecordType::from_text(&t.text) {
                rtype = Some((ty, t.span));
                idx += 1;
            }
            break;
        }
        let Some((rtype, type_span)) = rtype else {
            let at = tokens.get(idx).map_or(entry.span, |t| t.span);
            diagnostics.push(
                Diagnostic::error(
                    at,
                    format!(
                        "expected a record type (A, NS, MX, ...) here, found {:?}",
                        tokens.get(idx).map_or("", |t| t.text.as_str())
                    ),
                )
                .reference("RFC 1035 §5.1"),
            );
            continue;
        };
        let rdata_tokens = &tokens[idx..];
        let data = match rdata_from_tokens(rtype, rdata_tokens, &rel_origin) {
            Ok(d) => d,
            Err((message, span)) => {
                diagnostics.push(
                    Diagnostic::error(span.unwrap_or(entry.span), message)
                        .reference("RFC 1035 §3.3"),
                );
                continue;
            }
        };
        let ttl_value = match (ttl, default_ttl, last_ttl) {
            (Some((t, _)), _, _) => t,
            (None, Some(t), _) => t,
            (None, None, Some(t)) => t,
            (None, None, None) => {
                let soa_min = match &data {
                    RData::Soa { minimum, .. } => Some(*minimum),
                    _ => None,
                };
                diagnostics.push(
                    Diagnostic::warning(
                        type_span,
                        "no TTL on this record and no $TTL before it: put $TTL at the top of the file",
                    )
                    .reference("RFC 2308 §4"),
                );
                soa_min.unwrap_or(3600)
            }
        };
        if rtype == RecordType::SOA && zone_origin.is_none() {
            zone_origin = Some(owner.clone());
        }
        // The classic mistake: a name in RDATA written without its final
        // dot, so the origin is appended a second time.
        if let Some(target) = data.target_name()
            && let Some(o) = &origin
            && !o.is_root()
            && target.label_count() >= 2 * o.label_count()
            && target.suffix(2 * o.label_count())
                == Name::parse(&format!("{o}{o}")).unwrap_or_default()
        {
            let span = rdata_tokens.last().map_or(entry.span, |t| t.span);
            diagnostics.push(
                Diagnostic::warning(
                    span,
                    format!(
                        "{target} repeats the origin: the name was probably meant to end with a \
                         dot ({}.)",
                        rdata_tokens.last().map_or("", |t| t.text.as_str())
                    ),
                )
                .reference("RFC 1035 §5.1"),
            );
        }
        let record = Record {
            name: owner.clone(),
            rtype,
            class: class.map_or(Class::IN, |(c, _)| c),
            ttl: ttl_value,
            data,
        };
        let mut field = Field::new(
            format!("{rtype} record"),
            entry.span,
            format!(
                "{} {} {} {}",
                owner.relative_to(&rel_origin),
                ttl_value,
                rtype,
                record.data.to_text()
            ),
        );
        if !entry.blank_owner {
            field
                .children
                .push(Field::new("Owner", first.span, owner.to_string()));
        }
        if let Some((t, s)) = ttl {
            field.children.push(Field::new("TTL", s, format!("{t} s")));
        }
        if let Some((c, s)) = class {
            field.children.push(Field::new("Class", s, c.to_string()));
        }
        field.children.push(
            Field::new("Type", type_span, rtype.to_string()).help(rtype.meaning().to_string()),
        );
        if let (Some(f), Some(l)) = (rdata_tokens.first(), rdata_tokens.last()) {
            field.children.push(Field::new(
                "Data",
                Span::new(f.span.start, l.span.end),
                record.data.to_text(),
            ));
        }
        fields.push(field);
        last_owner = Some(owner);
        last_ttl = Some(ttl_value);
        records.push(record);
        spans.push(entry.span);
    }
    let origin = zone_origin.or(origin).unwrap_or_default();
    check_zone(&origin, &records, &spans, text.len(), &mut diagnostics);
    ParsedZone {
        zone: Zone::new(origin, records),
        record_spans: spans,
        diagnostics,
        fields,
    }
}

/// The rules a zone as a whole must keep.
fn check_zone(
    origin: &Name,
    records: &[Record],
    spans: &[Span],
    len: usize,
    out: &mut Vec<Diagnostic>,
) {
    let soas: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].rtype == RecordType::SOA)
        .collect();
    match soas.as_slice() {
        [] => out.push(
            Diagnostic::error(
                Span::new(0, len.min(1)),
                "the zone has no SOA record: every zone starts with one at its apex",
            )
            .reference("RFC 1035 §5.2"),
        ),
        [first, rest @ ..] => {
            if *first != 0 {
                out.push(
                    Diagnostic::warning(spans[*first], "the SOA should be the zone's first record")
                        .reference("RFC 1035 §5.2"),
                );
            }
            for &i in rest {
                out.push(
                    Diagnostic::error(spans[i], "a zone has exactly one SOA record")
                        .reference("RFC 1035 §5.2"),
                );
            }
        }
    }
    if !records
        .iter()
        .any(|r| r.rtype == RecordType::NS && &r.name == origin)
    {
        out.push(
            Diagnostic::error(
                Span::new(0, len.min(1)),
                format!("no NS record at the apex {origin}: the zone names no server"),
            )
            .reference("RFC 1035 §5.2"),
        );
    }
    let mut owners_with_cname: HashMap<&Name, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if !r.name.is_subdomain_of(origin) {
            out.push(
                Diagnostic::error(spans[i], format!("{} is outside the zone {origin}", r.name))
                    .reference("RFC 1035 §5.2"),
            );
        }
        if r.rtype == RecordType::CNAME {
            owners_with_cname.insert(&r.name, i);
        }
    }
    for (i, r) in records.iter().enumerate() {
        if let Some(&c) = owners_with_cname.get(&r.name)
            && c != i
        {
            out.push(
                Diagnostic::error(
                    spans[i],
                    format!(
                        "{} has a CNAME, so it can have no other data: an alias is only an alias",
                        r.name
                    ),
                )
                .reference("RFC 1034 §3.6.2, RFC 2181 §10.1"),
            );
        }
        if matches!(r.rtype, RecordType::NS | RecordType::MX)
            && let Some(target) = r.data.target_name()
            && owners_with_cname.contains_key(target)
        {
            out.push(
                Diagnostic::warning(
                    spans[i],
                    format!(
                        "{target} is an alias (CNAME): {} records must name the canonical name",
                        r.rtype
                    ),
                )
                .reference("RFC 2181 §10.3"),
            );
        }
    }
    // Delegations below the apex need glue when their servers are inside.
    for (i, r) in records.iter().enumerate() {
        if r.rtype != RecordType::NS || &r.name == origin {
            continue;
        }
        if let Some(target) = r.data.target_name()
            && target.is_subdomain_of(&r.name)
            && !records
                .iter()
                .any(|g| &g.name == target && matches!(g.rtype, RecordType::A | RecordType::AAAA))
        {
            out.push(
                Diagnostic::error(
                    spans[i],
                    format!(
                        "{target} lies inside the delegated zone {}, so the parent must hold \
                         its address (a glue record), or nobody can reach it",
                        r.name
                    ),
                )
                .reference("RFC 1034 §4.2.1"),
            );
        }
    }
}

/// A zone file as a dissection (`wirelab dissect zone`).
pub fn dissect_zone(bytes: &[u8]) -> Dissection {
    let text = String::from_utf8_lossy(bytes);
    let parsed = parse_zone(&text, None);
    let mut d = Dissection::new(
        Protocol::Dns,
        format!(
            "zone {} ({} records)",
            parsed.zone.origin,
            parsed.zone.records().len()
        ),
        bytes.len(),
    );
    // Lossy decoding changes lengths only for invalid UTF-8; clamp spans.
    let clamp = |s: Span| Span::new(s.start.min(bytes.len()), s.end.min(bytes.len()));
    fn clamp_field(f: Field, clamp: &dyn Fn(Span) -> Span) -> Field {
        Field {
            span: clamp(f.span),
            children: f
                .children
                .into_iter()
                .map(|c| clamp_field(c, clamp))
                .collect(),
            ..f
        }
    }
    d.fields = parsed
        .fields
        .into_iter()
        .map(|f| clamp_field(f, &clamp))
        .collect();
    d.diagnostics = parsed
        .diagnostics
        .into_iter()
        .map(|x| Diagnostic {
            span: clamp(x.span),
            ..x
        })
        .collect();
    if std::str::from_utf8(bytes).is_err() {
        d.diagnostics.push(Diagnostic::warning(
            Span::new(0, bytes.len()),
            "the file is not valid UTF-8",
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const CS_UMASS: &str = r#"
$ORIGIN cs.umass.edu.
$TTL 1h
@   IN  SOA dns.cs.umass.edu. hostmaster.cs.umass.edu. (
            2024010101 ; serial
            3h 15m 1w 300 )
    IN  NS  dns
dns         A   127.0.0.21
gaia    600 IN  A   128.119.245.12
www     CNAME gaia
alias   CNAME elsewhere.example.
lab     NS  ns.lab
ns.lab      A   127.0.0.99
text    TXT "hello world" "second; not a comment"
mail    MX 10 gaia
a.b.deep    A   10.0.0.1
"#;

    fn zone() -> Zone {
        let parsed = parse_zone(CS_UMASS, None);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        parsed.zone
    }

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn parses_the_master_file_syntax() {
        let z = zone();
        assert_eq!(z.origin, n("cs.umass.edu"));
        assert_eq!(z.records().len(), 11);
        let soa = &z.rrset(&z.origin, RecordType::SOA)[0];
        assert_eq!(soa.ttl, 3600);
        assert_eq!(
            soa.data.to_text(),
            "dns.cs.umass.edu. hostmaster.cs.umass.edu. 2024010101 10800 900 604800 300"
        );
        let gaia = &z.rrset(&n("gaia.cs.umass.edu"), RecordType::A)[0];
        assert_eq!(gaia.ttl, 600);
        let txt = &z.rrset(&n("text.cs.umass.edu"), RecordType::TXT)[0];
        assert_eq!(
            txt.data.to_text(),
            "\"hello world\" \"second; not a comment\""
        );
        // The blank-started line reuses the owner @.
        assert_eq!(z.rrset(&z.origin, RecordType::NS).len(), 1);
    }

    #[test]
    fn lookups_follow_rfc_1034() {
        let z = zone();
        match z.lookup(&n("www.cs.umass.edu"), RecordType::A) {
            Lookup::Answer { chain, records } => {
                assert_eq!(chain.len(), 1);
                assert_eq!(records[0].data.to_text(), "128.119.245.12");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            z.lookup(&n("alias.cs.umass.edu"), RecordType::A),
            Lookup::Answer { ref chain, ref records } if chain.len() == 1 && records.is_empty()
        ));
        match z.lookup(&n("host.lab.cs.umass.edu"), RecordType::A) {
            Lookup::Referral { ns, glue, .. } => {
                assert_eq!(ns[0].data.to_text(), "ns.lab.cs.umass.edu.");
                assert_eq!(glue[0].data.to_text(), "127.0.0.99");
            }
            other => panic!("{other:?}"),
        }
        match z.lookup(&n("nobody.cs.umass.edu"), RecordType::A) {
            Lookup::NxDomain { soa: Some(soa), .. } => assert_eq!(soa.ttl, 300),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            z.lookup(&n("gaia.cs.umass.edu"), RecordType::MX),
            Lookup::NoData { .. }
        ));
        // An empty non-terminal exists (RFC 8020): NODATA, not NXDOMAIN.
        assert!(matches!(
            z.lookup(&n("b.deep.cs.umass.edu"), RecordType::A),
            Lookup::NoData { .. }
        ));
    }

    #[test]
    fn mistakes_are_diagnosed() {
        let text = "$ORIGIN umass.edu.\n@ 3600 IN NS dns.umass.edu\nwww CNAME gaia\nwww A 1.2.3.4\nbad A 999.1.1.1\nx IN BOGUS y\n( unclosed\n";
        let parsed = parse_zone(text, None);
        let messages: Vec<&str> = parsed
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        let has = |s: &str| messages.iter().any(|m| m.contains(s));
        assert!(has("repeats the origin"), "{messages:?}");
        assert!(has("not an IPv4 address"), "{messages:?}");
        assert!(has("expected a record type"), "{messages:?}");
        assert!(has("never closed"), "{messages:?}");
        assert!(has("no SOA"), "{messages:?}");
        assert!(has("can have no other data"), "{messages:?}");
        // Spans point into the text.
        for d in &parsed.diagnostics {
            assert!(d.span.end <= text.len());
        }
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600"), Some(3600));
        assert_eq!(parse_ttl("1h30m"), Some(5400));
        assert_eq!(parse_ttl("1W"), Some(604800));
        assert_eq!(parse_ttl("1x"), None);
        assert_eq!(parse_ttl("10"), Some(10));
        assert_eq!(parse_ttl("5h3"), None);
    }

    #[test]
    fn dissect_zone_keeps_spans_in_bounds() {
        let d = dissect_zone(CS_UMASS.as_bytes());
        assert!(d.check_invariants(false).is_empty());
        assert!(d.summary.starts_with("zone cs.umass.edu."));
    }
}
