//! Turning the bytes of a text part or an encoded word into text, by the
//! charset its header names (RFC 2046 §4.1.2): UTF-8, US-ASCII,
//! ISO-8859-1, ISO-8859-15 and windows-1252.
//!
//! [`decode`] never fails: bytes the charset does not allow become U+FFFD
//! and the result says so, and an unknown charset is read as UTF-8 with a
//! note, so the student still sees something and learns why it may be wrong.

/// A charset this lab can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    UsAscii,
    Latin1,
    Latin9,
    Windows1252,
}

impl Charset {
    /// Looks a charset up by its MIME name or one of its registered aliases
    /// (case-insensitive).
    pub fn from_label(label: &str) -> Option<Charset> {
        let l = label.trim().trim_matches('"').to_ascii_lowercase();
        Some(match l.as_str() {
            "utf-8" | "utf8" => Charset::Utf8,
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us" => Charset::UsAscii,
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1"
            | "iso_8859-1:1987" | "cp819" | "ibm819" => Charset::Latin1,
            "iso-8859-15" | "iso8859-15" | "iso_8859-15" | "latin-9" | "latin9" => Charset::Latin9,
            "windows-1252" | "cp1252" | "x-cp1252" => Charset::Windows1252,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::UsAscii => "US-ASCII",
            Charset::Latin1 => "ISO-8859-1",
            Charset::Latin9 => "ISO-8859-15",
            Charset::Windows1252 => "windows-1252",
        }
    }
}

/// What went wrong while decoding, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CharsetProblem {
    /// The charset is not one this lab knows; the bytes were read as UTF-8.
    Unknown(String),
    /// This many bytes are not valid in the charset (shown as U+FFFD).
    InvalidBytes { charset: &'static str, count: usize },
}

impl CharsetProblem {
    pub fn describe(&self) -> String {
        match self {
            CharsetProblem::Unknown(label) => format!(
                "the charset {label:?} is not one this lab decodes; the text is shown as UTF-8"
            ),
            CharsetProblem::InvalidBytes { charset, count } => {
                format!("{count} byte(s) are not valid {charset}; they are shown as \u{FFFD}")
            }
        }
    }
}

/// Decodes `bytes` as `label` (a charset name from a header).
pub fn decode(bytes: &[u8], label: &str) -> (String, Option<CharsetProblem>) {
    match Charset::from_label(label) {
        Some(charset) => decode_as(bytes, charset),
        None => {
            let (text, _) = decode_as(bytes, Charset::Utf8);
            (text, Some(CharsetProblem::Unknown(label.to_string())))
        }
    }
}

/// Decodes `bytes` in a known charset.
pub fn decode_as(bytes: &[u8], charset: Charset) -> (String, Option<CharsetProblem>) {
    // Every charset here reads ASCII as ASCII, and most mail is ASCII: it
    // is copied at once rather than decoded a character at a time.
    if bytes.is_ascii() {
        return (String::from_utf8_lossy(bytes).into_owned(), None);
    }
    let mut invalid = 0usize;
    let text: String = match charset {
        Charset::Utf8 => {
            let mut out = String::with_capacity(bytes.len());
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    invalid += chunk.invalid().len();
                    out.push('\u{FFFD}');
                }
            }
            out
        }
        Charset::UsAscii => bytes
            .iter()
            .map(|&b| {
                if b.is_ascii() {
                    b as char
                } else {
                    invalid += 1;
                    '\u{FFFD}'
                }
            })
            .collect(),
        Charset::Latin1 => bytes.iter().map(|&b| b as char).collect(),
        Charset::Latin9 => bytes.iter().map(|&b| latin9(b)).collect(),
        Charset::Windows1252 => bytes
            .iter()
            .map(|&b| match windows1252(b) {
                Some(c) => c,
                None => {
                    invalid += 1;
                    '\u{FFFD}'
                }
            })
            .collect(),
    };
    let problem = (invalid > 0).then_some(CharsetProblem::InvalidBytes {
        charset: charset.name(),
        count: invalid,
    });
    (text, problem)
}

/// ISO-8859-15 is ISO-8859-1 with eight code points replaced (the euro sign
/// among them).
fn latin9(b: u8) -> char {
    match b {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        _ => b as char,
    }
}

/// windows-1252 is ISO-8859-1 with printable characters in 0x80..0x9F,
/// five of which are unassigned.
fn windows1252(b: u8) -> Option<char> {
    const HIGH: [Option<char>; 32] = [
        Some('€'),
        None,
        Some('‚'),
        Some('ƒ'),
        Some('„'),
        Some('…'),
        Some('†'),
        Some('‡'),
        Some('ˆ'),
        Some('‰'),
        Some('Š'),
        Some('‹'),
        Some('Œ'),
        None,
        Some('Ž'),
        None,
        None,
        Some('\u{2018}'),
        Some('\u{2019}'),
        Some('\u{201C}'),
        Some('\u{201D}'),
        Some('•'),
        Some('–'),
        Some('—'),
        Some('˜'),
        Some('™'),
        Some('š'),
        Some('›'),
        Some('œ'),
        None,
        Some('ž'),
        Some('Ÿ'),
    ];
    match b {
        0x80..=0x9F => HIGH[(b - 0x80) as usize],
        _ => Some(b as char),
    }
}

/// Encodes text as ISO-8859-1, if every character fits.
pub fn encode_latin1(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_aliases() {
        assert_eq!(Charset::from_label("UTF-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_label("\"iso-8859-1\""), Some(Charset::Latin1));
        assert_eq!(Charset::from_label("Latin1"), Some(Charset::Latin1));
        assert_eq!(Charset::from_label("koi8-r"), None);
    }

    #[test]
    fn ascii_reads_the_same_in_every_charset() {
        let ascii: Vec<u8> = (0..=0x7f).collect();
        for charset in [
            Charset::Utf8,
            Charset::UsAscii,
            Charset::Latin1,
            Charset::Latin9,
            Charset::Windows1252,
        ] {
            let (text, problem) = decode_as(&ascii, charset);
            assert_eq!(text.as_bytes(), ascii, "{charset:?}");
            assert_eq!(problem, None);
        }
        // One byte past ASCII and each charset reads it its own way.
        assert_eq!(decode_as(b"a\xa4", Charset::Latin9).0, "a€");
        assert_eq!(decode_as(b"a\xa4", Charset::UsAscii).0, "a\u{FFFD}");
    }

    #[test]
    fn latin1_and_friends() {
        let bytes = b"cr\xeape \xa4";
        assert_eq!(decode(bytes, "iso-8859-1").0, "crêpe ¤");
        assert_eq!(decode(bytes, "iso-8859-15").0, "crêpe €");
        assert_eq!(
            decode(b"\x93hi\x94", "windows-1252").0,
            "\u{201C}hi\u{201D}"
        );
        assert_eq!(
            decode(b"\x81", "windows-1252").1,
            Some(CharsetProblem::InvalidBytes {
                charset: "windows-1252",
                count: 1
            })
        );
        assert_eq!(encode_latin1("crêpe").unwrap(), b"cr\xeape");
        assert!(encode_latin1("€").is_none());
    }

    #[test]
    fn invalid_and_unknown_are_reported() {
        let (text, problem) = decode(b"caf\xe9", "utf-8");
        assert_eq!(text, "caf\u{FFFD}");
        assert!(problem.unwrap().describe().contains("not valid UTF-8"));
        let (text, problem) = decode(b"abc\x80", "us-ascii");
        assert_eq!(text, "abc\u{FFFD}");
        assert!(problem.is_some());
        let (text, problem) = decode("señor".as_bytes(), "x-martian");
        assert_eq!(text, "señor");
        assert!(matches!(problem, Some(CharsetProblem::Unknown(_))));
    }
}
