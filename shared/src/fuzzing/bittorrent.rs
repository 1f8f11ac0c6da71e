//! Fuzz bodies for BitTorrent: bencode (parsed, and canonical input
//! written back byte for byte), the dissectors, metainfo, the tracker's
//! reply and announce query, the peer wire framer and the peer engine, and
//! the tracker's HTTP engine.

use super::{check, drive};
use crate::bittorrent::announce::{AnnounceReply, AnnounceRequest};
use crate::bittorrent::bencode;
use crate::bittorrent::bitfield::Bitfield;
use crate::bittorrent::dissect::{dissect_torrent, dissect_tracker_reply, dissect_wire};
use crate::bittorrent::metainfo::Metainfo;
use crate::bittorrent::peer::{PeerConfig, PeerConnection};
use crate::bittorrent::tracker::{Tracker, TrackerLimits};
use crate::bittorrent::tracker_server::TrackerConnection;
use crate::bittorrent::wire::{HANDSHAKE_LEN, Handshake, WireReader};
use crate::engine::Millis;
use std::sync::{Arc, Mutex};

/// Bencode, metainfo, replies, queries, the wire and the peer engine.
pub fn bittorrent(data: &[u8]) {
    check(&dissect_torrent(data), data);
    check(&dissect_tracker_reply(data), data);
    check(&dissect_wire(data, 8), data);
    if let Ok(parsed) = bencode::parse_default(data) {
        // Sorted, unique keys and canonical numbers: the writer gives back
        // exactly what was read.
        if parsed.irregular_keys.is_empty() {
            assert_eq!(parsed.value.encode(), data);
        }
    }
    if let Ok(m) = Metainfo::parse(data) {
        assert_eq!(
            m.info.pieces.len() as u64,
            m.info.length.div_ceil(m.info.piece_length)
        );
    }
    if let Ok(reply) = AnnounceReply::parse(data) {
        assert_eq!(AnnounceReply::parse(&reply.encode()), Ok(reply));
    }
    let query = String::from_utf8_lossy(data);
    if let Ok(req) = AnnounceRequest::from_query(&query) {
        assert_eq!(AnnounceRequest::from_query(&req.to_query()), Ok(req));
    }
    frame_wire(data);
    peer(data);
}

/// The framer consumes exactly what it frames, and never more than it got.
fn frame_wire(data: &[u8]) {
    let mut reader = WireReader::new(1024);
    reader.push(data);
    while let Ok(Some(_)) = reader.next_frame() {}
    assert!(reader.offset() + reader.pending() == data.len());
}

/// A seed of a 3-piece torrent fed `data` after a good handshake: it
/// answers at most one block per request it could have been sent.
fn peer(data: &[u8]) {
    let config = PeerConfig {
        info_hash: [7; 20],
        peer_id: [1; 20],
        piece_length: 32 * 1024,
        total_length: 80 * 1024,
        max_outstanding: 4,
        max_queued: 8,
    };
    let mut seed = PeerConnection::new(config.clone(), Bitfield::full(config.pieces()), Millis(0));
    seed.unchoke();
    let mut input = Handshake::new([7; 20], [2; 20]).encode().to_vec();
    input.extend_from_slice(data);
    let out = drive(&mut seed, &input);
    let sent: usize = out.transmitted.iter().map(Vec::len).sum();
    assert!(
        sent <= HANDSHAKE_LEN + 64,
        "the seed sent {sent} bytes unasked"
    );
    assert!(seed.queued().count() <= config.max_queued);
}

/// The tracker's HTTP engine: one answer at most, bounded, then close.
pub fn bittorrent_tracker(data: &[u8]) {
    let tracker = Arc::new(Mutex::new(Tracker::new(TrackerLimits::default())));
    let mut c = TrackerConnection::new(tracker.clone(), "127.0.0.1".parse().expect("an address"));
    let out = drive(&mut c, data);
    assert!(out.transmitted.len() <= 1);
    assert!(out.bytes().len() <= 16 * 1024);
    let (torrents, peers) = tracker.lock().expect("not poisoned").size();
    assert!(torrents <= 1 && peers <= 1);
}
