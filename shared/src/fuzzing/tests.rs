//! The fuzz bodies in the ordinary test suite: each over every file of its
//! checked-in corpus (the seeds, and inputs a fuzzing run saved or found),
//! and over proptest inputs. Also checks that the corpus, the targets of
//! the fuzz crate and [`super::TARGETS`] agree.

use super::{TARGETS, seeds};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn corpus_dir(target: &str) -> PathBuf {
    fuzz_dir().join("corpus").join(target)
}

/// The files of a target's corpus, in name order.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable corpus folder").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The CI half of fuzzing: every body over every input of its corpus,
/// each failure named with its target and file.
#[test]
fn every_body_holds_on_its_corpus() {
    let mut failures = Vec::new();
    let mut inputs = 0;
    for target in TARGETS {
        let files = corpus(target.name);
        assert!(!files.is_empty(), "no corpus for {}", target.name);
        for file in files {
            let data = std::fs::read(&file).expect("a readable corpus file");
            inputs += 1;
            if std::panic::catch_unwind(|| (target.body)(&data)).is_err() {
                failures.push(format!("{}: {}", target.name, file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz bodies failed on:\n{}",
        failures.join("\n")
    );
    assert!(inputs >= 2 * TARGETS.len());
}

/// The checked-in seeds are what [`seeds::all`] builds from the fixtures;
/// `WIRELAB_BLESS=1` rewrites them (and removes seeds no longer built).
#[test]
fn seed_corpus_is_up_to_date() {
    let bless = std::env::var_os("WIRELAB_BLESS").is_some();
    let seeds = seeds::all();
    let mut stale = Vec::new();
    for seed in &seeds {
        let path = corpus_dir(seed.target).join(format!("seed-{}", seed.name));
        if std::fs::read(&path).ok().as_deref() == Some(&seed.bytes[..]) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(path.parent().expect("in a folder")).expect("mkdir");
            std::fs::write(&path, &seed.bytes).expect("writing a seed");
        } else {
            stale.push(path.display().to_string());
        }
    }
    for target in TARGETS {
        for file in corpus(target.name) {
            let name = file
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            let Some(seed_name) = name.strip_prefix("seed-") else {
                continue;
            };
            let built = seeds
                .iter()
                .any(|s| s.target == target.name && s.name == seed_name);
            if built {
                continue;
            }
            if bless {
                std::fs::remove_file(&file).expect("removing a stale seed");
            } else {
                stale.push(format!("{} (no longer built)", file.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the seed corpus is out of date (WIRELAB_BLESS=1 or `cargo xtask fuzz --seed` rewrites it):\n{}",
        stale.join("\n")
    );
    let total: usize = seeds.iter().map(|s| s.bytes.len()).sum();
    assert!(
        total < 512 * 1024,
        "the seeds take {total} bytes: keep them small"
    );
}

/// Each body has its one-line libFuzzer binary and its `[[bin]]`, and the
/// fuzz crate has no binary without a body.
#[test]
fn every_target_has_its_libfuzzer_binary() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for target in TARGETS {
        let source = fuzz_dir()
            .join("fuzz_targets")
            .join(format!("{}.rs", target.name));
        let text = std::fs::read_to_string(&source)
            .unwrap_or_else(|_| panic!("{} is missing", source.display()));
        assert!(
            text.contains(&format!("\"{}\"", target.name)),
            "{} runs another body",
            source.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            target.name
        );
    }
    for entry in std::fs::read_dir(fuzz_dir().join("fuzz_targets")).expect("fuzz_targets") {
        let path = entry.expect("an entry").path();
        let stem = path
            .file_stem()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        assert!(
            super::target(&stem).is_some(),
            "{} has no body",
            path.display()
        );
    }
}

proptest! {
    #[test]
    fn fuzz_bodies_hold_on_random_input(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        for target in TARGETS {
            (target.body)(&data);
        }
    }

    #[test]
    fn fuzz_bodies_hold_on_protocol_like_input(lines in proptest::collection::vec(prop_oneof![
        Just("HELO crepes.fr".to_string()), Just("MAIL FROM:<alice@crepes.fr>".to_string()),
        Just("RCPT TO:<bob@hamburger.edu>".to_string()), Just("DATA".to_string()), Just(".".to_string()),
        Just("USER bob".to_string()), Just("PASS hungry".to_string()), Just("LIST".to_string()),
        Just("RETR 1".to_string()), Just("DELE 1".to_string()), Just("QUIT".to_string()),
        Just("Content-Type: multipart/mixed; boundary=b".to_string()), Just("--b".to_string()),
        Just("--b--".to_string()), Just("".to_string()), Just("+OK".to_string()), Just("250 ok".to_string()),
        "[ -~]{0,30}",
    ], 0..30), lf_only in any::<bool>()) {
        let sep = if lf_only { "\n" } else { "\r\n" };
        let data = lines.join(sep).into_bytes();
        super::smtp::smtp(&data);
        super::smtp::smtp_server(&data);
        super::pop3::pop3(&data);
        super::pop3::pop3_server(&data);
        super::mime::mail(&data);
    }

    #[test]
    fn dns_fuzz_body_holds_on_mutated_messages(
        flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..6),
        cut in 0usize..200,
    ) {
        // A real reply, damaged: closer to the interesting paths than noise.
        let mut data = Vec::new();
        data.extend_from_slice(&[0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 1, 0, 1]);
        data.extend_from_slice(b"\x04gaia\x02cs\x05umass\x03edu\x00\x00\x01\x00\x01");
        data.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 14, 16, 0, 4, 128, 119, 245, 12]);
        data.extend_from_slice(&[0xC0, 17, 0, 2, 0, 1, 0, 0, 14, 16, 0, 6, 3, b'd', b'n', b's', 0xC0, 17]);
        data.extend_from_slice(&[0xC0, 0x3F, 0, 1, 0, 1, 0, 0, 14, 16, 0, 4, 127, 0, 0, 21]);
        for (at, byte) in flips {
            if at < data.len() {
                data[at] = byte;
            }
        }
        data.truncate(cut.max(1));
        super::dns::dns(&data);
        super::dns::dns_server(&data);
    }
}
