//! One class: its join link and code, a QR code of the link (drawn here
//! as SVG by the `qrcode` crate, nothing fetched), the roster with who is
//! online, kept live by the class's Server-Sent Events
//! (`/api/classes/{id}/events`: any event reloads the roster), the class
//! grid ([`super::grid`]), and the button that closes the class.

use super::api::{self, ClassInfo, RosterEntry};
use super::grid::ProgressGrid;
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
    let changes = use_live_feed(&class.id);
    html! {
        <section class="class-view" data-testid="class-view">
            <h2>{ &class.name }</h2>
            <p>{ "Join link: " }
                <a href={class.join_url.clone()} data-testid="join-link">{ &class.join_url }</a></p>
            <p>{ "Join code: " }<code data-testid="join-code">{ &class.join_code }</code></p>
            { qr_code(&class.join_url) }
            <Roster id={class.id.clone()} changes={changes} />
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
    /// Reloads the roster when it changes.
    changes: u64,
}

#[function_component(Roster)]
fn roster(props: &RosterProps) -> Html {
    let students = use_state(Vec::<RosterEntry>::new);
    let error = use_state(|| None::<String>);
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
    html! {
        <section class="roster">
            <h3>{ format!("Students ({})", students.len()) }</h3>
            if let Some(e) = &*error {
                <p class="notice" role="alert">{ e }</p>
            }
            <ul data-testid="roster">
                { for students.iter().map(roster_row) }
            </ul>
        </section>
    }
}

fn roster_row(s: &RosterEntry) -> Html {
    let state = match (s.revoked_at.is_some(), s.online) {
        (true, _) => "revoked",
        (false, true) => "online",
        (false, false) => "offline",
    };
    html! {
        <li data-testid={format!("student-{}", s.id)} data-state={state}>
            { &s.name }{ format!(" — {state}") }
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
