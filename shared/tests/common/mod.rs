//! Helpers for the golden-fixture tests: read fixtures, render a dissection
//! (or a followed session) as a readable outline, and compare it with the
//! `.golden` file next to the fixture. Session fixtures are `.transcript`
//! files (both sides, as printed) and `.commands` files (the client's lines,
//! typed to a server engine). `WIRELAB_BLESS=1 cargo test -p wirelab-shared` rewrites the
//! golden files after a deliberate change (review the diff).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use wirelab_shared::dissect::{Dissection, Field};
use wirelab_shared::engine::{Engine, Millis, drain};
use wirelab_shared::transcript::{Follower, Observed, Side};

pub fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

/// The fixtures of `kind` whose name ends with `ext`, sorted.
pub fn fixtures(kind: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn cut(text: &str, max: usize) -> String {
    let one_line = text.replace('\n', "⏎");
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}

fn field(out: &mut String, f: &Field, depth: usize) {
    out.push_str(&format!(
        "{}{} [{}..{}] = {}\n",
        "  ".repeat(depth),
        f.name,
        f.span.start,
        f.span.end,
        cut(&f.value, 70)
    ));
    for c in &f.children {
        field(out, c, depth + 1);
    }
}

/// A dissection as an indented outline with its diagnostics.
pub fn outline(d: &Dissection) -> String {
    let mut out = format!("summary: {}\nlength: {}\n", d.summary, d.length);
    for f in &d.fields {
        field(&mut out, f, 1);
    }
    for diag in &d.diagnostics {
        out.push_str(&format!(
            "{:?} [{}..{}] {}{}\n",
            diag.severity,
            diag.span.start,
            diag.span.end,
            diag.message,
            diag.reference
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    out
}

/// Compares `actual` with the golden file of `fixture`, or writes it when
/// blessing.
pub fn check_golden(fixture: &Path, actual: &str) {
    let golden = fixture.with_extension(format!(
        "{}.golden",
        fixture.extension().unwrap().to_string_lossy()
    ));
    if std::env::var_os("WIRELAB_BLESS").is_some() {
        std::fs::write(&golden, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|_| {
        panic!(
            "missing {}; run with WIRELAB_BLESS=1 to create it",
            golden.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from its golden file at line {}:\n expected: {:?}\n   actual: {:?}\n(WIRELAB_BLESS=1 rewrites it)",
            fixture.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

/// A transcript fixture: `S: text` and `C: text` lines, each sent with CR LF.
pub fn transcript(path: &Path) -> Vec<(Side, Vec<u8>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (side, rest) = match &l[..2] {
                "S:" => (Side::Server, &l[2..]),
                "C:" => (Side::Client, &l[2..]),
                other => panic!("{}: bad line prefix {other:?}", path.display()),
            };
            let text = rest.strip_prefix(' ').unwrap_or(rest);
            (side, format!("{text}\r\n").into_bytes())
        })
        .collect()
}

/// A `.transcript` fixture followed by a new `F`.
pub fn follow_fixture<F: Follower + Default>(path: &Path) -> F {
    F::replay(transcript(path).iter().map(|(s, b)| (*s, b.as_slice())))
}

/// Types the lines of a `.commands` fixture to `server` one at a time, as
/// a student does, following both sides with `follower`. Returns the bytes
/// in the order they crossed (an empty answer is left out).
pub fn type_commands<E: Engine, F: Follower>(
    server: &mut E,
    follower: &mut F,
    path: &Path,
) -> Vec<(Side, Vec<u8>)> {
    let mut wire = Vec::new();
    let greeting = drain(server).bytes();
    follower.push(Side::Server, &greeting);
    wire.push((Side::Server, greeting));
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let bytes = format!("{line}\r\n").into_bytes();
        follower.push(Side::Client, &bytes);
        server.handle_input(&bytes, Millis(0));
        let reply = drain(server).bytes();
        follower.push(Side::Server, &reply);
        wire.push((Side::Client, bytes));
        if !reply.is_empty() {
            wire.push((Side::Server, reply));
        }
    }
    wire
}

/// A followed session as a golden outline: each message with its side,
/// kind, the state after it (`label`) and the command it answers, then its
/// dissection, checked sound.
pub fn render_session<S>(messages: &[Observed<S>], label: impl Fn(&S) -> &str) -> String {
    let mut out = String::new();
    for (i, m) in messages.iter().enumerate() {
        out.push_str(&format!(
            "#{i} {:?} {} -> {}{}\n",
            m.side,
            m.kind,
            label(&m.state),
            m.answers
                .map(|a| format!(" (answers #{a})"))
                .unwrap_or_default()
        ));
        out.push_str(&outline(&m.dissection));
        assert_sound(&m.dissection, true, &format!("message #{i}"));
    }
    out
}

/// The invariants every dissection keeps, with full coverage when asked.
pub fn assert_sound(d: &Dissection, coverage: bool, what: &str) {
    let problems = d.check_invariants(coverage);
    assert!(problems.is_empty(), "{what}: {problems:?}");
}
