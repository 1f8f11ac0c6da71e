//! Counting what clients use against `[limits]`: open sessions in all, per
//! client address and per classroom student, and bytes per minute per
//! client. Per-session bounds (bytes per connection, frame and message
//! sizes, timeouts) are checked by the bridge itself.
//!
//! A session first asks [`Limiter::admit`] for a [`ConnectionPermit`],
//! keeps it while it runs (dropping it gives the slot back) and charges
//! every byte it moves to [`ConnectionPermit::charge`]. Each refusal is a
//! `limit` [`Refusal`] whose reason is the config key that was hit.

use crate::config::Limits;
use crate::policy::Refusal;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

/// Who a per-minute budget belongs to: the student when there is a token,
/// the address otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ClientKey {
    Addr(IpAddr),
    Student(String),
    /// Joins and instructor sign-ins from an address.
    Joins(IpAddr),
}

#[derive(Debug, Default)]
struct State {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
    per_student: HashMap<String, usize>,
    minute: HashMap<ClientKey, (Instant, u64)>,
}

/// The shared counters.
#[derive(Debug)]
pub struct Limiter {
    limits: Limits,
    state: Mutex<State>,
}

impl Limiter {
    pub fn new(limits: &Limits) -> Arc<Self> {
        Arc::new(Limiter {
            limits: limits.clone(),
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a session slot for `client` (and `student`, in classroom mode).
    pub fn admit(
        self: &Arc<Self>,
        client: IpAddr,
        student: Option<&str>,
    ) -> Result<ConnectionPermit, Refusal> {
        let l = &self.limits;
        let mut state = self.lock();
        if state.total >= l.max_connections {
            return Err(Refusal::limit(
                "max_connections",
                format!(
                    "the relay already has {} open connections, its limit \
                     (limits.max_connections); try again in a moment",
                    l.max_connections
                ),
            ));
        }
        let from_client = state.per_client.get(&client).copied().unwrap_or(0);
        if from_client >= l.max_connections_per_client {
            return Err(Refusal::limit(
                "max_connections_per_client",
                format!(
                    "your address ({client}) already has {from_client} open connections, the \
                     limit per address (limits.max_connections_per_client); close some first"
                ),
            ));
        }
        if let Some(student) = student {
            let mine = state.per_student.get(student).copied().unwrap_or(0);
            if mine >= l.max_connections_per_token {
                return Err(Refusal::limit(
                    "max_connections_per_token",
                    format!(
                        "you already have {mine} open connections, the limit per student \
                         (limits.max_connections_per_token); close some first"
                    ),
                ));
            }
            *state.per_student.entry(student.to_string()).or_default() += 1;
        }
        state.total += 1;
        *state.per_client.entry(client).or_default() += 1;
        // Forget the budgets of clients that have been quiet for a window.
        if state.minute.len() > 4096 {
            let now = Instant::now();
            state.minute.retain(|_, (start, _)| now - *start < WINDOW);
        }
        Ok(ConnectionPermit {
            limiter: self.clone(),
            client,
            student: student.map(str::to_string),
        })
    }

    /// Counts a classroom join (or instructor sign-in) from `client`
    /// against `limits.max_joins_per_minute`.
    pub fn join(&self, client: IpAddr) -> Result<(), Refusal> {
        let max = self.limits.max_joins_per_minute;
        if self.add_in_window(ClientKey::Joins(client), 1) > max {
            return Err(Refusal::limit(
                "max_joins_per_minute",
                format!(
                    "more than {max} joins or sign-ins came from your address ({client}) within \
                     a minute, this relay's limit (limits.max_joins_per_minute); wait a minute"
                ),
            ));
        }
        Ok(())
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    /// Adds `amount` to `key`'s count in the current minute; returns the count.
    fn add_in_window(&self, key: ClientKey, amount: u64) -> u64 {
        let mut state = self.lock();
        let now = Instant::now();
        if state.minute.len() > 4096 {
            state.minute.retain(|_, (start, _)| now - *start < WINDOW);
        }
        let (start, used) = state.minute.entry(key).or_insert((now, 0));
        if now - *start >= WINDOW {
            *start = now;
            *used = 0;
        }
        *used = used.saturating_add(amount);
        *used
    }

    fn charge(&self, key: ClientKey, bytes: u64) -> Result<(), Refusal> {
        let max = self.limits.max_bytes_per_minute;
        if self.add_in_window(key, bytes) > max {
            return Err(Refusal::limit(
                "max_bytes_per_minute",
                format!(
                    "you sent and received more than {max} bytes within a minute, this relay's \
                     limit (limits.max_bytes_per_minute); wait a minute and connect again"
                ),
            ));
        }
        Ok(())
    }
}

/// One session's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct ConnectionPermit {
    limiter: Arc<Limiter>,
    client: IpAddr,
    student: Option<String>,
}

impl ConnectionPermit {
    /// Counts `bytes` against the client's per-minute budget.
    pub fn charge(&self, bytes: u64) -> Result<(), Refusal> {
        let key = match &self.student {
            Some(s) => ClientKey::Student(s.clone()),
            None => ClientKey::Addr(self.client),
        };
        self.limiter.charge(key, bytes)
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut state = self.limiter.lock();
        state.total = state.total.saturating_sub(1);
        if let Some(n) = state.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                state.per_client.remove(&self.client);
            }
        }
        if let Some(student) = &self.student
            && let Some(n) = state.per_student.get_mut(student)
        {
            *n -= 1;
            if *n == 0 {
                state.per_student.remove(student);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(adjust: impl FnOnce(&mut Limits)) -> Arc<Limiter> {
        let mut limits = Limits::default();
        adjust(&mut limits);
        Limiter::new(&limits)
    }

    #[test]
    fn connection_counts_are_bounded_and_given_back() {
        let l = limiter(|l| {
            l.max_connections = 3;
            l.max_connections_per_client = 2;
            l.max_connections_per_token = 1;
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = l.admit(a, None).unwrap();
        let _second = l.admit(a, Some("s-1")).unwrap();
        assert_eq!(
            l.admit(a, None).unwrap_err().reason,
            "max_connections_per_client"
        );
        assert_eq!(
            l.admit(b, Some("s-1")).unwrap_err().reason,
            "max_connections_per_token"
        );
        let _third = l.admit(b, None).unwrap();
        assert_eq!(l.admit(b, None).unwrap_err().reason, "max_connections");
        assert_eq!(l.open(), 3);
        drop(first);
        assert_eq!(l.open(), 2);
        assert!(l.admit(a, None).is_ok());
    }

    #[test]
    fn joins_per_minute_are_counted_per_address() {
        let l = limiter(|l| l.max_joins_per_minute = 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        l.join(a).unwrap();
        l.join(a).unwrap();
        assert_eq!(l.join(a).unwrap_err().reason, "max_joins_per_minute");
        l.join(b).unwrap();
    }

    #[test]
    fn bytes_per_minute_are_shared_by_a_clients_sessions() {
        let l = limiter(|l| l.max_bytes_per_minute = 100);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let one = l.admit(a, None).unwrap();
        let two = l.admit(a, None).unwrap();
        one.charge(60).unwrap();
        let err = two.charge(60).unwrap_err();
        assert_eq!(err.reason, "max_bytes_per_minute");
        assert!(err.message.contains("100 bytes"));
        // A student's budget is theirs, not their address's.
        let student = l.admit(a, Some("s-1")).unwrap();
        student.charge(90).unwrap();
    }
}
