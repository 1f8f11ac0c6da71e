//! The SMTP session state machine (RFC 5321 §3, §4.1.4) shared by the
//! server engine, the client engine and the transcript follower, so that
//! what the student is shown and what the server does cannot disagree.
//!
//! [`check_sequence`] says whether a command is allowed in a state (and
//! the `503` otherwise); [`after_reply`] gives the state once the server
//! answered a command with a code.

use super::command::Command;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an SMTP session is, as shown to the student.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpState {
    /// Connected, waiting for the server's 220 greeting.
    AwaitingGreeting,
    /// The server said 220; the client has not said HELO or EHLO yet.
    Connected,
    /// HELO/EHLO accepted: no mail transaction in progress.
    Greeted,
    /// MAIL FROM accepted.
    MailTransaction,
    /// At least one RCPT TO accepted: DATA may follow.
    RecipientsGiven,
    /// After 354: the client sends the message, ended by a line with a dot.
    ReceivingData,
    Closed,
}

impl SmtpState {
    /// The label the page shows.
    pub fn label(&self) -> &'static str {
        match self {
            SmtpState::AwaitingGreeting => "waiting for greeting",
            SmtpState::Connected => "connected",
            SmtpState::Greeted => "greeted",
            SmtpState::MailTransaction => "mail transaction open",
            SmtpState::RecipientsGiven => "recipients given",
            SmtpState::ReceivingData => "receiving data",
            SmtpState::Closed => "closed",
        }
    }

    /// One sentence on what may come next.
    pub fn explain(&self) -> &'static str {
        match self {
            SmtpState::AwaitingGreeting => "The server speaks first: wait for its 220 greeting.",
            SmtpState::Connected => "Introduce yourself with HELO or EHLO and your domain.",
            SmtpState::Greeted => "Start a mail transaction with MAIL FROM:<sender>.",
            SmtpState::MailTransaction => "Give at least one recipient with RCPT TO:<recipient>.",
            SmtpState::RecipientsGiven => {
                "Give more recipients, or send DATA to start the message."
            }
            SmtpState::ReceivingData => {
                "Type the message (header, empty line, body); a line with a single '.' ends it."
            }
            SmtpState::Closed => "The connection is closed.",
        }
    }

    /// Whether a mail transaction (MAIL accepted) is in progress.
    pub fn in_transaction(&self) -> bool {
        matches!(
            self,
            SmtpState::MailTransaction | SmtpState::RecipientsGiven
        )
    }
}

impl fmt::Display for SmtpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A command sent at the wrong time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SequenceError {
    #[error("send HELO or EHLO before {0}")]
    HeloFirst(&'static str),
    #[error("RCPT TO comes after MAIL FROM, which starts the transaction")]
    MailFirst,
    #[error("DATA comes after at least one accepted RCPT TO")]
    RcptFirst,
    #[error(
        "a mail transaction is already open: finish it (DATA) or abort it (RSET) before another MAIL FROM"
    )]
    NestedMail,
    #[error("the server has not greeted yet")]
    NotGreeted,
    #[error("the session is closed")]
    Closed,
}

impl SequenceError {
    /// The text after `503` (with `5.5.1` when enhanced codes are on).
    pub fn reply_text(&self) -> &'static str {
        match self {
            SequenceError::HeloFirst(_) => "Send HELO/EHLO first",
            SequenceError::MailFirst => "Need MAIL before RCPT",
            SequenceError::RcptFirst => "Need RCPT before DATA",
            SequenceError::NestedMail => "Sender already specified",
            SequenceError::NotGreeted | SequenceError::Closed => "Bad sequence of commands",
        }
    }
}

/// Whether `command` is allowed in `state` (RFC 5321 §4.1.4).
pub fn check_sequence(state: SmtpState, command: &Command) -> Result<(), SequenceError> {
    use SmtpState::*;
    match state {
        AwaitingGreeting => return Err(SequenceError::NotGreeted),
        Closed => return Err(SequenceError::Closed),
        _ => {}
    }
    match command {
        Command::Mail { .. } if state == Connected => Err(SequenceError::HeloFirst("MAIL")),
        Command::Mail { .. } if state.in_transaction() => Err(SequenceError::NestedMail),
        Command::Rcpt { .. } if state == Connected => Err(SequenceError::HeloFirst("RCPT")),
        Command::Rcpt { .. } if !state.in_transaction() => Err(SequenceError::MailFirst),
        Command::Data if state == Connected => Err(SequenceError::HeloFirst("DATA")),
        Command::Data if state == Greeted || state == MailTransaction => {
            Err(SequenceError::RcptFirst)
        }
        _ => Ok(()),
    }
}

/// The state once the server answered `command` with `code`.
pub fn after_reply(state: SmtpState, command: &Command, code: u16) -> SmtpState {
    use SmtpState::*;
    if code == 421 || state == Closed {
        return Closed;
    }
    if state == ReceivingData {
        // The reply to the end of the data: the transaction is over either way.
        return Greeted;
    }
    let ok = (200..300).contains(&code);
    match command {
        Command::Helo(_) | Command::Ehlo(_) if ok => Greeted,
        Command::Mail { .. } if ok => MailTransaction,
        Command::Rcpt { .. } if ok && state.in_transaction() => RecipientsGiven,
        Command::Data if code == 354 => ReceivingData,
        Command::Rset if ok && state != Connected => Greeted,
        Command::Quit if code == 221 => Closed,
        _ => state,
    }
}

/// The state after the greeting: 220 opens the session, anything else
/// (554 "no service here") means the server will close.
pub fn after_greeting(code: u16) -> SmtpState {
    if code == 220 {
        SmtpState::Connected
    } else {
        SmtpState::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Command {
        Command::Mail {
            reverse_path: "alice@crepes.fr".into(),
            params: vec![],
        }
    }

    fn rcpt() -> Command {
        Command::Rcpt {
            forward_path: "bob@hamburger.edu".into(),
            params: vec![],
        }
    }

    #[test]
    fn the_course_dialogue_walks_the_states() {
        let mut s = after_greeting(220);
        assert_eq!(s.label(), "connected");
        for (cmd, code, label) in [
            (Command::Helo("crepes.fr".into()), 250, "greeted"),
            (mail(), 250, "mail transaction open"),
            (rcpt(), 250, "recipients given"),
            (rcpt(), 550, "recipients given"),
            (Command::Data, 354, "receiving data"),
        ] {
            assert_eq!(check_sequence(s, &cmd), Ok(()));
            s = after_reply(s, &cmd, code);
            assert_eq!(s.label(), label);
        }
        s = after_reply(s, &Command::Data, 250);
        assert_eq!(s, SmtpState::Greeted);
        s = after_reply(s, &Command::Quit, 221);
        assert_eq!(s, SmtpState::Closed);
    }

    #[test]
    fn bad_sequences_get_503_texts() {
        use SmtpState::*;
        assert_eq!(
            check_sequence(Connected, &mail()),
            Err(SequenceError::HeloFirst("MAIL"))
        );
        assert_eq!(
            check_sequence(Greeted, &rcpt()),
            Err(SequenceError::MailFirst)
        );
        assert_eq!(
            check_sequence(Greeted, &Command::Data),
            Err(SequenceError::RcptFirst)
        );
        assert_eq!(
            check_sequence(MailTransaction, &Command::Data),
            Err(SequenceError::RcptFirst)
        );
        assert_eq!(
            check_sequence(RecipientsGiven, &mail()),
            Err(SequenceError::NestedMail)
        );
        assert_eq!(
            SequenceError::RcptFirst.reply_text(),
            "Need RCPT before DATA"
        );
        assert_eq!(check_sequence(Connected, &Command::Noop(None)), Ok(()));
        // A refused RCPT does not give recipients; RSET ends the transaction.
        assert_eq!(after_reply(MailTransaction, &rcpt(), 550), MailTransaction);
        assert_eq!(after_reply(RecipientsGiven, &Command::Rset, 250), Greeted);
        assert_eq!(
            after_reply(Greeted, &Command::Ehlo("x".into()), 250),
            Greeted
        );
        assert_eq!(after_reply(Greeted, &Command::Noop(None), 421), Closed);
        assert_eq!(after_greeting(554), Closed);
    }
}
