//! The line workbench: pick a target, connect, type a line, press Enter,
//! and watch what went out and what came back, as in a telnet session but
//! with every byte visible and every message dissected. Over TCP each line
//! is a message; over UDP each datagram is.
//!
//! The inspector shows the selected message, or the line being typed
//! before it is sent: dissected by the protocol's [`Conversation`] in the
//! context of the session when it can (an SMTP command checked against
//! the state, a line of message text after 354), else by the spec's
//! context-free `draft` dissector.
//!
//! A page that needs the connection too (to send a composed message, to
//! read what a session retrieved) opens it with `use_connection` and
//! passes it in `connection`; `children` are shown under the line editor.
//! The workbench's own state is one reducer, [`LineLab`].

use crate::callbacks;
use crate::components::dialogue_bar::DialogueBar;
use crate::components::inspector::Inspector;
use crate::components::messages::MessageList;
use crate::components::recording::RecordingLinks;
use crate::components::socket_outcome::{SocketOutcome, awaiting_reply};
use crate::components::target_picker::{TargetPicker, pick, server_label};
use crate::components::timeline::Timeline;
use crate::follow::{self, Item};
use crate::hooks::connection::{Connection, use_connection};
use crate::pages::line_lab::{LineAction, LineLab};
use crate::relay_info::use_relay_info;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use wirelab_shared::conversation::{
    Conversation, DatagramConversation, Dialogue, LineConversation,
};
use wirelab_shared::dissect::Dissection;
use wirelab_shared::relay_protocol::{TargetInfo, Transport};
use yew::prelude::*;

/// What Enter appends to the typed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    CrLf,
    Lf,
    None,
}

impl LineEnding {
    pub fn bytes(&self) -> &'static [u8] {
        match self {
            LineEnding::CrLf => b"\r\n",
            LineEnding::Lf => b"\n",
            LineEnding::None => b"",
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            LineEnding::CrLf => "crlf",
            LineEnding::Lf => "lf",
            LineEnding::None => "none",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            LineEnding::CrLf => "CR LF (␍␊)",
            LineEnding::Lf => "LF only (␊)",
            LineEnding::None => "nothing",
        }
    }

    pub fn from_key(key: &str) -> LineEnding {
        match key {
            "lf" => LineEnding::Lf,
            "none" => LineEnding::None,
            _ => LineEnding::CrLf,
        }
    }

    /// The usual choice for a transport: CR LF on TCP line protocols; on UDP
    /// the course's client sends the bare sentence as one datagram.
    pub fn default_for(transport: Transport) -> LineEnding {
        match transport {
            Transport::Tcp => LineEnding::CrLf,
            Transport::Udp => LineEnding::None,
        }
    }
}

/// The bytes a typed line becomes.
pub fn line_bytes(text: &str, ending: LineEnding) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes.extend_from_slice(ending.bytes());
    bytes
}

/// The targets a workbench offers: those of `protocol`, or all of them.
pub fn offered_targets(all: &[TargetInfo], protocol: Option<&str>) -> Vec<TargetInfo> {
    all.iter()
        .filter(|t| protocol.is_none_or(|p| t.protocol == p))
        .cloned()
        .collect()
}

/// What a line workbench speaks: how to cut a connection into messages and
/// dissect them, how to dissect the line being typed, and the course's
/// dialogues to replay.
#[derive(Clone)]
pub struct LineSpec {
    /// Names the spec (props compare by it).
    pub key: &'static str,
    pub conversation: fn(Transport) -> Box<dyn Conversation>,
    /// Dissects the line being typed, before it is sent, when the
    /// conversation has no dissection in context
    /// ([`Conversation::dissect_draft`]).
    pub draft: fn(&[u8]) -> Dissection,
    pub dialogues: &'static [Dialogue],
}

impl PartialEq for LineSpec {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

/// The dissection of the line being typed: the conversation's, in the
/// context of the session, when it has one; else the spec's.
pub fn draft_dissection(
    spec: &LineSpec,
    conversation: &dyn Conversation,
    bytes: &[u8],
) -> Dissection {
    conversation
        .dissect_draft(bytes)
        .unwrap_or_else(|| (spec.draft)(bytes))
}

fn raw_conversation(transport: Transport) -> Box<dyn Conversation> {
    use wirelab_shared::line::{dissect, dissect_datagram};
    match transport {
        Transport::Tcp => Box::new(LineConversation::new(dissect, dissect)),
        Transport::Udp => Box::new(DatagramConversation::new(
            dissect_datagram,
            dissect_datagram,
        )),
    }
}

impl LineSpec {
    /// Plain text lines (or datagrams), as on the uppercase server.
    pub fn raw() -> LineSpec {
        LineSpec {
            key: "line",
            conversation: raw_conversation,
            draft: wirelab_shared::line::dissect,
            dialogues: &[],
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct LineWorkbenchProps {
    pub spec: LineSpec,
    /// Only offer catalog targets of this protocol; all if absent.
    #[prop_or_default]
    pub protocol: Option<AttrValue>,
    /// The page's own connection, when it needs it too; else the
    /// workbench opens its own.
    #[prop_or_default]
    pub connection: Option<Connection>,
    /// Shown under the line editor (a compose helper, say).
    #[prop_or_default]
    pub children: Html,
    /// The target selected until the student picks one, when the page has
    /// a better first choice than the catalog's first entry.
    #[prop_or_default]
    pub first_choice: Option<AttrValue>,
    /// A line the page puts in the editor for the student to send (a
    /// command built from what the page shows); a new `generation` puts it
    /// there again after the student changed it.
    #[prop_or_default]
    pub fill: Option<DraftFill>,
}

/// A line for the editor, from the page.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftFill {
    pub generation: u32,
    pub line: AttrValue,
}

#[function_component(LineWorkbench)]
pub fn line_workbench(props: &LineWorkbenchProps) -> Html {
    let targets = offered_targets(&use_relay_info().targets, props.protocol.as_deref());
    let own_connection = use_connection();
    let conn = props.connection.clone().unwrap_or(own_connection);
    let lab = use_reducer(LineLab::default);

    let chosen = lab.chosen.as_deref().or(props.first_choice.as_deref());
    let target = pick(&targets, chosen).cloned();
    let transport = target.as_ref().map_or(Transport::Tcp, |t| t.transport);
    let ending_now = lab.ending_for(transport);
    let spec = props.spec.clone();
    let editor = use_node_ref();

    {
        let dispatcher = lab.dispatcher();
        let editor = editor.clone();
        use_effect_with(props.fill.clone(), move |fill| {
            if let Some(fill) = fill {
                dispatcher.dispatch(LineAction::Typed(fill.line.to_string()));
                callbacks::focus(&editor);
            }
        });
    }
    let on_target = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |name: String| dispatcher.dispatch(LineAction::Target(name)))
    };
    let on_connect = {
        let conn = conn.clone();
        let target = target.clone();
        let dispatcher = lab.dispatcher();
        let connect = Callback::from(move |_: MouseEvent| {
            if let Some(t) = &target {
                dispatcher.dispatch(LineAction::Connect);
                conn.connect(t);
            }
        });
        callbacks::then_focus(&editor, connect)
    };
    let on_disconnect = {
        let conn = conn.clone();
        Callback::from(move |_: MouseEvent| conn.disconnect())
    };
    let send: Rc<dyn Fn()> = {
        let conn = conn.clone();
        let (editor, draft) = (editor.clone(), lab.draft.clone());
        let dispatcher = lab.dispatcher();
        Rc::new(move || {
            let bytes = line_bytes(&callbacks::editor_text(&editor, &draft), ending_now);
            if conn.send(&bytes) {
                dispatcher.dispatch(LineAction::Sent);
            }
        })
    };
    let on_send = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send())
    };
    let on_key = callbacks::enter_runs(send);
    let on_input = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            dispatcher.dispatch(LineAction::Typed(input.value()));
        })
    };
    let on_ending = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            dispatcher.dispatch(LineAction::Ending(LineEnding::from_key(&select.value())));
        })
    };
    let on_shutdown = {
        let conn = conn.clone();
        Callback::from(move |_: MouseEvent| conn.shutdown())
    };
    let on_select = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |id: usize| dispatcher.dispatch(LineAction::Select(Some(id))))
    };
    let on_clear = {
        let conn = conn.clone();
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| {
            dispatcher.dispatch(LineAction::Cleared);
            conn.clear();
        })
    };
    let on_choose_dialogue = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |d: Option<&'static Dialogue>| {
            dispatcher.dispatch(LineAction::Dialogue(d))
        })
    };
    let on_next_step = {
        let dispatcher = lab.dispatcher();
        let next = Callback::from(move |_: MouseEvent| dispatcher.dispatch(LineAction::NextLine));
        callbacks::then_focus(&editor, next)
    };

    let session = &conn.session;
    let mut conversation = (spec.conversation)(
        session
            .connected_info()
            .map(|(_, t)| t)
            .unwrap_or(transport),
    );
    let items = follow::follow(session, conversation.as_mut());
    let protocol_state = conversation.state();
    let state_hint = conversation.state_hint();
    let messages = follow::messages(&items);
    let server_label = server_label(target.as_ref());
    let (lanes, arrows) = follow::timeline(session, &items, &server_label);

    // The inspector shows the selected message, else the draft, else the
    // latest message.
    let shown = lab
        .selected
        .and_then(|id| messages.get(id))
        .map(|m| {
            (
                Rc::new(m.bytes.clone()),
                Rc::new(m.dissection.clone()),
                "message",
            )
        })
        .or_else(|| {
            (!lab.draft.is_empty()).then(|| {
                let bytes = line_bytes(&lab.draft, ending_now);
                let d = draft_dissection(&spec, conversation.as_ref(), &bytes);
                (Rc::new(bytes), Rc::new(d), "draft")
            })
        })
        .or_else(|| {
            messages.last().map(|m| {
                (
                    Rc::new(m.bytes.clone()),
                    Rc::new(m.dissection.clone()),
                    "message",
                )
            })
        });

    let state = &session.state;
    let active = state.is_active();
    let can_send = state.can_send();
    let is_tcp = transport == Transport::Tcp;

    html! {
        <div class="workbench">
            <div class="toolbar">
                <TargetPicker targets={targets.clone()} selected={target.as_ref().map(|t| t.name.clone())}
                              on_change={on_target} disabled={active} />
                <button data-testid="connect" onclick={on_connect}
                        disabled={active || target.is_none()}>{ "Connect" }</button>
                <button data-testid="disconnect" onclick={on_disconnect}
                        disabled={!active}>{ "Disconnect" }</button>
                if is_tcp {
                    <button data-testid="shutdown" onclick={on_shutdown} disabled={!can_send}
                            title="Half-close: send TCP FIN and keep reading">{ "Send FIN" }</button>
                }
            </div>
            if let Some(t) = &target {
                <p class="target-description">{ &t.description }</p>
            } else {
                <p class="notice">{ "No target to connect to." }</p>
            }
            <p class={classes!("conn-state", state.key())} data-testid="conn-state"
               data-state={state.key()}>{ state.describe() }</p>
            <SocketOutcome state={state.clone()} transport={transport} entry_count={session.entries.len()}
                           awaiting={awaiting_reply(&session.entries)} />
            <RecordingLinks recording={session.recording().map(|r| AttrValue::from(r.to_string()))} />
            if let Some(protocol_state) = &protocol_state {
                <p class="protocol-state" data-testid="protocol-state" data-state={protocol_state.clone()}>
                    { "Session state: " }<strong>{ protocol_state }</strong>
                    if let Some(hint) = &state_hint {
                        <span class="hint" data-testid="protocol-state-hint">{ format!(" — {hint}") }</span>
                    }
                </p>
            }
            if !spec.dialogues.is_empty() {
                <DialogueBar dialogues={spec.dialogues} dialogue={lab.dialogue} step={lab.step}
                             on_choose={on_choose_dialogue} on_next={on_next_step} />
            }
            <div class="composer">
                <input type="text" data-testid="editor" class="editor" ref={editor}
                       placeholder={if can_send { "type a line, Enter sends it" } else { "connect first" }}
                       value={lab.draft.clone()} oninput={on_input} onkeydown={on_key}
                       spellcheck="false" autocomplete="off" />
                <label>{ "then " }
                    <select data-testid="line-ending" onchange={on_ending}>
                        { for [LineEnding::CrLf, LineEnding::Lf, LineEnding::None].into_iter().map(|e| html! {
                            <option value={e.key()} selected={e == ending_now}>{ e.label() }</option>
                        }) }
                    </select>
                </label>
                <button data-testid="send" onclick={on_send} disabled={!can_send}>{ "Send" }</button>
            </div>
            { props.children.clone() }
            <div class="panes">
                <div class="pane">
                    <h2>{ "Transcript " }
                        <button class="small" data-testid="clear" onclick={on_clear}>{ "clear" }</button>
                    </h2>
                    <MessageList items={Rc::new(items.clone())} selected={lab.selected} on_select={on_select.clone()}
                                 expand_selected=true />
                    <h2>{ "Timeline" }</h2>
                    <Timeline lanes={lanes} arrows={arrows} selected={lab.selected} on_select={on_select} />
                </div>
                <div class="pane">
                    <h2>{ "Dissection" }</h2>
                    if let Some((bytes, dissection, source)) = shown {
                        <Inspector bytes={bytes} dissection={dissection} source={source} />
                    } else {
                        <section class="dissection empty" data-testid="dissection">
                            <p class="hint">{ "Type a line or click a message to see it taken apart." }</p>
                        </section>
                    }
                </div>
            </div>
        </div>
    }
}

/// Whether an item list holds a message with `id`.
pub fn has_message(items: &[Item], id: usize) -> bool {
    items
        .iter()
        .any(|i| i.message().is_some_and(|(m, _)| m == id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::relay_protocol::Transport;

    #[test]
    fn lines_get_the_chosen_ending() {
        assert_eq!(
            line_bytes("hello world", LineEnding::CrLf),
            b"hello world\r\n"
        );
        assert_eq!(line_bytes("x", LineEnding::Lf), b"x\n");
        assert_eq!(line_bytes("x", LineEnding::None), b"x");
        assert_eq!(LineEnding::default_for(Transport::Udp), LineEnding::None);
        assert_eq!(LineEnding::from_key("lf"), LineEnding::Lf);
        assert_eq!(LineEnding::from_key("garbage"), LineEnding::CrLf);
    }

    #[test]
    fn targets_are_filtered_by_protocol() {
        let all = crate::local::targets();
        assert_eq!(offered_targets(&all, None).len(), all.len());
        let lines = offered_targets(&all, Some("line"));
        assert!(!lines.is_empty() && lines.iter().all(|t| t.protocol == "line"));
        let smtp = offered_targets(&all, Some("smtp"));
        assert_eq!(smtp.len(), 1);
        assert_eq!(smtp[0].name, "smtp");
        assert!(offered_targets(&all, Some("gopher")).is_empty());
        assert!(!has_message(&[], 0));
    }

    #[test]
    fn drafts_are_dissected_in_context_when_the_protocol_can() {
        use crate::pages::smtp::smtp_spec;
        let raw = LineSpec::raw();
        let lines = (raw.conversation)(Transport::Tcp);
        let d = draft_dissection(&raw, lines.as_ref(), b"DATA\r\n");
        assert_eq!(d, wirelab_shared::line::dissect(b"DATA\r\n"));
        // SMTP after HELO: DATA would get 503, and the dissection says so.
        let smtp = smtp_spec();
        let mut c = (smtp.conversation)(Transport::Tcp);
        c.server_bytes(b"220 hamburger.edu ESMTP\r\n", 0.0);
        c.client_bytes(b"HELO crepes.fr\r\n", 1.0);
        c.server_bytes(b"250 Hello crepes.fr\r\n", 2.0);
        let d = draft_dissection(&smtp, c.as_ref(), b"DATA\r\n");
        assert!(d.diagnostics.iter().any(|d| d.message.contains("503")));
        assert!((smtp.draft)(b"DATA\r\n").diagnostics.is_empty());
        assert_eq!(c.state().as_deref(), Some("greeted"));
    }
}
