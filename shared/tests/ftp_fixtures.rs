//! Golden fixtures for the FTP dissectors (`tests/fixtures/ftp/`): the
//! course's own commands and replies (331, 125, 425 as printed, with its
//! typographic apostrophe, 452) and real servers' messages. Each `*.cmd`,
//! `*.reply` and `*.list` file is dissected and compared with the JSON next
//! to it; `WIRELAB_BLESS=1 cargo test` rewrites the JSON after a deliberate
//! change (review the diff).

use std::path::{Path, PathBuf};
use wirelab_shared::{Dissection, Severity, kinds};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ftp")
}

fn dissect(path: &Path) -> Dissection {
    let bytes = std::fs::read(path).unwrap();
    let kind = match path.extension().and_then(|e| e.to_str()) {
        Some("cmd") => "ftp-command",
        Some("reply") => "ftp-reply",
        Some("list") => "ftp-list",
        other => panic!("unknown fixture type {other:?}"),
    };
    kinds::dissect(kind, &bytes).unwrap()
}

fn fixture(name: &str) -> Dissection {
    dissect(&fixtures().join(name))
}

#[test]
fn every_fixture_matches_its_golden_json() {
    let bless = std::env::var_os("WIRELAB_BLESS").is_some();
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .collect();
    entries.sort();
    for path in entries {
        let d = dissect(&path);
        assert!(
            d.check_invariants(false).is_empty(),
            "{}: {:?}",
            path.display(),
            d.check_invariants(false)
        );
        let json = serde_json::to_string_pretty(&d).unwrap() + "\n";
        let golden = path.with_extension(format!(
            "{}.json",
            path.extension().unwrap().to_str().unwrap()
        ));
        if bless {
            std::fs::write(&golden, &json).unwrap();
        } else {
            // A fixture without its JSON fails: writing it here would make
            // the first run pass whatever the dissector does.
            let expected = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
                panic!(
                    "{} has no {} (WIRELAB_BLESS=1 writes it; review it)",
                    path.display(),
                    golden.display()
                )
            });
            assert_eq!(
                json,
                expected,
                "{} changed (WIRELAB_BLESS=1 to accept)",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures");
}

#[test]
fn the_course_replies() {
    let d = fixture("course-331.reply");
    assert_eq!(d.summary, "331 Username OK, password required");
    assert!(d.diagnostics.is_empty());
    assert!(d.check_invariants(true).is_empty());
    assert_eq!(
        d.find("Reply code").unwrap().value,
        "331 (User name okay, need password)"
    );

    let d = fixture("course-125.reply");
    assert_eq!(
        d.find("First digit").unwrap().value,
        "1 = Positive Preliminary"
    );
    assert_eq!(d.find("Second digit").unwrap().value, "2 = Connections");

    // The slide prints a typographic apostrophe: explained, not an error.
    let d = fixture("course-425.reply");
    assert_eq!(d.diagnostics.len(), 1);
    assert_eq!(d.diagnostics[0].severity, Severity::Note);
    assert!(d.diagnostics[0].message.contains("7-bit ASCII"));
    assert!(d.check_invariants(true).is_empty());

    let d = fixture("course-452.reply");
    assert_eq!(
        d.find("First digit").unwrap().value,
        "4 = Transient Negative Completion"
    );
    assert_eq!(d.find("Second digit").unwrap().value, "5 = File system");
}

#[test]
fn the_course_commands() {
    for (name, verb) in [
        ("course-user.cmd", "USER"),
        ("course-pass.cmd", "PASS"),
        ("course-list.cmd", "LIST"),
        ("course-retr.cmd", "RETR"),
        ("course-stor.cmd", "STOR"),
    ] {
        let d = fixture(name);
        assert_eq!(d.find("Verb").unwrap().value, verb);
        assert!(d.check_invariants(true).is_empty(), "{name}");
        // Only PASS earns a note: the password travels in clear text.
        let expected = usize::from(verb == "PASS");
        assert_eq!(d.diagnostics.len(), expected, "{name}: {:?}", d.diagnostics);
    }
}

#[test]
fn addresses_and_listings() {
    let d = fixture("port.cmd");
    assert_eq!(d.find("Port").unwrap().value, "40555 (158*256+107 = 40555)");
    let d = fixture("port-malformed.cmd");
    assert_eq!(d.worst(), Some(Severity::Error));
    assert!(d.diagnostics[0].message.contains("found 5"));
    let d = fixture("pasv.reply");
    assert_eq!(d.find("Port").unwrap().value, "21001 (82*256+9 = 21001)");
    assert!(d.check_invariants(true).is_empty());
    let d = fixture("feat.reply");
    assert_eq!(d.fields[0].name, "Multi-line reply");
    assert_eq!(d.fields[0].children.len(), 7);
    let d = fixture("reference-server.list");
    assert_eq!(d.summary, "Listing: 1 directories, 2 files");
    assert!(d.check_invariants(true).is_empty());
    let d = fixture("other-servers.list");
    assert_eq!(
        d.summary,
        "Listing: 1 directories, 0 files, 1 other entries"
    );
    assert!(
        d.diagnostics
            .iter()
            .any(|x| x.message.contains("not a Unix ls -l line"))
    );
    assert!(d.diagnostics.iter().any(|x| x.message.contains("bare LF")));
    let d = fixture("abor-telnet.cmd");
    assert_eq!(d.find("Telnet commands").unwrap().value, "ff f4 ff f2");
    assert_eq!(d.find("Verb").unwrap().value, "ABOR");
    assert!(
        d.diagnostics.is_empty(),
        "Telnet bytes are not a text problem"
    );
}
