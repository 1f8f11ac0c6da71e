//! POP3 (RFC 1939, RFC 2449): commands, replies with byte-stuffed
//! multi-line bodies, framing, the AUTHORIZATION → TRANSACTION → UPDATE
//! states, dissectors, client and server engines over a
//! [`crate::mail::MailStore`], and a follower that dissects a whole session
//! for the page ([`Pop3Transcript`]), with what the session learnt of the
//! mailbox ([`mailbox::SessionMailbox`]) and the course's sessions to
//! replay ([`dialogues`]).

pub mod client;
pub mod command;
pub mod dialogues;
pub mod dissect;
pub mod frame;
pub mod mailbox;
pub mod placeholder;
pub mod reply;
pub mod server;
pub mod session;
pub mod transcript;

pub use command::Command;
pub use reply::Reply;
pub use server::{Pop3Server, Pop3ServerConfig};
pub use session::Pop3State;
pub use transcript::Pop3Transcript;
