//! Problem P14 on the page: the course's host names hashed by their
//! letters onto 3 caches, then 4, how many land on a cache that has never
//! seen them, and consistent hashing doing the same move with a quarter of
//! the keys.

use super::Dispatch;
use super::state::{CachingAction, MAX_CACHES};
use web_sys::HtmlInputElement;
use wirelab_shared::cache_calc::url_hash::{
    P14_HOSTS, Placement, count_moves, letter_values, rehash_by_letters, sample_urls,
};
use yew::prelude::*;

/// Keys the consistent-hashing comparison moves; enough for the shares to
/// show, few enough to hash at once in the page.
const SAMPLE_KEYS: usize = 1000;

/// Ring points per cache: with 100 each, a cache's share of the ring is
/// within a few percent of 1/n.
const POINTS_PER_CACHE: u32 = 100;

#[derive(Properties, PartialEq)]
pub struct HashingProps {
    pub caches: u32,
    pub dispatch: Dispatch,
}

#[function_component(HashingCalc)]
pub fn hashing_calc(props: &HashingProps) -> Html {
    let (before, after) = (props.caches, props.caches + 1);
    let placements = rehash_by_letters(P14_HOSTS, before, after).unwrap_or_default();
    let moved = placements.iter().filter(|p| p.moved()).count();
    let on_caches = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(n) = input.value().parse::<u32>() {
                dispatch.dispatch(CachingAction::Caches(n));
            }
        })
    };
    html! {
        <section class="calc" data-testid="hashing-calc">
            <h2>{ "Problem P14: URLs hashed onto a cluster of caches" }</h2>
            <p>{ "Each browser adds up the letters of the URL's host name (a = 1, … z = 26; dots \
                  and digits ignored) and takes the rest modulo the number of caches: every \
                  browser sends a host to the same cache, so an object is stored once." }</p>
            <label>{ "Caches before one is added: " }
                <input type="number" min="1" max={MAX_CACHES.to_string()} data-testid="caches"
                       value={before.to_string()} onchange={on_caches} />
            </label>
            { placement_table(&placements, before, after) }
            <p data-testid="letters-moved">
                { format!("Going from {before} to {after} caches, {moved} of {} hosts move to a \
                           cache that has never seen them: their next requests are all misses, \
                           and the old copies sit unused.", placements.len()) }
            </p>
            { upenn_story(before, after) }
            { consistent_hashing(before, after) }
        </section>
    }
}

fn placement_table(placements: &[Placement], before: u32, after: u32) -> Html {
    html! {
        <div class="scroll-x"><table class="cache hashing">
            <thead><tr>
                <th>{ "host" }</th><th>{ "letters" }</th><th>{ "sum" }</th>
                <th>{ format!("mod {before}") }</th><th>{ format!("mod {after}") }</th><th>{ "moved" }</th>
            </tr></thead>
            <tbody>
            { for placements.iter().map(|p| html! {
                <tr data-testid="hash-row" data-host={p.host.clone()} data-moved={p.moved().to_string()}>
                    <td>{ &p.host }</td>
                    <td class="letters">{ letters(&p.host) }</td>
                    <td>{ p.sum }</td>
                    <td>{ format!("cache-{}", p.before) }</td>
                    <td>{ format!("cache-{}", p.after) }</td>
                    <td>{ if p.moved() { "moved" } else { "stays" } }</td>
                </tr>
            }) }
            </tbody>
        </table></div>
    }
}

fn letters(host: &str) -> String {
    let values: Vec<String> = letter_values(host).iter().map(u32::to_string).collect();
    values.join("+")
}

/// P14 b and c: three pages of upenn.edu, five more requests each.
fn upenn_story(before: u32, after: u32) -> Html {
    let Some(placed) = rehash_by_letters(&["upenn.edu"], before, after) else {
        return Html::default();
    };
    let p = &placed[0];
    let second_day = if p.moved() {
        format!(
            "On the second day the browsers hash modulo {after}: upenn.edu now goes to \
                 cache-{}, which is empty, so the three pages are fetched from the origin again \
                 while cache-{} still holds them.",
            p.after, p.before
        )
    } else {
        format!(
            "On the second day, modulo {after}, upenn.edu stays on cache-{}: its copies still \
                 serve.",
            p.after
        )
    };
    html! {
        <p data-testid="upenn-story">
            { format!("P14 b: upenn.edu sums to {}, so modulo {before} its three pages go to \
                       cache-{}. The morning's 3 requests are misses fetched from the origin \
                       through cache-{}; the afternoon's 15 are hits there. ",
                      p.sum, p.before, p.before) }
            { second_day }
        </p>
    }
}

fn consistent_hashing(before: u32, after: u32) -> Html {
    let moves = count_moves(&sample_urls(SAMPLE_KEYS), before, after, POINTS_PER_CACHE);
    let share = |n: usize| format!("{:.0} %", n as f64 * 100.0 / moves.keys as f64);
    html! {
        <div data-testid="consistent-hashing">
            <h3>{ "Consistent hashing" }</h3>
            <p>{ format!("Put each cache at {POINTS_PER_CACHE} points on a ring of hash values, \
                          and send a URL to the cache at the first point after the URL's own \
                          hash. A new cache only takes the URLs that now fall just before its \
                          points; nobody else moves.") }</p>
            <dl class="readouts">
                <dt>{ format!("{} URLs, hash modulo {before} then modulo {after}: moved", moves.keys) }</dt>
                <dd data-testid="moved-modulo" data-moved={moves.by_modulo.to_string()}>
                    { format!("{} ({}; expected {before} in {after})", moves.by_modulo, share(moves.by_modulo)) }</dd>
                <dt>{ format!("The same URLs on a ring, {before} caches then {after}: moved") }</dt>
                <dd data-testid="moved-ring" data-moved={moves.by_ring.to_string()}>
                    { format!("{} ({}; expected 1 in {after}, all to the new cache)", moves.by_ring, share(moves.by_ring)) }</dd>
            </dl>
        </div>
    }
}
