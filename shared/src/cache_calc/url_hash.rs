//! Problem P14: browsers pick one of a cluster of caches by hashing the
//! URL's host name (the letters' places in the alphabet, added, modulo the
//! number of caches), and what adding a cache does to that: nearly every
//! host moves to another cache, whose store is empty, so the cluster starts
//! again from misses. Consistent hashing, beside it, moves only the share
//! the new cache takes over (about 1/4 going from 3 caches to 4).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The host names of P14 that survive in the course's text, then the
/// course's other hosts that the lab serves. `aaabbb.com` is P14's worked
/// example, whose letters the text adds up as 1+1+1+2+2+2+3+15+13.
pub const P14_HOSTS: &[&str] = &[
    "aaabbb.com",
    "umass.edu",
    "eurecom.fr",
    "upenn.edu",
    "gaia.cs.umass.edu",
    "cis.poly.edu",
    "someschool.edu",
    "hamburger.edu",
    "crepes.fr",
    "networkutopia.com",
];

/// The letters of `host` numbered by their place in the alphabet (a = 1);
/// anything else is ignored, as P14's rule (2) says.
pub fn letter_values(host: &str) -> Vec<u32> {
    host.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| u32::from(c.to_ascii_lowercase()) - u32::from('a') + 1)
        .collect()
}

/// P14's hash before the modulo: the sum of [`letter_values`].
pub fn letter_sum(host: &str) -> u32 {
    letter_values(host).iter().sum()
}

/// The cache P14's rule sends `host` to among `caches`; `None` for none.
pub fn mod_cache(host: &str, caches: u32) -> Option<u32> {
    (caches > 0).then(|| letter_sum(host) % caches)
}

/// Where one host goes before and after a cache is added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub host: String,
    pub sum: u32,
    pub before: u32,
    pub after: u32,
}

impl Placement {
    pub fn moved(&self) -> bool {
        self.before != self.after
    }
}

/// Every host's cache with `before` caches and with `after` caches, by
/// P14's letter sum; `None` if either count is 0.
pub fn rehash_by_letters(hosts: &[&str], before: u32, after: u32) -> Option<Vec<Placement>> {
    hosts
        .iter()
        .map(|host| {
            Some(Placement {
                host: (*host).to_string(),
                sum: letter_sum(host),
                before: mod_cache(host, before)?,
                after: mod_cache(host, after)?,
            })
        })
        .collect()
}

/// A point on a 64-bit ring: the first 8 bytes of the SHA-256 of `key`,
/// which spreads names that differ in one character across the whole ring.
pub fn ring_point(key: &str) -> u64 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// Consistent hashing: each cache owns `points_per_cache` points on the
/// ring, and a key goes to the owner of the first point at or after its
/// own. Adding a cache adds its points and changes nothing else, so only
/// the keys now falling just before one of them move, and all to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ring {
    /// `(point, cache)`, sorted by point.
    points: Vec<(u64, u32)>,
}

impl Ring {
    pub fn new(caches: u32, points_per_cache: u32) -> Ring {
        let mut points: Vec<(u64, u32)> = (0..caches)
            .flat_map(|cache| {
                (0..points_per_cache)
                    .map(move |i| (ring_point(&format!("cache-{cache}#{i}")), cache))
            })
            .collect();
        points.sort_unstable();
        Ring { points }
    }

    /// The cache for `key`; `None` for a ring with no caches.
    pub fn cache_for(&self, key: &str) -> Option<u32> {
        let at = ring_point(key);
        let next = self.points.partition_point(|(point, _)| *point < at);
        self.points
            .get(next)
            .or_else(|| self.points.first())
            .map(|(_, cache)| *cache)
    }
}

/// How many of `keys` change cache going from `before` to `after` caches,
/// by the key's ring point modulo the count (P14's scheme with a better
/// hash) and by consistent hashing with `points_per_cache`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Moves {
    pub keys: usize,
    pub by_modulo: usize,
    pub by_ring: usize,
}

pub fn count_moves(keys: &[String], before: u32, after: u32, points_per_cache: u32) -> Moves {
    let modulo = |key: &str, n: u32| (n > 0).then(|| ring_point(key) % u64::from(n));
    let (old_ring, new_ring) = (
        Ring::new(before, points_per_cache),
        Ring::new(after, points_per_cache),
    );
    let moved = |same: &dyn Fn(&str) -> bool| keys.iter().filter(|k| !same(k)).count();
    Moves {
        keys: keys.len(),
        by_modulo: moved(&|k| modulo(k, before) == modulo(k, after)),
        by_ring: moved(&|k| old_ring.cache_for(k) == new_ring.cache_for(k)),
    }
}

/// `count` made-up URLs to measure [`count_moves`] on.
pub fn sample_urls(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("http://www.site{}.example/object{}.html", i % 97, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_sums_to_40_and_goes_to_cache_1() {
        assert_eq!(letter_values("aaabbb.com"), [1, 1, 1, 2, 2, 2, 3, 15, 13]);
        assert_eq!(letter_sum("aaabbb.com"), 40);
        assert_eq!(mod_cache("aaabbb.com", 3), Some(1));
    }

    #[test]
    fn p14_a_the_course_hosts_mod_3() {
        assert_eq!(letter_sum("umass.edu"), 103);
        assert_eq!(mod_cache("umass.edu", 3), Some(1));
        assert_eq!(letter_sum("eurecom.fr"), 104);
        assert_eq!(mod_cache("eurecom.fr", 3), Some(2));
        assert_eq!(letter_sum("upenn.edu"), 100);
        assert_eq!(mod_cache("upenn.edu", 3), Some(1));
        assert_eq!(mod_cache("UPenn.EDU", 3), Some(1), "case does not matter");
    }

    #[test]
    fn p14_c_upenn_moves_from_cache_1_to_cache_0_with_a_fourth_cache() {
        let placements = rehash_by_letters(&["upenn.edu"], 3, 4).expect("caches");
        assert_eq!(placements[0].before, 1);
        assert_eq!(placements[0].after, 0);
        assert!(placements[0].moved());
    }

    #[test]
    fn mod_3_to_mod_4_keeps_only_sums_whose_rest_mod_12_is_under_3() {
        let placements = rehash_by_letters(P14_HOSTS, 3, 4).expect("caches");
        for p in &placements {
            assert_eq!(!p.moved(), p.sum % 12 < 3, "{p:?}");
        }
        let moved = placements.iter().filter(|p| p.moved()).count();
        assert!(
            moved >= placements.len() / 2,
            "{moved} of {}",
            placements.len()
        );
    }

    #[test]
    fn no_caches_is_no_answer() {
        assert_eq!(mod_cache("umass.edu", 0), None);
        assert_eq!(rehash_by_letters(P14_HOSTS, 3, 0), None);
        assert_eq!(Ring::new(0, 100).cache_for("umass.edu"), None);
    }

    #[test]
    fn a_ring_gives_every_key_one_of_its_caches() {
        let ring = Ring::new(3, 100);
        let mut seen = [0usize; 3];
        for url in sample_urls(3000) {
            seen[ring.cache_for(&url).expect("a cache") as usize] += 1;
        }
        assert!(seen.iter().all(|n| (700..1300).contains(n)), "{seen:?}");
    }

    #[test]
    fn a_fourth_cache_on_the_ring_takes_keys_only_for_itself() {
        let (old, new) = (Ring::new(3, 100), Ring::new(4, 100));
        for url in sample_urls(2000) {
            let (before, after) = (old.cache_for(&url), new.cache_for(&url));
            assert!(
                before == after || after == Some(3),
                "{url}: {before:?} to {after:?}"
            );
        }
    }

    #[test]
    fn modulo_moves_about_3_4_of_the_keys_and_the_ring_about_1_4() {
        let moves = count_moves(&sample_urls(4000), 3, 4, 100);
        let share = |n: usize| n as f64 / moves.keys as f64;
        assert!((0.70..0.80).contains(&share(moves.by_modulo)), "{moves:?}");
        assert!((0.18..0.32).contains(&share(moves.by_ring)), "{moves:?}");
    }
}
