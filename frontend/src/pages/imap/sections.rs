//! The MIME tree of the last BODYSTRUCTURE the session fetched, each part
//! with its IMAP section number (1, 1.1, 1.2, 2, and HEADER, TEXT, n.MIME;
//! [`wirelab_shared::imap::sections`]) and buttons that put
//! `BODY.PEEK[<section>]` of it in the editor, with the next tag.

use super::view_state::fetch_section_line;
use std::rc::Rc;
use wirelab_shared::imap::client_view::ClientView;
use wirelab_shared::imap::sections::NumberedPart;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BodySectionsProps {
    pub view: Rc<ClientView>,
    pub next_tag: AttrValue,
    /// A folder is selected: FETCH may be sent.
    pub selected: bool,
    /// Puts a command in the editor.
    pub on_fill: Callback<String>,
}

fn fill_button(on_fill: &Callback<String>, line: String, section: &str, label: String) -> Html {
    let onclick = {
        let on_fill = on_fill.clone();
        let line = line.clone();
        Callback::from(move |_: MouseEvent| on_fill.emit(line.clone()))
    };
    html! {
        <button class="small" data-testid="imap-fetch-section" data-section={section.to_string()}
                title={format!("Put {line} in the editor")} {onclick}>{ label }</button>
    }
}

fn part_row(
    part: &NumberedPart,
    line: &dyn Fn(&str) -> String,
    on_fill: &Callback<String>,
) -> Html {
    let own = if part.section.is_empty() {
        "whole message".to_string()
    } else {
        part.section.clone()
    };
    let size = part
        .size
        .map(|s| format!(" · {s} octets"))
        .unwrap_or_default();
    html! {
        <li class="imap-part" data-testid="imap-part" data-section={part.section.clone()}
            style={format!("--depth: {}", part.depth)}>
            <code class="section">{ own.clone() }</code>
            <span class="media-type">{ format!(" {}{size} ", part.media_type) }</span>
            { fill_button(on_fill, line(&part.section), &part.section,
                format!("BODY.PEEK[{}]", part.section)) }
            { for part.header_sections.iter().map(|s| {
                fill_button(on_fill, line(s), s, format!("[{s}]"))
            }) }
        </li>
    }
}

#[function_component(BodySections)]
pub fn body_sections(props: &BodySectionsProps) -> Html {
    let tag = props.next_tag.to_string();
    let ask = {
        let on_fill = props.on_fill.clone();
        let line = format!("{tag} FETCH 1 BODYSTRUCTURE");
        Callback::from(move |_: MouseEvent| on_fill.emit(line.clone()))
    };
    html! {
        <section class="imap-sections" data-testid="imap-sections" aria-labelledby="imap-sections-title">
            <h2 id="imap-sections-title">{ "A message's parts and their section numbers" }</h2>
            if let Some(s) = &props.view.structure {
                <p class="hint">
                    { format!("Message {} in {}{}: BODY.PEEK[section] fetches one part without setting \\Seen \
                               (RFC 9051 §6.4.5). The buttons put the command in the editor.",
                        s.number, s.folder, s.uid.map(|u| format!(" (UID {u})")).unwrap_or_default()) }
                </p>
                <ul class="part-tree">
                    { for s.parts.iter().map(|p| {
                        let line = |section: &str| fetch_section_line(&tag, s.number, s.uid, section);
                        part_row(p, &line, &props.on_fill)
                    }) }
                </ul>
            } else {
                <p class="hint">
                    { "Fetch a message's BODYSTRUCTURE and its MIME tree shows here, each part numbered." }
                    if props.selected {
                        { " " }
                        <button class="small" data-testid="imap-ask-structure" onclick={ask}>
                            { format!("{tag} FETCH 1 BODYSTRUCTURE") }</button>
                    }
                </p>
            }
        </section>
    }
}
