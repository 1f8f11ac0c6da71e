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
                if let RelayStatus::Locked { message } = &info.status {
                    <p class="notice locked" data-testid="locked">
                        { format!("{message} ") }
                        { "Open the join link your instructor gave you, then come back to this page." }
                    </p>
                }
                <main>
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

fn switch(route: Route) -> Html {
    match route {
        Route::Home => html! { <Home /> },
        Route::Sockets => html! { <Sockets /> },
        Route::Http => html! {
            <section class="page">
                <h1>{ "HTTP: the Web's request and response" }</h1>
                <p class="intro" data-testid="caching-link">
                    { "What a web cache saves on an institution's access link: " }
                    <Link<Route> to={Route::Caching}>{ "the caching calculators" }</Link<Route>>
                    { "." }
                </p>
                <HttpPage />
            </section>
        },
        Route::Smtp => html! { <crate::pages::smtp::SmtpPage /> },
        Route::Pop3 => html! { <crate::pages::pop3::Pop3Page /> },
        Route::Ftp => html! { <crate::pages::ftp::FtpPage /> },
        Route::Dns => html! { <crate::pages::dns::DnsPage /> },
        Route::Caching => html! { <crate::pages::caching::CachingPage /> },
        Route::Bench => html! { <crate::bench::page::BenchPage /> },
        Route::NotFound => html! { <NotFound /> },
    }
}
