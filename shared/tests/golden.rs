//! Golden fixtures: every `fixtures/<proto>/<name>.<kind>` file is one
//! message, dissected as `<kind>` (a name from `wirelab_shared::kinds`) and
//! compared with `<name>.<kind>.json`. Run with `WIRELAB_BLESS=1` to write
//! the expected files after a deliberate change, then review the diff.

use std::path::{Path, PathBuf};
use wirelab_shared::kinds;

/// The kind named by the file's last extension, if it is a registered one.
fn kind_of(path: &Path) -> Option<&'static kinds::Kind> {
    kinds::find(path.extension()?.to_str()?)
}

/// Fixture files this test leaves to another, by extension, and the test
/// that reads them. Any other extension that is not a registered kind fails
/// the test, so a fixture is never skipped by mistake (a typo in its name).
const OTHER_SUITES: &[(&str, &str)] = &[
    (
        "json",
        "this test: the expected dissection of the file it is named after",
    ),
    ("cmd", "ftp_fixtures.rs"),
    ("reply", "ftp_fixtures.rs"),
    ("list", "ftp_fixtures.rs"),
    ("transcript", "smtp_fixtures.rs and pop3_fixtures.rs"),
    ("commands", "smtp_fixtures.rs and pop3_fixtures.rs"),
    ("golden", "the expected output of those suites"),
    ("eml", "mail_fixtures.rs"),
    ("md", "notes for people"),
];

/// Files that are not fixtures at all.
const NOT_FIXTURES: &[&str] = &[".gitattributes"];

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The registered kinds' fixtures; any file that is neither one of them,
/// nor another suite's, nor a known non-fixture is reported in `unknown`.
fn fixture_files(mut files: Vec<PathBuf>, unknown: &mut Vec<String>) -> Vec<PathBuf> {
    files.retain(|path| {
        if kind_of(path).is_some() {
            return true;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let known = NOT_FIXTURES.contains(&name)
            || OTHER_SUITES.iter().any(|(ext, _)| *ext == extension);
        if !known {
            unknown.push(format!(
                "{}: .{extension} is neither a kind of wirelab_shared::kinds nor read by another suite (see OTHER_SUITES)",
                path.display()
            ));
        }
        false
    });
    files
}

#[test]
fn every_fixture_matches_its_expected_dissection() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut all = Vec::new();
    all_files(&root, &mut all);
    let mut unknown = Vec::new();
    let files = fixture_files(all, &mut unknown);
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
    assert!(
        !files.is_empty(),
        "no fixtures found under {}",
        root.display()
    );
    let bless = std::env::var_os("WIRELAB_BLESS").is_some();
    let mut failures = Vec::new();
    for path in &files {
        let kind = kind_of(path).unwrap();
        let bytes = std::fs::read(path).unwrap();
        let dissection = (kind.dissect)(&bytes);
        let problems = dissection.check_invariants(false);
        assert!(problems.is_empty(), "{}: {problems:?}", path.display());
        let json = serde_json::to_string_pretty(&dissection).unwrap() + "\n";
        let expected_path = PathBuf::from(format!("{}.json", path.display()));
        if bless {
            std::fs::write(&expected_path, &json).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == json => {}
            Ok(_) => failures.push(format!(
                "{} differs from {} (run with WIRELAB_BLESS=1 and review the diff if the change is intended)",
                path.display(),
                expected_path.display()
            )),
            Err(_) => failures.push(format!("{} has no expected file {}", path.display(), expected_path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_unknown_extension_is_reported_not_skipped() {
    let files = [
        "get.http-request",
        "get.http-requets",
        "user.cmd",
        ".gitattributes",
    ]
    .map(|name| Path::new("fixtures/x").join(name))
    .to_vec();
    let mut unknown = Vec::new();
    let checked = fixture_files(files, &mut unknown);
    assert_eq!(checked, vec![Path::new("fixtures/x/get.http-request")]);
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(unknown[0].contains("get.http-requets"), "{unknown:?}");
}

#[test]
fn every_expected_file_has_its_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    all_files(&root, &mut files);
    let orphans: Vec<String> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| !p.with_extension("").exists())
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        orphans.is_empty(),
        "expected dissections of no fixture: {orphans:?}"
    );
}
