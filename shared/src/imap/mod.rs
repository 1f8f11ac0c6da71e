//! IMAP (IMAP4rev2, RFC 9051, with IMAP4rev1 clients per RFC 3501 accepted):
//! the data formats ([`syntax`]: atoms, quoted strings, literals, lists,
//! sequence sets), the framer that understands literals ([`frame`]),
//! commands ([`command`], their argument grammar in [`args`]) and responses
//! ([`response`], untagged data in [`data`]) with their wire forms, the
//! dissectors ([`dissect`]), folder names ([`folder`]), and the server
//! engine ([`server`]) over a mail store ([`store`]; the memory store's
//! side in `memory`), the follower of a whole session for the page
//! ([`transcript`]) and the sessions it replays ([`dialogues`]).
//!
//! Callers frame first (`frame::next_command` / `frame::next_response`, with
//! limits checked before any byte is taken), then parse or dissect the whole
//! message, literals included.

pub mod args;
mod auth;
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
pub mod response;
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
