//! The flooding overlay drawn: peers on a circle, the overlay's edges
//! between them, each peer shaded by the hop at which the query reached it
//! (Alice, peer 0, at the top).

use wirelab_shared::overlay::flood::{Flood, Overlay};
use yew::prelude::*;

const CENTRE: f64 = 170.0;
const RADIUS: f64 = 150.0;

fn place(overlay: &Overlay, peer: usize) -> (f64, f64) {
    let turn = peer as f64 / overlay.len() as f64;
    let angle = std::f64::consts::TAU * turn - std::f64::consts::FRAC_PI_2;
    (CENTRE + RADIUS * angle.cos(), CENTRE + RADIUS * angle.sin())
}

#[derive(Properties, PartialEq)]
pub struct GraphViewProps {
    pub overlay: Overlay,
    pub flood: Flood,
}

#[function_component(GraphView)]
pub fn graph_view(props: &GraphViewProps) -> Html {
    let overlay = &props.overlay;
    html! {
        <svg class="flood-graph" viewBox="0 0 340 340" role="img" data-testid="flood-graph"
             aria-label="The overlay, each peer shaded by the hop at which the query reached it">
            { for overlay.edges().into_iter().map(|(a, b)| {
                let (x1, y1) = place(overlay, a);
                let (x2, y2) = place(overlay, b);
                html! { <line class="flood-edge" x1={x1.to_string()} y1={y1.to_string()}
                              x2={x2.to_string()} y2={y2.to_string()} /> }
            }) }
            { for (0..overlay.len()).map(|p| node(overlay, p, props.flood.first_hop[p])) }
        </svg>
    }
}

fn node(overlay: &Overlay, peer: usize, hop: Option<u32>) -> Html {
    let (x, y) = place(overlay, peer);
    // Hops past 4 share the palest shade.
    let class = match hop {
        Some(0) => "flood-peer alice".to_string(),
        Some(h) => format!("flood-peer hop-{}", h.min(5)),
        None => "flood-peer unreached".to_string(),
    };
    let title = match hop {
        Some(0) => "Alice (peer 0), who asks".to_string(),
        Some(h) => format!("peer {peer}: reached at hop {h}"),
        None => format!("peer {peer}: not reached"),
    };
    html! {
        <circle class={class} data-testid="flood-peer" data-hop={hop.map(|h| h.to_string())}
                cx={x.to_string()} cy={y.to_string()} r="5">
            <title>{ title }</title>
        </circle>
    }
}
