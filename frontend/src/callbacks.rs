//! Callbacks the workbench pages that keep their state in `use_state`
//! build alike: Enter in the line editor sends, typing in it shows the
//! draft in the inspector again, and a click on a message selects it.
//! (Pages with a reducer dispatch their own actions instead.)
//!
//! Each takes the page's state handles and returns the callback to give to
//! the element; the page still decides what sending means.

use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// The callbacks of a one-line editor with its Send button.
pub struct LineEditor {
    /// The Send button's click.
    pub on_send: Callback<MouseEvent>,
    /// Enter in the editor.
    pub on_key: Callback<KeyboardEvent>,
    /// Typing in the editor.
    pub on_input: Callback<InputEvent>,
}

/// A one-line editor whose Send button and Enter key both run `send`, and
/// whose typing goes to `draft` ([`type_draft`]).
pub fn line_editor<T: 'static>(
    send: Rc<dyn Fn()>,
    draft: &UseStateHandle<String>,
    selected: &UseStateHandle<Option<T>>,
) -> LineEditor {
    let on_send = {
        let send = send.clone();
        Callback::from(move |_: MouseEvent| send())
    };
    LineEditor {
        on_send,
        on_key: enter_runs(send),
        on_input: type_draft(draft, selected),
    }
}

/// Enter in a one-line editor runs `send` (and nothing else happens).
pub fn enter_runs(send: Rc<dyn Fn()>) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" {
            e.prevent_default();
            send();
        }
    })
}

/// What is typed in a one-line editor becomes `draft`, and the inspector
/// goes back to the draft (no message selected).
pub fn type_draft<T: 'static>(
    draft: &UseStateHandle<String>,
    selected: &UseStateHandle<Option<T>>,
) -> Callback<InputEvent> {
    let draft = draft.clone();
    let selected = selected.clone();
    Callback::from(move |e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        draft.set(input.value());
        selected.set(None);
    })
}

/// A click on a message (in the transcript or the timeline) shows it in
/// the inspector.
pub fn select<T: 'static>(selected: &UseStateHandle<Option<T>>) -> Callback<T> {
    let selected = selected.clone();
    Callback::from(move |id: T| selected.set(Some(id)))
}
