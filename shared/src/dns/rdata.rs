//! Record data (RDATA) of the types this lab decodes, both directions, and
//! its presentation form as in zone files and dig's output.
//!
//! Decoding gets the whole message (names inside RDATA may be compressed)
//! and the RDATA's span; it fails with a [`RDataError`] when the bytes do
//! not fit the type (an A record whose RDLENGTH is not 4, a name running
//! past RDLENGTH). Unknown types keep their bytes (RFC 3597) and print as
//! `\# 4 0a000001`.

use super::name::{Compressor, Name, decode_name};
use super::types::RecordType;
use crate::dissect::Span;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One EDNS option (RFC 6891 §6.1.2): a code and its data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EdnsOption {
    pub code: u16,
    pub data: Vec<u8>,
}

impl EdnsOption {
    pub fn code_name(code: u16) -> String {
        match code {
            3 => "NSID".into(),
            8 => "CLIENT-SUBNET".into(),
            9 => "EXPIRE".into(),
            10 => "COOKIE".into(),
            11 => "TCP-KEEPALIVE".into(),
            12 => "PADDING".into(),
            15 => "EXTENDED-DNS-ERROR".into(),
            n => format!("OPTION{n}"),
        }
    }
}

/// Decoded record data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Ns(Name),
    Cname(Name),
    Ptr(Name),
    Soa {
        mname: Name,
        rname: Name,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    Mx {
        preference: u16,
        exchange: Name,
    },
    /// One or more character-strings of at most 255 bytes each.
    Txt(Vec<Vec<u8>>),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: Name,
    },
    Caa {
        flags: u8,
        tag: Vec<u8>,
        value: Vec<u8>,
    },
    /// The options of an OPT pseudo-record.
    Opt(Vec<EdnsOption>),
    /// Any other type: the bytes as they are (RFC 3597).
    Unknown(Vec<u8>),
}

/// Why RDATA does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RDataError {
    pub message: String,
    pub span: Span,
}

impl RDataError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        RDataError {
            message: message.into(),
            span,
        }
    }
}

/// A cursor over RDATA, inside the whole message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
    rtype: RecordType,
}

impl Reader<'_> {
    fn need(&self, n: usize, what: &str) -> Result<(), RDataError> {
        if self.pos + n > self.end {
            return Err(RDataError::new(
                Span::new(self.pos, self.end),
                format!(
                    "{} RDATA ends before its {what}: RDLENGTH is too short for this type",
                    self.rtype
                ),
            ));
        }
        Ok(())
    }

    fn u8(&mut self, what: &str) -> Result<u8, RDataError> {
        self.need(1, what)?;
        self.pos += 1;
        Ok(self.msg[self.pos - 1])
    }

    fn u16(&mut self, what: &str) -> Result<u16, RDataError> {
        self.need(2, what)?;
        self.pos += 2;
        Ok(u16::from_be_bytes([
            self.msg[self.pos - 2],
            self.msg[self.pos - 1],
        ]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, RDataError> {
        self.need(4, what)?;
        self.pos += 4;
        let b = &self.msg[self.pos - 4..self.pos];
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&[u8], RDataError> {
        self.need(n, what)?;
        self.pos += n;
        Ok(&self.msg[self.pos - n..self.pos])
    }

    fn name(&mut self, what: &str) -> Result<Name, RDataError> {
        // Names inside RDATA are read against the whole message, so a
        // pointer can reach the header's names, but the name in place must
        // end inside RDLENGTH.
        match decode_name(&self.msg[..self.end], self.pos) {
            Ok(d) => {
                self.pos = d.end;
                Ok(d.name)
            }
            Err((e, _)) => Err(RDataError::new(
                e.span,
                format!("{what} in {} RDATA: {}", self.rtype, e.message()),
            )),
        }
    }

    fn character_string(&mut self, what: &str) -> Result<Vec<u8>, RDataError> {
        let len = self.u8(what)? as usize;
        Ok(self.bytes(len, what)?.to_vec())
    }

    fn finish(self) -> Result<(), RDataError> {
        if self.pos != self.end {
            return Err(RDataError::new(
                Span::new(self.pos, self.end),
                format!(
                    "{} bytes left over after the {} RDATA: RDLENGTH is larger than its content",
                    self.end - self.pos,
                    self.rtype
                ),
            ));
        }
        Ok(())
    }
}

impl RData {
    /// Decodes the RDATA at `span` of `msg` as `rtype`.
    pub fn decode(msg: &[u8], span: Span, rtype: RecordType) -> Result<RData, RDataError> {
        let end = span.end.min(msg.len());
        let mut r = Reader {
            msg,
            pos: span.start,
            end,
            rtype,
        };
        let fixed = |len: usize| -> Result<(), RDataError> {
            if span.len() != len {
                return Err(RDataError::new(
                    span,
                    format!(
                        "RDLENGTH is {} but {rtype} data is always {len} bytes",
                        span.len()
                    ),
                ));
            }
            Ok(())
        };
        let data = match rtype {
            RecordType::A => {
                fixed(4)?;
                let b = r.bytes(4, "address")?;
                RData::A(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
            }
            RecordType::AAAA => {
                fixed(16)?;
                let b = r.bytes(16, "address")?;
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                RData::Aaaa(Ipv6Addr::from(a))
            }
            RecordType::NS => RData::Ns(r.name("NSDNAME")?),
            RecordType::CNAME => RData::Cname(r.name("CNAME")?),
            RecordType::PTR => RData::Ptr(r.name("PTRDNAME")?),
            RecordType::SOA => RData::Soa {
                mname: r.name("MNAME")?,
                rname: r.name("RNAME")?,
                serial: r.u32("SERIAL")?,
                refresh: r.u32("REFRESH")?,
                retry: r.u32("RETRY")?,
                expire: r.u32("EXPIRE")?,
                minimum: r.u32("MINIMUM")?,
            },
            RecordType::MX => RData::Mx {
                preference: r.u16("PREFERENCE")?,
                exchange: r.name("EXCHANGE")?,
            },
            RecordType::TXT => {
                let mut strings = Vec::new();
                while r.pos < r.end {
                    strings.push(r.character_string("text")?);
                }
                if strings.is_empty() {
                    return Err(RDataError::new(
                        span,
                        "TXT RDATA must hold at least one character-string",
                    ));
                }
                RData::Txt(strings)
            }
            RecordType::SRV => RData::Srv {
                priority: r.u16("priority")?,
                weight: r.u16("weight")?,
                port: r.u16("port")?,
                target: r.name("target")?,
            },
            RecordType::CAA => {
                let flags = r.u8("flags")?;
                let tag_len = r.u8("tag length")? as usize;
                if tag_len == 0 {
                    return Err(RDataError::new(
                        Span::new(r.pos - 1, r.pos),
                        "a CAA tag cannot be empty (RFC 8659 §4.1)",
                    ));
                }
                let tag = r.bytes(tag_len, "tag")?.to_vec();
                let value = r.bytes(r.end - r.pos, "value")?.to_vec();
                RData::Caa { flags, tag, value }
            }
            RecordType::OPT => {
                let mut options = Vec::new();
                while r.pos < r.end {
                    let code = r.u16("option code")?;
                    let len = r.u16("option length")? as usize;
                    let data = r.bytes(len, "option data")?.to_vec();
                    options.push(EdnsOption { code, data });
                }
                RData::Opt(options)
            }
            _ => RData::Unknown(r.bytes(span.len(), "data")?.to_vec()),
        };
        r.finish()?;
        Ok(data)
    }

    /// Appends the wire form. Names in NS, CNAME, PTR, SOA and MX are
    /// compressed; SRV's target is not (RFC 2782, RFC 3597 §4).
    pub fn encode<'a>(&'a self, out: &mut Vec<u8>, compressor: &mut Compressor<'a>) {
        match self {
            RData::A(a) => out.extend_from_slice(&a.octets()),
            RData::Aaaa(a) => out.extend_from_slice(&a.octets()),
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => compressor.write(n, out),
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => {
                compressor.write(mname, out);
                compressor.write(rname, out);
                for v in [serial, refresh, retry, expire, minimum] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            RData::Mx {
                preference,
                exchange,
            } => {
                out.extend_from_slice(&preference.to_be_bytes());
                compressor.write(exchange, out);
            }
            RData::Txt(strings) => {
                for s in strings {
                    let s = &s[..s.len().min(255)];
                    out.push(s.len() as u8);
                    out.extend_from_slice(s);
                }
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                for v in [priority, weight, port] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
                target.write_uncompressed(out);
            }
            RData::Caa { flags, tag, value } => {
                out.push(*flags);
                let tag = &tag[..tag.len().min(255)];
                out.push(tag.len() as u8);
                out.extend_from_slice(tag);
                out.extend_from_slice(value);
            }
            RData::Opt(options) => {
                for o in options {
                    out.extend_from_slice(&o.code.to_be_bytes());
                    out.extend_from_slice(&(o.data.len() as u16).to_be_bytes());
                    out.extend_from_slice(&o.data);
                }
            }
            RData::Unknown(bytes) => out.extend_from_slice(bytes),
        }
    }

    /// The presentation form, as in a zone file: `128.119.245.12`,
    /// `10 mail.hamburger.edu.`, `"v=spf1 -all"`, `\# 2 abcd`.
    pub fn to_text(&self) -> String {
        match self {
            RData::A(a) => a.to_string(),
            RData::Aaaa(a) => a.to_string(),
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => n.to_string(),
            RData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => format!("{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"),
            RData::Mx {
                preference,
                exchange,
            } => format!("{preference} {exchange}"),
            RData::Txt(strings) => strings
                .iter()
                .map(|s| quoted(s))
                .collect::<Vec<_>>()
                .join(" "),
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => format!("{priority} {weight} {port} {target}"),
            RData::Caa { flags, tag, value } => {
                format!("{flags} {} {}", String::from_utf8_lossy(tag), quoted(value))
            }
            RData::Opt(options) => options
                .iter()
                .map(|o| {
                    format!(
                        "{}={}",
                        EdnsOption::code_name(o.code),
                        crate::text::hex_spaced(&o.data).replace(' ', "")
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            RData::Unknown(bytes) => generic_text(bytes),
        }
    }

    /// The name this data points at, for additional-section processing
    /// and CNAME chasing.
    pub fn target_name(&self) -> Option<&Name> {
        match self {
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => Some(n),
            RData::Mx { exchange, .. } => Some(exchange),
            RData::Srv { target, .. } => Some(target),
            _ => None,
        }
    }
}

/// RFC 3597 §5 generic form: `\# <length> <hex>`.
pub fn generic_text(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "\\# 0".into()
    } else {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("\\# {} {hex}", bytes.len())
    }
}

/// A character-string in quotes, `"` and `\` escaped, other bytes outside
/// printable ASCII as `\DDD`.
pub fn quoted(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(rtype: RecordType, data: RData) {
        let mut out = Vec::new();
        data.encode(&mut out, &mut Compressor::new());
        let back = RData::decode(&out, Span::new(0, out.len()), rtype).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn every_type_round_trips() {
        let n = |s: &str| Name::parse(s).unwrap();
        round_trip(RecordType::A, RData::A(Ipv4Addr::new(212, 212, 212, 1)));
        round_trip(
            RecordType::AAAA,
            RData::Aaaa("2001:db8::1".parse().unwrap()),
        );
        round_trip(RecordType::NS, RData::Ns(n("dns1.networkutopia.com")));
        round_trip(
            RecordType::SOA,
            RData::Soa {
                mname: n("dns.umass.edu"),
                rname: n("hostmaster.umass.edu"),
                serial: 2024010101,
                refresh: 3600,
                retry: 600,
                expire: 86400,
                minimum: 300,
            },
        );
        round_trip(
            RecordType::MX,
            RData::Mx {
                preference: 10,
                exchange: n("mail.hamburger.edu"),
            },
        );
        round_trip(
            RecordType::TXT,
            RData::Txt(vec![b"hello".to_vec(), Vec::new()]),
        );
        round_trip(
            RecordType::SRV,
            RData::Srv {
                priority: 0,
                weight: 5,
                port: 5060,
                target: n("sip.crepes.fr"),
            },
        );
        round_trip(
            RecordType::CAA,
            RData::Caa {
                flags: 0,
                tag: b"issue".to_vec(),
                value: b"letsencrypt.org".to_vec(),
            },
        );
        round_trip(
            RecordType::OPT,
            RData::Opt(vec![EdnsOption {
                code: 10,
                data: vec![1, 2, 3, 4, 5, 6, 7, 8],
            }]),
        );
        round_trip(RecordType(65280), RData::Unknown(vec![0xab, 0xcd]));
    }

    #[test]
    fn wrong_lengths_are_explained() {
        let err = RData::decode(&[1, 2, 3], Span::new(0, 3), RecordType::A).unwrap_err();
        assert!(err.message.contains("always 4 bytes"), "{}", err.message);
        // MX whose name runs past RDLENGTH.
        let msg = [0, 10, 4, b'm', b'a', b'i', b'l', 0];
        let err = RData::decode(&msg, Span::new(0, 5), RecordType::MX).unwrap_err();
        assert!(err.message.contains("EXCHANGE"), "{}", err.message);
        // NS with bytes left over.
        let msg = [0, 9, 9];
        let err = RData::decode(&msg, Span::new(0, 3), RecordType::NS).unwrap_err();
        assert!(err.message.contains("left over"), "{}", err.message);
    }

    #[test]
    fn presentation_forms() {
        assert_eq!(generic_text(&[10, 0, 0, 1]), "\\# 4 0a000001");
        assert_eq!(quoted(b"a\"b\x01"), "\"a\\\"b\\001\"");
        assert_eq!(
            RData::Mx {
                preference: 10,
                exchange: Name::parse("mail.hamburger.edu").unwrap()
            }
            .to_text(),
            "10 mail.hamburger.edu."
        );
    }
}
