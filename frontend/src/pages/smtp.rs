//! The SMTP workbench: telnet to hamburger.edu and play the sending mail
//! server, one line at a time (Enter sends it with CR LF), with each
//! command, reply and the message text dissected in the context of the
//! session, the session state shown ("greeted", "mail transaction open",
//! "recipients given", "receiving data"), the course's dialogues to replay,
//! and a compose helper that writes the DATA section a mail program would
//! (MIME, encoded words, base64, dot-stuffing), to set against hand typing.
//!
//! The page owns the connection so that the helper can send its block on
//! the very session the student typed HELO, MAIL and RCPT on.

use super::workbench::{LineSpec, LineWorkbench};
use crate::components::inspector::Inspector;
use crate::components::mailboxes::ServerMailboxes;
use crate::follow;
use crate::hooks::connection::{Connection, use_connection};
use crate::pages::compose_lab::{ComposeAction, ComposeLab};
use crate::plural::plural;
use crate::relay_info::use_relay_info;
use crate::route::Route;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use wirelab_shared::conversation::Conversation;
use wirelab_shared::mail::Envelope;
use wirelab_shared::mail::compose::{Attachment, compose};
use wirelab_shared::relay_protocol::Transport;
use wirelab_shared::smtp::dialogues::DIALOGUES;
use wirelab_shared::smtp::dissect::{dissect_command, dissect_data};
use wirelab_shared::smtp::{SmtpState, SmtpTranscript};
use wirelab_shared::text::visible_multiline;
use wirelab_shared::transcript::FollowedConversation;
use yew::prelude::*;
use yew_router::prelude::*;

/// Largest file the helper attaches (base64 makes it a third bigger).
pub const MAX_ATTACHMENT: usize = 1024 * 1024;
/// The composed block goes out in WebSocket messages of at most this many
/// bytes, well under the relay's frame limit.
pub const SEND_CHUNK: usize = 16 * 1024;

fn smtp_conversation(_: Transport) -> Box<dyn Conversation> {
    Box::new(FollowedConversation::new(SmtpTranscript::new()))
}

/// The line workbench speaking SMTP.
pub fn smtp_spec() -> LineSpec {
    LineSpec {
        key: "smtp",
        conversation: smtp_conversation,
        draft: dissect_command,
        dialogues: DIALOGUES,
    }
}

/// The wall clock in Unix seconds, for the Date field.
fn wall_clock_unix() -> i64 {
    crate::local::wall_clock_epoch() + (crate::now_ms() / 1000.0) as i64
}

/// A Message-ID token unique enough for the lab.
fn unique_token() -> String {
    #[cfg(target_arch = "wasm32")]
    let noise = (js_sys::Math::random() * 1e9) as u64;
    #[cfg(not(target_arch = "wasm32"))]
    let noise = 0u64;
    format!("{}.{noise}.wirelab", (crate::now_ms() * 1000.0) as u64)
}

#[function_component(SmtpPage)]
pub fn smtp_page() -> Html {
    let has_target = use_relay_info().serves("smtp");
    let conn = use_connection();
    let mut followed = FollowedConversation::new(SmtpTranscript::new());
    follow::follow(&conn.session, &mut followed);
    let smtp = followed.follower();
    let receiving = smtp.expecting_data();
    let typed = if receiving {
        smtp.pending_client().len()
    } else {
        0
    };
    let refresh = conn.session.entries.len() as u64;
    html! {
        <section class="page smtp">
            <h1>{ "SMTP: sending mail" }</h1>
            <p class="intro">
                { "Be crepes.fr's mail server: connect to hamburger.edu and type the commands of the \
                   course one line at a time, as with telnet. Enter sends the line with CR LF. Each \
                   reply is taken apart as it arrives, and the session state says what the server \
                   expects next. After DATA and its 354, what you type is the message itself, until \
                   a line with a single dot. Then read the mail back on the " }
                <Link<Route> to={Route::Pop3}>{ "POP3 page" }</Link<Route>>{ "." }
            </p>
            if has_target {
                <LineWorkbench spec={smtp_spec()} protocol="smtp" connection={conn.clone()}>
                    <Compose connection={conn.clone()} receiving={receiving} typed={typed}
                             state={AttrValue::from(smtp.state().label())}
                             envelope={smtp.envelope().clone()} />
                </LineWorkbench>
                <ServerMailboxes refresh={refresh} />
            } else {
                <p class="notice" data-testid="no-target">
                    { "This relay has no SMTP server in its catalog." }
                </p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ComposeProps {
    pub connection: Connection,
    /// The server answered DATA with 354: the next bytes are the message.
    pub receiving: bool,
    /// Message text already typed by hand in this transaction.
    pub typed: usize,
    pub state: AttrValue,
    pub envelope: Envelope,
}

/// The compose helper: fields in, the exact DATA section out.
#[function_component(Compose)]
pub fn compose_helper(props: &ComposeProps) -> Html {
    let lab = use_reducer(|| ComposeLab::new(wall_clock_unix(), unique_token()));
    let draft = lab.draft.clone();
    // Memoized: a page render (each reply) must not re-encode a file.
    let composed = use_memo(draft, compose);
    let wire = Rc::new(composed.wire.clone());
    let envelope = props
        .envelope
        .mail_from
        .is_some()
        .then(|| props.envelope.clone());
    let dissection = use_memo((wire.clone(), envelope), |(wire, envelope)| {
        dissect_data(wire, envelope.as_ref(), false)
    });
    let can_send = props.receiving && props.connection.session.state.can_send();

    let text_input = |make: fn(String) -> ComposeAction| {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            dispatcher.dispatch(make(input.value()));
        })
    };
    let on_body = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            dispatcher.dispatch(ComposeAction::Body(area.value()));
        })
    };
    let on_file = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|list| list.get(0)) else {
                return;
            };
            if file.size() > MAX_ATTACHMENT as f64 {
                dispatcher.dispatch(ComposeAction::File(Err(format!(
                    "{} is {}; the helper attaches files of at most {}.",
                    file.name(),
                    plural(file.size() as usize, "byte"),
                    plural(MAX_ATTACHMENT, "byte")
                ))));
                return;
            }
            let dispatcher = dispatcher.clone();
            yew::platform::spawn_local(async move {
                let read = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                    Ok(buffer) => Ok(Attachment {
                        filename: file.name(),
                        media_type: file.type_(),
                        bytes: js_sys::Uint8Array::new(&buffer).to_vec(),
                    }),
                    Err(e) => Err(format!("cannot read the file: {e:?}")),
                };
                dispatcher.dispatch(ComposeAction::File(read));
            });
        })
    };
    let on_remove_file = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(ComposeAction::RemoveFile))
    };
    let on_send = {
        let connection = props.connection.clone();
        let wire = wire.clone();
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| {
            // Several WebSocket messages, one TCP stream: the server sees one block.
            for chunk in wire.chunks(SEND_CHUNK) {
                if !connection.send(chunk) {
                    break;
                }
            }
            dispatcher.dispatch(ComposeAction::Sent {
                date_unix: wall_clock_unix(),
                unique: unique_token(),
            });
        })
    };

    let hint = if can_send {
        if props.typed > 0 {
            format!(
                "The session is \"{}\". You typed {} of message text already: the block \
                 goes after them, ending the message.",
                props.state,
                plural(props.typed, "byte")
            )
        } else {
            format!(
                "The session is \"{}\": the server takes the next bytes as the message.",
                props.state
            )
        }
    } else {
        format!(
            "The session is \"{}\". The block can be sent once the server has answered DATA with \
             354 (\"{}\"): type HELO, MAIL FROM, RCPT TO and DATA first, by hand or with a replay.",
            props.state,
            SmtpState::ReceivingData.label()
        )
    };
    let lines = composed.wire.split(|&b| b == b'\n').count() - 1;

    let on_toggle = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(ComposeAction::Toggle))
    };
    let open = lab.open;
    let d = &lab.draft;
    html! {
        <section class={classes!("compose", open.then_some("open"))} data-testid="compose">
            <button class="secondary" data-testid="compose-toggle" onclick={on_toggle}>
                { if open { "▾ Compose helper" } else { "▸ Compose helper: let a mail program write the message (From, To, Subject, body, a file)" } }
            </button>
            // Rendered only when open, so its inspector does not stand
            // before the workbench's in the page.
            if open {
            <div class="compose-grid">
                <div class="compose-form">
                    <label>{ "From" }<input data-testid="compose-from" value={d.from.clone()} oninput={text_input(ComposeAction::From)} /></label>
                    <label>{ "To" }<input data-testid="compose-to" value={d.to.clone()} oninput={text_input(ComposeAction::To)} /></label>
                    <label>{ "Subject" }<input data-testid="compose-subject" value={d.subject.clone()} oninput={text_input(ComposeAction::Subject)} /></label>
                    <label class="body">{ "Body" }
                        <textarea data-testid="compose-body" rows="6" value={d.body.clone()} oninput={on_body} />
                    </label>
                    <label>{ "Attach a file " }
                        <input type="file" data-testid="compose-file" onchange={on_file} />
                    </label>
                    if let Some(file) = &d.attachment {
                        <p class="hint" data-testid="compose-attachment">
                            { format!("📎 {} ({}, {}) ", file.filename, plural(file.bytes.len(), "byte"),
                                      if file.media_type.is_empty() { "type unknown" } else { &file.media_type }) }
                            <button class="small" data-testid="compose-remove-file" onclick={on_remove_file}>{ "remove" }</button>
                        </p>
                    }
                    if let Some(e) = &lab.file_error { <p class="notice">{ e }</p> }
                    <h3>{ "What the helper did" }</h3>
                    <ul class="compose-steps" data-testid="compose-steps">
                        { for composed.steps.iter().map(|s| html! { <li>{ s }</li> }) }
                    </ul>
                </div>
                <div class="compose-result">
                    <h3>{ format!("The DATA section: {}, {}, CR LF shown as ␍␊", plural(composed.wire.len(), "byte"), plural(lines, "line")) }</h3>
                    <pre class="preview" data-testid="compose-preview">{ visible_multiline(&composed.wire) }</pre>
                    <div class="toolbar">
                        <button data-testid="compose-send" onclick={on_send} disabled={!can_send}>
                            { "Send as one block" }
                        </button>
                        <span class="hint" data-testid="compose-hint">{ hint }</span>
                    </div>
                    <h3>{ "Dissected as the server will read it" }</h3>
                    <Inspector bytes={wire} dissection={dissection} source="composed" />
                </div>
            </div>
            }
        </section>
    }
}
