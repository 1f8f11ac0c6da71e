//! Fuzz body for whole Internet messages: the MIME tree, decoding, the
//! dissection and the page's message view.

use super::check;

/// Whole messages: every entity's spans inside the message, its body
/// decodable, the dissection and the view consistent with the bytes.
pub fn mail(data: &[u8]) {
    check(&crate::mail::dissect(data), data);
    let root = crate::mail::mime::parse(data);
    for e in root.walk() {
        assert!(e.span.start <= e.span.end && e.span.end <= data.len());
        assert!(e.body.start <= e.body.end && e.body.end <= data.len());
        let _ = e.decoded(data);
        let _ = e.text(data);
    }
    let view = crate::mail::view::MessageView::of(data);
    for p in &view.parts {
        assert!(p.span.end <= data.len() && p.body.end <= data.len());
    }
    let _ = crate::mail::view::Headline::of(data);
}
