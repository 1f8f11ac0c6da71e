//! The folder tree with each message's flags, as the IMAP session taught
//! the client: every folder LIST named (subfolders under their parent),
//! and in each folder selected, its messages by number with UID, subject
//! and flags as badges.
//!
//! Read from the session's transcript ([`ClientView`]) rather than the
//! relay's mailboxes API on purpose: it shows what an IMAP client knows
//! from its own commands (flags appear once FETCH or STORE reported them),
//! which is the lesson, and it works the same with the in-browser server
//! when there is no relay.

use std::rc::Rc;
use wirelab_shared::imap::client_view::{ClientView, KnownFolder, KnownMessage};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FolderTreeProps {
    pub view: Rc<ClientView>,
}

/// The badge class of a flag: system flags by name, keywords alike.
fn flag_class(flag: &str) -> &'static str {
    match flag.to_ascii_lowercase().as_str() {
        "\\seen" => "flag seen",
        "\\answered" => "flag answered",
        "\\flagged" => "flag flagged",
        "\\deleted" => "flag deleted",
        "\\draft" => "flag draft",
        "\\recent" => "flag recent",
        _ => "flag keyword",
    }
}

fn message_row(number: usize, m: &KnownMessage) -> Html {
    let flags = m.flags.clone().unwrap_or_default();
    let uid = m.uid.map(|u| u.to_string());
    let subject = m
        .subject
        .clone()
        .unwrap_or_else(|| "(subject not fetched)".into());
    html! {
        <li class="imap-message" data-testid="imap-message" data-number={number.to_string()}
            data-uid={uid.clone()} data-flags={flags.join(" ")}>
            <span class="number">{ format!("#{number}") }</span>
            <span class="uid">{ uid.map_or_else(|| "UID ?".to_string(), |u| format!("UID {u}")) }</span>
            <span class="subject">{ subject }</span>
            if m.flags.is_none() {
                <span class="hint">{ "flags not fetched" }</span>
            } else if flags.is_empty() {
                <span class="hint">{ "no flags (unread)" }</span>
            }
            { for flags.iter().map(|f| html! {
                <span class={flag_class(f)} data-testid="imap-flag" data-flag={f.clone()}>{ f.clone() }</span>
            }) }
        </li>
    }
}

fn folder_row(folder: &KnownFolder, depth: usize, label: &str, selected: bool) -> Html {
    let count = folder
        .count
        .map(|c| format!("{c} message{}", if c == 1 { "" } else { "s" }));
    let shown = folder.messages.len();
    let more = folder
        .count
        .and_then(|c| usize::try_from(c).ok())
        .filter(|&c| c > shown)
        .map(|c| c - shown);
    html! {
        <li class="imap-folder" data-testid="imap-folder" data-folder={folder.name.clone()}
            data-selected={selected.to_string()} style={format!("--depth: {depth}")}>
            <span class="folder-name">{ label.to_string() }</span>
            if let Some(count) = count { <span class="hint">{ format!(" {count}") }</span> }
            if selected { <span class="hint">{ " — selected" }</span> }
            if folder.opened && !folder.messages.is_empty() {
                <ol class="imap-messages">
                    { for folder.messages.iter().enumerate().map(|(i, m)| message_row(i + 1, m)) }
                </ol>
            }
            if let Some(more) = more.filter(|_| folder.opened) {
                <p class="hint">{ format!("{more} more not listed here") }</p>
            }
        </li>
    }
}

#[function_component(FolderTree)]
pub fn folder_tree(props: &FolderTreeProps) -> Html {
    let view = &props.view;
    let rows = view.tree();
    html! {
        <section class="imap-folders" data-testid="imap-folders" aria-labelledby="imap-folders-title">
            <h2 id="imap-folders-title">{ "Folders and flags, as this session knows them" }</h2>
            <p class="hint">
                { "Built from the server's answers in this session (LIST, SELECT, FETCH, STORE, EXPUNGE, \
                   and EXISTS during IDLE), as a mail program would know them: fetch FLAGS and ENVELOPE \
                   to fill it in." }
            </p>
            if rows.is_empty() {
                <p class="hint">{ "No folders yet: log in, then LIST \"\" * or SELECT INBOX." }</p>
            } else {
                <ul class="folder-tree">
                    { for rows.iter().map(|r| folder_row(r.folder, r.depth, r.label,
                        view.selected.as_deref() == Some(r.folder.name.as_str()))) }
                </ul>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_flags_have_their_own_badge_and_keywords_share_one() {
        assert_eq!(flag_class("\\SEEN"), "flag seen");
        assert_eq!(flag_class("\\Deleted"), "flag deleted");
        assert_eq!(flag_class("$Forwarded"), "flag keyword");
    }
}
