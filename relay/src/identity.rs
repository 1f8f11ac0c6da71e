//! Which classroom student a connection to a reference server belongs to:
//! the hook for per-student mailboxes and FTP homes.
//!
//! In classroom mode every `/ws` session carries the student of its token.
//! Before the bridge connects to a target it binds its socket, registers
//! the socket's local address here under that student, and only then
//! connects; the registration ends with the session. A reference server
//! that sees a connection from `peer.remote` asks
//! [`Identities::student_at`] and gets the student, or `None` for a
//! connection that did not come through a classroom session (a real client,
//! or a relay without classroom mode), which it serves as before.
//! [`StudentIdentity::data_subdir`] is where that student's data goes,
//! relative to the relay's data directory.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use wirelab_shared::relay_protocol::Transport;

/// A class's id: lower-case letters, digits and `-`, safe as a path part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClassId(String);

/// A student's id within the relay: lower-case letters, digits and `-`,
/// safe as a path part. Stable across rejoins from the same browser.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StudentId(String);

macro_rules! safe_id {
    ($t:ident) => {
        impl $t {
            /// Accepts only ids that are safe as one path component.
            pub fn parse(text: &str) -> Option<Self> {
                let ok = !text.is_empty()
                    && text.len() <= 64
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                ok.then(|| $t(text.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
safe_id!(ClassId);
safe_id!(StudentId);

/// A student of a class, as a token names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentIdentity {
    pub class: ClassId,
    pub student: StudentId,
    /// The name the student gave when joining (for people, not for paths).
    pub name: String,
}

impl StudentIdentity {
    /// Where this student's server data lives, relative to the data
    /// directory: `classes/<class>/students/<student>`. A mail or FTP server
    /// joins its own folder to it (`.../maildir`, `.../ftp`).
    pub fn data_subdir(&self) -> PathBuf {
        PathBuf::from("classes")
            .join(self.class.as_str())
            .join("students")
            .join(self.student.as_str())
    }
}

type Key = (Transport, u16);

/// The registry of the relay's outgoing sockets that belong to a student.
#[derive(Debug, Default)]
pub struct Identities {
    sockets: Mutex<HashMap<Key, (SocketAddr, StudentIdentity)>>,
}

impl Identities {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records that the relay's socket bound to `local` works for `who`,
    /// until the returned guard is dropped.
    pub fn register(
        self: &Arc<Self>,
        transport: Transport,
        local: SocketAddr,
        who: StudentIdentity,
    ) -> IdentityGuard {
        let key = (transport, local.port());
        self.lock().insert(key, (local, who));
        IdentityGuard {
            registry: self.clone(),
            key,
        }
    }

    /// The student whose session owns the socket a server sees as `remote`.
    pub fn student_at(&self, transport: Transport, remote: SocketAddr) -> Option<StudentIdentity> {
        let sockets = self.lock();
        let (bound, who) = sockets.get(&(transport, remote.port()))?;
        // A socket bound to "any address" is reached from whichever one the
        // kernel picked; a specific one must match.
        (bound.ip().is_unspecified() || bound.ip() == remote.ip()).then(|| who.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (SocketAddr, StudentIdentity)>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes a registration when the session ends.
#[derive(Debug)]
pub struct IdentityGuard {
    registry: Arc<Identities>,
    key: Key,
}

impl Drop for IdentityGuard {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> StudentIdentity {
        StudentIdentity {
            class: ClassId::parse("c-1").unwrap(),
            student: StudentId::parse("s-alice").unwrap(),
            name: "Alice".into(),
        }
    }

    #[test]
    fn ids_are_path_safe() {
        assert!(StudentId::parse("s-0a1b").is_some());
        for bad in ["", "../x", "A", "a/b", "a.b"] {
            assert!(StudentId::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            alice().data_subdir(),
            PathBuf::from("classes/c-1/students/s-alice")
        );
    }

    #[test]
    fn a_registered_socket_names_its_student_until_dropped() {
        let registry = Identities::new();
        let local: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let guard = registry.register(Transport::Tcp, local, alice());
        assert_eq!(registry.student_at(Transport::Tcp, local), Some(alice()));
        assert_eq!(registry.student_at(Transport::Udp, local), None);
        let other_ip: SocketAddr = "127.0.0.2:40000".parse().unwrap();
        assert_eq!(registry.student_at(Transport::Tcp, other_ip), None);
        drop(guard);
        assert_eq!(registry.student_at(Transport::Tcp, local), None);
    }
}
