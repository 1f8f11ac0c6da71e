//! BitTorrent (BEP 3, BEP 23), sans-IO: bencode with spans, metainfo and
//! its SHA-1 hashes, the tracker's HTTP announce and its compact reply,
//! the peer wire protocol (framer, dissector, a peer engine), and the
//! course's algorithms each on its own: the choker (tit-for-tat, top 4
//! every 10 s, an optimistic unchoke every 30 s), the rarest-first piece
//! picker and the distribution-time bounds D_cs and D_P2P.
//!
//! Nothing here reads a clock or a socket: time comes in as
//! [`crate::Millis`], bytes in and out as slices. The relay drives the
//! tracker and the peers over tokio; tests drive them with slices.

pub mod announce;
pub mod bencode;
pub mod bitfield;
pub mod choker;
pub mod dissect;
pub mod distribution;
pub mod metainfo;
pub mod node;
pub mod peer;
pub mod picker;
pub mod simulation;
pub mod syntax;
pub mod tracker;
pub mod tracker_server;
pub mod wire;
