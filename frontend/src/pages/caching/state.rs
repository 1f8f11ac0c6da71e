//! The caching calculators' state: what the student set with the sliders,
//! in one reducer, and the networks of `shared::cache_calc` it stands for.
//! The page draws from [`CachingLab`]; nothing else keeps state.

use std::rc::Rc;
use wirelab_shared::cache_calc::access_link::AccessLink;
use wirelab_shared::cache_calc::errata::{Erratum, Where, slide_errata};
use yew::Reducible;

/// The access link slider's stops, in Mbps: the textbook's 1.5 and 10, the
/// slides' 1.54 and 154, and enough between to see the curve move.
pub const LINK_STOPS_MBPS: &[f64] = &[
    1.0, 1.2, 1.5, 1.54, 1.8, 2.0, 3.0, 5.0, 10.0, 15.4, 20.0, 50.0, 100.0, 154.0, 1000.0,
];

/// The textbook's 1.5 Mbps, where the slider starts.
const TEXTBOOK_LINK_STOP: usize = 2;

/// Most cache clusters the hashing section offers before adding one.
pub const MAX_CACHES: u32 = 9;

/// The institution's LAN: the textbook's or the slides'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lan {
    TenMbps,
    OneGbps,
}

impl Lan {
    pub fn bps(self) -> f64 {
        match self {
            Lan::TenMbps => 10e6,
            Lan::OneGbps => 1e9,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Lan::TenMbps => "10m",
            Lan::OneGbps => "1g",
        }
    }

    pub fn from_key(key: &str) -> Option<Lan> {
        [Lan::TenMbps, Lan::OneGbps]
            .into_iter()
            .find(|lan| lan.key() == key)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CachingLab {
    /// The worked example's hit rate, in percent.
    pub hit_percent: u32,
    /// Index into [`LINK_STOPS_MBPS`].
    pub link_stop: usize,
    pub lan: Lan,
    /// P13's hit rate once the cache is installed, in percent.
    pub p13_hit_percent: u32,
    /// Caches in P14's cluster before one is added.
    pub caches: u32,
}

impl Default for CachingLab {
    fn default() -> Self {
        CachingLab {
            hit_percent: 0,
            link_stop: TEXTBOOK_LINK_STOP,
            lan: Lan::TenMbps,
            p13_hit_percent: 40,
            caches: 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum CachingAction {
    HitPercent(u32),
    LinkStop(usize),
    Lan(Lan),
    P13HitPercent(u32),
    Caches(u32),
    /// The slides' network: a 1.54 Mbps link on a 1 Gbps LAN.
    SlidesNetwork,
    /// Back to the textbook's numbers.
    Reset,
}

impl CachingLab {
    pub fn apply(&mut self, action: CachingAction) {
        match action {
            CachingAction::HitPercent(p) => self.hit_percent = p.min(100),
            CachingAction::LinkStop(i) => self.link_stop = i.min(LINK_STOPS_MBPS.len() - 1),
            CachingAction::Lan(lan) => self.lan = lan,
            CachingAction::P13HitPercent(p) => self.p13_hit_percent = p.min(100),
            CachingAction::Caches(n) => self.caches = n.clamp(1, MAX_CACHES),
            CachingAction::SlidesNetwork => {
                self.lan = Lan::OneGbps;
                self.link_stop = stop_of(1.54);
            }
            CachingAction::Reset => *self = CachingLab::default(),
        }
    }

    pub fn link_mbps(&self) -> f64 {
        LINK_STOPS_MBPS[self.link_stop.min(LINK_STOPS_MBPS.len() - 1)]
    }

    pub fn hit_rate(&self) -> f64 {
        f64::from(self.hit_percent) / 100.0
    }

    /// The worked example's network as set.
    pub fn network(&self) -> AccessLink {
        AccessLink {
            lan_bps: self.lan.bps(),
            ..AccessLink::TEXTBOOK
        }
        .with_access_bps(self.link_mbps() * 1e6)
        .with_hit_rate(self.hit_rate())
    }

    /// P13 with the cache of the chosen hit rate.
    pub fn p13_cached(&self) -> AccessLink {
        AccessLink::P13.with_hit_rate(f64::from(self.p13_hit_percent) / 100.0)
    }

    /// The slides' wrong figures that the current setting reproduces: each
    /// shows beside the number it corrects.
    pub fn errata_here(&self) -> Vec<Erratum> {
        let no_cache = self.hit_percent == 0;
        slide_errata()
            .into_iter()
            .filter(|e| match e.at {
                Where::Lan => self.lan == Lan::OneGbps,
                Where::AccessLink => no_cache && self.link_mbps() == 1.54,
                Where::FatLink => no_cache && self.link_mbps() == 154.0,
            })
            .collect()
    }
}

fn stop_of(mbps: f64) -> usize {
    LINK_STOPS_MBPS
        .iter()
        .position(|stop| *stop == mbps)
        .unwrap_or(TEXTBOOK_LINK_STOP)
}

impl Reducible for CachingLab {
    type Action = CachingAction;

    fn reduce(self: Rc<Self>, action: CachingAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(actions: impl IntoIterator<Item = CachingAction>) -> CachingLab {
        let mut lab = CachingLab::default();
        for action in actions {
            lab.apply(action);
        }
        lab
    }

    #[test]
    fn it_starts_on_the_textbooks_network_with_no_cache() {
        let lab = CachingLab::default();
        assert_eq!(lab.link_mbps(), 1.5);
        let net = lab.network();
        assert_eq!(net.access_intensity(), Some(1.0));
        assert_eq!(net.total_delay_s(), None);
        assert!(lab.errata_here().is_empty());
    }

    #[test]
    fn a_hit_rate_of_40_gives_the_textbooks_1_21_s() {
        let lab = after([CachingAction::HitPercent(40)]);
        let estimate = lab.network().textbook_estimate_s().expect("bounded");
        assert!((estimate - 1.21).abs() < 1e-9, "{estimate}");
    }

    #[test]
    fn the_slides_network_shows_its_lan_and_link_errata() {
        let lab = after([CachingAction::SlidesNetwork]);
        assert_eq!(lab.link_mbps(), 1.54);
        let at: Vec<Where> = lab.errata_here().iter().map(|e| e.at).collect();
        assert_eq!(at, [Where::Lan, Where::AccessLink]);
        // With a cache the slide's 99 % is no longer the figure shown.
        let cached = after([CachingAction::SlidesNetwork, CachingAction::HitPercent(40)]);
        let at: Vec<Where> = cached.errata_here().iter().map(|e| e.at).collect();
        assert_eq!(at, [Where::Lan]);
    }

    #[test]
    fn the_154_mbps_stop_shows_the_fat_link_erratum() {
        let lab = after([CachingAction::LinkStop(stop_of(154.0))]);
        assert_eq!(lab.link_mbps(), 154.0);
        let at: Vec<Where> = lab.errata_here().iter().map(|e| e.at).collect();
        assert_eq!(at, [Where::FatLink]);
    }

    #[test]
    fn out_of_range_settings_are_held_to_the_slider_ends() {
        let lab = after([
            CachingAction::HitPercent(250),
            CachingAction::LinkStop(99),
            CachingAction::P13HitPercent(101),
            CachingAction::Caches(0),
        ]);
        assert_eq!(lab.hit_percent, 100);
        assert_eq!(lab.link_mbps(), 1000.0);
        assert_eq!(lab.p13_hit_percent, 100);
        assert_eq!(lab.caches, 1);
        assert_eq!(after([CachingAction::Caches(50)]).caches, MAX_CACHES);
    }

    #[test]
    fn p13_starts_with_the_problems_hit_rate_of_0_4() {
        let total = CachingLab::default().p13_cached().total_delay_s();
        let total = total.expect("bounded");
        assert!((total - 1.98).abs() < 0.005, "{total}");
    }

    #[test]
    fn reset_goes_back_to_the_textbook() {
        let lab = after([
            CachingAction::SlidesNetwork,
            CachingAction::HitPercent(70),
            CachingAction::Reset,
        ]);
        assert_eq!(lab, CachingLab::default());
    }

    #[test]
    fn lans_round_trip_through_their_keys() {
        for lan in [Lan::TenMbps, Lan::OneGbps] {
            assert_eq!(Lan::from_key(lan.key()), Some(lan));
        }
        assert_eq!(Lan::from_key("100m"), None);
    }
}
