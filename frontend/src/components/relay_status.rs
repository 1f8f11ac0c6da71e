//! The header badge that says whether a relay is there.

use crate::plural::plural;
use crate::relay_info::{RelayStatus, use_relay_info};
use yew::prelude::*;

#[function_component(RelayStatusBadge)]
pub fn relay_status_badge() -> Html {
    let info = use_relay_info();
    let (state, text, title) = match (&info.status, info.targets.len()) {
        (RelayStatus::Checking, _) => ("checking", "relay: checking…".to_string(), String::new()),
        (RelayStatus::Online { version }, n) => (
            "online",
            format!("relay: online, {}", plural(n, "target")),
            format!("wirelab relay {version}"),
        ),
        (RelayStatus::Locked { message }, _) => (
            "locked",
            "relay: classroom, join first".to_string(),
            message.clone(),
        ),
        (RelayStatus::Offline { why }, _) => (
            "offline",
            "relay: offline — in-browser servers".to_string(),
            format!("No relay answered ({why}). The servers that can run in the page do."),
        ),
    };
    html! {
        <span class={classes!("relay-status", state)} data-testid="relay-status"
              data-state={state} title={title}>{ text }</span>
    }
}
