//! Showing bytes to a student: control characters made visible (`␍␊`),
//! invalid UTF-8 as `\xNN`, and hex dump rows for the bytes pane.
//!
//! Everything here is pure and total: any byte string renders.

/// Renders bytes as text with CR, LF, TAB and the other C0 controls shown
/// as their Unicode control pictures (`␍`, `␊`, `␉`, `␀`, ...), DEL as `␡`,
/// and bytes that are not valid UTF-8 as `\xNN`. Valid non-ASCII UTF-8 text
/// is kept as is, so "señor" stays readable.
pub fn visible(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_visible_char(&mut out, c);
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// [`visible`] of `bytes` cut to its first `max` characters, with `…`
/// when there is more. It reads no further than it shows: a field's
/// preview of a 1 MB body costs as much as one of a short line.
pub fn visible_cut(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(max.min(bytes.len()) + 4);
    let mut count = 0;
    // Pushes one character of the visible form; false once `max` are in
    // and another would follow.
    let mut push = |out: &mut String, c: char| {
        if count == max {
            out.push('…');
            return false;
        }
        count += 1;
        out.push(c);
        true
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !push(&mut out, picture(c)) {
                return out;
            }
        }
        for b in chunk.invalid() {
            for c in format!("\\x{b:02X}").chars() {
                if !push(&mut out, c) {
                    return out;
                }
            }
        }
    }
    out
}

/// Like [`visible`], but a LF also breaks the line after its picture, so a
/// multi-line message still reads as lines while every CR and LF shows.
pub fn visible_multiline(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_visible_char(&mut out, c);
            if c == '\n' {
                out.push('\n');
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

fn push_visible_char(out: &mut String, c: char) {
    out.push(picture(c));
}

/// A character as [`visible`] shows it: a control one as its picture.
fn picture(c: char) -> char {
    match c {
        // U+2400..U+241F are the control pictures for 0x00..0x1F.
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('?'),
        '\u{7f}' => '␡',
        _ => c,
    }
}

/// A byte as a printable ASCII character for the text column of a hex dump,
/// or `.` for anything else.
pub fn ascii_cell(b: u8) -> char {
    if b.is_ascii_graphic() || b == b' ' {
        b as char
    } else {
        '.'
    }
}

/// One row of a hex dump: its starting offset and up to `width` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexRow<'a> {
    pub offset: usize,
    pub bytes: &'a [u8],
}

/// Splits `bytes` into hex dump rows of `width` bytes (the last may be short).
pub fn hex_rows(bytes: &[u8], width: usize) -> Vec<HexRow<'_>> {
    let width = width.max(1);
    bytes
        .chunks(width)
        .enumerate()
        .map(|(i, chunk)| HexRow {
            offset: i * width,
            bytes: chunk,
        })
        .collect()
}

/// Lowercase hex of bytes separated by spaces: `48 45 4c`.
pub fn hex_spaced(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Parses hex typed by a student (`48 45 4C`, `0x48,0x45`, `48454c`) into
/// bytes; `None` if a character is not hex or a digit is left over.
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let mut digits = Vec::new();
    let cleaned = text.replace("0x", " ").replace("0X", " ");
    for c in cleaned.chars() {
        if c.is_whitespace() || c == ',' || c == ':' {
            continue;
        }
        digits.push(c.to_digit(16)? as u8);
    }
    if digits.len() % 2 != 0 {
        return None;
    }
    Some(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_pictures() {
        assert_eq!(visible(b"HELLO WORLD\r\n"), "HELLO WORLD␍␊");
        assert_eq!(visible(b"a\tb\0\x7f"), "a␉b␀␡");
        assert_eq!(visible_multiline(b"a\r\nb\n"), "a␍␊\nb␊\n");
    }

    #[test]
    fn a_cut_is_the_start_of_the_whole_with_an_ellipsis() {
        // What `visible_cut` replaces: the whole made visible, then cut.
        let cut_whole = |bytes: &[u8], max: usize| {
            let whole = visible(bytes);
            if whole.chars().count() > max {
                let mut cut: String = whole.chars().take(max).collect();
                cut.push('…');
                cut
            } else {
                whole
            }
        };
        let inputs: [&[u8]; 5] = [
            b"",
            b"GET / HTTP/1.1\r\n",
            "se\u{f1}or \u{1F600} ok".as_bytes(),
            b"\xff\xfeab\x00\r\n\xc3",
            &[b'a'; 300],
        ];
        for bytes in inputs {
            for max in [0, 1, 2, 3, 5, 8, 17, 200, 400] {
                assert_eq!(
                    visible_cut(bytes, max),
                    cut_whole(bytes, max),
                    "{bytes:?} {max}"
                );
            }
        }
        assert_eq!(visible_cut(b"abc\r\n", 4), "abc␍…");
    }

    #[test]
    fn utf8_is_kept_and_invalid_bytes_are_escaped() {
        assert_eq!(visible("señor".as_bytes()), "señor");
        assert_eq!(visible(b"caf\xe9!"), "caf\\xE9!");
    }

    #[test]
    fn hex_helpers_round_trip() {
        let bytes = b"HEL\x00\xff";
        assert_eq!(hex_spaced(bytes), "48 45 4c 00 ff");
        assert_eq!(parse_hex("48 45 4c 00 ff").unwrap(), bytes);
        assert_eq!(parse_hex("0x48,0x45").unwrap(), b"HE");
        assert_eq!(parse_hex("484").as_deref(), None);
        assert_eq!(parse_hex("zz").as_deref(), None);
        let rows = hex_rows(b"0123456789", 4);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].offset, 8);
        assert_eq!(rows[2].bytes, b"89");
        assert_eq!(ascii_cell(b'\n'), '.');
    }
}
