//! The panel of the student chosen on the roster: their sessions (open
//! ones first; target, bytes each way, duration, and the recording's
//! transcript and pcapng when there is one), read again on every event of
//! the class feed that touches sessions (and every few seconds while one
//! is open, its bytes growing), and the reset and revoke buttons,
//! each confirmed in the page before it is sent. State in
//! [`super::student`].

use super::api::{self, RosterEntry};
use super::student::{Danger, ListedSession, PanelAction, Step, StudentPanel};
use yew::prelude::*;

/// How often the sessions are read again while one is open.
const OPEN_REFRESH_MS: u32 = 5_000;

#[derive(Properties, PartialEq)]
pub struct StudentPanelProps {
    pub class: String,
    pub student: RosterEntry,
    /// Goes up with the class feed's events: the sessions are read again.
    pub changes: u64,
    /// A reset or revoke was done: the roster should be read again.
    pub on_changed: Callback<()>,
    pub on_close: Callback<()>,
}

#[function_component(StudentPanelView)]
pub fn student_panel(props: &StudentPanelProps) -> Html {
    let panel = use_sessions(&props.class, &props.student.id, props.changes);
    let heading = use_focus_on_open(&props.student.id);
    let student = &props.student;
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    html! {
        <section class="student-panel" data-testid="student-panel" data-student={student.id.clone()}
            aria-labelledby="student-panel-title">
            <h4 id="student-panel-title" tabindex="-1" ref={heading}>{ format!("{}'s sessions", student.name) }</h4>
            <p><button class="small" data-testid="student-panel-close" onclick={close}>
                { "Close the panel" }</button></p>
            if let Some(e) = &panel.error {
                <p class="notice" role="alert">{ e }</p>
            }
            { sessions_table(&panel) }
            <Actions class={props.class.clone()} student={student.clone()} panel={panel.clone()}
                on_changed={props.on_changed.clone()} />
        </section>
    }
}

/// The panel's state, its sessions read when the student is chosen, on
/// each change the feed counts, and every [`OPEN_REFRESH_MS`] while one is
/// open (their bytes and durations grow between the feed's events).
#[hook]
fn use_sessions(class: &str, student: &str, changes: u64) -> UseReducerHandle<StudentPanel> {
    let panel = use_reducer(StudentPanel::default);
    {
        let dispatch = panel.dispatcher();
        let key = (class.to_string(), student.to_string(), changes);
        use_effect_with(key, move |(class, student, _)| {
            load(class.clone(), student.clone(), dispatch);
        });
    }
    {
        let dispatch = panel.dispatcher();
        let key = (
            class.to_string(),
            student.to_string(),
            !panel.open.is_empty(),
        );
        use_effect_with(key, move |(class, student, any_open)| {
            let (class, student) = (class.clone(), student.clone());
            let ticking = any_open.then(|| {
                gloo_timers::callback::Interval::new(OPEN_REFRESH_MS, move || {
                    load(class.clone(), student.clone(), dispatch.clone());
                })
            });
            move || drop(ticking)
        });
    }
    panel
}

/// A heading that takes the keyboard's focus when `student`'s panel opens
/// from the roster.
#[hook]
fn use_focus_on_open(student: &str) -> NodeRef {
    let heading = use_node_ref();
    {
        let heading = heading.clone();
        use_effect_with(student.to_string(), move |_| {
            if let Some(h) = heading.cast::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        });
    }
    heading
}

/// Reads the student's sessions, with the time they were read at.
fn load(class: String, student: String, dispatch: UseReducerDispatcher<StudentPanel>) {
    yew::platform::spawn_local(async move {
        dispatch.dispatch(match api::student_sessions(&class, &student).await {
            Ok(sessions) => PanelAction::Loaded {
                sessions,
                // Unix milliseconds fit a u64 for long after anyone reads this.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                now_ms: js_sys::Date::now() as u64,
            },
            Err(e) => PanelAction::LoadFailed(e.message),
        });
    });
}

fn sessions_table(panel: &StudentPanel) -> Html {
    let listed = panel.sessions();
    if !panel.loaded {
        return html! { <p>{ "Reading their sessions…" }</p> };
    }
    if listed.is_empty() {
        return html! { <p data-testid="student-no-sessions">{ "No sessions yet." }</p> };
    }
    html! {
        // Focusable, so a keyboard can scroll a table wider than the screen.
        <div class="table-scroll" tabindex="0" role="region" aria-label="The student's sessions">
            <table data-testid="student-sessions">
                <thead><tr>
                    <th scope="col">{ "Target" }</th>
                    <th scope="col">{ "State" }</th>
                    <th scope="col">{ "Sent" }</th>
                    <th scope="col">{ "Received" }</th>
                    <th scope="col">{ "Duration" }</th>
                    <th scope="col">{ "Recording" }</th>
                </tr></thead>
                <tbody>{ for listed.iter().map(session_row) }</tbody>
            </table>
        </div>
    }
}

fn session_row(session: &ListedSession<'_>) -> Html {
    let row = session.row;
    let state = if session.open { "open" } else { "finished" };
    let shown_state = if session.open {
        "open".to_string()
    } else {
        row.outcome.clone().unwrap_or_else(|| "finished".into())
    };
    let duration = super::student::duration(session.duration_ms);
    html! {
        <tr data-testid="student-session" data-state={state} data-target={row.target.clone()}>
            <td>{ &row.target }</td>
            <td>{ shown_state }</td>
            <td data-testid="session-sent">{ super::student::bytes(row.bytes_to_target) }</td>
            <td data-testid="session-received">{ super::student::bytes(row.bytes_to_page) }</td>
            <td>{ if session.open { format!("{duration} so far") } else { duration } }</td>
            <td>{ recording_links(row) }</td>
        </tr>
    }
}

fn recording_links(row: &super::student::SessionRow) -> Html {
    match (&row.text_url, &row.pcapng_url) {
        (Some(text), Some(pcapng)) => html! {
            <>
                <a href={text.clone()} target="_blank" rel="noopener"
                    data-testid="session-transcript">{ "transcript" }</a>
                { " · " }
                <a href={pcapng.clone()} download="" data-testid="session-pcapng">{ "pcapng" }</a>
            </>
        },
        _ => html! { { "not recorded" } },
    }
}

#[derive(Properties, PartialEq)]
struct ActionsProps {
    class: String,
    student: RosterEntry,
    panel: UseReducerHandle<StudentPanel>,
    on_changed: Callback<()>,
}

/// Reset and revoke, each with its "Are you sure?" step, and the outcome.
#[function_component(Actions)]
fn actions(props: &ActionsProps) -> Html {
    let panel = &props.panel;
    let confirm_button = use_node_ref();
    {
        // The question takes the focus, so a keyboard answers it next.
        let confirm_button = confirm_button.clone();
        use_effect_with(panel.step, move |step| {
            if matches!(step, Step::Confirming(_))
                && let Some(button) = confirm_button.cast::<web_sys::HtmlElement>()
            {
                let _ = button.focus();
            }
        });
    }
    let ask = |danger: Danger| {
        let dispatch = panel.dispatcher();
        Callback::from(move |_: MouseEvent| dispatch.dispatch(PanelAction::Ask(danger)))
    };
    let body = match panel.step {
        Step::Confirming(danger) => confirmation(
            danger,
            &props.student.name,
            confirm(props, danger),
            cancel(panel),
            &confirm_button,
        ),
        step => {
            let working = matches!(step, Step::Working(_));
            let revoked = props.student.revoked_at.is_some();
            html! {
                <p>
                    <button data-testid="student-reset" disabled={working} onclick={ask(Danger::Reset)}>
                        { "Reset their mailboxes and FTP home" }</button>
                    { " " }
                    <button data-testid="student-revoke" disabled={working || revoked}
                        onclick={ask(Danger::Revoke)}>
                        { if revoked { "Token revoked" } else { "Revoke their token" } }</button>
                </p>
            }
        }
    };
    html! {
        <div class="student-actions">
            { body }
            if let Some(outcome) = &panel.outcome {
                <p class={if outcome.ok { "outcome" } else { "notice" }} role="status"
                    data-testid="student-outcome" data-ok={outcome.ok.to_string()}>
                    { &outcome.text }</p>
            }
        </div>
    }
}

fn cancel(panel: &UseReducerHandle<StudentPanel>) -> Callback<MouseEvent> {
    let dispatch = panel.dispatcher();
    Callback::from(move |_: MouseEvent| dispatch.dispatch(PanelAction::Cancel))
}

/// Sends `danger` once confirmed, and tells the roster when it is done.
fn confirm(props: &ActionsProps, danger: Danger) -> Callback<MouseEvent> {
    let dispatch = props.panel.dispatcher();
    let (class, student) = (props.class.clone(), props.student.id.clone());
    let changed = props.on_changed.clone();
    Callback::from(move |_: MouseEvent| {
        dispatch.dispatch(PanelAction::Confirm);
        let (dispatch, class, student, changed) = (
            dispatch.clone(),
            class.clone(),
            student.clone(),
            changed.clone(),
        );
        yew::platform::spawn_local(async move {
            let answer = api::act_on_student(&class, &student, danger.route()).await;
            dispatch.dispatch(PanelAction::Answered(danger, answer.map_err(|e| e.message)));
            changed.emit(());
        });
    })
}

/// The inline "Are you sure?" step of `danger`.
fn confirmation(
    danger: Danger,
    name: &str,
    yes: Callback<MouseEvent>,
    no: Callback<MouseEvent>,
    yes_button: &NodeRef,
) -> Html {
    let (question, answer) = match danger {
        Danger::Reset => (
            format!(
                "Are you sure? {name}'s mailboxes go back to their seed messages and their \
                 FTP home to the demo files; what they changed is lost."
            ),
            "Yes, reset",
        ),
        Danger::Revoke => (
            format!(
                "Are you sure? {name}'s token stops working now and their open sessions end; \
                 they must join again to go on."
            ),
            "Yes, revoke",
        ),
    };
    html! {
        <div class="confirm" data-testid="student-confirm" data-action={danger.route()}>
            <p>{ question }</p>
            <p>
                <button ref={yes_button.clone()} data-testid="student-confirm-yes" onclick={yes}>
                    { answer }</button>
                { " " }
                <button data-testid="student-confirm-no" onclick={no}>{ "Cancel" }</button>
            </p>
        </div>
    }
}
