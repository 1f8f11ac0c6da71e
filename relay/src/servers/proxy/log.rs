//! The proxy's log for `GET /api/proxy/log`: per request, what the client
//! asked, what the cache did, the request sent upstream (with the
//! conditional fields of a revalidation) and the status that came back,
//! and the times. A ring: past its size the oldest entry leaves.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Longest upstream request head kept in an entry.
const MAX_KEPT_HEAD: usize = 4096;

/// One request through the proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Numbered from 1 in the order requests arrived.
    pub id: u64,
    pub client: String,
    /// When the request arrived, Unix seconds.
    pub at: i64,
    /// `GET http://127.0.0.1:8081/ HTTP/1.1`.
    pub request: String,
    /// `hit`, `miss`, `miss, not stored`, `revalidated` (304),
    /// `refetched` (stale, and the origin sent a new copy), `passed`
    /// (not a GET), `refused`, `error`.
    pub outcome: String,
    /// The status the client got.
    pub status: u16,
    pub cache_status: String,
    /// The `Age` the client got.
    pub age: u64,
    /// Body bytes the client got.
    pub bytes: usize,
    /// The exchange with the origin, if there was one.
    pub upstream: Option<UpstreamExchange>,
    /// From the request's arrival to its answer, in milliseconds.
    pub total_ms: u64,
    /// Why it was refused or failed.
    pub note: Option<String>,
}

impl LogEntry {
    pub fn new(client: SocketAddr, at: i64) -> LogEntry {
        LogEntry {
            id: 0,
            client: client.to_string(),
            at,
            request: String::new(),
            outcome: String::new(),
            status: 0,
            cache_status: String::new(),
            age: 0,
            bytes: 0,
            upstream: None,
            total_ms: 0,
            note: None,
        }
    }
}

/// What the proxy sent the origin and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamExchange {
    /// The origin's address.
    pub origin: String,
    /// The request head as sent (its body left out).
    pub request: String,
    /// The validators sent, `If-None-Match: "…"`, when revalidating.
    pub conditional: Vec<String>,
    /// The origin's status, if it answered.
    pub status: Option<u16>,
    /// It went over a connection kept open from an earlier request (a
    /// persistent connection to the origin), not a new one.
    pub reused_connection: bool,
    /// From the "far away" delay's start to the whole response.
    pub ms: u64,
}

impl UpstreamExchange {
    pub fn new(sent: &[u8], addrs: &[SocketAddr], conditional: Vec<(String, String)>) -> Self {
        let head_end = sent
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(sent.len(), |i| i + 4);
        let head = &sent[..head_end.min(MAX_KEPT_HEAD)];
        UpstreamExchange {
            origin: addrs
                .first()
                .map_or_else(String::new, SocketAddr::to_string),
            request: String::from_utf8_lossy(head).into_owned(),
            conditional: conditional
                .into_iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect(),
            status: None,
            reused_connection: false,
            ms: 0,
        }
    }
}

/// The ring of entries.
pub struct Log {
    entries: Mutex<(u64, VecDeque<LogEntry>)>,
    capacity: usize,
}

impl Log {
    pub fn new(capacity: usize) -> Log {
        Log {
            entries: Mutex::new((0, VecDeque::new())),
            capacity,
        }
    }

    pub fn push(&self, mut entry: LogEntry) {
        let mut guard = super::lock(&self.entries);
        let (next, entries) = &mut *guard;
        *next += 1;
        entry.id = *next;
        if self.capacity == 0 {
            return;
        }
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn entries(&self) -> Vec<LogEntry> {
        super::lock(&self.entries).1.iter().cloned().collect()
    }
}
