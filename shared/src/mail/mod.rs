//! Internet messages (RFC 5322) and MIME (RFC 2045-2047): the format of what
//! SMTP carries and POP3 retrieves, and the mail store both servers share.
//!
//! - [`mime::parse`] reads a message into a tree of entities with byte spans;
//!   [`dissect::dissect`] turns it into the student's dissection (the `mail`
//!   kind), with the envelope side by side when it is known.
//! - [`header`], [`address`], [`content_type`], [`encoded_word`], [`date`],
//!   [`trace`]: the pieces of a header section; [`transfer`] and
//!   [`charset`]: from the bytes of a body to text.
//! - [`store`]: the [`store::MailStore`] trait, the accounts, the in-memory
//!   store and the course's seed messages; [`quota`]: the quota rule and
//!   the bytes per mailbox both stores count through.
//! - [`compose`]: from From/To/Subject/body fields and a file to a correct
//!   MIME message and the dot-stuffed bytes to send after SMTP's 354.
//! - [`view`]: a message as a mail reader shows it (decoded headers, the
//!   tree of parts with their content, the envelope beside the header).
//!
//! Nothing here fails on bad input: every reader returns what it could read
//! and diagnostics that cite the RFC.

pub mod address;
pub mod charset;
pub mod compose;
pub mod content_type;
pub mod cover;
pub mod date;
pub mod dissect;
pub mod encoded_word;
pub mod envelope;
pub mod header;
pub mod lex;
pub mod locks;
pub mod mime;
pub mod quota;
pub mod store;
pub mod trace;
pub mod transfer;
pub mod view;

pub use dissect::{dissect, dissect_with_envelope};
pub use envelope::Envelope;
pub use store::{MailStore, MemoryStore};
