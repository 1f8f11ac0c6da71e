//! The transcript of a protocol workbench: whole messages (each with its
//! direction, the times of its first and last bytes, summary, size and a
//! badge counting the rules it breaks by severity), the bytes of a message
//! not complete yet (shown the moment they cross, replaced by the whole
//! message when it completes) and the connection's events between them.
//! Clicking a message selects it (and, where the workbench asks, shows it
//! whole).

use crate::components::inspector::severity_name;
use crate::follow::Item;
use crate::plural::plural;
use crate::session::Direction;
use std::rc::Rc;
use wirelab_shared::conversation::Message;
use wirelab_shared::dissect::{Diagnostic, Dissection, Severity};
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

/// How many diagnostics of each severity, worst first: "1 error, 1
/// warning"; `None` when there are none.
pub fn severity_counts(diagnostics: &[Diagnostic]) -> Option<String> {
    let counts: Vec<String> = [Severity::Error, Severity::Warning, Severity::Note]
        .into_iter()
        .filter_map(|severity| {
            let n = diagnostics
                .iter()
                .filter(|d| d.severity == severity)
                .count();
            (n > 0).then(|| plural(n, severity_name(severity)))
        })
        .collect();
    (!counts.is_empty()).then(|| counts.join(", "))
}

/// The badge of a message: its diagnostics counted by severity, coloured
/// by the worst.
pub fn badge(dissection: &Dissection) -> Option<Html> {
    let worst = dissection.worst()?;
    let text = severity_counts(&dissection.diagnostics)?;
    Some(html! {
        <span class={classes!("badge", severity_name(worst))} data-testid="badge">{ text }</span>
    })
}

/// The times of a message: its first byte's, and its last byte's when the
/// message took longer than one write.
fn message_times(message: &Message) -> Html {
    html! {
        <>
            <span class="time" title="when its first byte was sent or received">
                { format_time(message.first_ms) }
            </span>
            if message.last_ms > message.first_ms {
                <span class="time last" data-testid="last-byte-time"
                      title="when its last byte was sent or received">
                    { format!("to {}", format_time(message.last_ms)) }
                </span>
            }
        </>
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
        Item::Partial { id, message } => partial_row(*id, message, props),
        Item::Message { id, message } => {
            let direction = Direction::of(message.sender);
            let id = *id;
            let (onclick, onkeydown) = select_events(&props.on_select, id);
            let selected = props.selected == Some(id);
            let badge = badge(&message.dissection);
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
                    tabindex="0" aria-current={selected.then_some("true")} onclick={onclick} onkeydown={onkeydown}>
                    <span class="arrow">{ direction.arrow() }</span>
                    { message_times(message) }
                    <span class="summary">{ &message.dissection.summary }</span>
                    <code class="bytes">{ shown }</code>
                    <span class="length">{ format!("{} B", message.bytes.len()) }</span>
                    { for badge }
                    if expand {
                        <pre class="full" data-testid="transcript-full">
                            { visible_multiline(&message.bytes[..message.bytes.len().min(EXPANDED_BYTES)]) }
                            if message.bytes.len() > EXPANDED_BYTES {
                                { format!("\n… {} more", plural(message.bytes.len() - EXPANDED_BYTES, "byte")) }
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

/// A row's click, and Enter or Space on the row once Tab has reached it:
/// both open message `id` in the inspector, so the keyboard reaches every
/// message the mouse does.
fn select_events(
    on_select: &Callback<usize>,
    id: usize,
) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let click = on_select.reform(move |_: MouseEvent| id);
    let on_select = on_select.clone();
    let key = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            on_select.emit(id);
        }
    });
    (click, key)
}

/// Bytes that do not complete a message yet, as they stand: not dissected
/// into a badge (a head without its blank line is not wrong, only
/// unfinished), with the time of its first byte.
fn partial_row(id: usize, message: &Message, props: &MessageListProps) -> Html {
    let direction = Direction::of(message.sender);
    let (onclick, onkeydown) = select_events(&props.on_select, id);
    let selected = props.selected == Some(id);
    let shown = if props.hex {
        wirelab_shared::text::hex_spaced(&message.bytes)
    } else {
        visible(&message.bytes)
    };
    html! {
        <li key={format!("m{id}")} data-testid="message-partial" data-direction={direction.as_str()}
            data-message={id.to_string()}
            class={classes!("entry", "partial", "incomplete", direction.as_str(), selected.then_some("selected"))}
            tabindex="0" aria-current={selected.then_some("true")} onclick={onclick} onkeydown={onkeydown}>
            <span class="arrow">{ direction.arrow() }</span>
            { message_times(message) }
            <span class="summary">{ "not complete yet: " }{ &message.dissection.summary }</span>
            <code class="bytes">{ crate::follow::short(&shown, 160) }</code>
            <span class="length">{ format!("{} B so far", message.bytes.len()) }</span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::dissect::Span;

    #[test]
    fn badges_count_by_severity() {
        let at = Span::point(0);
        let one_each = [Diagnostic::warning(at, "w"), Diagnostic::error(at, "e")];
        assert_eq!(
            severity_counts(&one_each).as_deref(),
            Some("1 error, 1 warning")
        );
        let many = [
            Diagnostic::note(at, "n"),
            Diagnostic::warning(at, "w"),
            Diagnostic::note(at, "n"),
            Diagnostic::warning(at, "w"),
        ];
        assert_eq!(
            severity_counts(&many).as_deref(),
            Some("2 warnings, 2 notes")
        );
        assert_eq!(severity_counts(&[]), None);
    }

    #[test]
    fn times_read_well() {
        assert_eq!(format_time(0.0), "+0.0 ms");
        assert_eq!(format_time(12.345), "+12.3 ms");
        assert_eq!(format_time(12_345.0), "+12.35 s");
    }
}
