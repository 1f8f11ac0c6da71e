//! The HTTP workbench: write a request (or load one of the course's), see
//! it dissected as you type, with every CR LF visible, send it to the web
//! server, and take the response apart. A persistent connection stays open
//! for the next request; the timeline shows each exchange. The request can
//! go through the web cache (the relay's `proxy`) instead of straight to
//! the server. Below, which
//! CDN replica serves which image of the CDN's lesson ([`CdnRoutes`]). The
//! page's state is one reducer, [`HttpLab`].

use crate::callbacks;
use crate::components::cache_view::CacheView;
use crate::components::cdn_routes::CdnRoutes;
use crate::components::inspector::Inspector;
use crate::components::messages::MessageList;
use crate::components::recording::RecordingLinks;
use crate::components::target_picker::{TargetPicker, pick, server_label};
use crate::components::timeline::Timeline;
use crate::follow;
use crate::hooks::connection::use_connection;
use crate::hooks::proxy_log::use_proxy_snapshot;
use crate::pages::http_lab::{HttpAction, HttpLab};
use crate::plural::plural;
use crate::proxy_view;
use crate::relay_info::use_relay_info;
use crate::session::Direction;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use wirelab_shared::bittorrent::syntax::parse_info_hash;
use wirelab_shared::conversation::Sender;
use wirelab_shared::http::conversation::HttpConversation;
use wirelab_shared::http::dissect_request;
use wirelab_shared::http::message::parse_head;
use wirelab_shared::http::templates::TEMPLATES;
use wirelab_shared::relay_protocol::TargetInfo;
use wirelab_shared::text::visible_multiline;
use yew::prelude::*;

/// The last value of header `name` in the server's messages, newest first.
fn last_header(
    messages: &[Rc<wirelab_shared::conversation::Message>],
    name: &str,
) -> Option<String> {
    messages
        .iter()
        .rev()
        .filter(|m| m.sender == Sender::Server)
        .find_map(|m| {
            let head = parse_head(&m.bytes);
            head.fields(&m.bytes)
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .map(|f| f.value.clone())
        })
}

/// The catalog name of the caching proxy.
const PROXY: &str = "proxy";

/// How an absolute-form request line names `origin`: `host:port`.
fn authority(origin: &TargetInfo) -> String {
    if origin.host.contains(':') {
        format!("[{}]:{}", origin.host, origin.port)
    } else {
        format!("{}:{}", origin.host, origin.port)
    }
}

/// The BitTorrent tracker's catalog name, and the template that announces to it.
const TRACKER: &str = "tracker";
const TRACKER_TEMPLATE: &str = "tracker-announce";

/// For the tracker template: picks the tracker as the server (`tracker`,
/// when it can be reached directly) and fills in the info hash of the
/// newest running swarm (`GET /api/swarms`); with none, the placeholder
/// stays and the template's note says to start one.
fn announce_for_a_swarm(dispatcher: UseReducerDispatcher<HttpLab>, tracker: Option<&'static str>) {
    #[derive(serde::Deserialize)]
    struct Listed {
        info_hash: String,
    }
    if let Some(name) = tracker {
        dispatcher.dispatch(HttpAction::Target(name.into()));
    }
    yew::platform::spawn_local(async move {
        let Ok(swarms) = crate::api::get_json::<Vec<Listed>>("/api/swarms").await else {
            return;
        };
        let newest = swarms.last().map(|s| parse_info_hash(&s.info_hash));
        if let Some(Ok(hash)) = newest {
            dispatcher.dispatch(HttpAction::InfoHash(hash));
        }
    });
}

#[function_component(HttpPage)]
pub fn http_page() -> Html {
    let all_targets = use_relay_info().targets_of("http");
    let conn = use_connection();
    let lab = use_reducer(HttpLab::default);
    // Bytes to send as soon as the connection opens (Send while closed).
    let queued = use_mut_ref(|| None::<Vec<u8>>);

    let proxy = all_targets.iter().find(|t| t.name == PROXY).cloned();
    let via_cache = lab.via_cache.is_some();
    // Through the cache, the picker chooses the origin: anything but the
    // proxy itself, which would refuse the loop.
    let targets: Vec<TargetInfo> = if via_cache {
        all_targets
            .iter()
            .filter(|t| t.name != PROXY)
            .cloned()
            .collect()
    } else {
        all_targets.clone()
    };
    let origin = pick(&targets, lab.chosen.as_deref()).cloned();
    // The server the connection goes to.
    let target = if via_cache {
        proxy.clone()
    } else {
        origin.clone()
    };
    let proxy_snapshot = use_proxy_snapshot(proxy.is_some());
    let session = &conn.session;
    let items = follow::follow(session, &mut HttpConversation::new());
    let messages = follow::messages(&items);

    {
        let conn = conn.clone();
        let queued = queued.clone();
        use_effect_with(session.state.can_send(), move |open| {
            if *open && let Some(bytes) = queued.borrow_mut().take() {
                conn.send(&bytes);
            }
        });
    }

    let dispatch = |make: fn(String) -> HttpAction| {
        let dispatcher = lab.dispatcher();
        move |value: String| dispatcher.dispatch(make(value))
    };
    let on_target = {
        let dispatcher = lab.dispatcher();
        let targets = targets.clone();
        Callback::from(move |name: String| {
            let origin = targets.iter().find(|t| t.name == name).map(authority);
            dispatcher.dispatch(HttpAction::Target(name));
            if via_cache {
                dispatcher.dispatch(HttpAction::ViaCache(origin));
            }
        })
    };
    let on_via_cache = {
        let dispatcher = lab.dispatcher();
        // Going through the cache, the origin is the server picked unless
        // that was the proxy itself.
        let first_origin = pick(
            &all_targets
                .iter()
                .filter(|t| t.name != PROXY)
                .cloned()
                .collect::<Vec<_>>(),
            lab.chosen.as_deref(),
        )
        .map(authority);
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let origin = first_origin.clone().filter(|_| input.checked());
            dispatcher.dispatch(HttpAction::ViaCache(origin));
        })
    };
    let on_template = {
        let dispatcher = lab.dispatcher();
        let etag = last_header(&messages, "ETag");
        let tracker = (!via_cache && targets.iter().any(|t| t.name == TRACKER)).then_some(TRACKER);
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let id = select.value();
            if id == TRACKER_TEMPLATE {
                announce_for_a_swarm(dispatcher.clone(), tracker);
            }
            dispatcher.dispatch(HttpAction::Template {
                id,
                etag: etag.clone(),
            });
        })
    };
    let on_input = {
        let text = dispatch(HttpAction::Text);
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            text(area.value());
        })
    };
    let on_endings = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            dispatcher.dispatch(HttpAction::Endings {
                crlf: select.value() != "lf",
            });
        })
    };
    let on_fix_length = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(HttpAction::FixLength))
    };
    let send: Rc<dyn Fn()> = {
        let conn = conn.clone();
        let bytes = lab.draft();
        let target = target.clone();
        let queued = queued.clone();
        let dispatcher = lab.dispatcher();
        Rc::new(move || {
            if bytes.is_empty() {
                return;
            }
            dispatcher.dispatch(HttpAction::Sent);
            if conn.session.state.can_send() {
                conn.send(&bytes);
            } else if let Some(t) = &target {
                // Not connected: connect first, send once it is open.
                *queued.borrow_mut() = Some(bytes.clone());
                conn.connect(t);
            }
        })
    };
    let on_send = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send())
    };
    let on_editor_key = callbacks::ctrl_enter_runs(send);
    let on_connect = {
        let conn = conn.clone();
        let target = target.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(t) = &target {
                conn.connect(t);
            }
        })
    };
    let on_disconnect = {
        let conn = conn.clone();
        Callback::from(move |_: MouseEvent| conn.disconnect())
    };
    let on_select = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |id: usize| dispatcher.dispatch(HttpAction::Select(Some(id))))
    };
    let on_show_draft = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(HttpAction::Select(None)))
    };
    let on_clear = {
        let conn = conn.clone();
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| {
            dispatcher.dispatch(HttpAction::Cleared);
            conn.clear();
        })
    };

    let draft = lab.draft();
    let selected_message = lab.selected.and_then(|id| messages.get(id).cloned());
    let (shown_bytes, shown_dissection, source) = match &selected_message {
        Some(m) => (
            Rc::new(m.bytes.clone()),
            Rc::new(m.dissection.clone()),
            Direction::of(m.sender).as_str(),
        ),
        None => (
            Rc::new(draft.clone()),
            Rc::new(dissect_request(&draft)),
            "draft",
        ),
    };
    let note = lab.note();
    let server_label = server_label(target.as_ref());
    let (mut lanes, mut arrows) = follow::timeline(session, &items, &server_label);
    let exchanges = proxy_view::exchanges(&messages);
    if via_cache {
        let rows = proxy_view::pair_with_log(&exchanges, &proxy_snapshot.log);
        if let Some((l, a)) = proxy_view::with_upstream_lane(&lanes, &arrows, &exchanges, &rows) {
            (lanes, arrows) = (Rc::new(l), Rc::new(a));
        }
    }
    let last_cache_status = exchanges.last().and_then(|e| e.cache_status.clone());
    let state = &session.state;
    let active = state.is_active();

    html! {
        <div class="workbench http">
            <div class="toolbar">
                <TargetPicker targets={targets.clone()} selected={origin.as_ref().map(|t| t.name.clone())}
                              on_change={on_target} disabled={active} />
                <label title="Send the request to the caching proxy, which fetches it from the server picked">
                    <input type="checkbox" data-testid="via-cache" checked={via_cache}
                           disabled={active || proxy.is_none()} onchange={on_via_cache} />
                    { " through the web cache" }
                    if let Some(p) = &proxy { { format!(" ({}:{})", p.host, p.port) } }
                </label>
                <button data-testid="connect" onclick={on_connect} disabled={active || target.is_none()}>{ "Connect" }</button>
                <button data-testid="disconnect" onclick={on_disconnect} disabled={!active}>{ "Disconnect" }</button>
            </div>
            <p class={classes!("conn-state", state.key())} data-testid="conn-state" data-state={state.key()}>
                { state.describe() }
                if state.can_send() { { " — the next request goes on this connection" } }
            </p>
            <RecordingLinks recording={session.recording().map(|r| AttrValue::from(r.to_string()))} />
            <div class="composer-grid">
                <div class="pane">
                    <div class="toolbar">
                        <label>{ "Template " }
                            <select data-testid="template-select" onchange={on_template}>
                                { for TEMPLATES.iter().map(|t| html! {
                                    <option value={t.id} selected={lab.template == t.id}>{ t.title }</option>
                                }) }
                            </select>
                        </label>
                        <label>{ "Line ends " }
                            <select data-testid="line-ending" onchange={on_endings}>
                                <option value="crlf" selected={lab.crlf_endings}>{ "CR LF (␍␊)" }</option>
                                <option value="lf" selected={!lab.crlf_endings}>{ "LF only (␊)" }</option>
                            </select>
                        </label>
                        <button class="secondary" data-testid="fix-length" onclick={on_fix_length}
                                title="Set Content-Length to the body's real length">{ "Fix Content-Length" }</button>
                    </div>
                    if let Some(note) = note { <p class="template-note" data-testid="template-note">{ note }</p> }
                    <textarea data-testid="editor" class="editor request-editor" rows="12" spellcheck="false"
                              title="Ctrl+Enter sends the request" aria-label="The request, as it goes on the wire (Ctrl+Enter sends it)"
                              value={lab.text.clone()} oninput={on_input} onkeydown={on_editor_key} />
                    <div class="toolbar">
                        <button data-testid="send" onclick={on_send} disabled={target.is_none()}>
                            { if state.can_send() { "Send" } else { "Connect and send" } }
                        </button>
                        <span class="hint">{ format!("{} will be sent", plural(draft.len(), "byte")) }</span>
                    </div>
                    <h2 class="minor">{ "Exactly what will be sent" }</h2>
                    <pre class="preview" data-testid="preview">{ visible_multiline(&draft) }</pre>
                </div>
                <div class="pane">
                    <h2>
                        { match source { "draft" => "Your request, as you type it", "sent" => "A request you sent", _ => "A response" } }
                        if selected_message.is_some() {
                            <button class="small" data-testid="show-draft" onclick={on_show_draft}>{ "back to the draft" }</button>
                        }
                    </h2>
                    <Inspector bytes={shown_bytes.clone()} dissection={shown_dissection} source={source} />
                    if selected_message.is_some() {
                        <h3>{ "As it arrived" }</h3>
                        <pre class="preview" data-testid="raw">{ visible_multiline(&shown_bytes) }</pre>
                    }
                </div>
            </div>
            <div class="panes">
                <div class="pane">
                    <h2>{ "Transcript " }
                        <button class="small" data-testid="clear" onclick={on_clear}>{ "clear" }</button>
                    </h2>
                    <MessageList items={Rc::new(items.clone())} selected={lab.selected} on_select={on_select.clone()} />
                </div>
                <div class="pane">
                    <h2>{ "Timeline" }</h2>
                    <Timeline lanes={lanes} arrows={arrows} selected={lab.selected} on_select={on_select} />
                </div>
            </div>
            if proxy.is_some() {
                <CacheView snapshot={proxy_snapshot.clone()} last_cache_status={last_cache_status} />
            }
            <CdnRoutes />
        </div>
    }
}
