//! The numbers of DNS: record types, classes, opcodes and response codes,
//! with their mnemonics (IANA "Domain Name System (DNS) Parameters") and a
//! sentence each for the student.
//!
//! Every type is a thin wrapper over the wire number, so an unknown value
//! is kept as it is (RFC 3597) and shown as `TYPE65280` / `CLASS42`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A record type (the TYPE field, and QTYPE in questions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordType(pub u16);

impl RecordType {
    pub const A: RecordType = RecordType(1);
    pub const NS: RecordType = RecordType(2);
    pub const CNAME: RecordType = RecordType(5);
    pub const SOA: RecordType = RecordType(6);
    pub const PTR: RecordType = RecordType(12);
    pub const HINFO: RecordType = RecordType(13);
    pub const MX: RecordType = RecordType(15);
    pub const TXT: RecordType = RecordType(16);
    pub const AAAA: RecordType = RecordType(28);
    pub const SRV: RecordType = RecordType(33);
    pub const OPT: RecordType = RecordType(41);
    pub const DS: RecordType = RecordType(43);
    pub const RRSIG: RecordType = RecordType(46);
    pub const DNSKEY: RecordType = RecordType(48);
    pub const IXFR: RecordType = RecordType(251);
    pub const AXFR: RecordType = RecordType(252);
    pub const ANY: RecordType = RecordType(255);
    pub const CAA: RecordType = RecordType(257);

    const NAMES: &'static [(u16, &'static str)] = &[
        (1, "A"),
        (2, "NS"),
        (5, "CNAME"),
        (6, "SOA"),
        (12, "PTR"),
        (13, "HINFO"),
        (15, "MX"),
        (16, "TXT"),
        (28, "AAAA"),
        (33, "SRV"),
        (41, "OPT"),
        (43, "DS"),
        (46, "RRSIG"),
        (48, "DNSKEY"),
        (251, "IXFR"),
        (252, "AXFR"),
        (255, "ANY"),
        (257, "CAA"),
    ];

    /// The mnemonic, if the type has one here.
    pub fn mnemonic(&self) -> Option<&'static str> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, s)| *s)
    }

    /// `A`, `mx`, `TYPE65280` (RFC 3597 §5) → the type.
    pub fn from_text(text: &str) -> Option<RecordType> {
        let upper = text.to_ascii_uppercase();
        if let Some((n, _)) = Self::NAMES.iter().find(|(_, s)| *s == upper) {
            return Some(RecordType(*n));
        }
        upper
            .strip_prefix("TYPE")
            .and_then(|n| n.parse().ok())
            .map(RecordType)
    }

    /// Whether this value may only appear in a question (RFC 6895 §3.1).
    pub fn is_meta(&self) -> bool {
        self.0 == 41 || (128..=255).contains(&self.0)
    }

    /// One sentence on what the type is for.
    pub fn meaning(&self) -> &'static str {
        match self.0 {
            1 => "an IPv4 address of the name (RFC 1035 §3.4.1)",
            2 => "a name server authoritative for the zone (RFC 1035 §3.3.11)",
            5 => "the canonical name this alias stands for (RFC 1035 §3.3.1)",
            6 => "the start of a zone of authority (RFC 1035 §3.3.13)",
            12 => "a pointer to another name, used for reverse lookups (RFC 1035 §3.3.12)",
            13 => "host information: CPU and OS (RFC 1035 §3.3.2)",
            15 => "a mail exchanger for the name, with its preference (RFC 1035 §3.3.9)",
            16 => "free text strings (RFC 1035 §3.3.14)",
            28 => "an IPv6 address of the name (RFC 3596)",
            33 => "the host and port of a service (RFC 2782)",
            41 => "the EDNS(0) pseudo-record, options of the message itself (RFC 6891)",
            43 => "a delegation signer, DNSSEC (RFC 4034)",
            46 => "a DNSSEC signature (RFC 4034)",
            48 => "a DNSSEC public key (RFC 4034)",
            251 => "an incremental zone transfer (RFC 1995)",
            252 => "a whole zone transfer (RFC 5936)",
            255 => "every record of the name (RFC 1035 §3.2.3; RFC 8482 lets servers answer less)",
            257 => "which certificate authorities may issue for the name (RFC 8659)",
            _ => "a type this lab does not decode; its data is shown raw (RFC 3597)",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// A class (the CLASS field, QCLASS in questions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Class(pub u16);

impl Class {
    pub const IN: Class = Class(1);
    pub const CH: Class = Class(3);
    pub const HS: Class = Class(4);
    pub const NONE: Class = Class(254);
    pub const ANY: Class = Class(255);

    pub fn mnemonic(&self) -> Option<&'static str> {
        match self.0 {
            1 => Some("IN"),
            3 => Some("CH"),
            4 => Some("HS"),
            254 => Some("NONE"),
            255 => Some("ANY"),
            _ => None,
        }
    }

    pub fn from_text(text: &str) -> Option<Class> {
        let upper = text.to_ascii_uppercase();
        match upper.as_str() {
            "IN" => Some(Class::IN),
            "CH" | "CHAOS" => Some(Class::CH),
            "HS" => Some(Class::HS),
            "NONE" => Some(Class::NONE),
            "ANY" => Some(Class::ANY),
            _ => upper
                .strip_prefix("CLASS")
                .and_then(|n| n.parse().ok())
                .map(Class),
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "CLASS{}", self.0),
        }
    }
}

/// The OPCODE: what kind of message this is (4 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Opcode(pub u8);

impl Opcode {
    pub const QUERY: Opcode = Opcode(0);
    pub const IQUERY: Opcode = Opcode(1);
    pub const STATUS: Opcode = Opcode(2);
    pub const NOTIFY: Opcode = Opcode(4);
    pub const UPDATE: Opcode = Opcode(5);

    pub fn describe(&self) -> String {
        match self.0 {
            0 => "QUERY: a standard query (RFC 1035)".into(),
            1 => "IQUERY: an inverse query, obsolete (RFC 3425)".into(),
            2 => "STATUS: a server status request (RFC 1035)".into(),
            4 => "NOTIFY: a zone changed (RFC 1996)".into(),
            5 => "UPDATE: a dynamic update (RFC 2136)".into(),
            6 => "DSO: DNS stateful operations (RFC 8490)".into(),
            n => format!("{n}: unassigned"),
        }
    }

    pub fn name(&self) -> String {
        match self.0 {
            0 => "QUERY".into(),
            1 => "IQUERY".into(),
            2 => "STATUS".into(),
            4 => "NOTIFY".into(),
            5 => "UPDATE".into(),
            6 => "DSO".into(),
            n => format!("OPCODE{n}"),
        }
    }
}

/// A response code: 4 bits in the header, 12 with the EDNS extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rcode(pub u16);

impl Rcode {
    pub const NOERROR: Rcode = Rcode(0);
    pub const FORMERR: Rcode = Rcode(1);
    pub const SERVFAIL: Rcode = Rcode(2);
    pub const NXDOMAIN: Rcode = Rcode(3);
    pub const NOTIMP: Rcode = Rcode(4);
    pub const REFUSED: Rcode = Rcode(5);
    pub const BADVERS: Rcode = Rcode(16);

    pub fn name(&self) -> String {
        match self.0 {
            0 => "NOERROR".into(),
            1 => "FORMERR".into(),
            2 => "SERVFAIL".into(),
            3 => "NXDOMAIN".into(),
            4 => "NOTIMP".into(),
            5 => "REFUSED".into(),
            6 => "YXDOMAIN".into(),
            7 => "YXRRSET".into(),
            8 => "NXRRSET".into(),
            9 => "NOTAUTH".into(),
            10 => "NOTZONE".into(),
            16 => "BADVERS".into(),
            n => format!("RCODE{n}"),
        }
    }

    pub fn meaning(&self) -> &'static str {
        match self.0 {
            0 => "no error",
            1 => "format error: the server could not understand the query",
            2 => "server failure: the server could not get an answer",
            3 => "name error (NXDOMAIN): the name does not exist",
            4 => "not implemented: the server does not do this kind of query",
            5 => "refused: the server will not answer this client or this query",
            6 => "a name exists that should not (UPDATE)",
            7 => "an RRset exists that should not (UPDATE)",
            8 => "an RRset that should exist does not (UPDATE)",
            9 => "the server is not authoritative for the zone",
            10 => "a name is not in the zone (UPDATE)",
            16 => "the server does not speak this EDNS version",
            _ => "unassigned",
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonics_both_ways() {
        assert_eq!(RecordType::from_text("mx"), Some(RecordType::MX));
        assert_eq!(RecordType::from_text("TYPE65280"), Some(RecordType(65280)));
        assert_eq!(RecordType(65280).to_string(), "TYPE65280");
        assert_eq!(RecordType::CAA.to_string(), "CAA");
        assert_eq!(RecordType::from_text("NOPE"), None);
        assert_eq!(Class::from_text("in"), Some(Class::IN));
        assert_eq!(Class(42).to_string(), "CLASS42");
        assert_eq!(Class::from_text("CLASS42"), Some(Class(42)));
        assert_eq!(Rcode::NXDOMAIN.to_string(), "NXDOMAIN");
        assert!(RecordType::OPT.is_meta() && RecordType::ANY.is_meta());
        assert!(!RecordType::A.is_meta());
    }
}
