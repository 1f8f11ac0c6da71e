//! The Sockets workbench: any catalog target, one line (or one datagram) at
//! a time, as with the course's uppercase client.

use super::workbench::{LineSpec, LineWorkbench};
use yew::prelude::*;

#[function_component(Sockets)]
pub fn sockets() -> Html {
    html! {
        <section class="page">
            <h1>{ "Sockets: TCP and UDP" }</h1>
            <p class="intro">
                { "The course's first application: a client sends a sentence, the server sends it \
                   back in upper case. Over TCP the client first sets up a connection (the relay \
                   reports how long the handshake took) and the server keeps one socket per \
                   client; over UDP there is no connection, and each send is one datagram that \
                   carries its own address. Try sending before you connect, or to a UDP port with \
                   no server: TCP refuses, UDP stays silent." }
            </p>
            // The course's own first program, the TCP uppercase server.
            <LineWorkbench spec={LineSpec::raw()} first_choice="upper-tcp" />
        </section>
    }
}
