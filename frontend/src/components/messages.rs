//! The transcript of a protocol workbench: whole messages (each with its
//! direction, time, summary, size and a badge for the rules it breaks) and
//! the connection's events between them. Clicking a message selects it
//! (and, where the workbench asks, shows it whole).

use crate::components::inspector::severity_name;
use crate::follow::Item;
use crate::session::Direction;
use std::rc::Rc;
use wirelab_shared::text::{visible, visible_multiline};
use yew::prelude::*;

/// `+12.3 ms`, or seconds once it is long.
pub fn format_time(t_ms: f64) -> String {
    if t_ms < 10_000.0 {
        format!("+{t_ms:.1} ms")
    } else {
        format!("+{:.2} s", t_ms / 1000.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    pub items: Rc<Vec<Item>>,
    #[prop_or_default]
    pub selected: Option<usize>,
    pub on_select: Callback<usize>,
    /// Show each message's bytes in hex rather than as text (binary
    /// protocols such as DNS).
    #[prop_or_default]
    pub hex: bool,
    /// Show the selected message whole, under its one-line summary (for
    /// workbenches with no other place for the raw bytes: a retrieved
    /// mail is longer than the line).
    #[prop_or_default]
    pub expand_selected: bool,
}

/// The most of a message an expanded transcript entry shows.
pub const EXPANDED_BYTES: usize = 64 * 1024;

#[function_component(MessageList)]
pub fn message_list(props: &MessageListProps) -> Html {
    let rows = props.items.iter().map(|item| match item {
        Item::Message { id, message } => {
            let direction = Direction::of(message.sender);
            let on_select = props.on_select.clone();
            let id = *id;
            let onclick = Callback::from(move |_| on_select.emit(id));
            let selected = props.selected == Some(id);
            let badge = message.dissection.worst().map(|w| {
                let count = message.dissection.diagnostics.len();
                html! { <span class={classes!("badge", severity_name(w))}>{ format!("{count} {}", severity_name(w)) }</span> }
            });
            let full = if props.hex {
                wirelab_shared::text::hex_spaced(&message.bytes)
            } else {
                visible(&message.bytes)
            };
            let shown = crate::follow::short(&full, 160);
            // A one-line message is already whole in its row.
            let lines = message.bytes.iter().filter(|&&b| b == b'\n').count();
            let expand = selected && props.expand_selected && (shown != full || lines > 1);
            html! {
                <li key={format!("m{id}")} data-testid="transcript-entry" data-direction={direction.as_str()}
                    data-message={id.to_string()}
                    class={classes!("entry", direction.as_str(), selected.then_some("selected"), (!message.complete).then_some("incomplete"))}
                    onclick={onclick}>
                    <span class="arrow">{ direction.arrow() }</span>
                    <span class="time">{ format_time(item.time()) }</span>
                    <span class="summary">{ &message.dissection.summary }</span>
                    <code class="bytes">{ shown }</code>
                    <span class="length">{ format!("{} B", message.bytes.len()) }</span>
                    { for badge }
                    if expand {
                        <pre class="full" data-testid="transcript-full">
                            { visible_multiline(&message.bytes[..message.bytes.len().min(EXPANDED_BYTES)]) }
                            if message.bytes.len() > EXPANDED_BYTES {
                                { format!("\n… {} more bytes", message.bytes.len() - EXPANDED_BYTES) }
                            }
                        </pre>
                    }
                </li>
            }
        }
        Item::Event(entry) => html! {
            <li key={format!("e{}", entry.id)} data-testid="transcript-entry" data-direction="event" class="entry event">
                <span class="arrow">{ "•" }</span>
                <span class="time">{ format_time(entry.t_ms) }</span>
                <span class="event-text">{ &entry.text }</span>
            </li>
        },
    });
    html! {
        <ol class="transcript" data-testid="transcript">{ for rows }</ol>
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_read_well() {
        assert_eq!(format_time(0.0), "+0.0 ms");
        assert_eq!(format_time(12.345), "+12.3 ms");
        assert_eq!(format_time(12_345.0), "+12.35 s");
    }
}
