//! The geometry of the delay curve: hit rates and delays to SVG
//! coordinates, and a curve with gaps where the delay is unbounded. Plain
//! functions, so the drawing is tested natively.

use std::fmt::Write;

/// The plot's box in SVG units, and the ranges its axes show.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    /// Room left of the plot for the delay axis' labels.
    pub left: f64,
    /// Room under the plot for the hit rate axis' labels.
    pub bottom: f64,
    pub top: f64,
    pub right: f64,
    /// The delay at the top of the plot, seconds; more is drawn at the top.
    pub max_delay_s: f64,
}

impl Frame {
    pub const DELAY: Frame = Frame {
        width: 480.0,
        height: 260.0,
        left: 44.0,
        bottom: 34.0,
        top: 10.0,
        right: 26.0,
        max_delay_s: 4.0,
    };

    /// The x of a hit rate from 0 to 1.
    pub fn x(&self, hit_rate: f64) -> f64 {
        self.left + hit_rate.clamp(0.0, 1.0) * (self.width - self.left - self.right)
    }

    /// The y of a delay; delays over the top are drawn at the top.
    pub fn y(&self, delay_s: f64) -> f64 {
        let share = (delay_s / self.max_delay_s).clamp(0.0, 1.0);
        self.height - self.bottom - share * (self.height - self.bottom - self.top)
    }

    /// An SVG path through the bounded points, broken where a delay is
    /// `None` (a saturated link) or over the top of the plot: no line
    /// pretends to know a value there.
    pub fn path(&self, points: &[(f64, Option<f64>)]) -> String {
        let mut path = String::new();
        let mut pen_down = false;
        for (hit, delay) in points {
            let Some(delay) = delay.filter(|d| *d <= self.max_delay_s) else {
                pen_down = false;
                continue;
            };
            let command = if pen_down { 'L' } else { 'M' };
            // Writing to a String cannot fail.
            let _ = write!(path, "{command}{:.1} {:.1} ", self.x(*hit), self.y(delay));
            pen_down = true;
        }
        path.trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Frame = Frame::DELAY;

    #[test]
    fn the_corners_are_the_axes_ends() {
        assert_eq!(F.x(0.0), F.left);
        assert_eq!(F.x(1.0), F.width - F.right);
        assert_eq!(F.y(0.0), F.height - F.bottom);
        assert_eq!(F.y(F.max_delay_s), F.top);
        assert_eq!(F.y(1000.0), F.top, "held at the top");
    }

    #[test]
    fn an_unbounded_point_breaks_the_line() {
        let path = F.path(&[
            (0.0, None),
            (0.5, Some(2.0)),
            (0.6, Some(1.0)),
            (0.7, None),
            (0.8, Some(1.0)),
        ]);
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 1, "{path}");
        assert!(
            path.starts_with(&format!("M{:.1} {:.1}", F.x(0.5), F.y(2.0))),
            "{path}"
        );
    }

    #[test]
    fn nothing_bounded_is_an_empty_path() {
        assert_eq!(F.path(&[(0.0, None)]), "");
        assert_eq!(
            F.path(&[(0.1, Some(F.max_delay_s * 2.0))]),
            "",
            "off the top"
        );
    }
}
