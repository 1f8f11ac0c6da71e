//! The compose helper: from the fields a mail program shows (From, To,
//! Subject, body, an optional attachment) to a correct message (RFC 5322,
//! MIME) and the exact bytes to send after SMTP's 354: CR LF everywhere,
//! lines within limits, non-ASCII text encoded, the attachment in base64
//! inside a multipart/mixed body, every line that starts with a dot
//! stuffed, and the final `.` line.
//!
//! It is what a user agent does for its user, set next to hand typing in
//! the workbench; [`Composed::steps`] says, in plain sentences, what was
//! done and why. The caller gives the time (`date_unix`) and a unique
//! token for the Message-ID, as nothing here reads a clock.

use super::date::DateTime;
use super::encoded_word::encode_if_needed;
use super::transfer::{encode_base64, encode_quoted_printable};
use crate::smtp::client::canonical_line_endings;
use crate::stuffing::stuff;

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// `image/png`; empty for unknown (sent as application/octet-stream).
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// What the student filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub from: String,
    /// One address or several, separated by commas.
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attachment: Option<Attachment>,
    /// The time for the Date field (Unix seconds, UTC).
    pub date_unix: Option<i64>,
    /// A token unique to this message, for the Message-ID.
    pub unique: Option<String>,
}

/// The message and its wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// The message as the receiver stores it.
    pub message: Vec<u8>,
    /// What to send after 354: the message dot-stuffed, then `.` CR LF.
    pub wire: Vec<u8>,
    /// Lines that start with a dot and got a second one.
    pub stuffed_dots: usize,
    /// What the helper did, one sentence each.
    pub steps: Vec<String>,
}

/// Longest line RFC 5322 §2.1.1 allows, without its CR LF.
const MAX_LINE: usize = 998;

/// Builds the message for `draft`.
pub fn compose(draft: &Draft) -> Composed {
    let mut steps = Vec::new();
    let mut header = String::new();
    let from = encode_addresses(&draft.from, "From", &mut steps);
    let to = encode_addresses(&draft.to, "To", &mut steps);
    if from.trim().is_empty() {
        steps.push(
            "There is no From: field: RFC 5322 requires one (and a Date:); fill in the sender."
                .into(),
        );
    } else {
        header.push_str(&format!("From: {from}\r\n"));
    }
    if !to.trim().is_empty() {
        header.push_str(&format!("To: {to}\r\n"));
    }
    if !draft.subject.is_empty() {
        let subject = encode_if_needed(&draft.subject);
        if subject != draft.subject {
            steps.push(format!(
                "The subject is not plain ASCII, so it is written as RFC 2047 encoded words: {subject}"
            ));
        }
        header.push_str(&format!("Subject: {subject}\r\n"));
    }
    if let Some(unix) = draft.date_unix {
        header.push_str(&format!(
            "Date: {}\r\n",
            DateTime::from_unix(unix).to_rfc5322()
        ));
    }
    if let Some(unique) = &draft.unique {
        let domain = first_domain(&draft.from).unwrap_or_else(|| "wirelab.invalid".into());
        header.push_str(&format!("Message-ID: <{unique}@{domain}>\r\n"));
    }
    header.push_str("MIME-Version: 1.0\r\n");

    let mut text = canonical_line_endings(draft.body.as_bytes());
    if text != draft.body.as_bytes() {
        steps.push("Line breaks in the body are written CR LF, as RFC 5322 requires.".into());
    }
    if !text.is_empty() && !text.ends_with(b"\r\n") {
        text.extend(b"\r\n");
    }
    let (text_headers, text_body) = text_part(&text, &mut steps);
    let mut message = header.into_bytes();
    match &draft.attachment {
        None => {
            message.extend(text_headers.as_bytes());
            message.extend(b"\r\n");
            message.extend(&text_body);
        }
        Some(file) => {
            let encoded = encode_base64(&file.bytes, Some(76));
            let boundary = boundary_for(&[&text_body, encoded.as_bytes()]);
            let media_type = if file.media_type.trim().is_empty() {
                "application/octet-stream".to_string()
            } else {
                file.media_type.trim().to_ascii_lowercase()
            };
            let (name_param, filename_param) = filename_params(&file.filename);
            message.extend(
                format!(
                    "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
                     This is a message in MIME format: the text, then the attached file.\r\n\
                     --{boundary}\r\n{text_headers}\r\n"
                )
                .as_bytes(),
            );
            message.extend(&text_body);
            // The CR LF before a boundary line belongs to the boundary
            // (RFC 2046 §5.1.1): without this one the text would lose its last line break.
            message.extend(
                format!(
                    "\r\n--{boundary}\r\n\
                     Content-Type: {media_type}; {name_param}\r\n\
                     Content-Transfer-Encoding: base64\r\n\
                     Content-Disposition: attachment; {filename_param}\r\n\r\n\
                     {encoded}\r\n--{boundary}--\r\n"
                )
                .as_bytes(),
            );
            steps.push(format!(
                "The file ({} bytes of {media_type}) is attached in base64: 4 characters for \
                 every 3 bytes, lines of 76, so {} bytes travel as 7-bit text.",
                file.bytes.len(),
                encoded.len()
            ));
            steps.push(format!(
                "Text and file are the two parts of a multipart/mixed body, each opened by the \
                 line --{boundary}; --{boundary}-- closes the body (RFC 2046 §5.1)."
            ));
        }
    }
    if !message.ends_with(b"\r\n") {
        message.extend(b"\r\n");
    }
    let stuffed_dots = message
        .split(|&b| b == b'\n')
        .filter(|line| line.first() == Some(&b'.'))
        .count();
    let wire = stuff(&message);
    if stuffed_dots > 0 {
        steps.push(format!(
            "{stuffed_dots} line(s) start with a dot and are sent with one more \
             (dot-stuffing, RFC 5321 §4.5.2); the server removes it."
        ));
    }
    steps.push(
        "The line with a single dot ends the message (CR LF . CR LF, RFC 5321 §4.1.1.4).".into(),
    );
    Composed {
        message,
        wire,
        stuffed_dots,
        steps,
    }
}

/// The header fields and the body of the text part.
fn text_part(text: &[u8], steps: &mut Vec<String>) -> (String, Vec<u8>) {
    let ascii = text.is_ascii();
    let long = text
        .split(|&b| b == b'\n')
        .any(|line| line.strip_suffix(b"\r").unwrap_or(line).len() > MAX_LINE);
    if ascii && !long {
        return (
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n"
                .into(),
            text.to_vec(),
        );
    }
    let charset = if ascii { "us-ascii" } else { "utf-8" };
    if ascii {
        steps.push(format!(
            "A line of the body is longer than {MAX_LINE} characters, the limit of RFC 5322: \
             quoted-printable cuts it with soft line breaks (=)."
        ));
    } else {
        steps.push(
            "The body is not ASCII: it is sent as UTF-8 in quoted-printable, each byte above 127 \
             written =XX, so the message stays 7-bit."
                .into(),
        );
    }
    (
        format!(
            "Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: quoted-printable\r\n"
        ),
        encode_quoted_printable(text).into_bytes(),
    )
}

/// Splits an address list at the commas outside quotes and angle brackets.
fn split_addresses(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle) = (false, false);
    for c in list.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// An address list with non-ASCII display names as encoded words.
fn encode_addresses(list: &str, field: &str, steps: &mut Vec<String>) -> String {
    let mut encoded_any = false;
    let out: Vec<String> = split_addresses(list)
        .into_iter()
        .map(|address| {
            if address.is_ascii() {
                return address;
            }
            match address.split_once('<') {
                Some((name, rest)) if rest.is_ascii() => {
                    encoded_any = true;
                    let name = name.trim().trim_matches('"');
                    format!("{} <{rest}", encode_if_needed(name))
                }
                _ => {
                    steps.push(format!(
                        "{address}: an address itself with non-ASCII characters needs SMTPUTF8 \
                         (RFC 6531), which this server does not offer."
                    ));
                    address
                }
            }
        })
        .collect();
    if encoded_any {
        steps.push(format!(
            "A name in {field}: is not ASCII: it is written as an encoded word, the address stays as is."
        ));
    }
    out.join(", ")
}

/// The domain of the first address of a list.
fn first_domain(list: &str) -> Option<String> {
    let first = split_addresses(list).into_iter().next()?;
    let address = match first.split_once('<') {
        Some((_, rest)) => rest.split('>').next().unwrap_or(rest).to_string(),
        None => first,
    };
    let domain = address.rsplit_once('@')?.1.trim().to_string();
    (!domain.is_empty() && domain.is_ascii() && !domain.contains(['>', ' ', '"'])).then_some(domain)
}

/// A boundary that occurs in none of the parts.
fn boundary_for(parts: &[&[u8]]) -> String {
    (0u32..)
        .map(|n| format!("=_wirelab_part_{n}"))
        .find(|b| {
            !parts
                .iter()
                .any(|p| p.windows(b.len()).any(|w| w == b.as_bytes()))
        })
        .expect("some boundary is free")
}

/// `name="..."` and `filename="..."`, or their RFC 2231 forms for
/// names that are not plain ASCII.
fn filename_params(filename: &str) -> (String, String) {
    let name = if filename.trim().is_empty() {
        "attachment"
    } else {
        filename.trim()
    };
    let plain = name
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ');
    if plain {
        (format!("name=\"{name}\""), format!("filename=\"{name}\""))
    } else {
        let mut pct = String::from("utf-8''");
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                pct.push(b as char);
            } else {
                pct.push_str(&format!("%{b:02X}"));
            }
        }
        (format!("name*={pct}"), format!("filename*={pct}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use crate::mail::dissect::dissect;
    use crate::mail::mime::{Content, parse};
    use crate::stuffing::{find_end, unstuff};
    use proptest::prelude::*;

    fn course() -> Draft {
        Draft {
            from: "Alice <alice@crepes.fr>".into(),
            to: "bob@hamburger.edu".into(),
            subject: "Ketchup".into(),
            body: "Do you like ketchup?\nHow about pickles?\n".into(),
            attachment: None,
            date_unix: Some(1_700_000_000),
            unique: Some("1700000000.1".into()),
        }
    }

    #[test]
    fn the_course_message_is_a_plain_correct_message() {
        let c = compose(&course());
        let text = String::from_utf8(c.message.clone()).unwrap();
        assert_eq!(
            text,
            "From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu\r\nSubject: Ketchup\r\n\
             Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1700000000.1@crepes.fr>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\
             Content-Transfer-Encoding: 7bit\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n"
        );
        assert_eq!(c.wire, [c.message.as_slice(), b".\r\n"].concat());
        let d = dissect(&c.message);
        assert!(
            d.diagnostics.iter().all(|d| d.severity == Severity::Note),
            "{:?}",
            d.diagnostics
        );
        assert!(c.steps.iter().any(|s| s.contains("CR LF")));
    }

    #[test]
    fn an_attachment_makes_a_multipart_that_parses_back_to_the_same_bytes() {
        let mut draft = course();
        draft.subject = "¡Hola, señor!".into();
        draft.from = "Amélie <alice@crepes.fr>".into();
        draft.body = "Voici la recette des crêpes.\n.\nFin.".into();
        let png: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        draft.attachment = Some(Attachment {
            filename: "crêpe.png".into(),
            media_type: "image/png".into(),
            bytes: png.clone(),
        });
        let c = compose(&draft);
        assert!(c.message.is_ascii(), "everything is 7-bit");
        assert_eq!(c.stuffed_dots, 1);
        let root = parse(&c.message);
        assert_eq!(root.essence(), "multipart/mixed");
        let Content::Multipart(m) = &root.content else {
            panic!("not multipart")
        };
        assert_eq!(m.parts.len(), 2);
        assert!(m.close.is_some());
        let text = &m.parts[0].entity;
        assert_eq!(
            text.text(&c.message).unwrap(),
            "Voici la recette des crêpes.\r\n.\r\nFin.\r\n"
        );
        let file = &m.parts[1].entity;
        assert!(file.is_attachment());
        assert_eq!(file.filename().as_deref(), Some("crêpe.png"));
        assert_eq!(file.decoded(&c.message).bytes, png);
        let d = dissect(&c.message);
        assert!(
            d.diagnostics.iter().all(|d| d.severity == Severity::Note),
            "{:?}",
            d.diagnostics
        );
        let subject = d.find("Header: Subject").unwrap();
        assert!(subject.value.contains("¡Hola, señor!"), "{}", subject.value);
        // The wire form ends once, and unstuffs to the message.
        let end = find_end(&c.wire).unwrap();
        assert_eq!(end.len, c.wire.len());
        assert_eq!(unstuff(&c.wire[..end.content_end]).0, c.message);
        assert!(c.steps.iter().any(|s| s.contains("encoded words")));
        assert!(c.steps.iter().any(|s| s.contains("base64")));
    }

    #[test]
    fn the_boundary_avoids_the_text_and_long_lines_are_cut() {
        let mut draft = course();
        draft.body = "--=_wirelab_part_0\n".into();
        draft.attachment = Some(Attachment {
            filename: "a.txt".into(),
            media_type: String::new(),
            bytes: b"hi".to_vec(),
        });
        let c = compose(&draft);
        let text = String::from_utf8(c.message.clone()).unwrap();
        assert!(text.contains("boundary=\"=_wirelab_part_1\""));
        assert!(text.contains("application/octet-stream; name=\"a.txt\""));
        let root = parse(&c.message);
        let Content::Multipart(m) = &root.content else {
            panic!()
        };
        assert_eq!(m.parts.len(), 2);
        assert_eq!(
            m.parts[0].entity.text(&c.message).unwrap(),
            "--=_wirelab_part_0\r\n"
        );
        // A line over 998 characters is cut by quoted-printable, and comes back whole.
        draft.body = format!("{}\n", "x".repeat(1500));
        draft.attachment = None;
        let c = compose(&draft);
        let text = String::from_utf8(c.message.clone()).unwrap();
        assert!(text.lines().all(|l| l.len() <= 998));
        assert!(text.contains("Content-Transfer-Encoding: quoted-printable"));
        assert_eq!(
            parse(&c.message).text(&c.message).unwrap(),
            format!("{}\r\n", "x".repeat(1500))
        );
    }

    #[test]
    fn missing_fields_are_explained_not_invented() {
        let c = compose(&Draft {
            body: "hi".into(),
            ..Draft::default()
        });
        assert!(c.steps.iter().any(|s| s.contains("no From:")));
        assert!(!String::from_utf8_lossy(&c.message).contains("Date:"));
        assert!(c.message.ends_with(b"\r\n\r\nhi\r\n"));
        assert_eq!(
            split_addresses("\"Doe, J\" <j@x.y>, k@x.y"),
            ["\"Doe, J\" <j@x.y>", "k@x.y"]
        );
        assert_eq!(
            first_domain("Bob <bob@hamburger.edu>").as_deref(),
            Some("hamburger.edu")
        );
    }

    proptest! {
        #[test]
        fn any_body_and_file_survive_the_trip(
            body in "[ -~\n\u{e9}\u{2603}.]{0,300}",
            file in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut draft = course();
            draft.body = body.clone();
            draft.attachment = Some(Attachment { filename: "f.bin".into(), media_type: String::new(), bytes: file.clone() });
            let c = compose(&draft);
            prop_assert!(c.message.is_ascii());
            let end = find_end(&c.wire).unwrap();
            prop_assert_eq!(end.len, c.wire.len());
            prop_assert_eq!(unstuff(&c.wire[..end.content_end]).0, c.message.clone());
            let root = parse(&c.message);
            let Content::Multipart(m) = &root.content else { panic!("not multipart") };
            let mut want = String::from_utf8(canonical_line_endings(body.as_bytes())).unwrap();
            if !want.is_empty() && !want.ends_with("\r\n") { want.push_str("\r\n"); }
            prop_assert_eq!(m.parts[0].entity.text(&c.message).unwrap(), want);
            prop_assert_eq!(m.parts[1].entity.decoded(&c.message).bytes, file);
        }
    }
}
