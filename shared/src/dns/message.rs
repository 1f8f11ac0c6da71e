//! A whole DNS message (RFC 1035 §4.1): header, questions and the three
//! record sections, parsed strictly into typed values and encoded back with
//! name compression.
//!
//! [`Message::parse`] refuses anything malformed (the dissector in
//! [`super::dissect`] is the lenient reader that explains what is wrong).
//! [`Message::to_bytes`] recomputes the four counts from the sections, and
//! [`Message::to_bytes_within`] truncates to a UDP size, setting TC when
//! the answer had to be cut (RFC 2181 §9).

use super::header::{HEADER_LEN, Header};
use super::name::{Compressor, Name, NameError, decode_name};
use super::rdata::{EdnsOption, RData, RDataError};
use super::types::{Class, Rcode, RecordType};
use crate::dissect::Span;

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    pub name: Name,
    pub qtype: RecordType,
    pub qclass: Class,
}

impl Question {
    pub fn new(name: Name, qtype: RecordType) -> Self {
        Question {
            name,
            qtype,
            qclass: Class::IN,
        }
    }
}

/// A resource record. For OPT, `class` is the requester's UDP payload size
/// and `ttl` holds the extended RCODE, the version and the flags (see
/// [`Edns`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    pub name: Name,
    pub rtype: RecordType,
    pub class: Class,
    pub ttl: u32,
    pub data: RData,
}

impl Record {
    pub fn new(name: Name, ttl: u32, data: RData) -> Self {
        let rtype = match &data {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::AAAA,
            RData::Ns(_) => RecordType::NS,
            RData::Cname(_) => RecordType::CNAME,
            RData::Ptr(_) => RecordType::PTR,
            RData::Soa { .. } => RecordType::SOA,
            RData::Mx { .. } => RecordType::MX,
            RData::Txt(_) => RecordType::TXT,
            RData::Srv { .. } => RecordType::SRV,
            RData::Caa { .. } => RecordType::CAA,
            RData::Opt(_) => RecordType::OPT,
            // Callers of unknown types set `rtype` themselves.
            RData::Unknown(_) => RecordType(0),
        };
        Record {
            name,
            rtype,
            class: Class::IN,
            ttl,
            data,
        }
    }

    /// One line as in a zone file or dig's output.
    pub fn to_text(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.name,
            self.ttl,
            self.class,
            self.rtype,
            self.data.to_text()
        )
    }

    fn encode<'a>(&'a self, out: &mut Vec<u8>, compressor: &mut Compressor<'a>) {
        compressor.write(&self.name, out);
        out.extend_from_slice(&self.rtype.0.to_be_bytes());
        out.extend_from_slice(&self.class.0.to_be_bytes());
        out.extend_from_slice(&self.ttl.to_be_bytes());
        let len_at = out.len();
        out.extend_from_slice(&[0, 0]);
        self.data.encode(out, compressor);
        let len = (out.len() - len_at - 2) as u16;
        out[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
    }
}

/// The EDNS(0) parameters carried by an OPT pseudo-record (RFC 6891 §6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edns {
    /// The largest UDP payload the sender can receive.
    pub udp_size: u16,
    /// The upper 8 bits of the 12-bit RCODE.
    pub extended_rcode: u8,
    pub version: u8,
    /// DNSSEC OK.
    pub dnssec_ok: bool,
    /// The other 15 flag bits, reserved (must be zero).
    pub z: u16,
    pub options: Vec<EdnsOption>,
}

impl Edns {
    /// EDNS version 0 with a payload size and no options.
    pub fn with_size(udp_size: u16) -> Self {
        Edns {
            udp_size,
            ..Edns::default()
        }
    }

    pub fn from_record(record: &Record) -> Option<Edns> {
        if record.rtype != RecordType::OPT {
            return None;
        }
        let options = match &record.data {
            RData::Opt(o) => o.clone(),
            _ => Vec::new(),
        };
        Some(Edns {
            udp_size: record.class.0,
            extended_rcode: (record.ttl >> 24) as u8,
            version: (record.ttl >> 16) as u8,
            dnssec_ok: record.ttl & 0x8000 != 0,
            z: (record.ttl & 0x7FFF) as u16,
            options,
        })
    }

    pub fn to_record(&self) -> Record {
        Record {
            name: Name::root(),
            rtype: RecordType::OPT,
            class: Class(self.udp_size),
            ttl: ((self.extended_rcode as u32) << 24)
                | ((self.version as u32) << 16)
                | if self.dnssec_ok { 0x8000 } else { 0 }
                | (self.z as u32 & 0x7FFF),
            data: RData::Opt(self.options.clone()),
        }
    }
}

/// Why a message could not be parsed strictly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("the message is {0} bytes, shorter than the 12-byte header")]
    ShortHeader(usize),
    #[error("{what}: {message}")]
    Name {
        what: String,
        message: String,
        span: Span,
    },
    #[error("the message ends inside {what}")]
    Truncated { what: String, span: Span },
    #[error("{0}")]
    RData(String, Span),
    #[error("{0} bytes follow the last record the counts announce")]
    TrailingBytes(usize),
}

impl DecodeError {
    fn name(what: impl Into<String>, e: NameError) -> Self {
        DecodeError::Name {
            what: what.into(),
            message: e.message(),
            span: e.span,
        }
    }
}

impl From<RDataError> for DecodeError {
    fn from(e: RDataError) -> Self {
        DecodeError::RData(e.message, e.span)
    }
}

/// A DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub header: Header,
    pub questions: Vec<Question>,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    /// The additional section, the OPT pseudo-record included.
    pub additional: Vec<Record>,
}

fn word(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

impl Message {
    /// A query for one question, as a stub resolver sends it.
    pub fn query(id: u16, question: Question, recursion_desired: bool) -> Message {
        Message {
            header: Header {
                id,
                rd: recursion_desired,
                qdcount: 1,
                ..Header::default()
            },
            questions: vec![question],
            ..Message::default()
        }
    }

    /// Parses a complete message strictly: every count honoured, every name
    /// and RDATA valid, no bytes left over.
    pub fn parse(bytes: &[u8]) -> Result<Message, DecodeError> {
        let header = Header::parse(bytes).ok_or(DecodeError::ShortHeader(bytes.len()))?;
        let mut pos = HEADER_LEN;
        let mut questions = Vec::with_capacity(header.qdcount.min(16) as usize);
        for i in 0..header.qdcount {
            // Named only for an error: a server parses every query.
            let what = || format!("question {}", i + 1);
            let name = decode_name(bytes, pos).map_err(|(e, _)| DecodeError::name(what(), e))?;
            pos = name.end;
            if pos + 4 > bytes.len() {
                return Err(DecodeError::Truncated {
                    what: what(),
                    span: Span::new(pos, bytes.len()),
                });
            }
            questions.push(Question {
                name: name.name,
                qtype: RecordType(word(bytes, pos)),
                qclass: Class(word(bytes, pos + 2)),
            });
            pos += 4;
        }
        let mut sections: [Vec<Record>; 3] = Default::default();
        let counts = [header.ancount, header.nscount, header.arcount];
        let names = ["answer", "authority", "additional"];
        for (s, section) in sections.iter_mut().enumerate() {
            for i in 0..counts[s] {
                let what = || format!("{} record {}", names[s], i + 1);
                let (record, end) = parse_record(bytes, pos, &what)?;
                section.push(record);
                pos = end;
            }
        }
        if pos != bytes.len() {
            return Err(DecodeError::TrailingBytes(bytes.len() - pos));
        }
        let [answers, authority, additional] = sections;
        Ok(Message {
            header,
            questions,
            answers,
            authority,
            additional,
        })
    }

    /// The wire form, compressed, with the counts taken from the sections.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut header = self.header;
        header.qdcount = self.questions.len() as u16;
        header.ancount = self.answers.len() as u16;
        header.nscount = self.authority.len() as u16;
        header.arcount = self.additional.len() as u16;
        let mut out = header.to_bytes().to_vec();
        let mut compressor = Compressor::new();
        for q in &self.questions {
            compressor.write(&q.name, &mut out);
            out.extend_from_slice(&q.qtype.0.to_be_bytes());
            out.extend_from_slice(&q.qclass.0.to_be_bytes());
        }
        for r in self
            .answers
            .iter()
            .chain(&self.authority)
            .chain(&self.additional)
        {
            r.encode(&mut out, &mut compressor);
        }
        out
    }

    /// The wire form cut to at most `limit` bytes for UDP. Additional
    /// records are dropped first (the OPT record is kept); if the answer
    /// and authority still do not fit, they go too and TC is set, so the
    /// client knows to ask again over TCP (RFC 1035 §4.2.1, RFC 2181 §9).
    pub fn to_bytes_within(&self, limit: usize) -> Vec<u8> {
        let full = self.to_bytes();
        if full.len() <= limit {
            return full;
        }
        let opt: Vec<Record> = self
            .additional
            .iter()
            .filter(|r| r.rtype == RecordType::OPT)
            .cloned()
            .collect();
        // Keep as many additional records as fit, in order, OPT last.
        let others = self
            .additional
            .iter()
            .filter(|r| r.rtype != RecordType::OPT);
        let build = |kept: &[Record]| {
            let mut m = self.clone();
            m.additional = kept.iter().chain(&opt).cloned().collect();
            m.to_bytes()
        };
        if build(&[]).len() <= limit {
            let mut kept: Vec<Record> = Vec::new();
            for r in others {
                kept.push(r.clone());
                if build(&kept).len() > limit {
                    kept.pop();
                    break;
                }
            }
            return build(&kept);
        }
        let mut cut = self.clone();
        cut.answers.clear();
        cut.authority.clear();
        cut.additional = opt;
        cut.header.tc = true;
        let bytes = cut.to_bytes();
        if bytes.len() <= limit {
            return bytes;
        }
        // Even the question does not fit: the header alone, TC set.
        cut.questions.clear();
        cut.additional.clear();
        cut.to_bytes()
    }

    /// The EDNS parameters, if the message has an OPT record.
    pub fn edns(&self) -> Option<Edns> {
        self.additional.iter().find_map(Edns::from_record)
    }

    /// Replaces (or removes) the OPT record.
    pub fn set_edns(&mut self, edns: Option<Edns>) {
        self.additional.retain(|r| r.rtype != RecordType::OPT);
        if let Some(e) = edns {
            self.additional.push(e.to_record());
        }
    }

    /// The full response code: 4 header bits, plus 8 from EDNS if present.
    pub fn rcode(&self) -> Rcode {
        let high = self.edns().map_or(0, |e| e.extended_rcode as u16);
        Rcode((high << 4) | self.header.rcode as u16)
    }

    /// Sets the response code, using EDNS for values above 15.
    pub fn set_rcode(&mut self, rcode: Rcode) {
        self.header.rcode = (rcode.0 & 0xF) as u8;
        if rcode.0 > 15
            && let Some(mut e) = self.edns()
        {
            e.extended_rcode = (rcode.0 >> 4) as u8;
            self.set_edns(Some(e));
        }
    }

    /// The first question, if any.
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// A response skeleton for this query: same ID, opcode, RD and
    /// question, QR set.
    pub fn response_to(query: &Message) -> Message {
        Message {
            header: Header {
                id: query.header.id,
                qr: true,
                opcode: query.header.opcode,
                rd: query.header.rd,
                cd: query.header.cd,
                ..Header::default()
            },
            questions: query.questions.clone(),
            ..Message::default()
        }
    }

    /// The records of every section, with the section's name.
    pub fn all_records(&self) -> impl Iterator<Item = (&'static str, &Record)> {
        self.answers
            .iter()
            .map(|r| ("answer", r))
            .chain(self.authority.iter().map(|r| ("authority", r)))
            .chain(self.additional.iter().map(|r| ("additional", r)))
    }

    /// The message as dig prints it, for logs and tests.
    pub fn to_text(&self) -> String {
        let h = &self.header;
        let mut s = format!(
            ";; opcode: {}, status: {}, id: {}\n;; flags: {}; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}\n",
            h.opcode().name(),
            self.rcode(),
            h.id,
            h.flag_names(),
            self.questions.len(),
            self.answers.len(),
            self.authority.len(),
            self.additional.len()
        );
        for q in &self.questions {
            s.push_str(&format!(";{} {} {}\n", q.name, q.qclass, q.qtype));
        }
        for (section, r) in self.all_records() {
            s.push_str(&format!("{section}: {}\n", r.to_text()));
        }
        s
    }
}

/// Reads one resource record at `pos`; returns it and where it ends.
pub(crate) fn parse_record(
    bytes: &[u8],
    pos: usize,
    what: &dyn Fn() -> String,
) -> Result<(Record, usize), DecodeError> {
    let name = decode_name(bytes, pos).map_err(|(e, _)| DecodeError::name(what(), e))?;
    let mut pos = name.end;
    if pos + 10 > bytes.len() {
        return Err(DecodeError::Truncated {
            what: what(),
            span: Span::new(pos, bytes.len()),
        });
    }
    let rtype = RecordType(word(bytes, pos));
    let class = Class(word(bytes, pos + 2));
    let ttl = u32::from_be_bytes([
        bytes[pos + 4],
        bytes[pos + 5],
        bytes[pos + 6],
        bytes[pos + 7],
    ]);
    let rdlength = word(bytes, pos + 8) as usize;
    pos += 10;
    if pos + rdlength > bytes.len() {
        return Err(DecodeError::Truncated {
            what: format!("the RDATA of {}", what()),
            span: Span::new(pos, bytes.len()),
        });
    }
    let data = RData::decode(bytes, Span::new(pos, pos + rdlength), rtype)?;
    Ok((
        Record {
            name: name.name,
            rtype,
            class,
            ttl,
            data,
        },
        pos + rdlength,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn query_bytes_are_what_dig_sends() {
        let q = Message::query(
            0x1234,
            Question::new(n("gaia.cs.umass.edu"), RecordType::A),
            true,
        );
        let bytes = q.to_bytes();
        let mut expected = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["gaia", "cs", "umass", "edu"] {
            expected.push(label.len() as u8);
            expected.extend_from_slice(label.as_bytes());
        }
        expected.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert_eq!(bytes, expected);
        assert_eq!(Message::parse(&bytes).unwrap(), q);
    }

    #[test]
    fn response_compresses_and_parses_back() {
        let q = Message::query(
            7,
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
        r.set_edns(Some(Edns::with_size(1232)));
        let bytes = r.to_bytes();
        // The answer's owner is a pointer to the question's name (0xC00C).
        assert_eq!(&bytes[35..37], &[0xC0, 0x0C]);
        let back = Message::parse(&bytes).unwrap();
        assert_eq!(back.header.ancount, 1);
        assert_eq!(back.header.arcount, 1);
        assert_eq!(back.edns().unwrap().udp_size, 1232);
        assert_eq!(back.answers, r.answers);
    }

    #[test]
    fn truncation_drops_additional_then_sets_tc() {
        let q = Message::query(1, Question::new(n("big.crepes.fr"), RecordType::TXT), false);
        let mut r = Message::response_to(&q);
        for i in 0..20u8 {
            r.answers.push(Record::new(
                n("big.crepes.fr"),
                60,
                RData::Txt(vec![vec![b'a' + i; 40]]),
            ));
        }
        r.additional.push(Record::new(
            n("x.crepes.fr"),
            60,
            RData::A(Ipv4Addr::LOCALHOST),
        ));
        let full = r.to_bytes();
        assert!(full.len() > 512);
        let cut = Message::parse(&r.to_bytes_within(512)).unwrap();
        assert!(cut.header.tc);
        assert!(cut.answers.is_empty());
        assert_eq!(cut.questions.len(), 1);
        // Without the big answer, only the additional record goes, no TC.
        let mut small = r.clone();
        small.answers.truncate(1);
        let limit = small.to_bytes().len() - 1;
        let cut = Message::parse(&small.to_bytes_within(limit)).unwrap();
        assert!(!cut.header.tc);
        assert!(cut.additional.is_empty());
        assert_eq!(cut.answers.len(), 1);
    }

    #[test]
    fn strict_parse_refuses_bad_messages() {
        assert_eq!(Message::parse(&[0; 5]), Err(DecodeError::ShortHeader(5)));
        let q = Message::query(1, Question::new(n("a.b"), RecordType::A), true).to_bytes();
        let mut extra = q.clone();
        extra.push(0);
        assert_eq!(Message::parse(&extra), Err(DecodeError::TrailingBytes(1)));
        assert!(matches!(
            Message::parse(&q[..q.len() - 1]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn extended_rcode_lives_in_opt() {
        let mut m = Message::default();
        m.set_edns(Some(Edns::with_size(512)));
        m.set_rcode(Rcode::BADVERS);
        assert_eq!(m.header.rcode, 0);
        assert_eq!(m.rcode(), Rcode::BADVERS);
        let back = Message::parse(&m.to_bytes()).unwrap();
        assert_eq!(back.rcode(), Rcode::BADVERS);
    }
}
