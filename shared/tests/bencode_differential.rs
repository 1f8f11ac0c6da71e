//! Bencode against serde_bencode (a trusted implementation, dev-dependency
//! only) and against itself: generated values write the same bytes as
//! serde_bencode writes and read back to themselves, every strict prefix
//! is refused as truncated, and whatever bytes we accept serde_bencode
//! reads to the same value.

use proptest::prelude::*;
use serde_bencode::value::Value as Theirs;
use wirelab_shared::bittorrent::bencode::{self, Kind, Reason, Value};

fn theirs(v: &Value) -> Theirs {
    match &v.kind {
        Kind::Int(n) => Theirs::Int(*n),
        Kind::Bytes(b) => Theirs::Bytes(b.clone()),
        Kind::List(items) => Theirs::List(items.iter().map(theirs).collect()),
        Kind::Dict(entries) => Theirs::Dict(
            entries
                .iter()
                .map(|e| (e.key.clone(), theirs(&e.value)))
                .collect(),
        ),
    }
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::int),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::bytes),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::list),
            proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..8), inner), 0..6)
                .prop_map(Value::dict),
        ]
    })
}

proptest! {
    #[test]
    fn generated_values_write_what_serde_bencode_writes_and_read_back(v in value()) {
        let ours = v.encode();
        prop_assert_eq!(&ours, &serde_bencode::to_bytes(&theirs(&v)).unwrap());
        let parsed = bencode::parse_default(&ours).unwrap();
        prop_assert!(parsed.irregular_keys.is_empty());
        prop_assert_eq!(parsed.value.without_spans(), v.clone());
        prop_assert_eq!(parsed.value.span.len(), ours.len());
        let read_by_them: Theirs = serde_bencode::from_bytes(&ours).unwrap();
        prop_assert_eq!(read_by_them, theirs(&v));
    }

    #[test]
    fn every_strict_prefix_is_truncated(v in value()) {
        let wire = v.encode();
        for end in 0..wire.len() {
            let err = bencode::parse_default(&wire[..end]).unwrap_err();
            prop_assert!(
                matches!(err.reason, Reason::Truncated | Reason::BadLength | Reason::BadInteger),
                "{:?} at {}", err, end
            );
        }
    }

    #[test]
    fn what_we_accept_serde_bencode_reads_alike(bytes in proptest::collection::vec(
        prop_oneof![Just(b'i'), Just(b'e'), Just(b'l'), Just(b'd'), Just(b':'), Just(b'-'), b'0'..=b'9', any::<u8>()],
        0..40,
    )) {
        if let Ok(parsed) = bencode::parse_default(&bytes)
            && parsed.irregular_keys.is_empty()
        {
            let read_by_them: Theirs = serde_bencode::from_bytes(&bytes).unwrap();
            prop_assert_eq!(read_by_them, theirs(&parsed.value));
        }
    }
}

#[test]
fn the_lab_torrent_reads_alike() {
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bittorrent/lab.torrent"
    ))
    .unwrap();
    let ours = bencode::parse_default(&file).unwrap().value;
    let read_by_them: Theirs = serde_bencode::from_bytes(&file).unwrap();
    assert_eq!(read_by_them, theirs(&ours));
}
