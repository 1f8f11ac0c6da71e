//! The HTTP workbench: write a request (or load one of the course's), see
//! it dissected as you type, with every CR LF visible, send it to the web
//! server, and take the response apart. A persistent connection stays open
//! for the next request; the timeline shows each exchange.

use crate::app::RelayInfo;
use crate::callbacks;
use crate::components::inspector::Inspector;
use crate::components::messages::MessageList;
use crate::components::recording::RecordingLinks;
use crate::components::target_picker::{TargetPicker, pick, server_label};
use crate::components::timeline::Timeline;
use crate::follow;
use crate::hooks::connection::use_connection;
use crate::pages::workbench::offered_targets;
use crate::session::Direction;
use std::rc::Rc;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use wirelab_shared::conversation::Sender;
use wirelab_shared::http::conversation::HttpConversation;
use wirelab_shared::http::dissect_request;
use wirelab_shared::http::message::parse_head;
use wirelab_shared::http::templates::{TEMPLATES, crlf, find};
use wirelab_shared::text::visible_multiline;
use yew::prelude::*;

/// The bytes the editor's text becomes: every line break CR LF, or LF
/// alone when the student wants to see what a bare LF does.
pub fn draft_bytes(text: &str, crlf_endings: bool) -> Vec<u8> {
    if crlf_endings {
        crlf(text).into_bytes()
    } else {
        text.replace("\r\n", "\n").into_bytes()
    }
}

/// The text with its Content-Length set to the length its body really has
/// (as sent with `crlf_endings`); unchanged if it has no head end yet.
pub fn fix_content_length(text: &str, crlf_endings: bool) -> String {
    let wire = draft_bytes(text, crlf_endings);
    let head = parse_head(&wire);
    if !head.is_complete() {
        return text.to_string();
    }
    let body_len = wire.len() - head.end;
    let mut out = Vec::new();
    let mut replaced = false;
    let mut in_head = true;
    for line in text.split('\n') {
        if in_head && line.trim_end_matches('\r').is_empty() {
            if !replaced && body_len > 0 {
                out.push(format!("Content-Length: {body_len}"));
            }
            in_head = false;
            out.push(line.to_string());
            continue;
        }
        if in_head
            && let Some((name, _)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            if !replaced {
                out.push(format!("{}: {body_len}", name.trim()));
                replaced = true;
            }
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n")
}

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

#[function_component(HttpPage)]
pub fn http_page() -> Html {
    let info = use_context::<RelayInfo>();
    let targets = info
        .as_ref()
        .map(|i| offered_targets(&i.targets, Some("http")))
        .unwrap_or_default();
    let conn = use_connection();
    let chosen = use_state(|| None::<String>);
    let text = use_state(|| {
        find("someschool")
            .map(|t| t.text.to_string())
            .unwrap_or_default()
    });
    let template = use_state(|| "someschool".to_string());
    let crlf_endings = use_state(|| true);
    let selected = use_state(|| None::<usize>);
    // Bytes to send as soon as the connection opens (Send while closed).
    let queued = use_mut_ref(|| None::<Vec<u8>>);

    let target = pick(&targets, chosen.as_deref()).cloned();
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

    let on_target = {
        let chosen = chosen.clone();
        Callback::from(move |name: String| chosen.set(Some(name)))
    };
    let on_template = {
        let text = text.clone();
        let template = template.clone();
        let selected = selected.clone();
        let messages = messages.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let id = select.value();
            if let Some(t) = find(&id) {
                let mut body = t.text.to_string();
                if id == "kiwi-etag"
                    && let Some(etag) = last_header(&messages, "ETag")
                {
                    body = body.replace("\"paste the ETag here\"", &etag);
                }
                text.set(body);
                selected.set(None);
            }
            template.set(id);
        })
    };
    let on_input = {
        let text = text.clone();
        let selected = selected.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            text.set(area.value());
            selected.set(None);
        })
    };
    let on_endings = {
        let crlf_endings = crlf_endings.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            crlf_endings.set(select.value() != "lf");
        })
    };
    let on_fix_length = {
        let text = text.clone();
        let crlf_endings = *crlf_endings;
        Callback::from(move |_: MouseEvent| text.set(fix_content_length(&text, crlf_endings)))
    };
    let on_send = {
        let conn = conn.clone();
        let text = text.clone();
        let crlf_endings = *crlf_endings;
        let target = target.clone();
        let queued = queued.clone();
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| {
            let bytes = draft_bytes(&text, crlf_endings);
            if bytes.is_empty() {
                return;
            }
            selected.set(None);
            if conn.session.state.can_send() {
                conn.send(&bytes);
            } else if let Some(t) = &target {
                // Not connected: connect first, send once it is open.
                *queued.borrow_mut() = Some(bytes);
                conn.connect(t);
            }
        })
    };
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
    let on_select = callbacks::select(&selected);
    let on_show_draft = {
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| selected.set(None))
    };
    let on_clear = callbacks::clear_transcript(&conn, &selected);

    let draft = draft_bytes(&text, *crlf_endings);
    let selected_message = selected.and_then(|id| messages.get(id).cloned());
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
    let note = TEMPLATES.iter().find(|t| t.id == *template).map(|t| t.note);
    let server_label = server_label(target.as_ref());
    let (lanes, arrows) = follow::timeline(session, &items, &server_label);
    let state = &session.state;
    let active = state.is_active();

    html! {
        <div class="workbench http">
            <div class="toolbar">
                <TargetPicker targets={targets.clone()} selected={target.as_ref().map(|t| t.name.clone())}
                              on_change={on_target} disabled={active} />
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
                                    <option value={t.id} selected={*template == t.id}>{ t.title }</option>
                                }) }
                            </select>
                        </label>
                        <label>{ "Line ends " }
                            <select data-testid="line-ending" onchange={on_endings}>
                                <option value="crlf" selected={*crlf_endings}>{ "CR LF (␍␊)" }</option>
                                <option value="lf" selected={!*crlf_endings}>{ "LF only (␊)" }</option>
                            </select>
                        </label>
                        <button class="secondary" data-testid="fix-length" onclick={on_fix_length}
                                title="Set Content-Length to the body's real length">{ "Fix Content-Length" }</button>
                    </div>
                    if let Some(note) = note { <p class="template-note" data-testid="template-note">{ note }</p> }
                    <textarea data-testid="editor" class="editor request-editor" rows="12" spellcheck="false"
                              value={(*text).clone()} oninput={on_input} />
                    <div class="toolbar">
                        <button data-testid="send" onclick={on_send} disabled={target.is_none()}>
                            { if state.can_send() { "Send" } else { "Connect and send" } }
                        </button>
                        <span class="hint">{ format!("{} bytes will be sent", draft.len()) }</span>
                    </div>
                    <h3>{ "Exactly what will be sent" }</h3>
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
                    <MessageList items={Rc::new(items.clone())} selected={*selected} on_select={on_select.clone()} />
                </div>
                <div class="pane">
                    <h2>{ "Timeline" }</h2>
                    <Timeline lanes={lanes} arrows={arrows} selected={*selected} on_select={on_select} />
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_get_cr_lf_or_stay_bare() {
        assert_eq!(
            draft_bytes("GET / HTTP/1.1\nHost: a\n\n", true),
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        );
        assert_eq!(draft_bytes("GET /\r\n\n", false), b"GET /\n\n");
    }

    #[test]
    fn content_length_is_fixed_from_the_real_body() {
        let text = "POST /cgi/show HTTP/1.1\nHost: a\nContent-Length: 3\n\nprenom=Hugues";
        assert_eq!(
            fix_content_length(text, true),
            "POST /cgi/show HTTP/1.1\nHost: a\nContent-Length: 13\n\nprenom=Hugues"
        );
        // Added when missing; a CR LF in the body counts two bytes.
        let text = "PUT /upload/a HTTP/1.1\nHost: a\n\nline\n";
        assert_eq!(
            fix_content_length(text, true),
            "PUT /upload/a HTTP/1.1\nHost: a\nContent-Length: 6\n\nline\n"
        );
        assert_eq!(
            fix_content_length(text, false),
            "PUT /upload/a HTTP/1.1\nHost: a\nContent-Length: 5\n\nline\n"
        );
        // No head end yet: nothing to do.
        assert_eq!(
            fix_content_length("GET / HTTP/1.1\nHost: a", true),
            "GET / HTTP/1.1\nHost: a"
        );
    }
}
