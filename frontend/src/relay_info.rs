//! What every page knows about the relay: whether there is one, and the
//! catalog of targets it offers (or the in-browser servers' when there is
//! none). The app shell checks once and provides a [`RelayInfo`] context;
//! components read it with [`use_relay_info`].
//!
//! A leaf module: pages and components import it, and it imports none of
//! them, so no page depends on the app shell.

use std::rc::Rc;
use wirelab_shared::relay_protocol::TargetInfo;
use yew::prelude::*;

/// Whether the page talks to a relay.
#[derive(Debug, Clone, PartialEq)]
pub enum RelayStatus {
    Checking,
    Online {
        version: String,
    },
    /// No relay: the in-browser servers stand in.
    Offline {
        why: String,
    },
    /// A classroom relay that wants a token first.
    Locked {
        message: String,
    },
}

/// What every page knows about the relay, shared through a context.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayInfo {
    pub status: RelayStatus,
    pub targets: Rc<Vec<TargetInfo>>,
}

impl Default for RelayInfo {
    fn default() -> Self {
        RelayInfo {
            status: RelayStatus::Checking,
            targets: Rc::new(Vec::new()),
        }
    }
}

impl RelayInfo {
    pub fn is_offline(&self) -> bool {
        matches!(self.status, RelayStatus::Offline { .. })
    }

    pub fn is_online(&self) -> bool {
        matches!(self.status, RelayStatus::Online { .. })
    }

    /// The catalog's targets of `protocol`, in catalog order.
    pub fn targets_of(&self, protocol: &str) -> Vec<TargetInfo> {
        self.targets
            .iter()
            .filter(|t| t.protocol == protocol)
            .cloned()
            .collect()
    }

    /// Whether the catalog has any target of `protocol`.
    pub fn serves(&self, protocol: &str) -> bool {
        self.targets.iter().any(|t| t.protocol == protocol)
    }

    /// What the relay's health and catalog checks came to.
    pub fn from_check(checked: Result<(String, Vec<TargetInfo>), crate::api::ApiError>) -> Self {
        match checked {
            Ok((version, targets)) => RelayInfo {
                status: RelayStatus::Online { version },
                targets: Rc::new(targets),
            },
            // A classroom relay: the student must join first.
            Err(e) if e.status == Some(401) => RelayInfo {
                status: RelayStatus::Locked { message: e.message },
                targets: Rc::new(Vec::new()),
            },
            Err(e) => RelayInfo {
                status: RelayStatus::Offline { why: e.message },
                targets: Rc::new(crate::local::targets()),
            },
        }
    }
}

/// Asks the relay for its health and catalog, once per call.
pub async fn check() -> RelayInfo {
    let checked = async {
        let health = crate::api::health().await?;
        let targets = crate::api::targets().await?;
        Ok((health.version, targets))
    }
    .await;
    RelayInfo::from_check(checked)
}

/// The relay as the app shell last saw it; "checking" outside the shell.
#[hook]
pub fn use_relay_info() -> RelayInfo {
    use_context::<RelayInfo>().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;

    fn error(status: Option<u16>) -> ApiError {
        ApiError {
            status,
            message: "no".into(),
        }
    }

    #[test]
    fn checks_come_to_online_locked_or_offline() {
        let online = RelayInfo::from_check(Ok(("1.0".into(), crate::local::targets())));
        assert!(online.is_online() && !online.is_offline());
        assert!(online.serves("dns") && !online.serves("gopher"));
        assert!(
            online
                .targets_of("smtp")
                .iter()
                .all(|t| t.protocol == "smtp")
        );
        let locked = RelayInfo::from_check(Err(error(Some(401))));
        assert!(matches!(locked.status, RelayStatus::Locked { .. }));
        assert!(locked.targets.is_empty());
        // No relay: the in-browser servers' catalog.
        let offline = RelayInfo::from_check(Err(error(None)));
        assert!(offline.is_offline());
        assert_eq!(*offline.targets, crate::local::targets());
        assert_eq!(RelayInfo::default().status, RelayStatus::Checking);
    }
}
