//! The DNS workbench's panes below the query builder: the walk by hand
//! (steps, "follow the referral" buttons, the message count, the figure),
//! the resolver's trace (summary, figure, the table of its steps), the
//! resolver's cache with TTLs counting down, and the bits of the flags word.
//! Each renders what it is given; the page owns the state.

use super::figure;
use super::form::Selected;
use super::lab::{DnsLab, TraceState};
use crate::components::timeline::Timeline;
use crate::now_ms;
use crate::plural::plural;
use std::rc::Rc;
use wirelab_shared::dns::cache::CacheView;
use wirelab_shared::dns::header::FLAG_BITS;
use wirelab_shared::dns::resolver::{Trace, TraceKind};
use wirelab_shared::dns::walk::{NextHop, Walk, WalkMessage};
use yew::prelude::*;

/// The iterative resolution: the steps, the buttons to follow the
/// referral, the message count and the figure.
pub fn walk_pane(
    walk: Option<&Walk>,
    selected: Option<Selected>,
    on_select: Callback<usize>,
    on_follow: Callback<NextHop>,
    on_new_walk: Callback<MouseEvent>,
) -> Html {
    let Some(walk) = walk else {
        return html! {
            <div class="pane dns-walk" data-testid="walk">
                <h2>{ "Resolving by hand" }</h2>
                <p class="hint">
                    { "You are the local DNS server. Send the query to the root (dns-root) with RD off; \
                       the root does not know gaia.cs.umass.edu but refers you to the edu servers. Follow \
                       each referral until a server answers. The page counts the messages as the course's \
                       figure does: the host's query to you is message 1, your answer to it the last." }
                </p>
                <p class="message-count" data-testid="message-count" data-count="0">{ "Messages: none yet" }</p>
            </div>
        };
    };
    let count = walk.message_count();
    let finished = walk.is_finished();
    let queries = walk.steps.len();
    let replies = walk.steps.iter().filter(|s| s.reply.is_some()).count();
    let count_text = if finished {
        format!(
            "Resolved in {}: 1 the host's query to you, {} and {} between you and the servers, and {count} your answer to the host",
            plural(count, "message"),
            plural(queries, "query"),
            plural(replies, "reply")
        )
    } else {
        format!(
            "Messages so far: {count} (1 the host's query to you, {}, {}); the answer to the host will be the next-but-last",
            plural(queries, "query"),
            plural(replies, "reply")
        )
    };
    let hops = walk.next_hops();
    let (lanes, arrows) = figure::walk_figure(walk);
    let selected_index = match selected {
        Some(Selected::Walk(i)) => Some(i),
        _ => None,
    };
    let numbered = walk.numbered();
    let number_of = |what: WalkMessage| numbered.iter().find(|n| n.what == what).map(|n| n.n);
    html! {
        <div class="pane dns-walk" data-testid="walk" data-finished={finished.to_string()}>
            <h2>{ format!("Resolving {} {} by hand", walk.question.name, walk.question.qtype) }
                <button class="small" data-testid="new-walk" onclick={on_new_walk}>{ "start a new resolution" }</button>
            </h2>
            <p class="message-count" data-testid="message-count" data-count={count.to_string()}>{ count_text }</p>
            <ol class="walk-steps">
                { for walk.steps.iter().enumerate().map(|(i, s)| {
                    let q = number_of(WalkMessage::Query(i)).unwrap_or(0);
                    let r = number_of(WalkMessage::Reply(i));
                    let numbers = match r { Some(r) => format!("{q}–{r}"), None => format!("{q}") };
                    let what = match (&s.outcome, &s.failed) {
                        (Some(k), _) => k.describe(),
                        (None, Some(why)) => format!("no reply: {why}"),
                        (None, None) => "waiting for the reply…".into(),
                    };
                    html! {
                        <li data-testid="walk-step" data-server={s.server.clone()} data-party={s.party.label()}>
                            <span class="numbers">{ numbers }</span>
                            <span class="who">{ format!("{} ({}, {})", s.host.trim_end_matches('.'), s.server, s.party.label()) }</span>
                            <span class="what">{ what }</span>
                        </li>
                    }
                }) }
            </ol>
            if !hops.is_empty() {
                <div class="follow-buttons">
                    { for hops.into_iter().map(|hop| {
                        let enabled = hop.server.is_some();
                        let label = format!(
                            "Follow: ask {} ({}){}",
                            hop.name.trim_end_matches('.'),
                            hop.server.clone().unwrap_or_else(|| "not in the lab".into()),
                            if hop.tcp { " over TCP" } else { "" }
                        );
                        let why = hop.why.clone();
                        let server = hop.server.clone().unwrap_or_default();
                        let on_follow = on_follow.clone();
                        html! {
                            <div class="follow">
                                <button data-testid="follow" data-server={server} disabled={!enabled}
                                        onclick={Callback::from(move |_| on_follow.emit(hop.clone()))}>{ label }</button>
                                <span class="hint">{ why }</span>
                            </div>
                        }
                    }) }
                    <p class="hint">{ "Following prepares the next query (RD off, a new ID) for that server; look at it, then Send." }</p>
                </div>
            }
            <h3>{ "The course's figure: your resolution" }</h3>
            <p class="hint">{ "The times on the left add up the round trips only, not the time you took between steps; click an arrow to see its message." }</p>
            <Timeline lanes={lanes} arrows={arrows} selected={selected_index} on_select={on_select} />
        </div>
    }
}

/// The recursive mode: the resolver's trace as the figure, and its steps.
pub fn recursive_pane(
    lab: &DnsLab,
    trace: Option<&Trace>,
    selected: Option<Selected>,
    on_select: Callback<usize>,
    offline: bool,
) -> Html {
    let state = lab.recursive.as_ref().map(|r| &r.trace);
    let body = match (state, trace) {
        (_, Some(t)) => {
            let cache_hits = t
                .events
                .iter()
                .filter(|e| e.kind == TraceKind::Cache)
                .count();
            let summary = if t.upstream_queries == 0 {
                format!(
                    "{} — {} in {} ms, answered from the cache: no query left the local server",
                    t.question, t.rcode, t.elapsed_ms
                )
            } else {
                format!(
                    "{} — {} in {} ms: {} to other servers{}",
                    t.question,
                    t.rcode,
                    t.elapsed_ms,
                    plural(t.upstream_queries, "query"),
                    if cache_hits > 0 {
                        format!(", {} taken from the cache", plural(cache_hits, "step"))
                    } else {
                        String::new()
                    }
                )
            };
            let (lanes, arrows) = figure::trace_figure(t);
            let selected_index = match selected {
                Some(Selected::Trace(i)) => Some(i),
                _ => None,
            };
            let numbered = t.events.iter().filter(|e| e.n.is_some()).count();
            html! {
                <>
                    <p class="trace-summary" data-testid="trace-summary" data-upstream={t.upstream_queries.to_string()}
                       data-messages={numbered.to_string()} data-cache-hits={cache_hits.to_string()}>{ summary }</p>
                    if !t.answer.is_empty() {
                        <p class="hint">{ format!("Answer: {}", t.answer.join(", ")) }</p>
                    }
                    <Timeline lanes={lanes} arrows={arrows} selected={selected_index} on_select={on_select.clone()} />
                    <table class="trace-events" data-testid="trace-events">
                        <thead><tr><th>{ "#" }</th><th>{ "at" }</th><th>{ "what" }</th><th>{ "from → to" }</th><th>{ "zone" }</th><th>{ "message" }</th><th>{ "RTT" }</th></tr></thead>
                        <tbody>
                        { for t.events.iter().enumerate().map(|(i, e)| {
                            let kind = format!("{:?}", e.kind).to_lowercase();
                            let onclick = (!e.hex.is_empty()).then(|| {
                                let on_select = on_select.clone();
                                Callback::from(move |_: MouseEvent| on_select.emit(i))
                            });
                            let is_selected = selected_index == Some(i);
                            html! {
                                <tr data-testid="trace-event" data-kind={trace_kind_key(e.kind)} data-n={e.n.map(|n| n.to_string()).unwrap_or_default()}
                                    data-rtt-ms={e.rtt_ms.map(|r| r.to_string()).unwrap_or_default()}
                                    class={classes!(kind, is_selected.then_some("selected"), onclick.is_some().then_some("clickable"))} onclick={onclick}>
                                    <td>{ e.n.map(|n| n.to_string()).unwrap_or_default() }</td>
                                    <td>{ format!("{} ms", e.at_ms) }</td>
                                    <td>{ trace_kind_key(e.kind).replace('_', " ") }</td>
                                    <td>{ format!("{} → {}", e.from, e.to) }</td>
                                    <td>{ e.zone.clone().unwrap_or_default() }</td>
                                    <td class="summary">{ &e.summary }</td>
                                    <td>{ e.rtt_ms.map(|r| format!("{r} ms")).unwrap_or_default() }</td>
                                </tr>
                            }
                        }) }
                        </tbody>
                    </table>
                </>
            }
        }
        (Some(TraceState::Loading), _) => {
            html! { <p class="hint" data-testid="trace-loading">{ "Waiting for the reply and the resolver's trace…" }</p> }
        }
        (Some(TraceState::Missing(why)), _) => {
            html! { <p class="hint" data-testid="trace-missing">{ format!("No trace: {why}") }</p> }
        }
        _ => html! {
            <p class="hint">
                { if offline {
                    "The local resolver runs on the relay only."
                } else {
                    "Send a query to dns (the local DNS server dns.poly.edu) with RD on: it resolves the name from the \
                     root for you, and the page draws what it asked whom, numbered as in the course's figure. Ask \
                     again: the second answer comes from its cache."
                } }
            </p>
        },
    };
    html! {
        <div class="pane dns-recursive" data-testid="recursive">
            <h2>{ "The local DNS server resolves it for you (recursive)" }</h2>
            { body }
        </div>
    }
}

fn trace_kind_key(kind: TraceKind) -> &'static str {
    match kind {
        TraceKind::ClientQuery => "client_query",
        TraceKind::Query => "query",
        TraceKind::Reply => "reply",
        TraceKind::Timeout => "timeout",
        TraceKind::Cache => "cache",
        TraceKind::ClientReply => "client_reply",
        TraceKind::Note => "note",
    }
}

#[derive(Properties, PartialEq)]
pub struct FlagBitsProps {
    pub flags: Option<u16>,
    pub on_toggle: Callback<u8>,
}

/// The 16 bits of the flags word, grouped by field as in RFC 1035's
/// drawing; clicking a bit flips it in the bytes.
#[function_component(FlagBits)]
pub fn flag_bits(props: &FlagBitsProps) -> Html {
    let Some(flags) = props.flags else {
        return html! { <p class="hint">{ "The message is too short to have a flags word." }</p> };
    };
    html! {
        <div class="flag-bits" data-testid="flag-bits" data-flags={format!("{flags:04x}")}>
            <span class="flags-title">{ format!("Flags word 0x{flags:04x}:") }</span>
            { for FLAG_BITS.iter().map(|field| {
                html! {
                    <span class="flag-field" title={format!("{} ({}): {}", field.name, field.positions(), field.help)}>
                        <span class="flag-name">{ field.short }</span>
                        <span class="flag-cells">
                            { for (field.first_bit..field.first_bit + field.width).map(|bit| {
                                let on = flags & (0x8000 >> bit) != 0;
                                let on_toggle = props.on_toggle.clone();
                                html! {
                                    <button class={classes!("bit", on.then_some("on"))} data-testid="flag-bit"
                                            data-bit={bit.to_string()} data-field={field.short} data-value={(on as u8).to_string()}
                                            onclick={Callback::from(move |_| on_toggle.emit(bit))}>
                                        { if on { "1" } else { "0" } }
                                    </button>
                                }
                            }) }
                        </span>
                    </span>
                }
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CacheTableProps {
    pub entries: Rc<Vec<CacheView>>,
    /// Page clock of the fetch.
    pub fetched_at: f64,
}

/// The cache, each entry's TTL counting down by the second from the
/// moment it was fetched.
#[function_component(CacheTable)]
pub fn cache_table(props: &CacheTableProps) -> Html {
    let now = use_state(now_ms);
    {
        let now = now.clone();
        use_effect_with((), move |_| {
            let interval = gloo_timers::callback::Interval::new(1000, move || now.set(now_ms()));
            move || drop(interval)
        });
    }
    if props.entries.is_empty() {
        return html! { <p class="hint" data-testid="cache-empty">{ "The cache is empty: the next recursive query starts from the root." }</p> };
    }
    let elapsed = ((*now - props.fetched_at) / 1000.0).max(0.0) as u64;
    html! {
        <table class="cache" data-testid="cache">
            <thead><tr><th>{ "name" }</th><th>{ "type" }</th><th>{ "what" }</th><th>{ "TTL left" }</th><th>{ "from" }</th></tr></thead>
            <tbody>
            { for props.entries.iter().map(|e| {
                let left = e.ttl_left.saturating_sub(elapsed);
                html! {
                    <tr data-testid="cache-entry" data-name={e.name.clone()} data-type={e.rtype.clone()} data-kind={e.kind.clone()}
                        class={classes!((left == 0).then_some("expired"))}>
                        <td>{ &e.name }</td>
                        <td>{ &e.rtype }</td>
                        <td class="records">{ if e.records.is_empty() { e.kind.clone() } else { e.records.join("; ") } }</td>
                        <td class="ttl" data-testid="cache-ttl" data-ttl={left.to_string()}>
                            { if left == 0 { "expired".to_string() } else { format!("{left} s of {}", e.ttl_stored) } }
                        </td>
                        <td>{ format!("{} ({:?})", e.source, e.rank).to_lowercase() }</td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_well() {
        assert_eq!(plural(1, "query"), "1 query");
        assert_eq!(plural(3, "query"), "3 queries");
        assert_eq!(trace_kind_key(TraceKind::ClientReply), "client_reply");
    }
}
