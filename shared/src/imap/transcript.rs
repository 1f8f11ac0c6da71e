//! Following an IMAP session from its bytes, for the page: feed what the
//! client and the server sent, in order, and get back each complete command
//! and response (literals included, framed as [`super::frame`] frames
//! them), dissected, with the state (Not Authenticated, Authenticated,
//! Selected, Logout) after it.
//!
//! Unlike POP3, IMAP answers by tag, not in order: a tagged status
//! response completes the command that carried its tag, whenever it
//! comes, and untagged data may arrive at any time. A command sent in the
//! wrong state is flagged in its dissection (the server answers BAD or NO).

use super::command::{ImapState, Verb, parse_command};
use super::dissect::{dissect_command, dissect_command_in, dissect_response};
use super::frame::{Framed, Limits, next_command, next_response};
use super::response::{Response, Status};
use crate::dissect::{Diagnostic, Dissection, Span};
use crate::framing::strip_line_end;
use crate::line_protocol::{Seen, SessionRules, Transcript, framed_len};
use crate::transcript::{Observed, Side};

/// A command sent and not yet completed by its tagged response.
#[derive(Debug, Clone)]
struct Awaiting {
    /// Its index among the follower's messages.
    index: usize,
    tag: String,
    /// `None` when the command did not parse (the server answers BAD).
    verb: Option<Verb>,
}

/// The follower of one IMAP connection.
pub type ImapTranscript = Transcript<ImapRules>;

/// What the IMAP follower knows of its session.
#[derive(Debug, Clone, Default)]
pub struct ImapRules {
    state: ImapState,
    greeted: bool,
    awaiting: Vec<Awaiting>,
    /// The highest number of a tag of the form `a<digits>` sent so far.
    last_tag_number: u32,
}

impl Transcript<ImapRules> {
    /// The tag to offer the student for the next command: `a001`, `a002`,
    /// ..., one past the highest such tag sent.
    pub fn next_tag(&self) -> String {
        format!("a{:03}", self.rules().last_tag_number.saturating_add(1))
    }
}

impl ImapRules {
    /// The state once every command still awaiting its completion succeeds.
    fn projected(&self) -> ImapState {
        self.awaiting
            .iter()
            .filter_map(|a| a.verb)
            .fold(self.state, |s, v| after_completion(s, v, Status::Ok))
    }

    fn client_message(&mut self, bytes: &[u8], index: usize) -> Seen<ImapState> {
        let is_done = strip_line_end(bytes).eq_ignore_ascii_case(b"DONE");
        let dissection = if is_done {
            dissect_command(bytes)
        } else {
            dissect_command_in(bytes, Some(self.projected()))
        };
        if !is_done {
            let parsed = parse_command(bytes);
            let tag = parsed
                .syntax
                .tag
                .map(|t| String::from_utf8_lossy(t.slice(bytes)).into_owned());
            if let Some(tag) = tag {
                self.count_tag(&tag);
                self.awaiting.push(Awaiting {
                    index,
                    tag,
                    verb: parsed.command.ok().map(|c| c.verb),
                });
            }
        }
        Seen {
            kind: if is_done { "done" } else { "command" },
            dissection,
            state: self.state,
            answers: None,
        }
    }

    fn count_tag(&mut self, tag: &str) {
        let number = tag
            .strip_prefix(['a', 'A'])
            .filter(|digits| digits.len() <= 9)
            .and_then(|digits| digits.parse::<u32>().ok());
        if let Some(n) = number {
            self.last_tag_number = self.last_tag_number.max(n);
        }
    }

    fn server_message(&mut self, bytes: &[u8]) -> Seen<ImapState> {
        let mut dissection = dissect_response(bytes);
        let response = Response::parse(bytes).ok();
        let (kind, answers) = match &response {
            Some(Response::Status {
                tag: Some(tag),
                status,
                ..
            }) => ("reply", self.complete(tag, *status, bytes, &mut dissection)),
            Some(Response::Status { status, .. }) if !self.greeted => {
                self.greet(*status, bytes, &mut dissection);
                ("greeting", None)
            }
            Some(Response::Status {
                status: Status::Bye,
                ..
            }) => {
                self.state = ImapState::Logout;
                ("untagged", None)
            }
            Some(Response::Continuation { .. }) => ("continuation", None),
            _ => ("untagged", None),
        };
        self.greeted = true;
        Seen {
            kind,
            dissection,
            state: self.state,
            answers,
        }
    }

    fn greet(&mut self, status: Status, bytes: &[u8], d: &mut Dissection) {
        self.state = match status {
            Status::PreAuth => ImapState::Authenticated,
            Status::Bye => ImapState::Logout,
            _ => ImapState::NotAuthenticated,
        };
        d.diagnostics.push(
            Diagnostic::note(
                Span::new(0, bytes.len().min(4)),
                format!(
                    "the greeting: the server speaks first; the session is in the {} state",
                    self.state.label()
                ),
            )
            .reference("RFC 9051 §7.1"),
        );
    }

    /// A tagged status response: completes the command with its tag, moves
    /// the state, and returns that command's index.
    fn complete(
        &mut self,
        tag: &str,
        status: Status,
        bytes: &[u8],
        d: &mut Dissection,
    ) -> Option<usize> {
        let tag_span = Span::new(0, tag.len().min(bytes.len()));
        let Some(at) = self.awaiting.iter().position(|a| a.tag == tag) else {
            d.diagnostics.push(
                Diagnostic::warning(tag_span, "no command awaiting completion carries this tag")
                    .reference("RFC 9051 §2.2.2"),
            );
            return None;
        };
        let done = self.awaiting.remove(at);
        if let Some(verb) = done.verb {
            self.state = after_completion(self.state, verb, status);
            d.diagnostics.push(Diagnostic::note(
                tag_span,
                format!(
                    "completes {tag} {}: the session is now {}",
                    verb.name(),
                    self.state.label()
                ),
            ));
        }
        Some(done.index)
    }
}

impl SessionRules for ImapRules {
    type State = ImapState;

    fn next_message(&mut self, side: Side, pending: &[u8]) -> Option<usize> {
        let frame = match side {
            Side::Client => next_command,
            Side::Server => next_response,
        };
        message_len(pending, frame)
    }

    fn observe(
        &mut self,
        side: Side,
        bytes: &[u8],
        history: &[Observed<ImapState>],
    ) -> Seen<ImapState> {
        match side {
            Side::Client => self.client_message(bytes, history.len()),
            Side::Server => self.server_message(bytes),
        }
    }

    fn state(&self) -> ImapState {
        self.state
    }

    fn state_label(&self) -> String {
        if self.greeted {
            self.state.label().to_string()
        } else {
            "waiting for greeting".to_string()
        }
    }

    fn state_hint(&self) -> String {
        explain(self.state, self.greeted).to_string()
    }

    /// What the student is typing, checked against the state the session
    /// will be in once the commands sent so far succeed.
    fn dissect_draft(&self, bytes: &[u8]) -> Dissection {
        dissect_command_in(bytes, Some(self.projected()))
    }

    fn dissect_pending(&self, side: Side, pending: &[u8]) -> Dissection {
        match side {
            Side::Client => dissect_command(pending),
            Side::Server => dissect_response(pending),
        }
    }
}

/// The length of the next message in `buf`, if one is complete (literals
/// included). A message the framer refuses (a line or literal over its
/// limits) is taken up to its LF, or whole, so that it shows with its
/// error instead of blocking the follower.
fn message_len(
    buf: &[u8],
    frame: fn(&[u8], &Limits) -> Result<Framed, super::frame::FrameError>,
) -> Option<usize> {
    let framed = frame(buf, &Limits::default()).map(|f| match f {
        Framed::Complete(len) => Some(len),
        Framed::Partial | Framed::AwaitingContinuation { .. } => None,
    });
    framed_len(buf, framed)
}

/// The state after a command's tagged completion (RFC 9051 §3).
fn after_completion(state: ImapState, verb: Verb, status: Status) -> ImapState {
    match (verb, status) {
        (Verb::Login | Verb::Authenticate, Status::Ok) => ImapState::Authenticated,
        (Verb::Select | Verb::Examine, Status::Ok) => ImapState::Selected,
        // A failed SELECT closes the mailbox that was selected (§6.3.2).
        (Verb::Select | Verb::Examine, Status::No) => ImapState::Authenticated,
        (Verb::Close | Verb::Unselect, Status::Ok) => ImapState::Authenticated,
        (Verb::Logout, Status::Ok) => ImapState::Logout,
        _ => state,
    }
}

/// What may come next in each state.
fn explain(state: ImapState, greeted: bool) -> &'static str {
    if !greeted {
        return "the server speaks first, with its greeting";
    }
    match state {
        ImapState::NotAuthenticated => {
            "log in: a001 LOGIN bob hungry (CAPABILITY and NOOP work too)"
        }
        ImapState::Authenticated => {
            "pick a folder: SELECT INBOX (or LIST \"\" *, CREATE, STATUS, APPEND)"
        }
        ImapState::Selected => {
            "work on the selected folder: FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE; CLOSE leaves it"
        }
        ImapState::Logout => "the server has said BYE and closes the connection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use crate::engine::{Engine, Millis, drain};
    use crate::imap::server::{ImapServer, ImapServerConfig};
    use crate::mail::store::MemoryStore;
    use crate::transcript::Follower;
    use std::sync::Arc;

    /// Types `lines` one at a time against the server engine; the
    /// follower and every message's kind and state.
    fn follow(lines: &[&str]) -> (ImapTranscript, Vec<String>) {
        let store = Arc::new(MemoryStore::course());
        let mut server = ImapServer::new(ImapServerConfig::default(), store);
        let mut t = ImapTranscript::new();
        t.push_server(&drain(&mut server).bytes());
        for line in lines {
            let bytes = format!("{line}\r\n");
            t.push_client(bytes.as_bytes());
            server.handle_input(bytes.as_bytes(), Millis(0));
            t.push_server(&drain(&mut server).bytes());
        }
        let shown = t
            .messages()
            .iter()
            .map(|m| format!("{} {}", m.kind, m.state.label()))
            .collect();
        (t, shown)
    }

    #[test]
    fn a_whole_session_against_the_server() {
        let (t, shown) = follow(&[
            "a001 LOGIN bob hungry",
            "a002 SELECT INBOX",
            "a003 FETCH 1 (FLAGS BODY.PEEK[HEADER])",
            "a004 STORE 1 +FLAGS (\\Seen)",
            "a005 CLOSE",
            "a006 LOGOUT",
        ]);
        assert_eq!(shown[0], "greeting Not Authenticated");
        assert_eq!(shown[1], "command Not Authenticated");
        assert_eq!(shown[2], "reply Authenticated");
        assert_eq!(shown.last().unwrap(), "reply Logout");
        assert_eq!(t.state(), ImapState::Logout);
        assert!(shown.iter().any(|s| s == "reply Selected"));
        assert!(shown.iter().any(|s| s == "untagged Logout"), "{shown:?}");
        // Every tagged completion points at its command.
        for m in t.messages().iter().filter(|m| m.kind == "reply") {
            let command = &t.messages()[m.answers.expect("answers a command")];
            assert_eq!(command.kind, "command");
            assert_eq!(command.bytes[..4], m.bytes[..4]);
        }
        // The header came as a literal inside one FETCH response.
        let fetch = t
            .messages()
            .iter()
            .find(|m| m.bytes.starts_with(b"* 1 FETCH"))
            .expect("a FETCH response");
        assert!(fetch.bytes.windows(9).any(|w| w == b"Subject: "));
        assert_eq!(t.next_tag(), "a007");
        for m in t.messages() {
            assert!(
                m.dissection.check_invariants(true).is_empty(),
                "{} {:?}",
                m.kind,
                m.dissection.check_invariants(true)
            );
            assert!(
                m.dissection
                    .diagnostics
                    .iter()
                    .all(|d| d.severity != Severity::Error),
                "{:?}",
                m.dissection.diagnostics
            );
        }
    }

    #[test]
    fn commands_in_the_wrong_state_are_flagged_and_drafts_see_the_projected_state() {
        let (t, _) = follow(&["a001 FETCH 1 FLAGS"]);
        let command = &t.messages()[1];
        assert!(command.dissection.diagnostics.iter().any(|d| {
            d.message
                .contains("not valid in the Not Authenticated state")
        }));
        assert!(
            t.messages()[2].bytes.starts_with(b"a001 BAD")
                || t.messages()[2].bytes.starts_with(b"a001 NO")
        );
        let mut t = ImapTranscript::new();
        t.push_server(b"* OK ready\r\n");
        // LOGIN and SELECT sent, not answered yet: FETCH is fine to type.
        t.push_client(b"a1 LOGIN bob hungry\r\na2 SELECT INBOX\r\n");
        let draft = t.dissect_draft(b"a3 FETCH 1 FLAGS\r\n");
        assert!(
            draft
                .diagnostics
                .iter()
                .all(|d| d.severity != Severity::Error)
        );
        // Completions out of order still find their commands.
        t.push_server(b"a2 NO [NONEXISTENT] no such folder\r\na1 OK LOGIN done\r\n");
        assert_eq!(t.messages()[3].answers, Some(2));
        assert_eq!(t.messages()[4].answers, Some(1));
        assert_eq!(t.state(), ImapState::Authenticated);
        let draft = t.dissect_draft(b"a3 FETCH 1 FLAGS\r\n");
        assert!(
            draft
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
        );
        assert_eq!(t.next_tag(), "a003");
    }

    #[test]
    fn literals_wait_for_their_bytes_and_idle_ends_with_done() {
        let mut t = ImapTranscript::new();
        t.push_server(b"* OK ready\r\n");
        assert!(t.push_client(b"a1 LOGIN {3}\r\n").is_empty());
        assert_eq!(t.pending(Side::Client), b"a1 LOGIN {3}\r\n");
        t.push_server(b"+ go on\r\n");
        let out = t.push_client(b"bob hungry\r\n");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, b"a1 LOGIN {3}\r\nbob hungry\r\n");
        t.push_server(b"a1 OK done\r\n");
        t.push_client(b"a2 SELECT INBOX\r\n");
        t.push_server(b"a2 OK [READ-WRITE] done\r\n");
        t.push_client(b"a3 IDLE\r\n");
        t.push_server(b"+ idling\r\n");
        // A FETCH response's literal arriving in pieces completes once.
        let wire = b"* 1 FETCH (BODY[] {12}\r\nSubject: x\r\n)\r\n";
        let mut done = Vec::new();
        for chunk in wire.chunks(5) {
            done.extend(t.push_server(chunk));
        }
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].kind, "untagged");
        let out = t.push_client(b"DONE\r\n");
        assert_eq!(out[0].kind, "done");
        let out = t.push_server(b"a3 OK IDLE terminated\r\n");
        assert_eq!(out[0].answers, Some(6));
        assert_eq!(t.state(), ImapState::Selected);
        assert_eq!(t.next_tag(), "a004");
    }

    #[test]
    fn an_oversized_literal_shows_with_its_error_instead_of_blocking() {
        let mut t = ImapTranscript::new();
        t.push_server(b"* OK ready\r\n");
        let out = t.push_client(b"a1 APPEND INBOX {99999999}\r\n");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].dissection.worst(), Some(Severity::Error));
        assert!(t.pending(Side::Client).is_empty());
    }
}
