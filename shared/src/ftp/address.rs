//! The addresses FTP writes in text: the `h1,h2,h3,h4,p1,p2` of PORT and of
//! the 227 reply (RFC 959 §4.1.2, §4.2), and the `|af|addr|port|` of EPRT and
//! the `(|||port|)` of the 229 reply (RFC 2428).
//!
//! Every parser keeps the byte span of each number relative to the text it was
//! given, so a dissector can point at `158` and `107` and say
//! `158*256+107 = 40555`. Callers that hold a whole line shift the spans by the
//! argument's offset. Nothing here allocates without bound or panics.

use crate::dissect::Span;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// One decimal number of a host-port argument and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number {
    pub span: Span,
    pub value: u8,
}

/// A parsed `h1,h2,h3,h4,p1,p2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    /// h1..h4 then p1, p2.
    pub numbers: [Number; 6],
    /// The whole `h1,...,p2` text.
    pub span: Span,
}

impl HostPort {
    pub fn ip(&self) -> Ipv4Addr {
        let n = &self.numbers;
        Ipv4Addr::new(n[0].value, n[1].value, n[2].value, n[3].value)
    }

    pub fn port(&self) -> u16 {
        u16::from(self.numbers[4].value) * 256 + u16::from(self.numbers[5].value)
    }

    pub fn addr(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.ip(), self.port())
    }

    /// `158*256+107 = 40555`: the arithmetic the course asks students to do.
    pub fn port_arithmetic(&self) -> String {
        explain_port(self.numbers[4].value, self.numbers[5].value)
    }
}

/// `p1*256+p2` written out: `158*256+107 = 40555`.
pub fn explain_port(p1: u8, p2: u8) -> String {
    let port = u16::from(p1) * 256 + u16::from(p2);
    format!("{p1}*256+{p2} = {port}")
}

/// The PORT argument (and 227 numbers) for `addr`: `127,0,0,1,158,107` for
/// 127.0.0.1:40555. The port is split as p1 = port / 256, p2 = port % 256.
pub fn port_argument(addr: SocketAddrV4) -> String {
    let [a, b, c, d] = addr.ip().octets();
    let port = addr.port();
    format!("{a},{b},{c},{d},{},{}", port / 256, port % 256)
}

/// How a host-port argument is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostPortError {
    #[error("expected six numbers h1,h2,h3,h4,p1,p2 separated by commas, found {found}")]
    WrongCount { found: usize, span: Span },
    #[error("{what} is not a decimal number")]
    NotANumber { what: Part, span: Span },
    #[error("{what} is {value}, but each number is one byte (0 to 255)")]
    OutOfRange { what: Part, value: u32, span: Span },
}

impl HostPortError {
    pub fn span(&self) -> Span {
        match self {
            HostPortError::WrongCount { span, .. }
            | HostPortError::NotANumber { span, .. }
            | HostPortError::OutOfRange { span, .. } => *span,
        }
    }
}

/// Which of the six numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part(pub usize);

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0..=3 => write!(f, "h{}", self.0 + 1),
            4 => f.write_str("p1"),
            5 => f.write_str("p2"),
            n => write!(f, "number {}", n + 1),
        }
    }
}

/// The name of the n-th number (0-based) of a host-port: `h1`..`h4`, `p1`, `p2`.
pub fn part_name(index: usize) -> String {
    Part(index).to_string()
}

/// Parses exactly `h1,h2,h3,h4,p1,p2` (the whole of `text`), as PORT's
/// argument must be (RFC 959 §4.1.2: `<host-port> ::= <host-number>,<port-number>`).
pub fn parse_host_port(text: &[u8]) -> Result<HostPort, HostPortError> {
    let mut pieces = Vec::with_capacity(6);
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b',' {
            pieces.push(Span::new(start, i));
            start = i + 1;
            if pieces.len() > 6 {
                break;
            }
        }
    }
    pieces.push(Span::new(start, text.len()));
    if pieces.len() != 6 {
        return Err(HostPortError::WrongCount {
            found: pieces.len(),
            span: Span::new(0, text.len()),
        });
    }
    let mut numbers = [Number {
        span: Span::default(),
        value: 0,
    }; 6];
    for (i, span) in pieces.iter().enumerate() {
        let digits = span.slice(text);
        if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(HostPortError::NotANumber {
                what: Part(i),
                span: *span,
            });
        }
        let value = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        let Ok(value) = u8::try_from(value) else {
            return Err(HostPortError::OutOfRange {
                what: Part(i),
                value,
                span: *span,
            });
        };
        numbers[i] = Number { span: *span, value };
    }
    Ok(HostPort {
        numbers,
        span: Span::new(0, text.len()),
    })
}

/// Finds the six numbers in the text of a 227 reply. RFC 959 shows
/// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`, but the text around them
/// is free, so clients scan for the first run of six comma-separated numbers
/// (RFC 1123 §4.1.2.6). Spans are relative to `text`.
pub fn find_host_port(text: &[u8]) -> Option<HostPort> {
    let mut i = 0;
    while i < text.len() {
        if text[i].is_ascii_digit() && (i == 0 || !text[i - 1].is_ascii_digit()) {
            let end = i + text[i..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b','))
                .unwrap_or(text.len() - i);
            let candidate = &text[i..end];
            let candidate = candidate.strip_suffix(b",").unwrap_or(candidate);
            if let Ok(mut hp) = parse_host_port(candidate) {
                for n in &mut hp.numbers {
                    n.span = n.span.shifted(i);
                }
                hp.span = hp.span.shifted(i);
                return Some(hp);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// The network protocol number of EPRT (RFC 2428 §2: 1 = IPv4, 2 = IPv6).
pub fn protocol_name(number: u32) -> &'static str {
    match number {
        1 => "IPv4",
        2 => "IPv6",
        _ => "unknown",
    }
}

/// A parsed EPRT argument `<d><net-prt><d><net-addr><d><tcp-port><d>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedAddress {
    pub delimiter: u8,
    pub protocol: (Span, u32),
    pub address: (Span, IpAddr),
    pub port: (Span, u16),
}

impl ExtendedAddress {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.address.1, self.port.1)
    }
}

/// How an EPRT argument is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtendedAddressError {
    #[error(
        "EPRT's argument is <d>protocol<d>address<d>port<d> with the same delimiter four times, as in |1|127.0.0.1|40555|"
    )]
    Shape { span: Span },
    #[error("the delimiter must be a printable ASCII character (33-126), usually |")]
    Delimiter { span: Span },
    #[error("the network protocol must be 1 (IPv4) or 2 (IPv6)")]
    Protocol { span: Span },
    #[error("{0}")]
    Address(String, Span),
    #[error("the port must be a decimal number from 1 to 65535")]
    Port { span: Span },
}

impl ExtendedAddressError {
    pub fn span(&self) -> Span {
        match self {
            ExtendedAddressError::Shape { span }
            | ExtendedAddressError::Delimiter { span }
            | ExtendedAddressError::Protocol { span }
            | ExtendedAddressError::Address(_, span)
            | ExtendedAddressError::Port { span } => *span,
        }
    }
}

/// Parses an EPRT argument (RFC 2428 §2), e.g. `|1|132.235.1.2|6275|`.
pub fn parse_extended_address(text: &[u8]) -> Result<ExtendedAddress, ExtendedAddressError> {
    let whole = Span::new(0, text.len());
    let Some(&d) = text.first() else {
        return Err(ExtendedAddressError::Shape { span: whole });
    };
    if !(33..=126).contains(&d) || d.is_ascii_digit() {
        return Err(ExtendedAddressError::Delimiter {
            span: Span::new(0, 1),
        });
    }
    let positions: Vec<usize> = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == d)
        .map(|(i, _)| i)
        .take(5)
        .collect();
    if positions.len() != 4 || positions[3] != text.len() - 1 {
        return Err(ExtendedAddressError::Shape { span: whole });
    }
    let proto_span = Span::new(positions[0] + 1, positions[1]);
    let addr_span = Span::new(positions[1] + 1, positions[2]);
    let port_span = Span::new(positions[2] + 1, positions[3]);
    let protocol = match proto_span.slice(text) {
        b"1" => 1,
        b"2" => 2,
        _ => return Err(ExtendedAddressError::Protocol { span: proto_span }),
    };
    let addr_text = std::str::from_utf8(addr_span.slice(text)).unwrap_or("");
    let address: IpAddr = if protocol == 1 {
        addr_text.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| {
            ExtendedAddressError::Address(
                format!("{addr_text:?} is not an IPv4 address in dotted decimal"),
                addr_span,
            )
        })?
    } else {
        addr_text.parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| {
            ExtendedAddressError::Address(
                format!("{addr_text:?} is not an IPv6 address"),
                addr_span,
            )
        })?
    };
    let port_text = port_span.slice(text);
    let port = if !port_text.is_empty()
        && port_text.len() <= 5
        && port_text.iter().all(u8::is_ascii_digit)
    {
        std::str::from_utf8(port_text)
            .ok()
            .and_then(|t| t.parse::<u16>().ok())
            .filter(|p| *p > 0)
    } else {
        None
    };
    let Some(port) = port else {
        return Err(ExtendedAddressError::Port { span: port_span });
    };
    Ok(ExtendedAddress {
        delimiter: d,
        protocol: (proto_span, protocol),
        address: (addr_span, address),
        port: (port_span, port),
    })
}

/// The EPRT argument for `addr`: `|1|127.0.0.1|40555|` or `|2|::1|40555|`.
pub fn eprt_argument(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("|1|{}|{}|", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("|2|{}|{}|", a.ip(), a.port()),
    }
}

/// Finds the port in the text of a 229 reply,
/// `229 Entering Extended Passive Mode (|||6446|)` (RFC 2428 §3): the
/// parentheses hold the delimiter three times, the port, the delimiter. The
/// span of the port is relative to `text`.
pub fn find_extended_port(text: &[u8]) -> Option<(Span, u16)> {
    let open = text.iter().position(|&b| b == b'(')?;
    let rest = &text[open + 1..];
    let d = *rest.first()?;
    if rest.len() < 4 || rest[1] != d || rest[2] != d {
        return None;
    }
    let digits_start = open + 4;
    let digits_len = text[digits_start..]
        .iter()
        .position(|b| !b.is_ascii_digit())?;
    let after = digits_start + digits_len;
    if digits_len == 0 || digits_len > 5 || text.get(after) != Some(&d) {
        return None;
    }
    if text.get(after + 1) != Some(&b')') {
        return None;
    }
    let port: u16 = std::str::from_utf8(&text[digits_start..after])
        .ok()?
        .parse()
        .ok()?;
    Some((Span::new(digits_start, after), port))
}

/// The text of a 229 reply for `port`.
pub fn epsv_reply_text(port: u16) -> String {
    format!("Entering Extended Passive Mode (|||{port}|)")
}

/// The text of a 227 reply for `addr`.
pub fn pasv_reply_text(addr: SocketAddrV4) -> String {
    format!("Entering Passive Mode ({})", port_argument(addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn port_argument_and_arithmetic() {
        let hp = parse_host_port(b"127,0,0,1,158,107").unwrap();
        assert_eq!(hp.addr(), "127.0.0.1:40555".parse().unwrap());
        assert_eq!(hp.port_arithmetic(), "158*256+107 = 40555");
        assert_eq!(hp.numbers[4].span, Span::new(10, 13));
        assert_eq!(port_argument(hp.addr()), "127,0,0,1,158,107");
    }

    #[test]
    fn malformed_host_ports_say_what_is_wrong() {
        assert!(matches!(
            parse_host_port(b"127,0,0,1,158"),
            Err(HostPortError::WrongCount { found: 5, .. })
        ));
        assert!(matches!(
            parse_host_port(b"127,0,0,1,300,2"),
            Err(HostPortError::OutOfRange {
                what: Part(4),
                value: 300,
                ..
            })
        ));
        let err = parse_host_port(b"127,0,x,1,1,2").unwrap_err();
        assert_eq!(err.span(), Span::new(6, 7));
        assert_eq!(err.to_string(), "h3 is not a decimal number");
        assert!(parse_host_port(b"").is_err());
        assert!(parse_host_port(b"1,2,3,4,5,6,7,8,9").is_err());
        assert!(parse_host_port(b"1,2,3,4,5, 6").is_err());
    }

    #[test]
    fn pasv_reply_numbers_are_found_in_free_text() {
        let text = b"Entering Passive Mode (192,168,1,2,19,137).";
        let hp = find_host_port(text).unwrap();
        assert_eq!(hp.addr(), "192.168.1.2:5001".parse().unwrap());
        assert_eq!(hp.span.slice(text), b"192,168,1,2,19,137");
        // Without parentheses, as some servers write it.
        let hp = find_host_port(b"=127,0,0,1,4,1").unwrap();
        assert_eq!(hp.port(), 1025);
        assert!(find_host_port(b"Entering Passive Mode").is_none());
        assert!(find_host_port(b"(1,2,3)").is_none());
    }

    #[test]
    fn eprt_arguments() {
        let e = parse_extended_address(b"|1|132.235.1.2|6275|").unwrap();
        assert_eq!(e.addr(), "132.235.1.2:6275".parse().unwrap());
        assert_eq!(e.port.0, Span::new(15, 19));
        let e = parse_extended_address(b"|2|1080::8:800:200C:417A|5282|").unwrap();
        assert!(e.addr().is_ipv6());
        assert_eq!(eprt_argument(e.addr()), "|2|1080::8:800:200c:417a|5282|");
        for bad in [
            &b""[..],
            b"|1|1.2.3.4|5",
            b"|3|1.2.3.4|5|",
            b"|1|::1|5|",
            b"|1|1.2.3.4|70000|",
            b"|1|1.2.3.4|0|",
            b"1|1|1.2.3.4|5|",
            b"|1|1.2.3.4|5|6|",
        ] {
            assert!(parse_extended_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn epsv_reply_port() {
        let text = b"Entering Extended Passive Mode (|||6446|)";
        let (span, port) = find_extended_port(text).unwrap();
        assert_eq!(port, 6446);
        assert_eq!(span.slice(text), b"6446");
        assert_eq!(epsv_reply_text(6446).as_bytes(), text);
        assert!(find_extended_port(b"(|||99999|)").is_none());
        assert!(find_extended_port(b"(||6446|)").is_none());
        assert!(find_extended_port(b"(|||6446)").is_none());
    }

    proptest! {
        #[test]
        fn host_port_round_trips(ip in any::<u32>(), port in any::<u16>()) {
            let addr = SocketAddrV4::new(Ipv4Addr::from(ip), port);
            let text = port_argument(addr);
            prop_assert_eq!(parse_host_port(text.as_bytes()).unwrap().addr(), addr);
            let reply = pasv_reply_text(addr);
            prop_assert_eq!(find_host_port(reply.as_bytes()).unwrap().addr(), addr);
        }

        #[test]
        fn eprt_round_trips(ip in any::<u32>(), port in 1u16..) {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port);
            prop_assert_eq!(parse_extended_address(eprt_argument(addr).as_bytes()).unwrap().addr(), addr);
        }

        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_host_port(&bytes);
            let _ = find_host_port(&bytes);
            let _ = parse_extended_address(&bytes);
            let _ = find_extended_port(&bytes);
        }
    }
}
