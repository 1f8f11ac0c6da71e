//! One peer wire connection as a sans-IO engine (BEP 3): it sends our
//! handshake and bitfield, checks the other side's, keeps the four flags
//! (am choking, am interested, peer choking, peer interested), which
//! pieces each side has, the blocks we asked for and the ones asked of us,
//! and drops the peer, with a reason, at the first rule it breaks: a wrong
//! info hash, a bitfield of the wrong size, a have past the last
//! piece, a request over 16 KiB, past a piece's end, for a piece we lack,
//! or too many at once, a message over the framer's bound.
//!
//! The caller decides: it calls [`PeerConnection::unchoke`],
//! [`PeerConnection::request`], [`PeerConnection::send_block`] with the
//! bytes it holds, [`PeerConnection::have`] when a piece checks out; the
//! engine reports what the peer did as [`PeerEvent`]s. It keeps the
//! connection alive with a keep-alive after two minutes of silence.

use super::bitfield::Bitfield;
use super::metainfo::Sha1Hash;
use super::wire::{Frame, Handshake, MAX_BLOCK, Message, WireReader, max_message_for};
use crate::engine::{Engine, Millis, Output};
use std::collections::VecDeque;

/// BEP 3 suggests a keep-alive every two minutes of silence.
pub const KEEP_ALIVE_MS: u64 = 120_000;

/// What the connection is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerConfig {
    pub info_hash: Sha1Hash,
    pub peer_id: [u8; 20],
    pub piece_length: u64,
    pub total_length: u64,
    /// Our requests the peer has not answered yet, at most.
    pub max_outstanding: usize,
    /// The peer's requests we have not answered yet, at most: one more
    /// drops it.
    pub max_queued: usize,
}

impl PeerConfig {
    pub fn pieces(&self) -> usize {
        super::metainfo::Info::piece_count(self.total_length, self.piece_length) as usize
    }

    /// The length of piece `index`, 0 past the end.
    pub fn piece_len(&self, index: u32) -> u64 {
        let start = u64::from(index) * self.piece_length;
        self.total_length
            .saturating_sub(start)
            .min(self.piece_length)
    }
}

/// A block: piece index, offset in the piece, length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockRef {
    pub index: u32,
    pub begin: u32,
    pub length: u32,
}

/// The four flags of BEP 3; a connection starts choked and not interested
/// both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub am_choking: bool,
    pub am_interested: bool,
    pub peer_choking: bool,
    pub peer_interested: bool,
}

/// What the peer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// Its handshake arrived with the right info hash.
    Connected {
        peer_id: [u8; 20],
    },
    Choked,
    Unchoked,
    Interested,
    NotInterested,
    /// It has this piece now (from a have, or each piece of its bitfield).
    Has(u32),
    /// It asks for a block (and we unchoke it and have the piece).
    Requested(BlockRef),
    /// It withdrew a request.
    Cancelled(BlockRef),
    /// A block we asked for.
    Block(BlockRef, Vec<u8>),
    /// It broke a rule: the connection closes.
    Dropped(String),
}

/// One connection to a peer.
#[derive(Debug)]
pub struct PeerConnection {
    config: PeerConfig,
    reader: WireReader,
    flags: Flags,
    have: Bitfield,
    peer_has: Bitfield,
    outstanding: Vec<BlockRef>,
    queued: VecDeque<BlockRef>,
    connected: bool,
    outputs: VecDeque<Output<PeerEvent>>,
    last_sent: Millis,
    /// The time of the last `handle_*` call: what a send is stamped with.
    now: Millis,
    closed: bool,
}

impl PeerConnection {
    /// A connection that has sent its handshake, and its bitfield if it
    /// has any piece.
    pub fn new(config: PeerConfig, have: Bitfield, now: Millis) -> PeerConnection {
        let pieces = config.pieces();
        let mut c = PeerConnection {
            reader: WireReader::new(max_message_for(pieces)),
            flags: Flags {
                am_choking: true,
                am_interested: false,
                peer_choking: true,
                peer_interested: false,
            },
            peer_has: Bitfield::empty(pieces),
            have,
            outstanding: Vec::new(),
            queued: VecDeque::new(),
            connected: false,
            outputs: VecDeque::new(),
            last_sent: now,
            now,
            closed: false,
            config,
        };
        let handshake = Handshake::new(c.config.info_hash, c.config.peer_id);
        c.outputs
            .push_back(Output::Transmit(handshake.encode().to_vec()));
        if c.have.count() > 0 {
            c.send(Message::Bitfield(c.have.as_bytes().to_vec()));
        }
        c
    }

    pub fn flags(&self) -> Flags {
        self.flags
    }

    pub fn peer_has(&self) -> &Bitfield {
        &self.peer_has
    }

    pub fn have_pieces(&self) -> &Bitfield {
        &self.have
    }

    /// Our requests not answered yet.
    pub fn outstanding(&self) -> &[BlockRef] {
        &self.outstanding
    }

    /// The peer's requests not answered yet.
    pub fn queued(&self) -> impl Iterator<Item = &BlockRef> {
        self.queued.iter()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn send(&mut self, m: Message) {
        if !self.closed {
            self.outputs.push_back(Output::Transmit(m.encode()));
        }
    }

    pub fn choke(&mut self) {
        if !self.flags.am_choking {
            self.flags.am_choking = true;
            // BEP 3: a choked peer's pending requests are dropped.
            self.queued.clear();
            self.send(Message::Choke);
        }
    }

    pub fn unchoke(&mut self) {
        if self.flags.am_choking {
            self.flags.am_choking = false;
            self.send(Message::Unchoke);
        }
    }

    pub fn set_interested(&mut self, interested: bool) {
        if self.flags.am_interested != interested {
            self.flags.am_interested = interested;
            self.send(if interested {
                Message::Interested
            } else {
                Message::NotInterested
            });
        }
    }

    /// Asks for a block; refused (false) while the peer chokes us, when it
    /// lacks the piece, when the block is not inside the piece or over
    /// 16 KiB, or with [`PeerConfig::max_outstanding`] already asked.
    pub fn request(&mut self, block: BlockRef) -> bool {
        let ok = !self.flags.peer_choking
            && self.peer_has.has(block.index as usize)
            && self.block_fits(block)
            && self.outstanding.len() < self.config.max_outstanding
            && !self.outstanding.contains(&block);
        if ok {
            self.outstanding.push(block);
            self.send(Message::Request {
                index: block.index,
                begin: block.begin,
                length: block.length,
            });
        }
        ok
    }

    /// Answers a queued request with its bytes; false if it was not asked
    /// (or was cancelled) or `data` is not its length.
    pub fn send_block(&mut self, block: BlockRef, data: &[u8]) -> bool {
        let Some(at) = self.queued.iter().position(|b| *b == block) else {
            return false;
        };
        if data.len() != block.length as usize {
            return false;
        }
        self.queued.remove(at);
        self.send(Message::Piece {
            index: block.index,
            begin: block.begin,
            block: data.to_vec(),
        });
        true
    }

    /// We have checked piece `index`: tell the peer.
    pub fn have(&mut self, index: u32) {
        if (index as usize) < self.have.len() && !self.have.has(index as usize) {
            self.have.set(index as usize);
            self.send(Message::Have(index));
        }
    }

    fn block_fits(&self, b: BlockRef) -> bool {
        b.length > 0
            && b.length <= MAX_BLOCK
            && u64::from(b.begin) + u64::from(b.length) <= self.config.piece_len(b.index)
    }

    fn drop_peer(&mut self, reason: impl Into<String>) {
        if !self.closed {
            self.outputs
                .push_back(Output::Event(PeerEvent::Dropped(reason.into())));
            self.outputs.push_back(Output::Close);
            self.closed = true;
        }
    }

    fn event(&mut self, e: PeerEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    fn on_handshake(&mut self, h: Handshake) {
        if h.info_hash != self.config.info_hash {
            self.drop_peer("the handshake's info hash is not this torrent's");
        } else {
            self.connected = true;
            self.event(PeerEvent::Connected { peer_id: h.peer_id });
        }
    }

    fn on_message(&mut self, m: Message) {
        match m {
            Message::KeepAlive | Message::Unknown { .. } => {}
            Message::Choke => {
                self.flags.peer_choking = true;
                self.outstanding.clear();
                self.event(PeerEvent::Choked);
            }
            Message::Unchoke => {
                self.flags.peer_choking = false;
                self.event(PeerEvent::Unchoked);
            }
            Message::Interested => {
                self.flags.peer_interested = true;
                self.event(PeerEvent::Interested);
            }
            Message::NotInterested => {
                self.flags.peer_interested = false;
                self.event(PeerEvent::NotInterested);
            }
            Message::Have(i) => self.on_have(i),
            Message::Bitfield(b) => self.on_bitfield(&b),
            Message::Request {
                index,
                begin,
                length,
            } => self.on_request(BlockRef {
                index,
                begin,
                length,
            }),
            Message::Cancel {
                index,
                begin,
                length,
            } => {
                let b = BlockRef {
                    index,
                    begin,
                    length,
                };
                self.queued.retain(|q| *q != b);
                self.event(PeerEvent::Cancelled(b));
            }
            Message::Piece {
                index,
                begin,
                block,
            } => self.on_piece(index, begin, block),
        }
    }

    fn on_have(&mut self, index: u32) {
        if index as usize >= self.peer_has.len() {
            return self.drop_peer(format!(
                "have {index}: there are {} pieces",
                self.peer_has.len()
            ));
        }
        if !self.peer_has.has(index as usize) {
            self.peer_has.set(index as usize);
            self.event(PeerEvent::Has(index));
        }
    }

    fn on_bitfield(&mut self, payload: &[u8]) {
        let Some(b) = Bitfield::from_wire(payload, self.peer_has.len()) else {
            return self.drop_peer(format!(
                "a bitfield for {} pieces is {} bytes with the spare bits clear",
                self.peer_has.len(),
                self.peer_has.len().div_ceil(8)
            ));
        };
        // BEP 3 sends it first, but aria2 sends one again mid-connection:
        // read as haves, it only adds what the peer did not have.
        for i in b.iter() {
            if !self.peer_has.has(i) {
                self.peer_has.set(i);
                self.event(PeerEvent::Has(i as u32));
            }
        }
    }

    fn on_request(&mut self, b: BlockRef) {
        if b.length > MAX_BLOCK {
            return self.drop_peer(format!(
                "a request for {} bytes: blocks are at most {MAX_BLOCK}",
                b.length
            ));
        }
        if !self.block_fits(b) {
            return self.drop_peer(format!(
                "a request for {}+{} of piece {}, past its end",
                b.begin, b.length, b.index
            ));
        }
        if !self.have.has(b.index as usize) {
            return self.drop_peer(format!(
                "a request for piece {}, which we did not announce",
                b.index
            ));
        }
        if self.flags.am_choking {
            // BEP 3: requests from a choked peer are discarded.
            return;
        }
        if self.queued.len() >= self.config.max_queued {
            return self.drop_peer(format!(
                "more than {} requests waiting",
                self.config.max_queued
            ));
        }
        self.queued.push_back(b);
        self.event(PeerEvent::Requested(b));
    }

    fn on_piece(&mut self, index: u32, begin: u32, data: Vec<u8>) {
        let b = BlockRef {
            index,
            begin,
            length: data.len() as u32,
        };
        // A block we did not ask for (or cancelled) is ignored, not fatal:
        // it may have crossed our cancel on the wire.
        if let Some(at) = self.outstanding.iter().position(|o| *o == b) {
            self.outstanding.remove(at);
            self.event(PeerEvent::Block(b, data));
        }
    }

    fn handle_frames(&mut self) {
        while !self.closed {
            match self.reader.next_frame() {
                Ok(Some((Frame::Handshake(h), _))) => self.on_handshake(h),
                Ok(Some((Frame::Message(m), _))) => self.on_message(m),
                Ok(None) => break,
                Err(e) => self.drop_peer(e.to_string()),
            }
        }
    }
}

impl Engine for PeerConnection {
    type Event = PeerEvent;

    fn handle_input(&mut self, bytes: &[u8], now: Millis) {
        self.now = now;
        if self.closed {
            return;
        }
        self.reader.push(bytes);
        self.handle_frames();
    }

    fn handle_eof(&mut self, _now: Millis) {
        if !self.closed {
            self.closed = true;
            self.outputs.push_back(Output::Close);
        }
    }

    fn handle_timeout(&mut self, now: Millis) {
        self.now = now;
        if !self.closed && now.0 >= self.last_sent.0 + KEEP_ALIVE_MS {
            self.send(Message::KeepAlive);
        }
    }

    fn poll_output(&mut self) -> Output<PeerEvent> {
        match self.outputs.pop_front() {
            Some(Output::Transmit(bytes)) => {
                // Outputs are drained right after a `handle_*` call or a
                // command: the send happens at that call's time.
                self.last_sent = self.now;
                Output::Transmit(bytes)
            }
            Some(other) => other,
            None if self.closed => Output::Wait(None),
            None => Output::Wait(Some(self.last_sent.saturating_add(KEEP_ALIVE_MS))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bittorrent::metainfo::sha1;
    use crate::engine::{Drained, drain};

    const BLOCK: u32 = MAX_BLOCK;

    fn config(id: u8, total: u64) -> PeerConfig {
        PeerConfig {
            info_hash: [0x11; 20],
            peer_id: [id; 20],
            piece_length: 2 * u64::from(BLOCK),
            total_length: total,
            max_outstanding: 4,
            max_queued: 8,
        }
    }

    /// Moves what each side sent to the other until both are quiet, and
    /// returns the events each saw.
    fn pump(a: &mut PeerConnection, b: &mut PeerConnection) -> (Vec<PeerEvent>, Vec<PeerEvent>) {
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        loop {
            let (da, db): (Drained<PeerEvent>, Drained<PeerEvent>) = (drain(a), drain(b));
            ea.extend(da.events.clone());
            eb.extend(db.events.clone());
            if da.transmitted.is_empty() && db.transmitted.is_empty() {
                return (ea, eb);
            }
            b.handle_input(&da.bytes(), Millis(1));
            a.handle_input(&db.bytes(), Millis(1));
        }
    }

    #[test]
    fn a_leecher_downloads_every_block_from_a_seed() {
        let total = 5 * u64::from(BLOCK) + 100;
        let data: Vec<u8> = (0..total).map(|i| (i * 7 % 251) as u8).collect();
        let seed_cfg = config(1, total);
        let pieces = seed_cfg.pieces();
        let mut seed = PeerConnection::new(seed_cfg.clone(), Bitfield::full(pieces), Millis(0));
        let mut leech = PeerConnection::new(config(2, total), Bitfield::empty(pieces), Millis(0));
        let (_, events) = pump(&mut seed, &mut leech);
        assert_eq!(events[0], PeerEvent::Connected { peer_id: [1; 20] });
        assert!(leech.peer_has().is_complete());
        leech.set_interested(true);
        pump(&mut seed, &mut leech);
        assert!(seed.flags().peer_interested);
        seed.unchoke();
        pump(&mut seed, &mut leech);
        assert!(!leech.flags().peer_choking);
        let mut got = vec![0u8; total as usize];
        let blocks: Vec<BlockRef> = (0..pieces as u32)
            .flat_map(|index| {
                let len = seed_cfg.piece_len(index) as u32;
                (0..len).step_by(BLOCK as usize).map(move |begin| BlockRef {
                    index,
                    begin,
                    length: BLOCK.min(len - begin),
                })
            })
            .collect();
        for chunk in blocks.chunks(4) {
            for b in chunk {
                assert!(leech.request(*b));
            }
            let (seed_events, _) = pump(&mut seed, &mut leech);
            for e in seed_events {
                let PeerEvent::Requested(b) = e else { continue };
                let at = (u64::from(b.index) * seed_cfg.piece_length + u64::from(b.begin)) as usize;
                assert!(seed.send_block(b, &data[at..at + b.length as usize]));
            }
            let (_, leech_events) = pump(&mut seed, &mut leech);
            for e in leech_events {
                let PeerEvent::Block(b, bytes) = e else {
                    continue;
                };
                let at = (u64::from(b.index) * seed_cfg.piece_length + u64::from(b.begin)) as usize;
                got[at..at + bytes.len()].copy_from_slice(&bytes);
            }
            assert!(leech.outstanding().is_empty());
        }
        assert_eq!(sha1(&got), sha1(&data));
        leech.have(0);
        let (seed_events, _) = pump(&mut seed, &mut leech);
        assert_eq!(seed_events, vec![PeerEvent::Has(0)]);
    }

    /// The seed's answer to `bytes` sent after a good handshake.
    fn seed_answers(bytes: &[u8]) -> Vec<PeerEvent> {
        let total = 3 * u64::from(BLOCK);
        let cfg = config(1, total);
        let mut seed = PeerConnection::new(cfg.clone(), Bitfield::full(cfg.pieces()), Millis(0));
        seed.unchoke();
        drain(&mut seed);
        let mut wire = Handshake::new([0x11; 20], [2; 20]).encode().to_vec();
        wire.extend_from_slice(bytes);
        seed.handle_input(&wire, Millis(0));
        let out = drain(&mut seed);
        out.events
    }

    fn dropped(events: &[PeerEvent]) -> Option<&str> {
        events.iter().find_map(|e| match e {
            PeerEvent::Dropped(why) => Some(why.as_str()),
            _ => None,
        })
    }

    #[test]
    fn rule_breakers_are_dropped_with_a_reason() {
        let request = |index, begin, length| {
            Message::Request {
                index,
                begin,
                length,
            }
            .encode()
        };
        let over = seed_answers(&request(0, 0, 2 * BLOCK));
        assert_eq!(
            dropped(&over),
            Some("a request for 32768 bytes: blocks are at most 16384")
        );
        let past = seed_answers(&request(1, BLOCK, 2));
        assert_eq!(
            dropped(&past),
            Some("a request for 16384+2 of piece 1, past its end")
        );
        let missing = seed_answers(&request(7, 0, 1));
        assert!(dropped(&missing).unwrap().contains("past its end"));
        let late_bitfield = [
            Message::Have(0).encode(),
            Message::Bitfield(vec![0xc0]).encode(),
        ]
        .concat();
        let late = seed_answers(&late_bitfield);
        assert_eq!(dropped(&late), None);
        assert_eq!(
            late.iter()
                .filter(|e| matches!(e, PeerEvent::Has(_)))
                .count(),
            2
        );
        let ragged = seed_answers(&Message::Bitfield(vec![0xc0, 0]).encode());
        assert!(dropped(&ragged).unwrap().contains("spare bits clear"));
        let bad_have = seed_answers(&Message::Have(2).encode());
        assert_eq!(dropped(&bad_have), Some("have 2: there are 2 pieces"));
        let huge = seed_answers(&[0, 1, 0, 0, 7]);
        assert!(dropped(&huge).unwrap().contains("over the limit"));
        let fine = seed_answers(&request(1, 0, 100));
        assert_eq!(dropped(&fine), None);
        assert!(fine.contains(&PeerEvent::Requested(BlockRef {
            index: 1,
            begin: 0,
            length: 100
        })));
    }

    #[test]
    fn a_wrong_info_hash_is_dropped_and_nothing_more_is_read() {
        let cfg = config(1, 100);
        let mut seed = PeerConnection::new(cfg.clone(), Bitfield::full(cfg.pieces()), Millis(0));
        drain(&mut seed);
        let mut wire = Handshake::new([0x22; 20], [2; 20]).encode().to_vec();
        wire.extend(Message::Interested.encode());
        seed.handle_input(&wire, Millis(0));
        let out = drain(&mut seed);
        assert!(out.close);
        assert_eq!(
            out.events,
            vec![PeerEvent::Dropped(
                "the handshake's info hash is not this torrent's".into()
            )]
        );
        assert!(!seed.flags().peer_interested);
    }

    #[test]
    fn choked_requests_are_discarded_and_keep_alives_sent_when_silent() {
        let cfg = config(1, 100);
        let mut seed = PeerConnection::new(cfg.clone(), Bitfield::full(cfg.pieces()), Millis(0));
        let first = drain(&mut seed);
        assert_eq!(first.deadline, Some(Millis(KEEP_ALIVE_MS)));
        let mut wire = Handshake::new([0x11; 20], [2; 20]).encode().to_vec();
        wire.extend(
            Message::Request {
                index: 0,
                begin: 0,
                length: 10,
            }
            .encode(),
        );
        seed.handle_input(&wire, Millis(5));
        let out = drain(&mut seed);
        assert_eq!(out.events.len(), 1, "{:?}", out.events);
        assert_eq!(seed.queued().count(), 0);
        seed.handle_timeout(Millis(KEEP_ALIVE_MS));
        let quiet = drain(&mut seed);
        assert_eq!(quiet.bytes(), Message::KeepAlive.encode());
        assert_eq!(quiet.deadline, Some(Millis(2 * KEEP_ALIVE_MS)));
    }
}
