//! The DNS workbench's view, in small components over the one
//! [`DnsLab`] reducer: the mode tabs, the query form, the send bar with
//! the last query's state and outcome, the inspector, the resolver's cache
//! and the transcript. Each reads the state it is given and dispatches
//! [`LabAction`]s; the page (in `mod.rs`) owns the links to the servers.

use super::builder::Draft;
use super::form::{FormAction, Mode, Selected, query_transport};
use super::lab::{self, DnsLab, LabAction, Status, TraceState};
use super::panes::{CacheTable, FlagBits};
use crate::components::inspector::Inspector;
use crate::components::messages::MessageList;
use crate::follow;
use crate::plural::plural;
use crate::session::Direction;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use wirelab_shared::conversation::Message;
use wirelab_shared::dissect::Dissection;
use wirelab_shared::dns::dissect::{dissect, dissect_reply, dissect_tcp};
use wirelab_shared::dns::header::FLAG_BITS;
use wirelab_shared::dns::hierarchy;
use wirelab_shared::dns::message::Message as DnsMessage;
use wirelab_shared::dns::query::QuerySpec;
use wirelab_shared::dns::reply::{ReplyKind, classify};
use wirelab_shared::dns::resolver::Trace;
use wirelab_shared::dns::walk::{Walk, WalkMessage};
use wirelab_shared::dns::{RData, RecordType};
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use wirelab_shared::text::parse_hex;
use yew::prelude::*;

/// The types the form offers.
const TYPES: &[RecordType] = &[
    RecordType::A,
    RecordType::AAAA,
    RecordType::NS,
    RecordType::CNAME,
    RecordType::SOA,
    RecordType::MX,
    RecordType::TXT,
    RecordType::PTR,
    RecordType::SRV,
    RecordType::CAA,
    RecordType::ANY,
];

/// A callback that dispatches a form action built from its input.
fn form_callback<E: 'static>(
    lab: &UseReducerHandle<DnsLab>,
    make: impl Fn(E) -> Option<FormAction> + 'static,
) -> Callback<E> {
    let dispatcher = lab.dispatcher();
    Callback::from(move |e: E| {
        if let Some(action) = make(e) {
            dispatcher.dispatch(LabAction::Form(action));
        }
    })
}

/// A checkbox of the form: `set` writes its state into the spec.
fn spec_checkbox(lab: &UseReducerHandle<DnsLab>, set: fn(&mut QuerySpec, bool)) -> Callback<Event> {
    let spec = lab.draft.spec.clone();
    form_callback(lab, move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        let mut spec = spec.clone();
        set(&mut spec, input.checked());
        Some(FormAction::Spec(spec))
    })
}

fn input_value(e: InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn select_value(e: Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

#[derive(Properties, PartialEq)]
pub struct LabProps {
    pub lab: UseReducerHandle<DnsLab>,
}

#[derive(Properties, PartialEq)]
pub struct ModeTabsProps {
    pub lab: UseReducerHandle<DnsLab>,
    pub has_resolver: bool,
}

/// By hand or recursive.
#[function_component(ModeTabs)]
pub fn mode_tabs(props: &ModeTabsProps) -> Html {
    let mode = props.lab.mode;
    let has_resolver = props.has_resolver;
    let tab = |m: Mode| {
        form_callback(&props.lab, move |_: MouseEvent| {
            Some(FormAction::Mode {
                mode: m,
                has_resolver,
            })
        })
    };
    html! {
        <div class="mode-tabs" role="group" aria-label="How the name is resolved">
            <button class={classes!("tab", (mode == Mode::Iterative).then_some("active"))}
                    data-testid="mode-iterative" data-active={(mode == Mode::Iterative).to_string()}
                    aria-pressed={(mode == Mode::Iterative).to_string()}
                    onclick={tab(Mode::Iterative)}>
                { "By hand: iterative, from the root" }
            </button>
            <button class={classes!("tab", (mode == Mode::Recursive).then_some("active"))}
                    data-testid="mode-recursive" data-active={(mode == Mode::Recursive).to_string()}
                    aria-pressed={(mode == Mode::Recursive).to_string()}
                    disabled={!has_resolver}
                    title={if has_resolver { "" } else { "the local resolver runs on the relay only" }}
                    onclick={tab(Mode::Recursive)}>
                { "Recursive: through the local DNS server" }
            </button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct QueryFormProps {
    pub lab: UseReducerHandle<DnsLab>,
    /// The catalog's DNS servers, to read the one-liner's `@server`.
    pub known: Rc<Vec<String>>,
    /// Enter in the one-liner: send now.
    pub on_send: Callback<()>,
}

/// The one-liner, the name, type and ID, the flags and the hex editor.
#[function_component(QueryForm)]
pub fn query_form(props: &QueryFormProps) -> Html {
    let lab = &props.lab;
    let draft = &lab.draft;
    let on_one_liner = {
        let known = props.known.clone();
        form_callback(lab, move |e: InputEvent| {
            Some(FormAction::OneLiner {
                text: input_value(e),
                known: known.to_vec(),
            })
        })
    };
    // Enter in the one-liner sends, as in a terminal.
    let on_one_liner_key = {
        let on_send = props.on_send.clone();
        let typed_ok = draft.one_liner_error.is_none();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && typed_ok {
                e.prevent_default();
                on_send.emit(());
            }
        })
    };
    let on_name = form_callback(lab, |e: InputEvent| Some(FormAction::Name(input_value(e))));
    let on_id = form_callback(lab, |e: InputEvent| Some(FormAction::Id(input_value(e))));
    let on_type = {
        let spec = draft.spec.clone();
        form_callback(lab, move |e: Event| {
            let mut spec = spec.clone();
            spec.qtype = RecordType::from_text(&select_value(e))?;
            Some(FormAction::Spec(spec))
        })
    };
    let on_new_id = {
        let spec = draft.spec.clone();
        form_callback(lab, move |_: MouseEvent| {
            let mut spec = spec.clone();
            spec.id = super::random_id();
            Some(FormAction::Spec(spec))
        })
    };
    let on_hex = form_callback(lab, |e: InputEvent| {
        let area: HtmlTextAreaElement = e.target_unchecked_into();
        Some(FormAction::Hex(area.value()))
    });
    let on_bit = form_callback(lab, |bit: u8| Some(FormAction::FlagBit(bit)));
    html! {
        <>
            <label class="one-liner">{ "dig-like one-liner " }
                <input class="editor" data-testid="one-liner" spellcheck="false"
                       value={draft.one_liner.clone()} oninput={on_one_liner} onkeydown={on_one_liner_key}
                       placeholder="gaia.cs.umass.edu A +norecurse @dns-root" />
            </label>
            if let Some(e) = &draft.one_liner_error {
                <p class="field-error" data-testid="one-liner-error">
                    <code>{ one_liner_caret(&draft.one_liner, e.span.start, e.span.end) }</code>
                    { format!(" {}", e.message) }
                </p>
            }
            if let Some(note) = &lab.server_note { <p class="field-error" data-testid="server-note">{ note }</p> }
            <div class="toolbar">
                <label>{ "Name " }
                    <input class="editor name" data-testid="qname" spellcheck="false"
                           value={draft.name_text.clone()} oninput={on_name} />
                </label>
                <label>{ "Type " }
                    <select data-testid="qtype" onchange={on_type}>
                        { for TYPES.iter().map(|t| html! {
                            <option value={t.to_string()} selected={draft.spec.qtype == *t}>{ t.to_string() }</option>
                        }) }
                        if !TYPES.contains(&draft.spec.qtype) {
                            <option value={draft.spec.qtype.to_string()} selected=true>{ draft.spec.qtype.to_string() }</option>
                        }
                    </select>
                </label>
                <label>{ "ID " }
                    <input class="id" type="number" min="0" max="65535" data-testid="qid"
                           value={draft.id_text.clone()} oninput={on_id} />
                </label>
                <button class="small" data-testid="new-id" onclick={on_new_id}
                        title="A random ID, as a resolver must pick (RFC 5452)">{ "random" }</button>
            </div>
            if let Some(e) = &draft.name_error { <p class="field-error" data-testid="name-error">{ format!("name: {e}") }</p> }
            <FlagsForm lab={lab.clone()} />
            <FlagBits flags={draft.flags()} on_toggle={on_bit} />
            <label class="hex-label">{ "The message in hex (edit it: the form follows) " }
                <textarea data-testid="hex-editor" class="editor hex-editor" rows="5" spellcheck="false"
                          value={draft.hex_text.clone()} oninput={on_hex} />
            </label>
            if let Some(e) = &draft.hex_error { <p class="field-error" data-testid="hex-error">{ e }</p> }
            if let Some(note) = &draft.form_note { <p class="hint" data-testid="form-note">{ note }</p> }
        </>
    }
}

/// The header flags and EDNS, as checkboxes.
#[function_component(FlagsForm)]
fn flags_form(props: &LabProps) -> Html {
    let lab = &props.lab;
    let spec = &lab.draft.spec;
    let on_rd = spec_checkbox(lab, |s, on| s.recursion_desired = on);
    let on_cd = spec_checkbox(lab, |s, on| s.checking_disabled = on);
    let on_ad = spec_checkbox(lab, |s, on| s.authentic_data = on);
    let on_edns = spec_checkbox(lab, |s, on| {
        s.edns = on.then_some(s.edns.unwrap_or(1232));
        if !on {
            s.dnssec_ok = false;
        }
    });
    let on_do = spec_checkbox(lab, |s, on| {
        s.dnssec_ok = on;
        if on && s.edns.is_none() {
            s.edns = Some(1232);
        }
    });
    let on_bufsize = {
        let spec = spec.clone();
        form_callback(lab, move |e: InputEvent| {
            let mut spec = spec.clone();
            spec.edns = Some(input_value(e).trim().parse::<u16>().ok()?);
            Some(FormAction::Spec(spec))
        })
    };
    html! {
        <div class="toolbar flags-form">
            <label title={FLAG_BITS[4].help}>
                <input type="checkbox" data-testid="flag-rd" checked={spec.recursion_desired} onchange={on_rd} />
                { " RD recursion desired" }
            </label>
            <label title={FLAG_BITS[8].help}>
                <input type="checkbox" data-testid="flag-cd" checked={spec.checking_disabled} onchange={on_cd} />{ " CD" }
            </label>
            <label title={FLAG_BITS[7].help}>
                <input type="checkbox" data-testid="flag-ad" checked={spec.authentic_data} onchange={on_ad} />{ " AD" }
            </label>
            <label title="EDNS(0): an OPT record announcing a larger UDP size (RFC 6891)">
                <input type="checkbox" data-testid="flag-edns" checked={spec.edns.is_some()} onchange={on_edns} />{ " EDNS, UDP size " }
            </label>
            <input class="id" type="number" min="512" max="65535" data-testid="bufsize"
                   aria-label="EDNS UDP size, in bytes"
                   disabled={spec.edns.is_none()}
                   value={spec.edns.unwrap_or(1232).to_string()} oninput={on_bufsize} />
            <label title="DNSSEC OK: send the signatures too (RFC 3225)">
                <input type="checkbox" data-testid="flag-do" checked={spec.dnssec_ok} onchange={on_do} />{ " DO" }
            </label>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SendBarProps {
    pub lab: UseReducerHandle<DnsLab>,
    pub targets: Rc<Vec<TargetInfo>>,
    pub known: Rc<Vec<String>>,
    pub on_send: Callback<()>,
}

/// Where the query goes, Send, the last query's state and what its reply
/// means.
#[function_component(SendBar)]
pub fn send_bar(props: &SendBarProps) -> Html {
    let lab = &props.lab;
    let targets = &props.targets;
    let chosen = chosen_target(lab, targets);
    let on_server = form_callback(lab, |e: Event| Some(FormAction::Server(select_value(e))));
    let on_transport = form_callback(lab, |e: Event| {
        let t = if select_value(e) == "tcp" {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        Some(FormAction::Transport(t))
    });
    let on_send = {
        let on_send = props.on_send.clone();
        Callback::from(move |_: MouseEvent| on_send.emit(()))
    };
    let status = status_line(lab.last(), targets);
    let outcome = lab.outcome().and_then(outcome_of);
    let busy = lab.active().is_some();
    html! {
        <>
            <div class="toolbar">
                <label>{ "Server " }
                    <select data-testid="target-select" onchange={on_server}>
                        { for props.known.iter().map(|s| html! {
                            <option value={s.clone()} selected={*s == lab.server}>{ server_label(s, targets) }</option>
                        }) }
                    </select>
                </label>
                <label>{ "over " }
                    <select data-testid="transport" onchange={on_transport}>
                        <option value="udp" selected={lab.transport == Transport::Udp}>{ "UDP" }</option>
                        <option value="tcp" selected={lab.transport == Transport::Tcp}>{ "TCP (length prefix)" }</option>
                    </select>
                </label>
                <button data-testid="send" onclick={on_send}
                        disabled={chosen.is_none() || busy || lab.draft.bytes.is_empty()}>{ "Send" }</button>
                <span class="hint">{ send_hint(&lab.draft, lab.transport, chosen) }</span>
            </div>
            <p class={classes!("conn-state", status.0)} data-testid="conn-state" data-state={status.0}>{ status.1 }</p>
            if let Some((kind, text, soa)) = &outcome {
                <div class={classes!("dns-outcome", *kind)} data-testid="outcome" data-kind={*kind}>
                    <span>{ text }</span>
                    if let Some(soa) = soa { <span class="soa" data-testid="outcome-soa">{ soa }</span> }
                </div>
            }
        </>
    }
}

/// The catalog entry of the chosen server over the chosen transport.
pub fn chosen_target<'a>(lab: &DnsLab, targets: &'a [TargetInfo]) -> Option<&'a TargetInfo> {
    let name = super::target_name(&lab.server, lab.transport);
    targets.iter().find(|t| t.name == name)
}

/// The inspector: the draft, or the message selected anywhere.
#[function_component(InspectorPane)]
pub fn inspector_pane(props: &LabProps) -> Html {
    let lab = &props.lab;
    let (items, _) = lab.transcript();
    let messages = follow::messages(&items);
    let (bytes, dissection, source) = shown(lab, &messages);
    let on_show_draft = form_callback(lab, |_: MouseEvent| Some(FormAction::Select(None)));
    html! {
        <div class="pane">
            <h2>
                { match source { "draft" => "Your query, as it will be sent", "host" => "A message between the host and its local server", "trace" => "A message of the resolver's trace", "sent" => "A query you sent", _ => "A reply" } }
                if lab.selected.is_some() {
                    <button class="small" data-testid="show-draft" onclick={on_show_draft}>{ "back to the draft" }</button>
                }
            </h2>
            <Inspector bytes={bytes} dissection={dissection} source={source} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CachePaneProps {
    pub lab: UseReducerHandle<DnsLab>,
    pub offline: bool,
    pub on_refresh: Callback<()>,
    pub on_clear: Callback<()>,
}

/// The resolver's cache, with its TTLs counting down.
#[function_component(CachePane)]
pub fn cache_pane(props: &CachePaneProps) -> Html {
    let cache = &props.lab.cache;
    let click = |cb: &Callback<()>| {
        let cb = cb.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    html! {
        <div class="pane dns-cache">
            <h2>{ "The local DNS server's cache " }
                <button class="small" data-testid="cache-refresh" onclick={click(&props.on_refresh)} disabled={props.offline}>{ "refresh" }</button>
                <button class="small" data-testid="cache-clear" onclick={click(&props.on_clear)} disabled={props.offline}>{ "empty it" }</button>
            </h2>
            if let Some(e) = &cache.error { <p class="field-error">{ e }</p> }
            <CacheTable entries={cache.entries.clone()} fetched_at={cache.fetched_at} />
        </div>
    }
}

/// Every query and reply on the wire.
#[function_component(TranscriptPane)]
pub fn transcript_pane(props: &LabProps) -> Html {
    let lab = &props.lab;
    let (items, refs) = lab.transcript();
    let on_clear = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(LabAction::Clear))
    };
    let on_select = form_callback(lab, |i: usize| {
        Some(FormAction::Select(Some(Selected::Message(i))))
    });
    let selected = match lab.selected {
        Some(Selected::Message(i)) => Some(i),
        _ => None,
    };
    html! {
        <div class="pane">
            <h2>{ "Transcript: every query and reply on the wire " }
                <button class="small" data-testid="clear" onclick={on_clear}>{ "clear" }</button>
            </h2>
            <MessageList items={Rc::new(items)} selected={selected} on_select={on_select} hex=true />
            { for (refs.is_empty()).then(|| html! { <p class="hint">{ "Nothing sent yet." }</p> }) }
        </div>
    }
}

/// A callback selecting what `make` builds from an index (a walk or trace
/// arrow).
pub fn select_with(lab: &UseReducerHandle<DnsLab>, make: fn(usize) -> Selected) -> Callback<usize> {
    form_callback(lab, move |i: usize| Some(FormAction::Select(Some(make(i)))))
}

/// The trace of the last recursive query, once loaded.
pub fn loaded_trace(lab: &DnsLab) -> Option<Rc<Trace>> {
    match lab.recursive.as_ref().map(|r| &r.trace) {
        Some(TraceState::Loaded(t)) => Some(t.clone()),
        _ => None,
    }
}

/// `(data-state, sentence)` for the last query.
fn status_line(last: Option<&lab::Exchange>, targets: &[TargetInfo]) -> (&'static str, String) {
    let Some(e) = last else {
        return ("idle", "nothing sent yet".into());
    };
    let address = targets
        .iter()
        .find(|t| t.name == e.target)
        .map(|t| format!("{}:{}", t.host, t.port))
        .unwrap_or_default();
    match &e.status {
        Status::Connecting => (
            "connecting",
            format!(
                "opening a {} flow to {} ({address})…",
                e.transport, e.target
            ),
        ),
        Status::Waiting => (
            "open",
            format!(
                "query sent to {} ({address}) over {}; waiting for the reply…",
                e.target, e.transport
            ),
        ),
        Status::Answered => (
            "closed",
            format!(
                "{} answered in {:.1} ms over {}{}",
                e.target,
                e.rtt_ms().unwrap_or(0.0),
                e.transport,
                e.local
                    .as_ref()
                    .map(|l| format!(", to {l}"))
                    .unwrap_or_default()
            ),
        ),
        Status::Failed(why) => ("failed", format!("{}: {why}", e.target)),
    }
}

/// `(kind, sentence, SOA)` of the last reply: what it means.
fn outcome_of(e: &lab::Exchange) -> Option<(&'static str, String, Option<String>)> {
    let reply = DnsMessage::parse(e.reply.as_ref()?).ok()?;
    let question = DnsMessage::parse(&e.query)
        .ok()?
        .questions
        .into_iter()
        .next()?;
    let kind = classify(&question, &reply);
    let key = match &kind {
        ReplyKind::Answer { .. } => "answer",
        ReplyKind::Alias { .. } => "alias",
        ReplyKind::Referral { .. } => "referral",
        ReplyKind::NxDomain { .. } => "nxdomain",
        ReplyKind::NoData { .. } => "nodata",
        ReplyKind::Truncated => "truncated",
        ReplyKind::Error { .. } => "error",
    };
    let soa = match &kind {
        ReplyKind::NxDomain { soa: Some(soa), .. } | ReplyKind::NoData { soa: Some(soa), .. } => {
            let minimum = match &soa.data {
                RData::Soa { minimum, .. } => *minimum,
                _ => 0,
            };
            Some(format!(
                "SOA of {}: {} — a resolver remembers this answer for {} s (the smaller of the SOA's TTL and its minimum, RFC 2308 §5)",
                soa.name,
                soa.to_text(),
                soa.ttl.min(minimum)
            ))
        }
        _ => None,
    };
    let aa = if reply.header.aa {
        " (authoritative)"
    } else {
        ""
    };
    Some((key, format!("{}{aa}", kind.describe()), soa))
}

/// The one-liner with a caret line under the part that is wrong.
fn one_liner_caret(text: &str, start: usize, end: usize) -> String {
    let width = text[..start.min(text.len())].chars().count();
    let len = text
        .get(start.min(text.len())..end.min(text.len()))
        .map_or(1, |s| s.chars().count().max(1));
    format!("{text}\n{}{}", " ".repeat(width), "^".repeat(len))
}

pub fn server_label(base: &str, targets: &[TargetInfo]) -> String {
    let address = targets
        .iter()
        .find(|t| t.name == base)
        .map(|t| format!(" {}:{}", t.host, t.port))
        .unwrap_or_default();
    match hierarchy::server(base) {
        Some(s) => {
            let role = match s.role {
                hierarchy::Role::Resolver => "local DNS server",
                hierarchy::Role::Root => "root",
                hierarchy::Role::Tld => "TLD",
                hierarchy::Role::Authoritative => "authoritative",
            };
            format!("{base} — {role} {}{address}", s.host.trim_end_matches('.'))
        }
        None => format!("{base}{address}"),
    }
}

fn send_hint(draft: &Draft, transport: Transport, target: Option<&TargetInfo>) -> String {
    let len = draft.bytes.len();
    match (transport, target) {
        (_, None) => "this server has no entry for that transport in the catalog".into(),
        (Transport::Udp, Some(t)) => {
            let over = if len > 512 {
                " (over 512: needs EDNS)"
            } else {
                ""
            };
            format!(
                "{}, one UDP datagram to {}:{}{over}",
                plural(len, "byte"),
                t.host,
                t.port
            )
        }
        (Transport::Tcp, Some(t)) => format!(
            "{} on a TCP connection to {}:{}: the 2-byte length {len}, then the message",
            plural(len + 2, "byte"),
            t.host,
            t.port
        ),
    }
}

/// What the inspector shows: the bytes, their dissection, and where they
/// come from (`draft`, `sent`, `received`, `host`, `trace`).
type Shown = (Rc<Vec<u8>>, Rc<Dissection>, &'static str);

/// The bytes, dissection and source the inspector shows.
fn shown(lab: &DnsLab, messages: &[Rc<Message>]) -> Shown {
    let pick = |bytes: Vec<u8>, d: Dissection, source| Some((Rc::new(bytes), Rc::new(d), source));
    let chosen = match lab.selected {
        Some(Selected::Message(i)) => messages.get(i).and_then(|m| {
            let source = Direction::of(m.sender).as_str();
            pick(m.bytes.clone(), m.dissection.clone(), source)
        }),
        Some(Selected::Walk(i)) => lab.walk.as_ref().and_then(|w| walk_message(w, i)),
        Some(Selected::Trace(i)) => loaded_trace(lab).and_then(|t| {
            let bytes = parse_hex(&t.events.get(i)?.hex)?;
            pick(bytes.clone(), dissect(&bytes), "trace")
        }),
        None => None,
    };
    chosen.unwrap_or_else(|| {
        let wire = lab.draft.wire(query_transport(lab.transport));
        let d = match lab.transport {
            Transport::Udp => dissect(&wire),
            Transport::Tcp => dissect_tcp(&wire),
        };
        (Rc::new(wire), Rc::new(d), "draft")
    })
}

/// Message `i` of the walk's figure, dissected (a reply against its query).
fn walk_message(w: &Walk, i: usize) -> Option<Shown> {
    let (bytes, d, source) = match w.numbered().get(i)?.what {
        WalkMessage::HostQuery => {
            let q = w.host_query();
            let d = dissect(&q);
            (q, d, "host")
        }
        WalkMessage::HostReply => {
            let r = w.host_reply()?;
            let d = dissect_reply(&w.host_query(), &r);
            (r, d, "host")
        }
        WalkMessage::Query(s) => {
            let q = w.steps.get(s)?.query.clone();
            let d = dissect(&q);
            (q, d, "sent")
        }
        WalkMessage::Reply(s) => {
            let step = w.steps.get(s)?;
            let r = step.reply.clone()?;
            let d = dissect_reply(&step.query, &r);
            (r, d, "received")
        }
    };
    Some((Rc::new(bytes), Rc::new(d), source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::dns::lab::tests::step;

    #[test]
    fn carets_point_at_the_mistake() {
        assert_eq!(
            one_liner_caret("a.b +norecurs", 4, 13),
            "a.b +norecurs\n    ^^^^^^^^^"
        );
        assert_eq!(one_liner_caret("A", 1, 1), "A\n ^");
    }

    #[test]
    fn the_inspector_shows_the_draft_or_what_is_selected() {
        let mut lab = DnsLab::new(3);
        let (_, _, source) = shown(&lab, &[]);
        assert_eq!(source, "draft");
        step(&mut lab, "dns-root", Transport::Udp, None, 0.0);
        let (items, _) = lab.transcript();
        let messages = follow::messages(&items);
        lab.selected = Some(Selected::Walk(0));
        let (_, d, source) = shown(&lab, &messages);
        assert_eq!(source, "host");
        assert!(d.summary.contains("gaia.cs.umass.edu"), "{}", d.summary);
        lab.selected = Some(Selected::Walk(2));
        assert_eq!(shown(&lab, &messages).2, "received");
        lab.selected = Some(Selected::Message(0));
        assert_eq!(shown(&lab, &messages).2, "sent");
        // What the last reply means is shown until the mode changes.
        assert!(lab.outcome().is_none(), "a bare Send shows no outcome");
    }
}
