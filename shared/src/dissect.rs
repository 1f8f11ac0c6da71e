//! The one model every protocol fills: a Wireshark-style tree of fields over
//! the exact bytes of one message, plus diagnostics that explain what is wrong.
//!
//! Parsers build a [`Dissection`] with [`Field`]s whose [`Span`]s are byte
//! ranges into the message they were given. Callers rely on three rules:
//! spans nest (a child lies inside its parent), every byte of a well-formed
//! message is covered by some leaf, and a malformed message still yields a
//! tree of what could be read plus [`Diagnostic`]s, never a panic.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A half-open byte range `start..end` into the dissected message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// A span from `start` (inclusive) to `end` (exclusive). A reversed pair is
    /// normalised to an empty span at `start`, so bad arithmetic in a parser
    /// can never produce a span that panics when sliced.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// An empty span at `at`, used for "something is missing here".
    pub fn point(at: usize) -> Self {
        Span { start: at, end: at }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether `other` lies entirely inside this span.
    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// Whether byte offset `at` is inside this span.
    pub fn contains_offset(&self, at: usize) -> bool {
        self.start <= at && at < self.end
    }

    /// The same span moved `by` bytes to the right: used when a sub-parser
    /// worked on a slice that starts at `by` in the whole message.
    pub fn shifted(&self, by: usize) -> Span {
        Span {
            start: self.start + by,
            end: self.end + by,
        }
    }

    /// The bytes this span covers, clamped to the slice.
    pub fn slice<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        let end = self.end.min(bytes.len());
        let start = self.start.min(end);
        &bytes[start..end]
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// Which protocol (or message format) a dissection belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Protocol {
    /// Plain text lines, as on the uppercase server.
    Line,
    /// Raw bytes with no protocol structure.
    Raw,
    Http,
    Smtp,
    Pop3,
    Imap,
    Ftp,
    Dns,
    Mime,
    /// `.torrent` files, tracker replies and the peer wire protocol.
    Bittorrent,
}

impl Protocol {
    pub fn label(&self) -> &'static str {
        match self {
            Protocol::Line => "Text lines",
            Protocol::Raw => "Raw bytes",
            Protocol::Http => "HTTP",
            Protocol::Smtp => "SMTP",
            Protocol::Pop3 => "POP3",
            Protocol::Imap => "IMAP",
            Protocol::Ftp => "FTP",
            Protocol::Dns => "DNS",
            Protocol::Mime => "Internet message (RFC 5322 / MIME)",
            Protocol::Bittorrent => "BitTorrent",
        }
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing is wrong.
    Note,
    /// Tolerated by many implementations, but not what the RFC asks for.
    Warning,
    /// The message breaks a rule: a strict peer rejects it or misreads it.
    Error,
}

/// One node of the dissection tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// "Request line", "Method", "Header: Host", "QDCOUNT".
    pub name: String,
    pub span: Span,
    /// The decoded, human-readable value.
    pub value: String,
    /// What this field means, one or two sentences, with the RFC section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Field>,
}

impl Field {
    pub fn new(name: impl Into<String>, span: Span, value: impl Into<String>) -> Self {
        Field {
            name: name.into(),
            span,
            value: value.into(),
            help: None,
            children: Vec::new(),
        }
    }

    /// Adds the help text (builder style).
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds one child (builder style).
    pub fn child(mut self, child: Field) -> Self {
        self.children.push(child);
        self
    }

    /// Adds several children (builder style).
    pub fn with_children(mut self, children: impl IntoIterator<Item = Field>) -> Self {
        self.children.extend(children);
        self
    }

    /// This field and its descendants moved `by` bytes later: a message
    /// dissected alone, placed where it lies inside another.
    pub fn shifted(mut self, by: usize) -> Self {
        self.span = self.span.shifted(by);
        self.children = self.children.into_iter().map(|c| c.shifted(by)).collect();
        self
    }

    /// Depth-first iterator over this field and all its descendants.
    pub fn walk(&self) -> impl Iterator<Item = &Field> {
        let mut stack = vec![self];
        std::iter::from_fn(move || {
            let next = stack.pop()?;
            stack.extend(next.children.iter().rev());
            Some(next)
        })
    }
}

/// A rule the message breaks, or something worth pointing out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Span,
    /// "HTTP/1.1 requests must carry a Host header".
    pub message: String,
    /// "RFC 9112 §3.2".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            span,
            message: message.into(),
            reference: None,
        }
    }

    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, span, message)
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, span, message)
    }

    pub fn note(span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, span, message)
    }

    /// Adds the RFC reference (builder style).
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }
}

/// The result of dissecting one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dissection {
    pub protocol: Protocol,
    /// One line: "GET /index.html HTTP/1.1", "250 OK", "A? gaia.cs.umass.edu".
    pub summary: String,
    /// The length in bytes of the message that was dissected.
    pub length: usize,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
}

impl Dissection {
    pub fn new(protocol: Protocol, summary: impl Into<String>, length: usize) -> Self {
        Dissection {
            protocol,
            summary: summary.into(),
            length,
            fields: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// Shows `bytes[from..]`, bytes given after the end of the message, as
    /// one "Following bytes" field with `note`, so that a dissector of one
    /// message still covers all it was given. Nothing if there are none.
    pub fn following_bytes(&mut self, bytes: &[u8], from: usize, note: impl Into<String>) {
        if from < bytes.len() {
            let span = Span::new(from, bytes.len());
            self.fields.push(Field::new(
                "Following bytes",
                span,
                crate::text::visible(span.slice(bytes)),
            ));
            self.diagnostics.push(Diagnostic::note(span, note));
        }
    }

    /// Depth-first iterator over every field of the tree.
    pub fn walk(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().flat_map(Field::walk)
    }

    /// The first field, depth first, whose name is `name`.
    pub fn find(&self, name: &str) -> Option<&Field> {
        self.walk().find(|f| f.name == name)
    }

    /// The path (indices from the root) of the deepest field whose span
    /// contains `offset`: what the page selects when the student clicks a byte.
    pub fn path_at(&self, offset: usize) -> Option<Vec<usize>> {
        fn descend(fields: &[Field], offset: usize, path: &mut Vec<usize>) -> bool {
            for (i, f) in fields.iter().enumerate() {
                if f.span.contains_offset(offset) {
                    path.push(i);
                    descend(&f.children, offset, path);
                    return true;
                }
            }
            false
        }
        let mut path = Vec::new();
        descend(&self.fields, offset, &mut path).then_some(path)
    }

    /// The field at `path` (as returned by [`Dissection::path_at`]).
    pub fn field_at(&self, path: &[usize]) -> Option<&Field> {
        let (first, rest) = path.split_first()?;
        let mut field = self.fields.get(*first)?;
        for i in rest {
            field = field.children.get(*i)?;
        }
        Some(field)
    }

    /// The worst severity among the diagnostics, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.diagnostics.iter().map(|d| d.severity).max()
    }

    /// Checks the structural rules of the model and returns every violation:
    /// children inside their parents, spans inside the message, and (when
    /// `require_coverage` is set, for well-formed input) every byte covered
    /// by a leaf. Tests of every dissector call this.
    pub fn check_invariants(&self, require_coverage: bool) -> Vec<String> {
        let mut problems = Vec::new();
        let whole = Span::new(0, self.length);
        fn check(field: &Field, parent: Span, problems: &mut Vec<String>) {
            if !parent.contains(&field.span) {
                problems.push(format!(
                    "field {:?} at {} is outside its parent {}",
                    field.name, field.span, parent
                ));
            }
            for child in &field.children {
                check(child, field.span, problems);
            }
        }
        for f in &self.fields {
            check(f, whole, &mut problems);
        }
        for d in &self.diagnostics {
            if !whole.contains(&d.span) {
                problems.push(format!(
                    "diagnostic {:?} at {} is outside the message",
                    d.message, d.span
                ));
            }
        }
        if require_coverage {
            let mut covered = vec![false; self.length];
            for leaf in self.walk().filter(|f| f.children.is_empty()) {
                for slot in covered
                    .iter_mut()
                    .take(leaf.span.end.min(self.length))
                    .skip(leaf.span.start)
                {
                    *slot = true;
                }
            }
            if let Some(first) = covered.iter().position(|c| !c) {
                problems.push(format!("byte {first} is not covered by any leaf field"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dissection {
        let mut d = Dissection::new(Protocol::Line, "hello", 7);
        d.fields.push(
            Field::new("Line 1", Span::new(0, 7), "hello")
                .child(Field::new("Text", Span::new(0, 5), "hello"))
                .child(Field::new("End of line", Span::new(5, 7), "CRLF").help("RFC 5234 CRLF")),
        );
        d
    }

    #[test]
    fn span_normalises_reversed_ranges_and_clamps_slices() {
        let s = Span::new(5, 2);
        assert_eq!(s, Span::point(5));
        assert!(s.is_empty());
        assert_eq!(Span::new(2, 100).slice(b"abcdef"), b"cdef");
        assert_eq!(Span::new(9, 12).slice(b"abc"), b"");
        assert_eq!(Span::new(1, 3).shifted(10), Span::new(11, 13));
        assert!(Span::new(0, 4).contains(&Span::new(1, 4)));
        assert!(!Span::new(0, 4).contains(&Span::new(1, 5)));
    }

    #[test]
    fn path_at_finds_the_deepest_field() {
        let d = sample();
        assert_eq!(d.path_at(1), Some(vec![0, 0]));
        assert_eq!(d.path_at(6), Some(vec![0, 1]));
        assert_eq!(d.path_at(7), None);
        assert_eq!(d.field_at(&[0, 1]).unwrap().value, "CRLF");
        assert!(d.field_at(&[3]).is_none());
    }

    #[test]
    fn invariants_catch_escaping_children_and_gaps() {
        let d = sample();
        assert!(d.check_invariants(true).is_empty());
        let mut bad = sample();
        bad.fields[0].children[1].span = Span::new(5, 9);
        assert_eq!(bad.check_invariants(false).len(), 1);
        let mut gap = sample();
        gap.fields[0].children.pop();
        let problems = gap.check_invariants(true);
        assert_eq!(problems, vec!["byte 5 is not covered by any leaf field"]);
    }

    #[test]
    fn serde_round_trip_keeps_the_tree_and_omits_empty_parts() {
        let mut d = sample();
        d.diagnostics
            .push(Diagnostic::warning(Span::new(5, 7), "bare LF").reference("RFC 5321 §2.3.8"));
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains(r#""protocol":"line""#));
        assert!(json.contains(r#""severity":"warning""#));
        // A leaf without children or help does not carry empty keys.
        assert!(json.contains(r#"{"name":"Text","span":{"start":0,"end":5},"value":"hello"}"#));
        let back: Dissection = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.worst(), Some(Severity::Warning));
    }
}
