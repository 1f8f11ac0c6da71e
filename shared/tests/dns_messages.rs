//! DNS messages: known answers for the course's examples (byte for byte,
//! flags bit by bit), proptest round trips, and a differential test against
//! hickory-proto on generated messages and on every reply of the lab's
//! hierarchy.

use hickory_proto::op::Message as HMessage;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use wirelab_shared::dns::dissect::{dissect, dissect_tcp};
use wirelab_shared::dns::hierarchy::{self, SERVERS};
use wirelab_shared::dns::message::Edns;
use wirelab_shared::dns::query::{QuerySpec, parse_one_liner};
use wirelab_shared::dns::rdata::EdnsOption;
use wirelab_shared::dns::server::{Authority, Via};
use wirelab_shared::dns::{Class, Message, Name, Question, RData, Record, RecordType};

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn authority(catalog: &str) -> Arc<Authority> {
    Arc::new(hierarchy::server(catalog).unwrap().default_authority())
}

fn ask(catalog: &str, one_liner: &str) -> (Vec<u8>, Vec<u8>) {
    let query = parse_one_liner(one_liner, 0x1234).unwrap().to_bytes();
    let reply = authority(catalog).answer(&query, Via::Udp).unwrap();
    (query, reply)
}

/// The course's query, `gaia.cs.umass.edu A +norecurse`, byte for byte.
#[test]
fn the_course_query_byte_for_byte() {
    let bytes = parse_one_liner("gaia.cs.umass.edu A +norecurse", 0x1234)
        .unwrap()
        .to_bytes();
    let expected: Vec<u8> = [
        &[0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0][..],
        b"\x04gaia\x02cs\x05umass\x03edu\x00",
        &[0, 1, 0, 1],
    ]
    .concat();
    assert_eq!(bytes, expected);
    let d = dissect(&bytes);
    assert!(d.check_invariants(true).is_empty());
    assert_eq!(d.summary, "Query 0x1234: A? gaia.cs.umass.edu. []");
    assert!(d.diagnostics.is_empty());
    let labels: Vec<&str> = d
        .walk()
        .filter(|f| f.name == "Label")
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(
        labels,
        ["4 \"gaia\"", "2 \"cs\"", "5 \"umass\"", "3 \"edu\""]
    );
}

/// Every flag alone, on the wire and in the dissection: the byte it lives
/// in, and its bit picture.
#[test]
fn each_flag_bit_on_the_wire_and_in_the_tree() {
    type SetFlag = fn(&mut Message);
    let cases: [(&str, SetFlag, u16, &str); 9] = [
        (
            "QR (query/response)",
            |m| m.header.qr = true,
            0x8000,
            "1... .... .... .... = 1",
        ),
        (
            "Opcode",
            |m| m.header.opcode = 2,
            0x1000,
            ".001 0... .... .... = 2",
        ),
        (
            "AA (authoritative answer)",
            |m| m.header.aa = true,
            0x0400,
            ".... .1.. .... .... = 1",
        ),
        (
            "TC (truncated)",
            |m| m.header.tc = true,
            0x0200,
            ".... ..1. .... .... = 1",
        ),
        (
            "RD (recursion desired)",
            |m| m.header.rd = true,
            0x0100,
            ".... ...1 .... .... = 1",
        ),
        (
            "RA (recursion available)",
            |m| m.header.ra = true,
            0x0080,
            ".... .... 1... .... = 1",
        ),
        (
            "Z (reserved)",
            |m| m.header.z = true,
            0x0040,
            ".... .... .1.. .... = 1",
        ),
        (
            "AD (authentic data)",
            |m| m.header.ad = true,
            0x0020,
            ".... .... ..1. .... = 1",
        ),
        (
            "CD (checking disabled)",
            |m| m.header.cd = true,
            0x0010,
            ".... .... ...1 .... = 1",
        ),
    ];
    for (name, set, word, picture) in cases {
        let mut m = Message::query(0, Question::new(n("a.b"), RecordType::A), false);
        set(&mut m);
        let bytes = m.to_bytes();
        assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]), word, "{name}");
        let d = dissect(&bytes);
        let field = d.find(name).unwrap();
        assert!(field.value.starts_with(picture), "{name}: {}", field.value);
        let byte = if word >= 0x0100 { 2 } else { 3 };
        assert_eq!(
            (field.span.start, field.span.end),
            (byte, byte + 1),
            "{name}"
        );
        // Every other flag reads 0.
        for other in d
            .find("Flags")
            .unwrap()
            .children
            .iter()
            .filter(|f| f.name != name)
        {
            assert!(
                other.value.contains("= 0"),
                "{name} lit {}: {}",
                other.name,
                other.value
            );
        }
    }
    let mut m = Message::query(0, Question::new(n("a.b"), RecordType::A), false);
    m.header.rcode = 3;
    let d = dissect(&m.to_bytes());
    assert!(
        d.find("RCODE (response code)")
            .unwrap()
            .value
            .starts_with(".... .... .... 0011 = 3: NXDOMAIN")
    );
}

/// Every record of the course's examples, served by the lab and dissected.
#[test]
fn the_course_records_served_and_dissected() {
    let cases: &[(&str, &str, &str)] = &[
        // Root refers the course's query to edu, with glue.
        (
            "dns-root",
            "gaia.cs.umass.edu A +norecurse",
            "referral to edu.: ask a.edu-servers.net. (127.0.0.11)",
        ),
        (
            "dns-edu",
            "gaia.cs.umass.edu A +norecurse",
            "referral to umass.edu.: ask dns.cs.umass.edu. (127.0.0.21), dns.umass.edu. (127.0.0.20)",
        ),
        (
            "dns-umass",
            "gaia.cs.umass.edu A +norecurse",
            "referral to cs.umass.edu.: ask dns.cs.umass.edu. (127.0.0.21)",
        ),
        (
            "dns-cs-umass",
            "gaia.cs.umass.edu A +norecurse",
            "A 128.119.245.12",
        ),
        // (networkutopia.com, dns1.networkutopia.com, NS) and its glue in com.
        (
            "dns-com",
            "networkutopia.com NS +norecurse",
            "referral to networkutopia.com.: ask dns1.networkutopia.com. (127.212.212.1)",
        ),
        (
            "dns-networkutopia",
            "networkutopia.com MX",
            "MX 10 mail.networkutopia.com.",
        ),
        (
            "dns-networkutopia",
            "www.networkutopia.com A",
            "A 212.212.212.2",
        ),
        // www.ibm.com is really servereast.backup2.ibm.com.
        (
            "dns-ibm",
            "www.ibm.com CNAME",
            "CNAME servereast.backup2.ibm.com.",
        ),
        (
            "dns-hamburger",
            "hamburger.edu MX",
            "MX 10 mail.hamburger.edu., MX 20 backup.hamburger.edu.",
        ),
        ("dns-crepes", "crepes.fr MX", "MX 10 mail.crepes.fr."),
        ("dns-someschool", "www.someschool.edu A", "A 192.0.2.80"),
        (
            "dns-cs-umass",
            "nobody.cs.umass.edu A",
            "NXDOMAIN: no such name",
        ),
        (
            "dns-cs-umass",
            "gaia.cs.umass.edu SRV",
            "NODATA: the name exists but has no such record",
        ),
    ];
    let mut records_checked = 0;
    for (catalog, line, expected) in cases {
        let (query, reply) = ask(catalog, line);
        let d = wirelab_shared::dns::dissect::dissect_reply(&query, &reply);
        assert!(d.check_invariants(true).is_empty(), "{catalog} {line}");
        assert!(
            d.diagnostics.is_empty(),
            "{catalog} {line}: {:?}",
            d.diagnostics
        );
        assert!(
            d.summary.ends_with(expected),
            "{catalog} {line}: {}",
            d.summary
        );
        // Each record shows its TYPE, CLASS, TTL, RDLENGTH and RDATA.
        for section in ["Answer section", "Authority section", "Additional section"] {
            if let Some(s) = d.find(section) {
                for record in &s.children {
                    let names: Vec<&str> =
                        record.children.iter().map(|f| f.name.as_str()).collect();
                    if names.contains(&"UDP payload size") {
                        continue;
                    }
                    assert_eq!(
                        names,
                        ["Name", "TYPE", "CLASS", "TTL", "RDLENGTH", "RDATA"],
                        "{line}"
                    );
                    records_checked += 1;
                }
            }
        }
    }
    // The sections were found (a renamed one would skip the check above).
    assert!(records_checked >= cases.len(), "{records_checked} records");
    // The ID of a reply must match: a wrong one is an error in the pair.
    let (query, mut reply) = ask("dns-root", ". NS");
    reply[1] ^= 1;
    let d = wirelab_shared::dns::dissect::dissect_reply(&query, &reply);
    assert!(d.diagnostics[0].message.contains("does not match"));
    // Over TCP, with the length prefix.
    let framed = wirelab_shared::dns::frame::tcp_wrap(&ask("dns-ibm", "www.ibm.com A").1);
    let d = dissect_tcp(&framed);
    assert!(d.check_invariants(true).is_empty());
    assert_eq!(
        d.find("Length").unwrap().value,
        format!("{} bytes", framed.len() - 2)
    );
}

fn arb_name() -> impl Strategy<Value = Name> {
    proptest::collection::vec("[a-z0-9-]{1,12}", 0..5).prop_map(|labels| {
        Name::from_labels(labels.into_iter().map(String::into_bytes).collect()).unwrap()
    })
}

fn arb_rdata() -> impl Strategy<Value = (RecordType, RData)> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| (RecordType::A, RData::A(Ipv4Addr::from(a)))),
        any::<[u8; 16]>().prop_map(|a| (RecordType::AAAA, RData::Aaaa(Ipv6Addr::from(a)))),
        arb_name().prop_map(|n| (RecordType::NS, RData::Ns(n))),
        arb_name().prop_map(|n| (RecordType::CNAME, RData::Cname(n))),
        arb_name().prop_map(|n| (RecordType::PTR, RData::Ptr(n))),
        (any::<u16>(), arb_name()).prop_map(|(p, n)| (
            RecordType::MX,
            RData::Mx {
                preference: p,
                exchange: n
            }
        )),
        (arb_name(), arb_name(), any::<[u32; 5]>()).prop_map(|(m, r, v)| (
            RecordType::SOA,
            RData::Soa {
                mname: m,
                rname: r,
                serial: v[0],
                refresh: v[1],
                retry: v[2],
                expire: v[3],
                minimum: v[4]
            }
        )),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..4)
            .prop_map(|t| (RecordType::TXT, RData::Txt(t))),
        (any::<[u16; 3]>(), arb_name()).prop_map(|(v, n)| (
            RecordType::SRV,
            RData::Srv {
                priority: v[0],
                weight: v[1],
                port: v[2],
                target: n
            }
        )),
        (
            any::<u8>(),
            "[a-z]{1,10}",
            proptest::collection::vec(any::<u8>(), 0..30)
        )
            .prop_map(|(f, t, v)| (
                RecordType::CAA,
                RData::Caa {
                    flags: f,
                    tag: t.into_bytes(),
                    value: v
                }
            )),
        (1000u16..2000, proptest::collection::vec(any::<u8>(), 1..30))
            .prop_map(|(t, b)| (RecordType(t), RData::Unknown(b))),
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    (arb_name(), 0u32..0x7FFF_FFFF, arb_rdata()).prop_map(|(name, ttl, (rtype, data))| Record {
        name,
        rtype,
        class: Class::IN,
        ttl,
        data,
    })
}

fn arb_message() -> impl Strategy<Value = Message> {
    (
        any::<u16>(),
        any::<[bool; 8]>(),
        0u8..6,
        proptest::collection::vec((arb_name(), 1u16..300), 0..2),
        proptest::collection::vec(arb_record(), 0..5),
        proptest::collection::vec(arb_record(), 0..4),
        proptest::collection::vec(arb_record(), 0..4),
        proptest::option::of((512u16..4096, any::<bool>())),
    )
        .prop_map(|(id, f, rcode, qs, an, ns, ar, edns)| {
            let mut m = Message::default();
            m.header.id = id;
            m.header.qr = f[0];
            m.header.aa = f[1];
            m.header.tc = f[2];
            m.header.rd = f[3];
            m.header.ra = f[4];
            m.header.ad = f[5];
            m.header.cd = f[6];
            m.header.rcode = rcode;
            m.questions = qs
                .into_iter()
                .map(|(name, t)| Question::new(name, RecordType(t)))
                .collect();
            m.answers = an;
            m.authority = ns;
            m.additional = ar;
            if let Some((size, dnssec_ok)) = edns {
                m.set_edns(Some(Edns {
                    udp_size: size,
                    dnssec_ok,
                    options: vec![EdnsOption {
                        code: 10,
                        data: vec![7; 8],
                    }],
                    ..Edns::default()
                }));
            }
            let mut bytes_ok = m.clone();
            bytes_ok.header.qdcount = m.questions.len() as u16;
            bytes_ok.header.ancount = m.answers.len() as u16;
            bytes_ok.header.nscount = m.authority.len() as u16;
            bytes_ok.header.arcount = m.additional.len() as u16;
            bytes_ok
        })
}

/// Our projection of a hickory message, to compare with ours.
type View = (
    u16,
    [bool; 7],
    Vec<(Vec<Vec<u8>>, u16)>,
    Vec<(Vec<Vec<u8>>, u16, u32)>,
);

fn labels_of(name: &hickory_proto::rr::Name) -> Vec<Vec<u8>> {
    name.iter().map(|l| l.to_ascii_lowercase()).collect()
}

fn our_labels(name: &Name) -> Vec<Vec<u8>> {
    name.labels()
        .iter()
        .map(|l| l.to_ascii_lowercase())
        .collect()
}

fn hickory_view(h: &HMessage) -> View {
    let md = &h.metadata;
    let flags = [
        md.message_type == hickory_proto::op::MessageType::Response,
        md.authoritative,
        md.truncation,
        md.recursion_desired,
        md.recursion_available,
        md.authentic_data,
        md.checking_disabled,
    ];
    let qs = h
        .queries
        .iter()
        .map(|q| (labels_of(q.name()), u16::from(q.query_type())))
        .collect();
    let rs = h
        .answers
        .iter()
        .chain(&h.authorities)
        .chain(&h.additionals)
        .map(|r| (labels_of(&r.name), u16::from(r.record_type()), r.ttl))
        .collect();
    (md.id, flags, qs, rs)
}

fn our_view(m: &Message) -> View {
    let h = &m.header;
    let qs = m
        .questions
        .iter()
        .map(|q| (our_labels(&q.name), q.qtype.0))
        .collect();
    let rs = m
        .answers
        .iter()
        .chain(&m.authority)
        .chain(&m.additional)
        .filter(|r| r.rtype != RecordType::OPT)
        .map(|r| (our_labels(&r.name), r.rtype.0, r.ttl))
        .collect();
    (h.id, [h.qr, h.aa, h.tc, h.rd, h.ra, h.ad, h.cd], qs, rs)
}

/// Both ways: hickory reads what we write, and we read what hickory
/// writes, to the same message.
fn differential(m: &Message) {
    let ours = m.to_bytes();
    let h = HMessage::from_vec(&ours)
        .unwrap_or_else(|e| panic!("hickory refuses our bytes: {e}\n{}", m.to_text()));
    assert_eq!(hickory_view(&h), our_view(m));
    let edns = m.edns();
    assert_eq!(
        h.edns.as_ref().map(|e| e.max_payload()),
        edns.as_ref().map(|e| e.udp_size.max(512))
    );
    let theirs = h.to_vec().unwrap();
    let back = Message::parse(&theirs).unwrap_or_else(|e| panic!("we refuse hickory's bytes: {e}"));
    let strip = |m: &Message| {
        let mut m = m.clone();
        m.set_edns(None);
        m
    };
    assert_eq!(strip(&back).answers, strip(m).answers);
    assert_eq!(strip(&back).authority, strip(m).authority);
    assert_eq!(strip(&back).additional, strip(m).additional);
    assert_eq!(back.questions, m.questions);
    assert_eq!(back.header.id, m.header.id);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn messages_round_trip(m in arb_message()) {
        let bytes = m.to_bytes();
        let back = Message::parse(&bytes).unwrap();
        prop_assert_eq!(&back, &m);
        let d = dissect(&bytes);
        prop_assert!(d.check_invariants(true).is_empty(), "{:?}", d.check_invariants(true));
        // Truncation keeps a parseable message within the limit.
        for limit in [512usize, 100, 12] {
            let cut = m.to_bytes_within(limit);
            prop_assert!(cut.len() <= limit.max(12));
            prop_assert!(Message::parse(&cut).is_ok());
        }
    }

    #[test]
    fn hickory_agrees_on_generated_messages(m in arb_message()) {
        differential(&m);
    }

    #[test]
    fn one_liners_round_trip(
        name in arb_name(),
        t in prop_oneof![Just("A"), Just("AAAA"), Just("MX"), Just("NS"), Just("TXT"), Just("SOA")],
        rd in any::<bool>(),
        tcp in any::<bool>(),
        id in any::<u16>(),
    ) {
        // Like dig, a word starting with '-' is an option, not a name.
        prop_assume!(!name.to_string().starts_with('-'));
        let line = format!(
            "{} {t}{}{} +id={id}",
            if name.is_root() { ".".to_string() } else { name.to_string() },
            if rd { "" } else { " +norecurse" },
            if tcp { " +tcp" } else { "" }
        );
        let spec = parse_one_liner(&line, 0).unwrap();
        prop_assert_eq!(&spec.name, &name);
        prop_assert_eq!(spec.recursion_desired, rd);
        let again = parse_one_liner(&spec.to_one_liner(), 1).unwrap();
        prop_assert_eq!(again, spec);
    }
}

/// Every reply the hierarchy gives to a set of real questions parses the
/// same in hickory.
#[test]
fn hickory_agrees_on_every_server_reply() {
    let questions = [
        ". NS",
        ". SOA",
        "gaia.cs.umass.edu A",
        "gaia.cs.umass.edu AAAA",
        "www.ibm.com A",
        "hamburger.edu MX",
        "crepes.fr CAA",
        "_smtp._tcp.hamburger.edu SRV",
        "nobody.org A",
        "networkutopia.com NS",
        "dns1.networkutopia.com TXT",
        "umass.edu SOA",
        "cs.umass.edu TXT",
        "www-net.cs.umass.edu A",
        "cis.poly.edu A +bufsize=1232 +dnssec",
    ];
    let mut checked = 0;
    for s in SERVERS {
        for q in questions {
            let query = parse_one_liner(q, 7).unwrap().to_bytes();
            let Some(reply) = authority(s.catalog).answer(&query, Via::Udp) else {
                continue;
            };
            let ours = Message::parse(&reply).unwrap();
            differential(&ours);
            let h = HMessage::from_vec(&reply).unwrap();
            assert_eq!(hickory_view(&h), our_view(&ours), "{} {q}", s.catalog);
            checked += 1;
        }
    }
    assert_eq!(checked, SERVERS.len() * questions.len());
}

#[test]
fn query_builder_flags() {
    let spec = QuerySpec {
        checking_disabled: true,
        authentic_data: true,
        edns: Some(4096),
        dnssec_ok: true,
        ..QuerySpec::new(n("crepes.fr"), RecordType::MX, 99)
    };
    let m = Message::parse(&spec.to_bytes()).unwrap();
    assert!(m.header.cd && m.header.ad && m.header.rd);
    let e = m.edns().unwrap();
    assert!(e.dnssec_ok);
    assert_eq!(e.udp_size, 4096);
    let next = spec.next_hop(100);
    assert!(!next.recursion_desired);
    assert_eq!(next.id, 100);
}
