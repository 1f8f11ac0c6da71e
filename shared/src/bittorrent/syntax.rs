//! The peer-wire workbench's text syntax: one message per line, a name
//! and its numbers, as a student would say it (`request 0 0 16384`),
//! turned into a [`Message`] for [`Message::encode`]; and the handshake's
//! two fields (an info hash in hex, a peer id as text or hex).
//!
//! ```text
//! keep-alive | choke | unchoke | interested | not interested
//! have <index>                      bitfield <hex bytes>
//! request <index> <begin> <length>  cancel <index> <begin> <length>
//! piece <index> <begin> <text, or 0x and hex bytes>
//! ```
//!
//! A mistake is a [`SyntaxError`] saying where (a character range of the
//! line) and what was expected. What parses is sent as typed, even what
//! a peer refuses (a request over 16 KiB): the student sees the peer drop
//! the connection, and [`caution`] says why beforehand.

use super::metainfo::Sha1Hash;
use super::wire::{MAX_BLOCK, Message};
use crate::dissect::Span;
use crate::text::parse_hex;

/// The longest line the parser reads: a piece of a full 16 KiB block
/// written as hex, with room for its numbers.
pub const MAX_LINE: usize = 2 * MAX_BLOCK as usize + 64;

/// Every message the syntax knows, as a usage line (shown as help and in
/// errors).
pub const USAGE: &[&str] = &[
    "keep-alive",
    "choke",
    "unchoke",
    "interested",
    "not interested",
    "have <piece index>",
    "bitfield <hex bytes, e.g. ff80>",
    "request <index> <begin> <length>",
    "piece <index> <begin> <text, or 0x and hex bytes>",
    "cancel <index> <begin> <length>",
];

/// Why a line is not a message, and where in it (character offsets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SyntaxError {
    pub span: Span,
    pub reason: String,
}

impl SyntaxError {
    fn new(span: Span, reason: impl Into<String>) -> SyntaxError {
        SyntaxError {
            span,
            reason: reason.into(),
        }
    }
}

/// A word of the line and where it lies.
#[derive(Debug, Clone, Copy)]
struct Word<'a> {
    text: &'a str,
    span: Span,
}

fn words(line: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain([(line.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push(Word {
                    text: &line[s..i],
                    span: Span::new(s, i),
                });
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Reads one line of the syntax into the message it names.
pub fn parse_message(line: &str) -> Result<Message, SyntaxError> {
    if line.len() > MAX_LINE {
        return Err(SyntaxError::new(
            Span::new(MAX_LINE, line.len()),
            format!("a line is at most {MAX_LINE} characters"),
        ));
    }
    let all = words(line);
    let Some((first, args)) = all.split_first() else {
        return Err(SyntaxError::new(
            Span::new(0, line.len()),
            format!("type a message: {}", USAGE.join(", ")),
        ));
    };
    let name = first.text.to_ascii_lowercase();
    match name.as_str() {
        "keep-alive" | "keepalive" => bare(args, Message::KeepAlive, "keep-alive"),
        "choke" => bare(args, Message::Choke, "choke"),
        "unchoke" => bare(args, Message::Unchoke, "unchoke"),
        "interested" => bare(args, Message::Interested, "interested"),
        "not-interested" | "uninterested" => bare(args, Message::NotInterested, "not interested"),
        "not" => match args.split_first() {
            Some((w, rest)) if w.text.eq_ignore_ascii_case("interested") => {
                bare(rest, Message::NotInterested, "not interested")
            }
            _ => Err(SyntaxError::new(
                first.span,
                "did you mean \"not interested\"?",
            )),
        },
        "have" => {
            let [index] = numbers(args, first, &["piece index"])?;
            Ok(Message::Have(index))
        }
        "request" | "cancel" => {
            let [index, begin, length] = numbers(args, first, &["index", "begin", "length"])?;
            Ok(if name == "request" {
                Message::Request {
                    index,
                    begin,
                    length,
                }
            } else {
                Message::Cancel {
                    index,
                    begin,
                    length,
                }
            })
        }
        "bitfield" => bitfield(line, first, args),
        "piece" => piece(line, first, args),
        _ => Err(SyntaxError::new(
            first.span,
            format!(
                "{:?} is not a peer wire message; the messages are {}",
                first.text,
                USAGE.join(", ")
            ),
        )),
    }
}

/// A message without fields: anything after its name is a mistake.
fn bare(args: &[Word], message: Message, name: &str) -> Result<Message, SyntaxError> {
    match (args.first(), args.last()) {
        (Some(a), Some(b)) => Err(SyntaxError::new(
            Span::new(a.span.start, b.span.end),
            format!("{name} has no fields: remove {:?}", a.text),
        )),
        _ => Ok(message),
    }
}

/// Exactly `N` numbers of 32 bits, named `names` for the errors.
fn numbers<const N: usize>(
    args: &[Word],
    name: &Word,
    names: &[&str; N],
) -> Result<[u32; N], SyntaxError> {
    let usage = format!("{} <{}>", name.text, names.join("> <"));
    if args.len() != N {
        let span = match (args.get(N), args.last()) {
            (Some(extra), Some(last)) => Span::new(extra.span.start, last.span.end),
            _ => Span::new(
                name.span.start,
                args.last().map_or(name.span.end, |w| w.span.end),
            ),
        };
        let missing = names
            .get(args.len())
            .map_or(String::new(), |n| format!(": the {n} is missing"));
        return Err(SyntaxError::new(
            span,
            format!(
                "usage: {usage} ({N} numbers, {} given){missing}",
                args.len()
            ),
        ));
    }
    let mut out = [0u32; N];
    for ((slot, word), field) in out.iter_mut().zip(args).zip(names) {
        *slot = number(word, field)?;
    }
    Ok(out)
}

/// A field of four bytes: a decimal number up to 2³² − 1.
fn number(word: &Word, field: &str) -> Result<u32, SyntaxError> {
    if !word.text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SyntaxError::new(
            word.span,
            format!(
                "the {field} is a whole number (decimal digits), not {:?}",
                word.text
            ),
        ));
    }
    word.text.parse().map_err(|_| {
        SyntaxError::new(
            word.span,
            format!(
                "the {field} is sent on 4 bytes: at most {}, not {}",
                u32::MAX,
                word.text
            ),
        )
    })
}

/// Everything after `word`, as typed (a piece's data may hold spaces).
fn rest_of_line<'a>(line: &'a str, word: &Word) -> (&'a str, Span) {
    let start = word.span.end + 1;
    (
        line.get(start..).unwrap_or_default(),
        Span::new(start.min(line.len()), line.len()),
    )
}

fn hex_bytes(text: &str, span: Span, what: &str) -> Result<Vec<u8>, SyntaxError> {
    parse_hex(text).ok_or_else(|| {
        SyntaxError::new(
            span,
            format!("the {what} is hex bytes, two digits each (like ff80), not {text:?}"),
        )
    })
}

fn bitfield(line: &str, name: &Word, args: &[Word]) -> Result<Message, SyntaxError> {
    let Some(first) = args.first() else {
        return Err(SyntaxError::new(
            name.span,
            "usage: bitfield <hex bytes>, one bit per piece, piece 0 the high bit of the first byte (ff80: pieces 0 to 8)",
        ));
    };
    let (text, span) = rest_of_line(line, &args[0]);
    let span = Span::new(first.span.start, span.end);
    let text = format!("{} {text}", first.text);
    Ok(Message::Bitfield(hex_bytes(&text, span, "bitfield")?))
}

fn piece(line: &str, name: &Word, args: &[Word]) -> Result<Message, SyntaxError> {
    if args.len() < 3 {
        return Err(SyntaxError::new(
            name.span,
            format!(
                "usage: piece <index> <begin> <data> ({} of 3 given)",
                args.len()
            ),
        ));
    }
    let index = number(&args[0], "index")?;
    let begin = number(&args[1], "begin")?;
    let (text, _) = rest_of_line(line, &args[1]);
    let data_span = Span::new(args[2].span.start, line.len());
    let text = text.trim_start();
    let block = match text.strip_prefix("0x") {
        Some(hex) => hex_bytes(hex, data_span, "block")?,
        None => text.as_bytes().to_vec(),
    };
    Ok(Message::Piece {
        index,
        begin,
        block,
    })
}

/// What a peer will make of a message that parses but breaks BEP 3's
/// customs: said before it is sent, so the student expects the drop.
pub fn caution(message: &Message) -> Option<String> {
    match message {
        Message::Request { length, .. } if *length > MAX_BLOCK => Some(format!(
            "a request for {length} bytes is over the 16384 (16 KiB) that peers serve: the peer will drop the connection"
        )),
        Message::Request { length: 0, .. } => {
            Some("a request for 0 bytes asks for nothing: the peer will drop the connection".into())
        }
        Message::Piece { .. } => Some(
            "a piece the peer did not request is unexpected: it may drop the connection".into(),
        ),
        _ => None,
    }
}

/// A torrent's length and piece length: what a peer checks a request's
/// piece and range against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub length: u64,
    pub piece_length: u64,
}

impl Layout {
    pub fn pieces(&self) -> u64 {
        self.length.div_ceil(self.piece_length.max(1))
    }

    /// The length of piece `index` (the last one shorter), 0 past the end.
    pub fn piece_len(&self, index: u32) -> u64 {
        let start = u64::from(index) * self.piece_length;
        self.length.saturating_sub(start).min(self.piece_length)
    }
}

/// [`caution`], and in a torrent of `layout` also a request past the end
/// of its piece or for a piece that does not exist.
pub fn caution_in(message: &Message, layout: &Layout) -> Option<String> {
    if let Some(said) = caution(message) {
        return Some(said);
    }
    let Message::Request {
        index,
        begin,
        length,
    } = message
    else {
        return None;
    };
    let piece = layout.piece_len(*index);
    if piece == 0 {
        return Some(format!(
            "the torrent has pieces 0 to {}, no piece {index}: the peer will drop the connection",
            layout.pieces().saturating_sub(1)
        ));
    }
    let end = u64::from(*begin) + u64::from(*length);
    (end > piece).then(|| {
        format!(
            "bytes {begin} to {end} are past the end of piece {index} ({piece} bytes): the peer will drop the connection"
        )
    })
}

/// Reads an info hash typed as 40 hex digits (spaces allowed).
pub fn parse_info_hash(text: &str) -> Result<Sha1Hash, String> {
    let bytes = parse_hex(text).ok_or_else(|| {
        "an info hash is 40 hex digits (the SHA-1 of the info dictionary)".to_string()
    })?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("an info hash is 20 bytes (40 hex digits), not {}", b.len()))
}

/// Reads a peer id: 20 characters of text, or 40 hex digits.
pub fn parse_peer_id(text: &str) -> Result<[u8; 20], String> {
    if let Ok(id) = <[u8; 20]>::try_from(text.as_bytes()) {
        return Ok(id);
    }
    parse_hex(text)
        .and_then(|b| <[u8; 20]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| {
            format!(
                "a peer id is 20 bytes: 20 characters of text or 40 hex digits ({} characters given)",
                text.chars().count()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(line: &str) -> SyntaxError {
        parse_message(line).expect_err(line)
    }

    #[test]
    fn every_message_of_bep3_has_a_spelling() {
        let cases = [
            ("keep-alive", Message::KeepAlive),
            ("keepalive", Message::KeepAlive),
            ("choke", Message::Choke),
            ("  UNCHOKE ", Message::Unchoke),
            ("interested", Message::Interested),
            ("not interested", Message::NotInterested),
            ("not-interested", Message::NotInterested),
            ("have 7", Message::Have(7)),
            ("bitfield ff 80", Message::Bitfield(vec![0xff, 0x80])),
            (
                "request 0 0 16384",
                Message::Request {
                    index: 0,
                    begin: 0,
                    length: 16384,
                },
            ),
            (
                "cancel 1 16384 16384",
                Message::Cancel {
                    index: 1,
                    begin: 16384,
                    length: 16384,
                },
            ),
            (
                "piece 2 0 hello world",
                Message::Piece {
                    index: 2,
                    begin: 0,
                    block: b"hello world".to_vec(),
                },
            ),
            (
                "piece 2 4 0xdead beef",
                Message::Piece {
                    index: 2,
                    begin: 4,
                    block: vec![0xde, 0xad, 0xbe, 0xef],
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(parse_message(line), Ok(want), "{line}");
        }
    }

    #[test]
    fn the_typed_request_encodes_to_bep3_bytes() {
        let m = parse_message("request 1 16384 16384").unwrap();
        assert_eq!(
            m.encode(),
            [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]
        );
    }

    #[test]
    fn mistakes_say_where_and_what_was_expected() {
        let e = err("reqest 0 0 1");
        assert_eq!(e.span, Span::new(0, 6));
        assert!(e.reason.contains("not a peer wire message"), "{e}");
        assert!(e.reason.contains("request <index> <begin> <length>"), "{e}");

        let e = err("request 0 0");
        assert!(e.reason.contains("the length is missing"), "{e}");
        assert!(e.reason.contains("2 given"), "{e}");

        let e = err("request 0 0 16384 9");
        assert_eq!(e.span, Span::new(18, 19));

        let e = err("have x1");
        assert_eq!(e.span, Span::new(5, 7));
        assert!(e.reason.contains("piece index is a whole number"), "{e}");

        let e = err("have 4294967296");
        assert!(e.reason.contains("at most 4294967295"), "{e}");

        let e = err("have -1");
        assert!(e.reason.contains("whole number"), "{e}");

        let e = err("choke now");
        assert_eq!(e.span, Span::new(6, 9));
        assert!(e.reason.contains("no fields"), "{e}");

        let e = err("not now");
        assert!(e.reason.contains("not interested"), "{e}");

        let e = err("bitfield fz");
        assert_eq!(e.span, Span::new(9, 11));
        assert!(e.reason.contains("hex bytes"), "{e}");
        assert!(err("bitfield").reason.contains("usage: bitfield"));
        assert!(err("bitfield f").reason.contains("hex"));

        assert!(err("piece 0 0").reason.contains("2 of 3 given"));
        assert!(err("piece 0 0 0xzz").reason.contains("block is hex"));
        assert!(err("   ").reason.contains("type a message"));
    }

    #[test]
    fn long_lines_are_refused_before_being_read() {
        let line = format!("piece 0 0 {}", "a".repeat(MAX_LINE));
        assert!(err(&line).reason.contains("at most"));
        let whole = format!("piece 0 0 0x{}", "ab".repeat(MAX_BLOCK as usize));
        let Ok(Message::Piece { block, .. }) = parse_message(&whole) else {
            panic!("a 16 KiB block in hex fits a line");
        };
        assert_eq!(block.len(), MAX_BLOCK as usize);
    }

    #[test]
    fn oversized_requests_parse_with_a_caution() {
        let big = parse_message("request 0 0 32768").unwrap();
        assert!(caution(&big).unwrap().contains("drop the connection"));
        assert!(caution(&parse_message("request 0 0 0").unwrap()).is_some());
        assert_eq!(caution(&parse_message("request 0 0 16384").unwrap()), None);
        assert_eq!(caution(&Message::Interested), None);
    }

    #[test]
    fn requests_past_the_end_are_cautioned_in_a_torrent() {
        // 40000 bytes in pieces of 16384: 16384, 16384, 7232.
        let layout = Layout {
            length: 40000,
            piece_length: 16384,
        };
        assert_eq!(layout.pieces(), 3);
        assert_eq!(layout.piece_len(2), 7232);
        let said = |line: &str| caution_in(&parse_message(line).unwrap(), &layout);
        assert_eq!(said("request 1 0 16384"), None);
        assert_eq!(said("request 2 0 7232"), None);
        assert!(
            said("request 2 0 16384")
                .unwrap()
                .contains("past the end of piece 2")
        );
        assert!(said("request 2 7000 300").unwrap().contains("7232 bytes"));
        assert!(
            said("request 3 0 16")
                .unwrap()
                .contains("pieces 0 to 2, no piece 3")
        );
        assert!(said("request 4294967295 4294967295 16").is_some());
        assert!(said("request 0 0 32768").unwrap().contains("16384"));
        assert_eq!(said("have 9"), None);
    }

    #[test]
    fn handshake_fields_are_read_as_hex_or_text() {
        let hash = parse_info_hash(&"ab".repeat(20)).unwrap();
        assert_eq!(hash, [0xab; 20]);
        assert!(parse_info_hash("abcd").unwrap_err().contains("not 2"));
        assert!(
            parse_info_hash("xyz")
                .unwrap_err()
                .contains("40 hex digits")
        );
        assert_eq!(
            parse_peer_id("-WL0001-student00001").unwrap(),
            *b"-WL0001-student00001"
        );
        assert_eq!(parse_peer_id(&"01".repeat(20)).unwrap(), [1; 20]);
        assert!(parse_peer_id("short").unwrap_err().contains("5 characters"));
    }
}
