//! The course's figure, measured: for each N of the sweep the relay runs
//! the same file at the same rates twice, once client-server (leechers
//! take every byte from the seed, `mode: "client-server"`) and once P2P,
//! one swarm after the other; each measured time is a point over the
//! D_cs and D_P2P lines, with a sentence saying why it sits where it does
//! against its bound.

use super::swarm::{
    Bounds, SwarmAction, SwarmLab, SwarmMode, SwarmSettings, SwarmView, bounds_for,
};
use yew::prelude::*;

type Dispatch = UseReducerDispatcher<SwarmLab>;

/// How long one run may take before the sweep gives up on it.
const RUN_LIMIT_MS: u32 = 120_000;
const POLL_MS: u32 = 300;

/// The N the sweep visits below the one asked for, the course's figure's
/// range cut to a few runs.
const SWEEP_STEPS: [usize; 5] = [1, 2, 5, 10, 20];

/// One measured run of the sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    pub n: usize,
    pub mode: SwarmMode,
    pub secs: f64,
}

impl SweepPoint {
    pub fn new(n: usize, mode: SwarmMode, secs: f64) -> SweepPoint {
        SweepPoint { n, mode, secs }
    }
}

/// The N a sweep up to `max` leechers runs: the steps under it, then it.
pub fn sweep_ns(max: usize) -> Vec<usize> {
    let max = max.clamp(1, MAX_N);
    let mut ns: Vec<usize> = SWEEP_STEPS.into_iter().filter(|n| *n < max).collect();
    ns.push(max);
    ns
}

/// The relay's bound on leechers.
const MAX_N: usize = 49;

/// The sweep button's words for a sweep up to `max` leechers.
pub fn sweep_label(max: usize) -> String {
    let ns: Vec<String> = sweep_ns(max).iter().map(usize::to_string).collect();
    format!("Run client-server and P2P for N = {}", ns.join(", "))
}

/// Starts the sweep: for each N, client-server then P2P, each started,
/// watched until every leecher has the file, stopped, and its time kept.
pub fn run_sweep(dispatch: Dispatch, settings: SwarmSettings) -> Callback<MouseEvent> {
    Callback::from(move |_| {
        let dispatch = dispatch.clone();
        dispatch.dispatch(SwarmAction::SweepStarted);
        yew::platform::spawn_local(async move {
            for n in sweep_ns(settings.peers) {
                for mode in [SwarmMode::ClientServer, SwarmMode::P2p] {
                    let run = SwarmSettings {
                        peers: n,
                        mode,
                        ..settings
                    };
                    match one_run(run).await {
                        Ok(secs) => dispatch
                            .dispatch(SwarmAction::SweepPoint(SweepPoint::new(n, mode, secs))),
                        Err(why) => {
                            dispatch.dispatch(SwarmAction::Failed(why));
                            return;
                        }
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

fn mode_name(mode: SwarmMode) -> &'static str {
    match mode {
        SwarmMode::ClientServer => "client-server",
        SwarmMode::P2p => "P2P",
    }
}

/// Why a measured point sits where it does against its bound, in one
/// sentence; with the other mode's time at the same N, the measured
/// factor beside the bounds'.
pub fn gap_note(point: &SweepPoint, settings: &SwarmSettings, others: &[SweepPoint]) -> String {
    let head = format!(
        "N = {}, {}: {:.2} s",
        point.n,
        mode_name(point.mode),
        point.secs
    );
    let Some(b) = bounds_for(settings, point.n) else {
        return format!("{head}; with a rate unlimited (0) there is no bound to compare with.");
    };
    let bound = match point.mode {
        SwarmMode::ClientServer => b.cs,
        SwarmMode::P2p => b.p2p,
    };
    let ratio = point.secs / bound;
    let why = if ratio < 1.0 {
        "under the bound: each token bucket starts with a tenth of a second of its rate saved \
         up, so the first burst goes out faster than the rate"
            .to_string()
    } else {
        match point.mode {
            SwarmMode::ClientServer => "the seed's one bucket is the bottleneck and never idles; \
                what is left is the peers' start (announce, TCP and handshake) and the last \
                piece's trip"
                .to_string(),
            SwarmMode::P2p if point.n == 1 => "one leecher has nobody to trade with, so P2P is \
                client-server, plus the start-up"
                .to_string(),
            SwarmMode::P2p => p2p_reasons(settings),
        }
    };
    let label = match point.mode {
        SwarmMode::ClientServer => "D_cs",
        SwarmMode::P2p => "D_P2P",
    };
    let mut note = format!("{head}, {ratio:.2} × {label}: {why}.");
    if let Some(factor) = factor_at(point, others) {
        note.push_str(&format!(
            " Client-server took {factor:.2} × P2P's time here; the bounds say {:.2}.",
            b.cs / b.p2p
        ));
    }
    note
}

/// Why a swarm of several leechers stays above D_P2P.
fn p2p_reasons(s: &SwarmSettings) -> String {
    let pieces = s.file_size.div_ceil(s.piece_size.max(1));
    format!(
        "a leecher passes a piece on only once all {} KiB of it is checked ({pieces} pieces in \
         all), shares its upload among four interested peers at a time, and rarest first \
         needs the haves to spread before leechers want each other's pieces; D_P2P has every \
         bit go anywhere at full rate from the first instant",
        s.piece_size / 1024
    )
}

/// Client-server's time over P2P's at this point's N, once both ran.
fn factor_at(point: &SweepPoint, points: &[SweepPoint]) -> Option<f64> {
    let time = |mode| points.iter().find(|p| p.n == point.n && p.mode == mode);
    let (cs, p2p) = (time(SwarmMode::ClientServer)?, time(SwarmMode::P2p)?);
    (point.mode == SwarmMode::P2p).then(|| cs.secs / p2p.secs)
}

#[derive(Properties, PartialEq)]
pub struct PlotProps {
    pub lab: UseReducerHandle<SwarmLab>,
}

/// Measured points over the two bounds' lines, N on x, seconds on y:
/// client-server squares, P2P dots.
#[function_component(SweepPlot)]
pub fn sweep_plot(props: &PlotProps) -> Html {
    let lab = &*props.lab;
    if lab.sweep.is_empty() && !lab.sweeping {
        return html! {};
    }
    let settings = lab.started_with;
    let max_n = settings.peers.max(1);
    let line = |pick: fn(Bounds) -> f64| -> Vec<(usize, f64)> {
        (1..=max_n)
            .filter_map(|n| bounds_for(&settings, n).map(|b| (n, pick(b))))
            .collect()
    };
    let (cs, p2p) = (line(|b| b.cs), line(|b| b.p2p));
    let top = cs
        .iter()
        .chain(&p2p)
        .map(|(_, y)| *y)
        .chain(lab.sweep.iter().map(|p| p.secs))
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
    let count = |mode| {
        lab.sweep
            .iter()
            .filter(|p| p.mode == mode)
            .count()
            .to_string()
    };
    html! {
        <figure data-testid="swarm-sweep" data-points={lab.sweep.len().to_string()}
            data-cs-points={count(SwarmMode::ClientServer)} data-p2p-points={count(SwarmMode::P2p)}>
            <svg class="swarm-plot" viewBox="0 0 320 200" role="img"
                aria-label="measured client-server and P2P distribution times against D_cs and D_P2P, by N">
                <line x1="20" y1="180" x2="310" y2="180" class="swarm-axis" />
                <line x1="20" y1="180" x2="20" y2="5" class="swarm-axis" />
                <polyline class="swarm-cs" points={path(&cs)} />
                <polyline class="swarm-p2p" points={path(&p2p)} />
                { for lab.sweep.iter().map(|p| point(at((p.n, p.secs)), p)) }
            </svg>
            <figcaption>
                { format!("N = 1 to {max_n} on x, seconds on y (top {top:.1} s): D_cs dashed, \
                    D_P2P solid; each measured client-server run a square, each P2P run a dot.") }
            </figcaption>
            <ul data-testid="swarm-sweep-notes">
                { for lab.sweep.iter().map(|p| html! {
                    <li data-testid="swarm-sweep-note">{ gap_note(p, &settings, &lab.sweep) }</li>
                }) }
            </ul>
        </figure>
    }
}

fn point((x, y): (f64, f64), p: &SweepPoint) -> Html {
    let title = format!("N = {}, {}: {:.2} s", p.n, mode_name(p.mode), p.secs);
    match p.mode {
        SwarmMode::ClientServer => html! {
            <rect class="swarm-point swarm-point-cs" data-testid="swarm-point-cs"
                x={format!("{:.1}", x - 3.0)} y={format!("{:.1}", y - 3.0)} width="6" height="6">
                <title>{ title }</title>
            </rect>
        },
        SwarmMode::P2p => html! {
            <circle class="swarm-point" data-testid="swarm-point-p2p"
                cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="3">
                <title>{ title }</title>
            </circle>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_visits_the_steps_below_the_n_asked_and_then_it() {
        assert_eq!(sweep_ns(30), vec![1, 2, 5, 10, 20, 30]);
        assert_eq!(sweep_ns(10), vec![1, 2, 5, 10]);
        assert_eq!(sweep_ns(2), vec![1, 2]);
        assert_eq!(sweep_ns(0), vec![1]);
        assert_eq!(sweep_ns(500), vec![1, 2, 5, 10, 20, 49]);
        assert_eq!(sweep_label(2), "Run client-server and P2P for N = 1, 2");
    }

    #[test]
    fn each_point_is_set_against_its_own_bound() {
        // The course's example in seconds: at N = 10, D_cs = 10 s, D_P2P = 5 s.
        let s = SwarmSettings::default();
        let cs = SweepPoint::new(10, SwarmMode::ClientServer, 10.5);
        let p2p = SweepPoint::new(10, SwarmMode::P2p, 8.0);
        let note = gap_note(&cs, &s, &[cs]);
        assert!(
            note.starts_with("N = 10, client-server: 10.50 s, 1.05 × D_cs: the seed's"),
            "{note}"
        );
        let both = [cs, p2p];
        let note = gap_note(&p2p, &s, &both);
        assert!(
            note.contains("1.60 × D_P2P: a leecher passes a piece on only once all 64 KiB"),
            "{note}"
        );
        assert!(note.contains("16 pieces"), "{note}");
        assert!(
            note.ends_with("Client-server took 1.31 × P2P's time here; the bounds say 2.00."),
            "{note}"
        );
    }

    #[test]
    fn under_the_bound_the_bucket_burst_is_named_and_one_leecher_trades_with_nobody() {
        let s = SwarmSettings::default();
        let fast = SweepPoint::new(1, SwarmMode::ClientServer, 0.9);
        assert!(gap_note(&fast, &s, &[]).contains("0.90 × D_cs: under the bound"));
        let alone = SweepPoint::new(1, SwarmMode::P2p, 1.2);
        assert!(gap_note(&alone, &s, &[]).contains("nobody to trade with"));
        let unlimited = SwarmSettings { u_s: 0.0, ..s };
        assert!(gap_note(&alone, &unlimited, &[]).contains("no bound"));
    }
}
