//! One BitTorrent peer of a swarm, sans-IO: its pieces, its connections
//! (each a [`PeerConnection`]), the rarest-first picker and the choker put
//! together. The driver adds and removes connections, feeds each its
//! bytes, calls [`Node::tick`] with the time, and sends what
//! [`Node::take_outgoing`] gives it; the node checks each piece's SHA-1
//! before it keeps it and tells every neighbour with a have.
//!
//! A piece is fetched from one neighbour at a time, in 16 KiB blocks, at
//! most [`NodeConfig::pipeline`] blocks asked ahead; a neighbour that
//! chokes us or leaves gives its unfinished pieces back to the picker.

use super::bitfield::Bitfield;
use super::choker::{Choker, ChokerConfig, Neighbour, Unchoked};
use super::metainfo::{Info, Sha1Hash, sha1};
use super::peer::{BlockRef, PeerConfig, PeerConnection, PeerEvent};
use super::picker::{Availability, pick_rarest};
use super::wire::MAX_BLOCK;
use crate::engine::{Millis, Output};
use std::collections::BTreeMap;

/// Pieces fetched from one neighbour at once, at the least: a slow
/// neighbour (or one not measured yet) holds no more, so the rest stay
/// with the picker for faster ones. One, not two: with the course's 16
/// pieces and five neighbours unchoking us, two each tied up to ten
/// pieces at leechers sending 13 KiB/s, and the seed, unchoking us, found
/// nothing left to be asked for (it idled 1–2 s of its first 2.5 and
/// sent 340 KiB/s of its 640 in the 30-peer simulation; 6.2–6.95 s over
/// six seeds with one, 7.2–7.8 s with two).
const MIN_PIECES_PER_NEIGHBOUR: usize = 1;

/// Seconds of a neighbour's current rate kept asked for ahead (what
/// libtorrent calls its request queue time): a fast neighbour gets a
/// deeper pipeline, up to [`NodeConfig::pipeline`] blocks, so its link
/// never idles for a round trip between blocks.
const QUEUE_SECS: f64 = 3.0;

/// What a node is and how it behaves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub info: Info,
    pub info_hash: Sha1Hash,
    pub peer_id: [u8; 20],
    /// Blocks asked of one neighbour ahead of their arrival.
    pub pipeline: usize,
    pub choker: ChokerConfig,
    /// Seeds the choker's optimistic unchoke and the picker's ties.
    pub seed: u64,
}

/// A piece being fetched from one neighbour.
#[derive(Debug, Clone)]
struct Fetch {
    index: u32,
    data: Vec<u8>,
    next_begin: u32,
    received: u64,
}

#[derive(Debug)]
struct Neighbourhood {
    conn: PeerConnection,
    fetching: Vec<Fetch>,
    /// Bytes of blocks it sent us and we sent it since the last regular
    /// choke round: its rate for the choker.
    received: u64,
    sent: u64,
    rate: f64,
}

/// What the page shows of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    pub have: Bitfield,
    pub unchoked: Unchoked,
    /// Each neighbour's rate as the choker last measured it, bytes/s.
    pub rates: Vec<(u32, f64)>,
    pub downloaded: u64,
    pub uploaded: u64,
    /// Pieces that failed their SHA-1 check and were fetched again.
    pub bad_pieces: u64,
}

/// One peer of a swarm.
#[derive(Debug)]
pub struct Node {
    config: NodeConfig,
    pieces: Vec<Option<Vec<u8>>>,
    have: Bitfield,
    in_flight: Bitfield,
    availability: Availability,
    choker: Choker,
    neighbours: BTreeMap<u32, Neighbourhood>,
    outgoing: Vec<(u32, Vec<u8>)>,
    closed: Vec<u32>,
    last_round: Millis,
    downloaded: u64,
    uploaded: u64,
    bad_pieces: u64,
    picks: u64,
}

impl Node {
    /// A node with `data` (a seed: all of it, checked) or nothing.
    pub fn new(config: NodeConfig, data: Option<&[u8]>) -> Node {
        let count = config.info.pieces.len();
        let mut pieces = vec![None; count];
        let mut have = Bitfield::empty(count);
        if let Some(data) = data {
            let len = config.info.piece_length as usize;
            for (i, chunk) in data.chunks(len.max(1)).enumerate().take(count) {
                if config.info.verify(i, chunk) {
                    pieces[i] = Some(chunk.to_vec());
                    have.set(i);
                }
            }
        }
        Node {
            choker: Choker::new(config.choker, config.seed),
            in_flight: Bitfield::empty(count),
            availability: Availability::new(count),
            config,
            pieces,
            have,
            neighbours: BTreeMap::new(),
            outgoing: Vec::new(),
            closed: Vec::new(),
            last_round: Millis(0),
            downloaded: 0,
            uploaded: 0,
            bad_pieces: 0,
            picks: 0,
        }
    }

    pub fn is_complete(&self) -> bool {
        self.have.is_complete()
    }

    pub fn have(&self) -> &Bitfield {
        &self.have
    }

    /// The whole file, once complete.
    pub fn data(&self) -> Option<Vec<u8>> {
        self.pieces
            .iter()
            .cloned()
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat())
    }

    pub fn status(&self) -> NodeStatus {
        NodeStatus {
            have: self.have.clone(),
            unchoked: self.choker.unchoked().clone(),
            rates: self.neighbours.iter().map(|(k, n)| (*k, n.rate)).collect(),
            downloaded: self.downloaded,
            uploaded: self.uploaded,
            bad_pieces: self.bad_pieces,
        }
    }

    /// Whether neighbour `key` is connected and wants pieces from us.
    pub fn is_wanted_by(&self, key: u32) -> bool {
        self.neighbours
            .get(&key)
            .is_some_and(|n| n.conn.flags().peer_interested)
    }

    /// The neighbours connected now.
    pub fn neighbours(&self) -> impl Iterator<Item = u32> + '_ {
        self.neighbours.keys().copied()
    }

    /// A new connection, known to the driver as `key`.
    pub fn connect(&mut self, key: u32, now: Millis) {
        let peer = PeerConfig {
            info_hash: self.config.info_hash,
            peer_id: self.config.peer_id,
            piece_length: self.config.info.piece_length,
            total_length: self.config.info.length,
            max_outstanding: self.config.pipeline,
            // Real clients pipeline deeply (libtorrent accepts 500 queued
            // requests); 250 keeps aria2 connected and memory bounded.
            max_queued: 250,
        };
        let conn = PeerConnection::new(peer, self.have.clone(), now);
        self.neighbours.insert(
            key,
            Neighbourhood {
                conn,
                fetching: Vec::new(),
                received: 0,
                sent: 0,
                rate: 0.0,
            },
        );
        self.settle(now);
    }

    /// The connection `key` closed or failed.
    pub fn disconnect(&mut self, key: u32) {
        if let Some(n) = self.neighbours.remove(&key) {
            self.availability.add_bitfield(n.conn.peer_has(), -1);
            for f in n.fetching {
                self.release(f.index);
            }
            self.refill_slots();
        }
    }

    /// Bytes from connection `key`.
    pub fn handle_input(&mut self, key: u32, bytes: &[u8], now: Millis) {
        if let Some(n) = self.neighbours.get_mut(&key) {
            crate::engine::Engine::handle_input(&mut n.conn, bytes, now);
            self.settle(now);
        }
    }

    /// Runs the choker if a round is due; call at [`Node::next_deadline`].
    pub fn tick(&mut self, now: Millis) {
        for n in self.neighbours.values_mut() {
            crate::engine::Engine::handle_timeout(&mut n.conn, now);
        }
        if now >= self.next_deadline() {
            self.measure_rates(now);
            let list = self.choker_view();
            if self.is_complete() {
                self.choker.tick_seeding(now, &list);
            } else {
                self.choker.tick(now, &list);
            }
            self.apply_unchoked();
        }
        self.settle(now);
    }

    /// Each neighbour as the choker sees it: its last measured rate and
    /// whether it wants pieces from us.
    fn choker_view(&self) -> Vec<Neighbour> {
        self.neighbours
            .iter()
            .map(|(k, n)| Neighbour {
                id: *k,
                rate: n.rate,
                interested: n.conn.flags().peer_interested,
            })
            .collect()
    }

    /// Chokes and unchokes every connection as the choker says.
    fn apply_unchoked(&mut self) {
        let unchoked = self.choker.unchoked().clone();
        for (k, n) in &mut self.neighbours {
            if unchoked.contains(*k) {
                n.conn.unchoke();
            } else {
                n.conn.choke();
            }
        }
    }

    /// A downloader came, went or lost interest: its slot is refilled
    /// now rather than at the next round.
    fn refill_slots(&mut self) {
        let list = self.choker_view();
        self.choker.refill(&list);
        self.apply_unchoked();
    }

    /// When [`Node::tick`] is next due: at once for a leecher that just
    /// got the whole file, so it chokes as a seed from now on.
    pub fn next_deadline(&self) -> Millis {
        if self.is_complete() && !self.choker.unchoked().seed_mode {
            return Millis(0);
        }
        self.choker.next_deadline()
    }

    /// Bytes to send, by connection, and the connections to close.
    pub fn take_outgoing(&mut self) -> (Vec<(u32, Vec<u8>)>, Vec<u32>) {
        let mut closed = std::mem::take(&mut self.closed);
        closed.sort_unstable();
        closed.dedup();
        (std::mem::take(&mut self.outgoing), closed)
    }

    fn measure_rates(&mut self, now: Millis) {
        let secs = (now.0.saturating_sub(self.last_round.0) as f64 / 1000.0).max(0.001);
        let seeding = self.is_complete();
        for n in self.neighbours.values_mut() {
            // Tit-for-tat: reward who sends to us; a seed, which needs
            // nothing, favours who takes from it fastest.
            let bytes = if seeding { n.sent } else { n.received };
            n.rate = bytes as f64 / secs;
            n.received = 0;
            n.sent = 0;
        }
        self.last_round = now;
    }

    /// Fills every pipeline, drains every connection and acts on what
    /// happened, until nothing more happens. Bounded: each round either
    /// handles an event (there are finitely many bytes) or stops.
    fn settle(&mut self, now: Millis) {
        const MAX_ROUNDS: usize = 10_000;
        for _ in 0..MAX_ROUNDS {
            let keys: Vec<u32> = self.neighbours.keys().copied().collect();
            for k in &keys {
                self.request_more(*k, now);
            }
            let mut events = Vec::new();
            for (k, n) in &mut self.neighbours {
                loop {
                    match crate::engine::Engine::poll_output(&mut n.conn) {
                        Output::Transmit(bytes) => self.outgoing.push((*k, bytes)),
                        Output::Event(e) => events.push((*k, e)),
                        Output::Close => self.closed.push(*k),
                        Output::Wait(_) => break,
                    }
                }
            }
            if events.is_empty() {
                break;
            }
            for (k, e) in events {
                self.on_event(k, e, now);
            }
            let closed: Vec<u32> = self
                .closed
                .iter()
                .copied()
                .filter(|k| self.neighbours.contains_key(k))
                .collect();
            for k in closed {
                self.disconnect(k);
            }
        }
    }

    fn on_event(&mut self, key: u32, event: PeerEvent, _now: Millis) {
        match event {
            PeerEvent::Has(i) => {
                self.availability.add_have(i as usize);
                self.update_interest(key);
            }
            PeerEvent::Requested(b) => self.serve(key, b),
            PeerEvent::Block(b, data) => self.on_block(key, b, &data),
            PeerEvent::Choked => {
                if let Some(n) = self.neighbours.get_mut(&key) {
                    let fetching = std::mem::take(&mut n.fetching);
                    for f in fetching {
                        self.release(f.index);
                    }
                }
            }
            PeerEvent::Interested | PeerEvent::NotInterested => self.refill_slots(),
            PeerEvent::Dropped(_) => self.closed.push(key),
            _ => {}
        }
    }

    fn update_interest(&mut self, key: u32) {
        let have = &self.have;
        if let Some(n) = self.neighbours.get_mut(&key) {
            let wants = n.conn.peer_has().iter().any(|i| !have.has(i));
            n.conn.set_interested(wants);
        }
    }

    fn serve(&mut self, key: u32, b: BlockRef) {
        let Some(Some(piece)) = self.pieces.get(b.index as usize) else {
            return;
        };
        let (start, end) = (b.begin as usize, (b.begin + b.length) as usize);
        let Some(block) = piece.get(start..end) else {
            return;
        };
        if let Some(n) = self.neighbours.get_mut(&key)
            && n.conn.send_block(b, block)
        {
            n.sent += u64::from(b.length);
            self.uploaded += u64::from(b.length);
        }
    }

    fn on_block(&mut self, key: u32, b: BlockRef, data: &[u8]) {
        let Some(n) = self.neighbours.get_mut(&key) else {
            return;
        };
        n.received += data.len() as u64;
        self.downloaded += data.len() as u64;
        let Some(at) = n.fetching.iter().position(|f| f.index == b.index) else {
            return;
        };
        let f = &mut n.fetching[at];
        let start = b.begin as usize;
        if let Some(slot) = f.data.get_mut(start..start + data.len()) {
            slot.copy_from_slice(data);
            f.received += data.len() as u64;
        }
        if f.received < f.data.len() as u64 {
            return;
        }
        let done = n.fetching.remove(at);
        self.in_flight.unset(done.index as usize);
        if self.config.info.verify(done.index as usize, &done.data) {
            self.pieces[done.index as usize] = Some(done.data);
            self.have.set(done.index as usize);
            for n in self.neighbours.values_mut() {
                n.conn.have(done.index);
            }
            let keys: Vec<u32> = self.neighbours.keys().copied().collect();
            for k in keys {
                self.update_interest(k);
            }
        } else {
            self.bad_pieces += 1;
        }
    }

    fn release(&mut self, index: u32) {
        self.in_flight.unset(index as usize);
    }

    /// Keeps `key`'s pipeline full: the next blocks of the pieces it is
    /// fetching, then a new piece, rarest first.
    fn request_more(&mut self, key: u32, now: Millis) {
        let elapsed = (now.0.saturating_sub(self.last_round.0) as f64 / 1000.0).max(1.0);
        loop {
            let Some(n) = self.neighbours.get_mut(&key) else {
                return;
            };
            let flags = n.conn.flags();
            if flags.peer_choking
                || !flags.am_interested
                || n.conn.outstanding().len() >= self.config.pipeline
            {
                return;
            }
            if let Some(f) = n
                .fetching
                .iter_mut()
                .find(|f| (f.next_begin as usize) < f.data.len())
            {
                let length = MAX_BLOCK.min(f.data.len() as u32 - f.next_begin);
                let block = BlockRef {
                    index: f.index,
                    begin: f.next_begin,
                    length,
                };
                f.next_begin += length;
                if !n.conn.request(block) {
                    return;
                }
                continue;
            }
            // A new piece only when the current ones are all asked for,
            // and as many as its rate keeps busy for QUEUE_SECS.
            let rate = n.received as f64 / elapsed;
            if n.fetching.len()
                >= queue_depth(rate, self.config.info.piece_length, self.config.pipeline)
            {
                return;
            }
            self.picks += 1;
            let tiebreak = self.config.seed.wrapping_add(self.picks);
            let Some(index) = pick_rarest(
                &self.have,
                &self.in_flight,
                n.conn.peer_has(),
                &self.availability,
                tiebreak,
            ) else {
                return;
            };
            self.in_flight.set(index);
            let len = self.config.info.piece_len(index) as usize;
            n.fetching.push(Fetch {
                index: index as u32,
                data: vec![0; len],
                next_begin: 0,
                received: 0,
            });
        }
    }
}

/// Pieces of `piece_length` to fetch at once from a neighbour sending
/// `rate` bytes/s: QUEUE_SECS of its rate, at least one, and no more
/// than `pipeline` blocks' worth.
fn queue_depth(rate: f64, piece_length: u64, pipeline: usize) -> usize {
    let piece = piece_length.max(1);
    let wanted = (rate * QUEUE_SECS / piece as f64).ceil() as usize;
    let most = (pipeline as u64 * u64::from(MAX_BLOCK)).div_ceil(piece) as usize;
    wanted.clamp(MIN_PIECES_PER_NEIGHBOUR, most.max(MIN_PIECES_PER_NEIGHBOUR))
}

/// The file's SHA-1, for a driver reporting that a node got it right.
pub fn file_hash(node: &Node) -> Option<Sha1Hash> {
    node.data().map(|d| sha1(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neighbours_pipeline_is_three_seconds_of_its_rate_one_piece_at_least() {
        let piece = 16_384;
        // Nothing measured yet, or a slow neighbour: one piece.
        assert_eq!(queue_depth(0.0, piece, 8), 1);
        assert_eq!(queue_depth(4_096.0, piece, 8), 1);
        assert_eq!(queue_depth(8_192.0, piece, 8), 2);
        // 32 KiB/s: three seconds are six pieces.
        assert_eq!(queue_depth(32_768.0, piece, 8), 6);
        // A fast one: no more than the pipeline's eight blocks.
        assert_eq!(queue_depth(1e9, piece, 8), 8);
        // Pieces of four blocks: eight blocks are two pieces, and a piece
        // alone keeps four blocks asked ahead.
        assert_eq!(queue_depth(1e9, 65_536, 8), 2);
        assert_eq!(queue_depth(0.0, 65_536, 8), 1);
    }
}
