//! The page of one protocol. Until its own workbench lands, it offers the
//! raw line workbench on that protocol's catalog targets, which is already
//! what a telnet session to the server gives.

use super::workbench::{LineSpec, LineWorkbench};
use crate::app::RelayInfo;
use crate::route::Route;
use yew::prelude::*;
use yew_router::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ProtocolPageProps {
    /// The catalog's protocol name: "http", "smtp", ...
    pub protocol: AttrValue,
}

fn title(protocol: &str) -> &'static str {
    match protocol {
        "http" => "HTTP: the Web's request and response",
        "smtp" => "SMTP: sending mail",
        "pop3" => "POP3: reading mail",
        "ftp" => "FTP: control and data connections",
        "dns" => "DNS: names to addresses",
        _ => "Protocol",
    }
}

#[function_component(ProtocolPage)]
pub fn protocol_page(props: &ProtocolPageProps) -> Html {
    let info = use_context::<RelayInfo>();
    let has_target = info.as_ref().is_some_and(|i| {
        i.targets
            .iter()
            .any(|t| t.protocol == props.protocol.as_str())
    });
    html! {
        <section class="page">
            <h1>{ title(&props.protocol) }</h1>
            if has_target {
                <LineWorkbench spec={LineSpec::raw()} protocol={props.protocol.clone()} />
            } else {
                <p class="notice" data-testid="no-target">
                    { format!("This relay has no {} server in its catalog yet. The ", props.protocol.to_uppercase()) }
                    <Link<Route> to={Route::Sockets}>{ "Sockets workbench" }</Link<Route>>
                    { " reaches every target it has, one line at a time." }
                </p>
            }
        </section>
    }
}
