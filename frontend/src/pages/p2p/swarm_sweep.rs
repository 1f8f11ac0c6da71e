//! The swarm run for several N (one swarm after the other, at the same F
//! and rates) and plotted against D_cs and D_P2P, as in the course's
//! figure. Only the P2P time is measured: a client-server run would need
//! a swarm whose leechers never upload, which the relay does not offer,
//! so D_cs stands alone (the seed alone at u_s takes NF/u_s by
//! construction).

use super::swarm::{SWEEP_N, SwarmAction, SwarmLab, SwarmSettings, SwarmView, bounds_for};
use yew::prelude::*;

type Dispatch = UseReducerDispatcher<SwarmLab>;

/// How long one N may take before the sweep gives up on it.
const RUN_LIMIT_MS: u32 = 120_000;
const POLL_MS: u32 = 300;

/// Starts the sweep: each N in [`SWEEP_N`] started, watched until every
/// leecher has the file, stopped, and its time kept.
pub fn run_sweep(dispatch: Dispatch, settings: SwarmSettings) -> Callback<MouseEvent> {
    Callback::from(move |_| {
        let dispatch = dispatch.clone();
        dispatch.dispatch(SwarmAction::SweepStarted);
        yew::platform::spawn_local(async move {
            for n in SWEEP_N {
                match one_run(SwarmSettings {
                    peers: n,
                    ..settings
                })
                .await
                {
                    Ok(secs) => dispatch.dispatch(SwarmAction::SweepPoint(n, secs)),
                    Err(why) => {
                        dispatch.dispatch(SwarmAction::Failed(why));
                        return;
                    }
                }
            }
            dispatch.dispatch(SwarmAction::SweepDone);
        });
    })
}

/// One swarm from start to its last leecher's finish, then stopped.
async fn one_run(settings: SwarmSettings) -> Result<f64, String> {
    #[derive(serde::Deserialize)]
    struct Created {
        id: u64,
    }
    let created: Created = crate::api::post_json("/api/swarms", &settings)
        .await
        .map_err(|e| e.message)?;
    let path = format!("/api/swarms/{}", created.id);
    let mut waited = 0;
    let outcome = loop {
        gloo_timers::future::TimeoutFuture::new(POLL_MS).await;
        waited += POLL_MS;
        let view: SwarmView = match crate::api::get_json(&path).await {
            Ok(view) => view,
            Err(e) => break Err(e.message),
        };
        if let Some(secs) = last_finish(&view) {
            break Ok(secs);
        }
        if waited > RUN_LIMIT_MS {
            break Err(format!("N = {}: not done after 2 minutes", settings.peers));
        }
    };
    let _ = crate::api::delete(&path).await;
    outcome
}

fn last_finish(view: &SwarmView) -> Option<f64> {
    let leechers = view.peers.iter().filter(|p| !p.seed);
    leechers
        .map(|p| p.done_secs)
        .try_fold(0.0, |latest: f64, done| done.map(|d| latest.max(d)))
}

#[derive(Properties, PartialEq)]
pub struct PlotProps {
    pub lab: UseReducerHandle<SwarmLab>,
}

/// Measured points over the two bounds' lines, N on x, seconds on y.
#[function_component(SweepPlot)]
pub fn sweep_plot(props: &PlotProps) -> Html {
    let lab = &*props.lab;
    if lab.sweep.is_empty() && !lab.sweeping {
        return html! {};
    }
    let settings = lab.started_with;
    let max_n = SWEEP_N[SWEEP_N.len() - 1];
    let line = |pick: fn(super::swarm::Bounds) -> f64| -> Vec<(usize, f64)> {
        (1..=max_n)
            .filter_map(|n| bounds_for(&settings, n).map(|b| (n, pick(b))))
            .collect()
    };
    let (cs, p2p) = (line(|b| b.cs), line(|b| b.p2p));
    let top = cs
        .iter()
        .chain(&p2p)
        .chain(&lab.sweep)
        .map(|(_, y)| *y)
        .fold(1.0, f64::max)
        * 1.1;
    let at = |(n, y): (usize, f64)| {
        (
            20.0 + 280.0 * n as f64 / max_n as f64,
            180.0 - 170.0 * y / top,
        )
    };
    let path = |points: &[(usize, f64)]| {
        points
            .iter()
            .map(|p| {
                let (x, y) = at(*p);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        <figure data-testid="swarm-sweep" data-points={lab.sweep.len().to_string()}>
            <svg class="swarm-plot" viewBox="0 0 320 200" role="img"
                aria-label="measured distribution time against D_cs and D_P2P, by N">
                <line x1="20" y1="180" x2="310" y2="180" class="swarm-axis" />
                <line x1="20" y1="180" x2="20" y2="5" class="swarm-axis" />
                <polyline class="swarm-cs" points={path(&cs)} />
                <polyline class="swarm-p2p" points={path(&p2p)} />
                { for lab.sweep.iter().map(|p| {
                    let (x, y) = at(*p);
                    html! { <circle class="swarm-point" data-testid="swarm-point"
                        cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="3" /> }
                }) }
            </svg>
            <figcaption>
                { format!("N = 1 to {max_n} on x, seconds on y (top {top:.1} s): D_cs dashed, \
                    D_P2P solid, each swarm's measured time a dot ({}). Client-server is not \
                    measured: the relay's leechers always upload; its bound is NF/u_s.",
                    lab.sweep.iter().map(|(n, s)| format!("N = {n}: {s:.2} s")).collect::<Vec<_>>().join(", ")) }
            </figcaption>
        </figure>
    }
}
