//! What one FTP data connection carried, taken apart by what the transfer
//! command said it would carry: a LIST listing (see
//! [`crate::ftp::dissect::dissect_list`]), an NLST name list, or a file (RETR,
//! STOR, APPE) shown line by line when it is text and as a block of bytes
//! when it is not.
//!
//! A data connection has no framing of its own: its end is the end of the
//! file (the sender's FIN, RFC 959 §3.4 stream mode). The caller passes all
//! the bytes that crossed it, the [`DataKind`] of the transfer (`None` while
//! no transfer command has claimed the connection) and the transfer type
//! that was in force, which decides what the bytes should look like.

use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::{LineEnding, split_lines};
use crate::ftp::dissect::dissect_list;
use crate::ftp::session::{DataKind, TransferType};
use crate::text::visible;

/// Whether bytes read as text: valid UTF-8 with no control characters other
/// than TAB, CR, LF and FF. Empty data counts as text.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n' | '\u{c}'))
    })
}

/// Known file signatures, for a binary file's first field.
const SIGNATURES: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
];

fn what(kind: &DataKind) -> (String, &'static str) {
    match kind {
        DataKind::Download { path } => (format!("RETR {path}"), "file from the server"),
        DataKind::Upload {
            path,
            append: false,
        } => (format!("STOR {path}"), "file to the server"),
        DataKind::Upload { path, append: true } => {
            (format!("APPE {path}"), "data appended on the server")
        }
        DataKind::Listing => ("LIST".into(), "listing"),
        DataKind::NameList => ("NLST".into(), "name list"),
    }
}

/// Dissects the bytes of one data connection.
pub fn dissect_data(
    bytes: &[u8],
    kind: Option<&DataKind>,
    transfer_type: TransferType,
) -> Dissection {
    match kind {
        Some(DataKind::Listing) => {
            let mut d = dissect_list(bytes);
            if bytes.is_empty() {
                d.summary = "LIST: an empty listing (the directory is empty)".into();
            }
            d
        }
        Some(DataKind::NameList) => name_list(bytes),
        Some(kind) => file(bytes, kind, transfer_type),
        None => {
            let mut d = Dissection::new(
                Protocol::Ftp,
                format!(
                    "data connection: {} bytes, no transfer command yet",
                    bytes.len()
                ),
                bytes.len(),
            );
            if !bytes.is_empty() {
                d.fields.push(
                    Field::new(
                        "Data",
                        Span::new(0, bytes.len()),
                        format!("{} bytes", bytes.len()),
                    )
                    .help("Bytes on a data connection that no transfer command (LIST, RETR, STOR) has claimed yet."),
                );
            }
            d
        }
    }
}

/// Lines shown one field each; the rest of a long file is one field, so a
/// big download does not make a tree nobody can read.
pub const MAX_LINE_FIELDS: usize = 1000;

fn line_fields(
    bytes: &[u8],
    name: &str,
    transfer_type: TransferType,
    d: &mut Dissection,
) -> Vec<Field> {
    let mut bare_lf = None;
    let mut fields = Vec::new();
    let lines = split_lines(bytes);
    let count = lines.len();
    for (number, (content, ending)) in lines.into_iter().enumerate() {
        if number == MAX_LINE_FIELDS {
            fields.push(Field::new(
                format!("{name}s {} to {count}", number + 1),
                Span::new(content.start, bytes.len()),
                format!(
                    "{} more lines, {} bytes",
                    count - number,
                    bytes.len() - content.start
                ),
            ));
            break;
        }
        let end = content.end + ending.map_or(0, |e| e.len());
        let mut line = Field::new(
            format!("{name} {}", number + 1),
            Span::new(content.start, end),
            visible(content.slice(bytes)),
        );
        if !content.is_empty() {
            line.children
                .push(Field::new("Text", content, visible(content.slice(bytes))));
        }
        match ending {
            Some(LineEnding::CrLf) => line.children.push(
                Field::new("End of line", Span::new(content.end, end), "CR LF (␍␊)")
                    .help("In ASCII mode (TYPE A) text travels with CR LF at the end of every line, whatever the hosts use (RFC 959 §3.1.1.1)."),
            ),
            Some(LineEnding::BareLf) => {
                bare_lf.get_or_insert(Span::new(content.end, end));
                line.children.push(
                    Field::new("End of line", Span::new(content.end, end), "LF alone (␊)")
                        .help("The Unix line end, as stored."),
                );
            }
            None => {}
        }
        fields.push(line);
    }
    if let (Some(span), TransferType::Ascii) = (bare_lf, transfer_type) {
        d.diagnostics.push(
            Diagnostic::note(
                span,
                "a line ends with LF alone although the transfer type is ASCII (TYPE A), where \
                 lines travel as CR LF: the sender sent the bytes as stored instead of converting them",
            )
            .reference("RFC 959 §3.1.1.1"),
        );
    }
    fields
}

fn name_list(bytes: &[u8]) -> Dissection {
    let mut d = Dissection::new(Protocol::Ftp, String::new(), bytes.len());
    let fields = line_fields(bytes, "Name", TransferType::Ascii, &mut d);
    d.summary = format!("NLST: {} names", split_lines(bytes).len());
    d.fields = fields;
    d
}

fn file(bytes: &[u8], kind: &DataKind, transfer_type: TransferType) -> Dissection {
    let (command, carried) = what(kind);
    let mut d = Dissection::new(Protocol::Ftp, String::new(), bytes.len());
    if looks_like_text(bytes) {
        let lines = line_fields(bytes, "Line", transfer_type, &mut d);
        d.summary = format!(
            "{command}: {} bytes of text, {} lines ({carried})",
            bytes.len(),
            split_lines(bytes).len()
        );
        d.fields = lines;
        return d;
    }
    let signature = SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic));
    d.summary = match signature {
        Some((_, name)) => format!("{command}: {} bytes, {name} ({carried})", bytes.len()),
        None => format!(
            "{command}: {} bytes of binary data ({carried})",
            bytes.len()
        ),
    };
    let mut field = Field::new(
        "File data",
        Span::new(0, bytes.len()),
        format!("{} bytes", bytes.len()),
    )
    .help("The file's bytes: the data connection has no header, and its end (the FIN) is the end of the file (RFC 959 §3.4).");
    match signature {
        Some((magic, name)) => {
            field.children.push(
                Field::new("Signature", Span::new(0, magic.len()), *name)
                    .help("The first bytes of the file say what format it is in."),
            );
            if bytes.len() > magic.len() {
                field.children.push(Field::new(
                    "Content",
                    Span::new(magic.len(), bytes.len()),
                    format!("{} bytes", bytes.len() - magic.len()),
                ));
            }
        }
        None => field.children.push(Field::new(
            "Bytes",
            Span::new(0, bytes.len()),
            format!("{} bytes", bytes.len()),
        )),
    }
    d.fields.push(field);
    if transfer_type == TransferType::Ascii {
        let first_lf = bytes.iter().position(|&b| b == b'\n');
        d.diagnostics.push(
            Diagnostic::warning(
                first_lf.map_or(Span::new(0, 0), |at| Span::new(at, at + 1)),
                "binary data sent in ASCII mode (TYPE A): the sender turns every line end into CR LF \
                 on the way, so the bytes that arrive are not the file (each LF byte gains a CR \
                 before it). Send TYPE I before a binary transfer",
            )
            .reference("RFC 959 §3.1.1.1"),
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;

    fn download(path: &str) -> DataKind {
        DataKind::Download { path: path.into() }
    }

    #[test]
    fn a_text_file_is_shown_line_by_line() {
        let bytes =
            b"Hello from the wirelab FTP server!\r\nThis file came over a data connection.\r\n";
        let d = dissect_data(
            bytes,
            Some(&download("/pub/hello.txt")),
            TransferType::Ascii,
        );
        assert_eq!(
            d.summary,
            "RETR /pub/hello.txt: 76 bytes of text, 2 lines (file from the server)"
        );
        assert_eq!(d.fields.len(), 2);
        assert!(d.diagnostics.is_empty());
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn bare_lf_in_ascii_mode_is_noted_and_not_in_binary_mode() {
        let bytes = b"one\ntwo\n";
        let d = dissect_data(bytes, Some(&download("/a")), TransferType::Ascii);
        assert_eq!(d.diagnostics.len(), 1);
        assert_eq!(d.diagnostics[0].span, Span::new(3, 4));
        let d = dissect_data(bytes, Some(&download("/a")), TransferType::Image);
        assert!(d.diagnostics.is_empty());
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn binary_files_are_one_block_and_ascii_mode_is_a_warning() {
        let png = crate::ftp::fs::PIXEL_PNG;
        let d = dissect_data(png, Some(&download("/pub/pixel.png")), TransferType::Image);
        assert!(d.summary.contains("PNG image"), "{}", d.summary);
        assert_eq!(d.fields[0].children[0].name, "Signature");
        assert!(d.diagnostics.is_empty());
        assert!(d.check_invariants(true).is_empty());
        let all: Vec<u8> = (0..=255u8).collect();
        let d = dissect_data(&all, Some(&download("/pub/bytes.bin")), TransferType::Ascii);
        assert_eq!(d.worst(), Some(Severity::Warning));
        assert_eq!(d.diagnostics[0].span, Span::new(10, 11));
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn listings_name_lists_uploads_and_unclaimed_bytes() {
        let listing = b"drwxr-xr-x 1 ftp ftp 0 Jan 01 00:00 pub\r\n";
        let d = dissect_data(listing, Some(&DataKind::Listing), TransferType::Ascii);
        assert_eq!(d.summary, dissect_list(listing).summary);
        let d = dissect_data(b"", Some(&DataKind::Listing), TransferType::Ascii);
        assert!(d.summary.contains("empty"));
        let d = dissect_data(
            b"a\r\nb\r\n",
            Some(&DataKind::NameList),
            TransferType::Ascii,
        );
        assert_eq!(d.summary, "NLST: 2 names");
        let upload = DataKind::Upload {
            path: "/upload/x.txt".into(),
            append: false,
        };
        let d = dissect_data(b"hi\r\n", Some(&upload), TransferType::Image);
        assert!(d.summary.starts_with("STOR /upload/x.txt"), "{}", d.summary);
        let d = dissect_data(b"early", None, TransferType::Ascii);
        assert!(d.summary.contains("no transfer command"));
        assert!(d.check_invariants(true).is_empty());
        assert!(looks_like_text(b"") && looks_like_text("señor\r\n".as_bytes()));
        assert!(!looks_like_text(b"a\0b"));
    }

    #[test]
    fn long_files_keep_a_bounded_tree() {
        let text = "line\r\n".repeat(MAX_LINE_FIELDS + 5);
        let d = dissect_data(
            text.as_bytes(),
            Some(&download("/big")),
            TransferType::Ascii,
        );
        assert_eq!(d.fields.len(), MAX_LINE_FIELDS + 1);
        assert!(
            d.summary
                .contains(&format!("{} lines", MAX_LINE_FIELDS + 5))
        );
        assert!(d.check_invariants(true).is_empty());
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_dissect_with_every_byte_covered(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            kind in 0usize..5,
            ascii in any::<bool>(),
        ) {
            let kinds = [
                Some(DataKind::Listing),
                Some(DataKind::NameList),
                Some(DataKind::Download { path: "/f".into() }),
                Some(DataKind::Upload { path: "/f".into(), append: true }),
                None,
            ];
            let t = if ascii { TransferType::Ascii } else { TransferType::Image };
            let d = dissect_data(&bytes, kinds[kind].as_ref(), t);
            // Listings of unparsed text are checked by the list dissector's own tests.
            if kind != 0 {
                prop_assert!(d.check_invariants(true).is_empty(), "{:?}", d.check_invariants(true));
            }
        }
    }
}
