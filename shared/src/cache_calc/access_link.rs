//! The access link between an institution's LAN and the Internet, as the
//! textbook models it (§2.9.1, problem P13): requests for objects of
//! `object_bits` arrive at `requests_per_sec`; a cache on the LAN answers
//! the fraction `hit_rate` itself, the rest crosses the access link and
//! waits the "Internet delay" at the far end.
//!
//! The access delay is P13's `Δ/(1−βΔ)`: `Δ` the time to send one object
//! over the link, `β` the rate of objects crossing it. The worked example
//! of §2.9.1 does not compute it: it calls any traffic intensity under 0.8
//! "tens of milliseconds" and adds 10 ms, which [`AccessLink::textbook_estimate`]
//! reproduces so the page can show both readings side by side.

use serde::Serialize;

/// What the worked example adds for the LAN and the access link together
/// while the link is not congested ("say, tens of milliseconds", §2.9.1),
/// and what a hit on the LAN's cache costs ("within 10 milliseconds").
pub const TEXTBOOK_SMALL_DELAY_S: f64 = 0.010;

/// The traffic intensity under which the worked example calls the access
/// delay negligible.
pub const TEXTBOOK_NEGLIGIBLE_BELOW: f64 = 0.8;

/// One setting of the institution's network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AccessLink {
    /// Average object size, in bits.
    pub object_bits: f64,
    /// Requests from the institution's browsers to origin servers, per second.
    pub requests_per_sec: f64,
    /// The access link's rate, bits per second.
    pub access_bps: f64,
    /// The institution's LAN rate, bits per second.
    pub lan_bps: f64,
    /// From the Internet-side router forwarding a request to its answer, seconds.
    pub internet_delay_s: f64,
    /// Fraction of requests the cache answers, 0 to 1 (0: no cache).
    pub hit_rate: f64,
    /// What a hit costs on the LAN, seconds.
    pub hit_delay_s: f64,
}

impl AccessLink {
    /// §2.9.1 of the textbook: 100 kbit objects, 15 requests a second, a
    /// 10 Mbps LAN, a 1.5 Mbps access link, 2 s of Internet delay.
    pub const TEXTBOOK: AccessLink = AccessLink {
        object_bits: 100_000.0,
        requests_per_sec: 15.0,
        access_bps: 1.5e6,
        lan_bps: 10e6,
        internet_delay_s: 2.0,
        hit_rate: 0.0,
        hit_delay_s: TEXTBOOK_SMALL_DELAY_S,
    };

    /// The slides' version of the same example: a 1 Gbps LAN and a
    /// 1.54 Mbps access link.
    pub const SLIDES: AccessLink = AccessLink {
        access_bps: 1.54e6,
        lan_bps: 1e9,
        ..AccessLink::TEXTBOOK
    };

    /// Problem P13: 900,000-bit objects at 1.5 requests a second over the
    /// 1.5 Mbps link of Figure 2.28; a hit is taken as free.
    pub const P13: AccessLink = AccessLink {
        object_bits: 900_000.0,
        requests_per_sec: 1.5,
        hit_delay_s: 0.0,
        ..AccessLink::TEXTBOOK
    };

    /// The same network with another hit rate.
    pub fn with_hit_rate(self, hit_rate: f64) -> AccessLink {
        AccessLink { hit_rate, ..self }
    }

    /// The same network with another access link.
    pub fn with_access_bps(self, access_bps: f64) -> AccessLink {
        AccessLink { access_bps, ..self }
    }

    /// Fraction of requests that cross the access link.
    pub fn miss_rate(&self) -> f64 {
        1.0 - self.hit_rate.clamp(0.0, 1.0)
    }

    /// The LAN's traffic intensity: every object crosses it, hit or miss.
    pub fn lan_intensity(&self) -> Option<f64> {
        positive(self.lan_bps).map(|lan| self.requests_per_sec * self.object_bits / lan)
    }

    /// Δ: the time to send one object over the access link, seconds.
    pub fn transmission_s(&self) -> Option<f64> {
        positive(self.access_bps).map(|rate| self.object_bits / rate)
    }

    /// β: objects crossing the access link per second (the misses).
    pub fn arrivals_per_sec(&self) -> f64 {
        self.miss_rate() * self.requests_per_sec
    }

    /// The access link's traffic intensity βΔ (its utilisation).
    pub fn access_intensity(&self) -> Option<f64> {
        self.transmission_s()
            .map(|delta| self.arrivals_per_sec() * delta)
    }

    /// P13's average access delay Δ/(1−βΔ); `None` once βΔ reaches 1, where
    /// the queue grows without bound.
    pub fn access_delay_s(&self) -> Option<f64> {
        let delta = self.transmission_s()?;
        let intensity = self.access_intensity()?;
        (intensity < 1.0).then(|| delta / (1.0 - intensity))
    }

    /// What a miss costs: the access delay and the Internet delay.
    pub fn miss_delay_s(&self) -> Option<f64> {
        self.access_delay_s()
            .map(|access| access + self.internet_delay_s)
    }

    /// The average response time with P13's model: misses pay
    /// [`Self::miss_delay_s`], hits [`Self::hit_delay_s`].
    pub fn total_delay_s(&self) -> Option<f64> {
        self.blend(self.miss_delay_s()?)
    }

    /// The worked example's reading: under an intensity of 0.8 a miss costs
    /// the Internet delay and 10 ms; above it, "minutes, if not more" (`None`).
    pub fn textbook_estimate_s(&self) -> Option<f64> {
        let intensity = self.access_intensity()?;
        if intensity >= TEXTBOOK_NEGLIGIBLE_BELOW {
            return None;
        }
        self.blend(self.internet_delay_s + TEXTBOOK_SMALL_DELAY_S)
    }

    fn blend(&self, miss_delay_s: f64) -> Option<f64> {
        let hit = 1.0 - self.miss_rate();
        let total = self.miss_rate() * miss_delay_s + hit * self.hit_delay_s;
        total.is_finite().then_some(total)
    }

    /// The total delay at `points` hit rates evenly spread over 0..=`max_hit_rate`,
    /// for the page's curve: `(hit rate, P13's total delay if bounded)`.
    pub fn curve(&self, max_hit_rate: f64, points: usize) -> Vec<(f64, Option<f64>)> {
        let steps = points.max(2) - 1;
        (0..=steps)
            .map(|i| {
                let hit = max_hit_rate * i as f64 / steps as f64;
                (hit, self.with_hit_rate(hit).total_delay_s())
            })
            .collect()
    }
}

fn positive(value: f64) -> Option<f64> {
    (value.is_finite() && value > 0.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: Option<f64>, want: f64, within: f64) {
        let got = got.expect("a bounded value");
        assert!((got - want).abs() <= within, "got {got}, want {want}");
    }

    #[test]
    fn the_textbook_lan_is_at_0_15_and_its_access_link_at_1() {
        let net = AccessLink::TEXTBOOK;
        close(net.lan_intensity(), 0.15, 1e-12);
        close(net.access_intensity(), 1.0, 1e-12);
        assert_eq!(net.access_delay_s(), None, "minutes, if not more");
        assert_eq!(net.total_delay_s(), None);
        assert_eq!(net.textbook_estimate_s(), None);
    }

    #[test]
    fn a_10_mbps_access_link_leaves_about_the_internet_delay() {
        let net = AccessLink::TEXTBOOK.with_access_bps(10e6);
        close(net.access_intensity(), 0.15, 1e-12);
        close(net.textbook_estimate_s(), 2.01, 1e-12);
        close(net.total_delay_s(), 2.0118, 1e-4);
    }

    #[test]
    fn a_cache_hitting_0_4_brings_the_textbook_to_just_over_1_2_s() {
        let net = AccessLink::TEXTBOOK.with_hit_rate(0.4);
        close(net.access_intensity(), 0.6, 1e-12);
        // 0.4 • 0.010 + 0.6 • 2.01
        close(net.textbook_estimate_s(), 1.21, 1e-12);
        // P13's model on the same numbers: Δ = 1/15 s, 1/15 / 0.4 = 1/6 s.
        close(net.access_delay_s(), 1.0 / 6.0, 1e-12);
        close(net.total_delay_s(), 0.6 * (2.0 + 1.0 / 6.0) + 0.004, 1e-12);
    }

    #[test]
    fn the_slides_cache_example_is_at_0_58_and_about_1_2_s() {
        let net = AccessLink::SLIDES.with_hit_rate(0.4);
        close(net.access_intensity(), 0.9 / 1.54, 1e-12);
        close(net.access_intensity(), 0.58, 0.005);
        close(net.textbook_estimate_s(), 1.21, 1e-12);
    }

    #[test]
    fn p13_without_a_cache_is_6_s_of_access_and_8_s_in_all() {
        let net = AccessLink::P13;
        close(net.transmission_s(), 0.6, 1e-12);
        close(net.access_intensity(), 0.9, 1e-12);
        close(net.access_delay_s(), 6.0, 1e-9);
        close(net.total_delay_s(), 8.0, 1e-9);
    }

    #[test]
    fn p13_with_a_cache_hitting_0_4_is_about_2_s() {
        let net = AccessLink::P13.with_hit_rate(0.4);
        close(Some(net.arrivals_per_sec()), 0.9, 1e-12);
        close(net.access_intensity(), 0.54, 1e-12);
        close(net.access_delay_s(), 0.6 / 0.46, 1e-12);
        close(net.total_delay_s(), 0.6 * (2.0 + 0.6 / 0.46), 1e-12);
        close(net.total_delay_s(), 1.98, 0.005);
    }

    #[test]
    fn every_hit_means_no_traffic_and_only_the_hit_delay() {
        let net = AccessLink::TEXTBOOK.with_hit_rate(1.0);
        close(net.access_intensity(), 0.0, 0.0);
        close(net.total_delay_s(), TEXTBOOK_SMALL_DELAY_S, 1e-12);
    }

    #[test]
    fn a_link_of_no_speed_answers_none_instead_of_dividing_by_zero() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let net = AccessLink::TEXTBOOK.with_access_bps(rate);
            assert_eq!(net.access_intensity(), None, "{rate}");
            assert_eq!(net.total_delay_s(), None, "{rate}");
        }
    }

    #[test]
    fn the_curve_falls_as_the_hit_rate_grows_and_is_unbounded_at_no_cache() {
        let curve = AccessLink::TEXTBOOK.curve(0.9, 10);
        assert_eq!(curve.len(), 10);
        assert_eq!(curve[0], (0.0, None));
        close(Some(curve[9].0), 0.9, 1e-12);
        let bounded: Vec<f64> = curve.iter().filter_map(|(_, d)| *d).collect();
        assert_eq!(bounded.len(), 9);
        assert!(bounded.windows(2).all(|w| w[1] < w[0]), "{bounded:?}");
    }
}
