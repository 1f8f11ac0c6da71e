//! The timeline: a ladder diagram as in the course's figures. One vertical
//! lane per party (the client, each server connection), time running down,
//! and each message an arrow from its sender's lane to its receiver's, with
//! its time. Connection set-up and teardown are drawn as arrows too.
//!
//! On loopback everything happens within a millisecond, so the vertical
//! position follows time but never packs arrows closer than a line of text;
//! the time labels give the real figures.

use std::rc::Rc;
use yew::prelude::*;

/// One party of the diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub label: String,
}

/// What an arrow stands for (its colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrowKind {
    /// Connection set-up (SYN, SYN-ACK, ACK).
    Connect,
    /// A message from the client.
    Request,
    /// A message from the server.
    Response,
    /// Connection teardown (FIN).
    Close,
    /// A datagram or message of a data connection.
    Data,
}

impl ArrowKind {
    fn class(&self) -> &'static str {
        match self {
            ArrowKind::Connect => "connect",
            ArrowKind::Request => "request",
            ArrowKind::Response => "response",
            ArrowKind::Close => "close",
            ArrowKind::Data => "data",
        }
    }
}

/// One arrow of the diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrow {
    pub from: usize,
    pub to: usize,
    /// When it left (milliseconds since the first event).
    pub t_ms: f64,
    pub label: String,
    pub kind: ArrowKind,
    /// The message it stands for, selectable by clicking.
    pub message: Option<usize>,
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub lanes: Rc<Vec<Lane>>,
    pub arrows: Rc<Vec<Arrow>>,
    #[prop_or_default]
    pub selected: Option<usize>,
    #[prop_or_default]
    pub on_select: Callback<usize>,
}

const LEFT: f64 = 90.0;
const LANE_GAP: f64 = 260.0;
const TOP: f64 = 40.0;
const MIN_STEP: f64 = 30.0;
const SLOPE: f64 = 18.0;
/// Pixels per millisecond when time differences are large enough to show.
const PX_PER_MS: f64 = 0.6;

/// The vertical position of each arrow: proportional to time, but at least
/// `MIN_STEP` below the previous one.
pub fn layout(times: &[f64]) -> Vec<f64> {
    let mut ys = Vec::with_capacity(times.len());
    let mut previous: Option<(f64, f64)> = None;
    for &t in times {
        let y = match previous {
            None => TOP,
            Some((pt, py)) => py + ((t - pt).max(0.0) * PX_PER_MS).clamp(MIN_STEP, 400.0),
        };
        ys.push(y);
        previous = Some((t, y));
    }
    ys
}

fn format_ms(t: f64) -> String {
    if t < 10.0 {
        format!("{t:.2} ms")
    } else if t < 10_000.0 {
        format!("{t:.1} ms")
    } else {
        format!("{:.2} s", t / 1000.0)
    }
}

#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    let lanes = &props.lanes;
    let arrows = &props.arrows;
    let x = |lane: usize| LEFT + lane as f64 * LANE_GAP;
    let ys = layout(&arrows.iter().map(|a| a.t_ms).collect::<Vec<_>>());
    let height = ys.last().copied().unwrap_or(TOP) + SLOPE + 30.0;
    let width = x(lanes.len().saturating_sub(1)) + LEFT + 40.0;
    let lane_lines = lanes.iter().enumerate().map(|(i, lane)| {
        html! {
            <g class="lane" data-testid="timeline-lane" data-lane={i.to_string()}>
                <text x={x(i).to_string()} y="18" text-anchor="middle" class="lane-label">{ &lane.label }</text>
                <line x1={x(i).to_string()} y1="26" x2={x(i).to_string()} y2={height.to_string()} class="lane-line" />
            </g>
        }
    });
    let drawn = arrows.iter().zip(ys.iter()).enumerate().map(|(i, (arrow, &y))| {
        let (x1, x2) = (x(arrow.from), x(arrow.to));
        let y2 = y + SLOPE;
        let selected = arrow.message.is_some() && arrow.message == props.selected;
        let onclick = arrow.message.map(|m| {
            let on_select = props.on_select.clone();
            Callback::from(move |_: MouseEvent| on_select.emit(m))
        });
        let mid_x = (x1 + x2) / 2.0;
        let head = if x2 >= x1 { -8.0 } else { 8.0 };
        html! {
            <g class={classes!("arrow", arrow.kind.class(), selected.then_some("selected"))}
               data-testid="timeline-arrow" data-kind={arrow.kind.class()}
               data-from={arrow.from.to_string()} data-to={arrow.to.to_string()}
               data-index={i.to_string()} data-t-ms={arrow.t_ms.to_string()} onclick={onclick}>
                <text x="4" y={(y + 4.0).to_string()} class="time">{ format_ms(arrow.t_ms) }</text>
                <line x1={x1.to_string()} y1={y.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                <polyline points={format!("{},{} {},{} {},{}", x2 + head, y2 - 5.0, x2, y2, x2 + head, y2 + 5.0)} />
                <text x={mid_x.to_string()} y={(y + SLOPE / 2.0 - 5.0).to_string()} text-anchor="middle" class="label">
                    { &arrow.label }
                </text>
            </g>
        }
    });
    html! {
        <section class="timeline" data-testid="timeline" data-arrows={arrows.len().to_string()}>
            if arrows.is_empty() {
                <p class="hint">{ "Connect to see the timeline: who sent what, and when." }</p>
            } else {
                <svg width={width.to_string()} height={height.to_string()} viewBox={format!("0 0 {width} {height}")}>
                    { for lane_lines }
                    { for drawn }
                </svg>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_keeps_order_and_spacing() {
        let ys = layout(&[0.0, 0.1, 0.2, 500.0]);
        assert_eq!(ys[0], TOP);
        assert_eq!(ys[1], TOP + MIN_STEP);
        assert_eq!(ys[2], TOP + 2.0 * MIN_STEP);
        assert!((ys[3] - ys[2] - 499.8 * PX_PER_MS).abs() < 1e-9);
        assert!(layout(&[]).is_empty());
        assert_eq!(format_ms(1.234), "1.23 ms");
        assert_eq!(format_ms(12_355.0), "12.36 s");
    }
}
