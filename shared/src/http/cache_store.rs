//! The caching proxy's shared cache: stored responses under their URI and
//! Vary secondary key, least recently used first out, bounded in entries
//! and bytes; a response larger than the largest object is never kept.
//!
//! [`Store::plan`] says what to do with a request (serve a stored
//! response, revalidate it upstream with a conditional request, or fetch
//! it); once the origin has answered, [`Store::settle`] stores, refreshes
//! or drops, and says what to send the client and the `Cache-Status` to
//! send with it. The caller does the I/O and passes "now" in seconds since
//! the Unix epoch; nothing here reads a clock.

use super::cache::{
    CacheStatus, Fields, Forward, Lifetime, LifetimeSource, Received, ResponseFacts,
    conditional_fields, freshness_lifetime, hop_by_hop, not_modified_matches,
    reusable_without_validation, secondary_key, storable, ttl, update_from_304, vary_names,
};
use hashlink::LruCache;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// The name the cache gives itself in `Cache-Status`.
pub const CACHE_NAME: &str = "wirelab";

/// How much the cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Bytes of every stored head and body together.
    pub max_bytes: usize,
    pub max_entries: usize,
    /// A larger response passes through and is not stored.
    pub max_object_bytes: usize,
}

/// Per stored response, what its URI and head take besides the body: the
/// bound counts them too, so many empty bodies cannot fill memory.
const ENTRY_OVERHEAD: usize = 256;

/// A response as the origin sent it (the connection's own fields already
/// removed), with when it was asked for and received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Arc<[u8]>,
    pub request_time: i64,
    pub response_time: i64,
}

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub uri: String,
    pub response: Fetched,
    pub received: Received,
    pub lifetime: Lifetime,
    /// The request's values of the fields the response varies on.
    pub vary: Vec<(String, Option<String>)>,
    pub hits: u64,
    /// When it was last revalidated with a 304, if ever.
    pub revalidated_at: Option<i64>,
}

impl Stored {
    fn new(uri: &str, response: Fetched, vary: Vec<(String, Option<String>)>) -> Stored {
        let facts = ResponseFacts::of(&response.headers);
        Stored {
            uri: uri.to_string(),
            received: received(&response, &facts),
            lifetime: freshness_lifetime(response.status, &facts, response.response_time),
            response,
            vary,
            hits: 0,
            revalidated_at: None,
        }
    }

    fn size(&self) -> usize {
        stored_size(&self.uri, &self.response)
    }

    /// Seconds of freshness left at `now` (negative once stale).
    pub fn ttl(&self, now: i64) -> i64 {
        ttl(self.lifetime, &self.received, now)
    }

    pub fn age(&self, now: i64) -> u64 {
        self.received.current_age(now)
    }
}

fn received(response: &Fetched, facts: &ResponseFacts) -> Received {
    Received {
        request_time: response.request_time,
        response_time: response.response_time,
        date: facts.date,
        age: facts.age,
    }
}

fn stored_size(uri: &str, response: &Fetched) -> usize {
    let head: usize = response
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len() + 4)
        .sum();
    ENTRY_OVERHEAD + uri.len() + head + response.body.len()
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Answer from the cache; nothing goes upstream.
    Serve(Box<Stored>),
    /// Ask the origin whether the stored response is still good with
    /// these conditional fields, in place of the client's own.
    Revalidate {
        stored: Box<Stored>,
        conditional: Vec<(String, String)>,
        fwd: Forward,
    },
    /// Forward the request as it is.
    Fetch(Forward),
}

/// What to send the client once the origin answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub response: Fetched,
    /// The response's age, for the `Age` field.
    pub age: u64,
    pub status: CacheStatus,
}

/// One entry as `GET /api/proxy/cache` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub uri: String,
    /// The request fields this copy was chosen by (Vary), `name: value`.
    pub vary: Vec<String>,
    pub status: u16,
    pub bytes: usize,
    pub age_secs: u64,
    pub lifetime_secs: u64,
    pub lifetime_source: LifetimeSource,
    /// Seconds of freshness left; negative once stale.
    pub ttl_secs: i64,
    pub fresh: bool,
    pub hits: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub stored_at: i64,
    pub revalidated_at: Option<i64>,
}

type Key = (String, Vec<(String, Option<String>)>);

/// The cache. One per proxy; its caller serialises access (a mutex).
pub struct Store {
    entries: LruCache<Key, Stored>,
    /// Per URI, the fields its stored responses vary on and how many
    /// entries it has: the secondary key is worked out from these.
    vary_of: HashMap<String, (Vec<String>, usize)>,
    bytes: usize,
    bounds: Bounds,
}

impl Store {
    pub fn new(bounds: Bounds) -> Store {
        Store {
            entries: LruCache::new_unbounded(),
            vary_of: HashMap::new(),
            bytes: 0,
            bounds,
        }
    }

    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held, by the same count as [`Bounds::max_bytes`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn key(&self, uri: &str, request: &Fields) -> Option<Key> {
        let (names, _) = self.vary_of.get(uri)?;
        Some((uri.to_string(), secondary_key(names, request)))
    }

    /// Decides what a `method` request for `uri` needs at `now`.
    pub fn plan(&mut self, method: &str, uri: &str, request: &Fields, now: i64) -> Plan {
        if method != "GET" {
            return Plan::Fetch(Forward::Bypass);
        }
        let Some(key) = self.key(uri, request) else {
            return Plan::Fetch(Forward::UriMiss);
        };
        let Some(stored) = self.entries.get_mut(&key) else {
            return Plan::Fetch(Forward::VaryMiss);
        };
        let facts = ResponseFacts::of(&stored.response.headers);
        let ttl = stored.ttl(now);
        if reusable_without_validation(&facts, request, ttl) {
            stored.hits += 1;
            return Plan::Serve(Box::new(stored.clone()));
        }
        let fwd = if ttl > 0 && !facts.cache_control.no_cache {
            Forward::Request
        } else {
            Forward::Stale
        };
        let conditional = conditional_fields(&stored.response.headers);
        if conditional.is_empty() {
            return Plan::Fetch(fwd);
        }
        Plan::Revalidate {
            stored: Box::new(stored.clone()),
            conditional,
            fwd,
        }
    }

    /// Takes the origin's answer to what [`Store::plan`] said: stores,
    /// refreshes or drops, and says what the client gets.
    pub fn settle(
        &mut self,
        plan: &Plan,
        method: &str,
        uri: &str,
        request: &Fields,
        fetched: Fetched,
    ) -> Settled {
        let now = fetched.response_time;
        if let Plan::Revalidate { stored, fwd, .. } = plan
            && fetched.status == 304
            && not_modified_matches(&stored.response.headers, &fetched.headers)
        {
            return self.refreshed(stored, *fwd, &fetched, now);
        }
        let fwd = match plan {
            Plan::Serve(_) => Forward::Miss,
            Plan::Revalidate { fwd, .. } | Plan::Fetch(fwd) => *fwd,
        };
        let mut status = CacheStatus::forwarded(CACHE_NAME, fwd, Some(fetched.status));
        if method != "GET" && method != "HEAD" && fetched.status < 400 {
            // An unsafe method changed the resource: what is stored is
            // out of date (RFC 9111 §4.4).
            self.remove_uri(uri);
        }
        match self.admit(method, uri, request, &fetched) {
            Ok(()) => {
                status.stored = true;
                let stored = Stored::new(uri, fetched.clone(), Vec::new());
                status.ttl = Some(stored.ttl(now));
            }
            Err(why) => {
                if method == "GET" {
                    self.remove_key(uri, request);
                }
                status.detail = (fwd != Forward::Bypass).then(|| why.to_string());
            }
        }
        let age = received(&fetched, &ResponseFacts::of(&fetched.headers)).current_age(now);
        Settled {
            response: fetched,
            age,
            status,
        }
    }

    /// A 304 said the stored response is still good: refresh it and
    /// serve it.
    fn refreshed(&mut self, stored: &Stored, fwd: Forward, fetched: &Fetched, now: i64) -> Settled {
        let mut entry = stored.clone();
        update_from_304(&mut entry.response.headers, &fetched.headers);
        entry.response.request_time = fetched.request_time;
        entry.response.response_time = fetched.response_time;
        let facts = ResponseFacts::of(&entry.response.headers);
        entry.received = received(&entry.response, &facts);
        entry.lifetime = freshness_lifetime(entry.response.status, &facts, now);
        entry.revalidated_at = Some(now);
        let mut status = CacheStatus::forwarded(CACHE_NAME, fwd, Some(304));
        status.ttl = Some(entry.ttl(now));
        let key = (entry.uri.clone(), entry.vary.clone());
        if let Some(old) = self.entries.get_mut(&key) {
            let (old_size, new_size) = (old.size(), entry.size());
            *old = entry.clone();
            self.bytes = self.bytes - old_size + new_size;
            self.evict_to_bounds();
        }
        Settled {
            age: entry.age(now),
            response: entry.response,
            status,
        }
    }

    /// Stores `fetched` if it may be, making room for it.
    fn admit(
        &mut self,
        method: &str,
        uri: &str,
        request: &Fields,
        fetched: &Fetched,
    ) -> Result<(), &'static str> {
        storable(method, request, fetched.status, &fetched.headers).map_err(|e| e.as_str())?;
        let size = stored_size(uri, fetched);
        if fetched.body.len() > self.bounds.max_object_bytes || size > self.bounds.max_bytes {
            return Err("too-big");
        }
        if self.bounds.max_entries == 0 {
            return Err("cache-off");
        }
        let names = vary_names(&fetched.headers).unwrap_or_default();
        if self.vary_of.get(uri).is_some_and(|(old, _)| *old != names) {
            // The origin changed what it varies on: the old copies were
            // chosen by other fields and can no longer be found right.
            self.remove_uri(uri);
        }
        let vary = secondary_key(&names, request);
        let key = (uri.to_string(), vary.clone());
        if let Some(old) = self.entries.remove(&key) {
            self.forget(&old);
        }
        let entry = Stored::new(uri, fetched.clone(), vary);
        self.bytes += entry.size();
        self.vary_of.entry(uri.to_string()).or_insert((names, 0)).1 += 1;
        self.entries.insert(key, entry);
        self.evict_to_bounds();
        Ok(())
    }

    fn evict_to_bounds(&mut self) {
        while self.entries.len() > self.bounds.max_entries || self.bytes > self.bounds.max_bytes {
            let Some((_, old)) = self.entries.remove_lru() else {
                break;
            };
            self.forget(&old);
        }
    }

    /// Takes an entry that left `entries` off the books.
    fn forget(&mut self, old: &Stored) {
        self.bytes -= old.size();
        if let Some((_, count)) = self.vary_of.get_mut(&old.uri) {
            *count -= 1;
            if *count == 0 {
                self.vary_of.remove(&old.uri);
            }
        }
    }

    fn remove_key(&mut self, uri: &str, request: &Fields) {
        if let Some(key) = self.key(uri, request)
            && let Some(old) = self.entries.remove(&key)
        {
            self.forget(&old);
        }
    }

    /// Drops every stored copy of `uri`.
    pub fn remove_uri(&mut self, uri: &str) {
        let keys: Vec<Key> = self
            .entries
            .iter()
            .filter(|(k, _)| k.0 == uri)
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            if let Some(old) = self.entries.remove(&key) {
                self.forget(&old);
            }
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.vary_of.clear();
        self.bytes = 0;
    }

    /// Every entry, least recently used first, as it stands at `now`.
    pub fn view(&self, now: i64) -> Vec<EntryView> {
        self.entries.iter().map(|(_, e)| view_of(e, now)).collect()
    }
}

fn view_of(entry: &Stored, now: i64) -> EntryView {
    let headers = &entry.response.headers;
    let ttl_secs = entry.ttl(now);
    EntryView {
        uri: entry.uri.clone(),
        vary: entry
            .vary
            .iter()
            .map(|(n, v)| format!("{n}: {}", v.as_deref().unwrap_or("(absent)")))
            .collect(),
        status: entry.response.status,
        bytes: entry.size(),
        age_secs: entry.age(now),
        lifetime_secs: entry.lifetime.secs,
        lifetime_source: entry.lifetime.source,
        ttl_secs,
        fresh: ttl_secs > 0,
        hits: entry.hits,
        etag: super::cache::value_of(headers, "etag").map(str::to_string),
        last_modified: super::cache::value_of(headers, "last-modified").map(str::to_string),
        stored_at: entry.response.response_time,
        revalidated_at: entry.revalidated_at,
    }
}

/// The end-to-end fields of a message: what a proxy forwards and stores
/// (RFC 9110 §7.6.1).
pub fn end_to_end(fields: &Fields) -> Vec<(String, String)> {
    fields
        .iter()
        .filter(|(name, _)| !hop_by_hop(name, fields))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
