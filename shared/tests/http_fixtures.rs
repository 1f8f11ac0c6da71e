//! What the course's HTTP examples must show a student: the clean ones stay
//! clean and fully covered, and each erratum of the material is explained by
//! the diagnostic it deserves.

use std::path::Path;
use wirelab_shared::dissect::Severity;
use wirelab_shared::kinds;

fn dissect(name: &str) -> wirelab_shared::Dissection {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/http")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let kind = path.extension().unwrap().to_str().unwrap();
    kinds::dissect(kind, &bytes).unwrap()
}

fn messages(d: &wirelab_shared::Dissection) -> Vec<String> {
    d.diagnostics.iter().map(|d| d.message.clone()).collect()
}

#[test]
fn the_clean_examples_are_clean_and_covered() {
    for name in [
        "someschool-get.http-request",
        "telnet-ross.http-request",
        "telnet-ross-head.http-request",
        "telnet-banana-404.http-request",
        "telnet-eurecom-1.0.http-request",
        "kiwi-get.http-request",
        "kiwi-conditional.http-request",
        "form-get.http-request",
        "form-post.http-request",
        "textbook-200.http-response",
        "kiwi-304.http-response",
        "document-follows.http-response",
        "chunked.http-response",
    ] {
        let d = dissect(name);
        assert!(
            d.diagnostics.iter().all(|d| d.severity == Severity::Note),
            "{name}: {:?}",
            messages(&d)
        );
        assert!(
            d.check_invariants(true).is_empty(),
            "{name}: {:?}",
            d.check_invariants(true)
        );
    }
}

#[test]
fn the_errata_are_explained() {
    let cases: &[(&str, &[&str])] = &[
        (
            "connection-close-erratum.http-response",
            &[
                "`Connection close` has no colon",
                "was a Friday, not a Thursday",
            ],
        ),
        (
            "kiwi-conditional-textbook.http-request",
            &["cannot be read as a date"],
        ),
        (
            "kiwi-textbook-200.http-response",
            &[
                "cannot be read as a date",
                "ends only when the server closes",
            ],
        ),
        ("set-cookie-1678.http-response", &["`1678` has no name"]),
        ("cookie-1678.http-request", &["`1678` has no name"]),
        ("date-erratum.http-response", &["must be GMT, not EST"]),
        (
            "firefox-get.http-request",
            &[
                "Keep-Alive comes from the HTTP/1.0 era",
                "Accept-Charset is obsolete",
            ],
        ),
        (
            "slides-200.http-response",
            &["Keep-Alive comes from the HTTP/1.0 era"],
        ),
    ];
    for (name, wanted) in cases {
        let d = dissect(name);
        let got = messages(&d);
        for want in *wanted {
            assert!(
                got.iter().any(|m| m.contains(want)),
                "{name}: no diagnostic containing {want:?} in {got:?}"
            );
        }
    }
}

#[test]
fn the_form_decodes_the_latin1_a_grave() {
    for name in ["form-get.http-request", "form-post.http-request"] {
        let d = dissect(name);
        let age = d.walk().find(|f| f.name.ends_with(": age")).unwrap();
        assert_eq!(age.value, "age = 41 à 60 ans", "{name}");
    }
}
