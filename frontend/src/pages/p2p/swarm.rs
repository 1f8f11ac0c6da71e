//! The real swarm's state as a plain-Rust reducer: the settings the
//! student asks for (`POST /api/swarms`), the swarm's last view as
//! `GET /api/swarms/{id}` gave it, and what the page derives from it:
//! each peer's rates between two polls, the rarest piece, the measured
//! distribution time and the course's bounds D_cs and D_P2P for the same
//! N and rates (`shared::bittorrent::distribution`). The caller passes
//! the time of each poll: the reducer has no clock.

use serde::{Deserialize, Serialize};
use std::rc::Rc;
use wirelab_shared::bittorrent::distribution::{d_cs, d_p2p};
use yew::Reducible;

pub use super::swarm_sweep::SweepPoint;

/// What the student asks the relay for: the body of `POST /api/swarms`
/// (rates in bytes per second, 0 unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SwarmSettings {
    /// Leechers; the seed comes on top.
    pub peers: usize,
    pub file_size: usize,
    pub piece_size: usize,
    pub u_s: f64,
    pub u_i: f64,
    pub d_i: f64,
    /// Whether leechers upload (P2P) or take every byte from the seed.
    pub mode: SwarmMode,
}

/// `mode` of `POST /api/swarms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwarmMode {
    #[default]
    P2p,
    ClientServer,
}

/// The course's example scaled from hours to seconds: F/u = 10 s (the
/// slides' hour), u_s = 10u, d_min = u_s, ten peers. D_cs is then 10 s
/// and D_P2P 5 s.
impl Default for SwarmSettings {
    fn default() -> Self {
        let file_size = 1024 * 1024;
        let u = file_size as f64 / 10.0;
        SwarmSettings {
            peers: 10,
            file_size,
            piece_size: 64 * 1024,
            u_s: 10.0 * u,
            u_i: u,
            d_i: 10.0 * u,
            mode: SwarmMode::P2p,
        }
    }
}

/// One peer as the relay shows it.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct PeerView {
    pub address: String,
    pub seed: bool,
    pub pieces: Vec<usize>,
    pub downloaded: u64,
    pub uploaded: u64,
    /// The swarm peers (0 the seed) in its top slots.
    pub unchoked: Vec<u32>,
    pub optimistic: Option<u32>,
    pub done_secs: Option<f64>,
    pub verified: bool,
}

/// The sizes of a swarm, as its view repeats them.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StartedWith {
    pub file_size: u64,
    pub piece_size: u64,
}

/// Why a swarm's phase ended when every leecher finished.
const ALL_DONE: &str = "every leecher has the file";

/// `GET /api/swarms/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SwarmView {
    pub id: u64,
    pub pieces: usize,
    /// In hex: what a handshake to the swarm's peers carries.
    #[serde(default)]
    pub info_hash: String,
    /// The sizes it was started with.
    #[serde(default)]
    pub request: Option<StartedWith>,
    pub peers: Vec<PeerView>,
}

/// A peer's rates in bytes per second, from two polls.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rates {
    pub down: f64,
    pub up: f64,
}

/// Where the swarm is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Idle,
    Starting,
    Running {
        id: u64,
    },
    /// Every leecher has the file, or the relay ended the swarm.
    Ended {
        id: u64,
        why: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SwarmLab {
    pub settings: SwarmSettings,
    /// The settings the running (or last) swarm was started with.
    pub started_with: SwarmSettings,
    pub phase: Phase,
    pub view: Option<SwarmView>,
    pub rates: Vec<Rates>,
    /// When the last view came (ms, the caller's clock).
    polled_at: Option<f64>,
    pub error: Option<String>,
    /// The sweep over N: each run's measured time, in the order run.
    pub sweep: Vec<SweepPoint>,
    pub sweeping: bool,
}

impl Default for SwarmLab {
    fn default() -> Self {
        SwarmLab {
            settings: SwarmSettings::default(),
            started_with: SwarmSettings::default(),
            phase: Phase::Idle,
            view: None,
            rates: Vec::new(),
            polled_at: None,
            error: None,
            sweep: Vec::new(),
            sweeping: false,
        }
    }
}

pub enum SwarmAction {
    /// A setting changed: which and its new value.
    Set(Setting, f64),
    Starting,
    Started(u64),
    /// A view and the time it came, in ms.
    Polled(SwarmView, f64),
    /// The relay no longer has the swarm (it ended after its lifetime).
    Gone,
    Stopped,
    Failed(String),
    SweepStarted,
    /// One run of the sweep finished.
    SweepPoint(SweepPoint),
    SweepDone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Peers,
    FileSize,
    PieceSize,
    ServerUpload,
    PeerUpload,
    PeerDownload,
}

impl Reducible for SwarmLab {
    type Action = SwarmAction;

    fn reduce(self: Rc<Self>, action: SwarmAction) -> Rc<Self> {
        let mut lab = (*self).clone();
        match action {
            SwarmAction::Set(setting, value) => lab.set(setting, value),
            SwarmAction::Starting => {
                lab.phase = Phase::Starting;
                lab.started_with = lab.settings;
                lab.view = None;
                lab.rates.clear();
                lab.polled_at = None;
                lab.error = None;
            }
            SwarmAction::Started(id) => lab.phase = Phase::Running { id },
            SwarmAction::Polled(view, at) => lab.polled(view, at),
            SwarmAction::Gone => lab.end("the relay ended the swarm after its lifetime"),
            SwarmAction::Stopped => lab.end("stopped"),
            SwarmAction::SweepStarted => {
                lab.sweep.clear();
                lab.sweeping = true;
                lab.started_with = lab.settings;
                lab.error = None;
            }
            SwarmAction::SweepPoint(point) => lab.sweep.push(point),
            SwarmAction::SweepDone => lab.sweeping = false,
            SwarmAction::Failed(why) => {
                lab.sweeping = false;
                if lab.phase == Phase::Starting {
                    lab.phase = Phase::Idle;
                }
                lab.error = Some(why);
            }
        }
        Rc::new(lab)
    }
}

impl SwarmLab {
    fn set(&mut self, setting: Setting, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        let s = &mut self.settings;
        match setting {
            Setting::Peers => s.peers = value as usize,
            Setting::FileSize => s.file_size = value as usize,
            Setting::PieceSize => s.piece_size = value as usize,
            Setting::ServerUpload => s.u_s = value,
            Setting::PeerUpload => s.u_i = value,
            Setting::PeerDownload => s.d_i = value,
        }
    }

    fn end(&mut self, why: &'static str) {
        if let Some(id) = self.listening() {
            self.phase = Phase::Ended { id, why };
        }
    }

    fn polled(&mut self, view: SwarmView, at: f64) {
        if self.phase != (Phase::Running { id: view.id }) {
            return;
        }
        self.rates = rates_between(self.view.as_ref(), &view, self.polled_at, at);
        self.polled_at = Some(at);
        let done = all_done(&view);
        self.view = Some(view);
        if done {
            self.end(ALL_DONE);
        }
    }

    /// The id of the swarm whose peers still listen: running, or finished
    /// and not stopped (the relay keeps it until its lifetime ends).
    pub fn listening(&self) -> Option<u64> {
        match self.phase {
            Phase::Running { id } => Some(id),
            Phase::Ended { id, why } if why == ALL_DONE => Some(id),
            _ => None,
        }
    }

    /// The id of the swarm the relay still runs, if any.
    pub fn running(&self) -> Option<u64> {
        match self.phase {
            Phase::Running { id } => Some(id),
            _ => None,
        }
    }

    /// The measured distribution time: when the last leecher finished, in
    /// seconds from the swarm's start, once all have.
    pub fn measured_secs(&self) -> Option<f64> {
        let view = self.view.as_ref().filter(|v| all_done(v))?;
        view.peers
            .iter()
            .filter(|p| !p.seed)
            .filter_map(|p| p.done_secs)
            .reduce(f64::max)
    }

    /// D_cs and D_P2P in seconds for the swarm's N and rates; `None` when
    /// a rate is unlimited (0), where the bound says nothing.
    pub fn bounds(&self) -> Option<Bounds> {
        bounds_for(&self.started_with, self.started_with.peers)
    }
}

/// D_cs and D_P2P in seconds for `n` leechers at these settings' rates.
pub fn bounds_for(s: &SwarmSettings, n: usize) -> Option<Bounds> {
    if s.u_s <= 0.0 || s.u_i <= 0.0 || s.d_i <= 0.0 {
        return None;
    }
    let (n, f) = (n as u32, s.file_size as f64);
    Some(Bounds {
        cs: d_cs(n, f, s.u_s, s.d_i),
        p2p: d_p2p(n, f, s.u_s, s.d_i, f64::from(n) * s.u_i),
    })
}

/// The course's lower bounds, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub cs: f64,
    pub p2p: f64,
}

fn all_done(view: &SwarmView) -> bool {
    view.peers.iter().all(|p| p.seed || p.done_secs.is_some())
}

/// Each peer's rates from the bytes counted between two views.
fn rates_between(
    before: Option<&SwarmView>,
    now: &SwarmView,
    then: Option<f64>,
    at: f64,
) -> Vec<Rates> {
    let (Some(before), Some(then)) = (before, then) else {
        return vec![Rates::default(); now.peers.len()];
    };
    let secs = (at - then) / 1000.0;
    now.peers
        .iter()
        .enumerate()
        .map(|(i, p)| match before.peers.get(i) {
            Some(b) if secs > 0.0 => Rates {
                down: p.downloaded.saturating_sub(b.downloaded) as f64 / secs,
                up: p.uploaded.saturating_sub(b.uploaded) as f64 / secs,
            },
            _ => Rates::default(),
        })
        .collect()
}

/// The piece the fewest peers hold (the lowest such index on a tie), with
/// how many hold it: the one rarest-first asks for first.
pub fn rarest_piece(view: &SwarmView) -> Option<(usize, usize)> {
    let mut holders = vec![0usize; view.pieces];
    for piece in view.peers.iter().flat_map(|p| &p.pieces) {
        if let Some(count) = holders.get_mut(*piece) {
            *count += 1;
        }
    }
    holders
        .iter()
        .enumerate()
        .min_by_key(|(_, count)| **count)
        .map(|(piece, count)| (piece, *count))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(pieces: &[usize], done: Option<f64>, down: u64) -> PeerView {
        PeerView {
            pieces: pieces.to_vec(),
            done_secs: done,
            downloaded: down,
            ..PeerView::default()
        }
    }

    fn seed() -> PeerView {
        PeerView {
            seed: true,
            pieces: vec![0, 1, 2],
            ..PeerView::default()
        }
    }

    fn view(leechers: Vec<PeerView>) -> SwarmView {
        let mut peers = vec![seed()];
        peers.extend(leechers);
        SwarmView {
            id: 7,
            pieces: 3,
            info_hash: String::new(),
            request: None,
            peers,
        }
    }

    fn running() -> Rc<SwarmLab> {
        Rc::new(SwarmLab::default())
            .reduce(SwarmAction::Starting)
            .reduce(SwarmAction::Started(7))
    }

    #[test]
    fn the_default_is_the_course_example_in_seconds() {
        let bounds = SwarmLab::default().bounds().unwrap();
        assert!((bounds.cs - 10.0).abs() < 1e-9, "{bounds:?}");
        assert!((bounds.p2p - 5.0).abs() < 1e-9, "{bounds:?}");
    }

    #[test]
    fn unlimited_rates_have_no_bound() {
        let lab = Rc::new(SwarmLab::default())
            .reduce(SwarmAction::Set(Setting::ServerUpload, 0.0))
            .reduce(SwarmAction::Starting);
        assert_eq!(lab.bounds(), None);
    }

    #[test]
    fn rates_come_from_two_polls() {
        let lab = running()
            .reduce(SwarmAction::Polled(view(vec![peer(&[], None, 0)]), 1000.0))
            .reduce(SwarmAction::Polled(
                view(vec![peer(&[0], None, 5000)]),
                1500.0,
            ));
        assert_eq!(lab.rates[1].down, 10_000.0);
        assert_eq!(lab.rates[0].down, 0.0);
    }

    #[test]
    fn the_rarest_piece_is_the_one_fewest_hold() {
        let v = view(vec![peer(&[0, 2], None, 0), peer(&[0], None, 0)]);
        assert_eq!(rarest_piece(&v), Some((1, 1)));
    }

    #[test]
    fn the_swarm_ends_when_every_leecher_has_the_file() {
        let lab = running().reduce(SwarmAction::Polled(
            view(vec![peer(&[0, 1, 2], Some(2.0), 0), peer(&[0], None, 0)]),
            0.0,
        ));
        assert_eq!(lab.running(), Some(7));
        assert_eq!(lab.measured_secs(), None);
        let lab = lab.reduce(SwarmAction::Polled(
            view(vec![
                peer(&[0, 1, 2], Some(2.0), 0),
                peer(&[0, 1, 2], Some(3.5), 0),
            ]),
            500.0,
        ));
        assert!(matches!(lab.phase, Phase::Ended { id: 7, .. }));
        assert_eq!(lab.measured_secs(), Some(3.5));
        // Its peers still listen (for the peer wire workbench) until stopped.
        assert_eq!((lab.running(), lab.listening()), (None, Some(7)));
        let stopped = lab.clone().reduce(SwarmAction::Stopped);
        assert_eq!(stopped.listening(), None);
        // A late poll of the ended swarm changes nothing.
        let later = lab.clone().reduce(SwarmAction::Polled(view(vec![]), 900.0));
        assert_eq!(later, lab);
    }

    #[test]
    fn a_sweep_keeps_each_n_and_the_bounds_follow_n() {
        let lab = Rc::new(SwarmLab::default())
            .reduce(SwarmAction::SweepStarted)
            .reduce(SwarmAction::SweepPoint(SweepPoint::new(
                1,
                SwarmMode::ClientServer,
                1.5,
            )))
            .reduce(SwarmAction::SweepPoint(SweepPoint::new(
                1,
                SwarmMode::P2p,
                2.5,
            )));
        assert!(lab.sweeping);
        assert_eq!(
            lab.sweep,
            vec![
                SweepPoint::new(1, SwarmMode::ClientServer, 1.5),
                SweepPoint::new(1, SwarmMode::P2p, 2.5)
            ]
        );
        let lab = lab.reduce(SwarmAction::SweepDone);
        assert!(!lab.sweeping);
        // The course's example at N = 30: 3 hours against 0.75, here in tens of seconds.
        let b = bounds_for(&lab.started_with, 30).unwrap();
        assert!(
            (b.cs - 30.0).abs() < 1e-9 && (b.p2p - 7.5).abs() < 1e-9,
            "{b:?}"
        );
    }

    #[test]
    fn a_refused_start_says_why_and_goes_back_to_idle() {
        let lab = Rc::new(SwarmLab::default())
            .reduce(SwarmAction::Starting)
            .reduce(SwarmAction::Failed("peers must be 1 to 49".into()));
        assert_eq!(lab.phase, Phase::Idle);
        assert_eq!(lab.error.as_deref(), Some("peers must be 1 to 49"));
    }
}
