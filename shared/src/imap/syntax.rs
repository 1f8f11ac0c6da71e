//! IMAP's data formats (RFC 9051 §4): atoms, quoted strings, literals and
//! parenthesised lists, read from one whole framed message with the span of
//! every item, and written back.
//!
//! The reader works on bytes the framer ([`super::frame`]) has delimited,
//! literals included, so a literal's data is always there or the message is
//! malformed. Lists nest at most [`MAX_DEPTH`] deep: a peer cannot make the
//! reader recurse without bound.

use crate::dissect::Span;

/// The deepest nesting of parenthesised lists read (a BODYSTRUCTURE of a
/// multipart message nests a few levels; 16 is far beyond real mail).
pub const MAX_DEPTH: usize = 16;

/// One item of a command or a response, without its position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A bare word: an atom, a number, NIL, a flag (`\Seen`), a sequence
    /// set (`1:*`), a fetch item with its section (`BODY[HEADER]<0.100>`).
    Atom(String),
    /// A quoted string, unescaped.
    Quoted(Vec<u8>),
    /// `{n}` (synchronising: the client waits for `+`) or `{n+}` followed by
    /// CR LF and n bytes.
    Literal {
        data: Vec<u8>,
        synchronizing: bool,
    },
    List(Vec<Value>),
}

impl Value {
    /// The atom's text, if this is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Value::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is an `astring` (atom, quoted string or literal).
    pub fn is_string_like(&self) -> bool {
        !matches!(self, Value::List(_))
    }

    /// The bytes of a string-like value (an atom's text, a string's content).
    pub fn string_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Atom(a) => Some(a.as_bytes()),
            Value::Quoted(q) => Some(q),
            Value::Literal { data, .. } => Some(data),
            Value::List(_) => None,
        }
    }

    /// Appends the wire form.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Value::Atom(a) => out.extend_from_slice(a.as_bytes()),
            Value::Quoted(q) => {
                out.push(b'"');
                for &b in q {
                    if b == b'"' || b == b'\\' {
                        out.push(b'\\');
                    }
                    out.push(b);
                }
                out.push(b'"');
            }
            Value::Literal {
                data,
                synchronizing,
            } => {
                let plus = if *synchronizing { "" } else { "+" };
                out.extend_from_slice(format!("{{{}{plus}}}\r\n", data.len()).as_bytes());
                out.extend_from_slice(data);
            }
            Value::List(items) => {
                out.push(b'(');
                write_all(items, out);
                out.push(b')');
            }
        }
    }
}

/// Writes `items` separated by single spaces.
pub fn write_all(items: &[Value], out: &mut Vec<u8>) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        item.write(out);
    }
}

/// One item with where it is in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

/// What a [`Node`] is; a literal keeps where its `{n}` and its data are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Atom,
    Quoted {
        value: Vec<u8>,
    },
    Literal {
        header: Span,
        data: Span,
        synchronizing: bool,
    },
    List {
        items: Vec<Node>,
    },
}

impl Node {
    /// The item without positions; `bytes` is the message it was read from.
    pub fn value(&self, bytes: &[u8]) -> Value {
        match &self.kind {
            NodeKind::Atom => Value::Atom(String::from_utf8_lossy(self.span.slice(bytes)).into()),
            NodeKind::Quoted { value } => Value::Quoted(value.clone()),
            NodeKind::Literal {
                data,
                synchronizing,
                ..
            } => Value::Literal {
                data: data.slice(bytes).to_vec(),
                synchronizing: *synchronizing,
            },
            NodeKind::List { items } => Value::List(items.iter().map(|n| n.value(bytes)).collect()),
        }
    }
}

/// What kind of rule a message breaks; the dissector and the server pick
/// their words (and BAD or NO) from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Any other grammar rule.
    Syntax,
    BadTag,
    UnknownCommand,
    Unbalanced,
    TooDeep,
    EightBitAtom,
    MissingCrlf,
    Literal,
}

/// Why a message does not parse, with where and which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Span,
    /// "RFC 9051 §4.3".
    pub reference: &'static str,
}

impl SyntaxError {
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        SyntaxError {
            kind,
            message: message.into(),
            span,
            reference: "RFC 9051 §9",
        }
    }

    /// Sets the RFC reference (builder style).
    pub fn cite(mut self, reference: &'static str) -> Self {
        self.reference = reference;
        self
    }
}

/// A cursor over one message: every item it reads comes with its span.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Whether the cursor is at the end of the line (CR LF, LF or nothing).
    pub fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some(b'\r' | b'\n'))
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> SyntaxError {
        let end = (self.pos + 1).min(self.bytes.len());
        SyntaxError::new(kind, Span::new(self.pos, end), message)
    }

    /// Reads exactly one space.
    pub fn space(&mut self) -> Result<(), SyntaxError> {
        if self.peek() == Some(b' ') {
            self.pos += 1;
            Ok(())
        } else if self.at_line_end() {
            Err(self.error(ErrorKind::Syntax, "the line ends where more is needed"))
        } else if self.peek() == Some(b')') {
            Err(self
                .error(ErrorKind::Unbalanced, "a ')' without its '('")
                .cite("RFC 9051 §4.4"))
        } else {
            Err(self.error(ErrorKind::Syntax, "items are separated by one space"))
        }
    }

    /// Reads the CR LF that ends the message; the span of the ending.
    pub fn line_end(&mut self) -> Result<Span, SyntaxError> {
        let start = self.pos;
        match (self.peek(), self.bytes.get(self.pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            (Some(b'\n'), _) => {
                return Err(self
                    .error(
                        ErrorKind::MissingCrlf,
                        "the line ends with LF alone, not CR LF",
                    )
                    .cite("RFC 9051 §2.2"));
            }
            (None, _) => {
                return Err(SyntaxError::new(
                    ErrorKind::MissingCrlf,
                    Span::point(self.pos),
                    "the line has no CR LF at its end: the peer keeps waiting for it",
                )
                .cite("RFC 9051 §2.2"));
            }
            _ if self.peek() == Some(b')') => {
                return Err(self
                    .error(ErrorKind::Unbalanced, "a ')' without its '('")
                    .cite("RFC 9051 §4.4"));
            }
            _ => return Err(self.error(ErrorKind::Syntax, "expected the end of the line")),
        }
        Ok(Span::new(start, self.pos))
    }

    /// Reads one item. `in_code` stops bare words at `]` (inside a
    /// response code); `depth` is how many lists enclose it.
    pub fn node(&mut self, depth: usize, in_code: bool) -> Result<Node, SyntaxError> {
        match self.peek() {
            Some(b'(') => self.list(depth, in_code),
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            Some(b')') => Err(self
                .error(ErrorKind::Unbalanced, "a ')' without its '('")
                .cite("RFC 9051 §4.4")),
            _ => self.bare(in_code),
        }
    }

    /// Reads items separated by single spaces up to the end of the line.
    pub fn nodes_to_line_end(&mut self, in_code: bool) -> Result<Vec<Node>, SyntaxError> {
        let mut nodes = Vec::new();
        self.read_nodes(in_code, &mut nodes)?;
        Ok(nodes)
    }

    /// [`Reader::nodes_to_line_end`] into `out`, which keeps the items read
    /// before an error (the dissector shows them).
    pub fn read_nodes(&mut self, in_code: bool, out: &mut Vec<Node>) -> Result<(), SyntaxError> {
        while !self.at_line_end() {
            self.space()?;
            out.push(self.node(0, in_code)?);
        }
        Ok(())
    }

    fn list(&mut self, depth: usize, in_code: bool) -> Result<Node, SyntaxError> {
        let start = self.pos;
        if depth >= MAX_DEPTH {
            return Err(self
                .error(
                    ErrorKind::TooDeep,
                    format!("lists nested more than {MAX_DEPTH} deep are refused"),
                )
                .cite("RFC 9051 §4.4"));
        }
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    let span = Span::new(start, self.pos);
                    return Ok(Node {
                        span,
                        kind: NodeKind::List { items },
                    });
                }
                None | Some(b'\r' | b'\n') => {
                    return Err(SyntaxError::new(
                        ErrorKind::Unbalanced,
                        Span::new(start, start + 1),
                        "this '(' is never closed: the line ends first",
                    )
                    .cite("RFC 9051 §4.4"));
                }
                _ => {
                    if !items.is_empty() {
                        self.space()?;
                    }
                    items.push(self.node(depth + 1, in_code)?);
                }
            }
        }
    }

    fn quoted(&mut self) -> Result<Node, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Node {
                        span: Span::new(start, self.pos),
                        kind: NodeKind::Quoted { value },
                    });
                }
                Some(b'\\') => match self.bytes.get(self.pos + 1) {
                    Some(&c @ (b'"' | b'\\')) => {
                        value.push(c);
                        self.pos += 2;
                    }
                    _ => {
                        return Err(self
                            .error(
                                ErrorKind::Syntax,
                                "in a quoted string '\\' only escapes '\"' and '\\'",
                            )
                            .cite("RFC 9051 §4.3"));
                    }
                },
                None | Some(b'\r' | b'\n' | 0) => {
                    return Err(SyntaxError::new(
                        ErrorKind::Syntax,
                        Span::new(start, self.pos),
                        "the quoted string does not end on its line (a string with CR, LF \
                         or NUL must be sent as a literal)",
                    )
                    .cite("RFC 9051 §4.3"));
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn literal(&mut self) -> Result<Node, SyntaxError> {
        let start = self.pos;
        let header = literal_header(&self.bytes[start..]).ok_or_else(|| {
            self.error(
                ErrorKind::Literal,
                "a literal is {n} or {n+} followed by CR LF",
            )
            .cite("RFC 9051 §4.3")
        })?;
        let data_start = start + header.len;
        let data_end = data_start as u64 + header.size;
        if data_end > self.bytes.len() as u64 {
            return Err(SyntaxError::new(
                ErrorKind::Literal,
                Span::new(start, start + header.len),
                format!(
                    "the literal announces {} bytes, only {} follow",
                    header.size,
                    self.bytes.len() - data_start
                ),
            )
            .cite("RFC 9051 §4.3"));
        }
        let data = &self.bytes[data_start..data_end as usize];
        if let Some(nul) = data.iter().position(|&b| b == 0) {
            let at = data_start + nul;
            return Err(SyntaxError::new(
                ErrorKind::Literal,
                Span::new(at, at + 1),
                "a NUL byte in a literal: literals carry CHAR8, bytes 1 to 255",
            )
            .cite("RFC 9051 §4.3"));
        }
        self.pos = data_end as usize;
        Ok(Node {
            span: Span::new(start, self.pos),
            kind: NodeKind::Literal {
                header: Span::new(start, start + header.len),
                data: Span::new(data_start, self.pos),
                synchronizing: header.synchronizing,
            },
        })
    }

    fn bare(&mut self, in_code: bool) -> Result<Node, SyntaxError> {
        let start = self.pos;
        let mut brackets = 0usize;
        while let Some(c) = self.peek() {
            let ends = match c {
                b'[' if !in_code => {
                    brackets += 1;
                    false
                }
                b']' if brackets > 0 => {
                    brackets -= 1;
                    false
                }
                b']' => in_code,
                b' ' | b'(' | b')' => brackets == 0,
                b'"' | b'{' | b'\r' | b'\n' => true,
                _ => false,
            };
            if ends {
                break;
            }
            if c >= 0x80 {
                return Err(self
                    .error(
                        ErrorKind::EightBitAtom,
                        format!(
                            "the byte 0x{c:02X} is not allowed in an atom: 8-bit text goes in a \
                             quoted string or a literal"
                        ),
                    )
                    .cite("RFC 9051 §4.1"));
            }
            if c < 0x20 || c == 0x7f {
                return Err(self.error(
                    ErrorKind::Syntax,
                    format!("the control byte 0x{c:02X} is not allowed in an atom"),
                ));
            }
            self.pos += 1;
        }
        if brackets > 0 {
            return Err(SyntaxError::new(
                ErrorKind::Unbalanced,
                Span::new(start, self.pos),
                "a '[' that is never closed",
            )
            .cite("RFC 9051 §6.4.5"));
        }
        if self.pos == start {
            return Err(self.error(
                ErrorKind::Syntax,
                "expected an atom, a quoted string, a literal or a list",
            ));
        }
        Ok(Node {
            span: Span::new(start, self.pos),
            kind: NodeKind::Atom,
        })
    }
}

/// A literal's `{n}` or `{n+}` with its CR LF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralHeader {
    pub size: u64,
    pub synchronizing: bool,
    /// The bytes of `{n}` and its CR LF.
    pub len: usize,
}

/// Reads `{n}CRLF` or `{n+}CRLF` at the start of `bytes`. The size
/// saturates instead of overflowing, so an absurd size is still refused by
/// the limits rather than misread.
pub fn literal_header(bytes: &[u8]) -> Option<LiteralHeader> {
    let rest = bytes.strip_prefix(b"{")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let size = rest[..digits].iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    let mut at = digits;
    let synchronizing = rest.get(at) != Some(&b'+');
    if !synchronizing {
        at += 1;
    }
    if rest.get(at..at + 3) != Some(b"}\r\n") {
        return None;
    }
    Some(LiteralHeader {
        size,
        synchronizing,
        len: 1 + at + 3,
    })
}

/// One end of a range in a sequence set: a number or `*`, the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNumber {
    Number(u32),
    Star,
}

/// One element of a sequence set with its span inside the set's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    pub first: SeqNumber,
    pub last: Option<SeqNumber>,
    pub span: Span,
}

/// Reads a sequence set (RFC 9051 §9 `sequence-set`: `1`, `2:4`, `5:*`,
/// `1,3:5`, or `$`, the saved search result). `None` if `text` is not one.
pub fn sequence_set(text: &str) -> Option<Vec<SeqRange>> {
    if text == "$" {
        return Some(Vec::new());
    }
    let mut ranges = Vec::new();
    let mut at = 0;
    for part in text.split(',') {
        let span = Span::new(at, at + part.len());
        at += part.len() + 1;
        let (first, last) = match part.split_once(':') {
            Some((a, b)) => (seq_number(a)?, Some(seq_number(b)?)),
            None => (seq_number(part)?, None),
        };
        ranges.push(SeqRange { first, last, span });
    }
    Some(ranges)
}

fn seq_number(text: &str) -> Option<SeqNumber> {
    if text == "*" {
        return Some(SeqNumber::Star);
    }
    number(text).filter(|&n| n > 0).map(SeqNumber::Number)
}

/// Reads an IMAP `number` (digits, at most 2^32 - 1).
pub fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Result<Vec<Value>, SyntaxError> {
        let mut r = Reader::new(bytes);
        let mut nodes = vec![r.node(0, false)?];
        nodes.extend(r.nodes_to_line_end(false)?);
        r.line_end()?;
        Ok(nodes.iter().map(|n| n.value(bytes)).collect())
    }

    #[test]
    fn items_are_read_with_their_kinds() {
        let values =
            read_all(b"a \"b \\\"c\\\\\" {3}\r\nxyz (1 (2)) BODY[HEADER.FIELDS (FROM)]<0.10>\r\n")
                .unwrap();
        assert_eq!(values[0], Value::Atom("a".into()));
        assert_eq!(values[1], Value::Quoted(b"b \"c\\".to_vec()));
        assert_eq!(
            values[2],
            Value::Literal {
                data: b"xyz".to_vec(),
                synchronizing: true
            }
        );
        assert!(matches!(&values[3], Value::List(items) if items.len() == 2));
        assert_eq!(
            values[4],
            Value::Atom("BODY[HEADER.FIELDS (FROM)]<0.10>".into())
        );
        let mut out = Vec::new();
        write_all(&values, &mut out);
        out.extend_from_slice(b"\r\n");
        assert_eq!(read_all(&out).unwrap(), values);
    }

    #[test]
    fn malformed_items_say_which_rule() {
        let kind = |b: &[u8]| read_all(b).unwrap_err().kind;
        assert_eq!(kind(b"(a (b)\r\n"), ErrorKind::Unbalanced);
        assert_eq!(kind(b"a)\r\n"), ErrorKind::Unbalanced);
        assert_eq!(kind(b"caf\xc3\xa9\r\n"), ErrorKind::EightBitAtom);
        assert_eq!(kind(b"a b"), ErrorKind::MissingCrlf);
        assert_eq!(kind(b"a\n"), ErrorKind::MissingCrlf);
        assert_eq!(kind(b"{5}\r\nab\r\n"), ErrorKind::Literal);
        assert_eq!(kind(b"{2}\r\na\0\r\n"), ErrorKind::Literal);
        let deep = format!("{}{}\r\n", "(".repeat(40), ")".repeat(40));
        assert_eq!(kind(deep.as_bytes()), ErrorKind::TooDeep);
        assert_eq!(kind(b"\"open\r\n"), ErrorKind::Syntax);
        assert_eq!(kind(b"a  b\r\n"), ErrorKind::Syntax);
    }

    #[test]
    fn sequence_sets() {
        let set = sequence_set("1,3:5,7:*").unwrap();
        assert_eq!(set.len(), 3);
        assert_eq!(set[1].first, SeqNumber::Number(3));
        assert_eq!(set[1].span, Span::new(2, 5));
        assert_eq!(set[2].last, Some(SeqNumber::Star));
        assert!(sequence_set("$").is_some());
        for bad in ["", "0", "1,", "a", "1:2:3", "4294967296", "-1"] {
            assert!(sequence_set(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn literal_headers() {
        assert_eq!(
            literal_header(b"{12+}\r\n"),
            Some(LiteralHeader {
                size: 12,
                synchronizing: false,
                len: 7
            })
        );
        assert_eq!(
            literal_header(b"{99999999999999999999999}\r\n")
                .unwrap()
                .size,
            u64::MAX
        );
        assert!(literal_header(b"{}\r\n").is_none());
        assert!(literal_header(b"{3}\n").is_none());
    }
}
