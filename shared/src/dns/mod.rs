//! DNS (RFC 1034, RFC 1035 and their updates): the wire format both
//! directions, the dissector, the query builder and the `dig`-like
//! one-liner, zone files, and the sans-IO servers of the lab's name
//! hierarchy (authoritative servers and a recursive resolver).
//!
//! Layout, one noun per file: [`name`] (names and compression), [`types`]
//! (TYPE, CLASS, OPCODE, RCODE numbers), [`header`] (the 12 bytes and every
//! flag's bits), [`rdata`] and [`message`] (records and whole messages),
//! [`frame`] (the TCP length prefix), [`dissect`] (bytes → dissection),
//! [`nearest`] (a CDN's choice of replica), [`reply`] (what a reply
//! means: answer, referral, NXDOMAIN, ...), [`walk`] (an iterative
//! resolution done by hand, numbered as in the course's figure) and
//! [`conversation`] (a DNS exchange cut into messages for the page).

pub mod cache;
pub mod conversation;
pub mod dissect;
pub mod frame;
pub mod header;
pub mod hierarchy;
pub mod message;
pub mod name;
pub mod nearest;
pub mod query;
pub mod rdata;
pub mod reply;
pub mod resolver;
pub mod server;
pub mod types;
pub mod walk;
pub mod zone;

pub use header::Header;
pub use message::{Edns, Message, Question, Record};
pub use name::Name;
pub use rdata::RData;
pub use types::{Class, Opcode, Rcode, RecordType};
