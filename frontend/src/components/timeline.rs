//! The timeline: a ladder diagram as in the course's figures. One vertical
//! lane per party (the client, each server connection), time running down,
//! and each message an arrow from its sender's lane to its receiver's, with
//! its time. Connection set-up and teardown are drawn as arrows too.
//!
//! On loopback everything happens within a millisecond, so the vertical
//! position follows time but never packs arrows closer than their labels
//! need, and a long pause (the student thinking) is a break with its
//! duration written on it; the time labels give the real figures. Where
//! everything goes is [`layout`]'s work; this component draws it: the lanes'
//! names in a header that stays in view while the diagram scrolls, each
//! arrow focusable, with its whole label in its tooltip and in the caption
//! above the diagram, and buttons that save the diagram as SVG or PNG
//! ([`export`]).

pub mod export;
pub mod layout;

use layout::{ArrowBox, BreakBox, DEFAULT_IDLE_MS, Layout, Wrapped, layout};
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
    /// A pause longer than this (milliseconds) is drawn as a break.
    #[prop_or(DEFAULT_IDLE_MS)]
    pub idle_after_ms: f64,
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

/// What is said of an arrow in full: its tooltip and the caption.
fn describe(arrow: &Arrow, lanes: &[Lane]) -> String {
    let lane = |i: usize| lanes.get(i).map_or("?", |l| l.label.as_str());
    format!(
        "{}, {} → {}: {}",
        format_ms(arrow.t_ms),
        lane(arrow.from),
        lane(arrow.to),
        arrow.label
    )
}

/// The arrow's `aria-label`: first what the diagram shows of it, word for
/// word (its time, then its label's lines), so a student who names the
/// arrow by what they see (speech input) reaches it; then, in parentheses,
/// the lanes and, when the lines do not hold all of it, the whole label.
fn accessible_name(arrow: &Arrow, shown: &Wrapped, lanes: &[Lane]) -> String {
    let lane = |i: usize| lanes.get(i).map_or("?", |l| l.label.as_str());
    let visible = shown.lines.join(" ");
    let whole = if visible == arrow.label {
        String::new()
    } else {
        format!(": {}", arrow.label)
    };
    format!(
        "{} {visible} ({} → {}{whole})",
        format_ms(arrow.t_ms),
        lane(arrow.from),
        lane(arrow.to),
    )
}

fn header(l: &Layout) -> Html {
    let lanes = l.lanes.iter().enumerate().map(|(i, lane)| {
        let x = lane.x.to_string();
        // The lane line starts under the header, as a tick below the name.
        let (tick, bottom) = ((l.head_height - 6.0).to_string(), l.head_height.to_string());
        html! {
            <g class="lane" data-testid="timeline-lane" data-lane={i.to_string()}>
                <title>{ &lane.full }</title>
                <text x={x.clone()} text-anchor="middle" class="lane-label">
                    { for lane.label.lines.iter().zip(lane.baselines()).map(|(line, y)| html! {
                        <tspan x={x.clone()} y={y.to_string()}>{ line }</tspan>
                    }) }
                </text>
                <line x1={x.clone()} y1={tick} x2={x} y2={bottom} class="lane-line" />
            </g>
        }
    });
    lanes.collect::<Html>()
}

fn lane_lines(l: &Layout) -> Html {
    let segments = l.lane_segments();
    let lines = l.lanes.iter().flat_map(|lane| {
        let x = lane.x.to_string();
        segments.clone().into_iter().map(move |(top, bottom)| html! {
            <line x1={x.clone()} y1={top.to_string()} x2={x.clone()} y2={bottom.to_string()} class="lane-line" />
        })
    });
    lines.collect::<Html>()
}

fn break_mark(b: &BreakBox) -> Html {
    let [top, bottom] = b.marks();
    let text = b.text_box();
    html! {
        <g class="break" data-testid="timeline-break" data-idle-ms={b.idle_ms.round().to_string()}>
            <polyline class="break-mark" points={top} />
            <polyline class="break-mark" points={bottom} />
            <rect class="break-text-bg" x={text.x.to_string()} y={text.y.to_string()}
                  width={text.width.to_string()} height={text.height.to_string()} />
            <text class="break-text" x={(text.x + text.width / 2.0).to_string()}
                  y={(text.y + text.height - 3.0).to_string()} text-anchor="middle">{ &b.text }</text>
        </g>
    }
}

/// The events an arrow answers: a click or Enter selects its message;
/// hovering or focusing it puts its whole label in the caption (`hover` and
/// `focus` are told which arrow, or none).
struct ArrowEvents {
    select: Option<Callback<MouseEvent>>,
    key: Option<Callback<KeyboardEvent>>,
    hover: Callback<Option<usize>>,
    focus: Callback<Option<usize>>,
}

fn arrow_events(
    arrow: &Arrow,
    props: &TimelineProps,
    hover: Callback<Option<usize>>,
    focus: Callback<Option<usize>>,
) -> ArrowEvents {
    let select = arrow
        .message
        .map(|m| props.on_select.reform(move |_: MouseEvent| m));
    let key = arrow.message.map(|m| {
        let on_select = props.on_select.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                on_select.emit(m);
            }
        })
    });
    ArrowEvents {
        select,
        key,
        hover,
        focus,
    }
}

fn arrow_view(
    i: usize,
    arrow: &Arrow,
    placed: &ArrowBox,
    props: &TimelineProps,
    events: ArrowEvents,
) -> Html {
    let selected = arrow.message.is_some() && arrow.message == props.selected;
    let full = describe(arrow, &props.lanes);
    let label_x = placed.label_x().to_string();
    let (hover, focus) = (&events.hover, &events.focus);
    html! {
        <g class={classes!("arrow", arrow.kind.class(), selected.then_some("selected"))}
           data-testid="timeline-arrow" data-kind={arrow.kind.class()}
           data-from={arrow.from.to_string()} data-to={arrow.to.to_string()}
           data-index={i.to_string()} data-t-ms={arrow.t_ms.to_string()} tabindex="0"
           aria-label={accessible_name(arrow, &placed.label, &props.lanes)}
           role={arrow.message.map(|_| "button")}
           onclick={events.select} onkeydown={events.key}
           onfocus={focus.reform(move |_: FocusEvent| Some(i))} onblur={focus.reform(|_: FocusEvent| None)}
           onmouseenter={hover.reform(move |_: MouseEvent| Some(i))} onmouseleave={hover.reform(|_: MouseEvent| None)}>
            <title>{ full }</title>
            <text x="4" y={(placed.y1 + 4.0).to_string()} class="time">{ format_ms(arrow.t_ms) }</text>
            // The spaces keep the time and the lines apart as words in the
            // text the page's readers (and axe) take from the arrow; SVG
            // draws no text outside a <text>.
            { " " }
            <line x1={placed.x1.to_string()} y1={placed.y1.to_string()} x2={placed.x2.to_string()} y2={placed.y2.to_string()} />
            <polyline points={placed.head_points()} />
            <text x={label_x.clone()} text-anchor="middle" class="label">
                { for placed.label.lines.iter().zip(placed.baselines()).enumerate().map(|(k, (line, y))| html! {
                    <>
                        if k > 0 { { " " } }
                        <tspan x={label_x.clone()} y={y.to_string()}>{ line }</tspan>
                    </>
                }) }
            </text>
        </g>
    }
}

/// The export buttons and the caption.
fn tools(head: &NodeRef, body: &NodeRef, caption: Option<String>) -> Html {
    let save = |save: fn(&web_sys::Element, &web_sys::Element)| {
        let (head, body) = (head.clone(), body.clone());
        Callback::from(move |_: MouseEvent| {
            if let (Some(h), Some(b)) = (
                head.cast::<web_sys::Element>(),
                body.cast::<web_sys::Element>(),
            ) {
                save(&h, &b);
            }
        })
    };
    html! {
        <div class="timeline-tools">
            <button class="secondary" data-testid="timeline-export-svg" onclick={save(export::save_svg)}
                    title="Save the diagram as an SVG file">{ "Save SVG" }</button>
            <button class="secondary" data-testid="timeline-export-png" onclick={save(export::save_png)}
                    title="Save the diagram as a PNG image">{ "Save PNG" }</button>
            <span class={classes!("timeline-caption", caption.is_none().then_some("hint"))}
                  data-testid="timeline-caption">
                { caption.unwrap_or_else(|| "Point at an arrow, or Tab to it, to read it whole; \
                    click it or press Enter to open its message.".into()) }
            </span>
        </div>
    }
}

#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    let (hovered, focused) = (use_state(|| None::<usize>), use_state(|| None::<usize>));
    let (head, body) = (use_node_ref(), use_node_ref());
    let arrows = &props.arrows;
    // The selected arrow shows its label whole.
    let selected_index = props
        .selected
        .and_then(|m| arrows.iter().position(|a| a.message == Some(m)));
    // Hovering changes only the caption: the layout is kept.
    let l = use_memo(
        (
            props.lanes.clone(),
            arrows.clone(),
            props.idle_after_ms,
            selected_index,
        ),
        |(lanes, arrows, idle_after_ms, selected_index)| {
            let labels: Vec<&str> = lanes.iter().map(|l| l.label.as_str()).collect();
            layout(&labels, arrows, *idle_after_ms, *selected_index)
        },
    );
    let setter = |state: &UseStateHandle<Option<usize>>| {
        let state = state.clone();
        Callback::from(move |i: Option<usize>| state.set(i))
    };
    let (hover, focus) = (setter(&hovered), setter(&focused));
    let caption = hovered
        .or(*focused)
        .and_then(|i| arrows.get(i))
        .map(|a| describe(a, &props.lanes));
    let drawn = arrows
        .iter()
        .zip(&l.arrows)
        .enumerate()
        .map(|(i, (arrow, placed))| {
            arrow_view(
                i,
                arrow,
                placed,
                props,
                arrow_events(arrow, props, hover.clone(), focus.clone()),
            )
        });
    let (width, head_height, height) = (
        l.width.to_string(),
        l.head_height.to_string(),
        l.height.to_string(),
    );
    html! {
        <section class="timeline" data-testid="timeline" data-arrows={arrows.len().to_string()}>
            if arrows.is_empty() {
                <p class="hint">{ "Connect to see the timeline: who sent what, and when." }</p>
            } else {
                { tools(&head, &body, caption) }
                <div class="timeline-scroll" data-testid="timeline-scroll">
                    <svg ref={head.clone()} class="timeline-head" data-testid="timeline-head"
                         width={width.clone()} height={head_height.clone()} viewBox={format!("0 0 {width} {head_height}")}>
                        { header(&l) }
                    </svg>
                    <svg ref={body.clone()} class="timeline-body" data-testid="timeline-svg"
                         width={width.clone()} height={height.clone()} viewBox={format!("0 0 {width} {height}")}>
                        { lane_lines(&l) }
                        { for l.breaks.iter().map(break_mark) }
                        { for drawn }
                    </svg>
                </div>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow(label: &str) -> Arrow {
        Arrow {
            from: 0,
            to: 1,
            t_ms: 12.0,
            label: label.to_string(),
            kind: ArrowKind::Request,
            message: Some(0),
        }
    }

    fn lanes() -> Vec<Lane> {
        ["client", "smtp"]
            .map(|l| Lane {
                label: l.to_string(),
            })
            .to_vec()
    }

    #[test]
    fn an_arrows_name_starts_with_the_words_it_shows() {
        let rcpt = arrow("RCPT TO bob");
        let shown = layout::wrap(&rcpt.label, 7, 3);
        assert_eq!(shown.lines, ["RCPT TO", "bob"]);
        assert_eq!(
            accessible_name(&rcpt, &shown, &lanes()),
            "12.0 ms RCPT TO bob (client → smtp)"
        );
    }

    #[test]
    fn a_word_cut_across_lines_is_said_as_shown_then_whole() {
        let mail_from = arrow("MAIL FROM:<alice@crepes.fr>");
        let shown = layout::wrap(&mail_from.label, 12, 3);
        assert_eq!(
            accessible_name(&mail_from, &shown, &lanes()),
            format!(
                "12.0 ms {} (client → smtp: MAIL FROM:<alice@crepes.fr>)",
                shown.lines.join(" ")
            )
        );
    }

    #[test]
    fn a_label_cut_short_is_whole_in_the_parentheses() {
        let long = arrow("DATA and a very long line that does not fit");
        let shown = layout::wrap(&long.label, 8, 1);
        assert!(shown.shortened, "{shown:?}");
        let name = accessible_name(&long, &shown, &lanes());
        assert!(
            name.starts_with(&format!("12.0 ms {} (", shown.lines[0])),
            "{name}"
        );
        assert!(
            name.ends_with(&format!("client → smtp: {})", long.label)),
            "{name}"
        );
    }
}
