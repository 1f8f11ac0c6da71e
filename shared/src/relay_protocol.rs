//! Relay protocol version 1: the messages the page and the relay exchange over
//! `/ws`, and the catalog served at `/api/targets` (see
//! `docs/relay-protocol.md`). Both sides use these types, so the contract is
//! written down once.
//!
//! Binary WebSocket frames carry raw bytes and have no type here; every text
//! frame is one of [`RelayMessage`] (relay → page) or [`PageMessage`]
//! (page → relay), as JSON with a `"type"` tag.
//!
//! A page that asks for stamps (`stamps=1`) also gets the relay's clock on
//! the wire: `connected` and `closed` carry `at_us`, a `data` text frame
//! comes before every binary frame, and a `sent` text frame follows every
//! write to the server. One clock serves every session of a relay, so the
//! events of several WebSockets fall on one time axis.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The WebSocket subprotocol name both sides announce.
pub const SUBPROTOCOL: &str = "wirelab.v1";

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inclusive range of ports, as in a catalog entry's data ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

/// One entry of the catalog (`GET /api/targets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// What the page passes as `?target=`: "smtp", "upper-tcp".
    pub name: String,
    pub transport: Transport,
    pub host: String,
    pub port: u16,
    /// Which workbench speaks to it: "line", "http", "smtp", "dns", ...
    pub protocol: String,
    pub description: String,
    /// Ports of data connections this target may hand out (FTP passive mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_ports: Option<PortRange>,
}

/// Why the relay refused or ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Forbidden,
    UnknownTarget,
    BadRequest,
    ConnectFailed,
    Timeout,
    Limit,
    Auth,
}

impl ErrorCode {
    /// The code as the protocol writes it (`unknown_target`), for messages
    /// and metrics labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::UnknownTarget => "unknown_target",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::ConnectFailed => "connect_failed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Limit => "limit",
            ErrorCode::Auth => "auth",
        }
    }

    /// The WebSocket close code the relay uses after this error: 1008 for a
    /// policy refusal, 1011 for a failure.
    pub fn close_code(&self) -> u16 {
        match self {
            ErrorCode::Forbidden
            | ErrorCode::UnknownTarget
            | ErrorCode::BadRequest
            | ErrorCode::Limit
            | ErrorCode::Auth => 1008,
            ErrorCode::ConnectFailed | ErrorCode::Timeout => 1011,
        }
    }
}

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedBy {
    /// The peer closed (TCP FIN).
    Peer,
    /// The relay ended it (idle timeout, limit, shutdown).
    Relay,
}

/// A text frame from the relay to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RelayMessage {
    Connected {
        transport: Transport,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        peer: String,
        local: String,
        connect_ms: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_ms: Option<f64>,
        /// The id of this connection's recording, when the page asked for
        /// one (`record=1`): `/api/recordings/<id>/text` and `/pcapng`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recording: Option<String>,
        /// Stamps (`stamps=1`): when the relay began to connect, and when
        /// the connection was up, in microseconds on the relay's clock.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_us: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_us: Option<u64>,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_ms: Option<f64>,
    },
    Closed {
        by: ClosedBy,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_ms: Option<f64>,
        /// Stamps (`stamps=1`): when the relay read the server's FIN, or
        /// ended the connection itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_us: Option<u64>,
    },
    Listening {
        addr: String,
        /// What the page passes as `?accept=` to take the accepted connection.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t_ms: Option<f64>,
    },
    /// Stamps (`stamps=1`): the next binary frame holds `len` bytes the
    /// relay read from the server at `at_us`.
    Data { at_us: u64, len: usize },
    /// Stamps (`stamps=1`): the relay finished writing `len` bytes of the
    /// page's (one binary frame, or one datagram) to the server at `at_us`;
    /// `fin` when what it wrote was the page's half-close (`len` is 0).
    Sent {
        at_us: u64,
        len: usize,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        fin: bool,
    },
}

impl RelayMessage {
    /// Milliseconds since the WebSocket opened, as measured at the relay.
    pub fn t_ms(&self) -> Option<f64> {
        match self {
            RelayMessage::Connected { t_ms, .. }
            | RelayMessage::Error { t_ms, .. }
            | RelayMessage::Closed { t_ms, .. }
            | RelayMessage::Listening { t_ms, .. } => *t_ms,
            RelayMessage::Data { .. } | RelayMessage::Sent { .. } => None,
        }
    }

    /// Where the event happened on the relay's clock (microseconds since
    /// the relay started), when the page asked for stamps.
    pub fn at_us(&self) -> Option<u64> {
        match self {
            RelayMessage::Connected { at_us, .. } | RelayMessage::Closed { at_us, .. } => *at_us,
            RelayMessage::Data { at_us, .. } | RelayMessage::Sent { at_us, .. } => Some(*at_us),
            RelayMessage::Error { .. } | RelayMessage::Listening { .. } => None,
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising these plain enums cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A text frame from the page to the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageMessage {
    /// Half-close: send TCP FIN, keep reading.
    Shutdown,
    /// FTP active mode: open a listening socket for the current peer.
    Listen,
}

impl PageMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The query string of `GET /ws`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// The link's rate in kilobits (1000 bits) a second, each way: the
    /// relay holds each chunk for its transmission time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_kbps: Option<u64>,
    /// Ask the relay to record this connection (where it allows it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record: bool,
    /// Ask the relay for its stamps (`data` and `sent` frames, `at_us`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stamps: bool,
}

impl ConnectQuery {
    /// A query for a catalog target.
    pub fn target(name: &str) -> Self {
        ConnectQuery {
            target: Some(name.to_string()),
            ..Default::default()
        }
    }

    /// The query string without the leading `?`, percent-encoding values.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        let mut push = |k: &str, v: String| parts.push(format!("{k}={}", percent_encode(&v)));
        if let Some(v) = &self.target {
            push("target", v.clone());
        }
        if let Some(v) = &self.transport {
            push("transport", v.to_string());
        }
        if let Some(v) = &self.host {
            push("host", v.clone());
        }
        if let Some(v) = self.port {
            push("port", v.to_string());
        }
        if let Some(v) = self.data_port {
            push("data_port", v.to_string());
        }
        if let Some(v) = &self.accept {
            push("accept", v.clone());
        }
        if let Some(v) = &self.token {
            push("token", v.clone());
        }
        if let Some(v) = self.delay_ms {
            push("delay_ms", v.to_string());
        }
        if let Some(v) = self.rate_kbps {
            push("rate_kbps", v.to_string());
        }
        if self.record {
            push("record", "1".to_string());
        }
        if self.stamps {
            push("stamps", "1".to_string());
        }
        parts.join("&")
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The body of `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub subprotocol: String,
    pub targets: usize,
    pub uptime_s: u64,
    /// The relay lets the page reach programs on its machine's loopback
    /// ports (`?transport=&host=localhost&port=`), its own ports excepted.
    #[serde(default)]
    pub local_programs: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_messages_match_the_documented_json() {
        let connected = RelayMessage::Connected {
            transport: Transport::Tcp,
            target: Some("smtp".into()),
            peer: "127.0.0.1:2525".into(),
            local: "127.0.0.1:40112".into(),
            connect_ms: 0.21,
            t_ms: None,
            recording: None,
            started_us: None,
            at_us: None,
        };
        assert_eq!(
            connected.to_json(),
            r#"{"type":"connected","transport":"tcp","target":"smtp","peer":"127.0.0.1:2525","local":"127.0.0.1:40112","connect_ms":0.21}"#
        );
        let error: RelayMessage = serde_json::from_str(
            r#"{"type":"error","code":"forbidden","message":"target 10.0.0.1:22 is not allowed by this relay's policy"}"#,
        )
        .unwrap();
        assert!(matches!(
            error,
            RelayMessage::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        ));
        let closed = RelayMessage::Closed {
            by: ClosedBy::Relay,
            reason: "idle".into(),
            t_ms: Some(12.5),
            at_us: None,
        };
        assert_eq!(
            closed.to_json(),
            r#"{"type":"closed","by":"relay","reason":"idle","t_ms":12.5}"#
        );
        assert_eq!(closed.t_ms(), Some(12.5));
        assert_eq!(closed.at_us(), None);
    }

    #[test]
    fn stamps_match_the_documented_json() {
        let data = RelayMessage::Data {
            at_us: 1500,
            len: 7,
        };
        assert_eq!(data.to_json(), r#"{"type":"data","at_us":1500,"len":7}"#);
        assert_eq!(data.at_us(), Some(1500));
        let sent = RelayMessage::Sent {
            at_us: 1400,
            len: 0,
            fin: true,
        };
        assert_eq!(
            sent.to_json(),
            r#"{"type":"sent","at_us":1400,"len":0,"fin":true}"#
        );
        let sent: RelayMessage =
            serde_json::from_str(r#"{"type":"sent","at_us":9,"len":3}"#).unwrap();
        assert_eq!(
            sent,
            RelayMessage::Sent {
                at_us: 9,
                len: 3,
                fin: false
            }
        );
        let closed: RelayMessage =
            serde_json::from_str(r#"{"type":"closed","by":"peer","reason":"FIN","at_us":2000}"#)
                .unwrap();
        assert_eq!(closed.at_us(), Some(2000));
    }

    #[test]
    fn page_messages_and_error_codes() {
        assert_eq!(PageMessage::Shutdown.to_json(), r#"{"type":"shutdown"}"#);
        assert_eq!(
            serde_json::from_str::<PageMessage>(r#"{"type":"listen"}"#).unwrap(),
            PageMessage::Listen
        );
        assert!(serde_json::from_str::<PageMessage>(r#"{"type":"dance"}"#).is_err());
        assert_eq!(ErrorCode::Forbidden.close_code(), 1008);
        assert_eq!(ErrorCode::ConnectFailed.close_code(), 1011);
        assert_eq!(
            serde_json::to_string(&ErrorCode::UnknownTarget).unwrap(),
            r#""unknown_target""#
        );
        for code in [
            ErrorCode::Forbidden,
            ErrorCode::UnknownTarget,
            ErrorCode::BadRequest,
            ErrorCode::ConnectFailed,
            ErrorCode::Timeout,
            ErrorCode::Limit,
            ErrorCode::Auth,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn connect_query_encodes_values() {
        let mut q = ConnectQuery::target("upper tcp");
        q.delay_ms = Some(50);
        assert_eq!(q.to_query_string(), "target=upper%20tcp&delay_ms=50");
        q.record = true;
        assert_eq!(
            q.to_query_string(),
            "target=upper%20tcp&delay_ms=50&record=1"
        );
        q.stamps = true;
        assert!(q.to_query_string().ends_with("&record=1&stamps=1"));
        q.rate_kbps = Some(1000);
        assert!(
            q.to_query_string()
                .contains("&delay_ms=50&rate_kbps=1000&record=1")
        );
    }

    #[test]
    fn catalog_entry_omits_missing_data_ports() {
        let t = TargetInfo {
            name: "upper-udp".into(),
            transport: Transport::Udp,
            host: "127.0.0.1".into(),
            port: 12000,
            protocol: "line".into(),
            description: "d".into(),
            data_ports: None,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"name":"upper-udp","transport":"udp","host":"127.0.0.1","port":12000,"protocol":"line","description":"d"}"#
        );
        assert!(PortRange { first: 5, last: 9 }.contains(9));
        assert!(!PortRange { first: 5, last: 9 }.contains(10));
    }
}
