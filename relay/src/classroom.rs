//! Classroom mode: an instructor makes a class and shares its join link;
//! each student who opens it gets a short-lived signed token naming them
//! and what they may reach, and the relay then refuses `/ws` and the APIs
//! without one.
//!
//! - The instructor authenticates with the instructor secret
//!   (`Authorization: Bearer ...`) on `/api/classes`, or works on the data
//!   directory with `wirelab class ...`.
//! - A student joins at `/join/<code>` (a form that sets the
//!   `wirelab_token` cookie, so the unchanged page works) or with `POST
//!   /api/join` (JSON, for scripts). Joining again from the same browser
//!   keeps the student's id, so their mailbox stays theirs; a token expires
//!   after `token_ttl_secs` and closing the class ends every token at once.
//! - [`crate::identity`] carries the student to the reference servers.

pub mod api;
pub mod store;
pub mod token;

use crate::config::Config;
use crate::identity::{ClassId, StudentId, StudentIdentity};
use crate::policy::Refusal;
use anyhow::Result;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use store::{Class, ClassStore, StudentRecord};
use token::{Claims, TokenError, TokenKey};

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A student allowed in: their token's claims and class.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub claims: Claims,
    pub class: Class,
}

impl Admitted {
    pub fn identity(&self) -> Option<StudentIdentity> {
        Some(StudentIdentity {
            class: ClassId::parse(&self.claims.class)?,
            student: StudentId::parse(&self.claims.sub)?,
            name: self.claims.name.clone(),
        })
    }
}

/// What joining gives a student.
#[derive(Debug, Clone)]
pub struct Joined {
    pub class: Class,
    pub claims: Claims,
    pub token: String,
}

/// The classroom settings and state of a relay.
#[derive(Debug)]
pub struct Classroom {
    pub enabled: bool,
    key: TokenKey,
    instructor_secret: Option<String>,
    pub store: ClassStore,
    default_ttl: u64,
    /// Where join links point, without a trailing slash.
    pub base_url: String,
    secure_cookie: bool,
}

impl Classroom {
    /// Reads the keys from the config, or from (new) files in the data
    /// directory. `base_url` is where the relay is reached.
    pub fn from_config(config: &Config, data_dir: &Path, base_url: String) -> Result<Self> {
        let c = &config.classroom;
        let dir = data_dir.join("classroom");
        let (key, instructor_secret) = if c.enabled {
            let key = match &c.token_key {
                Some(k) => k.clone(),
                None => crate::secrets::load_or_create(&dir.join("token.key"), 32)?,
            };
            let secret = match &c.instructor_secret {
                Some(s) => s.clone(),
                None => crate::secrets::load_or_create(&dir.join("instructor.secret"), 24)?,
            };
            (key, Some(secret))
        } else {
            // Without classroom mode no token is ever issued or accepted.
            (crate::secrets::random_hex(32), None)
        };
        Ok(Classroom {
            enabled: c.enabled,
            key: TokenKey::new(key.as_bytes()),
            instructor_secret,
            store: ClassStore::new(data_dir),
            default_ttl: c.token_ttl_secs,
            secure_cookie: base_url.starts_with("https://"),
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// The file the generated instructor secret is in, for the banner.
    pub fn instructor_secret_file(config: &Config) -> Option<std::path::PathBuf> {
        (config.classroom.enabled && config.classroom.instructor_secret.is_none()).then(|| {
            config
                .data_dir()
                .join("classroom")
                .join("instructor.secret")
        })
    }

    pub fn join_url(&self, class: &Class) -> String {
        format!("{}/join/{}", self.base_url, class.join_code)
    }

    /// Whether `presented` is the instructor secret.
    pub fn is_instructor(&self, presented: Option<&str>) -> bool {
        match (&self.instructor_secret, presented) {
            (Some(secret), Some(p)) => {
                crate::secrets::constant_time_eq(secret.as_bytes(), p.as_bytes())
            }
            _ => false,
        }
    }

    /// Checks a student's token at `now`: signed by this relay, not
    /// expired, of a class that is still open.
    pub fn admit(&self, token: Option<&str>, now: u64) -> Result<Admitted, Refusal> {
        let Some(token) = token else {
            return Err(Refusal::auth(
                "missing_token",
                "this relay is in classroom mode: join your class first with the link your \
                 instructor gave you",
            ));
        };
        let claims = self.key.verify(token, now).map_err(|e| match e {
            TokenError::Expired { exp } => Refusal::auth(
                "expired",
                format!(
                    "your class token expired {} ago; open your class's join link again to get a \
                     new one",
                    human_duration(now.saturating_sub(exp))
                ),
            ),
            TokenError::Malformed | TokenError::BadSignature => Refusal::auth(
                "bad_token",
                "your class token is not valid on this relay; open your class's join link again",
            ),
        })?;
        match self.store.get(&claims.class) {
            Some(class) if !class.closed => Ok(Admitted { claims, class }),
            Some(class) => Err(Refusal::auth(
                "class_closed",
                format!(
                    "the class {:?} has been closed by its instructor",
                    class.name
                ),
            )),
            None => Err(Refusal::auth(
                "class_closed",
                "your class no longer exists on this relay",
            )),
        }
    }

    /// Lets a student into the class whose join code is `code`. A valid
    /// token of the same class from before (even expired) keeps the
    /// student's id.
    pub fn join(
        &self,
        code: &str,
        name: &str,
        previous: Option<&str>,
        now: u64,
    ) -> Result<Joined, Refusal> {
        if !self.enabled {
            return Err(Refusal::bad_request(
                "this relay is not in classroom mode: there is nothing to join",
            ));
        }
        let Some(class) = self.store.by_join_code(code) else {
            return Err(Refusal::auth(
                "bad_join_code",
                "this join link is not valid (the class may have been closed); ask your \
                 instructor for the current one",
            ));
        };
        let name: String = name
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(40)
            .collect();
        if name.is_empty() {
            return Err(Refusal::bad_request(
                "please give your name to join the class",
            ));
        }
        let student = previous
            .and_then(|t| self.key.verify_signature(t).ok())
            .filter(|c| c.class == class.id && StudentId::parse(&c.sub).is_some())
            .map(|c| c.sub)
            .unwrap_or_else(|| format!("s-{}", crate::secrets::random_hex(8)));
        let ttl = class.token_ttl_secs.unwrap_or(self.default_ttl);
        let claims = Claims {
            class: class.id.clone(),
            sub: student.clone(),
            name: name.clone(),
            iat: now,
            exp: now.saturating_add(ttl),
            targets: class.targets.clone(),
            custom: class.custom_targets,
        };
        let token = self.key.sign(&claims);
        if let Err(e) = self.store.add_student(
            &class.id,
            &StudentRecord {
                id: student,
                name,
                joined: now,
            },
        ) {
            tracing::warn!("cannot record a student of {}: {e:#}", class.id);
        }
        Ok(Joined {
            class,
            claims,
            token,
        })
    }

    /// The `Set-Cookie` value that hands a token to the student's browser.
    pub fn token_cookie(&self, joined: &Joined) -> String {
        let max_age = joined.claims.exp.saturating_sub(joined.claims.iat);
        format!(
            "{}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
            crate::access::TOKEN_COOKIE,
            joined.token,
            if self.secure_cookie { "; Secure" } else { "" }
        )
    }

    /// Signs a token directly (for `wirelab class token` and tests).
    pub fn sign(&self, claims: &Claims) -> String {
        self.key.sign(claims)
    }
}

/// "3 min", "2 h 5 min", "40 s".
fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::NewClass;

    fn classroom(dir: &Path) -> Classroom {
        let mut config = Config::default();
        config.classroom.enabled = true;
        config.classroom.token_ttl_secs = 60;
        Classroom::from_config(&config, dir, "http://127.0.0.1:8080".into()).unwrap()
    }

    #[test]
    fn join_admit_expire_and_close() {
        let dir = tempfile::tempdir().unwrap();
        let room = classroom(dir.path());
        assert!(dir.path().join("classroom/token.key").is_file());
        let class = room
            .store
            .create(
                NewClass {
                    name: "Lab".into(),
                    targets: vec!["upper-tcp".into()],
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        assert_eq!(
            room.join_url(&class),
            format!("http://127.0.0.1:8080/join/{}", class.join_code)
        );
        let joined = room.join(&class.join_code, " Alice\n", None, 1000).unwrap();
        assert_eq!(joined.claims.name, "Alice");
        assert_eq!(joined.claims.exp, 1060);
        assert!(
            room.token_cookie(&joined)
                .contains("HttpOnly; SameSite=Strict")
        );
        let admitted = room.admit(Some(&joined.token), 1030).unwrap();
        assert_eq!(admitted.identity().unwrap().name, "Alice");
        assert!(admitted.claims.allows_target("upper-tcp"));
        assert!(!admitted.claims.allows_target("smtp"));

        assert_eq!(room.admit(None, 1030).unwrap_err().reason, "missing_token");
        assert_eq!(
            room.admit(Some("wl1.x.y"), 1030).unwrap_err().reason,
            "bad_token"
        );
        let expired = room.admit(Some(&joined.token), 1100).unwrap_err();
        assert_eq!(expired.reason, "expired");
        assert!(expired.message.contains("40 s ago"), "{}", expired.message);

        // Rejoining with the old token keeps the id; a new browser gets a new one.
        let again = room
            .join(&class.join_code, "Alice", Some(&joined.token), 2000)
            .unwrap();
        assert_eq!(again.claims.sub, joined.claims.sub);
        let other = room.join(&class.join_code, "Bob", None, 2000).unwrap();
        assert_ne!(other.claims.sub, joined.claims.sub);
        assert_eq!(room.store.students(&class.id).len(), 2);

        room.store.close(&class.id).unwrap();
        assert_eq!(
            room.admit(Some(&again.token), 2001).unwrap_err().reason,
            "class_closed"
        );
        assert!(room.join(&class.join_code, "Carol", None, 2002).is_err());
    }

    #[test]
    fn the_instructor_secret_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let room = classroom(dir.path());
        let secret =
            std::fs::read_to_string(dir.path().join("classroom/instructor.secret")).unwrap();
        assert!(room.is_instructor(Some(secret.trim())));
        assert!(!room.is_instructor(Some("guess")));
        assert!(!room.is_instructor(None));
        let off = Classroom::from_config(&Config::default(), dir.path(), String::new()).unwrap();
        assert!(!off.is_instructor(Some(secret.trim())));
    }
}
