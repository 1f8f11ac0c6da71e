//! Domain names (RFC 1035 §3.1, §4.1.4): labels, the text form with its
//! escapes, and the wire form with compression pointers, both directions.
//!
//! Decoding follows pointers only backwards (to a "prior occurrence"), so a
//! hostile message cannot loop, and stops at [`MAX_NAME_LEN`] and
//! [`MAX_POINTER_JUMPS`]; every step is recorded as a [`NamePart`] with its
//! byte span so the dissector can show where each label and pointer is.
//! Encoding compresses against every name already written through the same
//! [`Compressor`]. Comparison and hashing ignore ASCII case, as DNS does.

use crate::dissect::Span;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Longest label, in bytes (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest name on the wire, length bytes and the root byte included.
pub const MAX_NAME_LEN: usize = 255;
/// More jumps than this cannot happen in a valid name (each jump must land
/// on a label), so it bounds the work on a hostile message.
pub const MAX_POINTER_JUMPS: usize = 127;

/// A domain name: a sequence of labels, the root (no labels) at the end.
/// Labels keep the case they were written in; comparisons ignore it.
#[derive(Clone, Default)]
pub struct Name {
    labels: Vec<Vec<u8>>,
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.labels.len() == other.labels.len()
            && self
                .labels
                .iter()
                .zip(&other.labels)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.labels.len());
        for label in &self.labels {
            state.write_usize(label.len());
            for b in label {
                state.write_u8(b.to_ascii_lowercase());
            }
        }
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    /// RFC 4034 §6.1 canonical order: compare labels from the right.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let a = self.labels.iter().rev().map(|l| l.to_ascii_lowercase());
        let b = other.labels.iter().rev().map(|l| l.to_ascii_lowercase());
        a.cmp(b)
    }
}

/// Why a name in text form is not a valid domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameTextError {
    #[error("a label is empty (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("the label {0:?} is longer than 63 bytes (RFC 1035 §2.3.4)")]
    LabelTooLong(String),
    #[error("the name is longer than 255 bytes on the wire (RFC 1035 §2.3.4)")]
    NameTooLong,
    #[error("bad escape {0:?}: use \\. or \\DDD with DDD at most 255")]
    BadEscape(String),
}

impl Name {
    /// The root name `.`.
    pub fn root() -> Name {
        Name { labels: Vec::new() }
    }

    /// A name from raw labels, checking the label and name limits.
    pub fn from_labels(labels: Vec<Vec<u8>>) -> Result<Name, NameTextError> {
        for label in &labels {
            if label.is_empty() {
                return Err(NameTextError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameTextError::LabelTooLong(
                    String::from_utf8_lossy(label).into_owned(),
                ));
            }
        }
        let name = Name { labels };
        if name.wire_len() > MAX_NAME_LEN {
            return Err(NameTextError::NameTooLong);
        }
        Ok(name)
    }

    /// Parses the text form, always as an absolute name: `gaia.cs.umass.edu`
    /// and `gaia.cs.umass.edu.` are the same. `\.` and `\DDD` escape bytes.
    pub fn parse(text: &str) -> Result<Name, NameTextError> {
        Self::parse_relative(text, &Name::root())
    }

    /// Parses the text form of a zone file: a name ending in `.` is absolute,
    /// any other is relative to `origin`; `@` is the origin itself.
    pub fn parse_relative(text: &str, origin: &Name) -> Result<Name, NameTextError> {
        if text == "@" {
            return Ok(origin.clone());
        }
        if text == "." {
            return Ok(Name::root());
        }
        let (labels, absolute) = split_text_labels(text)?;
        let mut all = labels;
        if !absolute {
            all.extend(origin.labels.iter().cloned());
        }
        Self::from_labels(all)
    }

    pub fn labels(&self) -> &[Vec<u8>] {
        &self.labels
    }

    pub fn is_root(&self) -> bool {
        self.labels.is_empty()
    }

    /// How many labels, the root not counted.
    pub fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// Bytes on the wire without compression: a length byte per label, the
    /// labels, and the root byte.
    pub fn wire_len(&self) -> usize {
        self.labels.iter().map(|l| l.len() + 1).sum::<usize>() + 1
    }

    /// The name one label up (`cs.umass.edu` → `umass.edu`); the root's
    /// parent is `None`.
    pub fn parent(&self) -> Option<Name> {
        (!self.labels.is_empty()).then(|| Name {
            labels: self.labels[1..].to_vec(),
        })
    }

    /// The last `count` labels: `gaia.cs.umass.edu`.suffix(2) is `umass.edu`.
    pub fn suffix(&self, count: usize) -> Name {
        let count = count.min(self.labels.len());
        Name {
            labels: self.labels[self.labels.len() - count..].to_vec(),
        }
    }

    /// Whether this name is `ancestor` or below it (`gaia.cs.umass.edu` is
    /// a subdomain of `umass.edu`, of `edu` and of the root).
    pub fn is_subdomain_of(&self, ancestor: &Name) -> bool {
        ancestor.labels.len() <= self.labels.len()
            && self.suffix(ancestor.labels.len()) == *ancestor
    }

    /// A new name with `label` in front.
    pub fn prepend(&self, label: &[u8]) -> Result<Name, NameTextError> {
        let mut labels = Vec::with_capacity(self.labels.len() + 1);
        labels.push(label.to_vec());
        labels.extend(self.labels.iter().cloned());
        Name::from_labels(labels)
    }

    /// The name with its labels lower-cased, as a map key.
    pub fn to_lowercase(&self) -> Name {
        Name {
            labels: self.labels.iter().map(|l| l.to_ascii_lowercase()).collect(),
        }
    }

    /// The name relative to `origin` (`gaia` for `gaia.cs.umass.edu` in
    /// `cs.umass.edu`, `@` for the origin itself), or the absolute form.
    pub fn relative_to(&self, origin: &Name) -> String {
        if self == origin {
            return "@".into();
        }
        if self.is_subdomain_of(origin) && !origin.is_root() {
            let keep = self.labels.len() - origin.labels.len();
            return self.labels[..keep]
                .iter()
                .map(|l| label_text(l))
                .collect::<Vec<_>>()
                .join(".");
        }
        self.to_string()
    }

    /// Appends the uncompressed wire form.
    pub fn write_uncompressed(&self, out: &mut Vec<u8>) {
        for label in &self.labels {
            out.push(label.len() as u8);
            out.extend_from_slice(label);
        }
        out.push(0);
    }
}

impl fmt::Display for Name {
    /// The absolute text form with a final dot, bytes outside printable
    /// ASCII (and `.` `\` inside labels) escaped as RFC 1035 §5.1 says.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.labels.is_empty() {
            return f.write_str(".");
        }
        for label in &self.labels {
            f.write_str(&label_text(label))?;
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl std::str::FromStr for Name {
    type Err = NameTextError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::parse(s)
    }
}

/// One label in text form, with `.`, `\`, `"`, `;`, `(`, `)`, `@`, `$`,
/// spaces and non-printable bytes escaped.
pub fn label_text(label: &[u8]) -> String {
    let mut s = String::with_capacity(label.len());
    for &b in label {
        match b {
            b'.' | b'\\' | b'"' | b';' | b'(' | b')' | b'@' | b'$' => {
                s.push('\\');
                s.push(b as char);
            }
            0x21..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s
}

/// Splits text into labels, undoing escapes; says whether it ended in a dot.
fn split_text_labels(text: &str) -> Result<(Vec<Vec<u8>>, bool), NameTextError> {
    let bytes = text.as_bytes();
    let mut labels = Vec::new();
    let mut current = Vec::new();
    let mut i = 0;
    let mut absolute = false;
    if bytes.is_empty() {
        return Err(NameTextError::EmptyLabel);
    }
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let rest = &bytes[i + 1..];
                if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                    let value: u32 = std::str::from_utf8(&rest[..3])
                        .ok()
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(256);
                    if value > 255 {
                        return Err(NameTextError::BadEscape(
                            String::from_utf8_lossy(&bytes[i..i + 4]).into_owned(),
                        ));
                    }
                    current.push(value as u8);
                    i += 4;
                } else if let Some(&c) = rest.first() {
                    if c.is_ascii_digit() {
                        return Err(NameTextError::BadEscape(
                            String::from_utf8_lossy(&bytes[i..]).into_owned(),
                        ));
                    }
                    current.push(c);
                    i += 2;
                } else {
                    return Err(NameTextError::BadEscape("\\".into()));
                }
            }
            b'.' => {
                if current.is_empty() {
                    return Err(NameTextError::EmptyLabel);
                }
                labels.push(std::mem::take(&mut current));
                i += 1;
                if i == bytes.len() {
                    absolute = true;
                }
            }
            b => {
                current.push(b);
                i += 1;
            }
        }
    }
    if !current.is_empty() {
        labels.push(current);
    }
    Ok((labels, absolute))
}

/// What went wrong reading a name from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameErrorKind {
    /// The message ends inside the name.
    Truncated,
    /// A length byte with the top bits `01` or `10` (RFC 6891 §5 retired
    /// extended label types; RFC 1035 reserves them).
    ReservedLabelType(u8),
    /// A pointer to itself or to a place already visited.
    PointerLoop,
    /// A pointer to a later offset: RFC 1035 §4.1.4 says pointers point to a
    /// prior occurrence.
    ForwardPointer,
    /// Longer than 255 bytes once decompressed.
    TooLong,
    /// More than [`MAX_POINTER_JUMPS`] pointers.
    TooManyPointers,
}

/// A name that could not be read, with where the problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameError {
    pub kind: NameErrorKind,
    pub span: Span,
}

impl NameError {
    pub fn message(&self) -> String {
        match self.kind {
            NameErrorKind::Truncated => "the message ends in the middle of a name".into(),
            NameErrorKind::ReservedLabelType(b) => format!(
                "length byte 0x{b:02X} starts with bits {}: label types 01 and 10 are reserved \
                 (only 00, a label, and 11, a pointer, exist)",
                if b & 0xC0 == 0x40 { "01" } else { "10" }
            ),
            NameErrorKind::PointerLoop => {
                "this compression pointer leads back to where it started: a pointer loop".into()
            }
            NameErrorKind::ForwardPointer => {
                "this compression pointer points forward; pointers must point to a prior \
                 occurrence of the name"
                    .into()
            }
            NameErrorKind::TooLong => {
                "the name is longer than 255 bytes once its pointers are followed".into()
            }
            NameErrorKind::TooManyPointers => "the name follows too many pointers".into(),
        }
    }

    pub fn reference(&self) -> &'static str {
        match self.kind {
            NameErrorKind::ReservedLabelType(_) => "RFC 6891 §5",
            NameErrorKind::TooLong => "RFC 1035 §2.3.4",
            _ => "RFC 1035 §4.1.4",
        }
    }
}

/// One step of reading a name, for the dissection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamePart {
    /// A length byte and its label.
    Label { span: Span, label: Vec<u8> },
    /// A two-byte pointer to `target`.
    Pointer { span: Span, target: usize },
    /// The zero byte that ends the name.
    Root { span: Span },
}

impl NamePart {
    pub fn span(&self) -> Span {
        match self {
            NamePart::Label { span, .. } | NamePart::Pointer { span, .. } => *span,
            NamePart::Root { span } => *span,
        }
    }
}

/// A name read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedName {
    pub name: Name,
    /// Where the name's bytes in place end: after its root byte or its
    /// first pointer. The next field starts here.
    pub end: usize,
    /// Every label and pointer, in reading order (after a jump the spans lie
    /// earlier in the message).
    pub parts: Vec<NamePart>,
}

/// Reads the name at `start` in `msg`, following compression pointers.
/// On error, the parts read so far are returned with the error so the
/// dissector can still show them.
pub fn decode_name(msg: &[u8], start: usize) -> Result<DecodedName, (NameError, Vec<NamePart>)> {
    let mut labels: Vec<Vec<u8>> = Vec::new();
    let mut parts = Vec::new();
    let mut pos = start;
    let mut end: Option<usize> = None;
    let mut wire_len = 1usize;
    let mut jumps = 0usize;
    // The earliest offset this name has read from: a pointer must land
    // before it.
    let mut lowest = start;
    loop {
        let Some(&len) = msg.get(pos) else {
            return Err((
                NameError {
                    kind: NameErrorKind::Truncated,
                    span: Span::new(pos.min(msg.len()), msg.len()),
                },
                parts,
            ));
        };
        match len & 0xC0 {
            0x00 if len == 0 => {
                parts.push(NamePart::Root {
                    span: Span::new(pos, pos + 1),
                });
                let end = end.unwrap_or(pos + 1);
                return Ok(DecodedName {
                    name: Name { labels },
                    end,
                    parts,
                });
            }
            0x00 => {
                let len = len as usize;
                let label_end = pos + 1 + len;
                if label_end > msg.len() {
                    return Err((
                        NameError {
                            kind: NameErrorKind::Truncated,
                            span: Span::new(pos, msg.len()),
                        },
                        parts,
                    ));
                }
                wire_len += len + 1;
                if wire_len > MAX_NAME_LEN {
                    return Err((
                        NameError {
                            kind: NameErrorKind::TooLong,
                            span: Span::new(pos, label_end),
                        },
                        parts,
                    ));
                }
                let label = msg[pos + 1..label_end].to_vec();
                parts.push(NamePart::Label {
                    span: Span::new(pos, label_end),
                    label: label.clone(),
                });
                labels.push(label);
                pos = label_end;
            }
            0xC0 => {
                let Some(&low) = msg.get(pos + 1) else {
                    return Err((
                        NameError {
                            kind: NameErrorKind::Truncated,
                            span: Span::new(pos, msg.len()),
                        },
                        parts,
                    ));
                };
                let target = (((len & 0x3F) as usize) << 8) | low as usize;
                let span = Span::new(pos, pos + 2);
                if end.is_none() {
                    end = Some(pos + 2);
                }
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err((
                        NameError {
                            kind: NameErrorKind::TooManyPointers,
                            span,
                        },
                        parts,
                    ));
                }
                if target > pos {
                    return Err((
                        NameError {
                            kind: NameErrorKind::ForwardPointer,
                            span,
                        },
                        parts,
                    ));
                }
                // Each jump lands before everything read so far, so landing
                // inside what this name already read can only be a loop.
                if target >= lowest {
                    return Err((
                        NameError {
                            kind: NameErrorKind::PointerLoop,
                            span,
                        },
                        parts,
                    ));
                }
                parts.push(NamePart::Pointer { span, target });
                lowest = target;
                pos = target;
            }
            _ => {
                return Err((
                    NameError {
                        kind: NameErrorKind::ReservedLabelType(len),
                        span: Span::new(pos, pos + 1),
                    },
                    parts,
                ));
            }
        }
    }
}

/// Writes names with compression: remembers where each suffix was written
/// and replaces a suffix seen before by a pointer to it. It borrows the
/// names it has written (they live in the message being encoded), so that
/// remembering a suffix copies no label.
#[derive(Debug, Default, Clone)]
pub struct Compressor<'a> {
    offsets: HashMap<Suffix<'a>, u16>,
}

/// The last labels of a name, compared and hashed ignoring ASCII case, as
/// [`Name`] is.
#[derive(Debug, Clone, Copy)]
struct Suffix<'a>(&'a [Vec<u8>]);

impl PartialEq for Suffix<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(other.0)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

impl Eq for Suffix<'_> {}

impl Hash for Suffix<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for label in self.0 {
            state.write_usize(label.len());
            for b in label {
                state.write_u8(b.to_ascii_lowercase());
            }
        }
    }
}

impl<'a> Compressor<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `name` to `out` (a whole message from its first byte),
    /// compressed against the names written before.
    pub fn write(&mut self, name: &'a Name, out: &mut Vec<u8>) {
        let labels = name.labels();
        for i in 0..labels.len() {
            let suffix = Suffix(&labels[i..]);
            if let Some(&offset) = self.offsets.get(&suffix) {
                out.extend_from_slice(&(0xC000 | offset).to_be_bytes());
                return;
            }
            // Pointers carry 14 bits: later offsets cannot be targets.
            if out.len() < 0x4000 {
                self.offsets.insert(suffix, out.len() as u16);
            }
            out.push(labels[i].len() as u8);
            out.extend_from_slice(&labels[i]);
        }
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_and_relative_names() {
        let n = Name::parse("gaia.cs.umass.edu").unwrap();
        assert_eq!(n.to_string(), "gaia.cs.umass.edu.");
        assert_eq!(n, Name::parse("GAIA.cs.UMass.edu.").unwrap());
        assert_eq!(n.wire_len(), 19);
        let origin = Name::parse("cs.umass.edu.").unwrap();
        assert_eq!(Name::parse_relative("gaia", &origin).unwrap(), n);
        assert_eq!(Name::parse_relative("@", &origin).unwrap(), origin);
        assert_eq!(n.relative_to(&origin), "gaia");
        assert!(n.is_subdomain_of(&Name::parse("umass.edu").unwrap()));
        assert!(n.is_subdomain_of(&Name::root()));
        assert!(!origin.is_subdomain_of(&n));
        assert_eq!(Name::parse(".").unwrap(), Name::root());
        assert_eq!(Name::root().to_string(), ".");
        assert_eq!(n.parent().unwrap(), origin);
        assert_eq!(Name::parse("a\\.b.c").unwrap().label_count(), 2);
        assert_eq!(Name::parse("a\\.b.c").unwrap().to_string(), "a\\.b.c.");
        assert_eq!(Name::parse("\\065b").unwrap().to_string(), "Ab.");
    }

    #[test]
    fn text_limits() {
        assert_eq!(Name::parse("a..b"), Err(NameTextError::EmptyLabel));
        assert!(matches!(
            Name::parse(&"x".repeat(64)),
            Err(NameTextError::LabelTooLong(_))
        ));
        assert!(Name::parse(&"x".repeat(63)).is_ok());
        let long = vec!["abcdefghi"; 26].join(".");
        assert_eq!(Name::parse(&long), Err(NameTextError::NameTooLong));
        assert!(matches!(
            Name::parse("a\\256"),
            Err(NameTextError::BadEscape(_))
        ));
    }

    #[test]
    fn compression_round_trip() {
        let mut out = vec![0u8; 12];
        let mut c = Compressor::new();
        let a = Name::parse("gaia.cs.umass.edu").unwrap();
        let b = Name::parse("dns.cs.umass.edu").unwrap();
        c.write(&a, &mut out);
        let second = out.len();
        c.write(&b, &mut out);
        // "dns" then a pointer to "cs.umass.edu" at offset 17.
        assert_eq!(&out[second..], &[3, b'd', b'n', b's', 0xC0, 17]);
        let d = decode_name(&out, second).unwrap();
        assert_eq!(d.name, b);
        assert_eq!(d.end, out.len());
        assert_eq!(
            d.parts[1],
            NamePart::Pointer {
                span: Span::new(second + 4, second + 6),
                target: 17
            }
        );
        let third = out.len();
        c.write(&a, &mut out);
        assert_eq!(&out[third..], &[0xC0, 12]);
    }

    #[test]
    fn hostile_pointers_are_refused() {
        // A pointer to itself.
        let msg = [0xC0, 0x00];
        assert_eq!(
            decode_name(&msg, 0).unwrap_err().0.kind,
            NameErrorKind::PointerLoop
        );
        // Two pointers pointing at each other: the first jump is forward.
        let msg = [0xC0, 0x02, 0xC0, 0x00];
        assert_eq!(
            decode_name(&msg, 0).unwrap_err().0.kind,
            NameErrorKind::ForwardPointer
        );
        let msg = [1, b'a', 0xC0, 0x00];
        // Pointer back to the start of the same name: a loop.
        assert_eq!(
            decode_name(&msg, 0).unwrap_err().0.kind,
            NameErrorKind::PointerLoop
        );
        assert_eq!(
            decode_name(&[3, b'a'], 0).unwrap_err().0.kind,
            NameErrorKind::Truncated
        );
        assert_eq!(
            decode_name(&[0x41], 0).unwrap_err().0.kind,
            NameErrorKind::ReservedLabelType(0x41)
        );
        // 128 labels of 1 byte: 257 bytes on the wire.
        let mut long = Vec::new();
        for _ in 0..128 {
            long.extend_from_slice(&[1, b'a']);
        }
        long.push(0);
        assert_eq!(
            decode_name(&long, 0).unwrap_err().0.kind,
            NameErrorKind::TooLong
        );
    }
}
