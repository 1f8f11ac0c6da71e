//! The bounds a server of a line protocol (SMTP, POP3) puts on the command
//! lines its client sends, written once so both servers hold them alike:
//!
//! - **length**: a line over `max_line_bytes` is dropped as it arrives and
//!   reported once as [`Next::TooLong`]; the buffer never holds more of it;
//! - **time**: a line whose first byte came `line_timeout_ms` ago without
//!   its LF has timed out ([`CommandReader::timed_out`]): a client sending
//!   one byte a second (slowloris) cannot hold a connection for ever;
//! - **pipelining**: in one round (one `handle_*` call of the engine, after
//!   which its driver writes every reply before reading again) the server
//!   answers at most `max_pipelined` commands and at most
//!   [`ROUND_REPLY_BYTES`] of replies (one command always). What is left
//!   waits in the buffer and [`CommandReader::deadline`] asks the driver to
//!   wake the engine at once to go on, after the replies are written: a
//!   client that floods commands and never reads stops being read once the
//!   socket's buffers are full, instead of growing a queue of replies. The
//!   unread input held meanwhile is bounded too ([`CommandReader::overfull`]).
//!
//! The engine calls [`CommandReader::start_round`] first thing in every
//! `handle_*`, feeds input with [`CommandReader::extend`], takes lines with
//! [`CommandReader::next_command`] until it gets [`Next::Wait`] or [`Next::Paused`],
//! tells [`CommandReader::replied`] the size of every reply, and returns
//! [`CommandReader::deadline`] in its `Output::Wait`.

use crate::engine::Millis;
use crate::framing::{CommandLine, CommandLines, next_line};

/// Reply bytes one round may produce before the server waits for them to
/// be written: one POP3 RETR of a large message is a round on its own.
pub const ROUND_REPLY_BYTES: usize = 256 * 1024;

/// The least unread input a server holds while it is behind; a client that
/// pipelines more than this (or four command lines of the largest size)
/// without reading its replies is closed.
pub const MIN_UNREAD_BYTES: usize = 64 * 1024;

/// The bounds on command lines, from the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLimits {
    /// The longest command line, without its CR LF.
    pub max_line_bytes: usize,
    /// How long one command line may take to arrive, from its first byte.
    pub line_timeout_ms: u64,
    /// Commands answered in one round.
    pub max_pipelined: usize,
}

/// What [`CommandReader::next_command`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// A complete command line, without its ending.
    Line(Vec<u8>),
    /// A line over `max_line_bytes`, dropped up to its LF.
    TooLong,
    /// No complete line yet.
    Wait,
    /// This round has answered enough: the rest waits for the next round.
    Paused,
}

/// The command lines of one connection, with their bounds.
#[derive(Debug, Clone)]
pub struct CommandReader {
    lines: CommandLines,
    limits: LineLimits,
    now: Millis,
    /// When the first byte of the line being received arrived.
    line_started: Option<Millis>,
    answered: usize,
    reply_bytes: usize,
    paused: bool,
}

impl CommandReader {
    pub fn new(limits: LineLimits) -> CommandReader {
        CommandReader {
            lines: CommandLines::default(),
            limits,
            now: Millis(0),
            line_started: None,
            answered: 0,
            reply_bytes: 0,
            paused: false,
        }
    }

    pub fn limits(&self) -> LineLimits {
        self.limits
    }

    /// A new round at `now`: the budget of commands and reply bytes is full.
    pub fn start_round(&mut self, now: Millis) {
        self.now = now;
        self.answered = 0;
        self.reply_bytes = 0;
        self.paused = false;
    }

    /// Input from the client; a line starts its clock with its first byte.
    pub fn extend(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() && self.line_started.is_none() {
            self.line_started = Some(self.now);
        }
        self.lines.extend(bytes);
    }

    /// The next command line, if this round may still answer one.
    pub fn next_command(&mut self) -> Next {
        let spent = self.answered >= self.limits.max_pipelined.max(1)
            || self.reply_bytes >= ROUND_REPLY_BYTES;
        if spent && !self.lines.unread().is_empty() {
            self.paused = true;
            return Next::Paused;
        }
        let max = self.limits.max_line_bytes;
        let next = match self.lines.next(|buf| next_line(buf, max)) {
            Some(CommandLine::Line(content)) => Next::Line(content),
            Some(CommandLine::TooLong) => Next::TooLong,
            None => return Next::Wait,
        };
        self.answered += 1;
        self.restart_line_clock();
        next
    }

    /// A reply of `bytes` was queued for the client.
    pub fn replied(&mut self, bytes: usize) {
        self.reply_bytes = self.reply_bytes.saturating_add(bytes);
    }

    /// The bytes not read yet, for text that is not command lines (SMTP's
    /// message after DATA).
    pub fn unread(&self) -> &[u8] {
        self.lines.unread()
    }

    /// Drops `n` unread bytes the caller read itself.
    pub fn consume(&mut self, n: usize) {
        self.lines.consume(n);
    }

    /// Starts timing the next line afresh: a line already begun in the
    /// unread bytes started now; otherwise none has started.
    pub fn restart_line_clock(&mut self) {
        self.line_started = (!self.lines.unread().is_empty()).then_some(self.now);
    }

    /// The client has pipelined more than the server holds while behind.
    pub fn overfull(&self) -> bool {
        let cap = MIN_UNREAD_BYTES.max(self.limits.max_line_bytes.saturating_mul(4));
        self.lines.unread().len() > cap
    }

    /// A command line has been arriving for longer than its bound.
    pub fn timed_out(&self, now: Millis) -> bool {
        self.line_deadline().is_some_and(|at| now >= at)
    }

    fn line_deadline(&self) -> Option<Millis> {
        self.line_started
            .map(|t| t.saturating_add(self.limits.line_timeout_ms))
    }

    /// When the engine must be woken: at once to go on after a paused
    /// round, else when the line being received times out.
    pub fn deadline(&self) -> Option<Millis> {
        if self.paused {
            Some(self.now)
        } else {
            self.line_deadline()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(max_pipelined: usize) -> CommandReader {
        CommandReader::new(LineLimits {
            max_line_bytes: 8,
            line_timeout_ms: 1000,
            max_pipelined,
        })
    }

    #[test]
    fn a_line_is_timed_from_its_first_byte() {
        let mut r = reader(10);
        r.start_round(Millis(100));
        assert_eq!(r.next_command(), Next::Wait);
        assert_eq!(r.deadline(), None, "no line begun: nothing to time");
        r.extend(b"NO");
        assert_eq!(r.next_command(), Next::Wait);
        assert_eq!(r.deadline(), Some(Millis(1100)));
        r.start_round(Millis(900));
        r.extend(b"OP");
        assert_eq!(r.next_command(), Next::Wait);
        assert!(!r.timed_out(Millis(1099)));
        assert!(r.timed_out(Millis(1100)));
        r.start_round(Millis(1000));
        r.extend(b"\r\nQU");
        assert_eq!(r.next_command(), Next::Line(b"NOOP".to_vec()));
        assert_eq!(r.deadline(), Some(Millis(2000)), "QU began at 1000");
        r.extend(b"IT\r\n");
        assert_eq!(r.next_command(), Next::Line(b"QUIT".to_vec()));
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn an_endless_line_is_dropped_yet_still_timed() {
        let mut r = reader(10);
        r.start_round(Millis(0));
        r.extend(&[b'x'; 100]);
        assert_eq!(r.next_command(), Next::Wait);
        assert!(r.unread().is_empty(), "nothing of it is kept");
        r.start_round(Millis(500));
        r.extend(&[b'x'; 100]);
        assert_eq!(r.next_command(), Next::Wait);
        assert!(r.timed_out(Millis(1000)), "timed from its first byte");
        r.extend(b"\n");
        assert_eq!(r.next_command(), Next::TooLong);
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn a_round_answers_at_most_its_budget_then_asks_to_go_on() {
        let mut r = reader(2);
        r.start_round(Millis(7));
        r.extend(b"A\r\nB\r\nC\r\n");
        assert_eq!(r.next_command(), Next::Line(b"A".to_vec()));
        assert_eq!(r.next_command(), Next::Line(b"B".to_vec()));
        assert_eq!(r.next_command(), Next::Paused);
        assert_eq!(r.deadline(), Some(Millis(7)), "woken at once");
        r.start_round(Millis(8));
        assert_eq!(r.next_command(), Next::Line(b"C".to_vec()));
        assert_eq!(r.next_command(), Next::Wait);
        assert_eq!(r.deadline(), None);
        // Large replies end a round early; one command always goes through.
        r.start_round(Millis(9));
        r.extend(b"D\r\nE\r\n");
        assert_eq!(r.next_command(), Next::Line(b"D".to_vec()));
        r.replied(ROUND_REPLY_BYTES);
        assert_eq!(r.next_command(), Next::Paused);
    }

    #[test]
    fn unread_input_is_bounded() {
        let mut r = reader(10);
        r.start_round(Millis(0));
        r.extend(&b"A\r\n".repeat(MIN_UNREAD_BYTES / 3));
        assert!(!r.overfull());
        r.extend(b"A\r\nA\r\n");
        assert!(r.overfull());
        assert_eq!(r.next_command(), Next::Line(b"A".to_vec()));
        assert_eq!(r.next_command(), Next::Line(b"A".to_vec()));
        assert!(!r.overfull(), "answering empties it");
    }
}
