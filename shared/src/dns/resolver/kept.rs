//! Traces as the resolver keeps them between a query and the moment
//! someone asks to see them: bytes and plain values, no strings built and
//! no dissection, since a class may send thousands of queries for every
//! trace the page opens. [`KeptTrace::render`] makes the [`Trace`] the page
//! shows.
//!
//! A resolution keeps its [`Trace`] with each message as bytes; a query the
//! cache answered at once keeps only what its three-event trace is made of
//! ([`CacheHit`]), rendered to the very trace the full resolution would
//! have written.

use super::{ClientId, Trace, TraceEvent, TraceKind, hex, summary, via_text};
use crate::dns::message::{Question, Record};
use crate::dns::types::Rcode;
use crate::engine::Millis;
use std::net::SocketAddr;

/// The messages of a resolution's trace, each by the index of its event.
pub(super) type Messages = Vec<(usize, Vec<u8>)>;

/// A trace as the resolver keeps it. A driver clones it out of the
/// resolver and renders it elsewhere.
#[derive(Debug, Clone)]
pub struct KeptTrace {
    kept: Kept,
}

#[derive(Debug, Clone)]
enum Kept {
    /// A resolution: the trace with the message events' `summary` and
    /// `hex` empty, and the message of each event that carries one, by
    /// event index.
    Resolution {
        trace: Trace,
        messages: Messages,
    },
    FromCache(Box<CacheHit>),
}

/// A query answered at once from the cache, as its trace needs it.
#[derive(Debug, Clone)]
pub(super) struct CacheHit {
    pub id: u64,
    pub client: ClientId,
    pub query_id: u16,
    pub question: Question,
    pub at: Millis,
    pub rcode: Rcode,
    pub found: Found,
    /// The answer section as it went out, before any UDP truncation.
    pub answers: Vec<Record>,
    pub query: Vec<u8>,
    pub reply: Vec<u8>,
}

/// What the cache held for the question, as the trace's note says it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Found {
    NxDomain,
    Records { count: usize, ttl_left: u32 },
    NoData,
}

impl KeptTrace {
    /// A resolution's trace, its messages to come with its events.
    pub(super) fn resolution(trace: Trace) -> KeptTrace {
        KeptTrace {
            kept: Kept::Resolution {
                trace,
                messages: Vec::new(),
            },
        }
    }

    pub(super) fn from_cache(hit: CacheHit) -> KeptTrace {
        KeptTrace {
            kept: Kept::FromCache(Box::new(hit)),
        }
    }

    pub(super) fn id(&self) -> u64 {
        match &self.kept {
            Kept::Resolution { trace, .. } => trace.id,
            Kept::FromCache(hit) => hit.id,
        }
    }

    pub(super) fn finished(&self) -> bool {
        match &self.kept {
            Kept::Resolution { trace, .. } => trace.finished,
            Kept::FromCache(_) => true,
        }
    }

    /// Whether this is the trace of query `query_id` from `client`.
    pub(super) fn is_query(&self, client: SocketAddr, query_id: u16) -> bool {
        match &self.kept {
            Kept::Resolution { trace, .. } => {
                trace.query_id == query_id && trace.client == client.to_string()
            }
            Kept::FromCache(hit) => hit.query_id == query_id && hit.client.addr == client,
        }
    }

    /// The trace and its messages, if it is a resolution's.
    pub(super) fn resolution_mut(&mut self) -> Option<(&mut Trace, &mut Messages)> {
        match &mut self.kept {
            Kept::Resolution { trace, messages } => Some((trace, messages)),
            Kept::FromCache(_) => None,
        }
    }

    /// The trace with every message's summary and hex.
    pub fn render(&self) -> Trace {
        match &self.kept {
            Kept::Resolution { trace, messages } => {
                let mut trace = trace.clone();
                for (index, bytes) in messages {
                    if let Some(event) = trace.events.get_mut(*index) {
                        event.summary = summary(bytes);
                        event.hex = hex(bytes);
                    }
                }
                trace
            }
            Kept::FromCache(hit) => hit.render(),
        }
    }
}

impl CacheHit {
    /// The trace a resolution finished from the cache writes: the query
    /// (message 1), the cache's note, the reply (message 2), all at 0 ms.
    fn render(&self) -> Trace {
        let client = format!("{} (client)", self.client.addr);
        let transport = via_text(self.client.via);
        let name = &self.question.name;
        let qtype = self.question.qtype;
        let note = match self.found {
            Found::NxDomain => format!("cache: {name} does not exist (NXDOMAIN)"),
            Found::Records { count, ttl_left } => {
                format!("cache: {name} {qtype} ({count} record(s), {ttl_left} s left)")
            }
            Found::NoData => format!("cache: {name} has no {qtype} (NODATA)"),
        };
        let event = |n, kind, from: &str, to: &str, transport: &str, summary| TraceEvent {
            n,
            kind,
            at_ms: 0,
            from: from.into(),
            to: to.into(),
            role: "local".into(),
            zone: None,
            transport: transport.into(),
            summary,
            hex: String::new(),
            rtt_ms: None,
        };
        let server = "local DNS server";
        let mut query = event(
            Some(1),
            TraceKind::ClientQuery,
            &client,
            server,
            transport,
            summary(&self.query),
        );
        query.hex = hex(&self.query);
        let mut reply = event(
            Some(2),
            TraceKind::ClientReply,
            server,
            &client,
            transport,
            summary(&self.reply),
        );
        reply.hex = hex(&self.reply);
        Trace {
            id: self.id,
            client: self.client.addr.to_string(),
            transport: transport.into(),
            query_id: self.query_id,
            question: format!("{name} {qtype}"),
            started_ms: self.at.0,
            finished: true,
            elapsed_ms: 0,
            rcode: self.rcode.to_string(),
            answer: self.answers.iter().map(Record::to_text).collect(),
            upstream_queries: 0,
            events: vec![
                query,
                event(None, TraceKind::Cache, server, "", "", note),
                reply,
            ],
        }
    }
}
