//! Golden fixtures: every `fixtures/<proto>/<name>.<kind>` file is one
//! message, dissected as `<kind>` (a name from `wirelab_shared::kinds`) and
//! compared with `<name>.<kind>.json`. Run with `WIRELAB_BLESS=1` to write
//! the expected files after a deliberate change, then review the diff.

use std::path::{Path, PathBuf};
use wirelab_shared::kinds;

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixture_files(&path, out);
        } else if kind_of(&path).is_some() {
            out.push(path);
        }
    }
}

/// The kind named by the file's last extension, if it is a registered one.
fn kind_of(path: &Path) -> Option<&'static kinds::Kind> {
    kinds::find(path.extension()?.to_str()?)
}

#[test]
fn every_fixture_matches_its_expected_dissection() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    fixture_files(&root, &mut files);
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
