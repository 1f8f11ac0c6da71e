//! The page for a path the lab does not have.

use crate::route::Route;
use yew::prelude::*;
use yew_router::prelude::*;

#[function_component(NotFound)]
pub fn not_found() -> Html {
    html! {
        <section class="page">
            <h1>{ "404 — no such page in the lab" }</h1>
            <p>{ "Fittingly, this is what a web server answers for a path it does not have. " }
               <Link<Route> to={Route::Home}>{ "Back to the start" }</Link<Route>></p>
        </section>
    }
}
