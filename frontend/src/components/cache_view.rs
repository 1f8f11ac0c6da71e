//! The web cache beside the HTTP workbench: per request through the
//! proxy, hit, miss or revalidated, the conditional request the proxy sent
//! the origin and what came back; the cache's entries with their age and
//! the freshness left counting down on the page's clock from the relay's
//! figures. The caller fetches the figures ([`crate::hooks::proxy_log`]).

use crate::proxy_view::{LogRow, ProxySnapshot, age_secs, fresh_ms, outcome_key};
use wirelab_shared::http::cache_store::EntryView;
use yew::prelude::*;

/// How often the countdown is redrawn.
const TICK_MS: u32 = 250;

#[derive(Properties, PartialEq)]
pub struct CacheViewProps {
    pub snapshot: ProxySnapshot,
    /// The `Cache-Status` of the last response in the transcript.
    pub last_cache_status: Option<String>,
}

#[function_component(CacheView)]
pub fn cache_view(props: &CacheViewProps) -> Html {
    let now = use_state(crate::now_ms);
    {
        let now = now.setter();
        use_effect_with((), move |_| {
            let tick =
                gloo_timers::callback::Interval::new(TICK_MS, move || now.set(crate::now_ms()));
            move || drop(tick)
        });
    }
    let snapshot = &props.snapshot;
    let on_empty = Callback::from(|_: MouseEvent| {
        yew::platform::spawn_local(async {
            // The next poll shows the result; a failure shows as before.
            let _ = gloo_net::http::Request::delete("/api/proxy/cache")
                .send()
                .await;
        });
    });
    html! {
        <section class="cache-view" data-testid="cache-view">
            <h2>{ "The web cache (proxy)" }</h2>
            <p class="hint">
                { "What the relay's caching proxy did with each request it got, and what it keeps. \
                   Tick \"through the web cache\" above to send the workbench's requests through it." }
            </p>
            if let Some(status) = &props.last_cache_status {
                <p data-testid="last-cache-status">{ "The last response's Cache-Status: " }<code>{ status }</code></p>
            }
            if let Some(e) = &snapshot.error {
                <p class="notice" data-testid="cache-error">{ e }</p>
            }
            <h3>{ "Requests" }</h3>
            if snapshot.log.is_empty() {
                <p class="hint">{ "No request has gone through the proxy yet." }</p>
            } else {
                <table class="cache" data-testid="cache-log">
                    <thead><tr>
                        <th>{ "#" }</th><th>{ "the client asked" }</th><th>{ "cache" }</th>
                        <th>{ "sent to the origin" }</th><th>{ "origin answered" }</th><th>{ "client got" }</th>
                    </tr></thead>
                    <tbody>{ for snapshot.log.iter().rev().map(log_row) }</tbody>
                </table>
            }
            <h3>{ "Entries " }
                <button class="small" data-testid="cache-clear" onclick={on_empty}>{ "empty the cache" }</button>
            </h3>
            if snapshot.cache.is_empty() {
                <p class="hint" data-testid="cache-empty">{ "The cache is empty: the next request is a miss." }</p>
            } else {
                <table class="cache" data-testid="cache-entries">
                    <thead><tr>
                        <th>{ "object" }</th><th>{ "age" }</th><th>{ "fresh for" }</th>
                        <th>{ "lifetime (from)" }</th><th>{ "validators" }</th><th>{ "hits" }</th>
                    </tr></thead>
                    <tbody>{ for snapshot.cache.iter().map(|e| entry_row(e, snapshot.fetched_at_ms, *now)) }</tbody>
                </table>
            }
        </section>
    }
}

fn log_row(row: &LogRow) -> Html {
    let key = outcome_key(&row.outcome).to_string();
    let (sent, answered) = match &row.upstream {
        Some(u) => {
            let line = u.request.lines().next().unwrap_or_default().to_string();
            let conditional = u.conditional.join("\n");
            let answered = match u.status {
                Some(s) => format!("{s} in {} ms", u.ms),
                None => "no answer".into(),
            };
            (
                html! { <>{ line }if !conditional.is_empty() { <br /><code>{ conditional }</code> }</> },
                answered,
            )
        }
        None => (
            html! { <span class="hint">{ "nothing: answered from the cache" }</span> },
            "—".into(),
        ),
    };
    html! {
        <tr data-testid="cache-log-row" data-outcome={key} data-id={row.id.to_string()}>
            <td>{ row.id }</td>
            <td><code>{ row.request.clone() }</code></td>
            <td><strong>{ row.outcome.clone() }</strong><br /><code class="hint">{ row.cache_status.clone() }</code></td>
            <td>{ sent }</td>
            <td>{ answered }</td>
            <td>
                { format!("{}, Age {}, {} ms", row.status, row.age, row.total_ms) }
                if let Some(note) = &row.note { <br /><span class="hint">{ note }</span> }
            </td>
        </tr>
    }
}

fn entry_row(entry: &EntryView, fetched_at_ms: f64, now_ms: f64) -> Html {
    let fresh = fresh_ms(entry, fetched_at_ms, now_ms);
    let left = if fresh > 0 {
        format!("{:.1} s", fresh as f64 / 1000.0)
    } else {
        format!(
            "stale for {:.1} s: the next request revalidates",
            -fresh as f64 / 1000.0
        )
    };
    let validators = [entry.etag.as_ref(), entry.last_modified.as_ref()]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        <tr data-testid="cache-entry" data-url={entry.uri.clone()} data-fresh-ms={fresh.to_string()}>
            <td><code>{ entry.uri.clone() }</code>
                if !entry.vary.is_empty() { <br /><span class="hint">{ entry.vary.join(", ") }</span> }</td>
            <td>{ format!("{} s", age_secs(entry, fetched_at_ms, now_ms)) }</td>
            <td class={classes!(if fresh > 0 { "fresh" } else { "stale" })}>{ left }</td>
            <td>{ format!("{} s ({:?})", entry.lifetime_secs, entry.lifetime_source) }</td>
            <td><code>{ validators }</code></td>
            <td>{ entry.hits }</td>
        </tr>
    }
}
