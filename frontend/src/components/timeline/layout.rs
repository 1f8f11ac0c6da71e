//! Where everything of the timeline goes, in plain Rust so it is tested
//! natively: the lanes' x, each arrow's y and label lines, and the breaks
//! that stand for idle time. The component only draws what this returns.
//!
//! Time runs down. Within a busy stretch the vertical distance between two
//! arrows follows the time between them (but never packs them closer than
//! the next arrow's label needs); a pause longer than the idle threshold
//! (the student thinking, typing) is drawn as a break of fixed height with
//! its real duration written on it, so the diagram's height grows with the
//! number of messages, not with the length of the session.
//!
//! Labels are drawn in a monospace font, so a label's width is its number
//! of characters times [`CHAR_W`]: they are wrapped to fit the span of
//! their arrow and sit above it, where the arrow (which only goes down
//! from its start) cannot cross them.

use super::Arrow;

/// Distance between two lanes.
pub const LANE_GAP: f64 = 260.0;
/// x of the first lane: room on the left for the times.
pub const LEFT: f64 = 90.0;
/// Room right of the last lane, for its header.
const RIGHT: f64 = 134.0;
/// Width of one character of the 11 px monospace font (0.6 em), rounded up.
pub const CHAR_W: f64 = 6.7;
/// Height of one line of text.
pub const LINE_H: f64 = 13.0;
/// How far an arrow drops between its start and its end.
pub const SLOPE: f64 = 10.0;
/// Between a label's last line and its arrow.
const LABEL_GAP: f64 = 3.0;
/// Between the end of one arrow and the top of the next label.
const ROW_GAP: f64 = 4.0;
/// Room above the first label.
const TOP: f64 = 6.0;
/// Room below the last arrow.
const BOTTOM: f64 = 10.0;
/// Height of the band that stands for an idle stretch.
pub const BREAK_H: f64 = 20.0;
/// Pixels per millisecond within a busy stretch.
pub const PX_PER_MS: f64 = 0.12;
/// A pause longer than this is drawn as a break (the default of the
/// component's `idle_after_ms`): at [`PX_PER_MS`], a one-second pause
/// would take 120 px, about four arrows.
pub const DEFAULT_IDLE_MS: f64 = 1_000.0;
/// Label lines shown in the diagram; the rest is in the arrow's tooltip
/// and in the caption when the arrow is hovered or focused.
pub const MAX_LABEL_LINES: usize = 4;
/// Lines of a lane's header.
const MAX_LANE_LINES: usize = 2;
/// Horizontal room kept between a label and its arrow's ends.
const LABEL_MARGIN: f64 = 10.0;

/// A rectangle, top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Text broken into the lines that fit a width.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrapped {
    pub lines: Vec<String>,
    /// Some of the text did not fit in the lines allowed.
    pub shortened: bool,
}

/// One lane's header and x.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneBox {
    pub x: f64,
    pub label: Wrapped,
    /// The name unwrapped, for its tooltip.
    pub full: String,
}

impl LaneBox {
    /// The baseline of each line of its name, in the header.
    pub fn baselines(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.label.lines.len()).map(|i| TOP + (i + 1) as f64 * LINE_H - 2.0)
    }
}

/// One arrow, placed.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrowBox {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub label: Wrapped,
    /// The label's box; its lines are centred on its middle.
    pub label_box: Rect,
}

impl ArrowBox {
    /// The arrowhead at the receiving end, as SVG points.
    pub fn head_points(&self) -> String {
        let back = if self.x2 >= self.x1 { -8.0 } else { 8.0 };
        let (x, y) = (self.x2, self.y2);
        format!("{},{} {x},{y} {},{}", x + back, y - 5.0, x + back, y + 5.0)
    }

    /// The baseline of each label line, top to bottom.
    pub fn baselines(&self) -> impl Iterator<Item = f64> + '_ {
        let top = self.label_box.y;
        (0..self.label.lines.len()).map(move |i| top + (i + 1) as f64 * LINE_H - 3.0)
    }

    /// The label's centre, where its lines are anchored.
    pub fn label_x(&self) -> f64 {
        self.label_box.x + self.label_box.width / 2.0
    }
}

/// An idle stretch, drawn as a band across the lanes.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakBox {
    pub y: f64,
    pub height: f64,
    /// Where its marks start and end, across all lanes.
    pub x1: f64,
    pub x2: f64,
    /// The real duration of the pause.
    pub idle_ms: f64,
    /// What is written on it: "idle 1 min 12 s".
    pub text: String,
}

impl BreakBox {
    /// The break mark: a zig-zag along each edge of the band, as SVG
    /// points, as a torn strip of paper.
    pub fn marks(&self) -> [String; 2] {
        let (from_x, to_x) = (self.x1, self.x2);
        let edge = |y: f64| {
            let steps = ((to_x - from_x) / 6.0).ceil().max(1.0) as usize;
            (0..=steps)
                .map(|k| {
                    let x = (from_x + k as f64 * 6.0).min(to_x);
                    let dy = if k % 2 == 0 { 0.0 } else { 3.0 };
                    format!("{x},{}", y + dy)
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        [edge(self.y), edge(self.y + self.height - 3.0)]
    }

    /// Where its text goes: centred between the first two lanes, half-way
    /// down the band.
    pub fn text_box(&self) -> Rect {
        let width = text_width(&self.text) + 8.0;
        Rect {
            x: LEFT + LANE_GAP / 2.0 - width / 2.0,
            y: self.y + (self.height - LINE_H) / 2.0,
            width,
            height: LINE_H,
        }
    }
}

/// The whole diagram: a header row (the lanes' names) and a body.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub head_height: f64,
    pub height: f64,
    pub lanes: Vec<LaneBox>,
    pub arrows: Vec<ArrowBox>,
    pub breaks: Vec<BreakBox>,
}

impl Layout {
    /// Where the lane lines are drawn: from the top to the bottom, except
    /// across the breaks.
    pub fn lane_segments(&self) -> Vec<(f64, f64)> {
        let mut segments = Vec::with_capacity(self.breaks.len() + 1);
        let mut from = 0.0;
        for b in &self.breaks {
            segments.push((from, b.y));
            from = b.y + b.height;
        }
        segments.push((from, self.height));
        segments
    }
}

/// The x of a lane.
pub fn lane_x(lane: usize) -> f64 {
    LEFT + lane as f64 * LANE_GAP
}

/// How many characters fit in `width` pixels (at least one).
fn chars_in(width: f64) -> usize {
    ((width / CHAR_W).floor() as usize).max(1)
}

/// Breaks `text` at spaces into lines of at most `max_chars` characters
/// (a longer word is cut across lines), keeping at most `max_lines`; when
/// text is left over, the last line ends with "…".
pub fn wrap(text: &str, max_chars: usize, max_lines: usize) -> Wrapped {
    let max_chars = max_chars.max(2);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        if current_len > 0 && current_len + 1 + word.len() <= max_chars {
            current.push(' ');
            current.extend(&word);
            current_len += 1 + word.len();
            continue;
        }
        if current_len > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while word.len() > max_chars {
            lines.push(word.drain(..max_chars).collect());
        }
        current = word.iter().collect();
        current_len = word.len();
    }
    if current_len > 0 || lines.is_empty() {
        lines.push(current);
    }
    let shortened = lines.len() > max_lines.max(1);
    if shortened {
        lines.truncate(max_lines.max(1));
        let last = lines.last_mut().expect("at least one line");
        let mut kept: Vec<char> = last.chars().collect();
        kept.truncate(max_chars - 1);
        *last = kept.into_iter().collect::<String>() + "…";
    }
    Wrapped { lines, shortened }
}

/// Width of a line of text in the monospace font.
pub fn text_width(line: &str) -> f64 {
    line.chars().count() as f64 * CHAR_W
}

/// A pause's duration as the break says it: "idle 4.2 s", "idle 1 min 12 s".
pub fn format_idle(ms: f64) -> String {
    let seconds = (ms / 1000.0).max(0.0);
    let text = if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else if seconds < 60.0 {
        format!("{} s", seconds.round())
    } else if seconds < 3600.0 {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        let minutes = (seconds / 60.0).round() as u64;
        format!("{} h {} min", minutes / 60, minutes % 60)
    };
    format!("idle {text}")
}

/// The lanes' headers: each name wrapped to the room around its lane (the
/// first lane has only the left margin on its left).
fn lane_boxes(labels: &[&str]) -> Vec<LaneBox> {
    labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let room = if i == 0 { 2.0 * LEFT } else { LANE_GAP };
            LaneBox {
                x: lane_x(i),
                label: wrap(label, chars_in(room - 12.0), MAX_LANE_LINES),
                full: label.to_string(),
            }
        })
        .collect()
}

/// The label of an arrow between `x1` and `x2`, wrapped to their span
/// (whole when `full`).
fn wrap_label(label: &str, x1: f64, x2: f64, full: bool) -> Wrapped {
    let span = (x2 - x1).abs().max(LANE_GAP);
    let max_lines = if full { usize::MAX } else { MAX_LABEL_LINES };
    wrap(label, chars_in(span - 2.0 * LABEL_MARGIN), max_lines)
}

/// Where a label goes: centred over its arrow, just above `y1`, the
/// arrow's highest point.
fn label_box(label: &Wrapped, x1: f64, x2: f64, y1: f64) -> Rect {
    let width = label
        .lines
        .iter()
        .map(|l| text_width(l))
        .fold(0.0, f64::max);
    let height = label.lines.len() as f64 * LINE_H;
    Rect {
        x: (x1 + x2) / 2.0 - width / 2.0,
        y: y1 - LABEL_GAP - height,
        width,
        height,
    }
}

/// The gap rule: where the next arrow starts, given where the previous one
/// ended (`end`), the time between them, and the room its label needs
/// above it; a pause longer than `idle_after_ms` is a break in between,
/// across a diagram `width` wide.
fn next_y(
    end: f64,
    idle_ms: f64,
    label_room: f64,
    idle_after_ms: f64,
    width: f64,
) -> (f64, Option<BreakBox>) {
    if idle_ms > idle_after_ms {
        let top = end + ROW_GAP;
        let mark = BreakBox {
            y: top,
            height: BREAK_H,
            x1: LEFT - 30.0,
            x2: width - 20.0,
            idle_ms,
            text: format_idle(idle_ms),
        };
        return (top + BREAK_H + ROW_GAP + label_room, Some(mark));
    }
    let tight = end + ROW_GAP + label_room;
    // To scale from where the previous arrow started.
    let to_scale = end - SLOPE + idle_ms.max(0.0) * PX_PER_MS;
    (tight.max(to_scale), None)
}

/// Lays out `arrows` (in time order) between `lanes`; a pause longer than
/// `idle_after_ms` becomes a break. `full_label` is an arrow whose label is
/// shown whole, however long.
pub fn layout(
    lanes: &[&str],
    arrows: &[Arrow],
    idle_after_ms: f64,
    full_label: Option<usize>,
) -> Layout {
    let lane_count = arrows
        .iter()
        .map(|a| a.from.max(a.to).saturating_add(1))
        .chain([lanes.len(), 1])
        .max()
        .unwrap_or(1);
    let width = lane_x(lane_count - 1) + RIGHT;
    let lanes = lane_boxes(lanes);
    let head_lines = lanes.iter().map(|l| l.label.lines.len()).max().unwrap_or(1);
    let head_height = TOP + head_lines as f64 * LINE_H + 8.0;

    let mut placed: Vec<ArrowBox> = Vec::with_capacity(arrows.len());
    let mut breaks = Vec::new();
    let mut previous: Option<(f64, f64)> = None; // (time, y where its arrow ends)
    for (i, arrow) in arrows.iter().enumerate() {
        let (x1, x2) = (lane_x(arrow.from), lane_x(arrow.to));
        let label = wrap_label(&arrow.label, x1, x2, full_label == Some(i));
        let label_room = label.lines.len() as f64 * LINE_H + LABEL_GAP;
        let y1 = match previous {
            None => TOP + label_room,
            Some((t, end)) => {
                let idle = arrow.t_ms - t;
                let (y1, mark) = next_y(end, idle, label_room, idle_after_ms, width);
                breaks.extend(mark);
                y1
            }
        };
        let y2 = y1 + SLOPE;
        placed.push(ArrowBox {
            x1,
            y1,
            x2,
            y2,
            label_box: label_box(&label, x1, x2, y1),
            label,
        });
        previous = Some((arrow.t_ms, y2));
    }
    let height = previous.map_or(TOP, |(_, end)| end) + BOTTOM;
    Layout {
        width,
        head_height,
        height,
        lanes,
        arrows: placed,
        breaks,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ArrowKind;
    use super::*;

    fn arrow(from: usize, to: usize, t_ms: f64, label: &str) -> Arrow {
        Arrow {
            from,
            to,
            t_ms,
            label: label.into(),
            kind: ArrowKind::Request,
            message: None,
        }
    }

    /// Does the segment from (x1, y1) to (x2, y2) touch the rectangle?
    fn crosses(r: Rect, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> bool {
        // Sample the segment finely: the boxes are tens of pixels.
        (0..=1000).any(|k| {
            let f = k as f64 / 1000.0;
            let (x, y) = (x1 + f * (x2 - x1), y1 + f * (y2 - y1));
            x >= r.x && x <= r.x + r.width && y >= r.y && y <= r.y + r.height
        })
    }

    /// An SMTP session of `commands` exchanges, each after a pause of
    /// `think_ms`, the reply 0.3 ms after its command.
    fn smtp_session(commands: usize, think_ms: f64) -> Vec<Arrow> {
        let mut arrows = vec![
            arrow(0, 1, 0.0, "TCP set-up: SYN, SYN-ACK, ACK (0.12 ms)"),
            arrow(1, 0, 1.0, "220 hamburger.edu ESMTP wirelab"),
        ];
        let mut t = 1.0;
        for i in 0..commands {
            t += think_ms;
            arrows.push(arrow(0, 1, t, &format!("RCPT TO:<user{i}@hamburger.edu>")));
            arrows.push(arrow(1, 0, t + 0.3, "250 Recipient ok"));
        }
        arrows
    }

    #[test]
    fn busy_time_keeps_its_proportions_and_labels_their_room() {
        let arrows = [
            arrow(0, 1, 0.0, "a"),
            arrow(1, 0, 0.1, "b"),
            arrow(0, 1, 500.0, "c"),
            arrow(1, 0, 900.0, "d"),
        ];
        let l = layout(&["client", "server"], &arrows, DEFAULT_IDLE_MS, None);
        let ys: Vec<f64> = l.arrows.iter().map(|a| a.y1).collect();
        let tight = SLOPE + ROW_GAP + LINE_H + LABEL_GAP;
        assert_eq!(
            ys[1] - ys[0],
            tight,
            "0.1 ms apart: as close as labels allow"
        );
        assert!((ys[2] - ys[1] - 499.9 * PX_PER_MS).abs() < 1e-9);
        assert!((ys[3] - ys[2] - 400.0 * PX_PER_MS).abs() < 1e-9);
        assert!(l.breaks.is_empty());
        assert_eq!(l.lane_segments(), vec![(0.0, l.height)]);
        assert_eq!(l.lanes[1].x - l.lanes[0].x, LANE_GAP);
        assert!(layout(&[], &[], DEFAULT_IDLE_MS, None).arrows.is_empty());
    }

    #[test]
    fn idle_stretches_become_breaks_with_their_duration() {
        let arrows = [
            arrow(0, 1, 0.0, "EHLO crepes.fr"),
            arrow(1, 0, 0.4, "250 hamburger.edu"),
            arrow(0, 1, 72_400.0, "MAIL FROM:<alice@crepes.fr>"),
            arrow(1, 0, 72_400.5, "250 Sender ok"),
        ];
        let l = layout(&["client", "server"], &arrows, DEFAULT_IDLE_MS, None);
        assert_eq!(l.breaks.len(), 1);
        let b = &l.breaks[0];
        assert_eq!(b.text, "idle 1 min 12 s");
        assert!((b.idle_ms - 72_399.6).abs() < 1e-9);
        assert_eq!(b.height, BREAK_H);
        // The band lies between the two exchanges, clear of both.
        assert!(b.y > l.arrows[1].y2);
        assert!(b.y + b.height < l.arrows[2].label_box.y);
        assert_eq!(
            l.lane_segments(),
            vec![(0.0, b.y), (b.y + b.height, l.height)]
        );
        // Its marks and its text stay inside the band.
        for mark in b.marks() {
            for point in mark.split(' ') {
                let (x, y) = point.split_once(',').expect("x,y");
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!(x >= LEFT - 30.0 && x <= l.width - 20.0, "{point}");
                assert!(y >= b.y && y <= b.y + b.height, "{point}");
            }
        }
        let text = b.text_box();
        assert!(text.y >= b.y && text.y + text.height <= b.y + b.height);
        assert!(text.x > lane_x(0) && text.x + text.width < lane_x(1));
        // A higher threshold draws the same pause to scale (72 s: 8,640 px).
        let to_scale = layout(&["client", "server"], &arrows, 100_000.0, None);
        assert!(to_scale.breaks.is_empty());
        assert!(to_scale.height > 8_000.0);
    }

    #[test]
    fn a_two_minute_session_is_as_tall_as_its_messages() {
        // 24 commands, 5 s of thinking before each: two minutes.
        let arrows = smtp_session(24, 5_000.0);
        let l = layout(&["client", "server"], &arrows, DEFAULT_IDLE_MS, None);
        assert_eq!(l.breaks.len(), 24);
        // 50 px an arrow at most (to scale, each pause alone would be 600 px).
        let bound = arrows.len() as f64 * 50.0;
        assert!(l.height <= bound, "{} > {bound}", l.height);
        // The same session with half the thinking is no taller.
        let quicker = layout(
            &["client", "server"],
            &smtp_session(24, 2_500.0),
            1_000.0,
            None,
        );
        assert_eq!(quicker.height, l.height);
        // A short one fits the 574 px box of the page.
        let short = layout(
            &["client", "server"],
            &smtp_session(5, 5_000.0),
            1_000.0,
            None,
        );
        assert!(short.head_height + short.height < 574.0, "{}", short.height);
    }

    #[test]
    fn no_label_is_crossed_by_its_arrow_nor_by_the_next_ones() {
        let long = "3 Response 0xC88D NOERROR [qr]: referral to edu. (a.edu-servers.net) with glue 127.0.0.11";
        let arrows = [
            arrow(0, 1, 0.0, "1 Query 0xC88D A? gaia.cs.umass.edu. [rd]"),
            arrow(1, 2, 0.5, "2 Query 0xC88D A? gaia.cs.umass.edu."),
            arrow(2, 1, 40.5, long),
            arrow(1, 4, 41.0, "x"),
            arrow(4, 1, 51.0, long),
            arrow(1, 0, 51.2, "8 Response"),
            arrow(3, 3, 52.0, "a message of a lane to itself"),
        ];
        let lanes = ["host", "local", "root", "TLD", "authoritative"];
        let l = layout(&lanes, &arrows, DEFAULT_IDLE_MS, None);
        for (i, a) in l.arrows.iter().enumerate() {
            for later in &l.arrows[i..] {
                assert!(
                    !crosses(a.label_box, (later.x1, later.y1), (later.x2, later.y2)),
                    "label {i} crossed"
                );
            }
            if i > 0 {
                let before = &l.arrows[i - 1];
                assert!(!crosses(
                    a.label_box,
                    (before.x1, before.y1),
                    (before.x2, before.y2)
                ));
            }
            // Within its arrow's span (or a lane gap around it) and the diagram.
            let (left, right) = (a.x1.min(a.x2), a.x1.max(a.x2));
            assert!(a.label_box.x >= left.min((left + right - LANE_GAP) / 2.0));
            assert!(a.label_box.x + a.label_box.width <= l.width);
            assert!(a.label_box.y >= 0.0);
        }
        // The long label takes several lines, each whole; across three
        // lanes it takes one.
        let wrapped = &l.arrows[2].label;
        assert!(wrapped.lines.len() > 1, "{wrapped:?}");
        assert_eq!(l.arrows[4].label.lines.len(), 1);
        assert!(!wrapped.shortened);
        assert_eq!(wrapped.lines.join(" "), long);
    }

    #[test]
    fn wrapping_keeps_every_character_up_to_the_line_limit() {
        let w = wrap("MAIL FROM:<alice@crepes.fr>", 12, 4);
        assert_eq!(w.lines, ["MAIL", "FROM:<alice@", "crepes.fr>"]);
        assert!(!w.shortened);
        assert_eq!(wrap("", 10, 2).lines, [""]);
        let w = wrap("one two three four five six", 5, 2);
        assert_eq!(w.lines, ["one", "two…"]);
        assert!(w.shortened);
        for line in wrap(&"x".repeat(100), 30, 10).lines {
            assert!(line.chars().count() <= 30);
        }
        // The arrow that has the focus shows its label whole.
        let long = "word ".repeat(60);
        let arrows = [arrow(0, 1, 0.0, &long)];
        let capped = layout(&["a", "b"], &arrows, DEFAULT_IDLE_MS, None);
        assert_eq!(capped.arrows[0].label.lines.len(), MAX_LABEL_LINES);
        assert!(capped.arrows[0].label.shortened);
        let full = layout(&["a", "b"], &arrows, DEFAULT_IDLE_MS, Some(0));
        assert_eq!(full.arrows[0].label.lines.join(" "), long.trim_end());
    }

    #[test]
    fn lane_headers_fit_their_room() {
        let l = layout(
            &[
                "client (this page)",
                "control: ftp 127.0.0.1:2121 (the lab's own FTP server)",
            ],
            &[],
            DEFAULT_IDLE_MS,
            None,
        );
        assert_eq!(l.lanes[1].label.lines.len(), 2);
        for lane in &l.lanes {
            for line in &lane.label.lines {
                let half = text_width(line) / 2.0;
                assert!(lane.x - half >= 0.0 && lane.x + half <= l.width, "{line}");
            }
        }
        assert_eq!(l.head_height, TOP + 2.0 * LINE_H + 8.0);
        // Both lines of the long name above the tick that ends the header.
        let baselines: Vec<f64> = l.lanes[1].baselines().collect();
        assert_eq!(baselines.len(), 2);
        assert!(baselines[0] > LINE_H / 2.0 && baselines[1] < l.head_height - 6.0);
    }

    #[test]
    fn idle_times_read_as_people_say_them() {
        assert_eq!(format_idle(4_230.0), "idle 4.2 s");
        assert_eq!(format_idle(42_600.0), "idle 43 s");
        assert_eq!(format_idle(72_000.0), "idle 1 min 12 s");
        assert_eq!(format_idle(3_900_000.0), "idle 1 h 5 min");
    }
}
