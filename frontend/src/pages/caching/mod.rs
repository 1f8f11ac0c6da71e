//! The caching calculators: the access link of the textbook's worked
//! example with its delay drawn over the hit rate, problem P13's
//! Δ/(1−βΔ), the slides' three wrong utilisations, and problem P14's URL
//! hashing leading to consistent hashing. The arithmetic is
//! `wirelab_shared::cache_calc`; the state is one reducer ([`state`]).

pub mod hashing;
pub mod plot;
pub mod state;

use plot::Frame;
use state::{CachingAction, CachingLab, LINK_STOPS_MBPS, Lan};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use wirelab_shared::cache_calc::access_link::AccessLink;
use wirelab_shared::cache_calc::errata::{Erratum, Where, slide_errata};
use yew::prelude::*;

pub type Dispatch = UseReducerDispatcher<CachingLab>;

#[function_component(CachingPage)]
pub fn caching_page() -> Html {
    let lab = use_reducer(CachingLab::default);
    let dispatch = lab.dispatcher();
    html! {
        <section class="page caching">
            <h1>{ "Web caches: the access link, by the numbers" }</h1>
            <p class="intro">
                { "An institution's browsers fetch objects from origin servers across one access \
                   link. How busy that link is decides the delay; a cache on the LAN answers part \
                   of the requests itself, so fewer objects cross the link. Move the sliders and \
                   watch the course's figures come out." }
            </p>
            <AccessLinkCalc lab={(*lab).clone()} dispatch={dispatch.clone()} />
            <P13Calc lab={(*lab).clone()} dispatch={dispatch.clone()} />
            { errata_list() }
            <hashing::HashingCalc caches={lab.caches} dispatch={dispatch} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct CalcProps {
    lab: CachingLab,
    dispatch: Dispatch,
}

/// A slider whose `input` events send `to_action(value)`.
fn on_slide(dispatch: &Dispatch, to_action: fn(u32) -> CachingAction) -> Callback<InputEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        if let Ok(value) = input.value().parse::<u32>() {
            dispatch.dispatch(to_action(value));
        }
    })
}

#[function_component(AccessLinkCalc)]
fn access_link_calc(props: &CalcProps) -> Html {
    let lab = &props.lab;
    let net = lab.network();
    let on_hit = on_slide(&props.dispatch, CachingAction::HitPercent);
    let on_link = on_slide(&props.dispatch, |i| CachingAction::LinkStop(i as usize));
    let on_lan = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Some(lan) = Lan::from_key(&select.value()) {
                dispatch.dispatch(CachingAction::Lan(lan));
            }
        })
    };
    let preset = |action: CachingAction| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(action.clone()))
    };
    html! {
        <section class="calc" data-testid="access-calc">
            <h2>{ "The worked example (§2.9.1): 100 kbit objects, 15 requests/s, 2 s away" }</h2>
            <div class="calc-controls">
                <label>{ format!("Cache hit rate: {} %", lab.hit_percent) }
                    <input type="range" min="0" max="100" step="5" data-testid="hit-rate"
                           aria-label="cache hit rate in percent"
                           value={lab.hit_percent.to_string()} oninput={on_hit} />
                </label>
                <label>{ format!("Access link: {} Mbps", mbps(lab.link_mbps())) }
                    <input type="range" min="0" max={(LINK_STOPS_MBPS.len() - 1).to_string()}
                           step="1" data-testid="link-rate" aria-label="access link stop"
                           value={lab.link_stop.to_string()} oninput={on_link} />
                </label>
                <label>{ "LAN " }
                    <select data-testid="lan-select" onchange={on_lan}>
                        <option value={Lan::TenMbps.key()} selected={lab.lan == Lan::TenMbps}>
                            { "10 Mbps (the textbook)" }</option>
                        <option value={Lan::OneGbps.key()} selected={lab.lan == Lan::OneGbps}>
                            { "1 Gbps (the slides)" }</option>
                    </select>
                </label>
                <button data-testid="slides-network" onclick={preset(CachingAction::SlidesNetwork)}>
                    { "The slides' network (1.54 Mbps, 1 Gbps LAN)" }</button>
                <button data-testid="reset-network" onclick={preset(CachingAction::Reset)}>
                    { "The textbook's" }</button>
            </div>
            { readouts(&net, &lab.errata_here()) }
            { delay_plot(&net) }
        </section>
    }
}

/// The utilisations and delays of `net`, each with the slide's wrong
/// figure beside it when the setting is the slide's.
fn readouts(net: &AccessLink, errata: &[Erratum]) -> Html {
    let note = |at: Where| {
        errata
            .iter()
            .find(|e| e.at == at)
            .map(erratum_note)
            .unwrap_or_default()
    };
    html! {
        <dl class="readouts">
            <dt>{ "LAN utilisation (15 × 100 kbit / LAN rate)" }</dt>
            <dd data-testid="lan-intensity">{ intensity(net.lan_intensity()) }</dd>
            { note(Where::Lan) }
            <dt>{ "Access link utilisation βΔ (the misses' bits / link rate)" }</dt>
            <dd data-testid="access-intensity">{ intensity(net.access_intensity()) }</dd>
            { note(Where::AccessLink) }{ note(Where::FatLink) }
            <dt>{ "The textbook's reading: under 0.8 the link adds ~10 ms" }</dt>
            <dd data-testid="textbook-estimate">{ textbook_reading(net) }</dd>
            <dt>{ "P13's model: access delay Δ/(1−βΔ)" }</dt>
            <dd data-testid="access-delay">{ seconds_or_unbounded(net.access_delay_s()) }</dd>
            <dt>{ "Average total delay with that model" }</dt>
            <dd data-testid="total-delay"><strong>{ seconds_or_unbounded(net.total_delay_s()) }</strong></dd>
        </dl>
    }
}

fn textbook_reading(net: &AccessLink) -> String {
    match net.textbook_estimate_s() {
        Some(total) => format!(
            "{total:.2} s = {:.0} % × 2.01 s + {:.0} % × 0.01 s",
            net.miss_rate() * 100.0,
            (1.0 - net.miss_rate()) * 100.0
        ),
        None => "not negligible: at 0.8 and over, the queue takes over".to_string(),
    }
}

fn erratum_note(erratum: &Erratum) -> Html {
    let testid = match erratum.at {
        Where::Lan => "erratum-lan",
        Where::AccessLink => "erratum-access",
        Where::FatLink => "erratum-fat",
    };
    html! {
        <dd class="erratum" data-testid={testid}>
            { format!("The slides say \u{201c}{}\u{201d}: {}. ", erratum.slides_say, erratum.working) }
            { format!("{}.", erratum.why) }
        </dd>
    }
}

/// The total delay over the hit rate, P13's model solid, the textbook's
/// reading dashed where it holds, the current setting marked.
fn delay_plot(net: &AccessLink) -> Html {
    let frame = Frame::DELAY;
    let model = frame.path(&net.curve(1.0, 101));
    let reading: Vec<(f64, Option<f64>)> = (0..=100)
        .map(|i| f64::from(i) / 100.0)
        .map(|hit| (hit, net.with_hit_rate(hit).textbook_estimate_s()))
        .collect();
    let marker = net.total_delay_s().map(|delay| html! {
        <circle data-testid="delay-marker" r="5" class="marker"
                cx={format!("{:.1}", frame.x(net.hit_rate))} cy={format!("{:.1}", frame.y(delay))}
                data-hit={format!("{:.2}", net.hit_rate)} data-delay={format!("{delay:.3}")} />
    });
    html! {
        <figure class="plot">
            <svg data-testid="delay-curve" role="img" class="delay-curve"
                 viewBox={format!("0 0 {} {}", frame.width, frame.height)}
                 aria-label="average total delay in seconds over the cache hit rate">
                { axes(&frame) }
                <path class="model" data-testid="delay-path" d={model} />
                <path class="reading" d={frame.path(&reading)} />
                { for marker }
            </svg>
            <figcaption>{ "Solid: P13's model, broken where the link saturates (βΔ ≥ 1). \
                           Dashed: the textbook's reading, drawn only while βΔ < 0.8." }</figcaption>
        </figure>
    }
}

fn axes(frame: &Frame) -> Html {
    let (x0, y0) = (frame.x(0.0), frame.y(0.0));
    let x_ticks = (0..=5).map(|i| f64::from(i) / 5.0).map(|hit| {
        html! {
            <text class="tick" x={format!("{:.1}", frame.x(hit))} y={format!("{:.1}", y0 + 14.0)}
                  text-anchor="middle">{ format!("{:.0} %", hit * 100.0) }</text>
        }
    });
    let y_ticks = (0..=4).map(f64::from).map(|s| html! {
        <>
            <line class="grid" x1={format!("{x0:.1}")} x2={format!("{:.1}", frame.x(1.0))}
                  y1={format!("{:.1}", frame.y(s))} y2={format!("{:.1}", frame.y(s))} />
            <text class="tick" x={format!("{:.1}", x0 - 6.0)} y={format!("{:.1}", frame.y(s) + 4.0)}
                  text-anchor="end">{ format!("{s} s") }</text>
        </>
    });
    html! {
        <g class="axes">
            { for y_ticks }
            { for x_ticks }
            <text class="label" x={format!("{:.1}", frame.x(0.5))} y={format!("{:.1}", frame.height - 2.0)}
                  text-anchor="middle">{ "cache hit rate" }</text>
        </g>
    }
}

#[function_component(P13Calc)]
fn p13_calc(props: &CalcProps) -> Html {
    let on_hit = on_slide(&props.dispatch, CachingAction::P13HitPercent);
    let cached = props.lab.p13_cached();
    html! {
        <section class="calc" data-testid="p13-calc">
            <h2>{ "Problem P13: 900,000-bit objects, 1.5 requests/s, a 1.5 Mbps link, 2 s away" }</h2>
            <p>{ "The access delay is Δ/(1−βΔ): Δ is the time to send one object over the link, \
                  β the objects crossing it per second. As βΔ nears 1 the delay runs away." }</p>
            <div class="scroll-x"><table class="p13">
                <thead><tr><th><span class="sr-only">{ "quantity" }</span></th><th>{ "a. no cache" }</th>
                    <th>{ format!("b. a cache hitting {} %", props.lab.p13_hit_percent) }</th></tr></thead>
                <tbody>{ p13_rows(&AccessLink::P13, &cached) }</tbody>
            </table></div>
            <label>{ "Hit rate of the cache in b. " }
                <input type="range" min="0" max="100" step="5" data-testid="p13-hit-rate"
                       aria-label="P13 cache hit rate in percent"
                       value={props.lab.p13_hit_percent.to_string()} oninput={on_hit} />
            </label>
        </section>
    }
}

fn p13_rows(plain: &AccessLink, cached: &AccessLink) -> Html {
    let row = |name: &str, id: &str, show: &dyn Fn(&AccessLink) -> String| {
        html! {
            <tr>
                <th scope="row">{ name }</th>
                <td data-testid={format!("p13-{id}-a")}>{ show(plain) }</td>
                <td data-testid={format!("p13-{id}-b")}>{ show(cached) }</td>
            </tr>
        }
    };
    html! {
        <>
            { row("Δ = 900,000 bits / 1.5 Mbps", "delta", &|n| seconds_or_unbounded(n.transmission_s())) }
            { row("β: objects over the link per second", "beta", &|n| format!("{:.2}/s", n.arrivals_per_sec())) }
            { row("βΔ", "intensity", &|n| intensity(n.access_intensity())) }
            { row("access delay Δ/(1−βΔ)", "access", &|n| seconds_or_unbounded(n.access_delay_s())) }
            { row("a miss: access + 2 s Internet", "miss", &|n| seconds_or_unbounded(n.miss_delay_s())) }
            { row("average response time (a hit taken as 0 s)", "total", &|n| seconds_or_unbounded(n.total_delay_s())) }
        </>
    }
}

fn errata_list() -> Html {
    html! {
        <section class="calc" data-testid="errata">
            <h2>{ "Three figures the slides get wrong" }</h2>
            <ul>
                { for slide_errata().iter().map(|e| html! {
                    <li>{ format!("\u{201c}{}\u{201d}: {} = {}. {}.",
                                  e.slides_say, e.working, percent(e.actual), e.why) }</li>
                }) }
            </ul>
        </section>
    }
}

fn mbps(rate: f64) -> String {
    format!("{rate}")
}

/// A utilisation as a plain number and a percentage.
fn intensity(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{} ({})", plain(v), percent(v)),
        None => "—".to_string(),
    }
}

/// Four decimals at most, without trailing zeros: 1, 0.6, 0.974, 0.0015.
fn plain(value: f64) -> String {
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A share as a percentage, with the digits the course's figures need:
/// 97 %, 5.8 %, 0.97 %, 0.15 %.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    match p {
        p if p >= 10.0 => format!("{p:.0} %"),
        p if p >= 1.0 => format!("{p:.1} %"),
        p => format!("{p:.2} %"),
    }
}

fn seconds_or_unbounded(value: Option<f64>) -> String {
    match value {
        Some(s) => format!("{s:.2} s"),
        None => "grows without bound (βΔ ≥ 1)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_the_digits_the_course_needs() {
        assert_eq!(percent(0.974), "97 %");
        assert_eq!(percent(0.0015), "0.15 %");
        assert_eq!(percent(0.00974), "0.97 %");
        assert_eq!(percent(0.058), "5.8 %");
        assert_eq!(intensity(Some(1.0)), "1 (100 %)");
        assert_eq!(intensity(Some(0.6)), "0.6 (60 %)");
    }

    #[test]
    fn a_saturated_link_says_so_instead_of_a_number() {
        assert_eq!(seconds_or_unbounded(None), "grows without bound (βΔ ≥ 1)");
        assert_eq!(seconds_or_unbounded(Some(1.304)), "1.30 s");
    }
}
