//! `/instructor`: the instructor signs in with the instructor secret (the
//! relay answers with a session cookie; the page keeps nothing), makes and
//! closes classes, shows a class's join link with a QR code drawn here as
//! SVG, its roster, and its grid of students × tasks, kept live by the
//! class's event feed; a student chosen on the roster opens their panel
//! (sessions with their recordings, reset, revoke), and the class's
//! settings are a form.

mod api;
mod class_view;
mod classes;
mod grid;
mod progress;
mod settings;
mod settings_form;
mod student;
mod student_panel;

use crate::api::ApiError;
use yew::prelude::*;

/// Where the page is: asking the relay, signed out, signed in, or on a
/// relay without classroom mode.
#[derive(Debug, Clone, PartialEq)]
enum Standing {
    Checking,
    SignedOut,
    SignedIn,
    NoClassroom(String),
}

fn standing_of(answer: Result<bool, ApiError>) -> Standing {
    match answer {
        Ok(true) => Standing::SignedIn,
        Ok(false) => Standing::SignedOut,
        Err(e) if e.status == Some(404) => Standing::NoClassroom(
            "This relay is not in classroom mode: start it with --classroom to host a class."
                .into(),
        ),
        Err(e) => Standing::NoClassroom(e.message),
    }
}

#[function_component(InstructorPage)]
pub fn instructor_page() -> Html {
    let standing = use_state(|| Standing::Checking);
    {
        let standing = standing.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                standing.set(standing_of(api::signed_in().await));
            });
        });
    }
    let set = |to: Standing| {
        let standing = standing.clone();
        Callback::from(move |_: ()| standing.set(to.clone()))
    };
    html! {
        <section class="page instructor" data-testid="instructor-page">
            <h1>{ "Instructor" }</h1>
            { match &*standing {
                Standing::Checking => html! { <p>{ "Asking the relay…" }</p> },
                Standing::NoClassroom(why) => html! {
                    <p class="notice" data-testid="instructor-unavailable">{ why }</p>
                },
                Standing::SignedOut => html! { <SignIn on_signed_in={set(Standing::SignedIn)} /> },
                Standing::SignedIn => html! {
                    <>
                        <SignOut on_signed_out={set(Standing::SignedOut)} />
                        <classes::Classes />
                    </>
                },
            } }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SignInProps {
    on_signed_in: Callback<()>,
}

/// The sign-in form: the secret goes to the relay in the body, once.
#[function_component(SignIn)]
fn sign_in(props: &SignInProps) -> Html {
    let secret = use_node_ref();
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (secret, error, done) = (secret.clone(), error.clone(), props.on_signed_in.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(input) = secret.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let typed = input.value();
            input.set_value("");
            let (error, done) = (error.clone(), done.clone());
            yew::platform::spawn_local(async move {
                match api::sign_in(&typed).await {
                    Ok(()) => done.emit(()),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    html! {
        <form class="sign-in" {onsubmit}>
            <p>{ "The instructor secret is in the file the relay named when it started \
                  (classroom/instructor.secret in its data directory)." }</p>
            <label for="instructor-secret">{ "Instructor secret" }</label>
            <input id="instructor-secret" type="password" autocomplete="current-password"
                data-testid="instructor-secret" ref={secret} required=true />
            <button type="submit" data-testid="instructor-sign-in">{ "Sign in" }</button>
            if let Some(e) = &*error {
                <p class="notice" role="alert" data-testid="instructor-error">{ e }</p>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct SignOutProps {
    on_signed_out: Callback<()>,
}

#[function_component(SignOut)]
fn sign_out(props: &SignOutProps) -> Html {
    let onclick = {
        let done = props.on_signed_out.clone();
        Callback::from(move |_: MouseEvent| {
            let done = done.clone();
            yew::platform::spawn_local(async move {
                // Signed out on the page either way; the cookie expires anyway.
                let _ = api::sign_out().await;
                done.emit(());
            });
        })
    };
    html! {
        <p><button class="small" data-testid="instructor-sign-out" {onclick}>{ "Sign out" }</button></p>
    }
}
