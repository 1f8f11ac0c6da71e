//! The three utilisations the caching slides get wrong, each worked out
//! from the slide's own assumptions so the page can show the right figure
//! where the slide's appears.
//!
//! The slides took the textbook's example (a 10 Mbps LAN, a 1.5 Mbps link)
//! to a 1 Gbps LAN and a 1.54 Mbps link but kept or misrounded its
//! figures: 15 % was the 10 Mbps LAN's, and 1.50/1.54 rounds to 97 %.

use super::access_link::AccessLink;
use serde::Serialize;

/// Where an erratum shows on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Where {
    /// The LAN's utilisation, with the slides' 1 Gbps LAN.
    Lan,
    /// The 1.54 Mbps access link without a cache.
    AccessLink,
    /// The "fatter access link" slide: 154 Mbps.
    FatLink,
}

/// One figure the slides print and the one their assumptions give.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Erratum {
    pub at: Where,
    /// What the slide prints, as printed.
    pub slides_say: &'static str,
    /// The utilisation the slide's assumptions give, 0 to 1.
    pub actual: f64,
    /// The arithmetic, for the student.
    pub working: &'static str,
    /// Why the slide's figure is off.
    pub why: &'static str,
}

/// The slides' three wrong utilisations, in the order the slides show them.
pub fn slide_errata() -> [Erratum; 3] {
    let slides = AccessLink::SLIDES;
    let unknown = f64::NAN;
    [
        Erratum {
            at: Where::Lan,
            slides_say: "LAN utilization: 15%",
            actual: slides.lan_intensity().unwrap_or(unknown),
            working: "15 requests/s × 100 kbit = 1.5 Mbps; 1.5 Mbps / 1 Gbps = 0.0015",
            why: "15 % is the textbook's 10 Mbps LAN; on the slides' 1 Gbps LAN it is 0.15 %",
        },
        Erratum {
            at: Where::AccessLink,
            slides_say: "access link utilization = 99%",
            actual: slides.access_intensity().unwrap_or(unknown),
            working: "1.50 Mbps / 1.54 Mbps = 0.974",
            why: "1.50/1.54 is 97 %, not 99 %; the conclusion stands: near 1, the queue \
                  grows to minutes",
        },
        Erratum {
            at: Where::FatLink,
            slides_say: "9.9%",
            actual: slides
                .with_access_bps(154e6)
                .access_intensity()
                .unwrap_or(unknown),
            working: "1.50 Mbps / 154 Mbps = 0.00974",
            why: "A link 100 times faster is 100 times less used: 0.97 %, not 9.9 % \
                  (that would be a 15.4 Mbps link)",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent(erratum: &Erratum) -> f64 {
        erratum.actual * 100.0
    }

    #[test]
    fn a_1_gbps_lan_is_at_0_15_percent_not_15() {
        let [lan, _, _] = slide_errata();
        assert_eq!(lan.at, Where::Lan);
        assert!((percent(&lan) - 0.15).abs() < 1e-9, "{}", percent(&lan));
    }

    #[test]
    fn one_point_five_over_one_point_five_four_is_97_percent_not_99() {
        let [_, link, _] = slide_errata();
        assert_eq!(format!("{:.0}", percent(&link)), "97");
        assert!((percent(&link) - 97.4).abs() < 0.05, "{}", percent(&link));
    }

    #[test]
    fn the_154_mbps_link_is_at_about_0_97_percent_not_9_9() {
        let [_, _, fat] = slide_errata();
        assert_eq!(format!("{:.2}", percent(&fat)), "0.97");
    }
}
