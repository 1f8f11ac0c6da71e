//! The instructor's browser sessions: signing in with the instructor
//! secret once (`POST /api/instructor/session`) gives a random session id
//! in an `HttpOnly`, `SameSite=Strict` cookie, so the instructor's page
//! never holds the secret and never puts it in a URL. The relay keeps each
//! id's SHA-256 and its expiry in memory (a restart signs everyone out);
//! `DELETE` on the same path signs out.
//!
//! A cookie is sent by the browser whoever asks it to, so a request it
//! authenticates that changes something must also come from the relay's
//! own page: [`crate::csrf`] checks its `Origin`.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// The cookie that carries an instructor's session id.
pub const COOKIE: &str = "wirelab_instructor";
/// How long a sign-in lasts, in seconds.
pub const SESSION_SECS: u64 = 12 * 3600;
/// Sessions kept at most: the oldest goes when another signs in.
pub const MAX_SESSIONS: usize = 64;

/// The signed-in sessions: the id's hash and when it expires (Unix s).
#[derive(Debug, Default)]
pub struct InstructorSessions {
    live: Mutex<HashMap<[u8; 32], u64>>,
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl InstructorSessions {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], u64>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session id, valid until `now + SESSION_SECS`.
    pub fn sign_in(&self, now: u64) -> String {
        let id = crate::secrets::random_hex(32);
        let mut live = self.lock();
        live.retain(|_, expires| *expires > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k)
        {
            live.remove(&oldest);
        }
        live.insert(digest(&id), now + SESSION_SECS);
        id
    }

    /// Whether `id` is a session that has not expired at `now`.
    pub fn is_signed_in(&self, id: &str, now: u64) -> bool {
        self.lock().get(&digest(id)).is_some_and(|e| *e > now)
    }

    pub fn sign_out(&self, id: &str) {
        self.lock().remove(&digest(id));
    }
}

/// The `Set-Cookie` value that hands session `id` to the browser.
pub fn cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; Max-Age={SESSION_SECS}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_sign_out_and_are_bounded() {
        let sessions = InstructorSessions::new();
        let id = sessions.sign_in(100);
        assert_eq!(id.len(), 64);
        assert!(sessions.is_signed_in(&id, 100 + SESSION_SECS - 1));
        assert!(!sessions.is_signed_in(&id, 100 + SESSION_SECS));
        assert!(!sessions.is_signed_in("guess", 100));
        sessions.sign_out(&id);
        assert!(!sessions.is_signed_in(&id, 101));
        let first = sessions.sign_in(200);
        for i in 0..MAX_SESSIONS {
            sessions.sign_in(201 + i as u64);
        }
        assert!(!sessions.is_signed_in(&first, 300), "the oldest went");
        assert_eq!(sessions.lock().len(), MAX_SESSIONS);
        let c = cookie("abc", true);
        assert!(c.contains("HttpOnly; SameSite=Strict; Secure") && c.contains("Path=/"));
    }
}
