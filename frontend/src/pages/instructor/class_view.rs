//! One class: its join link and code, a QR code of the link (drawn here
//! as SVG by the `qrcode` crate, nothing fetched), the roster with who is
//! online, kept live by the class's Server-Sent Events
//! (`/api/classes/{id}/events`: any event reloads the roster), the class
//! grid ([`super::grid`]), the chosen student's panel
//! ([`super::student_panel`]), the class's settings
//! ([`super::settings_form`]), and the button that closes the class.

use super::api::{self, ClassInfo, RosterEntry};
use super::grid::ProgressGrid;
use super::settings_form::ClassSettings;
use super::student_panel::StudentPanelView;
use gloo_events::EventListener;
use yew::prelude::*;

/// The event kinds of the class feed that change the roster.
const ROSTER_EVENTS: &[&str] = &[
    "joined",
    "session_opened",
    "session_closed",
    "revoked",
    "class_closed",
    "lagged",
];

#[derive(Properties, PartialEq)]
pub struct ClassViewProps {
    pub class: ClassInfo,
    /// The class was closed here.
    pub on_closed: Callback<()>,
}

#[function_component(ClassView)]
pub fn class_view(props: &ClassViewProps) -> Html {
    let class = &props.class;
    // The feed's events, plus this page's own resets and revocations (the
    // roster is right at once even if the feed is slow).
    let done_here = use_state(|| 0u64);
    let changes = use_live_feed(&class.id) + *done_here;
    let on_changed = {
        let done_here = done_here.clone();
        Callback::from(move |_: ()| done_here.set(*done_here + 1))
    };
    html! {
        <section class="class-view" data-testid="class-view">
            <h2>{ &class.name }</h2>
            <p>{ "Join link: " }
                <a href={class.join_url.clone()} data-testid="join-link">{ &class.join_url }</a></p>
            <p>{ "Join code: " }<code data-testid="join-code">{ &class.join_code }</code></p>
            { qr_code(&class.join_url) }
            <Roster id={class.id.clone()} changes={changes} on_changed={on_changed} />
            <ClassSettings class={class.id.clone()} />
            <ProgressGrid id={class.id.clone()} />
            if !class.closed {
                <CloseButton id={class.id.clone()} on_closed={props.on_closed.clone()} />
            }
        </section>
    }
}

/// The join link as a QR code, or nothing if it cannot be one.
fn qr_code(url: &str) -> Html {
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else {
        return Html::default();
    };
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    html! {
        <figure class="join-qr" data-testid="join-qr" role="img"
            aria-label={format!("QR code of the join link {url}")}>
            { Html::from_html_unchecked(svg.into()) }
        </figure>
    }
}

/// A counter that goes up with every roster-changing event of class `id`.
#[hook]
fn use_live_feed(id: &str) -> u64 {
    let changes = use_state(|| 0u64);
    let counter = use_mut_ref(|| 0u64);
    {
        let changes = changes.clone();
        use_effect_with(id.to_string(), move |id| {
            let source = web_sys::EventSource::new(&format!("/api/classes/{id}/events")).ok();
            let mut listeners: Vec<EventListener> = Vec::new();
            for s in source.iter() {
                for kind in ROSTER_EVENTS {
                    let (changes, counter) = (changes.clone(), counter.clone());
                    listeners.push(EventListener::new(s, *kind, move |_| {
                        *counter.borrow_mut() += 1;
                        changes.set(*counter.borrow());
                    }));
                }
            }
            move || {
                drop(listeners);
                if let Some(s) = source {
                    s.close();
                }
            }
        });
    }
    *changes
}

#[derive(Properties, PartialEq)]
struct RosterProps {
    id: String,
    /// Reloads the roster (and the open panel's sessions) when it changes.
    changes: u64,
    /// The panel reset or revoked its student.
    on_changed: Callback<()>,
}

#[function_component(Roster)]
fn roster(props: &RosterProps) -> Html {
    let students = use_state(Vec::<RosterEntry>::new);
    let error = use_state(|| None::<String>);
    let chosen = use_state(|| None::<String>);
    {
        let (students, error) = (students.clone(), error.clone());
        use_effect_with((props.id.clone(), props.changes), move |(id, _)| {
            let id = id.clone();
            yew::platform::spawn_local(async move {
                match api::roster(&id).await {
                    Ok(found) => students.set(found),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        });
    }
    let shown = chosen
        .as_ref()
        .and_then(|id| students.iter().find(|s| &s.id == id).cloned());
    let panel_key = shown.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    let close = {
        let chosen = chosen.clone();
        Callback::from(move |_: ()| {
            // The keyboard's focus goes back to the student's button.
            if let Some(id) = chosen.as_ref() {
                focus_student_button(id);
            }
            chosen.set(None);
        })
    };
    html! {
        <section class="roster">
            <h3>{ format!("Students ({})", students.len()) }</h3>
            if let Some(e) = &*error {
                <p class="notice" role="alert">{ e }</p>
            }
            <ul data-testid="roster">
                { for students.iter().map(|s| roster_row(s, &chosen)) }
            </ul>
            if let Some(student) = shown {
                <StudentPanelView key={panel_key} class={props.id.clone()} {student}
                    changes={props.changes} on_changed={props.on_changed.clone()} on_close={close} />
            }
        </section>
    }
}

fn focus_student_button(id: &str) {
    let selector = format!("[data-testid=\"student-open\"][data-student=\"{id}\"]");
    let button = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
    if let Some(button) = button {
        let _ = button.focus();
    }
}

/// One student: their name is the button that opens their panel.
fn roster_row(s: &RosterEntry, chosen: &UseStateHandle<Option<String>>) -> Html {
    let state = match (s.revoked_at.is_some(), s.online) {
        (true, _) => "revoked",
        (false, true) => "online",
        (false, false) => "offline",
    };
    let open = chosen.as_deref() == Some(s.id.as_str());
    let onclick = {
        let (chosen, id) = (chosen.clone(), s.id.clone());
        Callback::from(move |_: MouseEvent| chosen.set(Some(id.clone())))
    };
    html! {
        <li data-testid={format!("student-{}", s.id)} data-state={state}>
            <button class="link" data-testid="student-open" data-student={s.id.clone()}
                aria-expanded={open.to_string()} {onclick}>{ &s.name }</button>
            { format!(" — {state}") }
            if s.online {
                { format!(", {} open", s.open_sessions) }
            }
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct CloseProps {
    id: String,
    on_closed: Callback<()>,
}

#[function_component(CloseButton)]
fn close_button(props: &CloseProps) -> Html {
    let onclick = {
        let (id, done) = (props.id.clone(), props.on_closed.clone());
        Callback::from(move |_: MouseEvent| {
            let (id, done) = (id.clone(), done.clone());
            yew::platform::spawn_local(async move {
                if api::close_class(&id).await.is_ok() {
                    done.emit(());
                }
            });
        })
    };
    html! {
        <p><button data-testid="class-close" {onclick}>{ "Close the class" }</button></p>
    }
}
