//! The lab's settings that every connection uses: the one-way delay the
//! relay adds (so round trips show on loopback) and whether the relay
//! records connections (text and pcapng). Kept in the app and shared with
//! the workbenches through a context. The browser's localStorage keeps them
//! across reloads: the app loads them with [`LabSettings::load`] and calls
//! [`LabSettings::save`] after each change.

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

/// The localStorage key the settings live under.
const STORAGE_KEY: &str = "wirelab.settings";

impl LabSettings {
    /// Applies the settings to a `/ws` query.
    pub fn apply(&self, mut query: ConnectQuery) -> ConnectQuery {
        if self.delay_ms > 0 {
            query.delay_ms = Some(self.delay_ms);
        }
        query.record = self.record;
        query
    }

    /// The settings as stored: `delay_ms=50;record=1`.
    pub fn to_stored(self) -> String {
        format!(
            "delay_ms={};record={}",
            self.delay_ms,
            u8::from(self.record)
        )
    }

    /// Settings read back from storage. Anything unknown, or a delay the
    /// header does not offer (the value may have been edited by hand),
    /// keeps its default.
    pub fn from_stored(stored: &str) -> LabSettings {
        let mut settings = LabSettings::default();
        for (key, value) in stored.split(';').filter_map(|kv| kv.split_once('=')) {
            match key {
                "delay_ms" => {
                    if let Some(d) = value.parse().ok().filter(|d| DELAYS.contains(d)) {
                        settings.delay_ms = d;
                    }
                }
                "record" => settings.record = value == "1",
                _ => {}
            }
        }
        settings
    }

    /// The settings saved by the last visit, else the defaults (also when
    /// the browser refuses storage, as some private modes do).
    pub fn load() -> LabSettings {
        storage()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .map(|stored| LabSettings::from_stored(&stored))
            .unwrap_or_default()
    }

    /// Keeps the settings for the next visit; without storage they last
    /// until the page is reloaded, as before.
    pub fn save(self) {
        if let Some(s) = storage() {
            let _ = s.set_item(STORAGE_KEY, &self.to_stored());
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
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

    #[test]
    fn stored_settings_round_trip() {
        let s = LabSettings {
            delay_ms: 100,
            record: true,
        };
        assert_eq!(s.to_stored(), "delay_ms=100;record=1");
        assert_eq!(LabSettings::from_stored(&s.to_stored()), s);
        let d = LabSettings::default();
        assert_eq!(LabSettings::from_stored(&d.to_stored()), d);
    }

    #[test]
    fn stored_nonsense_keeps_the_defaults() {
        assert_eq!(LabSettings::from_stored(""), LabSettings::default());
        assert_eq!(
            LabSettings::from_stored("delay_ms=99999;record=yes;x=1;junk"),
            LabSettings::default()
        );
        assert_eq!(LabSettings::from_stored("delay_ms=50").delay_ms, 50);
    }
}
