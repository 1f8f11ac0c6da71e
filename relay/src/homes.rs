//! Per-student homes in classroom mode: each student gets their own copy of
//! a reference server's data (the course's mailboxes, the FTP tree), so
//! students do not read each other's mail or files.
//!
//! A server keeps one [`Homes`] for its data. For each new connection it
//! asks [`Homes::for_peer`], which looks the connection up in
//! [`crate::identity::Identities`] (the bridge registers a student's socket
//! before it connects): a classroom student gets the home under
//! `<data_dir>/classes/<class>/students/<student>/<folder>`, opened (and
//! seeded) the first time and kept open afterwards, so that all of one
//! student's connections share it (and its POP3 lock); every other
//! connection (a real client, a relay without classroom mode) gets the
//! shared home.

use crate::identity::{Identities, StudentIdentity};
use anyhow::Result;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wirelab_shared::relay_protocol::Transport;

/// How a home is opened from its folder.
pub type Opener<T> = Box<dyn Fn(&Path) -> Result<T> + Send + Sync>;

/// The shared home and the students' homes of one kind of data.
pub struct Homes<T> {
    shared: T,
    data_dir: PathBuf,
    folder: &'static str,
    identities: Arc<Identities>,
    open: Opener<T>,
    opened: Mutex<HashMap<PathBuf, T>>,
}

impl<T: Clone> Homes<T> {
    /// `shared` serves connections with no student; students' homes are
    /// `folder` inside their data subdirectory, made with `open`.
    pub fn new(
        shared: T,
        data_dir: &Path,
        folder: &'static str,
        identities: Arc<Identities>,
        open: Opener<T>,
    ) -> Self {
        Homes {
            shared,
            data_dir: data_dir.to_path_buf(),
            folder,
            identities,
            open,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// The home without a student.
    pub fn shared(&self) -> &T {
        &self.shared
    }

    /// The home of the connection from `remote`.
    pub fn for_peer(&self, transport: Transport, remote: SocketAddr) -> Result<T> {
        match self.identities.student_at(transport, remote) {
            Some(who) => self.for_student(&who),
            None => Ok(self.shared.clone()),
        }
    }

    /// A student's home, opened (and filled with the defaults) on first use.
    pub fn for_student(&self, who: &StudentIdentity) -> Result<T> {
        let dir = self.data_dir.join(who.data_subdir()).join(self.folder);
        let mut opened = self
            .opened
            .lock()
            .map_err(|_| anyhow::anyhow!("the table of homes is poisoned"))?;
        if let Some(home) = opened.get(&dir) {
            return Ok(home.clone());
        }
        let home = (self.open)(&dir)?;
        opened.insert(dir, home.clone());
        Ok(home)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{ClassId, StudentId};

    #[test]
    fn students_get_their_own_home_and_others_the_shared_one() {
        let dir = tempfile::tempdir().unwrap();
        let identities = Identities::new();
        let homes = Homes::new(
            PathBuf::from("shared"),
            dir.path(),
            "mail",
            identities.clone(),
            Box::new(|p: &Path| {
                std::fs::create_dir_all(p)?;
                Ok(p.to_path_buf())
            }),
        );
        let who = StudentIdentity {
            class: ClassId::parse("net101").unwrap(),
            student: StudentId::parse("s-1").unwrap(),
            name: "Ada".into(),
        };
        let socket: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(
            homes.for_peer(Transport::Tcp, socket).unwrap(),
            PathBuf::from("shared")
        );
        let _guard = identities.register(Transport::Tcp, socket, who.clone());
        let home = homes.for_peer(Transport::Tcp, socket).unwrap();
        assert_eq!(home, dir.path().join("classes/net101/students/s-1/mail"));
        assert!(home.is_dir());
        assert_eq!(homes.for_student(&who).unwrap(), home);
    }
}
