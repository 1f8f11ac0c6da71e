//! The resolver's cache: RRsets and negative answers, each kept until its
//! TTL runs out (RFC 1035 §7.4, RFC 2308 for NXDOMAIN and NODATA), with
//! RFC 2181 §5.4.1's ranking so that glue from a referral never replaces
//! an authoritative answer.
//!
//! Times are the driver's [`Millis`]; a lookup says how many seconds are
//! left, which is the TTL the resolver hands on to its clients.

use super::message::Record;
use super::name::Name;
use super::rdata::RData;
use super::types::RecordType;
use crate::engine::Millis;
use hashbrown::{Equivalent, HashMap};
use serde::{Deserialize, Serialize};
use std::hash::RandomState;

/// How trustworthy cached data is, lowest first (RFC 2181 §5.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rank {
    /// An address from the additional section (glue).
    Glue,
    /// NS records from a referral's authority section.
    Referral,
    /// The answer section of a non-authoritative reply.
    Answer,
    /// The answer section of an authoritative reply.
    Authoritative,
}

/// What is cached for a name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    Records(Vec<Record>),
    /// The name does not exist (cached under [`NXDOMAIN_KEY`]).
    NxDomain {
        soa: Option<Record>,
    },
    /// The name has no data of this type.
    NoData {
        soa: Option<Record>,
    },
}

/// The type under which "this name does not exist" is cached.
pub const NXDOMAIN_KEY: RecordType = RecordType(0);

#[derive(Debug, Clone)]
struct Entry {
    data: Cached,
    stored: Millis,
    expires: Millis,
    rank: Rank,
    /// Which server said so.
    source: String,
}

/// One cache entry as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheView {
    pub name: String,
    pub rtype: String,
    /// "records", "nxdomain" or "nodata".
    pub kind: String,
    /// The records in presentation form (the SOA for negative entries).
    pub records: Vec<String>,
    /// Seconds left; the page counts them down.
    pub ttl_left: u64,
    /// The TTL it was stored with.
    pub ttl_stored: u64,
    pub rank: Rank,
    pub source: String,
}

/// A cache key borrowed from a question: an entry is found without
/// copying the name into an owned key on every lookup. It hashes as the
/// owned key `(Name, RecordType)` does, and names compare ignoring case.
#[derive(Hash)]
struct KeyRef<'a>(&'a Name, RecordType);

impl Equivalent<(Name, RecordType)> for KeyRef<'_> {
    fn equivalent(&self, key: &(Name, RecordType)) -> bool {
        *self.0 == key.0 && self.1 == key.1
    }
}

/// The cache, bounded to `capacity` entries.
#[derive(Debug, Clone)]
pub struct Cache {
    /// Keys in lower case; std's hasher, randomly keyed (names come from
    /// the network).
    entries: HashMap<(Name, RecordType), Entry, RandomState>,
    capacity: usize,
    /// TTLs are capped to this (seconds), negative ones to `max_negative`.
    pub max_ttl: u32,
    pub max_negative: u32,
    pub hits: u64,
    pub misses: u64,
}

impl Cache {
    pub fn new(capacity: usize) -> Cache {
        Cache {
            entries: HashMap::with_hasher(RandomState::new()),
            capacity: capacity.max(1),
            max_ttl: 7 * 86400,
            // RFC 2308 §5 suggests one to three hours.
            max_negative: 3 * 3600,
            hits: 0,
            misses: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    fn make_room(&mut self, now: Millis) {
        if self.entries.len() < self.capacity {
            return;
        }
        self.entries.retain(|_, e| e.expires > now);
        while self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.stored)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
    }

    fn store(
        &mut self,
        key: (Name, RecordType),
        data: Cached,
        ttl: u32,
        rank: Rank,
        source: &str,
        now: Millis,
    ) {
        let key = (key.0.to_lowercase(), key.1);
        if let Some(old) = self.entries.get(&key)
            && old.expires > now
            && old.rank > rank
        {
            return;
        }
        self.make_room(now);
        self.entries.insert(
            key,
            Entry {
                data,
                stored: now,
                expires: now.saturating_add(ttl as u64 * 1000),
                rank,
                source: source.to_string(),
            },
        );
    }

    /// Caches records, grouped into RRsets; an RRset's TTL is its lowest
    /// (RFC 2181 §5.2).
    pub fn store_records(&mut self, records: &[Record], rank: Rank, source: &str, now: Millis) {
        let mut sets: Vec<((Name, RecordType), Vec<Record>)> = Vec::new();
        for r in records {
            if r.rtype == RecordType::OPT {
                continue;
            }
            let key = (r.name.clone(), r.rtype);
            match sets.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(r.clone()),
                None => sets.push((key, vec![r.clone()])),
            }
        }
        for (key, set) in sets {
            let ttl = set
                .iter()
                .map(|r| r.ttl)
                .min()
                .unwrap_or(0)
                .min(self.max_ttl);
            if ttl == 0 {
                continue;
            }
            self.store(key, Cached::Records(set), ttl, rank, source, now);
        }
    }

    /// Caches "no such name" (`rtype` = None) or "no such data".
    pub fn store_negative(
        &mut self,
        name: &Name,
        rtype: Option<RecordType>,
        soa: Option<Record>,
        source: &str,
        now: Millis,
    ) {
        // RFC 2308 §5: the SOA's TTL, itself capped by its MINIMUM.
        let ttl = soa
            .as_ref()
            .map(|s| match s.data {
                RData::Soa { minimum, .. } => s.ttl.min(minimum),
                _ => s.ttl,
            })
            .unwrap_or(0)
            .min(self.max_negative);
        if ttl == 0 {
            return;
        }
        let (key, data) = match rtype {
            None => (NXDOMAIN_KEY, Cached::NxDomain { soa }),
            Some(t) => (t, Cached::NoData { soa }),
        };
        self.store(
            (name.clone(), key),
            data,
            ttl,
            Rank::Authoritative,
            source,
            now,
        );
    }

    /// What is cached for `name`/`rtype`, with the TTLs lowered to what is
    /// left; `None` when nothing or only expired data is there.
    pub fn get(&mut self, name: &Name, rtype: RecordType, now: Millis) -> Option<Cached> {
        let key = KeyRef(name, rtype);
        let entry = match self.entries.get(&key) {
            Some(e) if e.expires > now => e,
            Some(_) => {
                self.entries.remove(&key);
                self.misses += 1;
                return None;
            }
            None => {
                self.misses += 1;
                return None;
            }
        };
        self.hits += 1;
        let left = ((entry.expires.0 - now.0) / 1000) as u32;
        let age = |r: &Record| Record {
            ttl: r.ttl.min(left),
            ..r.clone()
        };
        Some(match &entry.data {
            Cached::Records(v) => Cached::Records(v.iter().map(age).collect()),
            Cached::NxDomain { soa } => Cached::NxDomain {
                soa: soa.as_ref().map(age),
            },
            Cached::NoData { soa } => Cached::NoData {
                soa: soa.as_ref().map(age),
            },
        })
    }

    /// Whether [`Cache::get`] would answer `name`/`rtype` by itself: the
    /// name is cached as nonexistent, or its `rtype` records or their
    /// absence are. Counts nothing and removes nothing.
    pub fn answers_at_once(&self, name: &Name, rtype: RecordType, now: Millis) -> bool {
        let live = |rtype| {
            self.entries
                .get(&KeyRef(name, rtype))
                .filter(|e| e.expires > now)
                .map(|e| &e.data)
        };
        matches!(live(NXDOMAIN_KEY), Some(Cached::NxDomain { .. }))
            || matches!(
                live(rtype),
                Some(Cached::Records(_) | Cached::NoData { .. })
            )
    }

    /// The addresses cached for `name`.
    pub fn addresses(&mut self, name: &Name, now: Millis) -> Vec<std::net::IpAddr> {
        let mut out = Vec::new();
        for t in [RecordType::A, RecordType::AAAA] {
            if let Some(Cached::Records(v)) = self.get(name, t, now) {
                for r in v {
                    match r.data {
                        RData::A(a) => out.push(a.into()),
                        RData::Aaaa(a) => out.push(a.into()),
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Every live entry, for the page, sorted by name.
    pub fn snapshot(&self, now: Millis) -> Vec<CacheView> {
        let mut v: Vec<CacheView> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expires > now)
            .map(|((name, rtype), e)| {
                let (kind, records) = match &e.data {
                    Cached::Records(rs) => {
                        ("records", rs.iter().map(|r| r.data.to_text()).collect())
                    }
                    Cached::NxDomain { soa } => {
                        ("nxdomain", soa.iter().map(|r| r.data.to_text()).collect())
                    }
                    Cached::NoData { soa } => {
                        ("nodata", soa.iter().map(|r| r.data.to_text()).collect())
                    }
                };
                CacheView {
                    name: name.to_string(),
                    rtype: if *rtype == NXDOMAIN_KEY {
                        "*".into()
                    } else {
                        rtype.to_string()
                    },
                    kind: kind.into(),
                    records,
                    ttl_left: (e.expires.0 - now.0) / 1000,
                    ttl_stored: (e.expires.0 - e.stored.0) / 1000,
                    rank: e.rank,
                    source: e.source.clone(),
                }
            })
            .collect();
        v.sort_by(|a, b| {
            Name::parse(&a.name)
                .unwrap_or_default()
                .cmp(&Name::parse(&b.name).unwrap_or_default())
                .then(a.rtype.cmp(&b.rtype))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn a(name: &str, ttl: u32, last: u8) -> Record {
        Record::new(
            Name::parse(name).unwrap(),
            ttl,
            RData::A(Ipv4Addr::new(10, 0, 0, last)),
        )
    }

    #[test]
    fn ttls_count_down_and_expire() {
        let mut c = Cache::new(10);
        c.store_records(
            &[a("gaia.cs.umass.edu", 60, 1)],
            Rank::Authoritative,
            "x",
            Millis(0),
        );
        let n = Name::parse("GAIA.cs.umass.edu").unwrap();
        match c.get(&n, RecordType::A, Millis(20_500)) {
            Some(Cached::Records(v)) => assert_eq!(v[0].ttl, 39),
            other => panic!("{other:?}"),
        }
        assert!(c.get(&n, RecordType::A, Millis(60_000)).is_none());
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn glue_does_not_replace_an_answer() {
        let mut c = Cache::new(10);
        let n = Name::parse("dns.edu").unwrap();
        c.store_records(
            &[a("dns.edu", 100, 1)],
            Rank::Authoritative,
            "auth",
            Millis(0),
        );
        c.store_records(&[a("dns.edu", 100, 2)], Rank::Glue, "glue", Millis(1));
        assert_eq!(
            c.addresses(&n, Millis(2)),
            vec![std::net::IpAddr::from([10, 0, 0, 1])]
        );
        assert_eq!(c.snapshot(Millis(2))[0].source, "auth");
    }

    #[test]
    fn negative_entries_use_the_soa_minimum_and_capacity_holds() {
        let mut c = Cache::new(2);
        let soa = Record::new(
            Name::parse("umass.edu").unwrap(),
            3600,
            RData::Soa {
                mname: Name::root(),
                rname: Name::root(),
                serial: 1,
                refresh: 1,
                retry: 1,
                expire: 1,
                minimum: 300,
            },
        );
        let n = Name::parse("nobody.umass.edu").unwrap();
        c.store_negative(&n, None, Some(soa), "s", Millis(0));
        assert_eq!(c.snapshot(Millis(0))[0].ttl_stored, 300);
        assert!(matches!(
            c.get(&n, NXDOMAIN_KEY, Millis(1000)),
            Some(Cached::NxDomain { .. })
        ));
        for i in 0..5 {
            c.store_records(
                &[a(&format!("h{i}.x"), 100, i)],
                Rank::Answer,
                "s",
                Millis(i as u64 + 1),
            );
        }
        assert_eq!(c.len(), 2);
    }
}
