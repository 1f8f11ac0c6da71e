//! The app shell: the header with the relay's state, the navigation, and
//! the routed page. On start it asks the relay for its health and catalog;
//! with no relay, the page falls back to its in-browser servers
//! ([`crate::relay_info`]).

use crate::components::relay_status::RelayStatusBadge;
use crate::components::shortcuts::ShortcutsDialog;
use crate::pages::{home::Home, http::HttpPage, not_found::NotFound, sockets::Sockets};
use crate::relay_info::{RelayInfo, RelayStatus};
use crate::route::{Route, nav_entries};
use crate::settings::{LabSettings, SettingsBar, SettingsHandle};
use yew::prelude::*;
use yew_router::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    let info = use_state(RelayInfo::default);
    let settings: SettingsHandle = use_state(LabSettings::load);
    use_effect_with(*settings, |chosen| chosen.save());
    {
        let info = info.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move { info.set(crate::relay_info::check().await) });
        });
    }
    html! {
        <BrowserRouter>
            <ContextProvider<RelayInfo> context={(*info).clone()}>
            <ContextProvider<SettingsHandle> context={settings.clone()}>
                <header class="top">
                    <Link<Route> to={Route::Home} classes="brand">{ "wirelab" }</Link<Route>>
                    <Nav />
                    if info.is_online() {
                        <SettingsBar settings={settings.clone()} />
                    }
                    <RelayStatusBadge />
                    <ShortcutsDialog />
                </header>
                <main>
                    // Inside the main landmark, so a screen reader's
                    // landmark list reaches it.
                    if let RelayStatus::Locked { message } = &info.status {
                        <p class="notice locked" data-testid="locked">
                            { format!("{message} ") }
                            { "Open the join link your instructor gave you, then come back to this page." }
                        </p>
                    }
                    <Switch<Route> render={switch} />
                </main>
            </ContextProvider<SettingsHandle>>
            </ContextProvider<RelayInfo>>
        </BrowserRouter>
    }
}

#[function_component(Nav)]
fn nav() -> Html {
    let current = use_route::<Route>();
    html! {
        <nav class="protocols">
            { for nav_entries().into_iter().map(|entry| {
                let active = current.as_ref() == Some(&entry.route);
                html! {
                    <span data-testid={format!("nav-{}", entry.key)}
                          class={classes!("nav-item", active.then_some("active"))}>
                        <Link<Route> to={entry.route}>{ entry.label }</Link<Route>>
                    </span>
                }
            }) }
        </nav>
    }
}

/// The name of `route`'s page in the task files, for the pages with tasks.
fn task_page(route: &Route) -> Option<&'static str> {
    Some(match route {
        Route::Http => "http",
        Route::Smtp => "smtp",
        Route::Pop3 => "pop3",
        Route::Ftp => "ftp",
        Route::Dns => "dns",
        Route::Sockets => "sockets",
        Route::Home
        | Route::Imap
        | Route::ResponseTime
        | Route::P2p
        | Route::Caching
        | Route::Bench
        | Route::Instructor
        | Route::NotFound => return None,
    })
}

fn switch(route: Route) -> Html {
    let tasks = task_page(&route).map(|page| {
        html! { <crate::components::tasks::TaskPanel page={page} /> }
    });
    html! {
        <>
            { page(route) }
            { for tasks }
        </>
    }
}

fn page(route: Route) -> Html {
    match route {
        Route::Home => html! { <Home /> },
        Route::Sockets => html! { <Sockets /> },
        Route::Http => html! {
            <section class="page">
                <h1>{ "HTTP: the Web's request and response" }</h1>
                <p class="hint">
                    <Link<Route> to={Route::ResponseTime}>{ "The response-time lab" }</Link<Route>>
                    { ": a page and its 10 images, non-persistent, parallel, persistent and \
                       pipelined, timed against the course's formulas." }
                </p>
                <p class="intro" data-testid="caching-link">
                    { "What a web cache saves on an institution's access link: " }
                    <Link<Route> to={Route::Caching}>{ "the caching calculators" }</Link<Route>>
                    { "." }
                </p>
                <HttpPage />
            </section>
        },
        Route::ResponseTime => html! { <crate::pages::response_time::ResponseTimePage /> },
        Route::Smtp => html! { <crate::pages::smtp::SmtpPage /> },
        Route::Pop3 => html! { <crate::pages::pop3::Pop3Page /> },
        Route::Imap => html! { <crate::pages::imap::ImapPage /> },
        Route::Ftp => html! { <crate::pages::ftp::FtpPage /> },
        Route::Dns => html! { <crate::pages::dns::DnsPage /> },
        Route::P2p => html! { <crate::pages::p2p::P2pPage /> },
        Route::Caching => html! { <crate::pages::caching::CachingPage /> },
        Route::Bench => html! { <crate::bench::page::BenchPage /> },
        Route::Instructor => html! { <crate::pages::instructor::InstructorPage /> },
        Route::NotFound => html! { <NotFound /> },
    }
}
