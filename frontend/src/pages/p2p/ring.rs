//! The circular DHT drawn: every identifier a tick on the circle, the
//! peers as labelled dots, the key asked for as a diamond, and the query's
//! messages as arrows across the ring.

use wirelab_shared::overlay::dht::{Lookup, Ring};
use yew::prelude::*;

const CENTRE: f64 = 170.0;
const RADIUS: f64 = 125.0;

/// Where identifier `id` sits: clockwise from the top.
fn place(ring: &Ring, id: u16, radius: f64) -> (f64, f64) {
    let turn = f64::from(id) / f64::from(ring.size());
    let angle = std::f64::consts::TAU * turn - std::f64::consts::FRAC_PI_2;
    (CENTRE + radius * angle.cos(), CENTRE + radius * angle.sin())
}

/// An identifier in binary, as the slides write them (`1110`).
pub fn binary(ring: &Ring, id: u16) -> String {
    format!("{id:0width$b}", width = usize::from(ring.bits()))
}

#[derive(Properties, PartialEq)]
pub struct RingViewProps {
    pub ring: Ring,
    pub lookup: Option<Lookup>,
}

#[function_component(RingView)]
pub fn ring_view(props: &RingViewProps) -> Html {
    let ring = &props.ring;
    let responsible = props.lookup.as_ref().map(|l| l.responsible);
    html! {
        <svg class="dht-ring" viewBox="0 0 340 340" role="img" data-testid="dht-ring"
             aria-label="The ring of identifiers, its peers, and the query's messages">
            <defs>
                <marker id="dht-arrow" viewBox="0 0 10 10" refX="9" refY="5"
                        markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" class="dht-arrowhead" />
                </marker>
            </defs>
            <circle cx={CENTRE.to_string()} cy={CENTRE.to_string()} r={RADIUS.to_string()}
                    class="dht-circle" />
            { ticks(ring) }
            if let Some(lookup) = &props.lookup {
                { key_mark(ring, lookup.key) }
                { hops(ring, lookup) }
            }
            { for ring.peers().map(|p| peer(ring, p, Some(p) == responsible)) }
        </svg>
    }
}

fn ticks(ring: &Ring) -> Html {
    // Past 64 identifiers the ticks would merge into a grey band.
    if ring.size() > 64 {
        return html! {};
    }
    html! {
        { for (0..ring.size()).map(|id| {
            let (x1, y1) = place(ring, id, RADIUS - 4.0);
            let (x2, y2) = place(ring, id, RADIUS + 4.0);
            html! { <line class="dht-tick" x1={x1.to_string()} y1={y1.to_string()}
                          x2={x2.to_string()} y2={y2.to_string()} /> }
        }) }
    }
}

fn peer(ring: &Ring, id: u16, responsible: bool) -> Html {
    let (x, y) = place(ring, id, RADIUS);
    let (lx, ly) = place(ring, id, RADIUS + 24.0);
    let class = classes!("dht-peer", responsible.then_some("responsible"));
    html! {
        <g class={class} data-testid="dht-peer" data-id={id.to_string()}>
            <circle cx={x.to_string()} cy={y.to_string()} r="9" />
            <text x={x.to_string()} y={(y + 4.0).to_string()} text-anchor="middle">{ id }</text>
            <text class="dht-binary" x={lx.to_string()} y={(ly + 4.0).to_string()}
                  text-anchor="middle">{ binary(ring, id) }</text>
        </g>
    }
}

fn key_mark(ring: &Ring, key: u16) -> Html {
    let (x, y) = place(ring, key, RADIUS - 18.0);
    let points = format!(
        "{},{} {},{} {},{} {},{}",
        x,
        y - 6.0,
        x + 6.0,
        y,
        x,
        y + 6.0,
        x - 6.0,
        y
    );
    html! {
        <polygon class="dht-key" points={points} data-testid="dht-key" data-key={key.to_string()}>
            <title>{ format!("key {key} ({})", binary(ring, key)) }</title>
        </polygon>
    }
}

fn hops(ring: &Ring, lookup: &Lookup) -> Html {
    html! {
        { for lookup.path.windows(2).enumerate().map(|(i, pair)| {
            let (x1, y1) = place(ring, pair[0], RADIUS - 11.0);
            let (x2, y2) = place(ring, pair[1], RADIUS - 11.0);
            html! {
                <line class="dht-hop" data-testid="dht-hop" data-from={pair[0].to_string()}
                      data-to={pair[1].to_string()} x1={x1.to_string()} y1={y1.to_string()}
                      x2={x2.to_string()} y2={y2.to_string()} marker-end="url(#dht-arrow)">
                    <title>{ format!("message {}: {} → {}", i + 1, pair[0], pair[1]) }</title>
                </line>
            }
        }) }
    }
}
