//! Bencode (BEP 3), the encoding of `.torrent` files and tracker replies:
//! a parser that gives every value its byte span, and a writer.
//!
//! [`parse`] is strict where BEP 3 is (`i03e`, `i-0e`, a dictionary key that
//! is not a string, bytes after the value) and bounded: nesting deeper than
//! [`Limits::max_depth`], input longer than [`Limits::max_len`] or more than
//! [`Limits::max_items`] values are refused with a [`DecodeError`] that says
//! where. Dictionary keys out of order or repeated are read (real files have
//! them) and listed in [`Parsed::irregular_keys`] so a dissector can say so.
//! Values built in code ([`Value::dict`] and friends) carry empty spans.

use crate::dissect::Span;

/// Bounds on what [`parse`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists and dictionaries.
    pub max_depth: usize,
    /// Longest input, in bytes.
    pub max_len: usize,
    /// Most values (integers, strings, lists, dictionaries) in all.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // A .torrent of a few GiB in 256 KiB pieces holds ~10^5 bytes of
        // hashes in one string; 4 MiB and 64 levels cover every real file.
        Limits {
            max_depth: 64,
            max_len: 4 * 1024 * 1024,
            max_items: 100_000,
        }
    }
}

/// One bencoded value and the bytes it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub span: Span,
    pub kind: Kind,
}

/// The four kinds of BEP 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Entries in the order they were read (sorted when built in code).
    Dict(Vec<Entry>),
}

/// One `key value` pair of a dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub key_span: Span,
    pub value: Value,
}

/// Why bytes are not bencode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    #[error("the data ends in the middle of a value")]
    Truncated,
    #[error("expected i, l, d or a digit to start a value")]
    UnexpectedByte,
    #[error("an integer must be digits between i and e, without leading zeros or -0")]
    BadInteger,
    #[error("the integer does not fit in 64 bits")]
    IntegerOverflow,
    #[error("a string length must be digits, without leading zeros, then a colon")]
    BadLength,
    #[error("a dictionary key must be a string")]
    KeyNotString,
    #[error("nested deeper than the limit")]
    TooDeep,
    #[error("longer than the limit")]
    TooLong,
    #[error("more values than the limit")]
    TooManyItems,
    #[error("bytes follow the value")]
    TrailingBytes,
}

/// A [`Reason`] and where it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (at {span})")]
pub struct DecodeError {
    pub reason: Reason,
    pub span: Span,
}

/// A parsed value and what was irregular but readable in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub value: Value,
    /// Keys out of sorted order or repeated (BEP 3: "Keys must be strings
    /// and appear in sorted order").
    pub irregular_keys: Vec<Span>,
}

/// Parses exactly one value covering all of `bytes`.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Parsed, DecodeError> {
    if bytes.len() > limits.max_len {
        return Err(DecodeError {
            reason: Reason::TooLong,
            span: Span::new(limits.max_len, bytes.len()),
        });
    }
    let mut parser = Parser {
        bytes,
        pos: 0,
        limits,
        items: 0,
        irregular_keys: Vec::new(),
    };
    let value = parser.value(0)?;
    if parser.pos != bytes.len() {
        return Err(DecodeError {
            reason: Reason::TrailingBytes,
            span: Span::new(parser.pos, bytes.len()),
        });
    }
    Ok(Parsed {
        value,
        irregular_keys: parser.irregular_keys,
    })
}

/// Parses with the default [`Limits`].
pub fn parse_default(bytes: &[u8]) -> Result<Parsed, DecodeError> {
    parse(bytes, &Limits::default())
}

/// A cursor over the input: every value's span is where it started and
/// where the cursor stood after it.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    items: usize,
    irregular_keys: Vec<Span>,
}

impl Parser<'_> {
    fn fail(&self, reason: Reason, start: usize) -> DecodeError {
        DecodeError {
            reason,
            span: Span::new(start, self.pos.max(start + 1).min(self.bytes.len())),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let start = self.pos;
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(self.fail(Reason::TooManyItems, start));
        }
        let kind = match self.bytes.get(start) {
            None => return Err(self.fail(Reason::Truncated, start)),
            Some(b'i') => Kind::Int(self.int()?),
            Some(b'0'..=b'9') => Kind::Bytes(self.string()?.0),
            Some(b'l' | b'd') if depth >= self.limits.max_depth => {
                return Err(self.fail(Reason::TooDeep, start));
            }
            Some(b'l') => Kind::List(self.list(depth)?),
            Some(b'd') => Kind::Dict(self.dict(depth)?),
            Some(_) => return Err(self.fail(Reason::UnexpectedByte, start)),
        };
        Ok(Value {
            span: Span::new(start, self.pos),
            kind,
        })
    }

    /// Digits up to `end`, returning them and moving past `end`.
    fn digits_until(&mut self, end: u8, reason: Reason) -> Result<&[u8], DecodeError> {
        let start = self.pos;
        let rest = &self.bytes[start..];
        let Some(len) = rest.iter().position(|&b| b == end) else {
            self.pos = self.bytes.len();
            return Err(self.fail(Reason::Truncated, start));
        };
        self.pos = start + len + 1;
        let digits = &self.bytes[start..start + len];
        let body = digits.strip_prefix(b"-").unwrap_or(digits);
        let canonical = !body.is_empty()
            && body.iter().all(u8::is_ascii_digit)
            && (body == b"0" || body[0] != b'0')
            && digits != b"-0";
        if !canonical {
            return Err(self.fail(reason, start));
        }
        Ok(digits)
    }

    fn int(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        self.pos += 1;
        let digits = self.digits_until(b'e', Reason::BadInteger)?;
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.fail(Reason::IntegerOverflow, start))
    }

    fn string(&mut self) -> Result<(Vec<u8>, Span), DecodeError> {
        let start = self.pos;
        let digits = self.digits_until(b':', Reason::BadLength)?;
        if digits.starts_with(b"-") {
            return Err(self.fail(Reason::BadLength, start));
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.fail(Reason::BadLength, start))?;
        let available = self.bytes.len() - self.pos;
        if len > available {
            self.pos = self.bytes.len();
            return Err(self.fail(Reason::Truncated, start));
        }
        let data = self.bytes[self.pos..self.pos + len].to_vec();
        self.pos += len;
        Ok((data, Span::new(start, self.pos)))
    }

    fn list(&mut self, depth: usize) -> Result<Vec<Value>, DecodeError> {
        self.pos += 1;
        let mut items = Vec::new();
        while !self.at_end_marker()? {
            items.push(self.value(depth + 1)?);
        }
        Ok(items)
    }

    fn dict(&mut self, depth: usize) -> Result<Vec<Entry>, DecodeError> {
        self.pos += 1;
        let mut entries: Vec<Entry> = Vec::new();
        while !self.at_end_marker()? {
            if !self.bytes[self.pos].is_ascii_digit() {
                let at = self.pos;
                return Err(self.fail(Reason::KeyNotString, at));
            }
            let (key, key_span) = self.string()?;
            if entries.last().is_some_and(|last| last.key >= key) {
                self.irregular_keys.push(key_span);
            }
            let value = self.value(depth + 1)?;
            entries.push(Entry {
                key,
                key_span,
                value,
            });
        }
        Ok(entries)
    }

    /// Whether the cursor is on the `e` closing a list or dictionary (and
    /// then moves past it); the data may not end before it.
    fn at_end_marker(&mut self) -> Result<bool, DecodeError> {
        match self.bytes.get(self.pos) {
            None => Err(self.fail(Reason::Truncated, self.pos)),
            Some(b'e') => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }
}

impl Value {
    fn built(kind: Kind) -> Value {
        Value {
            span: Span::default(),
            kind,
        }
    }

    pub fn int(n: i64) -> Value {
        Value::built(Kind::Int(n))
    }

    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::built(Kind::Bytes(b.into()))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::built(Kind::List(items))
    }

    /// A dictionary with its keys sorted as BEP 3 asks (later duplicates win).
    pub fn dict<K: Into<Vec<u8>>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in pairs {
            map.insert(k.into(), v);
        }
        Value::built(Kind::Dict(
            map.into_iter()
                .map(|(key, value)| Entry {
                    key,
                    key_span: Span::default(),
                    value,
                })
                .collect(),
        ))
    }

    /// The value of `key`, if this is a dictionary that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            Kind::Dict(entries) => entries
                .iter()
                .find(|e| e.key == key.as_bytes())
                .map(|e| &e.value),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self.kind {
            Kind::Int(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The string as UTF-8, if it is a string and valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()?).ok()
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match &self.kind {
            Kind::List(items) => Some(items),
            _ => None,
        }
    }

    /// The bencoding of this value, entries in their stored order.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    /// Appends the bencoding of this value to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Int(n) => {
                out.push(b'i');
                out.extend_from_slice(n.to_string().as_bytes());
                out.push(b'e');
            }
            Kind::Bytes(b) => write_string(b, out),
            Kind::List(items) => {
                out.push(b'l');
                items.iter().for_each(|v| v.write(out));
                out.push(b'e');
            }
            Kind::Dict(entries) => {
                out.push(b'd');
                for e in entries {
                    write_string(&e.key, out);
                    e.value.write(out);
                }
                out.push(b'e');
            }
        }
    }

    /// The same value with every span emptied, to compare what was read
    /// with what was built.
    pub fn without_spans(&self) -> Value {
        let kind = match &self.kind {
            Kind::List(items) => Kind::List(items.iter().map(Value::without_spans).collect()),
            Kind::Dict(entries) => Kind::Dict(
                entries
                    .iter()
                    .map(|e| Entry {
                        key: e.key.clone(),
                        key_span: Span::default(),
                        value: e.value.without_spans(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        Value::built(kind)
    }
}

fn write_string(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(bytes: &[u8]) -> Reason {
        parse_default(bytes).unwrap_err().reason
    }

    #[test]
    fn bep3_examples_parse_with_spans() {
        // The examples of BEP 3's "bencoding" section.
        let spam = parse_default(b"4:spam").unwrap().value;
        assert_eq!(spam.as_bytes(), Some(&b"spam"[..]));
        assert_eq!(parse_default(b"i3e").unwrap().value.as_int(), Some(3));
        assert_eq!(parse_default(b"i-3e").unwrap().value.as_int(), Some(-3));
        assert_eq!(parse_default(b"i0e").unwrap().value.as_int(), Some(0));
        let list = parse_default(b"l4:spam4:eggse").unwrap().value;
        let items = list.as_list().unwrap();
        assert_eq!(items[1].span, Span::new(7, 13));
        let dict = parse_default(b"d3:cow3:moo4:spam4:eggse").unwrap();
        assert!(dict.irregular_keys.is_empty());
        assert_eq!(dict.value.get("spam").unwrap().as_str(), Some("eggs"));
        assert_eq!(dict.value.get("spam").unwrap().span, Span::new(17, 23));
        let nested = parse_default(b"d4:spaml1:a1:bee").unwrap().value;
        assert_eq!(nested.get("spam").unwrap().as_list().unwrap().len(), 2);
    }

    #[test]
    fn non_canonical_and_broken_input_is_refused_with_a_reason() {
        assert_eq!(reason(b"i03e"), Reason::BadInteger);
        assert_eq!(reason(b"i-0e"), Reason::BadInteger);
        assert_eq!(reason(b"ie"), Reason::BadInteger);
        assert_eq!(reason(b"i1"), Reason::Truncated);
        assert_eq!(reason(b"i99999999999999999999e"), Reason::IntegerOverflow);
        assert_eq!(reason(b"04:spam"), Reason::BadLength);
        assert_eq!(reason(b"5:spam"), Reason::Truncated);
        assert_eq!(reason(b"di1e4:spame"), Reason::KeyNotString);
        assert_eq!(reason(b"l4:spam"), Reason::Truncated);
        assert_eq!(reason(b"i1ei2e"), Reason::TrailingBytes);
        assert_eq!(reason(b"x"), Reason::UnexpectedByte);
        assert_eq!(reason(b""), Reason::Truncated);
    }

    #[test]
    fn depth_length_and_count_are_bounded() {
        let deep = [vec![b'l'; 65], vec![b'e'; 65]].concat();
        assert_eq!(reason(&deep), Reason::TooDeep);
        let ok = [vec![b'l'; 64], vec![b'e'; 64]].concat();
        assert!(parse_default(&ok).is_ok());
        let small = Limits {
            max_len: 8,
            ..Limits::default()
        };
        let err = parse(b"l4:spam4:eggse", &small).unwrap_err();
        assert_eq!((err.reason, err.span), (Reason::TooLong, Span::new(8, 14)));
        let few = Limits {
            max_items: 2,
            ..Limits::default()
        };
        assert_eq!(
            parse(b"li1ei2ee", &few).unwrap_err().reason,
            Reason::TooManyItems
        );
    }

    #[test]
    fn unsorted_and_repeated_keys_are_read_and_reported() {
        let parsed = parse_default(b"d1:bi1e1:ai2e1:ai3ee").unwrap();
        assert_eq!(
            parsed.irregular_keys,
            vec![Span::new(7, 10), Span::new(13, 16)]
        );
    }

    #[test]
    fn built_values_sort_their_keys_and_round_trip() {
        let v = Value::dict([
            ("spam", Value::list(vec![Value::bytes("a"), Value::int(-7)])),
            ("cow", Value::bytes("moo")),
        ]);
        let wire = v.encode();
        assert_eq!(wire, b"d3:cow3:moo4:spaml1:ai-7eee");
        assert_eq!(parse_default(&wire).unwrap().value.without_spans(), v);
    }
}
