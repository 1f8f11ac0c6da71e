//! The keyboard shortcuts dialog: `?` typed anywhere but in a text field
//! (or the header's "?" button) opens a modal list of the page's keys.
//! The dialog is the browser's own `<dialog>`, so the focus moves into it,
//! the rest of the page is out of reach while it is open, and Escape
//! closes it; on closing, the focus goes back where it was, so the student
//! carries on typing where they left off.

use gloo_events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlDialogElement, HtmlElement, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

/// One line of the list: the keys, and what they do where.
struct Shortcut {
    keys: &'static str,
    what: &'static str,
}

/// Every shortcut of the page, in the order a student meets them.
const SHORTCUTS: &[Shortcut] = &[
    Shortcut {
        keys: "Enter",
        what: "sends the line in a one-line editor (SMTP, POP3, FTP, Sockets, the DNS query)",
    },
    Shortcut {
        keys: "Ctrl+Enter",
        what: "sends what a multi-line editor holds (the HTTP request); Enter alone adds a line",
    },
    Shortcut {
        keys: "Tab, Shift+Tab",
        what: "move between the controls; after Connect and after a helper button \
               (Next line, Active mode) the focus is already in the editor",
    },
    Shortcut {
        keys: "Tab to a message of the transcript or an arrow of the timeline, then Enter",
        what: "opens that message in the inspector",
    },
    Shortcut {
        keys: "?",
        what: "opens this list (when the focus is not in a text field)",
    },
    Shortcut {
        keys: "Escape",
        what: "closes this list and puts the focus back where it was",
    },
];

/// The `<input>` types that take no typed text (a `?` on them is a shortcut).
const KEYLESS_INPUTS: &[&str] = &[
    "checkbox", "radio", "button", "submit", "reset", "file", "color", "range",
];

/// Whether a key typed in `target` is text for that field rather than a
/// shortcut: a `?` typed in an editor is a question mark, and in a select
/// it picks an option by its first letter.
fn typed_in_text_field(target: Option<web_sys::EventTarget>) -> bool {
    let Some(element) = target.and_then(|t| t.dyn_into::<Element>().ok()) else {
        return false;
    };
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        return !KEYLESS_INPUTS.contains(&input.type_().as_str());
    }
    let editable = element
        .dyn_ref::<HtmlElement>()
        .is_some_and(HtmlElement::is_content_editable);
    editable || matches!(element.tag_name().as_str(), "TEXTAREA" | "SELECT")
}

/// Whether `event` asks for the list: a `?` with no Ctrl, Alt or Meta,
/// outside any text field.
fn asks_for_shortcuts(event: &KeyboardEvent) -> bool {
    event.key() == "?"
        && !(event.ctrl_key() || event.alt_key() || event.meta_key())
        && !typed_in_text_field(event.target())
}

/// The element that has the focus now, to give it back on closing.
fn focused_element() -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into::<HtmlElement>()
        .ok()
}

/// Opens the dialog as a modal, remembering where the focus was.
fn open(dialog: &NodeRef, return_to: &std::rc::Rc<std::cell::RefCell<Option<HtmlElement>>>) {
    let Some(dialog) = dialog.cast::<HtmlDialogElement>() else {
        return;
    };
    if dialog.open() {
        return;
    }
    *return_to.borrow_mut() = focused_element();
    // showModal fails only on a dialog already open or not in the
    // document, both ruled out here.
    let _ = dialog.show_modal();
}

#[function_component(ShortcutsDialog)]
pub fn shortcuts_dialog() -> Html {
    let dialog = use_node_ref();
    let return_to = use_mut_ref(|| None::<HtmlElement>);
    {
        let (dialog, return_to) = (dialog.clone(), return_to.clone());
        use_effect_with((), move |_| {
            let document = web_sys::window().and_then(|w| w.document());
            let listener = document.map(|document| {
                EventListener::new(&document, "keydown", move |event| {
                    let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                        return;
                    };
                    if asks_for_shortcuts(event) {
                        event.prevent_default();
                        open(&dialog, &return_to);
                    }
                })
            });
            move || drop(listener)
        });
    }
    let on_open = {
        let (dialog, return_to) = (dialog.clone(), return_to.clone());
        Callback::from(move |_: MouseEvent| open(&dialog, &return_to))
    };
    let on_close_button = {
        let dialog = dialog.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(dialog) = dialog.cast::<HtmlDialogElement>() {
                dialog.close();
            }
        })
    };
    // Escape and the Close button both end in the dialog's close event.
    let on_closed = Callback::from(move |_: Event| {
        if let Some(element) = return_to.borrow_mut().take() {
            // Focus fails only for an element that left the page or cannot
            // take it; the focus then stays on the page's body.
            let _ = element.focus();
        }
    });
    html! {
        <>
            <button type="button" class="shortcuts-open" data-testid="shortcuts-open"
                    aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)"
                    aria-haspopup="dialog" onclick={on_open}>{ "?" }</button>
            <dialog ref={dialog} class="shortcuts" data-testid="shortcuts"
                    aria-labelledby="shortcuts-title" onclose={on_closed}>
                <h2 id="shortcuts-title">{ "Keyboard shortcuts" }</h2>
                <dl>
                    { for SHORTCUTS.iter().map(|s| html! {
                        <div class="shortcut" data-testid="shortcut">
                            <dt><kbd>{ s.keys }</kbd></dt>
                            <dd>{ s.what }</dd>
                        </div>
                    }) }
                </dl>
                <button type="button" data-testid="shortcuts-close" onclick={on_close_button}>
                    { "Close" }
                </button>
            </dialog>
        </>
    }
}
