//! Callbacks the workbench pages build alike: Enter in a one-line editor
//! runs the page's send (each page's reducer decides what typing, sending
//! and selecting do to its state).

use std::rc::Rc;
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
