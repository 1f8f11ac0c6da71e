//! wirelab's protocol core: sans-IO engines, parsers, dissectors and the relay
//! protocol types, shared by the relay (native, over tokio sockets) and the
//! page (WebAssembly, in the browser).
//!
//! Nothing here does I/O or reads a clock: callers pass bytes and time in and
//! take bytes, events and deadlines out (see [`engine`]). Every parser returns
//! a [`dissect::Dissection`] for the student, with diagnostics instead of
//! errors for malformed input.
#![forbid(unsafe_code)]

pub mod base64;
pub mod bittorrent;
pub mod busy;
pub mod cache_calc;
pub mod calendar;
pub mod catalog;
pub mod command_reader;
pub mod conversation;
pub mod dissect;
pub mod dns;
pub mod engine;
pub mod exercises;
pub mod framing;
pub mod ftp;
// The fuzz bodies: for this crate's tests and the fuzz crate in `fuzz/`,
// never in the relay or the page.
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod http;
pub mod imap;
pub mod kinds;
pub mod line;
pub mod line_protocol;
pub mod mail;
pub mod overlay;
pub mod pages;
pub mod pop3;
pub mod relay_protocol;
pub mod rfc;
pub mod smtp;
pub mod stuffing;
pub mod text;
pub mod transcript;
pub mod upper;

pub use dissect::{Diagnostic, Dissection, Field, Protocol, Severity, Span};
pub use engine::{Engine, Millis, Output};
