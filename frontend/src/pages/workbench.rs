//! The line workbench: pick a target, connect, type a line, press Enter,
//! and watch what went out and what came back, as in a telnet session but
//! with every byte visible and every message dissected.
//!
//! It drives one [`Link`] and one [`Session`]; the dissection pane shows the
//! selected transcript entry, or the line being typed before it is sent.

use crate::app::RelayInfo;
use crate::components::dissection::{DiagnosticsList, DissectionView};
use crate::components::transcript::Transcript;
use crate::link::{Link, LinkEvent, Route};
use crate::now_ms;
use crate::session::{Direction, Session, SessionAction};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use wirelab_shared::kinds;
use wirelab_shared::relay_protocol::{ConnectQuery, TargetInfo, Transport};
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

    fn key(&self) -> &'static str {
        match self {
            LineEnding::CrLf => "crlf",
            LineEnding::Lf => "lf",
            LineEnding::None => "none",
        }
    }

    fn label(&self) -> &'static str {
        match self {
            LineEnding::CrLf => "CR LF (␍␊)",
            LineEnding::Lf => "LF only (␊)",
            LineEnding::None => "nothing",
        }
    }

    fn from_key(key: &str) -> LineEnding {
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

#[derive(Properties, PartialEq)]
pub struct LineWorkbenchProps {
    /// Which dissector to use for both directions (a `kinds` name).
    pub kind: AttrValue,
    /// Only offer catalog targets of this protocol; all if absent.
    #[prop_or_default]
    pub protocol: Option<AttrValue>,
}

#[function_component(LineWorkbench)]
pub fn line_workbench(props: &LineWorkbenchProps) -> Html {
    let info = use_context::<RelayInfo>();
    let offline = info.as_ref().is_some_and(RelayInfo::is_offline);
    let targets = info
        .as_ref()
        .map(|i| offered_targets(&i.targets, props.protocol.as_deref()))
        .unwrap_or_default();

    let session = use_reducer(Session::default);
    let link = use_mut_ref(|| None::<Link>);
    let chosen = use_state(|| None::<String>);
    let draft = use_state(String::new);
    let ending = use_state(|| None::<LineEnding>);
    let selected = use_state(|| None::<usize>);

    let target = chosen
        .as_ref()
        .and_then(|name| targets.iter().find(|t| &t.name == name))
        .or(targets.first())
        .cloned();
    let ending_now = ending.unwrap_or_else(|| {
        target
            .as_ref()
            .map_or(LineEnding::CrLf, |t| LineEnding::default_for(t.transport))
    });

    // A link whose session ended is dropped, which closes its WebSocket.
    {
        let link = link.clone();
        use_effect_with(session.state.is_active(), move |active| {
            if !*active {
                link.borrow_mut().take();
            }
        });
    }
    // Leaving the page closes the connection.
    {
        let link = link.clone();
        use_effect_with((), move |_| {
            move || {
                link.borrow_mut().take();
            }
        });
    }

    let on_target = {
        let chosen = chosen.clone();
        let ending = ending.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            chosen.set(Some(select.value()));
            ending.set(None);
        })
    };

    let on_connect = {
        let session = session.clone();
        let link = link.clone();
        let target = target.clone();
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(target) = target.clone() else { return };
            link.borrow_mut().take();
            selected.set(None);
            session.dispatch(SessionAction::Connecting {
                target: target.name.clone(),
                at: now_ms(),
            });
            let dispatcher = session.dispatcher();
            let on_event = Callback::from(move |event: LinkEvent| {
                let at = now_ms();
                dispatcher.dispatch(match event {
                    LinkEvent::Relay(message) => SessionAction::Relay { message, at },
                    LinkEvent::Data(bytes) => SessionAction::Received { bytes, at },
                    LinkEvent::SocketClosed { code, reason } => {
                        SessionAction::SocketClosed { code, reason, at }
                    }
                });
            });
            let route = if offline {
                Route::Local(target.clone())
            } else {
                Route::Relay(ConnectQuery::target(&target.name))
            };
            match Link::open(route, on_event) {
                Ok(opened) => *link.borrow_mut() = Some(opened),
                Err(reason) => session.dispatch(SessionAction::SocketClosed {
                    code: 0,
                    reason,
                    at: now_ms(),
                }),
            }
        })
    };

    let on_disconnect = {
        let session = session.clone();
        let link = link.clone();
        Callback::from(move |_: MouseEvent| {
            link.borrow_mut().take();
            session.dispatch(SessionAction::Disconnected { at: now_ms() });
        })
    };

    let send = {
        let session = session.clone();
        let link = link.clone();
        let draft = draft.clone();
        let selected = selected.clone();
        Rc::new(move || {
            if !session.state.can_send() {
                return;
            }
            let bytes = line_bytes(&draft, ending_now);
            if bytes.is_empty() {
                return;
            }
            session.dispatch(SessionAction::Sent {
                bytes: bytes.clone(),
                at: now_ms(),
            });
            if let Some(link) = link.borrow().as_ref()
                && let Err(reason) = link.send(&bytes)
            {
                session.dispatch(SessionAction::SocketClosed {
                    code: 0,
                    reason,
                    at: now_ms(),
                });
            }
            draft.set(String::new());
            selected.set(None);
        })
    };
    let on_send = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send())
    };
    let on_key = {
        let send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                e.prevent_default();
                send();
            }
        })
    };
    let on_input = {
        let draft = draft.clone();
        let selected = selected.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            draft.set(input.value());
            selected.set(None);
        })
    };
    let on_ending = {
        let ending = ending.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            ending.set(Some(LineEnding::from_key(&select.value())));
        })
    };
    let on_shutdown = {
        let session = session.clone();
        let link = link.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(link) = link.borrow().as_ref()
                && link.shutdown().is_ok()
            {
                session.dispatch(SessionAction::ShutdownSent { at: now_ms() });
            }
        })
    };
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |id: usize| selected.set(Some(id)))
    };
    let on_clear = {
        let session = session.clone();
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| {
            selected.set(None);
            session.dispatch(SessionAction::Clear);
        })
    };

    // What the dissection pane shows: the selected entry, else the draft,
    // else the latest message.
    let shown = selected
        .and_then(|id| session.entry(id))
        .filter(|e| e.direction != Direction::Event)
        .map(|e| (e.bytes.clone(), e.direction.as_str()))
        .or_else(|| (!draft.is_empty()).then(|| (line_bytes(&draft, ending_now), "draft")))
        .or_else(|| {
            session
                .last_data()
                .map(|e| (e.bytes.clone(), e.direction.as_str()))
        });
    let dissection = shown
        .as_ref()
        .and_then(|(bytes, _)| kinds::dissect(&props.kind, bytes))
        .map(Rc::new);
    let source = shown.map(|(_, s)| s).unwrap_or("none");

    let state = &session.state;
    let active = state.is_active();
    let can_send = state.can_send();
    let is_tcp = target
        .as_ref()
        .is_some_and(|t| t.transport == Transport::Tcp);
    let entries = Rc::new(session.entries.clone());

    html! {
        <div class="workbench">
            <div class="toolbar">
                <label>{ "Server " }
                    <select data-testid="target-select" onchange={on_target} disabled={active}>
                        { for targets.iter().map(|t| {
                            let is_chosen = target.as_ref().is_some_and(|c| c.name == t.name);
                            html! {
                                <option value={t.name.clone()} selected={is_chosen}>
                                    { format!("{} — {} {}:{}", t.name, t.transport, t.host, t.port) }
                                </option>
                            }
                        }) }
                    </select>
                </label>
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
            <div class="composer">
                <input type="text" data-testid="editor" class="editor"
                       placeholder={if can_send { "type a line, Enter sends it" } else { "connect first" }}
                       value={(*draft).clone()} oninput={on_input} onkeydown={on_key}
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
            <div class="panes">
                <div class="pane">
                    <h2>{ "Transcript " }
                        <button class="small" data-testid="clear" onclick={on_clear}>{ "clear" }</button>
                    </h2>
                    <Transcript entries={entries} selected={*selected} on_select={on_select} />
                </div>
                <div class="pane">
                    <h2>{ "Dissection" }</h2>
                    <DissectionView dissection={dissection.clone()} source={source} />
                    <h2>{ "Diagnostics" }</h2>
                    <DiagnosticsList dissection={dissection} />
                </div>
            </div>
        </div>
    }
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
    }
}
