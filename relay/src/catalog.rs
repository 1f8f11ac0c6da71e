//! The catalog: the targets a student may connect to by name (`?target=`),
//! served at `/api/targets`. The reference servers add their entries when
//! they start, with the ports they really bound; the operator's
//! `[[policy.targets]]` follow them. The policy treats the two apart: a
//! built-in server is reached as listed, an operator's target is resolved
//! and checked at each connection (see [`crate::policy`]).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use wirelab_shared::relay_protocol::TargetInfo;

/// The list of named targets, in the order the page shows them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    targets: Vec<TargetInfo>,
    /// Names of the entries that came from the operator's config.
    named: HashSet<String>,
}

impl Catalog {
    /// A catalog of built-in servers.
    pub fn new(targets: Vec<TargetInfo>) -> Self {
        Catalog {
            targets,
            named: HashSet::new(),
        }
    }

    /// Adds the operator's named targets after the built-in ones. A name
    /// used twice is an error naming it.
    pub fn with_named(mut self, named: Vec<TargetInfo>) -> Result<Self, String> {
        for target in named {
            if self.get(&target.name).is_some() {
                return Err(format!(
                    "the target name {:?} in [[policy.targets]] is already used by another target",
                    target.name
                ));
            }
            self.named.insert(target.name.clone());
            self.targets.push(target);
        }
        Ok(self)
    }

    /// Whether `name` is one of the operator's targets (resolved and
    /// checked at connect time) rather than a built-in server.
    pub fn is_named(&self, name: &str) -> bool {
        self.named.contains(name)
    }

    pub fn targets(&self) -> &[TargetInfo] {
        &self.targets
    }

    pub fn get(&self, name: &str) -> Option<&TargetInfo> {
        self.targets.iter().find(|t| t.name == name)
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// The socket address of a catalog entry whose host is an IP literal.
pub fn target_addr(target: &TargetInfo) -> Option<SocketAddr> {
    let ip: IpAddr = target.host.parse().ok()?;
    Some(SocketAddr::new(ip, target.port))
}
