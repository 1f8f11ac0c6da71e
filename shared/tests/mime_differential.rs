//! Differential tests of the MIME parser against the `mail-parser` crate:
//! on well-formed messages (the fixtures that have no errors, the seed
//! messages and generated ones) both must find the same subject, the same
//! addresses, the same leaf parts at the same offsets, and the same decoded
//! content.

mod common;

use common::*;
use mail_parser::{MessageParser, PartType};
use proptest::prelude::*;
use wirelab_shared::mail::mime::{self, Content, Entity};
use wirelab_shared::mail::store::course_messages;
use wirelab_shared::mail::transfer::{encode_base64, encode_quoted_printable};
use wirelab_shared::mail::{
    address::parse_address_list, charset, encoded_word::decode_unstructured,
};

/// What both parsers must agree on.
#[derive(Debug, PartialEq)]
struct Summary {
    subject: Option<String>,
    from: Vec<String>,
    to: Vec<String>,
    /// (body offset, decoded content) of every leaf part, in order.
    leaves: Vec<(usize, Vec<u8>)>,
}

fn ours(bytes: &[u8]) -> Summary {
    let root = mime::parse(bytes);
    let addresses = |name: &str| {
        root.header
            .get(bytes, name)
            .map(|f| {
                parse_address_list(bytes, f.value)
                    .mailboxes
                    .into_iter()
                    .map(|m| m.address)
                    .collect()
            })
            .unwrap_or_default()
    };
    fn leaves(e: &Entity, bytes: &[u8], out: &mut Vec<(usize, Vec<u8>)>) {
        match &e.content {
            Content::Multipart(m) => m.parts.iter().for_each(|p| leaves(&p.entity, bytes, out)),
            Content::Message(inner) => leaves(inner, bytes, out),
            Content::Single => {
                let content = match e.text(bytes) {
                    Some(text) => text.into_bytes(),
                    None => e.decoded(bytes).bytes,
                };
                out.push((e.body.start, content));
            }
        }
    }
    let mut out = Vec::new();
    leaves(&root, bytes, &mut out);
    Summary {
        subject: root
            .header
            .get(bytes, "Subject")
            .map(|f| decode_unstructured(bytes, f.value).text),
        from: addresses("From"),
        to: addresses("To"),
        leaves: out,
    }
}

fn theirs(bytes: &[u8]) -> Summary {
    let m = MessageParser::default()
        .parse(bytes)
        .expect("mail-parser reads it");
    let addresses = |a: Option<&mail_parser::Address>| {
        a.map(|a| {
            a.iter()
                .filter_map(|x| x.address.as_ref().map(|s| s.to_string()))
                .collect()
        })
        .unwrap_or_default()
    };
    let leaves = m
        .parts
        .iter()
        .filter_map(|p| {
            let content = match &p.body {
                PartType::Text(t) | PartType::Html(t) => t.as_bytes().to_vec(),
                PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
                PartType::Message(_) | PartType::Multipart(_) => return None,
            };
            Some((p.offset_body as usize, content))
        })
        .collect();
    Summary {
        subject: m.subject().map(str::to_string),
        from: addresses(m.from()),
        to: addresses(m.to()),
        leaves,
    }
}

fn compare(bytes: &[u8], what: &str) {
    let (a, b) = (ours(bytes), theirs(bytes));
    assert_eq!(
        a, b,
        "{what}: wirelab (left) and mail-parser (right) disagree"
    );
}

#[test]
fn well_formed_fixtures_and_seed_messages_agree() {
    let mut checked = 0;
    for path in fixtures("mail", "eml") {
        let bytes = std::fs::read(&path).unwrap();
        let d = wirelab_shared::mail::dissect(&bytes);
        // Only messages without errors: on broken ones, parsers may differ legitimately.
        if d.diagnostics
            .iter()
            .any(|x| x.severity >= wirelab_shared::Severity::Warning)
        {
            continue;
        }
        compare(&bytes, &path.display().to_string());
        checked += 1;
    }
    for m in course_messages() {
        compare(m, "a seed message");
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} messages were compared");
}

/// A generated MIME entity.
#[derive(Debug, Clone)]
enum Gen {
    Leaf {
        charset: &'static str,
        encoding: &'static str,
        text: String,
    },
    Binary(Vec<u8>),
    Multipart {
        subtype: &'static str,
        parts: Vec<Gen>,
    },
}

fn gen_entity() -> impl Strategy<Value = Gen> {
    let text = proptest::collection::vec("[a-zA-Z0-9 ,.!?àéèçüñ€-]{0,50}", 1..5)
        .prop_map(|l| l.join("\r\n"));
    let leaf = prop_oneof![
        (
            prop_oneof![Just("utf-8"), Just("iso-8859-1")],
            prop_oneof![Just("quoted-printable"), Just("base64"), Just("8bit")],
            text
        )
            .prop_map(|(charset, encoding, text)| Gen::Leaf {
                charset,
                encoding,
                text
            }),
        proptest::collection::vec(any::<u8>(), 1..100).prop_map(Gen::Binary),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        (
            prop_oneof![Just("mixed"), Just("alternative")],
            proptest::collection::vec(inner, 1..4),
        )
            .prop_map(|(subtype, parts)| Gen::Multipart { subtype, parts })
    })
}

fn render(g: &Gen, depth: usize, out: &mut String) {
    match g {
        Gen::Leaf {
            charset: cs,
            encoding,
            text,
        } => {
            // Latin-1 can only carry what fits; keep the text to that.
            let bytes = if *cs == "iso-8859-1" {
                let fitting: String = text.chars().filter(|&c| (c as u32) < 256).collect();
                charset::encode_latin1(&fitting).unwrap()
            } else {
                text.clone().into_bytes()
            };
            // The message is built as a Rust string, so 8-bit text can only be
            // UTF-8; Latin-1 text goes quoted-printable instead.
            let encoding = if *cs == "iso-8859-1" && *encoding == "8bit" {
                "quoted-printable"
            } else {
                encoding
            };
            out.push_str(&format!("Content-Type: text/plain; charset={cs}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"));
            match (encoding, String::from_utf8(bytes.clone())) {
                ("base64", _) => out.push_str(&encode_base64(&bytes, Some(76))),
                ("8bit", Ok(text)) => out.push_str(&text),
                _ => out.push_str(&encode_quoted_printable(&bytes)),
            }
        }
        Gen::Binary(bytes) => {
            out.push_str("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            out.push_str(&encode_base64(bytes, Some(76)));
        }
        Gen::Multipart { subtype, parts } => {
            let boundary = format!("b{depth}-{}", parts.len());
            out.push_str(&format!(
                "Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n\r\n"
            ));
            for p in parts {
                out.push_str(&format!("--{boundary}\r\n"));
                render(p, depth + 1, out);
                out.push_str("\r\n");
            }
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_messages_agree(root in gen_entity(), subject in "[a-zA-Z¡ñé][a-zA-Z ¡ñé]{0,29}") {
        let mut message = format!(
            "From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu, \"Carol C.\" <carol@crepes.fr>\r\nSubject: {}\r\nDate: Mon, 2 Sep 2024 12:00:00 +0200\r\nMIME-Version: 1.0\r\n",
            wirelab_shared::mail::encoded_word::encode_if_needed(subject.trim())
        );
        render(&root, 0, &mut message);
        compare(message.as_bytes(), &message);
        let d = wirelab_shared::mail::dissect(message.as_bytes());
        prop_assert!(d.check_invariants(true).is_empty(), "{:?}", d.check_invariants(true));
    }
}
