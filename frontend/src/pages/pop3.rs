//! The POP3 workbench: log in as bob and read the mail, one command at a
//! time, with every reply dissected (a retrieved message taken apart as a
//! message), the state shown (AUTHORIZATION, TRANSACTION, UPDATE) and the
//! course's session to replay. Under it, the mailbox as this session sees
//! it: the listing, what was retrieved (each opened as a MIME tree with
//! decoded parts, its headers, its envelope, its raw source), what is
//! marked for deletion; and the mailboxes as the server holds them.
//!
//! The page owns the connection: the mailbox view reads the session's
//! transcript and can send `LIST` and `RETR n` on it for the student (the
//! commands show in the transcript like typed ones).

use super::workbench::{LineSpec, LineWorkbench};
use crate::components::mail_message::MailMessage;
use crate::components::mailboxes::ServerMailboxes;
use crate::follow;
use crate::hooks::connection::use_connection;
use crate::relay_info::use_relay_info;
use crate::route::Route;
use std::rc::Rc;
use wirelab_shared::conversation::Conversation;
use wirelab_shared::mail::view::Headline;
use wirelab_shared::pop3::dialogues::DIALOGUES;
use wirelab_shared::pop3::dissect::dissect_command;
use wirelab_shared::pop3::mailbox::SessionMailbox;
use wirelab_shared::pop3::{Pop3State, Pop3Transcript};
use wirelab_shared::relay_protocol::Transport;
use wirelab_shared::transcript::FollowedConversation;
use yew::prelude::*;
use yew_router::prelude::*;

fn pop3_conversation(_: Transport) -> Box<dyn Conversation> {
    Box::new(FollowedConversation::new(Pop3Transcript::new()))
}

/// The line workbench speaking POP3.
pub fn pop3_spec() -> LineSpec {
    LineSpec {
        key: "pop3",
        conversation: pop3_conversation,
        draft: dissect_command,
        dialogues: DIALOGUES,
    }
}

#[function_component(Pop3Page)]
pub fn pop3_page() -> Html {
    let has_target = use_relay_info().serves("pop3");
    let conn = use_connection();
    let mut followed = FollowedConversation::new(Pop3Transcript::new());
    follow::follow(&conn.session, &mut followed);
    let pop3 = followed.follower();
    let mailbox = Rc::new(SessionMailbox::of(pop3.messages()));
    let can_command = pop3.state() == Pop3State::Transaction && conn.session.state.can_send();
    let on_command = {
        let conn = conn.clone();
        Callback::from(move |line: String| {
            conn.send(format!("{line}\r\n").as_bytes());
        })
    };
    // The server's mailboxes change when a session ends (QUIT applies
    // deletions, a lock is released) or a command is answered.
    let refresh = conn.session.entries.len() as u64;
    html! {
        <section class="page pop3">
            <h1>{ "POP3: reading mail" }</h1>
            <p class="intro">
                { "Be bob's mail reader: connect to the POP3 server and log in (user bob, pass hungry), \
                   then list, retrieve and delete messages one command at a time. The state goes from \
                   AUTHORIZATION to TRANSACTION once logged in, and to UPDATE at quit, when the \
                   deletions are applied. Mail sent on the " }
                <Link<Route> to={Route::Smtp}>{ "SMTP page" }</Link<Route>>
                { " arrives here." }
            </p>
            if has_target {
                <LineWorkbench spec={pop3_spec()} protocol="pop3" connection={conn.clone()} />
                <MailboxView mailbox={mailbox} can_command={can_command} on_command={on_command} />
                <ServerMailboxes refresh={refresh} />
            } else {
                <p class="notice" data-testid="no-target">
                    { "This relay has no POP3 server in its catalog." }
                </p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct MailboxViewProps {
    pub mailbox: Rc<SessionMailbox>,
    /// The session is in TRANSACTION and can send: LIST and RETR may be sent.
    pub can_command: bool,
    /// Sends one command line (without CR LF) on the session.
    pub on_command: Callback<String>,
}

/// One row of the view: a message the session knows of.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    number: u32,
    octets: Option<u64>,
    retrieved: bool,
    partial: bool,
    deleted: bool,
}

fn rows(mailbox: &SessionMailbox) -> Vec<Row> {
    let mut numbers: Vec<u32> = mailbox
        .listing
        .iter()
        .flatten()
        .map(|e| e.number)
        .chain(mailbox.retrieved.iter().map(|r| r.number))
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
        .into_iter()
        .map(|number| {
            let got = mailbox.get(number);
            Row {
                number,
                octets: mailbox
                    .listing
                    .iter()
                    .flatten()
                    .find(|e| e.number == number)
                    .map(|e| e.octets),
                retrieved: got.is_some(),
                partial: got.is_some_and(|r| r.partial),
                deleted: mailbox.is_deleted(number),
            }
        })
        .collect()
}

/// The mailbox as the session sees it, with one message opened.
#[function_component(MailboxView)]
pub fn mailbox_view(props: &MailboxViewProps) -> Html {
    let opened = use_state(|| None::<u32>);
    let mailbox = &props.mailbox;
    let rows = rows(mailbox);
    // The message shown: the one the student opened, else the latest retrieved.
    let latest = mailbox
        .retrieved
        .iter()
        .max_by_key(|r| r.reply)
        .map(|r| r.number);
    let shown = opened.filter(|n| mailbox.get(*n).is_some()).or(latest);
    {
        // A new session (or a cleared transcript) starts with an empty
        // mailbox: the message opened in the previous one is not its own.
        let opened = opened.clone();
        use_effect_with(rows.is_empty(), move |empty| {
            if *empty {
                opened.set(None);
            }
        });
    }
    let on_list = {
        let on_command = props.on_command.clone();
        Callback::from(move |_: MouseEvent| on_command.emit("LIST".into()))
    };
    let status = |row: &Row| -> &'static str {
        match (row.deleted, mailbox.committed, row.retrieved, row.partial) {
            (true, true, _, _) => "deleted at QUIT",
            (true, false, _, _) => "marked for deletion (until QUIT; RSET undoes)",
            (false, _, true, true) => "header fetched with TOP",
            (false, _, true, false) => "retrieved",
            _ => "on the server",
        }
    };
    html! {
        <section class="mailbox-view" data-testid="mailbox-view">
            <h2>{ "The mailbox, as this session sees it " }
                <button class="small" data-testid="mailbox-list" onclick={on_list} disabled={!props.can_command}
                        title="Send LIST on the session">{ "LIST" }</button>
            </h2>
            if rows.is_empty() {
                <p class="hint">
                    { "Log in and type LIST (or replay the course's session): the messages show here, and \
                       each one RETR brings can be opened." }
                </p>
            } else {
                <table class="mailbox">
                    <thead><tr><th>{ "#" }</th><th>{ "Octets" }</th><th>{ "Subject / From" }</th><th>{ "Status" }</th><th><span class="sr-only">{ "Commands" }</span></th></tr></thead>
                    <tbody>
                        { for rows.iter().map(|row| {
                            let number = row.number;
                            let headline = mailbox.get(number).map(|r| Headline::of(&r.message)).unwrap_or_default();
                            let on_retr = {
                                let on_command = props.on_command.clone();
                                Callback::from(move |_: MouseEvent| on_command.emit(format!("RETR {number}")))
                            };
                            let on_open = {
                                let opened = opened.clone();
                                Callback::from(move |_: MouseEvent| opened.set(Some(number)))
                            };
                            let who = match (&headline.subject, &headline.from) {
                                (Some(s), Some(f)) => format!("{s} — {f}"),
                                (Some(s), None) => s.clone(),
                                (None, Some(f)) => format!("(no subject) — {f}"),
                                (None, None) if row.retrieved => "(no Subject:, no From:)".into(),
                                (None, None) => String::new(),
                            };
                            html! {
                                <tr data-testid="mailbox-row" data-number={number.to_string()}
                                    data-retrieved={row.retrieved.to_string()} data-deleted={row.deleted.to_string()}
                                    class={classes!(row.deleted.then_some("deleted"), (shown == Some(number)).then_some("shown"))}>
                                    <td>{ number }</td>
                                    <td>{ row.octets.map(|o| o.to_string()).unwrap_or_default() }</td>
                                    <td>{ who }</td>
                                    <td>{ status(row) }</td>
                                    <td>
                                        <button class="small" data-testid="mailbox-retr" onclick={on_retr}
                                                disabled={!props.can_command || row.deleted}
                                                title={format!("Send RETR {number} on the session")}>{ format!("RETR {number}") }</button>
                                        { " " }
                                        <button class="small" data-testid="mailbox-open" onclick={on_open}
                                                disabled={!row.retrieved}>{ "open" }</button>
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
            if let Some(r) = shown.and_then(|n| mailbox.get(n)) {
                <MailMessage bytes={Rc::new(r.message.clone())}
                             title={AttrValue::from(format!("Message {}{}", r.number,
                                 if r.partial { ", header only (TOP)" } else { ", as RETR brought it (stuffing removed)" }))} />
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::transcript::{Follower, Side};

    #[test]
    fn rows_join_the_listing_and_the_retrievals() {
        let t = Pop3Transcript::replay(
            [
                (Side::Server, &b"+OK ready\r\n"[..]),
                (
                    Side::Client,
                    b"USER bob\r\nPASS hungry\r\nLIST\r\nRETR 2\r\nDELE 1\r\nRETR 3\r\n",
                ),
                (
                    Side::Server,
                    b"+OK\r\n+OK\r\n+OK\r\n1 498\r\n2 912\r\n.\r\n+OK\r\nSubject: b\r\n\r\n.\r\n+OK\r\n-ERR no such message\r\n",
                ),
            ],
        );
        let rows = rows(&SessionMailbox::of(t.messages()));
        assert_eq!(rows.len(), 2);
        assert!(rows[0].deleted && !rows[0].retrieved);
        assert_eq!(rows[0].octets, Some(498));
        assert!(rows[1].retrieved && !rows[1].partial);
    }
}
