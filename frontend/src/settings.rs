//! The lab's settings that every connection uses: the one-way delay the
//! relay adds (so round trips show on loopback) and whether the relay
//! records connections (text and pcapng). Kept in the app and shared with
//! the workbenches through a context.

use wirelab_shared::relay_protocol::ConnectQuery;
use yew::prelude::*;

/// What the student chose in the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabSettings {
    /// Milliseconds the relay adds in each direction (0: none).
    pub delay_ms: u64,
    /// Ask the relay to record each new connection.
    pub record: bool,
}

/// The delays offered: none, then roughly LAN, a country, a continent, the
/// other side of the planet.
pub const DELAYS: [u64; 5] = [0, 10, 50, 100, 250];

impl LabSettings {
    /// Applies the settings to a `/ws` query.
    pub fn apply(&self, mut query: ConnectQuery) -> ConnectQuery {
        if self.delay_ms > 0 {
            query.delay_ms = Some(self.delay_ms);
        }
        query.record = self.record;
        query
    }
}

/// The context handle workbenches read (and the header writes).
pub type SettingsHandle = UseStateHandle<LabSettings>;

#[derive(Properties, PartialEq)]
pub struct SettingsBarProps {
    pub settings: SettingsHandle,
}

/// The header's controls for the settings.
#[function_component(SettingsBar)]
pub fn settings_bar(props: &SettingsBarProps) -> Html {
    let settings = props.settings.clone();
    let on_delay = {
        let settings = settings.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let delay_ms = select.value().parse().unwrap_or(0);
            settings.set(LabSettings {
                delay_ms,
                ..*settings
            });
        })
    };
    let on_record = {
        let settings = settings.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            settings.set(LabSettings {
                record: input.checked(),
                ..*settings
            });
        })
    };
    html! {
        <span class="settings">
            <label title="The relay delays every message this much in each direction, so a round trip takes twice as long: the course's RTTs become visible on loopback.">
                { "delay " }
                <select data-testid="delay-select" onchange={on_delay}>
                    { for DELAYS.iter().map(|d| html! {
                        <option value={d.to_string()} selected={*d == settings.delay_ms}>
                            { if *d == 0 { "none".to_string() } else { format!("{d} ms each way") } }
                        </option>
                    }) }
                </select>
            </label>
            <label title="The relay keeps a transcript of each new connection, to download as text or as a pcapng file for Wireshark.">
                <input type="checkbox" data-testid="record-toggle" checked={settings.record} onchange={on_record} />
                { " record" }
            </label>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_shape_the_query() {
        let q = LabSettings {
            delay_ms: 50,
            record: true,
        }
        .apply(ConnectQuery::target("http"));
        assert_eq!(q.to_query_string(), "target=http&delay_ms=50&record=1");
        let q = LabSettings::default().apply(ConnectQuery::target("http"));
        assert_eq!(q.to_query_string(), "target=http");
    }
}
