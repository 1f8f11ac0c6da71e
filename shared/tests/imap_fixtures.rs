//! The IMAP fixtures (`fixtures/imap/`): RFC 9051's examples parse, write
//! back to bytes that parse the same, and dissect with every byte covered
//! and no error; each `bad-*` fixture is dissected with an error instead.

mod common;

use common::fixture_dir;
use wirelab_shared::Dissection;
use wirelab_shared::dissect::Severity;
use wirelab_shared::imap::command::Command;
use wirelab_shared::imap::dissect::{dissect_command, dissect_response};
use wirelab_shared::imap::response::Response;

fn files(extension: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(fixture_dir("imap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The warnings and errors.
fn errors(d: &Dissection) -> Vec<&str> {
    d.diagnostics
        .iter()
        .filter(|x| x.severity >= Severity::Warning)
        .map(|x| x.message.as_str())
        .collect()
}

fn check_all<T: PartialEq + std::fmt::Debug>(
    extension: &str,
    parse: impl Fn(&[u8]) -> Result<T, wirelab_shared::imap::syntax::SyntaxError>,
    write: impl Fn(&T) -> Vec<u8>,
    dissect: fn(&[u8]) -> Dissection,
) -> (usize, usize) {
    let (mut good, mut bad) = (0, 0);
    for (name, bytes) in files(extension) {
        let d = dissect(&bytes);
        if name.starts_with("bad-") {
            bad += 1;
            assert!(d.check_invariants(false).is_empty(), "{name}");
            assert!(
                !errors(&d).is_empty(),
                "{name}: no error in {:?}",
                d.diagnostics
            );
            assert!(parse(&bytes).is_err(), "{name} parses");
            continue;
        }
        good += 1;
        assert!(
            d.check_invariants(true).is_empty(),
            "{name}: {:?}",
            d.check_invariants(true)
        );
        assert!(errors(&d).is_empty(), "{name}: {:?}", d.diagnostics);
        if name == "idle-done" {
            assert!(d.find("End of IDLE").is_some());
            continue;
        }
        let value = parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e} at {}", e.span));
        let written = write(&value);
        assert_eq!(parse(&written).as_ref(), Ok(&value), "{name}");
        assert_eq!(
            written, bytes,
            "{name}: the RFC's bytes are the canonical form"
        );
    }
    (good, bad)
}

#[test]
fn rfc_commands_parse_round_trip_and_dissect() {
    let (good, bad) = check_all(
        "imap-command",
        Command::parse,
        Command::to_bytes,
        dissect_command,
    );
    assert!(good >= 30 && bad >= 8, "{good} good, {bad} bad");
}

#[test]
fn rfc_responses_parse_round_trip_and_dissect() {
    let (good, bad) = check_all(
        "imap-response",
        Response::parse,
        Response::to_bytes,
        dissect_response,
    );
    assert!(good >= 25 && bad >= 2, "{good} good, {bad} bad");
}
