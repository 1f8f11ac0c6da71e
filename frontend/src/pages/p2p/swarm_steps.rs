//! The swarm stepped in swarm time: a deterministic swarm from
//! `shared::bittorrent::simulation` (the same nodes as the relay's peers,
//! with simulated links instead of sockets), advanced a second or a whole
//! choke round at a click and drawn with the live swarm's view: each
//! peer's pieces, rates and whom it unchokes, and a log of each choker's
//! decisions, the top four re-evaluated every 10 s and the optimistic
//! unchoke every 30 s, and a seed's decisions named as seed mode's. The
//! relay's real peers are not paused: they run on
//! wall-clock time, their sockets and token buckets would keep moving
//! bytes, so a pause would not be the swarm's own.

use super::swarm::{PeerView, Rates, SwarmView};
use std::cell::RefCell;
use std::rc::Rc;
use wirelab_shared::bittorrent::choker::Decision;
use wirelab_shared::bittorrent::simulation::{PeerState, Swarm, SwarmSpec};
use yew::prelude::*;

/// A choke round, in ms of swarm time.
const ROUND_MS: u64 = 10_000;
/// Log lines kept, the newest first.
const LOG_LINES: usize = 12;
/// Swarm time after which stepping stops, a bound on the page's work.
const MAX_MS: u64 = 600_000;

/// Eight leechers, a 512 KiB file in 16 pieces, F/u = 40 s, u_s = 10u,
/// d_i = u_s: D_P2P ≈ 18 s, so the swarm lives through several rounds.
pub fn default_spec() -> SwarmSpec {
    let file_size = 512 * 1024;
    let u = file_size as f64 / 40.0;
    SwarmSpec {
        leechers: 8,
        file_size,
        piece_size: 32 * 1024,
        u_s: 10.0 * u,
        u_i: u,
        d_i: 10.0 * u,
        seed: 16,
    }
}

/// The stepped swarm and what the page shows of it.
#[derive(Clone)]
pub struct StepLab {
    swarm: Rc<RefCell<Swarm>>,
    pub peers: Vec<PeerState>,
    pub rates: Vec<Rates>,
    /// What the chokers decided, newest first.
    pub log: Vec<String>,
}

pub enum StepAction {
    /// Advance this many ms of swarm time.
    Step(u64),
    /// Advance to the next 10 s round, inclusive.
    NextRound,
    Reset,
}

impl Default for StepLab {
    fn default() -> Self {
        let swarm = Swarm::new(&default_spec());
        StepLab {
            peers: swarm.peers(),
            rates: Vec::new(),
            log: Vec::new(),
            swarm: Rc::new(RefCell::new(swarm)),
        }
    }
}

impl Reducible for StepLab {
    type Action = StepAction;

    fn reduce(self: Rc<Self>, action: StepAction) -> Rc<Self> {
        let now = self.now_ms();
        let until = match action {
            StepAction::Reset => return Rc::new(StepLab::default()),
            StepAction::Step(ms) => now + ms,
            StepAction::NextRound => (now / ROUND_MS + 1) * ROUND_MS,
        };
        let mut lab = (*self).clone();
        lab.advance_to(until.min(MAX_MS));
        Rc::new(lab)
    }
}

impl StepLab {
    pub fn now_ms(&self) -> u64 {
        self.swarm.borrow().now().0
    }

    pub fn is_done(&self) -> bool {
        self.swarm.borrow().is_done()
    }

    /// Steps to `until`, logging every choker change at the step it
    /// happens, and the rates over the whole advance.
    fn advance_to(&mut self, until: u64) {
        let start = (self.now_ms(), self.peers.clone());
        let mut swarm = self.swarm.borrow_mut();
        while swarm.now().0 < until {
            let before = swarm.peers();
            swarm.step();
            let after = swarm.peers();
            let secs = swarm.now().0 as f64 / 1000.0;
            for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                if let Some(line) = choke_change(i, secs, b, a) {
                    self.log.insert(0, line);
                }
            }
        }
        self.log.truncate(LOG_LINES);
        self.peers = swarm.peers();
        let secs = (swarm.now().0 - start.0) as f64 / 1000.0;
        self.rates = rates(&start.1, &self.peers, secs);
    }

    /// The swarm as the live view draws it.
    pub fn view(&self) -> SwarmView {
        let pieces = default_spec().file_size.div_ceil(default_spec().piece_size);
        SwarmView {
            id: 0,
            pieces,
            // A simulated swarm has no peers to handshake with.
            info_hash: String::new(),
            request: None,
            peers: self
                .peers
                .iter()
                .enumerate()
                .map(|(i, p)| PeerView {
                    address: format!("simulated peer {i}"),
                    seed: i == 0,
                    pieces: p.pieces.clone(),
                    downloaded: p.downloaded,
                    uploaded: p.uploaded,
                    unchoked: p.unchoked.clone(),
                    optimistic: p.optimistic,
                    done_secs: p.done_secs,
                    verified: p.done_secs.is_some(),
                })
                .collect(),
        }
    }
}

/// A line for peer `i`'s unchokes if they changed in this step, with
/// what its choker decided: a round every 10 s (the optimistic one every
/// 30 s), a free slot given to a peer that just asked, or, for a peer
/// with the whole file, a seed mode's round or rotation.
fn choke_change(i: usize, secs: f64, before: &PeerState, after: &PeerState) -> Option<String> {
    if before.unchoked == after.unchoked && before.optimistic == after.optimistic {
        return None;
    }
    let ms = (secs * 1000.0).round() as u64;
    let why = reason(before, after, ms);
    let list = |peers: &[u32]| {
        let names: Vec<String> = peers.iter().map(u32::to_string).collect();
        if names.is_empty() {
            "nobody".to_string()
        } else {
            names.join(", ")
        }
    };
    let optimistic = after
        .optimistic
        .map(|o| format!(", optimistic {o}"))
        .unwrap_or_default();
    Some(format!(
        "t = {secs:.1} s, peer {i} unchokes {}{optimistic} ({why}).",
        list(&after.unchoked)
    ))
}

/// What the choker decided, in the page's words; a seed chokes in seed
/// mode (`shared::bittorrent::choker`), not by tit-for-tat.
fn reason(before: &PeerState, after: &PeerState, ms: u64) -> &'static str {
    match after.decision {
        Decision::SeedRound if !before.seed_mode => {
            "seed mode from now on: it has the whole file, so it keeps its fastest takers and rotates the rest"
        }
        Decision::SeedRound => {
            "seed mode, its 10 s round: its 3 fastest takers and the peer that waited longest"
        }
        Decision::SeedIdleSlot => {
            "seed mode: a slot that took nothing for 1 s, given to the peer that waited longest"
        }
        Decision::FreeSlot if after.seed_mode => {
            "seed mode: a free slot, given to the peer that waited longest"
        }
        Decision::FreeSlot => "a free slot, taken by a peer that asked",
        Decision::Round | Decision::None if ms.is_multiple_of(30_000) => {
            "the 30 s round: top 4 by rate and a new optimistic unchoke"
        }
        Decision::Round | Decision::None => "the 10 s round: top 4 by rate",
    }
}

fn rates(before: &[PeerState], after: &[PeerState], secs: f64) -> Vec<Rates> {
    if secs <= 0.0 {
        return vec![Rates::default(); after.len()];
    }
    after
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (down0, up0) = before.get(i).map_or((0, 0), |b| (b.downloaded, b.uploaded));
            Rates {
                down: a.downloaded.saturating_sub(down0) as f64 / secs,
                up: a.uploaded.saturating_sub(up0) as f64 / secs,
            }
        })
        .collect()
}

/// The stepped swarm, its buttons and its log.
#[function_component(SteppedSwarm)]
pub fn stepped_swarm() -> Html {
    let lab = use_reducer(StepLab::default);
    let on = |action: fn() -> StepAction| {
        let dispatch = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(action()))
    };
    let now = lab.now_ms() as f64 / 1000.0;
    let status = if lab.is_done() {
        format!("t = {now:.1} s of swarm time: every leecher has the file.")
    } else {
        format!("t = {now:.1} s of swarm time.")
    };
    html! {
        <div class="p2p-part" data-testid="swarm-steps">
            <h2>{ "The swarm, step by step" }</h2>
            <p>{ "A simulated swarm of the same BitTorrent peers (one seed, eight leechers, \
                  16 pieces, F/u = 40 s, u_s = 10u), deterministic, advanced in swarm time: \
                  watch the pieces spread, rarest first, and each peer's unchokes change at its \
                  10 s rounds (top 4 by the rate it receives) and 30 s rounds (a random \
                  optimistic unchoke). The real swarm above runs on the clock and cannot be \
                  paused: its sockets and token buckets would keep going." }</p>
            <div class="p2p-controls">
                <button data-testid="swarm-step" onclick={on(|| StepAction::Step(1_000))}>
                    { "Step 1 s" }</button>
                <button data-testid="swarm-step-round" onclick={on(|| StepAction::NextRound)}>
                    { "To the next 10 s round" }</button>
                <button data-testid="swarm-step-reset" onclick={on(|| StepAction::Reset)}>
                    { "Start again" }</button>
            </div>
            <p data-testid="swarm-step-time" data-ms={lab.now_ms().to_string()}>{ status }</p>
            <super::swarm_view::SwarmState view={lab.view()} rates={lab.rates.clone()}
                prefix="step" />
            <ol data-testid="swarm-step-log" class="swarm-log">
                { for lab.log.iter().map(|line| html! { <li>{ line }</li> }) }
            </ol>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_advances_swarm_time_and_fills_pieces() {
        // The seed's 4 slots and its optimistic unchoke share u_s = 128 KiB/s:
        // a first 32 KiB piece takes 1.25 s.
        let lab = Rc::new(StepLab::default()).reduce(StepAction::Step(2_000));
        assert_eq!(lab.now_ms(), 2_000);
        let held: usize = lab.peers[1..].iter().map(|p| p.pieces.len()).sum();
        assert!(held > 0, "no leecher has a piece after 2 s");
        assert!(lab.rates[0].up > 0.0, "{:?}", lab.rates);
        assert_eq!(lab.view().peers.len(), 9);
        assert_eq!(lab.view().pieces, 16);
    }

    #[test]
    fn the_next_round_lands_on_ten_seconds_and_is_logged_as_one() {
        let lab = Rc::new(StepLab::default())
            .reduce(StepAction::Step(2_500))
            .reduce(StepAction::NextRound);
        assert_eq!(lab.now_ms(), 10_000);
        assert!(
            lab.log
                .iter()
                .any(|l| l.starts_with("t = 10.0 s") && l.contains("the 10 s round: top 4 by rate")),
            "{:#?}",
            lab.log
        );
        // The leechers still trading at 20 s have their round then too (the
        // swarm is done at 28 s, before the 30 s one: the optimistic
        // round is the shared simulation's test).
        let lab = lab.reduce(StepAction::NextRound);
        assert_eq!(lab.now_ms(), 20_000);
        assert!(
            lab.log
                .iter()
                .any(|l| l.starts_with("t = 20.0 s") && l.contains("the 10 s round: top 4 by rate")),
            "{:#?}",
            lab.log
        );
        assert!(lab.log.len() <= LOG_LINES);
    }

    #[test]
    fn starting_again_goes_back_to_nothing() {
        let lab = Rc::new(StepLab::default())
            .reduce(StepAction::Step(3_000))
            .reduce(StepAction::Reset);
        assert_eq!(lab.now_ms(), 0);
        assert!(lab.log.is_empty());
        assert!(lab.peers[1..].iter().all(|p| p.pieces.is_empty()));
    }

    #[test]
    fn the_seeds_decisions_are_logged_as_seed_modes() {
        let mut lab = Rc::new(StepLab::default());
        let mut seeds_lines = Vec::new();
        while lab.now_ms() < 25_000 {
            lab = lab.reduce(StepAction::Step(1_000));
            seeds_lines.extend(
                lab.log
                    .iter()
                    .filter(|l| l.contains("peer 0 unchokes"))
                    .cloned(),
            );
        }
        assert!(!seeds_lines.is_empty(), "{:#?}", lab.log);
        assert!(
            seeds_lines.iter().all(|l| l.contains("seed mode")),
            "{seeds_lines:#?}"
        );
    }
}
