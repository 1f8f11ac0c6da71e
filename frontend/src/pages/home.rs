//! The start page: what the lab is and where each protocol's workbench is.

use crate::route::{Route, lesson_entries, nav_entries};
use wirelab_shared::rfc::{REPLACED, cite};
use yew::prelude::*;
use yew_router::prelude::*;

fn blurb(key: &str) -> &'static str {
    match key {
        "http" => "Type requests to a web server and see requests and responses taken apart.",
        "smtp" => "Send mail by hand, command by command, to the hamburger.edu server.",
        "pop3" => "Log in to a mailbox and list, read and delete messages.",
        "imap" => "Folders and flags kept on the server: select, fetch, flag, copy, tag by tag.",
        "ftp" => "One control connection, a new data connection for every file.",
        "dns" => "Build queries bit by bit and follow a resolution through the hierarchy.",
        "sockets" => "The uppercase server over TCP and UDP: the course's first client and server.",
        "p2p" => "The circular DHT's lookups and churn, and query flooding against its bound.",
        "response-time" => {
            "A page and its 10 images fetched four ways, timed against the course's formulas."
        }
        "caching" => {
            "The access link with and without a web cache, P13 and P14, worked out and plotted."
        }
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
                { for nav_entries().into_iter().chain(lesson_entries()).map(|e| html! {
                    <li class="card" data-testid={format!("card-{}", e.key)}>
                        <Link<Route> to={e.route}>{ e.label }</Link<Route>>
                        <p>{ blurb(e.key) }</p>
                    </li>
                }) }
            </ul>
            { old_rfcs() }
        </section>
    }
}

/// The RFC numbers the slides cite, beside the ones the inspector cites.
fn old_rfcs() -> Html {
    html! {
        <section class="old-rfcs" data-testid="rfc-map">
            <h2>{ "Old RFC numbers" }</h2>
            <p>{ "The course cites the standards of its time; each was replaced by a newer RFC, \
                  and the inspector cites the newer one. The protocol is the same." }</p>
            <table>
                <thead><tr><th>{ "the course says" }</th><th>{ "for" }</th>
                    <th>{ "replaced by, in turn" }</th><th>{ "in force today" }</th></tr></thead>
                <tbody>
                { for REPLACED.iter().map(|r| html! {
                    <tr data-testid="rfc-row" data-old={r.old.to_string()}>
                        <td>{ format!("RFC {}", r.old) }</td>
                        <td>{ r.topic }</td>
                        <td>{ if r.via.is_empty() { "—".to_string() } else { cite(r.via) } }</td>
                        <td>{ cite(r.current) }</td>
                    </tr>
                }) }
                </tbody>
            </table>
        </section>
    }
}
