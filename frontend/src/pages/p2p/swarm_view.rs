//! "A real swarm": a BitTorrent swarm the relay runs on loopback
//! (`POST /api/swarms`), polled twice a second and drawn: each peer's
//! pieces as a strip, its rates, whom it unchokes, the rarest piece, and
//! once every leecher has the file, the measured time beside D_cs and
//! D_P2P. While it runs, [`super::peer_wire`] lets the student talk to
//! one of its peers. State in [`super::swarm`]; without a relay there is
//! no swarm and the section says so.

use super::swarm::{
    Bounds, PeerView, Phase, Rates, Setting, SwarmAction, SwarmLab, SwarmView, rarest_piece,
};
use crate::relay_info::use_relay_info;
use web_sys::HtmlInputElement;
use wirelab_shared::bittorrent::syntax::Layout;
use yew::prelude::*;

type Dispatch = UseReducerDispatcher<SwarmLab>;

/// How often the page asks the relay for the swarm's state.
const POLL_MS: u32 = 500;

#[function_component(RealSwarm)]
pub fn real_swarm() -> Html {
    let info = use_relay_info();
    let lab = use_reducer(SwarmLab::default);
    let dispatch = lab.dispatcher();
    use_polling(lab.running(), dispatch.clone());
    let online = info.is_online() && info.targets.iter().any(|t| t.name == "tracker");
    html! {
        <div class="p2p-part" data-testid="swarm">
            <h2>{ "A real swarm" }</h2>
            <p>{ "One seed and N leechers, each a BitTorrent peer on its own loopback address \
                  (127.0.2.x), find each other through the relay's tracker and trade pieces, \
                  rarest first, unchoking their four best uploaders and one peer at random. \
                  Their rates are held by token buckets, so the course's example runs in \
                  seconds: F/u = 10 s instead of an hour." }</p>
            if online {
                <SwarmControls lab={lab.clone()} dispatch={dispatch.clone()} />
            } else {
                <p class="notice" data-testid="swarm-offline">
                    { "The swarm runs on the relay (its tracker and peers): connect to one to start it." }
                </p>
            }
            if let Some(e) = &lab.error {
                <p class="notice" data-testid="swarm-error">{ e }</p>
            }
            if let Some(view) = &lab.view {
                <SwarmState view={view.clone()} rates={lab.rates.clone()} />
            }
            if let Some(view) = lab.view.as_ref().filter(|v| lab.listening() == Some(v.id)) {
                <super::peer_wire::PeerWire
                    addresses={view.peers.iter().map(|p| p.address.clone()).collect::<Vec<_>>()}
                    info_hash={view.info_hash.clone()} pieces={view.pieces}
                    layout={view.request.map(|r| Layout { length: r.file_size, piece_length: r.piece_size })} />
            }
            <Distribution lab={lab.clone()} />
            <super::swarm_sweep::SweepPlot lab={lab.clone()} />
        </div>
    }
}

/// Polls `GET /api/swarms/{id}` while a swarm runs.
#[hook]
fn use_polling(running: Option<u64>, dispatch: Dispatch) {
    use_effect_with(running, move |running| {
        let interval = running.map(|id| {
            gloo_timers::callback::Interval::new(POLL_MS, move || {
                let dispatch = dispatch.clone();
                yew::platform::spawn_local(async move {
                    let path = format!("/api/swarms/{id}");
                    match crate::api::get_json::<SwarmView>(&path).await {
                        Ok(view) => {
                            dispatch.dispatch(SwarmAction::Polled(view, js_sys::Date::now()))
                        }
                        Err(e) if e.status == Some(404) => dispatch.dispatch(SwarmAction::Gone),
                        Err(e) => dispatch.dispatch(SwarmAction::Failed(e.message)),
                    }
                });
            })
        });
        move || drop(interval)
    });
}

#[derive(Properties, PartialEq)]
struct LabProps {
    lab: UseReducerHandle<SwarmLab>,
    dispatch: Dispatch,
}

/// The settings (sizes in KiB, rates in KiB/s) and start and stop.
#[function_component(SwarmControls)]
fn swarm_controls(props: &LabProps) -> Html {
    let s = props.lab.settings;
    let field = |label: &str, testid: &str, setting: Setting, value: f64, scale: f64| {
        let dispatch = props.dispatch.clone();
        let onchange = Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(n) = input.value().trim().parse::<f64>() {
                dispatch.dispatch(SwarmAction::Set(setting, n * scale));
            }
        });
        html! {
            <label>{ label }
                <input type="number" min="0" data-testid={testid.to_string()}
                    value={format!("{}", (value / scale * 10.0).round() / 10.0)} {onchange} />
            </label>
        }
    };
    let kib = 1024.0;
    let busy =
        props.lab.sweeping || matches!(props.lab.phase, Phase::Starting | Phase::Running { .. });
    html! {
        <div class="p2p-controls swarm-controls">
            { field("leechers N", "swarm-peers", Setting::Peers, s.peers as f64, 1.0) }
            { field("file F (KiB)", "swarm-file", Setting::FileSize, s.file_size as f64, kib) }
            { field("piece (KiB)", "swarm-piece", Setting::PieceSize, s.piece_size as f64, kib) }
            { field("u_s (KiB/s)", "swarm-us", Setting::ServerUpload, s.u_s, kib) }
            { field("u_i (KiB/s)", "swarm-ui", Setting::PeerUpload, s.u_i, kib) }
            { field("d_i (KiB/s)", "swarm-di", Setting::PeerDownload, s.d_i, kib) }
            <button data-testid="swarm-start" disabled={busy}
                onclick={start(props.dispatch.clone(), s)}>{ "Start the swarm" }</button>
            <button data-testid="swarm-sweep-start" disabled={busy}
                onclick={super::swarm_sweep::run_sweep(props.dispatch.clone(), s)}>
                { super::swarm_sweep::sweep_label(s.peers) }</button>
            if let Some(id) = props.lab.listening() {
                <button data-testid="swarm-stop" onclick={stop(props.dispatch.clone(), id)}>
                    { "Stop it" }
                </button>
            }
        </div>
    }
}

fn start(dispatch: Dispatch, settings: super::swarm::SwarmSettings) -> Callback<MouseEvent> {
    #[derive(serde::Deserialize)]
    struct Created {
        id: u64,
    }
    Callback::from(move |_| {
        let dispatch = dispatch.clone();
        dispatch.dispatch(SwarmAction::Starting);
        yew::platform::spawn_local(async move {
            match crate::api::post_json::<_, Created>("/api/swarms", &settings).await {
                Ok(created) => dispatch.dispatch(SwarmAction::Started(created.id)),
                Err(e) => dispatch.dispatch(SwarmAction::Failed(e.message)),
            }
        });
    })
}

fn stop(dispatch: Dispatch, id: u64) -> Callback<MouseEvent> {
    Callback::from(move |_| {
        let dispatch = dispatch.clone();
        yew::platform::spawn_local(async move {
            match crate::api::delete(&format!("/api/swarms/{id}")).await {
                Ok(()) => dispatch.dispatch(SwarmAction::Stopped),
                Err(e) => dispatch.dispatch(SwarmAction::Failed(e.message)),
            }
        });
    })
}

#[derive(Properties, PartialEq)]
pub struct StateProps {
    pub view: SwarmView,
    pub rates: Vec<Rates>,
    /// Starts its test ids, so two swarms drawn on one page keep theirs apart.
    #[prop_or(AttrValue::Static("swarm"))]
    pub prefix: AttrValue,
}

/// Every peer's strip, rates and unchokes, and the rarest piece.
#[function_component(SwarmState)]
pub fn swarm_state(props: &StateProps) -> Html {
    let view = &props.view;
    let rarest = rarest_piece(view).map(|(piece, holders)| {
        format!(
            "Rarest piece: {piece}, held by {holders} of {} peers.",
            view.peers.len()
        )
    });
    html! {
        <>
            <p data-testid={format!("{}-rarest", props.prefix)}>{ rarest.unwrap_or_default() }</p>
            <div class="swarm-table">
            <table class="swarm-peers">
                <thead><tr>
                    <th>{ "peer" }</th><th>{ "pieces" }</th><th>{ "down / up (KiB/s)" }</th>
                    <th>{ "unchokes (top 4 + optimistic)" }</th><th>{ "done" }</th>
                </tr></thead>
                <tbody>
                    { for view.peers.iter().enumerate().map(|(i, p)| {
                        let rates = props.rates.get(i).copied().unwrap_or_default();
                        peer_row(&props.prefix, (i, p), view.pieces, rates)
                    }) }
                </tbody>
            </table>
            </div>
        </>
    }
}

fn peer_row(prefix: &str, (i, peer): (usize, &PeerView), pieces: usize, rates: Rates) -> Html {
    let name = if peer.seed {
        "0 (seed)".to_string()
    } else {
        i.to_string()
    };
    let done = peer.seed || peer.done_secs.is_some();
    let unchokes = peer
        .unchoked
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let optimistic = peer
        .optimistic
        .map(|o| format!(" + {o}"))
        .unwrap_or_default();
    let finished = match peer.done_secs {
        Some(secs) if peer.verified => format!("{secs:.2} s, SHA-1 ✓"),
        Some(secs) => format!("{secs:.2} s, SHA-1 ✗"),
        None if peer.seed => "seed".to_string(),
        None => String::new(),
    };
    html! {
        <tr data-testid={format!("{prefix}-peer")} data-pieces={peer.pieces.len().to_string()}
            data-done={done.to_string()}>
            <td title={peer.address.clone()}>{ name }</td>
            <td>{ strip(&peer.pieces, pieces) }</td>
            <td>{ format!("{:.0} / {:.0}", rates.down / 1024.0, rates.up / 1024.0) }</td>
            <td>{ format!("{unchokes}{optimistic}") }</td>
            <td>{ finished }</td>
        </tr>
    }
}

/// One cell per piece, filled where the peer has it.
fn strip(have: &[usize], pieces: usize) -> Html {
    let width = pieces.max(1);
    html! {
        <svg class="swarm-strip" viewBox={format!("0 0 {width} 1")} preserveAspectRatio="none"
            role="img" aria-label={format!("{} of {pieces} pieces", have.len())}>
            <rect class="swarm-missing" x="0" y="0" width={width.to_string()} height="1" />
            { for have.iter().map(|p| html! {
                <rect class="swarm-have" x={p.to_string()} y="0" width="1" height="1" />
            }) }
        </svg>
    }
}

#[derive(Properties, PartialEq)]
struct DistributionProps {
    lab: UseReducerHandle<SwarmLab>,
}

/// The measured finish time beside the course's two bounds.
#[function_component(Distribution)]
fn distribution(props: &DistributionProps) -> Html {
    let lab = &*props.lab;
    let status = match &lab.phase {
        Phase::Idle => return html! {},
        Phase::Starting => "Starting the peers…".to_string(),
        Phase::Running { id } => format!("Swarm {id} running."),
        Phase::Ended { id, why } => format!("Swarm {id} ended: {why}."),
    };
    let n = lab.started_with.peers;
    html! {
        <div data-testid="swarm-distribution">
            <p data-testid="swarm-phase">{ status }</p>
            if let Some(secs) = lab.measured_secs() {
                <p data-testid="swarm-measured" data-secs={format!("{secs:.3}")}>
                    { format!("Measured: the last of the {n} leechers had the file after {secs:.2} s.") }
                </p>
            }
            { bounds(lab.bounds(), lab.measured_secs(), n) }
        </div>
    }
}

fn bounds(bounds: Option<Bounds>, measured: Option<f64>, n: usize) -> Html {
    let Some(b) = bounds else {
        return html! {
            <p data-testid="swarm-bounds">{ "With a rate unlimited (0) the course's bounds say nothing: \
                set u_s, u_i and d_i to compare." }</p>
        };
    };
    let gap = measured.map(|m| gap_sentence(m, b.p2p));
    html! {
        <>
            <p data-testid="swarm-bounds" data-cs={format!("{:.3}", b.cs)} data-p2p={format!("{:.3}", b.p2p)}>
                { format!("For N = {n} at these rates, D_cs ≥ max{{NF/u_s, F/d_min}} = {:.2} s \
                    (the seed alone uploading every copy) and D_P2P ≥ max{{F/u_s, F/d_min, \
                    NF/(u_s + Σu_i)}} = {:.2} s.", b.cs, b.p2p) }
            </p>
            if let Some(gap) = gap {
                <p data-testid="swarm-gap">{ gap }</p>
            }
        </>
    }
}

/// Why the swarm takes longer than D_P2P: the bound assumes every peer
/// uploads at its full rate from the first instant, with any bit able to
/// go to anyone.
fn gap_sentence(measured: f64, p2p: f64) -> String {
    let ratio = measured / p2p;
    if ratio < 1.0 {
        return format!(
            "The swarm took {ratio:.2} × D_P2P, under the bound: the token buckets start \
             full, so each peer's first burst goes out faster than its rate."
        );
    }
    format!(
        "The swarm took {ratio:.2} × D_P2P. The bound assumes every peer uploads at full rate \
         from the first instant; a real peer has nothing to give until its first piece is \
         complete and verified, uploads only to the peers it unchokes and who want what it has, \
         and near the end waits for the last pieces while its upload sits idle, so the measured \
         time is above the bound (and the peers' start, announce and handshakes add a little)."
    )
}
