//! The hidden `/bench` route: on load it times each [`Case`] through the
//! page's own code, [`RUNS`] runs after [`WARM_UP`] (`?runs=N&warmup=M`
//! change them: the browser test takes one run), and shows each
//! stage's median and p95 as `data-testid="bench-row"` rows with
//! `data-case`, `data-stage`, `data-median-ms` and `data-p95-ms`; the
//! section's `data-state` turns `done` at the end. The stages:
//!
//! - `follow`: the transcript cut into messages and each dissected
//!   ([`follow::follow`], framing and dissecting), as on every render;
//! - `dissect`: the dissector alone on the biggest message (HTTP only), so
//!   framing is `follow` minus it;
//! - `render`: the [`Inspector`] of the biggest message mounted into the
//!   DOM (the tree and the hex view), until its bytes pane is there;
//! - `tree`: the same without the bytes, so the hex view is `render`
//!   minus it;
//! - `page`: `follow`, the timeline's arrows and `render` of one run.

use super::{Case, median_and_p95};
use crate::components::inspector::{Inspector, InspectorProps};
use crate::follow;
use crate::now_ms;
use std::rc::Rc;
use wirelab_shared::conversation::Message;
use yew::prelude::*;

/// Runs timed for each case.
pub const RUNS: usize = 20;
/// Runs before them, not timed (the allocator and the JIT warm up).
pub const WARM_UP: usize = 2;
/// The most runs or warm-up runs a query may ask for.
const MAX_RUNS: usize = 200;
/// Turns of the event loop a render may take before it is given up.
const RENDER_TURNS: usize = 2000;

/// A stage of the page's work on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Follow,
    Dissect,
    Render,
    Tree,
    Page,
}

impl Stage {
    const ALL: [Stage; 5] = [
        Stage::Follow,
        Stage::Dissect,
        Stage::Render,
        Stage::Tree,
        Stage::Page,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Follow => "follow",
            Stage::Dissect => "dissect",
            Stage::Render => "render",
            Stage::Tree => "tree",
            Stage::Page => "page",
        }
    }
}

/// One stage's figures for one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub case: Case,
    pub stage: Stage,
    pub median_ms: f64,
    pub p95_ms: f64,
}

#[function_component(BenchPage)]
pub fn bench_page() -> Html {
    let figures = use_state(Vec::<Figure>::new);
    let done = use_state(|| false);
    let (runs, warm_up) = {
        let query = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        (
            query_number(&query, "runs").unwrap_or(RUNS),
            query_number(&query, "warmup").unwrap_or(WARM_UP),
        )
    };
    {
        let figures = figures.setter();
        let done = done.setter();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                let mut all = Vec::new();
                for case in Case::ALL {
                    all.extend(time_case(case, runs, warm_up).await);
                    figures.set(all.clone());
                }
                done.set(true);
            });
        });
    }
    html! {
        <section class="page" data-testid="bench"
                 data-state={if *done { "done" } else { "running" }}>
            <h1>{ "Dissection benchmark" }</h1>
            <p>{ format!("Each stage's median and p95 over {runs} runs, in milliseconds.") }</p>
            <table>
                <tr><th>{ "input" }</th><th>{ "stage" }</th><th>{ "median" }</th><th>{ "p95" }</th></tr>
                { for figures.iter().map(row) }
            </table>
        </section>
    }
}

fn row(figure: &Figure) -> Html {
    let (median, p95) = (
        format!("{:.2}", figure.median_ms),
        format!("{:.2}", figure.p95_ms),
    );
    html! {
        <tr data-testid="bench-row" data-case={figure.case.key()} data-stage={figure.stage.key()}
            data-median-ms={median.clone()} data-p95-ms={p95.clone()}>
            <td>{ figure.case.describe() }</td><td>{ figure.stage.key() }</td>
            <td>{ median }</td><td>{ p95 }</td>
        </tr>
    }
}

/// The number after `name=` in a query string (`?runs=5&warmup=0`),
/// within 1 ([`MAX_RUNS`] at most; 0 allowed for the warm-up).
fn query_number(query: &str, name: &str) -> Option<usize> {
    let value = query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    let n: usize = value.parse().ok()?;
    let least = usize::from(name == "runs");
    Some(n.clamp(least, MAX_RUNS))
}

/// Times every stage of `case`, yielding to the browser between runs.
async fn time_case(case: Case, runs: usize, warm_up: usize) -> Vec<Figure> {
    let session = case.session();
    let mut samples: [Vec<f64>; 5] = Default::default();
    for run in 0..warm_up + runs {
        let started = now_ms();
        let items = follow::follow(&session, case.conversation().as_mut());
        let followed = now_ms();
        let _arrows = follow::timeline(&session, &items, "the server");
        let Some(biggest) = follow::messages(&items)
            .into_iter()
            .max_by_key(|m| m.bytes.len())
        else {
            continue;
        };
        let before_render = now_ms();
        let render = render_inspector(&biggest, true).await;
        let page = (before_render - started) + render.unwrap_or(0.0);
        let tree = render_inspector(&biggest, false).await;
        let dissect = {
            let t = now_ms();
            case.dissect_alone(&biggest.bytes).map(|_| now_ms() - t)
        };
        if run >= warm_up {
            let stages = [Some(followed - started), dissect, render, tree, Some(page)];
            for (kept, value) in samples.iter_mut().zip(stages) {
                kept.extend(value);
            }
        }
        // A turn of the event loop, so the page paints between runs.
        gloo_timers::future::TimeoutFuture::new(0).await;
    }
    Stage::ALL
        .into_iter()
        .zip(samples)
        .filter_map(|(stage, values)| {
            let (median_ms, p95_ms) = median_and_p95(&values)?;
            Some(Figure {
                case,
                stage,
                median_ms,
                p95_ms,
            })
        })
        .collect()
}

/// Mounts the [`Inspector`] of `message` (without its bytes unless
/// `with_bytes`) into a new element, waits until its bytes pane is in the
/// DOM, and removes it; the milliseconds taken, or `None` when it did not
/// render.
async fn render_inspector(message: &Message, with_bytes: bool) -> Option<f64> {
    let document = web_sys::window()?.document()?;
    let root = document.create_element("div").ok()?;
    root.set_attribute("class", "bench-render").ok()?;
    document.body()?.append_child(&root).ok()?;
    let props = InspectorProps {
        bytes: Rc::new(if with_bytes {
            message.bytes.clone()
        } else {
            Vec::new()
        }),
        dissection: Rc::new(message.dissection.clone()),
        source: "received".into(),
    };
    let started = now_ms();
    let app = yew::Renderer::<Inspector>::with_root_and_props(root.clone(), props).render();
    let mut rendered = None;
    for turn in 0..RENDER_TURNS {
        // Yew renders from the microtask queue: one microtask at a time,
        // so the time ends as soon as the render has. Now and then a whole
        // turn of the event loop, in case Yew yielded to the browser.
        if turn % 64 == 63 {
            gloo_timers::future::TimeoutFuture::new(0).await;
        } else {
            let tick = js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL);
            let _ = wasm_bindgen_futures::JsFuture::from(tick).await;
        }
        if matches!(root.query_selector("[data-testid=\"bytes\"]"), Ok(Some(_))) {
            rendered = Some(now_ms() - started);
            break;
        }
    }
    app.destroy();
    root.remove();
    // Yew tears the tree down from the microtask queue too: let it finish
    // here, not in the next stage's time.
    gloo_timers::future::TimeoutFuture::new(0).await;
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_sets_the_runs_within_bounds() {
        assert_eq!(query_number("?runs=3&warmup=0", "runs"), Some(3));
        assert_eq!(query_number("?runs=3&warmup=0", "warmup"), Some(0));
        assert_eq!(query_number("?runs=0", "runs"), Some(1));
        assert_eq!(query_number("?runs=99999", "runs"), Some(MAX_RUNS));
        assert_eq!(query_number("?runs=x", "runs"), None);
        assert_eq!(query_number("", "runs"), None);
    }
}
