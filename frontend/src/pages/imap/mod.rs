//! The IMAP workbench: log in as bob, select a folder, fetch, flag, copy,
//! one tagged command at a time, with every command and response
//! dissected (literals included), the state shown (Not Authenticated,
//! Authenticated, Selected, Logout), the sessions of
//! `shared::imap::dialogues` to replay, and the next tag (`a001`, `a002`,
//! ...) offered under the editor.
//!
//! It is the line workbench with IMAP's follower
//! ([`ImapTranscript`]); the page follows the same connection to know
//! which tag comes next and what the session taught the client of the
//! mailbox: the folder tree with each message's flags ([`folders`]), what
//! POP3 would have done to it ([`pop3_compare`]), and the section numbers
//! of a fetched message's parts ([`sections`]), whose buttons put a
//! command in the editor.

mod folders;
mod pop3_compare;
mod sections;
mod view_state;

use super::workbench::{LineSpec, LineWorkbench};
use crate::follow;
use crate::hooks::connection::use_connection;
use crate::relay_info::use_relay_info;
use crate::route::Route;
use folders::FolderTree;
use pop3_compare::Pop3Compare;
use sections::BodySections;
use std::rc::Rc;
use view_state::{ImapViewAction, ImapViewState};
use wirelab_shared::conversation::Conversation;
use wirelab_shared::imap::ImapState;
use wirelab_shared::imap::ImapTranscript;
use wirelab_shared::imap::client_view::ClientView;
use wirelab_shared::imap::dialogues::DIALOGUES;
use wirelab_shared::imap::dissect::dissect_command;
use wirelab_shared::relay_protocol::Transport;
use wirelab_shared::transcript::FollowedConversation;
use yew::prelude::*;
use yew_router::prelude::*;

fn imap_conversation(_: Transport) -> Box<dyn Conversation> {
    Box::new(FollowedConversation::new(ImapTranscript::new()))
}

/// The line workbench speaking IMAP.
pub fn imap_spec() -> LineSpec {
    LineSpec {
        key: "imap",
        conversation: imap_conversation,
        draft: dissect_command,
        dialogues: DIALOGUES,
    }
}

#[function_component(ImapPage)]
pub fn imap_page() -> Html {
    let has_target = use_relay_info().serves("imap");
    let conn = use_connection();
    let mut followed = FollowedConversation::new(ImapTranscript::new());
    follow::follow(&conn.session, &mut followed);
    let next_tag = followed.follower().next_tag();
    let view = Rc::new(ClientView::of(followed.follower().messages()));
    let selected = followed.follower().state() == ImapState::Selected;
    let page = use_reducer(ImapViewState::default);
    let on_fill = {
        let dispatcher = page.dispatcher();
        Callback::from(move |line: String| dispatcher.dispatch(ImapViewAction::Fill(line)))
    };
    let on_habit = {
        let dispatcher = page.dispatcher();
        Callback::from(move |habit| dispatcher.dispatch(ImapViewAction::Habit(habit)))
    };
    html! {
        <section class="page imap">
            <h1>{ "IMAP: mail kept on the server" }</h1>
            <p class="intro">
                { "Be bob's mail program over IMAP: log in (a001 LOGIN bob hungry), select INBOX, \
                   fetch a header or a body, set flags, make folders and copy messages into them. \
                   Every command starts with a tag you choose, and the server's last line for it \
                   carries the same tag. Unlike " }
                <Link<Route> to={Route::Pop3}>{ "POP3" }</Link<Route>>
                { ", which downloads (and deletes), IMAP keeps the folders and each message's flags \
                   on the server: log out, log in again, and they are still there. Mail sent on the " }
                <Link<Route> to={Route::Smtp}>{ "SMTP page" }</Link<Route>>
                { " arrives in INBOX." }
            </p>
            if has_target {
                <LineWorkbench spec={imap_spec()} protocol="imap" connection={conn.clone()}
                               fill={page.fill.clone()}>
                    <p class="hint" data-testid="imap-next-tag" data-tag={next_tag.clone()}>
                        { "Next tag: " }<code>{ &next_tag }</code>
                        { " — start your command with it, e.g. " }
                        <code>{ format!("{next_tag} NOOP") }</code>
                    </p>
                </LineWorkbench>
                <div class="imap-views">
                    <FolderTree view={view.clone()} />
                    <BodySections view={view.clone()} next_tag={next_tag.clone()}
                                  selected={selected} on_fill={on_fill} />
                    <Pop3Compare view={view} habit={page.habit} on_habit={on_habit} />
                </div>
            } else {
                <p class="notice" data-testid="no-target">
                    { "This relay has no IMAP server in its catalog." }
                </p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_follows_imap_and_offers_the_next_tag() {
        let spec = imap_spec();
        let mut c = (spec.conversation)(Transport::Tcp);
        c.server_bytes(b"* OK ready\r\n", 0.0);
        c.client_bytes(b"a001 LOGIN bob hungry\r\n", 1.0);
        c.server_bytes(b"a001 OK LOGIN completed\r\n", 2.0);
        assert_eq!(c.state().as_deref(), Some("Authenticated"));
        let draft = c.dissect_draft(b"a002 FETCH 1 FLAGS\r\n").unwrap();
        assert!(
            draft
                .diagnostics
                .iter()
                .any(|d| d.message.contains("not valid in the Authenticated state"))
        );
        assert_eq!(spec.dialogues.first().map(|d| d.id), Some("login"));
    }
}
