//! The P2P page: the course's overlays simulated where a real network would
//! not teach better. The circular DHT (who holds a key, a lookup's
//! messages with and without shortcuts, peers leaving and joining) and
//! Gnutella's query flooding with a node count against problem P18's
//! bound, with KaZaA's supernodes beside it. State in [`lab`], figures from
//! `shared::overlay`.

pub mod graph;
pub mod lab;
pub mod peer_wire;
pub mod ring;
pub mod swarm;
pub mod swarm_steps;
pub mod swarm_sweep;
pub mod swarm_view;

use graph::GraphView;
use lab::{P2pAction, P2pLab};
use ring::{RingView, binary};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

type Dispatch = UseReducerDispatcher<P2pLab>;

/// A callback reading an input's number into an action.
fn on_number<T: std::str::FromStr + 'static>(
    dispatch: &Dispatch,
    action: fn(T) -> P2pAction,
) -> Callback<Event> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        if let Ok(n) = input.value().trim().parse::<T>() {
            dispatch.dispatch(action(n));
        }
    })
}

#[function_component(P2pPage)]
pub fn p2p_page() -> Html {
    let lab = use_reducer(P2pLab::default);
    let dispatch = lab.dispatcher();
    html! {
        <section class="page p2p">
            <h1>{ "Peer to peer: the DHT and flooding" }</h1>
            <p class="intro">
                { "Two ways peers find what they want without a server. A distributed hash table \
                   gives every key one peer and finds it in few messages; flooding asks every \
                   neighbour, who ask theirs, until a node count runs out. Both are simulated \
                   here, deterministically, so the numbers are the course's." }
            </p>
            <Dht lab={lab.clone()} dispatch={dispatch.clone()} />
            <Flooding lab={lab} dispatch={dispatch} />
            <swarm_view::RealSwarm />
            <swarm_steps::SteppedSwarm />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PartProps {
    lab: UseReducerHandle<P2pLab>,
    dispatch: Dispatch,
}

#[function_component(Dht)]
fn dht(props: &PartProps) -> Html {
    let lab = &*props.lab;
    let lookup = lab.lookup();
    html! {
        <div class="p2p-part" data-testid="dht">
            <h2>{ "Circular DHT" }</h2>
            <p>{ format!("Identifiers of {} bits (0 to {}); a key is stored at its immediate \
                 successor, the first peer at or after it going round. Each peer knows its two \
                 successors{}.", lab.ring.bits(), lab.ring.size() - 1,
                 if lab.shortcuts { " and its shortcuts" } else { "" }) }</p>
            <RingControls lab={props.lab.clone()} dispatch={props.dispatch.clone()} />
            <div class="p2p-figure">
                <RingView ring={lab.ring.clone()} lookup={lookup.clone()} />
                <LookupSummary lab={props.lab.clone()} dispatch={props.dispatch.clone()} />
            </div>
            <Churn lab={props.lab.clone()} dispatch={props.dispatch.clone()} />
        </div>
    }
}

#[function_component(RingControls)]
fn ring_controls(props: &PartProps) -> Html {
    let lab = &*props.lab;
    let d = &props.dispatch;
    let course = |figure: bool| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(P2pAction::CourseRing { figure }))
    };
    let on_asker = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(p) = select.value().parse() {
                d.dispatch(P2pAction::Asker(p));
            }
        })
    };
    let on_shortcuts = {
        let d = d.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            d.dispatch(P2pAction::Shortcuts(input.checked()));
        })
    };
    html! {
        <div class="toolbar">
            <button data-testid="dht-course" onclick={course(false)}>{ "The slides' ring" }</button>
            <button data-testid="dht-figure" onclick={course(true)}>{ "The slides' figure (peer 15)" }</button>
            <label>{ "Asked at peer " }
                <select data-testid="dht-asker" onchange={on_asker}>
                    { for lab.ring.peers().map(|p| html! {
                        <option value={p.to_string()} selected={p == lab.asker}>{ p }</option>
                    }) }
                </select>
            </label>
            <label>{ "for key " }
                <input type="number" data-testid="dht-key-input" min="0"
                       max={(lab.ring.size() - 1).to_string()} value={lab.key.to_string()}
                       onchange={on_number(d, P2pAction::Key)} />
            </label>
            <label>
                <input type="checkbox" data-testid="dht-shortcuts" checked={lab.shortcuts}
                       onchange={on_shortcuts} />
                { " shortcuts" }
            </label>
        </div>
    }
}

#[function_component(LookupSummary)]
fn lookup_summary(props: &PartProps) -> Html {
    let lab = &*props.lab;
    let (Some(lookup), Some(other)) = (lab.lookup(), lab.other_lookup()) else {
        return html! {};
    };
    let route: Vec<String> = lookup.path.iter().map(u16::to_string).collect();
    let (with, without) = if lab.shortcuts {
        (lookup.messages(), other.messages())
    } else {
        (other.messages(), lookup.messages())
    };
    html! {
        <div class="p2p-summary">
            <p data-testid="dht-responsible" data-peer={lookup.responsible.to_string()}>
                { format!("Key {} ({}) is held by peer {} ({}).", lookup.key,
                  binary(&lab.ring, lookup.key), lookup.responsible,
                  binary(&lab.ring, lookup.responsible)) }
            </p>
            <p data-testid="dht-messages" data-count={lookup.messages().to_string()}>
                { format!("The query: {} — {} message{}, then the last peer, whose successor \
                  holds the key, answers peer {} directly.", route.join(" → "),
                  lookup.messages(), if lookup.messages() == 1 { "" } else { "s" }, lab.asker) }
            </p>
            <p class="hint">{ format!("Along successors only: {without} messages (O(N) on \
                average); with shortcuts: {with} (O(log N) with Chord's shortcuts, which point \
                at the successors of p+1, p+2, p+4, …).") }</p>
            if lab.figure_ring {
                <p class="notice" data-testid="dht-erratum">
                    { "The slides' figure shows a peer 15 (1111) where their text lists 14: in \
                       the figure key 1110 belongs to 15, in the text to 14. The messages are the \
                       same 6 (and 2 with shortcuts) because the query stops at peer 12, whose \
                       successor holds the key either way." }
                </p>
            }
        </div>
    }
}

#[function_component(Churn)]
fn churn(props: &PartProps) -> Html {
    let lab = &*props.lab;
    let d = &props.dispatch;
    let leaving = use_state(|| 5u16);
    let joining = use_state(|| 13u16);
    let on_leave = {
        let (d, leaving) = (d.clone(), leaving.clone());
        Callback::from(move |_: MouseEvent| d.dispatch(P2pAction::Leave(*leaving)))
    };
    let on_join = {
        let (d, joining) = (d.clone(), joining.clone());
        Callback::from(move |_: MouseEvent| d.dispatch(P2pAction::Join(*joining)))
    };
    let set = |state: &UseStateHandle<u16>| {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(n) = input.value().trim().parse() {
                state.set(n);
            }
        })
    };
    html! {
        <div class="p2p-churn">
            <h3>{ "Churn" }</h3>
            <div class="toolbar">
                <label>{ "Peer " }
                    <input type="number" data-testid="dht-leave-peer" min="0" value={leaving.to_string()}
                           onchange={set(&leaving)} />
                </label>
                <button data-testid="dht-leave" onclick={on_leave}>{ "leaves abruptly" }</button>
                <label>{ "Peer " }
                    <input type="number" data-testid="dht-join-peer" min="0" value={joining.to_string()}
                           onchange={set(&joining)} />
                </label>
                <button data-testid="dht-join" onclick={on_join}>{ "joins" }</button>
            </div>
            if let Some(why) = &lab.refused {
                <p class="notice" data-testid="dht-refused">{ why }</p>
            }
            <ul data-testid="dht-repairs">
                { for lab.repairs.iter().map(|r| html! { <li>{ &r.what }</li> }) }
            </ul>
        </div>
    }
}

#[function_component(Flooding)]
fn flooding(props: &PartProps) -> Html {
    let lab = &*props.lab;
    let d = &props.dispatch;
    let f = lab.flood;
    let overlay = lab.overlay();
    let flood = lab.flooded(&overlay);
    let tiered = lab.tiered();
    html! {
        <div class="p2p-part" data-testid="flooding">
            <h2>{ "Query flooding (Gnutella)" }</h2>
            <p>{ "Alice (peer 0) sends her query to each neighbour with a node count K; each peer \
                  that receives it decrements the count and, if anything is left, forwards it to \
                  its other neighbours. A peer forwards a query only the first time it sees it." }</p>
            <div class="toolbar">
                <label>{ "Peers " }
                    <input type="number" data-testid="flood-peers" min="2" max="200"
                           value={f.peers.to_string()} onchange={on_number(d, P2pAction::Peers)} />
                </label>
                <label>{ "N, most neighbours " }
                    <input type="number" data-testid="flood-neighbors" min="2" max="8"
                           value={f.neighbors.to_string()} onchange={on_number(d, P2pAction::Neighbors)} />
                </label>
                <label>{ "K, node count " }
                    <input type="range" data-testid="flood-ttl" min="0" max="10"
                           value={f.ttl.to_string()} onchange={on_number(d, P2pAction::Ttl)} />
                    { format!(" {}", f.ttl) }
                </label>
                <label>{ "Supernodes " }
                    <input type="number" data-testid="flood-leaders" min="2" max="200"
                           value={f.leaders.to_string()} onchange={on_number(d, P2pAction::Leaders)} />
                </label>
                <label>{ "Seed " }
                    <input type="number" data-testid="flood-seed" min="0"
                           value={f.seed.to_string()} onchange={on_number(d, P2pAction::Seed)} />
                </label>
            </div>
            <div class="p2p-figure">
                <GraphView overlay={overlay.clone()} flood={flood.clone()} />
                <div class="p2p-summary">
                    <p data-testid="flood-messages" data-count={flood.messages().to_string()}>
                        { format!("Query messages sent: {} (per hop: {:?}).", flood.messages(), flood.per_hop) }
                    </p>
                    <p data-testid="flood-bound" data-bound={lab.bound().to_string()}>
                        { format!("P18's bound, Σ N(N−1)^i for i < K = {}: {}. It counts every \
                          path as if the overlay were a tree; peers that already saw the query \
                          forward nothing, so the real count is lower.", f.ttl, lab.bound()) }
                    </p>
                    <p data-testid="flood-reached" data-count={flood.reached().to_string()}>
                        { format!("Peers reached: {} of {}. The node count saves messages at the \
                          price of not asking everyone.", flood.reached(), overlay.len() - 1) }
                    </p>
                    <p data-testid="flood-supernodes" data-count={tiered.messages.to_string()}>
                        { format!("With KaZaA's supernodes ({} group leaders, each indexing its \
                          group's content), the same query costs {} messages (1 to Alice's leader, \
                          the rest flooded among leaders) and covers the content of {} peers.",
                          f.leaders, tiered.messages, tiered.peers_covered) }
                    </p>
                </div>
            </div>
        </div>
    }
}
