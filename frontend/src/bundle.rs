//! The page in parts: one WASM module per group of routes, so a first visit
//! downloads the shell and the page it opens, not every lab at once.
//!
//! Yew has no code splitting and wasm-bindgen cannot load half a module, so
//! the split is made at build time: each [`Bundle`] is its own small crate
//! target (`frontend/bundles/<name>.rs`, a cdylib example) whose entry hands
//! [`start`] a renderer that names only its own pages. Link-time
//! optimisation then leaves the other pages, their dissectors and the
//! in-browser servers out of that module. `index.html` picks the module from
//! the path (its table is checked against [`Bundle::of`] by a test), and a
//! route that lives in another module is reached by reloading the page at
//! the new address ([`OtherBundle`]): the router has already put the address
//! in the history, so the browser's back and forward buttons keep working.

use crate::pages;
use crate::route::Route;
use yew::prelude::*;
use yew_router::prelude::*;

/// Renders a route of this module's own, or `None` for a route that lives
/// in another module.
pub type PageRender = fn(&Route) -> Option<Html>;

/// The modules the page is built into, one per group of routes that share
/// their code (the mail pages their dissectors and mail store, the HTTP
/// pages the web engines).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bundle {
    /// The start page and the 404 page: what a first visit loads.
    Home,
    Http,
    Mail,
    Ftp,
    Dns,
    Sockets,
    P2p,
    Instructor,
    /// The dissection benchmark of `cargo xtask bench`.
    Bench,
}

impl Bundle {
    pub const ALL: [Bundle; 9] = [
        Bundle::Home,
        Bundle::Http,
        Bundle::Mail,
        Bundle::Ftp,
        Bundle::Dns,
        Bundle::Sockets,
        Bundle::P2p,
        Bundle::Instructor,
        Bundle::Bench,
    ];

    /// The module's file name in `dist/pkg/` (`<name>.js`, `<name>_bg.wasm`)
    /// and its example target's name.
    pub fn name(self) -> &'static str {
        match self {
            Bundle::Home => "home",
            Bundle::Http => "http",
            Bundle::Mail => "mail",
            Bundle::Ftp => "ftp",
            Bundle::Dns => "dns",
            Bundle::Sockets => "sockets",
            Bundle::P2p => "p2p",
            Bundle::Instructor => "instructor",
            Bundle::Bench => "bench",
        }
    }

    /// The module that renders `route`.
    pub fn of(route: &Route) -> Bundle {
        match route {
            Route::Home | Route::NotFound => Bundle::Home,
            Route::Http | Route::ResponseTime | Route::Caching => Bundle::Http,
            Route::Smtp | Route::Pop3 | Route::Imap => Bundle::Mail,
            Route::Ftp => Bundle::Ftp,
            Route::Dns => Bundle::Dns,
            Route::Sockets => Bundle::Sockets,
            Route::P2p => Bundle::P2p,
            Route::Instructor => Bundle::Instructor,
            Route::Bench => Bundle::Bench,
        }
    }

    /// This module's renderer. Only tests call it: a module's entry names
    /// its own renderer, so that the others stay out of its WASM.
    pub fn render(self) -> PageRender {
        match self {
            Bundle::Home => home,
            Bundle::Http => http,
            Bundle::Mail => mail,
            Bundle::Ftp => ftp,
            Bundle::Dns => dns,
            Bundle::Sockets => sockets,
            Bundle::P2p => p2p,
            Bundle::Instructor => instructor,
            Bundle::Bench => bench,
        }
    }
}

/// Mounts the app of module `bundle`, rendering its pages with `render`.
pub fn start(bundle: Bundle, render: PageRender) {
    let here = current_path().and_then(|path| Route::recognize(&path));
    if here.is_some_and(|route| render(&route).is_some()) {
        // This module has the page it was loaded for: any reload that
        // brought it here has done its work.
        forget_reload();
    }
    yew::Renderer::<crate::app::App>::with_props(crate::app::AppProps { bundle, render }).render();
}

/// Writes a module's entry point: `bundle_entry!(Http, http)` in
/// `frontend/bundles/http.rs`.
#[macro_export]
macro_rules! bundle_entry {
    ($bundle:ident, $render:ident) => {
        #[cfg(target_arch = "wasm32")]
        #[wasm_bindgen::prelude::wasm_bindgen(start)]
        pub fn start() {
            $crate::bundle::start($crate::bundle::Bundle::$bundle, $crate::bundle::$render);
        }
    };
}

/// A page with its task panel below it (the pages the task files name).
fn with_tasks(page: Html, tasks: &'static str) -> Html {
    html! {
        <>
            { page }
            <crate::components::tasks::TaskPanel page={tasks} />
        </>
    }
}

pub fn home(route: &Route) -> Option<Html> {
    match route {
        Route::Home => Some(html! { <pages::home::Home /> }),
        Route::NotFound => Some(html! { <pages::not_found::NotFound /> }),
        _ => None,
    }
}

pub fn http(route: &Route) -> Option<Html> {
    match route {
        Route::Http => Some(with_tasks(http_page(), "http")),
        Route::ResponseTime => Some(html! { <pages::response_time::ResponseTimePage /> }),
        Route::Caching => Some(html! { <pages::caching::CachingPage /> }),
        _ => None,
    }
}

fn http_page() -> Html {
    html! {
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
            <pages::http::HttpPage />
        </section>
    }
}

pub fn mail(route: &Route) -> Option<Html> {
    match route {
        Route::Smtp => Some(with_tasks(html! { <pages::smtp::SmtpPage /> }, "smtp")),
        Route::Pop3 => Some(with_tasks(html! { <pages::pop3::Pop3Page /> }, "pop3")),
        Route::Imap => Some(html! { <pages::imap::ImapPage /> }),
        _ => None,
    }
}

pub fn ftp(route: &Route) -> Option<Html> {
    (route == &Route::Ftp).then(|| with_tasks(html! { <pages::ftp::FtpPage /> }, "ftp"))
}

pub fn dns(route: &Route) -> Option<Html> {
    (route == &Route::Dns).then(|| with_tasks(html! { <pages::dns::DnsPage /> }, "dns"))
}

pub fn sockets(route: &Route) -> Option<Html> {
    (route == &Route::Sockets).then(|| with_tasks(html! { <pages::sockets::Sockets /> }, "sockets"))
}

pub fn p2p(route: &Route) -> Option<Html> {
    (route == &Route::P2p).then(|| html! { <pages::p2p::P2pPage /> })
}

pub fn instructor(route: &Route) -> Option<Html> {
    (route == &Route::Instructor).then(|| html! { <pages::instructor::InstructorPage /> })
}

pub fn bench(route: &Route) -> Option<Html> {
    (route == &Route::Bench).then(|| html! { <crate::bench::page::BenchPage /> })
}

/// The session-storage key that remembers the address this tab last
/// reloaded for, so that a module that still cannot render it (a stale
/// cached `index.html`, say) says so instead of reloading forever.
const RELOADED_FOR: &str = "wirelab-reloaded-for";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn current_path() -> Option<String> {
    web_sys::window()?.location().pathname().ok()
}

fn forget_reload() {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(RELOADED_FOR);
    }
}

/// Stands for a route that lives in another module: loads the page again
/// at the address the router has already moved to, which brings that
/// module.
#[function_component(OtherBundle)]
pub fn other_bundle() -> Html {
    let stuck = use_state(|| false);
    {
        let stuck = stuck.clone();
        use_effect_with((), move |_| {
            let path = current_path().unwrap_or_default();
            let storage = session_storage();
            let already = storage
                .as_ref()
                .and_then(|s| s.get_item(RELOADED_FOR).ok().flatten())
                .is_some_and(|last| last == path);
            if already {
                stuck.set(true);
            } else if let Some(window) = web_sys::window() {
                if let Some(s) = &storage {
                    let _ = s.set_item(RELOADED_FOR, &path);
                }
                let _ = window.location().reload();
            }
        });
    }
    if *stuck {
        html! {
            <section class="page" data-testid="other-bundle-stuck">
                <h1>{ "This page did not load" }</h1>
                <p>{ "The part of wirelab that shows this address was not found: reload \
                      the page, or " }
                   <a href="/">{ "go back to the start" }</a>{ "." }</p>
            </section>
        }
    } else {
        html! { <p class="loading" data-testid="other-bundle">{ "Loading the page…" }</p> }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yew_router::Routable;

    fn every_route() -> Vec<Route> {
        Route::routes()
            .into_iter()
            .filter_map(Route::recognize)
            .collect()
    }

    #[test]
    fn each_route_renders_in_exactly_its_own_module() {
        let routes = every_route();
        assert!(routes.len() >= 13, "{routes:?}");
        for route in &routes {
            for bundle in Bundle::ALL {
                let renders = bundle.render()(route).is_some();
                assert_eq!(
                    renders,
                    Bundle::of(route) == bundle,
                    "{route:?} in {bundle:?}"
                );
            }
        }
    }

    #[test]
    fn every_module_has_a_page_and_its_own_name() {
        let routes = every_route();
        let mut names: Vec<&str> = Bundle::ALL.iter().map(|b| b.name()).collect();
        for bundle in Bundle::ALL {
            assert!(routes.iter().any(|r| Bundle::of(r) == bundle), "{bundle:?}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Bundle::ALL.len());
    }
}
