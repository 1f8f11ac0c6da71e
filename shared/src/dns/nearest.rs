//! A CDN's redirection rule: of a name's addresses, the one "nearest" to
//! the client that asked. The lab's addresses all sit in 127.0.0.0/8, so
//! "near" is read off the addresses themselves, as routing does: the
//! replica whose address shares the longest leading run of bits with the
//! client's (its longest common prefix) is in the client's network, and
//! ties go to the address listed first in the zone. With the lab's
//! replicas, 127.0.0.80 (New York) and 127.1.0.80 (Paris), that makes
//! 127.0.x.x New York's region and 127.1.x.x Paris's; anything else
//! shares as many bits with both and gets the first, New York.
//!
//! A real CDN's map is built from BGP tables and measured round trips
//! (the textbook's §2.9.2); the rule here is that map reduced to the
//! address plan, so a student can predict the answer with `dig -b`.

use super::message::Record;
use super::rdata::RData;
use std::net::IpAddr;

/// How many leading bits `a` and `b` share; addresses of two families
/// share none.
pub fn common_prefix_bits(a: IpAddr, b: IpAddr) -> u32 {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (a.to_bits() ^ b.to_bits()).leading_zeros(),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits() ^ b.to_bits()).leading_zeros(),
        _ => 0,
    }
}

/// The address a record holds, for A and AAAA records.
fn address_of(record: &Record) -> Option<IpAddr> {
    match record.data {
        RData::A(a) => Some(IpAddr::V4(a)),
        RData::Aaaa(a) => Some(IpAddr::V6(a)),
        _ => None,
    }
}

/// Of an RRset, the one record nearest to `client` when the set is two or
/// more addresses; any other set is returned as it is.
pub fn nearest_to(client: IpAddr, records: Vec<Record>) -> Vec<Record> {
    if records.len() < 2 || records.iter().any(|r| address_of(r).is_none()) {
        return records;
    }
    let mut best: Option<(u32, Record)> = None;
    for record in records {
        let bits = address_of(&record).map_or(0, |a| common_prefix_bits(client, a));
        // Strictly longer only: on a tie the zone's order decides.
        if best.as_ref().is_none_or(|(most, _)| bits > *most) {
            best = Some((bits, record));
        }
    }
    best.map(|(_, r)| vec![r]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{Class, Name, RecordType};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn a(address: [u8; 4]) -> Record {
        Record {
            name: Name::parse("www.cdn.com").unwrap(),
            rtype: RecordType::A,
            class: Class::IN,
            ttl: 30,
            data: RData::A(Ipv4Addr::from(address)),
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn prefix_bits() {
        assert_eq!(common_prefix_bits(ip("127.0.0.1"), ip("127.0.0.1")), 32);
        assert_eq!(common_prefix_bits(ip("127.0.0.1"), ip("127.0.0.80")), 25);
        assert_eq!(common_prefix_bits(ip("127.0.0.1"), ip("127.1.0.80")), 15);
        assert_eq!(common_prefix_bits(ip("0.0.0.0"), ip("128.0.0.0")), 0);
        assert_eq!(common_prefix_bits(ip("::1"), ip("127.0.0.1")), 0);
        assert_eq!(
            common_prefix_bits(IpAddr::V6(Ipv6Addr::LOCALHOST), ip("::1")),
            128
        );
    }

    #[test]
    fn each_region_gets_its_replica_and_strangers_the_first() {
        let replicas = || vec![a([127, 0, 0, 80]), a([127, 1, 0, 80])];
        let pick = |client: &str| nearest_to(ip(client), replicas());
        assert_eq!(pick("127.0.0.1"), vec![a([127, 0, 0, 80])]);
        assert_eq!(pick("127.0.200.9"), vec![a([127, 0, 0, 80])]);
        assert_eq!(pick("127.1.0.7"), vec![a([127, 1, 0, 80])]);
        assert_eq!(pick("127.1.255.255"), vec![a([127, 1, 0, 80])]);
        // 127.2 and 127.3 share 14 bits with both: the first listed.
        assert_eq!(pick("127.2.0.1"), vec![a([127, 0, 0, 80])]);
        let reversed = vec![a([127, 1, 0, 80]), a([127, 0, 0, 80])];
        assert_eq!(
            nearest_to(ip("127.2.0.1"), reversed),
            vec![a([127, 1, 0, 80])]
        );
        // An IPv6 client shares nothing with either: the first listed.
        assert_eq!(pick("::1"), vec![a([127, 0, 0, 80])]);
    }

    #[test]
    fn sets_that_are_not_several_addresses_pass_through() {
        let one = vec![a([127, 1, 0, 80])];
        assert_eq!(nearest_to(ip("127.0.0.1"), one.clone()), one);
        assert!(nearest_to(ip("127.0.0.1"), Vec::new()).is_empty());
        let mut alias = a([127, 0, 0, 80]);
        alias.rtype = RecordType::CNAME;
        alias.data = RData::Cname(Name::parse("x.cdn.com").unwrap());
        let mixed = vec![alias, a([127, 1, 0, 80])];
        assert_eq!(nearest_to(ip("127.1.0.1"), mixed.clone()), mixed);
    }
}
