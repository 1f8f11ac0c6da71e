//! The response-time lab (issue 14, part 5): the course's `home.index` and
//! its 10 images fetched for real through the relay in the four ways the
//! course compares, under an RTT and a link rate the student picks, each
//! connection a lane of the timeline, and each total measured against the
//! course's formula ([`wirelab_shared::http::response_time`]). The state is
//! one reducer ([`lab::RtLab`]); the connections are [`driver`]'s.

pub mod driver;
pub mod lab;

use crate::components::timeline::Timeline;
use crate::relay_info::use_relay_info;
use driver::{BASE, Driver};
use lab::{MAX_IMAGES, MAX_PARALLEL, RATES, RTTS, RtAction, RtLab, Run};
use web_sys::HtmlSelectElement;
use wirelab_shared::http::response_time::Mode;
use yew::prelude::*;

/// A `<select>` of `values`, showing each with `label`, sending the chosen
/// one as an action.
fn select<T: Copy + PartialEq + ToString + std::str::FromStr + 'static>(
    testid: &'static str,
    values: &[T],
    chosen: T,
    label: impl Fn(T) -> String,
    action: impl Fn(T) -> RtAction + 'static,
    dispatch: &UseReducerHandle<RtLab>,
) -> Html {
    let dispatch = dispatch.dispatcher();
    let onchange = Callback::from(move |e: Event| {
        let select: HtmlSelectElement = e.target_unchecked_into();
        if let Ok(v) = select.value().parse() {
            dispatch.dispatch(action(v));
        }
    });
    html! {
        <select data-testid={testid} {onchange}>
            { for values.iter().map(|v| html! {
                <option value={v.to_string()} selected={*v == chosen}>{ label(*v) }</option>
            }) }
        </select>
    }
}

fn controls(lab: &UseReducerHandle<RtLab>) -> Html {
    let s = lab.settings;
    let rtt_label = |v: u64| {
        if v == 0 {
            "0 ms (loopback)".to_string()
        } else {
            format!("{v} ms")
        }
    };
    let rate_label = |v: u64| match v {
        0 => "no transmission time".to_string(),
        v if v >= 1000 => format!("{} Mbit/s", v / 1000),
        v => format!("{v} kbit/s"),
    };
    let parallel: Vec<usize> = (1..=MAX_PARALLEL).collect();
    let images: Vec<usize> = (0..=MAX_IMAGES).collect();
    html! {
        <fieldset class="rt-controls">
            <legend>{ "The network and the browser (the header's delay does not apply here: this RTT does)" }</legend>
            <label>{ "RTT " }{ select("rt-rtt", &RTTS, s.rtt_ms, rtt_label, RtAction::Rtt, lab) }</label>
            <label>{ "link rate " }{ select("rt-rate", &RATES, s.rate_kbps, rate_label, RtAction::Rate, lab) }</label>
            <label>{ "parallel connections m " }
                { select("rt-parallel", &parallel, s.m, |v| v.to_string(), RtAction::Parallel, lab) }</label>
            <label>{ "images n " }
                { select("rt-images", &images, s.images, |v| v.to_string(), RtAction::Images, lab) }</label>
        </fieldset>
    }
}

/// A measured total and its formula as two bars on one scale.
fn bars(measured: f64, formula: f64, scale: f64) -> Html {
    let width = |v: f64| format!("width: {:.1}%", (v / scale * 100.0).clamp(0.5, 100.0));
    html! {
        <div class="rt-bars" aria-hidden="true">
            <div class="rt-bar measured" style={width(measured)}></div>
            <div class="rt-bar formula" style={width(formula)}></div>
        </div>
    }
}

fn row(mode: Mode, run: Option<&Run>, scale: f64, on_run: Callback<Mode>, busy: bool) -> Html {
    let measured = run.and_then(Run::measured_ms);
    let formula = run.and_then(Run::formula_ms);
    let n = run.map_or(0, |r| r.objects().saturating_sub(1));
    let status = match run {
        None => "not run yet".to_string(),
        Some(r) if r.failed.is_some() => {
            format!("failed: {}", r.failed.clone().unwrap_or_default())
        }
        Some(r) if r.finished.is_none() => {
            format!("running: {} of the objects so far", r.objects())
        }
        Some(r) => format!("{} connection(s), {} objects", r.connections(), r.objects()),
    };
    let key = mode.key();
    html! {
        <tr data-testid="timing-row" data-mode={key}
            data-measured-ms={measured.map(|v| format!("{v:.1}"))}
            data-formula-ms={formula.map(|v| format!("{v:.1}"))}>
            <th scope="row">
                { mode.title() }
                <button class="secondary" data-testid={format!("rt-run-{key}")} disabled={busy}
                        onclick={on_run.reform(move |_: MouseEvent| mode)}>{ "Run" }</button>
            </th>
            <td>{ status }</td>
            <td class="num">{ measured.map_or("—".to_string(), |v| format!("{v:.0} ms")) }</td>
            <td class="num" title={mode.formula_text()}>
                { formula.map_or("—".to_string(), |v| format!("{v:.0} ms")) }
                <div class="hint">{ format!("{} RTT + transmission", mode.round_trips(n)) }</div>
            </td>
            <td>
                if let (Some(m), Some(f)) = (measured, formula) { { bars(m, f, scale) } }
                <p class="rt-why">{ run.and_then(Run::explanation).unwrap_or_default() }</p>
            </td>
        </tr>
    }
}

fn table(lab: &RtLab, on_run: Callback<Mode>, busy: bool) -> Html {
    let scale = lab
        .runs
        .iter()
        .flat_map(|r| [r.measured_ms(), r.formula_ms()])
        .flatten()
        .fold(1.0, f64::max);
    html! {
        <div class="rt-scroll">
        <table class="rt-results" data-testid="rt-results">
            <thead><tr>
                <th scope="col">{ "mode" }</th><th scope="col">{ "what happened" }</th>
                <th scope="col">{ "measured" }</th><th scope="col">{ "the course's formula" }</th>
                <th scope="col">{ "measured (dark) against the formula (light), and why they differ" }</th>
            </tr></thead>
            <tbody>
                { for lab.settings.modes().into_iter().map(|mode| {
                    row(mode, lab.run(mode.key()), scale, on_run.clone(), busy)
                }) }
            </tbody>
        </table>
        </div>
    }
}

/// The shown run's timeline, drawn only while nothing runs: drawing it
/// after every event would keep the page busy while responses arrive,
/// and the page's clock would count that as network time.
fn timeline(lab: &UseReducerHandle<RtLab>) -> Html {
    if lab.running() {
        return html! { <p class="hint">{ "The timeline is drawn when the run ends." }</p> };
    }
    let Some(run) = lab.shown.and_then(|key| lab.run(key)) else {
        return html! { <p class="hint">{ "Run a mode to see its connections on the timeline." }</p> };
    };
    let (lanes, arrows) = run.timeline();
    let tabs = lab.runs.iter().map(|r| {
        let key = r.mode.key();
        let pressed = key == run.mode.key();
        let dispatch = lab.dispatcher();
        html! {
            <button class="secondary" aria-pressed={pressed.to_string()} data-testid={format!("rt-show-{key}")}
                    onclick={Callback::from(move |_: MouseEvent| dispatch.dispatch(RtAction::Show(key)))}>
                { r.mode.title() }
            </button>
        }
    });
    html! {
        <section class="rt-timeline" data-testid="rt-timeline" data-mode={run.mode.key()}>
            <h2>{ format!("Timeline: {}", run.mode.title()) }</h2>
            <div class="rt-tabs">{ for tabs }</div>
            <Timeline {lanes} {arrows} idle_after_ms={5_000.0} />
        </section>
    }
}

fn intro() -> Html {
    html! {
        <>
            <p>{ format!("The browser fetches {BASE} from the lab's web server, finds the images it \
                  references, and fetches them: for real, through the relay, which adds half the \
                  RTT each way and transmits every byte at the link rate. Each way is timed on \
                  this page's clock, from the first connection to the last byte, and set against \
                  the course's formula for the same objects (their sizes as they came back, \
                  headers included).") }</p>
            <p class="hint" data-testid="rt-p7">{ "Problem P7: choose 3 images and no transmission \
                  time, run all four, and read the totals in RTTs: about 8 RTT non-persistent, \
                  4 RTT in parallel (m ≥ 3), 5 RTT persistent and 3 RTT pipelined. P7 also adds \
                  RTT1 + … + RTTn for the DNS lookup; the lab reaches its server by name without \
                  one (the DNS page shows those round trips)." }</p>
        </>
    }
}

#[function_component(ResponseTimePage)]
pub fn response_time_page() -> Html {
    let lab = use_reducer(RtLab::default);
    let offline = use_relay_info().is_offline();
    let driver = {
        let dispatch = lab.dispatcher();
        use_mut_ref(move || None::<driver::SharedDriver>)
            .borrow_mut()
            .get_or_insert_with(|| Driver::new(Callback::from(move |a| dispatch.dispatch(a))))
            .clone()
    };
    {
        let driver = driver.clone();
        use_effect_with((), move |_| move || Driver::stop(&driver));
    }
    let busy = offline || lab.running();
    let settings = lab.settings;
    let on_run = {
        let driver = driver.clone();
        Callback::from(move |mode: Mode| Driver::run(&driver, vec![mode], settings))
    };
    let on_run_all = {
        let driver = driver.clone();
        Callback::from(move |_: MouseEvent| {
            Driver::run(&driver, settings.modes().to_vec(), settings)
        })
    };
    html! {
        <section class="page response-time">
            <h1>{ "HTTP response time: non-persistent, parallel, persistent, pipelined" }</h1>
            { intro() }
            if offline {
                <p class="notice" data-testid="rt-offline">{ "This lab needs the relay: it times real \
                    connections with the delay and the rate the relay adds." }</p>
            }
            { controls(&lab) }
            <p>
                <button data-testid="rt-run-all" disabled={busy} onclick={on_run_all}>
                    { "Run all four" }</button>
                <span class="hint" data-testid="rt-state" data-state={if lab.running() { "running" } else { "idle" }}>
                    { if lab.running() { " running…" } else { "" } }</span>
            </p>
            { table(&lab, on_run, busy) }
            { timeline(&lab) }
        </section>
    }
}
