//! The catalog: the targets a student may connect to by name (`?target=`),
//! served at `/api/targets`. The reference servers add their entries when
//! they start, with the ports they really bound.

use std::net::{IpAddr, SocketAddr};
use wirelab_shared::relay_protocol::TargetInfo;

/// The list of named targets, in the order the page shows them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    targets: Vec<TargetInfo>,
}

impl Catalog {
    pub fn new(targets: Vec<TargetInfo>) -> Self {
        Catalog { targets }
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
