//! The P2P page's state as one plain-Rust reducer: the DHT ring (which
//! ring, who asks for which key, shortcuts or not, and the churn so far)
//! and the flooding experiment's settings. Every figure the page shows is
//! computed from this state by `shared::overlay`.

use std::rc::Rc;
use wirelab_shared::overlay::dht::{Lookup, Repair, Ring, RingError};
use wirelab_shared::overlay::flood::{
    Flood, MAX_PEERS, Overlay, Supernodes, TieredQuery, p18_bound,
};
use yew::Reducible;

/// The slides' query: key 1110 asked at peer 1.
const COURSE_KEY: u16 = 0b1110;
const COURSE_ASKER: u16 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct P2pLab {
    pub ring: Ring,
    /// The slides' figure (a peer 15) rather than their text (a peer 14).
    pub figure_ring: bool,
    pub asker: u16,
    pub key: u16,
    pub shortcuts: bool,
    /// What the last join or leave did, for the page to say.
    pub repairs: Vec<Repair>,
    /// Why the last change was refused.
    pub refused: Option<String>,
    pub flood: FloodSettings,
}

/// The flooding experiment's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodSettings {
    pub peers: usize,
    /// N: most neighbours a peer has.
    pub neighbors: usize,
    /// K: the node count the query starts with.
    pub ttl: u32,
    pub seed: u64,
    /// Supernodes for the KaZaA variant.
    pub leaders: usize,
}

impl Default for FloodSettings {
    fn default() -> Self {
        FloodSettings {
            peers: 60,
            neighbors: 4,
            ttl: 3,
            seed: 1,
            leaders: 10,
        }
    }
}

impl Default for P2pLab {
    fn default() -> Self {
        P2pLab {
            ring: Ring::course(),
            figure_ring: false,
            asker: COURSE_ASKER,
            key: COURSE_KEY,
            shortcuts: false,
            repairs: Vec::new(),
            refused: None,
            flood: FloodSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum P2pAction {
    /// Back to the slides' ring: their text's, or their figure's.
    CourseRing {
        figure: bool,
    },
    Asker(u16),
    Key(u16),
    Shortcuts(bool),
    Leave(u16),
    Join(u16),
    Peers(usize),
    Neighbors(usize),
    Ttl(u32),
    Seed(u64),
    Leaders(usize),
}

impl P2pLab {
    /// The lookup the page draws.
    pub fn lookup(&self) -> Option<Lookup> {
        self.ring.lookup(self.asker, self.key, self.shortcuts).ok()
    }

    /// The same query the other way (with shortcuts if drawn without).
    pub fn other_lookup(&self) -> Option<Lookup> {
        self.ring.lookup(self.asker, self.key, !self.shortcuts).ok()
    }

    pub fn overlay(&self) -> Overlay {
        let f = self.flood;
        Overlay::generate(f.peers, f.neighbors, f.seed)
    }

    /// Alice is peer 0 of the overlay.
    pub fn flooded(&self, overlay: &Overlay) -> Flood {
        overlay.flood(0, self.flood.ttl)
    }

    pub fn bound(&self) -> u64 {
        p18_bound(self.flood.neighbors as u64, self.flood.ttl)
    }

    pub fn tiered(&self) -> TieredQuery {
        let f = self.flood;
        Supernodes::generate(f.peers, f.leaders, f.neighbors, f.seed).query(0, f.ttl)
    }

    pub fn apply(&mut self, action: P2pAction) {
        self.refused = None;
        match action {
            P2pAction::CourseRing { figure } => {
                *self = P2pLab {
                    ring: if figure {
                        Ring::course_figure()
                    } else {
                        Ring::course()
                    },
                    figure_ring: figure,
                    flood: self.flood,
                    ..P2pLab::default()
                }
            }
            P2pAction::Asker(peer) if self.ring.contains(peer) => self.asker = peer,
            P2pAction::Asker(_) => {}
            P2pAction::Key(key) => self.key = key.min(self.ring.size() - 1),
            P2pAction::Shortcuts(on) => self.shortcuts = on,
            P2pAction::Leave(peer) => self.leave(peer),
            P2pAction::Join(peer) => self.join(peer),
            P2pAction::Peers(n) => self.flood.peers = n.clamp(2, MAX_PEERS),
            P2pAction::Neighbors(n) => self.flood.neighbors = n.clamp(2, 8),
            P2pAction::Ttl(k) => self.flood.ttl = k.min(10),
            P2pAction::Seed(seed) => self.flood.seed = seed,
            P2pAction::Leaders(n) => self.flood.leaders = n.clamp(2, MAX_PEERS),
        }
    }

    fn leave(&mut self, peer: u16) {
        match self.ring.leave(peer) {
            Ok(repairs) => {
                self.repairs = repairs;
                if self.asker == peer {
                    self.asker = self.ring.next_peer(peer);
                }
            }
            Err(e) => self.refuse(e),
        }
    }

    fn join(&mut self, peer: u16) {
        match self.ring.join(peer, self.asker) {
            Ok((_, repairs)) => self.repairs = repairs,
            Err(e) => self.refuse(e),
        }
    }

    fn refuse(&mut self, e: RingError) {
        self.repairs.clear();
        self.refused = Some(e.to_string());
    }
}

impl Reducible for P2pLab {
    type Action = P2pAction;

    fn reduce(self: Rc<Self>, action: P2pAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_opens_on_the_slides_query() {
        let lab = P2pLab::default();
        assert_eq!(lab.lookup().unwrap().messages(), 6);
        assert_eq!(lab.other_lookup().unwrap().messages(), 2);
        assert_eq!(lab.lookup().unwrap().responsible, 14);
    }

    #[test]
    fn the_figures_ring_gives_key_1110_to_peer_15() {
        let mut lab = P2pLab::default();
        lab.apply(P2pAction::CourseRing { figure: true });
        assert!(lab.figure_ring);
        assert_eq!(lab.lookup().unwrap().responsible, 15);
        assert_eq!(lab.lookup().unwrap().messages(), 6);
    }

    #[test]
    fn churn_is_said_and_a_bad_change_refused() {
        let mut lab = P2pLab::default();
        lab.apply(P2pAction::Leave(5));
        assert_eq!(lab.repairs.len(), 2);
        assert!(!lab.ring.contains(5));
        lab.apply(P2pAction::Join(13));
        assert!(lab.ring.contains(13));
        assert_eq!(lab.lookup().unwrap().responsible, 14);
        lab.apply(P2pAction::Join(13));
        assert!(lab.refused.as_deref().unwrap().contains("already"));
        assert!(lab.repairs.is_empty());
        // The asker leaving hands the question to its successor.
        lab.apply(P2pAction::Leave(1));
        assert_eq!(lab.asker, 3);
        assert!(lab.refused.is_none());
        // Back to the course: the ring and the query as the slides have them.
        lab.apply(P2pAction::CourseRing { figure: false });
        assert_eq!(lab.ring, Ring::course());
        assert!(lab.repairs.is_empty());
    }

    #[test]
    fn flooding_settings_are_kept_in_range_and_stay_under_the_bound() {
        let mut lab = P2pLab::default();
        lab.apply(P2pAction::Peers(10_000));
        lab.apply(P2pAction::Neighbors(1));
        lab.apply(P2pAction::Ttl(99));
        assert_eq!(lab.flood.peers, MAX_PEERS);
        assert_eq!(lab.flood.neighbors, 2);
        assert_eq!(lab.flood.ttl, 10);
        lab.apply(P2pAction::Neighbors(4));
        lab.apply(P2pAction::Ttl(3));
        let overlay = lab.overlay();
        assert!(lab.flooded(&overlay).messages() <= lab.bound());
        assert_eq!(lab.bound(), 52);
        assert!(lab.tiered().messages >= 1);
    }

    #[test]
    fn a_key_past_the_ring_is_brought_back_in() {
        let mut lab = P2pLab::default();
        lab.apply(P2pAction::Key(200));
        assert_eq!(lab.key, 15);
        lab.apply(P2pAction::Asker(2));
        assert_eq!(lab.asker, 1, "2 is not a peer");
    }
}
