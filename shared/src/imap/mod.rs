//! IMAP (IMAP4rev2, RFC 9051, with IMAP4rev1 clients per RFC 3501 accepted):
//! the data formats ([`syntax`]: atoms, quoted strings, literals, lists,
//! sequence sets), the framer that understands literals ([`frame`]),
//! commands ([`command`], their argument grammar in [`args`]) and responses
//! ([`response`], untagged data in [`data`]) with their wire forms, the
//! dissectors ([`dissect`]), folder names ([`folder`]), and the server
//! engine ([`server`]) over a mail store ([`store`]; the memory store's
//! side in `memory`), the follower of a whole session for the page
//! ([`transcript`]) and the sessions it replays ([`dialogues`]). For the
//! page's views: what a client learnt of the mailbox in a session
//! ([`client_view`]), the section numbers of a fetched message's parts
//! ([`sections`]), and what POP3 would have done instead ([`pop3_compare`]).
//!
//! Callers frame first (`frame::next_command` / `frame::next_response`, with
//! limits checked before any byte is taken), then parse or dissect the whole
//! message, literals included.

pub mod args;
mod auth;
pub mod client_view;
pub mod command;
mod copy;
pub mod data;
pub mod dialogues;
pub mod dissect;
pub mod fetch;
pub mod folder;
mod folders;
pub mod frame;
mod mailbox;
mod memory;
pub mod part;
pub mod pop3_compare;
pub mod response;
pub mod sections;
pub mod server;
pub mod store;
pub mod structure;
pub mod syntax;
pub mod transcript;

pub use command::{Command, ImapState, Verb};
pub use frame::{Framed, Limits};
pub use response::{Response, Status};
pub use server::{ImapServer, ImapServerConfig};
pub use syntax::Value;
pub use transcript::ImapTranscript;
