//! A message as a mail reader presents it, for a page's mailbox view: the
//! header fields with their encoded words decoded, the MIME parts as an
//! indented tree with each part's content decoded (text in its charset,
//! files as bytes), and the envelope recorded by the trace fields beside
//! the header's From and To.
//!
//! [`MessageView::of`] never fails; what cannot be decoded is said in the
//! part's `problems`. The page renders it and shows the raw source with
//! [`super::dissect`]'s tree next to it.

use super::address::parse_address_list;
use super::encoded_word::decode_unstructured;
use super::envelope::{Envelope, EnvelopeRow, compare};
use super::header::parse_section;
use super::mime::{Content, Entity, parse};
use crate::dissect::Span;

/// Longest text a part's view keeps; the rest is left to the raw source.
pub const MAX_TEXT: usize = 256 * 1024;

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRow {
    pub name: String,
    /// The value unfolded, as written.
    pub value: String,
    /// The value with its encoded words decoded, when that changes it.
    pub decoded: Option<String>,
    pub span: Span,
}

/// One MIME entity of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartView {
    /// 0 for the message itself, 1 for its parts, and so on.
    pub depth: usize,
    /// "message", then the part numbers as IMAP writes them: "1", "2", "2.1".
    pub label: String,
    pub media_type: String,
    /// For text parts: the charset in effect.
    pub charset: Option<String>,
    pub encoding: String,
    pub filename: Option<String>,
    pub attachment: bool,
    pub is_multipart: bool,
    pub span: Span,
    pub body: Span,
    /// The body with its transfer encoding undone (empty for multiparts).
    pub decoded: Vec<u8>,
    /// The decoded text of a text part, cut at [`MAX_TEXT`].
    pub text: Option<String>,
    /// What went wrong reading this part.
    pub problems: Vec<String>,
}

/// A whole message, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub headers: Vec<HeaderRow>,
    /// The decoded Subject, From and To, for a one-line summary.
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub date: Option<String>,
    pub parts: Vec<PartView>,
    /// The envelope the trace fields record (Return-Path, Received ... for).
    pub envelope: Option<Envelope>,
    /// The envelope beside the header, row by row (empty without envelope).
    pub envelope_rows: Vec<EnvelopeRow>,
    /// How many Received lines: one per server the message went through.
    pub hops: usize,
}

impl MessageView {
    pub fn of(bytes: &[u8]) -> MessageView {
        let root = parse(bytes);
        let headers: Vec<HeaderRow> = root
            .header
            .fields
            .iter()
            .map(|f| {
                let value = f.unfolded(bytes);
                let decoded = value.contains("=?").then(|| {
                    let d = decode_unstructured(bytes, f.value);
                    d.text
                });
                HeaderRow {
                    name: f.name_text(bytes),
                    decoded: decoded.filter(|d| *d != value),
                    value,
                    span: f.span,
                }
            })
            .collect();
        let find = |name: &str| {
            headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.decoded.clone().unwrap_or_else(|| h.value.clone()))
        };
        let addresses = |name: &str| {
            root.header.get(bytes, name).map(|f| {
                let list = parse_address_list(bytes, f.value);
                if list.mailboxes.is_empty() {
                    f.unfolded(bytes)
                } else {
                    list.mailboxes
                        .iter()
                        .map(|m| m.display())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            })
        };
        let envelope = Envelope::from_trace(bytes, &root);
        let envelope_rows = envelope
            .as_ref()
            .map(|e| compare(bytes, &root, e))
            .unwrap_or_default();
        let mut parts = Vec::new();
        collect(bytes, &root, 0, "message".into(), &mut parts);
        MessageView {
            subject: find("Subject"),
            from: addresses("From"),
            to: addresses("To"),
            date: find("Date"),
            hops: root.header.all(bytes, "Received").count(),
            headers,
            parts,
            envelope,
            envelope_rows,
        }
    }

    /// The parts a reader offers as files.
    pub fn attachments(&self) -> impl Iterator<Item = &PartView> {
        self.parts.iter().filter(|p| p.attachment)
    }
}

/// Subject and From of a message, read from its header section only (for
/// a list of many messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headline {
    pub subject: Option<String>,
    pub from: Option<String>,
}

impl Headline {
    pub fn of(bytes: &[u8]) -> Headline {
        let header = parse_section(bytes, 0, bytes.len());
        let subject = header
            .get(bytes, "Subject")
            .map(|f| decode_unstructured(bytes, f.value).text);
        let from = header.get(bytes, "From").map(|f| {
            parse_address_list(bytes, f.value)
                .mailboxes
                .first()
                .map_or_else(|| f.unfolded(bytes), |m| m.display())
        });
        Headline { subject, from }
    }
}

fn collect(bytes: &[u8], entity: &Entity, depth: usize, label: String, out: &mut Vec<PartView>) {
    let is_multipart = matches!(entity.content, Content::Multipart(_));
    let mut problems: Vec<String> = entity
        .diagnostics
        .iter()
        .map(|d| d.message.clone())
        .collect();
    let (decoded, text) = if is_multipart {
        (Vec::new(), None)
    } else {
        let decoded = entity.decoded(bytes);
        problems.extend(decoded.diagnostics.iter().map(|d| d.message.clone()));
        let text = entity.text(bytes).map(|mut t| {
            if t.len() > MAX_TEXT {
                let mut cut = MAX_TEXT;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
                t.push_str("\n…");
            }
            t
        });
        (decoded.bytes, text)
    };
    out.push(PartView {
        depth,
        media_type: entity.essence(),
        charset: (entity.media_type.kind == "text").then(|| entity.charset()),
        encoding: entity.encoding.name().to_string(),
        filename: entity.filename(),
        attachment: entity.is_attachment(),
        is_multipart,
        span: entity.span,
        body: entity.body,
        decoded,
        text,
        problems,
        label: label.clone(),
    });
    let child_label = |i: usize| {
        if depth == 0 {
            (i + 1).to_string()
        } else {
            format!("{label}.{}", i + 1)
        }
    };
    match &entity.content {
        Content::Single => {}
        Content::Multipart(m) => {
            for (i, part) in m.parts.iter().enumerate() {
                collect(bytes, &part.entity, depth + 1, child_label(i), out);
            }
        }
        Content::Message(inner) => collect(bytes, inner, depth + 1, child_label(0), out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::compose::{Attachment, Draft, compose};
    use crate::mail::store::course_messages;

    #[test]
    fn a_delivered_message_shows_its_envelope_beside_its_header() {
        let msg = b"Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr by hamburger.edu\r\n for <bob@hamburger.edu>; Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n";
        let v = MessageView::of(msg);
        assert_eq!(v.hops, 1);
        assert_eq!(v.envelope.as_ref().unwrap().rcpt_to, ["bob@hamburger.edu"]);
        assert_eq!(v.envelope_rows.len(), 2);
        assert_eq!(
            v.envelope_rows[0].envelope.as_deref(),
            Some("MAIL FROM:<alice@crepes.fr>")
        );
        assert_eq!(
            v.envelope_rows[0].header, None,
            "the course's message has no From:"
        );
        assert_eq!(v.parts.len(), 1);
        assert_eq!(v.parts[0].media_type, "text/plain");
        assert_eq!(
            v.parts[0].text.as_deref(),
            Some("Do you like ketchup?\r\nHow about pickles?\r\n")
        );
        assert_eq!(v.subject, None);
    }

    #[test]
    fn a_composed_multipart_opens_as_a_tree_with_decoded_parts() {
        let c = compose(&Draft {
            from: "Amélie <alice@crepes.fr>".into(),
            to: "bob@hamburger.edu".into(),
            subject: "¡Hola, señor!".into(),
            body: "crêpes\n".into(),
            attachment: Some(Attachment {
                filename: "notes.txt".into(),
                media_type: "text/plain".into(),
                bytes: b"flour, eggs, milk\r\n".to_vec(),
            }),
            date_unix: Some(0),
            unique: None,
        });
        let v = MessageView::of(&c.message);
        assert_eq!(v.subject.as_deref(), Some("¡Hola, señor!"));
        assert_eq!(v.from.as_deref(), Some("Amélie <alice@crepes.fr>"));
        let subject = v.headers.iter().find(|h| h.name == "Subject").unwrap();
        assert!(subject.value.starts_with("=?utf-8?Q?"));
        let labels: Vec<_> = v
            .parts
            .iter()
            .map(|p| (p.depth, p.label.as_str()))
            .collect();
        assert_eq!(labels, [(0, "message"), (1, "1"), (1, "2")]);
        assert!(v.parts[0].is_multipart);
        assert_eq!(v.parts[1].text.as_deref(), Some("crêpes\r\n"));
        assert_eq!(v.parts[1].encoding, "quoted-printable");
        let files: Vec<_> = v.attachments().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].filename.as_deref(), Some("notes.txt"));
        assert_eq!(files[0].decoded, b"flour, eggs, milk\r\n");
        assert!(v.envelope.is_none() && v.envelope_rows.is_empty());
        assert!(v.parts.iter().all(|p| p.problems.is_empty()));
    }

    #[test]
    fn the_seed_messages_and_broken_input_open_without_panicking() {
        for m in course_messages() {
            let v = MessageView::of(m);
            assert!(v.subject.is_some());
            assert!(!v.parts.is_empty());
        }
        let broken = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD=x\r\n";
        let v = MessageView::of(broken);
        assert!(v.parts.iter().any(|p| !p.problems.is_empty()));
        let v = MessageView::of(b"");
        assert_eq!(v.parts.len(), 1);
    }

    #[test]
    fn headlines_read_the_header_only() {
        let h = Headline::of(
            b"Subject: =?utf-8?Q?=C2=A1Hola,_se=C3=B1or!?=\r\nFrom: Alice <alice@crepes.fr>\r\n\r\nSubject: not this",
        );
        assert_eq!(h.subject.as_deref(), Some("¡Hola, señor!"));
        assert_eq!(h.from.as_deref(), Some("Alice <alice@crepes.fr>"));
        assert_eq!(
            Headline::of(b"Do you like ketchup?\r\n"),
            Headline::default()
        );
    }
}
