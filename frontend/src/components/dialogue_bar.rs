//! The course's dialogues offered one line at a time: a `<select>` of
//! them, a "Next line" button, how far the replay is, and the chosen
//! dialogue's note.
//!
//! The page owns the state (the chosen dialogue and how many of its lines
//! were typed): the bar says when another dialogue is chosen through
//! `on_choose` (the page starts it from its first line), and the page
//! decides what "Next line" does through `on_next` (put the step's line in
//! the editor and count it, for one).

use crate::plural::plural;
use web_sys::HtmlSelectElement;
use wirelab_shared::conversation::Dialogue;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DialogueBarProps {
    pub dialogues: &'static [Dialogue],
    /// The dialogue being replayed; `None` while the student types freely.
    pub dialogue: Option<&'static Dialogue>,
    /// How many of its lines were put in the editor already.
    pub step: usize,
    /// Another dialogue chosen (`None`: type freely).
    pub on_choose: Callback<Option<&'static Dialogue>>,
    pub on_next: Callback<MouseEvent>,
}

#[function_component(DialogueBar)]
pub fn dialogue_bar(props: &DialogueBarProps) -> Html {
    let onchange = {
        let dialogues = props.dialogues;
        let on_choose = props.on_choose.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            on_choose.emit(dialogues.iter().find(|d| d.id == select.value()));
        })
    };
    let dialogue = props.dialogue;
    let step = props.step;
    html! {
        <>
            <div class="toolbar dialogue">
                <label>{ "Replay " }
                    <select data-testid="dialogue-select" onchange={onchange}>
                        <option value="" selected={dialogue.is_none()}>{ "(type freely)" }</option>
                        { for props.dialogues.iter().map(|d| html! {
                            <option value={d.id} selected={dialogue.is_some_and(|c| c.id == d.id)}>{ d.title }</option>
                        }) }
                    </select>
                </label>
                if let Some(d) = dialogue {
                    <button data-testid="dialogue-next" onclick={props.on_next.clone()} disabled={step >= d.steps.len()}>
                        { "Next line" }
                    </button>
                    <span class="hint" data-testid="dialogue-progress">{ progress(d, step) }</span>
                }
            </div>
            if let Some(d) = dialogue { <p class="template-note">{ d.note }</p> }
        </>
    }
}

/// How far the replay of `dialogue` is, with the line that comes next.
pub fn progress(dialogue: &Dialogue, step: usize) -> String {
    let count = dialogue.steps.len();
    match dialogue.steps.get(step) {
        None => format!("all {} typed", plural(count, "line")),
        Some(&"") => format!("line {} of {count}: (an empty line)", step + 1),
        Some(line) => format!("line {} of {count}: {line}", step + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_names_the_next_line() {
        const D: Dialogue = Dialogue {
            id: "d",
            title: "D",
            note: "",
            steps: &["DATA", "", "."],
        };
        assert_eq!(progress(&D, 0), "line 1 of 3: DATA");
        assert_eq!(progress(&D, 1), "line 2 of 3: (an empty line)");
        assert_eq!(progress(&D, 3), "all 3 lines typed");
    }
}
