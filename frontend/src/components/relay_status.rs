//! The header badge that says whether a relay is there.

use crate::app::{RelayInfo, RelayStatus};
use crate::plural::plural;
use yew::prelude::*;

#[function_component(RelayStatusBadge)]
pub fn relay_status_badge() -> Html {
    let info = use_context::<RelayInfo>();
    let (state, text, title) = match info.as_ref().map(|i| (&i.status, i.targets.len())) {
        None | Some((RelayStatus::Checking, _)) => {
            ("checking", "relay: checking…".to_string(), String::new())
        }
        Some((RelayStatus::Online { version }, n)) => (
            "online",
            format!("relay: online, {}", plural(n, "target")),
            format!("wirelab relay {version}"),
        ),
        Some((RelayStatus::Locked { message }, _)) => (
            "locked",
            "relay: classroom, join first".to_string(),
            message.clone(),
        ),
        Some((RelayStatus::Offline { why }, _)) => (
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
