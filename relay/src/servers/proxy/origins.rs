//! Where the proxy may fetch from: the relay's own reference servers (by
//! address and port, or by catalog name as the host), else what the
//! operator's policy allows for a custom target; never the proxy itself.

use super::{Origins, Proxy, Unusable};
use crate::catalog::{Catalog, target_addr};
use crate::policy::{Policy, decide};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use wirelab_shared::http::proxy::{Origin, Refusal};
use wirelab_shared::relay_protocol::{ConnectQuery, Transport};

impl Proxy {
    /// Where `origin` may be reached: a reference server of this relay, or
    /// what the policy allows; never this proxy itself.
    pub(super) async fn origin_addrs(&self, origin: &Origin) -> Result<Vec<SocketAddr>, Unusable> {
        let Some(Origins { policy, catalog }) = self.origins.get() else {
            return Err(Unusable {
                status: 503,
                message: "The relay is still starting; try again in a moment.".into(),
                detail: "starting",
            });
        };
        let addrs = match built_in(catalog, origin) {
            Some(addr) => vec![addr],
            None => by_policy(policy, catalog, origin).await?,
        };
        if addrs.iter().any(|a| self.is_self(*a)) {
            return Err(Unusable {
                status: 403,
                message: Refusal::Loop.message(),
                detail: "loop",
            });
        }
        Ok(addrs)
    }

    fn is_self(&self, addr: SocketAddr) -> bool {
        addr == self.listen
            || (addr.port() == self.listen.port()
                && self.listen.ip().is_unspecified()
                && addr.ip().is_loopback())
    }
}

/// The address of a reference server the URL names: by its address and
/// port (`localhost` as 127.0.0.1), or by its catalog name as the host.
fn built_in(catalog: &Catalog, origin: &Origin) -> Option<SocketAddr> {
    let ip: Option<IpAddr> = match origin.host.as_str() {
        "localhost" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        host => host.parse().ok(),
    };
    catalog
        .targets()
        .iter()
        .filter(|t| t.transport == Transport::Tcp && !catalog.is_named(&t.name))
        .filter_map(|t| Some((t, target_addr(t)?)))
        .find(|(t, addr)| match ip {
            Some(ip) => *addr == SocketAddr::new(ip, origin.port),
            None => t.name == origin.host && origin.port == 80,
        })
        .map(|(_, addr)| addr)
}

/// What the operator's policy says about an origin that is not one of the
/// relay's own servers.
async fn by_policy(
    policy: &Policy,
    catalog: &Catalog,
    origin: &Origin,
) -> Result<Vec<SocketAddr>, Unusable> {
    let query = ConnectQuery {
        host: Some(origin.host.clone()),
        port: Some(origin.port),
        transport: Some(Transport::Tcp),
        ..ConnectQuery::default()
    };
    match decide(policy, catalog, &query).await {
        Ok(allowed) => Ok(allowed.addrs().collect()),
        Err(refusal) => Err(Unusable {
            status: 403,
            message: format!(
                "This proxy reaches only the origins the relay's policy allows (the lab's own \
                 servers unless the operator adds rules); {}:{} is not one: {}",
                origin.host, origin.port, refusal.message
            ),
            detail: "policy",
        }),
    }
}
