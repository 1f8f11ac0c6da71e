//! SMTP (RFC 5321): commands, replies, framing, the session state machine,
//! dissectors, client and server engines, and a follower that dissects a
//! whole session from its bytes for the page.
//!
//! - [`command`] and [`reply`]: typed messages with `parse` and `to_bytes`;
//! - [`frame`]: where a command, a reply or the DATA text ends;
//! - [`session`]: the states shown to the student ("greeted", "mail
//!   transaction open", "recipients given", "receiving data") and the
//!   sequence rules (503);
//! - [`dissect`]: the `smtp-command` and `smtp-reply` kinds and the DATA text;
//! - [`server`] and [`client`]: [`crate::engine::Engine`]s;
//! - [`transcript`]: [`SmtpTranscript`], what a workbench feeds with the bytes
//!   of a connection to get each message dissected and the state;
//! - [`dialogues`]: the course's dialogue and others to replay line by line.

pub mod client;
pub mod command;
pub mod dialogues;
pub mod dissect;
pub mod frame;
pub mod reply;
pub mod server;
pub mod session;
pub mod transcript;

pub use command::Command;
pub use reply::Reply;
pub use server::{SmtpServer, SmtpServerConfig};
pub use session::SmtpState;
pub use transcript::SmtpTranscript;
