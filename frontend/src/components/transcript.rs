//! The transcript: every entry of a session in order, with its direction,
//! its time since Connect and its bytes with CR and LF made visible.
//! Clicking an entry selects it for the dissection pane.

use crate::session::{Direction, Entry};
use std::rc::Rc;
use wirelab_shared::text::visible;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TranscriptProps {
    pub entries: Rc<Vec<Entry>>,
    #[prop_or_default]
    pub selected: Option<usize>,
    pub on_select: Callback<usize>,
}

/// `+12.34 ms`, or seconds once it is long.
pub fn format_time(t_ms: f64) -> String {
    if t_ms < 10_000.0 {
        format!("+{t_ms:.1} ms")
    } else {
        format!("+{:.2} s", t_ms / 1000.0)
    }
}

#[function_component(Transcript)]
pub fn transcript(props: &TranscriptProps) -> Html {
    let rows = props.entries.iter().map(|entry| {
        let id = entry.id;
        let on_select = props.on_select.clone();
        let onclick = Callback::from(move |_| on_select.emit(id));
        let selected = props.selected == Some(id);
        let body = match entry.direction {
            Direction::Event => html! { <span class="event-text">{ &entry.text }</span> },
            _ => html! {
                <>
                    <code class="bytes">{ visible(&entry.bytes) }</code>
                    <span class="length">{ format!("{} B", entry.bytes.len()) }</span>
                </>
            },
        };
        html! {
            <li key={id} data-testid="transcript-entry" data-direction={entry.direction.as_str()}
                class={classes!("entry", entry.direction.as_str(), selected.then_some("selected"))}
                onclick={onclick}>
                <span class="arrow" title={entry.direction.as_str()}>{ entry.direction.arrow() }</span>
                <span class="time">{ format_time(entry.t_ms) }</span>
                { body }
            </li>
        }
    });
    html! {
        <ol class="transcript" data-testid="transcript">
            { for rows }
        </ol>
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
