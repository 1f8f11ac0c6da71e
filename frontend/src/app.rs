//! The app shell: the header with the relay's state, the navigation, and
//! the routed page, which each module renders with its own pages
//! ([`crate::bundle`]). On start it asks the relay for its health and catalog;
//! with no relay, the page falls back to its in-browser servers
//! ([`crate::relay_info`]).

use crate::bundle::{Bundle, OtherBundle, PageRender};
use crate::components::relay_status::RelayStatusBadge;
use crate::components::shortcuts::ShortcutsDialog;
use crate::relay_info::{RelayInfo, RelayStatus};
use crate::route::{Route, nav_entries};
use crate::settings::{LabSettings, SettingsBar, SettingsHandle};
use yew::prelude::*;
use yew_router::prelude::*;

/// Which module this is, and how it renders its own routes.
#[derive(Properties)]
pub struct AppProps {
    pub bundle: Bundle,
    pub render: PageRender,
}

impl PartialEq for AppProps {
    /// One module renders one way: comparing the bundles compares the
    /// renderers, without comparing function addresses.
    fn eq(&self, other: &Self) -> bool {
        self.bundle == other.bundle
    }
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let render = props.render;
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
                    <Switch<Route> render={move |route| switch(route, render)} />
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

/// Renders `route` with this module's pages, or loads the module that has it.
fn switch(route: Route, render: PageRender) -> Html {
    render(&route).unwrap_or_else(|| html! { <OtherBundle /> })
}
