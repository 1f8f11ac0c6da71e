//! The tracker protocol's messages (BEP 3 "Trackers", BEP 23): the
//! announce a peer sends as the query of an HTTP GET, and the bencoded
//! reply, whose `peers` is a string of 6 bytes per peer (IPv4 address and
//! port, network order) when the peer asked with `compact=1`.

use super::bencode::{self, Kind, Value};
use super::metainfo::Sha1Hash;
use std::net::{Ipv4Addr, SocketAddrV4};

/// What a peer tells the tracker and asks of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceRequest {
    pub info_hash: Sha1Hash,
    pub peer_id: [u8; 20],
    pub port: u16,
    pub uploaded: u64,
    pub downloaded: u64,
    /// Bytes still missing: 0 for a seed.
    pub left: u64,
    pub event: Event,
    pub compact: bool,
    /// How many peers the client would like, if it said.
    pub numwant: Option<u32>,
}

/// The `event` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A regular announce, on the interval.
    None,
    Started,
    Completed,
    Stopped,
}

impl Event {
    pub fn as_str(&self) -> &'static str {
        match self {
            Event::None => "",
            Event::Started => "started",
            Event::Completed => "completed",
            Event::Stopped => "stopped",
        }
    }
}

/// Why a query is not an announce: the tracker's `failure reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnnounceError {
    #[error("missing parameter {0}")]
    Missing(&'static str),
    #[error("{0} must be 20 bytes, percent-encoded")]
    Not20Bytes(&'static str),
    #[error("{0} is not a number in range")]
    BadNumber(&'static str),
    #[error("event must be started, completed, stopped or empty")]
    BadEvent,
    #[error("the query is longer than {0} bytes")]
    TooLong(usize),
}

/// The longest announce query read: the real ones are under 300 bytes.
pub const MAX_QUERY: usize = 2048;

/// Percent-encodes every byte that is not unreserved (RFC 3986 §2.3), as
/// `info_hash` and `peer_id` must be.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl AnnounceRequest {
    /// The query string (without `?`) a client appends to the announce URL.
    pub fn to_query(&self) -> String {
        let mut q = format!(
            "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact={}",
            percent_encode(&self.info_hash),
            percent_encode(&self.peer_id),
            self.port,
            self.uploaded,
            self.downloaded,
            self.left,
            u8::from(self.compact)
        );
        if self.event != Event::None {
            q.push_str("&event=");
            q.push_str(self.event.as_str());
        }
        if let Some(n) = self.numwant {
            q.push_str(&format!("&numwant={n}"));
        }
        q
    }

    /// Reads an announce query (without `?`). Unknown parameters (`key`,
    /// `supportcrypto`, `no_peer_id`, …) are ignored, as trackers do.
    pub fn from_query(query: &str) -> Result<AnnounceRequest, AnnounceError> {
        if query.len() > MAX_QUERY {
            return Err(AnnounceError::TooLong(MAX_QUERY));
        }
        let pairs: Vec<(&str, Vec<u8>)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k, crate::http::url::percent_decode(v, false).0)
            })
            .collect();
        let get = |name: &'static str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_slice())
        };
        let hash = |name: &'static str| -> Result<[u8; 20], AnnounceError> {
            get(name)
                .ok_or(AnnounceError::Missing(name))?
                .try_into()
                .map_err(|_| AnnounceError::Not20Bytes(name))
        };
        let number = |name: &'static str| -> Result<Option<u64>, AnnounceError> {
            get(name)
                .map(|v| {
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or(AnnounceError::BadNumber(name))
                })
                .transpose()
        };
        let required = |name: &'static str| number(name)?.ok_or(AnnounceError::Missing(name));
        let port =
            u16::try_from(required("port")?).map_err(|_| AnnounceError::BadNumber("port"))?;
        let event = match get("event").unwrap_or_default() {
            b"" => Event::None,
            b"started" => Event::Started,
            b"completed" => Event::Completed,
            b"stopped" => Event::Stopped,
            _ => return Err(AnnounceError::BadEvent),
        };
        let numwant = number("numwant")?
            .map(|n| u32::try_from(n).map_err(|_| AnnounceError::BadNumber("numwant")))
            .transpose()?;
        Ok(AnnounceRequest {
            info_hash: hash("info_hash")?,
            peer_id: hash("peer_id")?,
            port,
            uploaded: required("uploaded")?,
            downloaded: required("downloaded")?,
            left: required("left")?,
            event,
            compact: get("compact") == Some(b"1"),
            numwant,
        })
    }
}

/// One peer of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub addr: SocketAddrV4,
    /// Given in the non-compact form only.
    pub peer_id: Option<[u8; 20]>,
}

/// What the tracker answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnounceReply {
    /// `failure reason`: nothing else is in the reply.
    Failure(String),
    Peers {
        /// Seconds the client should wait before announcing again.
        interval: u32,
        /// Seeds and leechers the tracker knows.
        complete: u32,
        incomplete: u32,
        peers: Vec<PeerInfo>,
        /// Whether to write `peers` as BEP 23's compact string.
        compact: bool,
    },
}

/// Why a reply cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    #[error("not bencode: {0}")]
    Bencode(#[from] bencode::DecodeError),
    #[error("neither a failure reason nor interval and peers")]
    NotAReply,
    #[error("the compact peer list is not a multiple of 6 bytes")]
    RaggedPeers,
}

impl AnnounceReply {
    /// The bencoded reply body.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            AnnounceReply::Failure(reason) => {
                Value::dict([("failure reason", Value::bytes(reason.as_bytes()))]).encode()
            }
            AnnounceReply::Peers {
                interval,
                complete,
                incomplete,
                peers,
                compact,
            } => {
                let peers = if *compact {
                    Value::bytes(
                        peers
                            .iter()
                            .flat_map(|p| compact_peer(p.addr))
                            .collect::<Vec<u8>>(),
                    )
                } else {
                    Value::list(peers.iter().map(peer_dict).collect())
                };
                Value::dict([
                    ("complete", Value::int((*complete).into())),
                    ("incomplete", Value::int((*incomplete).into())),
                    ("interval", Value::int((*interval).into())),
                    ("peers", peers),
                ])
                .encode()
            }
        }
    }

    /// Reads a reply body, compact or not.
    pub fn parse(bytes: &[u8]) -> Result<AnnounceReply, ReplyError> {
        let root = bencode::parse_default(bytes)?.value;
        if let Some(reason) = root.get("failure reason").and_then(Value::as_bytes) {
            return Ok(AnnounceReply::Failure(
                String::from_utf8_lossy(reason).into_owned(),
            ));
        }
        let count = |k: &str| {
            root.get(k)
                .and_then(Value::as_int)
                .map(|n| u32::try_from(n).unwrap_or(0))
        };
        let interval = count("interval").ok_or(ReplyError::NotAReply)?;
        let peers_value = root.get("peers").ok_or(ReplyError::NotAReply)?;
        let (peers, compact) = match &peers_value.kind {
            Kind::Bytes(b) => (parse_compact(b)?, true),
            Kind::List(items) => (items.iter().filter_map(parse_peer_dict).collect(), false),
            _ => return Err(ReplyError::NotAReply),
        };
        Ok(AnnounceReply::Peers {
            interval,
            complete: count("complete").unwrap_or(0),
            incomplete: count("incomplete").unwrap_or(0),
            peers,
            compact,
        })
    }
}

/// BEP 23: the address's 4 bytes then the port's 2, network order.
pub fn compact_peer(addr: SocketAddrV4) -> [u8; 6] {
    let mut out = [0; 6];
    out[..4].copy_from_slice(&addr.ip().octets());
    out[4..].copy_from_slice(&addr.port().to_be_bytes());
    out
}

/// Reads a BEP 23 compact peer list.
pub fn parse_compact(bytes: &[u8]) -> Result<Vec<PeerInfo>, ReplyError> {
    if !bytes.len().is_multiple_of(6) {
        return Err(ReplyError::RaggedPeers);
    }
    Ok(bytes
        .chunks_exact(6)
        .map(|c| PeerInfo {
            addr: SocketAddrV4::new(
                Ipv4Addr::new(c[0], c[1], c[2], c[3]),
                u16::from_be_bytes([c[4], c[5]]),
            ),
            peer_id: None,
        })
        .collect())
}

fn peer_dict(p: &PeerInfo) -> Value {
    let mut pairs = vec![
        ("ip", Value::bytes(p.addr.ip().to_string())),
        ("port", Value::int(p.addr.port().into())),
    ];
    if let Some(id) = p.peer_id {
        pairs.push(("peer id", Value::bytes(id)));
    }
    Value::dict(pairs)
}

fn parse_peer_dict(v: &Value) -> Option<PeerInfo> {
    let ip: Ipv4Addr = v.get("ip")?.as_str()?.parse().ok()?;
    let port = u16::try_from(v.get("port")?.as_int()?).ok()?;
    Some(PeerInfo {
        addr: SocketAddrV4::new(ip, port),
        peer_id: v
            .get("peer id")
            .and_then(Value::as_bytes)
            .and_then(|b| b.try_into().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AnnounceRequest {
        AnnounceRequest {
            info_hash:
                *b"\x12\x34\x56\x78\x9a\xbc\xde\xf1\x23\x45\x67\x89\xab\xcd\xef\x12\x34\x56\x78\x9a",
            peer_id: *b"-WL0001-abcdefghijkl",
            port: 6881,
            uploaded: 0,
            downloaded: 0,
            left: 1000,
            event: Event::Started,
            compact: true,
            numwant: Some(30),
        }
    }

    #[test]
    fn the_query_percent_encodes_the_raw_hash_and_reads_back() {
        let q = sample().to_query();
        // BEP 3's own example of an encoded info_hash.
        assert!(
            q.starts_with("info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&"),
            "{q}"
        );
        assert!(q.contains("&compact=1") && q.contains("&event=started"));
        assert_eq!(AnnounceRequest::from_query(&q), Ok(sample()));
    }

    #[test]
    fn junk_announces_are_refused_with_a_reason() {
        let e = |q: &str| AnnounceRequest::from_query(q).unwrap_err();
        assert_eq!(e(""), AnnounceError::Missing("port"));
        let good = sample().to_query();
        assert_eq!(
            e(&good.replace("port=6881", "port=70000")),
            AnnounceError::BadNumber("port")
        );
        assert_eq!(
            e(&good.replace("info_hash=%12", "info_hash=")),
            AnnounceError::Not20Bytes("info_hash")
        );
        assert_eq!(
            e(&good.replace("left=1000", "left=-1")),
            AnnounceError::BadNumber("left")
        );
        assert_eq!(
            e(&good.replace("event=started", "event=paused")),
            AnnounceError::BadEvent
        );
        assert_eq!(e(&"a".repeat(3000)), AnnounceError::TooLong(MAX_QUERY));
    }

    #[test]
    fn compact_replies_carry_six_bytes_a_peer() {
        let reply = AnnounceReply::Peers {
            interval: 60,
            complete: 1,
            incomplete: 2,
            peers: vec![PeerInfo {
                addr: "127.0.0.2:6881".parse().unwrap(),
                peer_id: None,
            }],
            compact: true,
        };
        let wire = reply.encode();
        assert_eq!(
            wire,
            b"d8:completei1e10:incompletei2e8:intervali60e5:peers6:\x7f\x00\x00\x02\x1a\xe1e"
        );
        assert_eq!(AnnounceReply::parse(&wire), Ok(reply));
        let failure = AnnounceReply::Failure("unknown torrent".into());
        assert_eq!(failure.encode(), b"d14:failure reason15:unknown torrente");
        assert_eq!(AnnounceReply::parse(&failure.encode()), Ok(failure));
        assert_eq!(
            AnnounceReply::parse(b"d8:intervali1e5:peers5:abcdee"),
            Err(ReplyError::RaggedPeers)
        );
    }

    #[test]
    fn dictionary_peer_lists_read_back() {
        let reply = AnnounceReply::Peers {
            interval: 1800,
            complete: 0,
            incomplete: 1,
            peers: vec![PeerInfo {
                addr: "10.0.0.1:51413".parse().unwrap(),
                peer_id: Some([7; 20]),
            }],
            compact: false,
        };
        assert_eq!(AnnounceReply::parse(&reply.encode()), Ok(reply));
    }
}
