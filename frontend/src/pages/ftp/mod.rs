//! The FTP workbench: the course's example of out-of-band control. The
//! student types commands on the control connection, line by line as in a
//! telnet session; when the server answers 227 or 229 the page opens the
//! data connection itself through the relay, and in active mode it asks the
//! relay to listen and writes the PORT command for that address, with the
//! `p1*256+p2` arithmetic shown. Every data connection has its own lane in
//! the transcript and in the timeline, so the control connection is seen to
//! stay open while data connections open and close per file. Listings are
//! dissected column by column, downloads can be saved, uploads (STOR) come
//! from a file picker.
//!
//! - [`lab`]: the state (control and data sessions), a plain-Rust reducer;
//! - [`driver`]: the live connections and the client engine that decides
//!   which data connection to open;
//! - [`view`]: transcript rows and timeline built from the state.
//!
//! FTP's data connections are real TCP connections the relay opens, so the
//! page needs the relay: without one it says so.

pub mod bench;
pub mod driver;
pub mod lab;
pub mod view;

use crate::callbacks;
use crate::components::dialogue_bar::DialogueBar;
use crate::components::inspector::Inspector;
use crate::components::messages::{badge, format_time};
use crate::components::target_picker::{TargetPicker, pick, server_label};
use crate::components::timeline::Timeline;
use crate::plural::plural;
use crate::relay_info::use_relay_info;
use crate::route::Route;
use crate::session::Direction;
use bench::BenchAction;
use driver::{DEFAULT_UPLOAD, Driver, Upload};
use lab::{FtpAction, FtpLab, ListenOffer};
use std::rc::Rc;
use view::{FtpView, Pick, Row, RowKind, RowLane};
use web_sys::HtmlInputElement;
use wirelab_shared::conversation::{Dialogue, Message};
use wirelab_shared::dissect::Dissection;
use wirelab_shared::ftp::dialogues::{DIALOGUES, PORT_STEP};
use wirelab_shared::ftp::dissect::dissect_command_in;
use wirelab_shared::ftp::session::{DataKind, SessionState};
use wirelab_shared::text::{visible, visible_multiline};
use yew::prelude::*;
use yew_router::prelude::*;

/// Largest file the picker accepts for STOR: the page keeps it in memory
/// and shows it in the transcript.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

/// What the inspector shows: bytes, their dissection, where they came from.
type Shown = (Rc<Vec<u8>>, Rc<Dissection>, &'static str);

/// A message as the inspector shows it.
fn shown_message(m: &Message) -> Shown {
    (
        Rc::new(m.bytes.clone()),
        Rc::new(m.dissection.clone()),
        Direction::of(m.sender).as_str(),
    )
}

/// Characters of a data connection's bytes shown in its transcript row.
const DATA_PREVIEW: usize = 600;

/// The bytes a typed line becomes: the line and CR LF.
pub fn command_bytes(text: &str) -> Vec<u8> {
    let mut bytes = text.trim_end_matches(['\r', '\n']).as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    bytes
}

/// The name STOR should use for a local file: its last path part, with
/// spaces replaced so the command line stays one argument a student can read.
pub fn upload_name(file_name: &str) -> String {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if name.is_empty() {
        "upload.bin".into()
    } else {
        name
    }
}

#[function_component(FtpPage)]
pub fn ftp_page() -> Html {
    let offline = use_relay_info().is_offline();
    html! {
        <section class="page">
            <h1>{ "FTP: control and data connections" }</h1>
            <p class="intro">
                { "FTP keeps one control connection open for the whole session: commands and \
                   replies travel on it as lines of text, and the server remembers who you are \
                   and where you are. Every listing and every file travels on a new data \
                   connection, opened for it and closed at its end. Log in, send PASV, then LIST \
                   or RETR: the page opens each data connection itself, and the timeline shows \
                   them next to the control connection." }
            </p>
            if offline {
                <p class="notice" data-testid="needs-relay">
                    { "FTP needs the relay: its data connections are real TCP connections that \
                       only the relay can open. Start the lab with " }<code>{ "cargo xtask run" }</code>
                    { " (or the wirelab binary) and reload this page. Meanwhile the " }
                    <Link<Route> to={Route::Http}>{ "HTTP workbench" }</Link<Route>>
                    { " works without it." }
                </p>
            } else {
                <FtpWorkbench />
            }
        </section>
    }
}

/// The session state the course names, as the replies set it up.
fn state_panel(state: &SessionState, transfer_open: Option<&str>) -> Html {
    html! {
        <dl class="ftp-state" data-testid="protocol-state">
            <dt>{ "Login" }</dt>
            <dd data-testid="ftp-login" data-logged-in={state.login.is_logged_in().to_string()}>
                { state.login.to_string() }
            </dd>
            <dt>{ "Current directory" }</dt>
            <dd data-testid="ftp-cwd"><code>{ &state.cwd }</code></dd>
            <dt>{ "Transfer type" }</dt>
            <dd data-testid="ftp-type">{ state.transfer_type.to_string() }</dd>
            <dt>{ "Data connection" }</dt>
            <dd data-testid="ftp-data-setup">
                { state.data.to_string() }
                if let Some(t) = transfer_open { { format!(" — transferring: {t}") } }
            </dd>
        </dl>
    }
}

fn kind_text(kind: &DataKind) -> String {
    match kind {
        DataKind::Listing => "a listing (LIST)".into(),
        DataKind::NameList => "names (NLST)".into(),
        DataKind::Download { path } | DataKind::Upload { path, .. } => {
            format!("the file {path} ({})", kind.verb())
        }
    }
}

/// Saves bytes as a file through a temporary Blob URL.
fn save_file(name: &str, bytes: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let save = || -> Option<()> {
            let array = js_sys::Uint8Array::from(bytes);
            let parts = js_sys::Array::of1(&array);
            let options = web_sys::BlobPropertyBag::new();
            options.set_type("application/octet-stream");
            let blob =
                web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
            let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
            let document = web_sys::window()?.document()?;
            let anchor: web_sys::HtmlAnchorElement =
                document.create_element("a").ok()?.dyn_into().ok()?;
            anchor.set_href(&url);
            anchor.set_download(name);
            anchor.click();
            // The download has started; the URL may go once this turn ends.
            gloo_timers::callback::Timeout::new(1_000, move || {
                let _ = web_sys::Url::revoke_object_url(&url);
            })
            .forget();
            Some(())
        };
        if save().is_none() {
            web_sys::console::warn_1(&format!("could not save {name}").into());
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, bytes);
}

/// Reads the file chosen in `input`, then hands it to `done`.
fn read_chosen_file(input: &HtmlInputElement, done: Callback<Result<Upload, String>>) {
    let Some(file) = input.files().and_then(|files| files.get(0)) else {
        return;
    };
    let name = file.name();
    let size = file.size() as usize;
    if size > MAX_UPLOAD_BYTES {
        done.emit(Err(format!(
            "{name} has {}; the lab uploads files up to {}",
            plural(size, "byte"),
            plural(MAX_UPLOAD_BYTES, "byte")
        )));
        return;
    }
    let promise = file.array_buffer();
    yew::platform::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(buffer) => {
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                done.emit(Ok(Upload {
                    name,
                    bytes: Rc::new(bytes),
                }));
            }
            Err(e) => done.emit(Err(format!("could not read {name}: {e:?}"))),
        }
    });
}

fn row_html(row: &Row, lab: &FtpLab, selected: Option<Pick>, on_select: &Callback<Pick>) -> Html {
    let direction = row.direction();
    let (lane_tag, channel) = match row.lane {
        RowLane::Control => ("control".to_string(), None),
        RowLane::Data(n) => (
            lab.channel(n)
                .map(|c| c.label())
                .unwrap_or_else(|| format!("data #{n}")),
            Some(n),
        ),
    };
    let lane_class = match row.lane {
        RowLane::Control => "lane-control",
        RowLane::Data(_) => "lane-data",
    };
    match &row.kind {
        RowKind::Message {
            pick,
            message,
            partial,
        } => {
            let pick = *pick;
            let on_select = on_select.clone();
            let onclick = Callback::from(move |_: MouseEvent| on_select.emit(pick));
            let badge = badge(&message.dissection);
            let shown = if channel.is_some() {
                html! { <pre class="data-preview">{ crate::follow::short(&visible_multiline(&message.bytes), DATA_PREVIEW) }</pre> }
            } else {
                html! { <code class="bytes">{ crate::follow::short(&visible(&message.bytes), 160) }</code> }
            };
            html! {
                <li key={row.key()} data-testid={if *partial { "message-partial" } else { "transcript-entry" }}
                    data-direction={direction.as_str()}
                    data-lane={row.lane.key()} data-channel={channel.map(|n| n.to_string())}
                    data-pick={pick.id().to_string()}
                    class={classes!("entry", direction.as_str(), lane_class, partial.then_some("partial"),
                        (selected == Some(pick)).then_some("selected"),
                        (!message.complete).then_some("incomplete"))}
                    onclick={onclick}>
                    <span class="lane-tag">{ lane_tag }</span>
                    <span class="arrow">{ direction.arrow() }</span>
                    <span class="time">{ format_time(row.t_ms) }</span>
                    <span class="summary">{ &message.dissection.summary }</span>
                    <span class="length">{ format!("{} B", message.bytes.len()) }</span>
                    { for badge }
                    { shown }
                </li>
            }
        }
        RowKind::Event { text, .. } => html! {
            <li key={row.key()} data-testid="transcript-entry" data-direction="event"
                data-lane={row.lane.key()} data-channel={channel.map(|n| n.to_string())}
                class={classes!("entry", "event", lane_class)}>
                <span class="lane-tag">{ lane_tag }</span>
                <span class="arrow">{ "•" }</span>
                <span class="time">{ format_time(row.t_ms) }</span>
                <span class="event-text">{ text }</span>
            </li>
        },
    }
}

fn channels_html(lab: &FtpLab, view: &FtpView, on_select: &Callback<Pick>) -> Html {
    if lab.channels.is_empty() {
        return html! {
            <p class="hint" data-testid="data-channels" data-count="0">
                { "No data connection yet: after PASV (or EPSV) the page opens one to the port \
                   the server names; for PORT, press \"Active mode\" first." }
            </p>
        };
    }
    let rows = lab.channels.iter().map(|c| {
        let n = c.number;
        let received = view.message(Pick::DataIn(n)).cloned();
        let sent = view.message(Pick::DataOut(n)).cloned();
        let bytes = received.as_ref().map_or(0, |m| m.bytes.len()) + sent.as_ref().map_or(0, |m| m.bytes.len());
        let save = match (c.file_name(), &received) {
            (Some(name), Some(m)) if !c.session.state.is_active() => {
                let bytes = m.bytes.clone();
                let file = name.clone();
                let onclick = Callback::from(move |_: MouseEvent| save_file(&file, &bytes));
                html! { <button class="small save" data-testid="save-file" data-name={name.clone()}
                                title="Save the bytes as they arrived on the data connection (in ASCII mode, with CR LF line ends)"
                                onclick={onclick}>{ format!("save {name}") }</button> }
            }
            _ => html! {},
        };
        let show = {
            let on_select = on_select.clone();
            let pick = if sent.is_some() { Pick::DataOut(n) } else { Pick::DataIn(n) };
            let has = received.is_some() || sent.is_some();
            has.then(|| html! {
                <button class="small" data-testid="show-data" onclick={Callback::from(move |_: MouseEvent| on_select.emit(pick))}>{ "inspect" }</button>
            })
        };
        html! {
            <li key={n} class={classes!("data-channel", c.session.state.key())} data-testid="data-channel"
                data-number={n.to_string()} data-state={c.session.state.key()}>
                <strong>{ format!("#{n}") }</strong>
                <span class="what">{ c.kind.as_ref().map(kind_text).unwrap_or_else(|| "not claimed by a transfer yet".into()) }</span>
                <span class="how">{ c.origin.explain() }</span>
                if let Some(name) = &c.upload_name { <span class="how">{ format!("sent: {name}") }</span> }
                <span class="state">{ c.session.state.describe() }</span>
                <span class="length">{ format!("{bytes} B") }</span>
                { for show }
                { save }
            </li>
        }
    });
    html! {
        <ul class="data-channels" data-testid="data-channels" data-count={lab.channels.len().to_string()}>
            { for rows }
        </ul>
    }
}

fn port_explain(offer: &ListenOffer) -> Html {
    html! {
        <div class="port-explain" data-testid="port-explain" data-addr={offer.addr.clone()}>
            <p>{ &offer.explanation }</p>
            if let Some(line) = &offer.port_line {
                <p>{ "The line is in the editor: press Enter to send it, then RETR, LIST or STOR. \
                      The relay hands the server's connection to data connection " }
                   <strong>{ format!("#{}", offer.channel) }</strong>{ ". " }
                   <code data-testid="port-line">{ line }</code></p>
            }
        </div>
    }
}

#[function_component(FtpWorkbench)]
fn ftp_workbench() -> Html {
    let info = use_relay_info();
    let targets = info.targets_of("ftp");
    let online = info.is_online();
    let lab = use_reducer(FtpLab::default);
    let driver = {
        let dispatcher = lab.dispatcher();
        use_mut_ref(move || Driver::new(Callback::from(move |a| dispatcher.dispatch(a))))
    };
    {
        // Unmounting closes every connection.
        let driver = driver.clone();
        use_effect_with((), move |_| move || driver.borrow_mut().close_all());
    }

    let bench = &lab.bench;
    let target = pick(&targets, bench.chosen.as_deref()).cloned();
    let server_label = server_label(target.as_ref());
    let view = view::build(&lab, &server_label);
    let client = view.conversation.client();
    let state = &lab.control.state;
    let active = state.is_active();
    let can_send = state.can_send();
    let editor = use_node_ref();

    let on_target = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |name: String| {
            dispatcher.dispatch(FtpAction::Bench(BenchAction::Target(name)))
        })
    };
    let on_connect = {
        let driver = driver.clone();
        let target = target.clone();
        let dispatcher = lab.dispatcher();
        let connect = Callback::from(move |_: MouseEvent| {
            if let Some(t) = &target {
                dispatcher.dispatch(FtpAction::Bench(BenchAction::Connect));
                Driver::connect(&driver, t);
            }
        });
        callbacks::then_focus(&editor, connect)
    };
    let on_disconnect = {
        let driver = driver.clone();
        Callback::from(move |_: MouseEvent| Driver::disconnect(&driver))
    };
    let send: Rc<dyn Fn()> = {
        let driver = driver.clone();
        let (editor, draft) = (editor.clone(), bench.draft.clone());
        let dispatcher = lab.dispatcher();
        Rc::new(move || {
            let line = callbacks::editor_text(&editor, &draft);
            if line.trim().is_empty() {
                return;
            }
            if Driver::send_line(&driver, &command_bytes(&line)) {
                dispatcher.dispatch(FtpAction::Bench(BenchAction::Sent));
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
            dispatcher.dispatch(FtpAction::Bench(BenchAction::Typed(input.value())));
        })
    };
    let listen = {
        let driver = driver.clone();
        let dispatcher = lab.dispatcher();
        Rc::new(move || {
            let notice = Driver::listen(&driver).err();
            dispatcher.dispatch(FtpAction::Bench(BenchAction::Notice(notice)));
        })
    };
    let on_listen = {
        let listen = listen.clone();
        callbacks::then_focus(&editor, Callback::from(move |_: MouseEvent| listen()))
    };
    let on_file = {
        let driver = driver.clone();
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let driver = driver.clone();
            let dispatcher = dispatcher.clone();
            read_chosen_file(
                &input,
                Callback::from(move |read: Result<Upload, String>| {
                    if let Ok(file) = &read {
                        driver.borrow_mut().set_upload(Some(file.clone()));
                    }
                    dispatcher.dispatch(FtpAction::Bench(BenchAction::File(read)));
                }),
            );
        })
    };
    let on_forget_file = {
        let driver = driver.clone();
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| {
            driver.borrow_mut().set_upload(None);
            dispatcher.dispatch(FtpAction::Bench(BenchAction::ForgetFile));
        })
    };
    let on_select = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |pick: Pick| {
            dispatcher.dispatch(FtpAction::Bench(BenchAction::Select(Some(pick))))
        })
    };
    let on_select_id = {
        let on_select = on_select.clone();
        Callback::from(move |id: usize| on_select.emit(Pick::from_id(id)))
    };
    let on_choose_dialogue = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |chosen: Option<&'static Dialogue>| {
            dispatcher.dispatch(FtpAction::Bench(BenchAction::Dialogue(chosen)))
        })
    };
    let on_next_step = {
        let next = bench.next_line();
        let listen = listen.clone();
        let dispatcher = lab.dispatcher();
        let next = Callback::from(move |_: MouseEvent| {
            if next == Some(PORT_STEP) {
                // The PORT line is written when the relay says where it listens.
                listen();
            }
            dispatcher.dispatch(FtpAction::Bench(BenchAction::NextLine));
        });
        callbacks::then_focus(&editor, next)
    };

    // The inspector: the selected message, else the line being typed, else
    // the newest message.
    let shown: Option<Shown> = bench
        .selected
        .and_then(|p| view.message(p))
        .map(|m| shown_message(m))
        .or_else(|| {
            (!bench.draft.trim().is_empty()).then(|| {
                let bytes = command_bytes(&bench.draft);
                let d = dissect_command_in(&bytes, client);
                (Rc::new(bytes), Rc::new(d), "draft")
            })
        })
        .or_else(|| view.latest().map(|(_, m)| shown_message(m)));
    let selected_data = bench.selected.filter(|p| !matches!(p, Pick::Control(_)));
    let transfer = client.transfer().map(kind_text);
    let rows = view
        .rows
        .iter()
        .map(|r| row_html(r, &lab, bench.selected, &on_select));

    html! {
        <div class="workbench ftp">
            <div class="toolbar">
                <TargetPicker targets={targets.clone()} selected={target.as_ref().map(|t| t.name.clone())}
                              on_change={on_target} disabled={active} />
                <button data-testid="connect" onclick={on_connect} disabled={active || target.is_none()}>{ "Connect" }</button>
                <button data-testid="disconnect" onclick={on_disconnect} disabled={!active}>{ "Disconnect" }</button>
            </div>
            if let Some(t) = &target {
                <p class="target-description">{ &t.description }</p>
            } else if online {
                <p class="notice" data-testid="no-target">{ "This relay has no FTP server in its catalog." }</p>
            }
            <p class={classes!("conn-state", state.key())} data-testid="conn-state" data-state={state.key()}>
                { "Control connection: " }{ state.describe() }
            </p>
            { state_panel(client.state(), transfer.as_deref()) }
            <DialogueBar dialogues={DIALOGUES} dialogue={bench.dialogue} step={bench.step}
                         on_choose={on_choose_dialogue} on_next={on_next_step} />
            <div class="composer">
                <input type="text" data-testid="editor" class="editor" ref={editor.clone()}
                       placeholder={if can_send { "type a command, Enter sends it with CR LF" } else { "connect first" }}
                       value={bench.draft.clone()} oninput={on_input} onkeydown={on_key}
                       spellcheck="false" autocomplete="off" />
                <button data-testid="send" onclick={on_send} disabled={!can_send}>{ "Send" }</button>
                <button class="secondary" data-testid="listen" onclick={on_listen} disabled={!can_send}
                        title="Ask the relay to listen for the server's data connection, and write the PORT command">
                    { "Active mode (PORT)" }
                </button>
            </div>
            <div class="toolbar upload">
                <label>{ "File for STOR " }
                    <input type="file" data-testid="upload-file" onchange={on_file} />
                </label>
                <span class="hint" data-testid="upload-chosen">
                    { match &bench.upload {
                        Some(u) => format!("{} ({}) will be sent by STOR and APPE", u.name, plural(u.bytes.len(), "byte")),
                        None => format!("no file chosen: STOR sends {} of text", plural(DEFAULT_UPLOAD.len(), "byte")),
                    } }
                </span>
                if bench.upload.is_some() {
                    <button class="small" data-testid="upload-forget" onclick={on_forget_file}>{ "forget it" }</button>
                }
            </div>
            if let Some(why) = &bench.notice { <p class="notice" data-testid="ftp-notice">{ why }</p> }
            if let Some(offer) = &lab.listening { { port_explain(offer) } }
            <div class="panes">
                <div class="pane">
                    <h2>{ "Transcript: the control connection, and each data connection in its own lane" }</h2>
                    <ol class="transcript lanes" data-testid="transcript">{ for rows }</ol>
                    <h2>{ "Data connections" }</h2>
                    { channels_html(&lab, &view, &on_select) }
                </div>
                <div class="pane">
                    <h2>{ "Dissection" }</h2>
                    if let Some((bytes, dissection, source)) = shown {
                        <Inspector bytes={bytes.clone()} dissection={dissection} source={source} />
                        if selected_data.is_some() {
                            <h3>{ "As it arrived on the data connection" }</h3>
                            <pre class="preview" data-testid="raw">{ crate::follow::short(&visible_multiline(&bytes), 20_000) }</pre>
                        }
                    } else {
                        <section class="dissection empty" data-testid="dissection">
                            <p class="hint">{ "Type a command or click a message to see it taken apart." }</p>
                        </section>
                    }
                </div>
            </div>
            <h2>{ "Timeline" }</h2>
            <Timeline lanes={view.lanes.clone()} arrows={view.arrows.clone()}
                      selected={bench.selected.map(Pick::id)} on_select={on_select_id} />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lines_get_one_cr_lf() {
        assert_eq!(command_bytes("USER anonymous"), b"USER anonymous\r\n");
        assert_eq!(command_bytes("PWD\r\n"), b"PWD\r\n");
    }

    #[test]
    fn upload_names_are_one_plain_argument() {
        assert_eq!(upload_name("C:\\Users\\me\\my notes.txt"), "my_notes.txt");
        assert_eq!(upload_name("/tmp/a.png"), "a.png");
        assert_eq!(upload_name("  "), "upload.bin");
    }
}
