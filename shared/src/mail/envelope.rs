//! The envelope (SMTP's `MAIL FROM` and `RCPT TO`) versus the header
//! (`From:`, `To:`, `Cc:`), side by side: the course's point that the
//! commands that route a message are not the lines the reader sees.
//!
//! [`compare`] lines them up row by row for a page or a dissection;
//! [`Envelope::from_trace`] recovers an envelope from a delivered message's
//! `Return-Path:` and `Received: ... for <...>` lines.

use super::address::parse_address_list;
use super::mime::Entity;
use super::trace::parse_received;
use crate::dissect::Span;
use serde::{Deserialize, Serialize};

/// An SMTP envelope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Envelope {
    /// The reverse-path of `MAIL FROM`; `Some("")` is the null path `<>`
    /// of a bounce, `None` means it is not known.
    pub mail_from: Option<String>,
    /// The forward-paths of the accepted `RCPT TO` commands.
    pub rcpt_to: Vec<String>,
}

/// One row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeRow {
    /// "Sender" or "Recipient".
    pub role: String,
    /// `MAIL FROM:<...>` / `RCPT TO:<...>`, if the envelope has it.
    pub envelope: Option<String>,
    /// The matching header address, with the field it is in (`To: bob@...`).
    pub header: Option<String>,
    /// The header field's span in the message, for highlighting.
    pub header_span: Option<Span>,
    /// Whether both sides name the same address.
    pub agree: bool,
    /// What the difference (or the agreement) means.
    pub explanation: String,
}

impl Envelope {
    /// The envelope recorded by trace fields: `Return-Path:` for the sender,
    /// the `for` clauses of `Received:` for the recipients.
    pub fn from_trace(bytes: &[u8], root: &Entity) -> Option<Envelope> {
        let mail_from = root.header.get(bytes, "Return-Path").map(|f| {
            let list = parse_address_list(bytes, f.value);
            list.mailboxes
                .first()
                .map(|m| m.address.clone())
                .unwrap_or_default()
        });
        let mut rcpt_to = Vec::new();
        for f in root.header.all(bytes, "Received") {
            if let Some(r) = parse_received(bytes, f.value).received.for_recipient
                && !rcpt_to.contains(&r)
            {
                rcpt_to.push(r);
            }
        }
        (mail_from.is_some() || !rcpt_to.is_empty()).then_some(Envelope { mail_from, rcpt_to })
    }
}

/// Lines up the envelope with the header addresses of `root`.
pub fn compare(bytes: &[u8], root: &Entity, envelope: &Envelope) -> Vec<EnvelopeRow> {
    let mut rows = Vec::new();
    let from_field = root.header.get(bytes, "From");
    let from = from_field.map(|f| parse_address_list(bytes, f.value).mailboxes);
    if let Some(sender) = &envelope.mail_from {
        let matching = from
            .as_ref()
            .and_then(|list| list.iter().find(|m| m.address.eq_ignore_ascii_case(sender)));
        let header = from.as_ref().map(|list| {
            list.iter()
                .map(|m| m.address.clone())
                .collect::<Vec<_>>()
                .join(", ")
        });
        let agree = matching.is_some();
        let explanation = match (&header, agree, sender.is_empty()) {
            (_, _, true) => "MAIL FROM:<> is the null sender of a bounce, so that a bounce never bounces back (RFC 5321 §4.5.5).".to_string(),
            (None, _, _) => "The header has no From: field, so a reader cannot tell who wrote the message; the envelope sender only says where bounces go.".to_string(),
            (Some(_), true, _) => "The same address: the author (From:) also receives the bounces (MAIL FROM).".to_string(),
            (Some(_), false, _) => "Different addresses, which is legitimate: MAIL FROM says where bounces go (a list server, a forwarder), From: says who wrote the message. It is also how forged mail works.".to_string(),
        };
        rows.push(EnvelopeRow {
            role: "Sender".into(),
            envelope: Some(format!("MAIL FROM:<{sender}>")),
            header: header.map(|h| format!("From: {h}")),
            header_span: from_field.map(|f| f.span),
            agree,
            explanation,
        });
    }
    let mut header_recipients: Vec<(String, String, Span)> = Vec::new();
    for name in ["To", "Cc", "Bcc"] {
        for f in root.header.all(bytes, name) {
            for m in parse_address_list(bytes, f.value).mailboxes {
                header_recipients.push((name.to_string(), m.address, f.span));
            }
        }
    }
    for rcpt in &envelope.rcpt_to {
        let found = header_recipients
            .iter()
            .find(|(_, a, _)| a.eq_ignore_ascii_case(rcpt));
        rows.push(EnvelopeRow {
            role: "Recipient".into(),
            envelope: Some(format!("RCPT TO:<{rcpt}>")),
            header: found.map(|(n, a, _)| format!("{n}: {a}")),
            header_span: found.map(|(_, _, s)| *s),
            agree: found.is_some(),
            explanation: if found.is_some() {
                "Delivered to this mailbox, and the reader sees the address in the header.".into()
            } else {
                "Delivered to this mailbox although no To:/Cc: names it: a blind copy (Bcc), a \
                 mailing list or a forward. Delivery follows the envelope only."
                    .into()
            },
        });
    }
    for (name, address, span) in &header_recipients {
        if !envelope
            .rcpt_to
            .iter()
            .any(|r| r.eq_ignore_ascii_case(address))
        {
            rows.push(EnvelopeRow {
                role: "Recipient".into(),
                envelope: None,
                header: Some(format!("{name}: {address}")),
                header_span: Some(*span),
                agree: false,
                explanation: "Named in the header but not in any RCPT TO of this transaction: \
                              this server does not deliver to it (the sender may have sent it \
                              another copy elsewhere)."
                    .into(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::mime::parse;

    #[test]
    fn side_by_side_rows() {
        let msg =
            b"From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu, carol@x.org\r\n\r\nhi\r\n";
        let root = parse(msg);
        let env = Envelope {
            mail_from: Some("bounces@crepes.fr".into()),
            rcpt_to: vec!["bob@hamburger.edu".into(), "dave@hamburger.edu".into()],
        };
        let rows = compare(msg, &root, &env);
        assert_eq!(rows.len(), 4);
        assert!(!rows[0].agree);
        assert_eq!(rows[0].header.as_deref(), Some("From: alice@crepes.fr"));
        assert!(rows[1].agree);
        assert_eq!(rows[1].header.as_deref(), Some("To: bob@hamburger.edu"));
        assert!(!rows[2].agree && rows[2].explanation.contains("Bcc"));
        assert_eq!(rows[3].envelope, None);
        assert_eq!(rows[3].header.as_deref(), Some("To: carol@x.org"));
    }

    #[test]
    fn envelope_from_trace_fields() {
        let msg = b"Return-Path: <alice@crepes.fr>\r\nReceived: from crepes.fr by hamburger.edu\r\n for <bob@hamburger.edu>; Tue, 14 Nov 2023 22:13:20 +0000\r\nFrom: alice@crepes.fr\r\n\r\nx";
        let root = parse(msg);
        let env = Envelope::from_trace(msg, &root).unwrap();
        assert_eq!(env.mail_from.as_deref(), Some("alice@crepes.fr"));
        assert_eq!(env.rcpt_to, ["bob@hamburger.edu"]);
        assert!(
            Envelope::from_trace(b"From: a@b.c\r\n\r\n", &parse(b"From: a@b.c\r\n\r\n")).is_none()
        );
    }
}
