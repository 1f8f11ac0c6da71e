//! The POP3 session states (RFC 1939 §3): AUTHORIZATION (log in), then
//! TRANSACTION (list, retrieve, mark for deletion), then UPDATE (the
//! deletions are applied) when the client says QUIT. Shared by the server,
//! the client and the transcript follower.

use super::command::Command;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a POP3 session is, named as in RFC 1939.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Pop3State {
    /// Connected, waiting for the `+OK` greeting.
    AwaitingGreeting,
    Authorization,
    Transaction,
    /// QUIT in TRANSACTION: the deletions are applied, the server closes.
    Update,
    Closed,
}

impl Pop3State {
    pub fn label(&self) -> &'static str {
        match self {
            Pop3State::AwaitingGreeting => "waiting for greeting",
            Pop3State::Authorization => "AUTHORIZATION",
            Pop3State::Transaction => "TRANSACTION",
            Pop3State::Update => "UPDATE",
            Pop3State::Closed => "closed",
        }
    }

    pub fn explain(&self) -> &'static str {
        match self {
            Pop3State::AwaitingGreeting => "The server speaks first: wait for +OK.",
            Pop3State::Authorization => "Log in: USER name, then PASS password.",
            Pop3State::Transaction => {
                "STAT, LIST, RETR n, DELE n, TOP n k, UIDL, RSET, NOOP; QUIT applies the deletions."
            }
            Pop3State::Update => {
                "The server removed the messages marked for deletion and closed the connection."
            }
            Pop3State::Closed => "The connection is closed.",
        }
    }
}

impl fmt::Display for Pop3State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A command sent in a state where it is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error(
        "{0} is only valid after logging in (TRANSACTION state); log in with USER and PASS first"
    )]
    NeedLogin(&'static str),
    #[error("{0} is only valid in the AUTHORIZATION state: the session is already logged in")]
    AlreadyLoggedIn(&'static str),
    #[error("PASS comes right after a USER command the server accepted")]
    PassWithoutUser,
    #[error("the session is over")]
    Closed,
}

/// Whether `command` is valid in `state` (RFC 1939 §4-6). `user_given`
/// says whether the last command was an accepted USER.
pub fn check_state(
    state: Pop3State,
    command: &Command,
    user_given: bool,
) -> Result<(), StateError> {
    use Pop3State::*;
    let k = command.keyword();
    match (state, command) {
        (AwaitingGreeting | Update | Closed, _) => Err(StateError::Closed),
        (_, Command::Quit | Command::Capa) => Ok(()),
        (Authorization, Command::User(_)) => Ok(()),
        (Authorization, Command::Pass(_)) if user_given => Ok(()),
        (Authorization, Command::Pass(_)) => Err(StateError::PassWithoutUser),
        (Authorization, _) => Err(StateError::NeedLogin(k)),
        (Transaction, Command::User(_) | Command::Pass(_)) => Err(StateError::AlreadyLoggedIn(k)),
        (Transaction, _) => Ok(()),
    }
}

/// The state once the server answered `command` (`ok`: `+OK`).
pub fn after_reply(state: Pop3State, command: &Command, ok: bool) -> Pop3State {
    match (state, command) {
        (Pop3State::Authorization, Command::Pass(_)) if ok => Pop3State::Transaction,
        (Pop3State::Authorization, Command::Quit) => Pop3State::Closed,
        (Pop3State::Transaction, Command::Quit) => Pop3State::Update,
        _ => state,
    }
}

/// The state after the greeting.
pub fn after_greeting(ok: bool) -> Pop3State {
    if ok {
        Pop3State::Authorization
    } else {
        Pop3State::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_session_walks_the_states() {
        let mut s = after_greeting(true);
        assert_eq!(s.label(), "AUTHORIZATION");
        assert_eq!(
            check_state(s, &Command::List(None), false),
            Err(StateError::NeedLogin("LIST"))
        );
        assert_eq!(
            check_state(s, &Command::Pass("x".into()), false),
            Err(StateError::PassWithoutUser)
        );
        assert_eq!(check_state(s, &Command::Pass("x".into()), true), Ok(()));
        s = after_reply(s, &Command::Pass("hungry".into()), false);
        assert_eq!(s, Pop3State::Authorization);
        s = after_reply(s, &Command::Pass("hungry".into()), true);
        assert_eq!(s.label(), "TRANSACTION");
        assert_eq!(
            check_state(s, &Command::User("bob".into()), false),
            Err(StateError::AlreadyLoggedIn("USER"))
        );
        assert_eq!(check_state(s, &Command::Dele(1), false), Ok(()));
        s = after_reply(s, &Command::Quit, true);
        assert_eq!(s.label(), "UPDATE");
        assert_eq!(
            after_reply(Pop3State::Authorization, &Command::Quit, true),
            Pop3State::Closed
        );
        assert_eq!(
            check_state(Pop3State::Authorization, &Command::Capa, false),
            Ok(())
        );
    }
}
