//! BitTorrent against the fixtures of `fixtures/bittorrent/`, written by
//! an independent Python bencoder (see its README): the info hashes and
//! piece hashes we compute are Python's, every byte of a well-formed file
//! is under a leaf, and each `bad-` file is diagnosed, not accepted.

use std::path::{Path, PathBuf};
use wirelab_shared::bittorrent::announce::AnnounceReply;
use wirelab_shared::bittorrent::dissect::{dissect_torrent, dissect_tracker_reply, dissect_wire};
use wirelab_shared::bittorrent::metainfo::{Metainfo, sha1};
use wirelab_shared::kinds;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bittorrent")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn info_hashes_are_pythons() {
    let lab = Metainfo::parse(&read("lab.torrent")).unwrap();
    assert_eq!(
        hex(&lab.info_hash),
        "5f913df5940c0a9733be181289d51f5aafd7fecb"
    );
    assert_eq!((lab.info.length, lab.info.pieces.len()), (40000, 3));
    let data: Vec<u8> = (0..40000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(
        hex(&sha1(&data)),
        "f1e503cc0ec9b2cbfdea53137279a8bd4be5dd75"
    );
    for (i, piece) in data.chunks(16384).enumerate() {
        assert!(lab.info.verify(i, piece), "piece {i}");
    }
    let multi = Metainfo::parse(&read("multi-file.torrent")).unwrap();
    assert_eq!(
        hex(&multi.info_hash),
        "c602cd094f2b022dd6837c0650937fc13541062e"
    );
    assert_eq!(multi.info.length, 10240 + 1200);
}

#[test]
fn well_formed_fixtures_are_covered_and_clean_bad_ones_diagnosed() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".json") && !n.ends_with(".md"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let kind = kinds::find(name.rsplit('.').next().unwrap()).unwrap();
        let d = (kind.dissect)(&read(&name));
        if name.starts_with("bad-") {
            assert!(!d.diagnostics.is_empty(), "{name}: no diagnostic");
            assert!(d.check_invariants(false).is_empty(), "{name}");
        } else {
            assert!(d.diagnostics.is_empty(), "{name}: {:?}", d.diagnostics);
            assert_eq!(d.check_invariants(true), Vec::<String>::new(), "{name}");
        }
    }
}

#[test]
fn the_wire_fixture_is_every_message_in_order() {
    let d = dissect_wire(&read("download.peer-wire"), 3);
    assert_eq!(
        d.summary,
        "handshake, bitfield, interested, unchoke, request, piece, have, cancel, not interested, choke, keep-alive"
    );
    let lab = Metainfo::parse(&read("lab.torrent")).unwrap();
    assert_eq!(d.find("Info hash").unwrap().value, hex(&lab.info_hash));
}

#[test]
fn replies_read_the_same_as_they_dissect() {
    let bytes = read("compact.tracker-reply");
    let Ok(AnnounceReply::Peers { peers, .. }) = AnnounceReply::parse(&bytes) else {
        panic!()
    };
    let d = dissect_tracker_reply(&bytes);
    for (i, p) in peers.iter().enumerate() {
        assert_eq!(
            d.find(&format!("Peer {}", i + 1)).unwrap().value,
            p.addr.to_string()
        );
    }
    let t = dissect_torrent(&read("bad-too-deep.torrent"));
    assert_eq!(t.diagnostics[0].message, "nested deeper than the limit");
}
