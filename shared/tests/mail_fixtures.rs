//! Golden fixtures of whole messages: the course's examples (with their
//! errata, which the diagnostics must explain) and messages of our own
//! that exercise charsets, encodings and nested parts.

mod common;

use common::*;
use wirelab_shared::dissect::Severity;
use wirelab_shared::mail::{self, mime};

fn messages(d: &wirelab_shared::Dissection) -> Vec<String> {
    d.diagnostics
        .iter()
        .map(|d| format!("{:?}: {}", d.severity, d.message))
        .collect()
}

#[test]
fn every_mail_fixture_matches_its_golden_outline() {
    let files = fixtures("mail", "eml");
    assert!(files.len() >= 10, "fixtures are missing: {files:?}");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let d = mail::dissect(&bytes);
        assert_sound(&d, true, &path.display().to_string());
        check_golden(&path, &outline(&d));
    }
}

fn dissect(name: &str) -> (Vec<u8>, wirelab_shared::Dissection) {
    let bytes = std::fs::read(fixture_dir("mail").join(name)).unwrap();
    let d = mail::dissect(&bytes);
    (bytes, d)
}

fn has(d: &wirelab_shared::Dissection, severity: Severity, text: &str) -> bool {
    d.diagnostics
        .iter()
        .any(|x| x.severity == severity && x.message.contains(text))
}

#[test]
fn erratum_the_date_of_the_lunch_mail_is_not_a_wednesday() {
    let (_, d) = dissect("course-lunch-rfc822.eml");
    assert!(
        has(&d, Severity::Warning, "was a Thu, not a Wed"),
        "{:?}",
        messages(&d)
    );
    assert!(has(&d, Severity::Note, "obsolete name"));
    assert_eq!(d.find("Header: Cc").unwrap().value, "bob@hamburger.edu");
    assert!(
        d.find("Header: Date")
            .unwrap()
            .value
            .ends_with("= 2003-09-04 15:21:22 UTC")
    );
}

#[test]
fn erratum_the_elided_jpeg_is_not_base64() {
    let (_, d) = dissect("course-picture-of-yummy-crepe.eml");
    assert!(
        has(&d, Severity::Error, "not in the base64 alphabet"),
        "{:?}",
        messages(&d)
    );
    assert!(has(&d, Severity::Warning, "no Date:"));
}

#[test]
fn erratum_the_textbook_multipart_lacks_blank_lines_and_its_closing_boundary() {
    let (bytes, d) = dissect("course-startofnextpart-textbook.eml");
    assert!(
        has(
            &d,
            Severity::Error,
            "closing boundary --StartOfNextPart-- is missing"
        ),
        "{:?}",
        messages(&d)
    );
    assert!(has(
        &d,
        Severity::Error,
        "no empty line after its boundary line"
    ));
    assert!(has(
        &d,
        Severity::Error,
        "empty line between the header and the body is missing"
    ));
    let root = mime::parse(&bytes);
    let mime::Content::Multipart(mp) = &root.content else {
        panic!("multipart")
    };
    assert_eq!(
        mp.parts.len(),
        3,
        "Boundary= is case-insensitive, three parts are found"
    );
    assert_eq!(mp.parts[1].entity.essence(), "image/jpeg");
}

#[test]
fn erratum_the_slides_multipart_lacks_blank_lines() {
    let (_, d) = dissect("course-startofnextpart-slides.eml");
    let blank = d
        .diagnostics
        .iter()
        .filter(|x| x.message.contains("empty line"))
        .count();
    assert_eq!(blank, 3, "{:?}", messages(&d));
    assert!(!has(&d, Severity::Error, "closing boundary"));
}

#[test]
fn erratum_the_frontier_example_lacks_a_boundary_line_and_has_corrupt_base64() {
    let (_, d) = dissect("course-frontier.eml");
    assert!(
        has(
            &d,
            Severity::Warning,
            "is the --frontier line that should come before it missing?"
        ),
        "{:?}",
        messages(&d)
    );
    let (_, d) = dissect("course-frontier-delimiter-restored.eml");
    assert!(
        has(&d, Severity::Error, "129 mod 4 = 1"),
        "{:?}",
        messages(&d)
    );
    assert!(d.find("Part 2: application/octet-stream").is_some());
}

#[test]
fn the_received_lines_of_the_textbook() {
    let (_, d) = dissect("course-received-textbook.eml");
    assert!(
        has(&d, Severity::Warning, "the year \"98\" has 2 digits"),
        "{:?}",
        messages(&d)
    );
    let (_, d) = dissect("course-received-two-hops.eml");
    let chain = d.find("Received chain").unwrap();
    assert_eq!(chain.children.len(), 2);
    assert!(
        chain.children[0]
            .value
            .starts_with("from crepes.fr by hamburger.edu")
    );
    assert!(
        chain.children[1]
            .value
            .starts_with("from hamburger.edu by sushi.jp")
    );
    assert!(
        has(&d, Severity::Error, "uses '.' where the syntax has ':'"),
        "{:?}",
        messages(&d)
    );
}

#[test]
fn encoded_words_charsets_and_quoted_printable() {
    let (_, d) = dissect("course-hola-subject.eml");
    assert_eq!(d.find("Header: Subject").unwrap().value, "¡Hola, señor!");
    assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
    let (bytes, d) = dissect("latin1-quoted-printable.eml");
    assert_eq!(
        d.find("Header: Subject").unwrap().value,
        "Crêpes à la crème"
    );
    assert_eq!(d.find("Display name").unwrap().value, "René");
    let text = mime::parse(&bytes).text(&bytes).unwrap();
    assert!(
        text.starts_with(
            "Crêpes à la crème, crème brûlée et café. Une très longue ligne coupée en deux"
        ),
        "{text}"
    );
    assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
}

#[test]
fn nested_parts_and_attachments() {
    let (bytes, d) = dissect("nested-multipart-attachment.eml");
    assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
    let root = mime::parse(&bytes);
    let all = root.walk();
    assert_eq!(all.len(), 5);
    let attachment = all.iter().find(|e| e.is_attachment()).unwrap();
    assert_eq!(attachment.filename().as_deref(), Some("bytes.bin"));
    assert_eq!(
        attachment.decoded(&bytes).bytes,
        (0u8..120).collect::<Vec<_>>()
    );
    assert_eq!(
        all[3].text(&bytes).unwrap(),
        "<p>HTML version with crêpes.</p>"
    );
}
