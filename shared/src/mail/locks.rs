//! The POP3 locks of a store's mailboxes, kept once for every store (the
//! in-memory one and the relay's Maildir): a session that logs in takes
//! its mailbox for itself (RFC 1939 §8 asks for an exclusive-access lock),
//! a second one gets `-ERR [IN-USE]`, and reading or deleting needs the
//! token the lock was given with, so a session whose lock was lost (a
//! reset) cannot touch what another one holds now.

use super::store::{LockToken, StoreError};
use std::collections::HashMap;

/// Which mailboxes a POP3 session holds, and with which token.
#[derive(Debug, Default)]
pub struct MailboxLocks {
    held: HashMap<String, u64>,
    /// The last token handed out (tokens are never reused).
    issued: u64,
}

impl MailboxLocks {
    /// Takes `mailbox` for one session; `Locked` while another holds it.
    pub fn acquire(&mut self, mailbox: &str) -> Result<LockToken, StoreError> {
        if self.held.contains_key(mailbox) {
            return Err(StoreError::Locked);
        }
        self.issued += 1;
        self.held.insert(mailbox.to_string(), self.issued);
        Ok(LockToken(self.issued))
    }

    /// Whether `token` still holds `mailbox`; `StaleLock` if not.
    pub fn check(&self, mailbox: &str, token: LockToken) -> Result<(), StoreError> {
        match self.held.get(mailbox) {
            Some(&held) if held == token.0 => Ok(()),
            _ => Err(StoreError::StaleLock),
        }
    }

    /// Gives `mailbox` back, if `token` holds it (a stale token releases
    /// nothing: the mailbox may be another session's by now).
    pub fn release(&mut self, mailbox: &str, token: LockToken) {
        if self.check(mailbox, token).is_ok() {
            self.held.remove(mailbox);
        }
    }

    pub fn is_locked(&self, mailbox: &str) -> bool {
        self.held.contains_key(mailbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_session_at_a_time_and_only_its_token_counts() {
        let mut locks = MailboxLocks::default();
        let first = locks.acquire("bob@hamburger.edu").unwrap();
        assert_eq!(locks.acquire("bob@hamburger.edu"), Err(StoreError::Locked));
        assert!(locks.acquire("alice@crepes.fr").is_ok());
        let stale = LockToken(first.0 + 100);
        assert_eq!(
            locks.check("bob@hamburger.edu", stale),
            Err(StoreError::StaleLock)
        );
        locks.release("bob@hamburger.edu", stale);
        assert!(locks.is_locked("bob@hamburger.edu"));
        assert_eq!(locks.check("bob@hamburger.edu", first), Ok(()));
        locks.release("bob@hamburger.edu", first);
        assert!(!locks.is_locked("bob@hamburger.edu"));
        let second = locks.acquire("bob@hamburger.edu").unwrap();
        assert_ne!(second, first, "a token is never handed out twice");
        assert_eq!(
            locks.check("bob@hamburger.edu", first),
            Err(StoreError::StaleLock)
        );
    }
}
