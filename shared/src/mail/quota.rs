//! Quota accounting, the same for every store: how many bytes each mailbox
//! holds (all its folders), counted once and then kept up to date by the
//! store's changes, and the rule whether more fits ([`check_quota`]).
//!
//! The ledger never reads a store itself: a store counts a mailbox when the
//! ledger does not know it yet ([`QuotaLedger::used`] is `None`) and hands
//! the figure over ([`QuotaLedger::counted`]). Additions are added to a known
//! figure; a removal makes the figure unknown, so the next check counts
//! afresh (what was removed is not always known to the byte, e.g. a Maildir
//! file another process deleted).

use std::collections::BTreeMap;

use super::store::StoreError;

/// The quota rule of [`super::store::MailStore::check_room`]: whether
/// `incoming` more bytes fit in a mailbox holding `used` of its `limit`
/// bytes.
pub fn check_quota(used: u64, incoming: u64, limit: u64) -> Result<(), StoreError> {
    // A full mailbox refuses even an empty message: RCPT asks with 0.
    if used + incoming > limit || (incoming == 0 && used >= limit) {
        return Err(StoreError::MailboxFull {
            used,
            incoming,
            limit,
        });
    }
    Ok(())
}

/// The bytes per mailbox of one store, and its per-mailbox limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaLedger {
    limit: u64,
    used: BTreeMap<String, u64>,
}

impl QuotaLedger {
    /// A ledger knowing no mailbox yet, for mailboxes of `limit` bytes.
    pub fn new(limit: u64) -> QuotaLedger {
        QuotaLedger {
            limit,
            used: BTreeMap::new(),
        }
    }

    /// The bytes `mailbox` holds, if counted since it last lost messages.
    pub fn used(&self, mailbox: &str) -> Option<u64> {
        self.used.get(mailbox).copied()
    }

    /// Takes a store's fresh count of `mailbox`.
    pub fn counted(&mut self, mailbox: &str, used: u64) {
        self.used.insert(mailbox.to_string(), used);
    }

    /// Whether `incoming` more bytes fit in a mailbox holding `used`.
    pub fn check(&self, used: u64, incoming: u64) -> Result<(), StoreError> {
        check_quota(used, incoming, self.limit)
    }

    /// [`QuotaLedger::check`] for `mailbox`, counting it with `count` first
    /// if the ledger does not know it.
    pub fn check_room(
        &mut self,
        mailbox: &str,
        incoming: u64,
        count: impl FnOnce() -> u64,
    ) -> Result<(), StoreError> {
        let used = match self.used(mailbox) {
            Some(used) => used,
            None => {
                let used = count();
                self.counted(mailbox, used);
                used
            }
        };
        self.check(used, incoming)
    }

    /// `bytes` more in each of `mailboxes` (a delivery, an APPEND, a
    /// COPY). A mailbox not counted yet stays so: its count will see them.
    pub fn added(&mut self, mailboxes: &[String], bytes: u64) {
        for m in mailboxes {
            if let Some(used) = self.used.get_mut(m) {
                *used = used.saturating_add(bytes);
            }
        }
    }

    /// `mailbox` lost messages (deleted, expunged, a folder deleted, a
    /// reset): counted afresh on the next check.
    pub fn removed(&mut self, mailbox: &str) {
        self.used.remove(mailbox);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(result: Result<(), StoreError>) -> bool {
        matches!(result, Err(StoreError::MailboxFull { .. }))
    }

    #[test]
    fn the_rule_refuses_past_the_limit_and_anything_when_full() {
        assert!(check_quota(90, 10, 100).is_ok());
        assert!(full(check_quota(90, 11, 100)));
        assert!(check_quota(99, 0, 100).is_ok());
        assert!(full(check_quota(100, 0, 100)));
    }

    #[test]
    fn a_mailbox_is_counted_once_then_follows_additions() {
        let mut ledger = QuotaLedger::new(100);
        let mut counts = 0;
        let mut count = || {
            counts += 1;
            40
        };
        assert!(ledger.check_room("bob", 10, &mut count).is_ok());
        ledger.added(&["bob".to_string()], 50);
        assert_eq!(ledger.used("bob"), Some(90));
        assert!(full(ledger.check_room("bob", 11, &mut count)));
        assert_eq!(counts, 1, "a known mailbox is not counted again");
    }

    #[test]
    fn additions_to_an_uncounted_mailbox_are_left_to_its_count() {
        let mut ledger = QuotaLedger::new(100);
        ledger.added(&["bob".to_string()], 50);
        assert_eq!(ledger.used("bob"), None);
        assert!(ledger.check_room("bob", 100, || 0).is_ok());
    }

    #[test]
    fn a_removal_makes_the_next_check_count_afresh() {
        let mut ledger = QuotaLedger::new(100);
        ledger.counted("bob", 100);
        ledger.counted("alice", 10);
        assert!(full(ledger.check_room("bob", 0, || unreachable!())));
        ledger.removed("bob");
        assert_eq!(ledger.used("bob"), None);
        assert!(ledger.check_room("bob", 60, || 30).is_ok());
        assert_eq!(
            ledger.used("alice"),
            Some(10),
            "other mailboxes keep theirs"
        );
    }
}
