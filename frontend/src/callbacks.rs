//! Callbacks the workbench pages build alike: Enter in a one-line editor
//! (Ctrl+Enter in a multi-line one) runs the page's send, and a helper
//! button hands the keyboard focus back to the editor (each page's reducer
//! decides what typing, sending and selecting do to its state).

use std::rc::Rc;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

/// Enter in a one-line editor runs `send` (and nothing else happens).
pub fn enter_runs(send: Rc<dyn Fn()>) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" {
            e.prevent_default();
            send();
        }
    })
}

/// What the one-line `editor` holds right now, or `draft` when it is not on
/// the page. A send reads the element, not the draft of the last render:
/// keys typed just before Enter may not have been rendered yet, and the
/// line that goes out must be the one the student sees.
pub fn editor_text(editor: &NodeRef, draft: &str) -> String {
    editor
        .cast::<HtmlInputElement>()
        .map_or_else(|| draft.to_string(), |input| input.value())
}

/// Ctrl+Enter (Cmd+Enter on a Mac) in a multi-line editor runs `send`;
/// a plain Enter stays a new line of the text.
pub fn ctrl_enter_runs(send: Rc<dyn Fn()>) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
            e.prevent_default();
            send();
        }
    })
}

/// Runs `action`, then puts the focus in `editor`: the next keystroke the
/// page asks for (Enter) must send the line, not press the button again.
pub fn then_focus(editor: &NodeRef, action: Callback<MouseEvent>) -> Callback<MouseEvent> {
    let editor = editor.clone();
    Callback::from(move |e: MouseEvent| {
        action.emit(e);
        focus(&editor);
    })
}

/// Gives `node` the keyboard focus, if it is on the page.
pub fn focus(node: &NodeRef) {
    if let Some(element) = node.cast::<HtmlElement>() {
        // Focusing can only fail for an element that cannot take focus,
        // which an editor always can: nothing to tell the student.
        let _ = element.focus();
    }
}
