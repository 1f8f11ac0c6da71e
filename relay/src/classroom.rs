//! Classroom mode: an instructor makes a class and shares its join link;
//! each student who opens it gets a short-lived signed token naming them
//! and what they may reach, and the relay then refuses `/ws` and the APIs
//! without one.
//!
//! - The instructor authenticates with the instructor secret
//!   (`Authorization: Bearer ...`, or once at `/api/instructor/session`
//!   for a cookie, [`instructor`]) on `/api/classes` ([`api`], [`manage`]),
//!   or works on the data directory with `wirelab class ...`.
//! - A student joins at `/join/<code>` (a form that sets the
//!   `wirelab_token` cookie, so the unchanged page works) or with `POST
//!   /api/join` (JSON, for scripts). Joining again from the same browser
//!   keeps the student's id, so their mailbox stays theirs; a token expires
//!   after `token_ttl_secs`, and revoking the student or closing the class
//!   ends their tokens and open sessions at once ([`sweep`] catches what
//!   another process changed).
//! - Classes, rosters, sessions and attempts are in the SQLite class
//!   [`store`]; its calls block, so async code makes them through
//!   [`blocking`]. [`events`] is the live feed of what happens.
//! - [`crate::identity`] carries the student to the reference servers.

pub mod api;
pub mod events;
pub mod instructor;
pub mod legacy;
pub mod manage;
pub mod progress;
pub mod schema;
pub mod store;
pub mod sweep;
pub mod token;

use crate::config::Config;
use crate::identity::{ClassId, StudentId, StudentIdentity};
use crate::policy::Refusal;
use anyhow::Result;
use events::{ClassEvent, Events};
use instructor::InstructorSessions;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use store::{Class, ClassStore, StudentRecord};
use token::{Claims, TokenError, TokenKey};
use wirelab_shared::relay_protocol::ErrorCode;

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unix milliseconds now.
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
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

    /// Whether the class lets its students open catalog target `name`:
    /// the class's current settings, not the token's copy of them, so a
    /// change by the instructor applies to tokens already handed out.
    pub fn allows_target(&self, name: &str) -> bool {
        self.class.targets.is_empty() || self.class.targets.iter().any(|t| t == name)
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
    /// Joins, sessions and revocations, for `/api/classes/{id}/events`.
    pub events: Events,
    /// The instructor's signed-in browsers (`/api/instructor/session`).
    pub instructors: InstructorSessions,
    default_ttl: u64,
    /// Where join links point, without a trailing slash.
    pub base_url: String,
    secure_cookie: bool,
}

/// Runs `work` on the class store off the async runtime's workers (every
/// store call may wait for the disk or for another process's write).
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T, Refusal> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(store_failure(&e)),
        Err(e) => Err(store_failure(&anyhow::anyhow!("{e}"))),
    }
}

/// The refusal for a store that could not answer (a full disk, a lock held
/// past the busy timeout).
pub fn store_failure(e: &anyhow::Error) -> Refusal {
    tracing::error!("class store: {e:#}");
    Refusal::new(
        ErrorCode::ConnectFailed,
        "class_store",
        "the relay could not reach its class store; try again in a moment",
    )
}

impl Classroom {
    /// Reads the keys from the config, or from (new) files in the data
    /// directory, and opens the class store. `base_url` is where the relay
    /// is reached.
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
            store: ClassStore::open(data_dir)?,
            events: Events::new(),
            instructors: InstructorSessions::new(),
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

    /// Whether cookies must be `Secure` (the relay is reached over HTTPS).
    pub fn secure_cookie(&self) -> bool {
        self.secure_cookie
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

    /// The claims of a token signed by this relay and unexpired at `now`.
    fn verify(&self, token: Option<&str>, now: u64) -> Result<Claims, Refusal> {
        let Some(token) = token else {
            return Err(Refusal::auth(
                "missing_token",
                "this relay is in classroom mode: join your class first with the link your \
                 instructor gave you",
            ));
        };
        self.key.verify(token, now).map_err(|e| match e {
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
        })
    }

    /// Checks a student's token at `now`: signed by this relay, not
    /// expired, not revoked, of a class that is still open.
    pub async fn admit(&self, token: Option<&str>, now: u64) -> Result<Admitted, Refusal> {
        let claims = self.verify(token, now)?;
        let store = self.store.clone();
        let (class_id, sub) = (claims.class.clone(), claims.sub.clone());
        let (class, student) =
            blocking(move || Ok((store.get(&class_id)?, store.student(&class_id, &sub)?))).await?;
        let admitted = standing(class, student.as_ref(), &claims)?;
        Ok(Admitted {
            claims,
            class: admitted,
        })
    }

    /// Lets a student into the class whose join code is `code`. A valid
    /// token of the same class from before (even expired) keeps the
    /// student's id, unless the instructor revoked it.
    pub async fn join(
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
        let name = clean_name(name)?;
        let store = self.store.clone();
        let code = code.to_string();
        let Some(class) = blocking(move || store.by_join_code(&code)).await? else {
            return Err(Refusal::auth(
                "bad_join_code",
                "this join link is not valid (the class may have been closed); ask your \
                 instructor for the current one",
            ));
        };
        let student = previous
            .and_then(|t| self.key.verify_signature(t).ok())
            .filter(|c| c.class == class.id && StudentId::parse(&c.sub).is_some())
            .map(|c| c.sub)
            .unwrap_or_else(|| format!("s-{}", crate::secrets::random_hex(8)));
        let record = StudentRecord {
            id: student.clone(),
            name: name.clone(),
            joined: now,
            revoked_at: None,
        };
        self.record_join(&class.id, record).await?;
        let ttl = class.token_ttl_secs.unwrap_or(self.default_ttl);
        let claims = Claims {
            class: class.id.clone(),
            sub: student,
            name,
            iat: now,
            exp: now.saturating_add(ttl),
            targets: class.targets.clone(),
            custom: class.custom_targets,
        };
        let token = self.key.sign(&claims);
        self.events.send(ClassEvent::joined(&claims));
        Ok(Joined {
            class,
            claims,
            token,
        })
    }

    /// Writes a join to the roster, unless the student was revoked or the
    /// class is full.
    async fn record_join(&self, class: &str, record: StudentRecord) -> Result<(), Refusal> {
        let store = self.store.clone();
        let class = class.to_string();
        let refusal = blocking(move || {
            if let Some(known) = store.student(&class, &record.id)?
                && known.revoked_at.is_some()
            {
                return Ok(Some(revoked()));
            }
            match store.add_student(&class, &record) {
                Ok(()) => Ok(None),
                Err(e) => match e.downcast_ref::<store::ClassFull>() {
                    Some(full) => Ok(Some(Refusal::limit(
                        "max_students_per_class",
                        full.to_string(),
                    ))),
                    None => Err(e),
                },
            }
        })
        .await?;
        refusal.map_or(Ok(()), Err)
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

/// The class of a verified token, if the token still stands: the class is
/// open and the student's tokens of that time were not revoked.
pub fn standing(
    class: Option<Class>,
    student: Option<&StudentRecord>,
    claims: &Claims,
) -> Result<Class, Refusal> {
    let class = match class {
        Some(class) if !class.closed => class,
        Some(class) => return Err(closed(&class)),
        None => {
            return Err(Refusal::auth(
                "class_closed",
                "your class no longer exists on this relay",
            ));
        }
    };
    match student.and_then(|s| s.revoked_at) {
        Some(at) if claims.iat <= at => Err(revoked()),
        _ => Ok(class),
    }
}

/// Why a token of a closed class no longer works.
pub fn closed(class: &Class) -> Refusal {
    Refusal::auth(
        "class_closed",
        format!(
            "the class {:?} has been closed by its instructor",
            class.name
        ),
    )
}

/// Why a revoked student's token no longer works.
pub fn revoked() -> Refusal {
    Refusal::auth(
        "revoked",
        "your instructor has withdrawn your access to this class; ask them",
    )
}

/// The name a student gave, without control characters, 1 to 40 of them.
fn clean_name(name: &str) -> Result<String, Refusal> {
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
    Ok(name)
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

    #[tokio::test]
    async fn join_admit_expire_revoke_and_close() {
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
        let joined = room
            .join(&class.join_code, " Alice\n", None, 1000)
            .await
            .unwrap();
        assert_eq!(joined.claims.name, "Alice");
        assert_eq!(joined.claims.exp, 1060);
        assert!(
            room.token_cookie(&joined)
                .contains("HttpOnly; SameSite=Strict")
        );
        let admitted = room.admit(Some(&joined.token), 1030).await.unwrap();
        assert_eq!(admitted.identity().unwrap().name, "Alice");
        assert!(admitted.allows_target("upper-tcp"));
        assert!(!admitted.allows_target("smtp"));

        assert_eq!(
            room.admit(None, 1030).await.unwrap_err().reason,
            "missing_token"
        );
        assert_eq!(
            room.admit(Some("wl1.x.y"), 1030).await.unwrap_err().reason,
            "bad_token"
        );
        let expired = room.admit(Some(&joined.token), 1100).await.unwrap_err();
        assert_eq!(expired.reason, "expired");
        assert!(expired.message.contains("40 s ago"), "{}", expired.message);

        // Rejoining with the old token keeps the id; a new browser gets a new one.
        let again = room
            .join(&class.join_code, "Alice", Some(&joined.token), 2000)
            .await
            .unwrap();
        assert_eq!(again.claims.sub, joined.claims.sub);
        let other = room
            .join(&class.join_code, "Bob", None, 2000)
            .await
            .unwrap();
        assert_ne!(other.claims.sub, joined.claims.sub);
        assert_eq!(room.store.students(&class.id).unwrap().len(), 2);

        // Revoking Bob ends his token and his rejoining from that browser;
        // Alice is not touched.
        room.store
            .revoke_student(&class.id, &other.claims.sub, 2000)
            .unwrap();
        let refused = room.admit(Some(&other.token), 2001).await.unwrap_err();
        assert_eq!(refused.reason, "revoked");
        let rejoin = room
            .join(&class.join_code, "Bob", Some(&other.token), 2001)
            .await
            .unwrap_err();
        assert_eq!(rejoin.reason, "revoked");
        assert!(room.admit(Some(&again.token), 2001).await.is_ok());

        room.store.close(&class.id).unwrap();
        assert_eq!(
            room.admit(Some(&again.token), 2001)
                .await
                .unwrap_err()
                .reason,
            "class_closed"
        );
        assert!(
            room.join(&class.join_code, "Carol", None, 2002)
                .await
                .is_err()
        );
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
