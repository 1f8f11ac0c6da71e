//! Name resolution for custom and named targets, behind a trait so tests
//! map names to addresses without DNS.
//!
//! The relay resolves a name exactly once per connection, checks every
//! address it got, and connects to one of those addresses: it never hands
//! the name to anything that would look it up again (the DNS rebinding
//! defence). A [`Resolver`] only has to answer "which addresses".

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The future a [`Resolver`] returns.
pub type Lookup<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a host name into addresses.
pub trait Resolver: Send + Sync + 'static {
    /// Every address of `name` (lower case, no trailing dot). An empty list
    /// or an error means the name has none.
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a>;
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            let mut ips: Vec<IpAddr> = tokio::net::lookup_host((name, 0))
                .await?
                .map(|a| a.ip())
                .collect();
            ips.dedup();
            Ok(ips)
        })
    }
}

/// A fixed table of names, for tests and for air-gapped classrooms: names
/// not in the table do not exist. An optional delay makes lookups slow, so
/// tests can hit the connect timeout without a real network.
#[derive(Debug, Default, Clone)]
pub struct StaticResolver {
    names: HashMap<String, Vec<IpAddr>>,
    delay: Option<Duration>,
}

impl StaticResolver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name` with its addresses.
    pub fn with(mut self, name: &str, addrs: &[&str]) -> Self {
        let ips = addrs
            .iter()
            .map(|a| a.parse().expect("StaticResolver::with takes IP addresses"))
            .collect();
        self.names.insert(name.to_ascii_lowercase(), ips);
        self
    }

    /// Makes every lookup take `delay`.
    pub fn slow(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn into_arc(self) -> Arc<dyn Resolver> {
        Arc::new(self)
    }
}

impl Resolver for StaticResolver {
    fn lookup<'a>(&'a self, name: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            self.names.get(name).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such host"))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_resolver_answers_from_its_table() {
        let r = StaticResolver::new().with("lab.test", &["127.0.0.1", "::1"]);
        assert_eq!(r.lookup("lab.test").await.unwrap().len(), 2);
        assert_eq!(
            r.lookup("nope.test").await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
