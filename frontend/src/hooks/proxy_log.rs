//! The caching proxy's log and cache, fetched every second while the page
//! that uses this hook is open (and the relay runs the proxy), so the
//! page's web cache view and timeline follow each request. The figures
//! are read by [`crate::proxy_view`].

use crate::proxy_view::{LogRow, ProxySnapshot};
use std::rc::Rc;
use wirelab_shared::http::cache_store::EntryView;
use yew::prelude::*;

/// How often the proxy is asked: often enough that a response's row shows
/// before the student looks for it.
const POLL_MS: u32 = 1000;

/// The last snapshot of the proxy; empty while `enabled` is false.
#[hook]
pub fn use_proxy_snapshot(enabled: bool) -> ProxySnapshot {
    let snapshot = use_state(ProxySnapshot::default);
    {
        let snapshot = snapshot.setter();
        use_effect_with(enabled, move |enabled| {
            let interval = enabled.then(|| {
                let poll = move || {
                    let snapshot = snapshot.clone();
                    yew::platform::spawn_local(async move { snapshot.set(fetch().await) });
                };
                poll();
                gloo_timers::callback::Interval::new(POLL_MS, poll)
            });
            move || drop(interval)
        });
    }
    (*snapshot).clone()
}

async fn fetch() -> ProxySnapshot {
    let log = crate::api::get_json::<Vec<LogRow>>("/api/proxy/log").await;
    let cache = crate::api::get_json::<Vec<EntryView>>("/api/proxy/cache").await;
    let fetched_at_ms = crate::now_ms();
    match (log, cache) {
        (Ok(log), Ok(cache)) => ProxySnapshot {
            log: Rc::new(log),
            cache: Rc::new(cache),
            fetched_at_ms,
            error: None,
        },
        (Err(e), _) | (_, Err(e)) => ProxySnapshot {
            fetched_at_ms,
            error: Some(e.message),
            ..ProxySnapshot::default()
        },
    }
}
