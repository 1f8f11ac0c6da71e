//! A whole swarm in memory, deterministic: one seed and N leechers, every
//! pair connected (the tracker gives each the others), bytes moving
//! between them in steps of simulated time, limited by each peer's upload
//! and download rate. It runs the real [`Node`]s (wire messages, SHA-1
//! checks, choker, rarest first), so what it measures is the protocol's
//! own distribution time, to set beside the bounds of [`super::distribution`].
//!
//! [`Swarm`] is the same run one step at a time, for a page that steps it
//! and draws each peer's pieces and unchokes in between: peer i's
//! neighbours are known to it by their peer numbers, so its unchoke lists
//! name peers directly.

use super::choker::{ChokerConfig, Decision};
use super::metainfo::{Info, Metainfo, sha1};
use super::node::{Node, NodeConfig};
use crate::engine::Millis;
use std::collections::VecDeque;

/// The swarm to simulate. Rates are bytes per second; 0 is unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SwarmSpec {
    pub leechers: usize,
    pub file_size: usize,
    pub piece_size: usize,
    /// The seed's upload rate (u_s).
    pub u_s: f64,
    /// Each leecher's upload rate (u_i).
    pub u_i: f64,
    /// Each leecher's download rate (d_i).
    pub d_i: f64,
    pub seed: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmResult {
    /// When each leecher had the whole file, checked, in seconds.
    pub finished_secs: Vec<Option<f64>>,
    /// Whether every leecher's file has the original's SHA-1.
    pub all_verified: bool,
    /// Bytes the seed uploaded, and all peers together.
    pub seed_uploaded: u64,
    pub total_uploaded: u64,
}

/// Simulated time per step.
const STEP_MS: u64 = 50;

struct Link {
    from: usize,
    to: usize,
    queue: VecDeque<u8>,
}

/// The file the simulation distributes: byte i is a hash of i.
pub fn sample_file(size: usize) -> Vec<u8> {
    (0..size as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

/// One peer between two steps, as a page draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerState {
    pub pieces: Vec<usize>,
    /// The peers (by number, 0 the seed) in its top slots, best first.
    pub unchoked: Vec<u32>,
    pub optimistic: Option<u32>,
    /// Whether it chokes as a seed (it has the whole file): its slots
    /// rotate between the 10 s rounds too.
    pub seed_mode: bool,
    /// What chose its unchokes last.
    pub decision: Decision,
    pub downloaded: u64,
    pub uploaded: u64,
    /// When it had the whole file, checked, in seconds of swarm time.
    pub done_secs: Option<f64>,
}

/// A simulated swarm advanced step by step.
pub struct Swarm {
    spec: SwarmSpec,
    nodes: Vec<Node>,
    links: Vec<Link>,
    now: Millis,
    finished: Vec<Option<f64>>,
    file_hash: super::metainfo::Sha1Hash,
}

impl Swarm {
    /// Every peer connected to every other, nothing sent yet.
    pub fn new(spec: &SwarmSpec) -> Swarm {
        let data = sample_file(spec.file_size);
        let torrent = Metainfo::build(
            "swarm.bin",
            &data,
            spec.piece_size,
            "http://127.0.0.1:6969/announce",
        );
        let meta = Metainfo::parse(&torrent).expect("a torrent we built");
        let count = spec.leechers + 1;
        let mut nodes: Vec<Node> = (0..count)
            .map(|i| {
                Node::new(
                    node_config(&meta.info, meta.info_hash, i, spec.seed),
                    (i == 0).then_some(&data[..]),
                )
            })
            .collect();
        let mut links = Vec::new();
        for (a, node) in nodes.iter_mut().enumerate() {
            for b in (0..count).filter(|&b| b != a) {
                links.push(Link {
                    from: a,
                    to: b,
                    queue: VecDeque::new(),
                });
                node.connect(b as u32, Millis(0));
            }
            // The first round at 0 s, so the rounds fall on 10 s, 20 s, …
            node.tick(Millis(0));
        }
        Swarm {
            spec: *spec,
            nodes,
            links,
            now: Millis(0),
            finished: vec![None; spec.leechers],
            file_hash: sha1(&data),
        }
    }

    /// Swarm time so far.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Simulated time per step, in ms.
    pub fn step_ms() -> u64 {
        STEP_MS
    }

    /// Whether every leecher has the file.
    pub fn is_done(&self) -> bool {
        self.finished.iter().all(Option::is_some)
    }

    /// One step: what each peer queued moves within the rates, then each
    /// peer's choker runs if its 10 s (or 30 s) round is due.
    pub fn step(&mut self) {
        collect(&mut self.nodes, &mut self.links);
        transfer(&self.spec, &mut self.nodes, &mut self.links, self.now);
        self.now = self.now.saturating_add(STEP_MS);
        for node in &mut self.nodes {
            if self.now >= node.next_deadline() {
                node.tick(self.now);
            }
        }
        for (i, done) in self.finished.iter_mut().enumerate() {
            if done.is_none() && self.nodes[i + 1].is_complete() {
                *done = Some(self.now.0 as f64 / 1000.0);
            }
        }
    }

    /// Every peer, the seed first.
    pub fn peers(&self) -> Vec<PeerState> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let status = node.status();
                PeerState {
                    pieces: status.have.iter().collect(),
                    unchoked: status.unchoked.top.clone(),
                    optimistic: status.unchoked.optimistic,
                    seed_mode: status.unchoked.seed_mode,
                    decision: status.unchoked.decision,
                    downloaded: status.downloaded,
                    uploaded: status.uploaded,
                    done_secs: i.checked_sub(1).and_then(|l| self.finished[l]),
                }
            })
            .collect()
    }

    fn result(&self) -> SwarmResult {
        SwarmResult {
            finished_secs: self.finished.clone(),
            all_verified: self.nodes[1..]
                .iter()
                .all(|n| n.data().is_some_and(|d| sha1(&d) == self.file_hash)),
            seed_uploaded: self.nodes[0].status().uploaded,
            total_uploaded: self.nodes.iter().map(|n| n.status().uploaded).sum(),
        }
    }
}

/// Runs the swarm until every leecher is done or `max_secs` of simulated
/// time have passed.
pub fn run(spec: &SwarmSpec, max_secs: f64) -> SwarmResult {
    let mut swarm = Swarm::new(spec);
    while (swarm.now().0 as f64) < max_secs * 1000.0 && !swarm.is_done() {
        swarm.step();
    }
    swarm.result()
}

fn node_config(info: &Info, info_hash: [u8; 20], i: usize, seed: u64) -> NodeConfig {
    let mut peer_id = *b"-WL0001-000000000000";
    peer_id[8..].copy_from_slice(format!("{i:012}").as_bytes());
    NodeConfig {
        info: info.clone(),
        info_hash,
        peer_id,
        pipeline: 8,
        choker: ChokerConfig::default(),
        seed: seed.wrapping_add(i as u64 * 0x9e37_79b9),
    }
}

/// Moves what each node wants to send onto its links.
fn collect(nodes: &mut [Node], links: &mut [Link]) {
    for (i, node) in nodes.iter_mut().enumerate() {
        let (out, _closed) = node.take_outgoing();
        for (to, bytes) in out {
            if let Some(link) = links
                .iter_mut()
                .find(|l| l.from == i && l.to == to as usize)
            {
                link.queue.extend(bytes);
            }
        }
    }
}

/// One step of transfer: each sender's upload budget shared among its
/// busy links, each receiver's download budget among what comes in.
fn transfer(spec: &SwarmSpec, nodes: &mut [Node], links: &mut [Link], now: Millis) {
    let budget = |rate: f64| {
        if rate <= 0.0 {
            usize::MAX
        } else {
            (rate * STEP_MS as f64 / 1000.0) as usize
        }
    };
    let mut up: Vec<usize> = (0..nodes.len())
        .map(|i| budget(if i == 0 { spec.u_s } else { spec.u_i }))
        .collect();
    let mut down: Vec<usize> = (0..nodes.len())
        .map(|i| if i == 0 { usize::MAX } else { budget(spec.d_i) })
        .collect();
    // Rounds of equal shares, so one busy link cannot starve the others.
    for _ in 0..4 {
        let busy: Vec<usize> = (0..nodes.len())
            .map(|i| {
                links
                    .iter()
                    .filter(|l| l.from == i && !l.queue.is_empty())
                    .count()
            })
            .collect();
        let mut moved_any = false;
        for link in links.iter_mut().filter(|l| !l.queue.is_empty()) {
            let share = (up[link.from] / busy[link.from].max(1))
                .max(1)
                .min(up[link.from]);
            let n = link.queue.len().min(share).min(down[link.to]);
            if n == 0 {
                continue;
            }
            let bytes: Vec<u8> = link.queue.drain(..n).collect();
            up[link.from] -= n;
            down[link.to] -= n;
            moved_any = true;
            nodes[link.to].handle_input(link.from as u32, &bytes, now);
        }
        if !moved_any {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bittorrent::distribution::d_p2p;

    #[test]
    fn a_swarm_of_ten_completes_with_every_piece_verified() {
        let spec = SwarmSpec {
            leechers: 10,
            file_size: 256 * 1024,
            piece_size: 32 * 1024,
            u_s: 0.0,
            u_i: 0.0,
            d_i: 0.0,
            seed: 1,
        };
        let result = run(&spec, 60.0);
        assert!(
            result.finished_secs.iter().all(Option::is_some),
            "{result:?}"
        );
        assert!(result.all_verified);
    }

    /// The course's schedule seen step by step: the top four move only at
    /// 10 s, 20 s, … of swarm time, the optimistic unchoke only at 30 s,
    /// 60 s, …, and the pieces only grow.
    #[test]
    fn stepped_the_chokers_move_only_on_their_rounds() {
        let spec = SwarmSpec {
            leechers: 8,
            file_size: 512 * 1024,
            piece_size: 32 * 1024,
            // Slow enough (D_P2P = 30 s) to run past the first
            // optimistic round at 30 s.
            u_s: 32.0 * 1024.0,
            u_i: 12.8 * 1024.0,
            d_i: 128.0 * 1024.0,
            seed: 3,
        };
        let mut swarm = Swarm::new(&spec);
        let mut before = swarm.peers();
        let (mut top_moves, mut optimistic_moves) = (0, 0);
        while swarm.now().0 < 70_000 && !swarm.is_done() {
            swarm.step();
            let now = swarm.now().0;
            let after = swarm.peers();
            for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                assert!(b.pieces.iter().all(|p| a.pieces.contains(p)), "{now} ms");
                // A slot is freed and refilled at once when its peer
                // loses interest (BEP 3's downloaders are interested
                // peers): only dropping a peer that still wants pieces
                // is a round's doing. A seed's choker also rotates a
                // slot that took nothing, every second.
                let still_wanting = b
                    .unchoked
                    .iter()
                    .any(|&p| !a.unchoked.contains(&p) && swarm.nodes[i].is_wanted_by(p));
                if still_wanting && !a.seed_mode {
                    assert!(now.is_multiple_of(10_000), "top four changed at {now} ms");
                    top_moves += 1;
                }
                if b.optimistic.is_some() && a.optimistic != b.optimistic {
                    optimistic_moves += 1;
                }
            }
            before = after;
        }
        assert!(
            top_moves > 0 && optimistic_moves > 0,
            "{top_moves} {optimistic_moves}"
        );
        assert_eq!(before.len(), 9);
        assert!(before[0].done_secs.is_none());
    }

    #[test]
    fn rate_limited_swarm_respects_the_p2p_bound() {
        let spec = SwarmSpec {
            leechers: 6,
            file_size: 128 * 1024,
            piece_size: 16 * 1024,
            u_s: 64.0 * 1024.0,
            u_i: 32.0 * 1024.0,
            d_i: 256.0 * 1024.0,
            seed: 7,
        };
        let result = run(&spec, 300.0);
        let last = result
            .finished_secs
            .iter()
            .map(|t| t.expect("finished"))
            .fold(0.0, f64::max);
        let f = spec.file_size as f64;
        let bound = d_p2p(6, f, spec.u_s, spec.d_i, 6.0 * spec.u_i);
        // A lower bound: no run may beat it. The protocol's overheads
        // (whole pieces before a have, one choke round of 10 s to get
        // started for some peers) keep it well above.
        assert!(
            last >= bound,
            "finished in {last} s, under the bound {bound} s"
        );
        assert!(result.all_verified);
        // The peers carried some of it: the seed did not upload every copy.
        assert!(
            result.seed_uploaded < 6 * spec.file_size as u64,
            "{result:?}"
        );
    }
}

#[cfg(test)]
mod factor {
    use super::*;
    use crate::bittorrent::distribution::d_p2p;

    /// The course's example at N = 30 as the relay's swarm test runs it
    /// (F = 256 KiB in 16 KiB pieces, u = F/4 s, u_s = 10u, d_i = u_s):
    /// D_P2P = 3 s against D_cs = 12 s. Without CPU in the way, the
    /// protocol itself must come within the factor the relay test allows.
    #[test]
    fn at_thirty_peers_the_protocol_comes_close_to_d_p2p() {
        let (f, u) = (262_144.0, 65_536.0);
        let spec = SwarmSpec {
            leechers: 30,
            file_size: f as usize,
            piece_size: 16_384,
            u_s: 10.0 * u,
            u_i: u,
            d_i: 10.0 * u,
            seed: 11,
        };
        let result = run(&spec, 60.0);
        let last = result
            .finished_secs
            .iter()
            .map(|t| t.expect("finished"))
            .fold(0.0, f64::max);
        let bound = d_p2p(30, f, spec.u_s, spec.d_i, 30.0 * u);
        eprintln!("simulated P2P {last} s, D_P2P {bound} s, D_cs 12 s; {result:?}");
        assert!(last >= bound, "{last} s under {bound} s");
        // 6.4 s (factor 1.88) with the seed choking in seed mode and a
        // slow neighbour holding one piece; 6.2–6.95 s over seeds 1 to 6.
        // Before: 7.15 s (top four as a leecher's, two pieces a
        // neighbour), 21 s before slots were refilled at once. The gain is
        // the one piece: with the seed choking as a leecher does, seeds 1
        // to 6 and 11 give 6.25–6.9 s, with seed mode 6.2–6.95 s, the same;
        // the seed's slots are not what is short, its leechers' requests
        // are (seed mode ordering the waiting by libtorrent's anti-leech
        // rule, nearly-new and nearly-done first, gave 6.05–6.65 s). The rest of
        // the way to 3 s: the seed sends 2.67 MB in 6.4 s, 64 % of u_s
        // (leechers it unchokes have every missing piece asked of slower
        // leechers), start-up (no leecher uploads before its first whole
        // piece) and the last pieces crawling in from 13 KiB/s links.
        assert!(
            last < 7.0,
            "P2P in {last} s, not 12/7 = 1.71 times faster than D_cs"
        );
        assert!(result.all_verified);
    }
}
