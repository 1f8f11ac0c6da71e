//! The start page: what the lab is and where each protocol's workbench is.

use crate::route::{Route, nav_entries};
use yew::prelude::*;
use yew_router::prelude::*;

fn blurb(key: &str) -> &'static str {
    match key {
        "http" => "Type requests to a web server and see requests and responses taken apart.",
        "smtp" => "Send mail by hand, command by command, to the hamburger.edu server.",
        "pop3" => "Log in to a mailbox and list, read and delete messages.",
        "ftp" => "One control connection, a new data connection for every file.",
        "dns" => "Build queries bit by bit and follow a resolution through the hierarchy.",
        "sockets" => "The uppercase server over TCP and UDP: the course's first client and server.",
        _ => "",
    }
}

#[function_component(Home)]
pub fn home() -> Html {
    html! {
        <section class="page home">
            <h1>{ "wirelab — the application layer, byte by byte" }</h1>
            <p>{ "Type raw protocol messages, send them to real servers, and see every request \
                  and reply taken apart field by field, with what each field means and which \
                  rule a message breaks." }</p>
            <ul class="cards">
                { for nav_entries().into_iter().map(|e| html! {
                    <li class="card">
                        <Link<Route> to={e.route}>{ e.label }</Link<Route>>
                        <p>{ blurb(e.key) }</p>
                    </li>
                }) }
            </ul>
        </section>
    }
}
