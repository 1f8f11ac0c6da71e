//! Metainfo, the contents of a `.torrent` file (BEP 3): the tracker's URL
//! and the info dictionary (name, piece length, the SHA-1 of every piece,
//! the length), whose own SHA-1 is the info hash that names the torrent
//! to the tracker and to peers.
//!
//! [`Metainfo::parse`] reads a file (single-file or multi-file) and hashes
//! the info dictionary's bytes exactly as they were read, never as
//! re-encoded; [`Metainfo::build`] writes a single-file torrent for data.

use super::bencode::{self, Kind, Value};
use crate::dissect::Span;
use sha1::{Digest, Sha1};

/// A SHA-1 digest: a piece hash, an info hash.
pub type Sha1Hash = [u8; 20];

/// The SHA-1 of `bytes`.
pub fn sha1(bytes: &[u8]) -> Sha1Hash {
    Sha1::digest(bytes).into()
}

/// What a torrent describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metainfo {
    /// The tracker's announce URL.
    pub announce: String,
    pub info: Info,
    /// The SHA-1 of the info dictionary's bytes.
    pub info_hash: Sha1Hash,
    /// Where the info dictionary lies in the file.
    pub info_span: Span,
}

/// The info dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub name: String,
    /// Bytes per piece (the last piece may be shorter).
    pub piece_length: u64,
    pub pieces: Vec<Sha1Hash>,
    /// The total length (the sum of the files' for a multi-file torrent).
    pub length: u64,
}

/// Why a `.torrent` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetainfoError {
    #[error("not bencode: {0}")]
    Bencode(#[from] bencode::DecodeError),
    #[error("the {0:?} key is missing or has the wrong type")]
    Missing(&'static str),
    #[error("pieces is not a whole number of 20-byte SHA-1 hashes")]
    RaggedPieces,
    #[error("piece length must be positive")]
    ZeroPieceLength,
    #[error("{pieces} piece hashes for a length that needs {needed}")]
    WrongPieceCount { pieces: usize, needed: u64 },
}

impl Info {
    /// How many pieces `length` bytes make in pieces of `piece_length`.
    pub fn piece_count(length: u64, piece_length: u64) -> u64 {
        length.div_ceil(piece_length.max(1))
    }

    /// The length of piece `index` (the last one holds what is left); 0
    /// past the end.
    pub fn piece_len(&self, index: usize) -> u64 {
        let start = index as u64 * self.piece_length;
        self.length.saturating_sub(start).min(self.piece_length)
    }

    /// Whether `data` is piece `index`, by its SHA-1.
    pub fn verify(&self, index: usize, data: &[u8]) -> bool {
        self.pieces.get(index) == Some(&sha1(data)) && data.len() as u64 == self.piece_len(index)
    }

    fn from_value(value: &Value) -> Result<Info, MetainfoError> {
        let name = value
            .get("name")
            .and_then(Value::as_bytes)
            .ok_or(MetainfoError::Missing("name"))?;
        let piece_length = value
            .get("piece length")
            .and_then(Value::as_int)
            .ok_or(MetainfoError::Missing("piece length"))?;
        if piece_length <= 0 {
            return Err(MetainfoError::ZeroPieceLength);
        }
        let raw = value
            .get("pieces")
            .and_then(Value::as_bytes)
            .ok_or(MetainfoError::Missing("pieces"))?;
        if !raw.len().is_multiple_of(20) {
            return Err(MetainfoError::RaggedPieces);
        }
        let pieces: Vec<Sha1Hash> = raw
            .chunks_exact(20)
            .map(|c| c.try_into().unwrap_or([0; 20]))
            .collect();
        let length = total_length(value)?;
        let needed = Info::piece_count(length, piece_length as u64);
        if needed != pieces.len() as u64 {
            return Err(MetainfoError::WrongPieceCount {
                pieces: pieces.len(),
                needed,
            });
        }
        Ok(Info {
            name: String::from_utf8_lossy(name).into_owned(),
            piece_length: piece_length as u64,
            pieces,
            length,
        })
    }

    /// The info dictionary as bencode (keys sorted).
    pub fn to_value(&self) -> Value {
        Value::dict([
            ("length", Value::int(self.length as i64)),
            ("name", Value::bytes(self.name.as_bytes())),
            ("piece length", Value::int(self.piece_length as i64)),
            ("pieces", Value::bytes(self.pieces.concat())),
        ])
    }
}

/// `length`, or the sum of the lengths of `files` (BEP 3's multi-file
/// form), never negative and never overflowing.
fn total_length(info: &Value) -> Result<u64, MetainfoError> {
    if let Some(length) = info.get("length").and_then(Value::as_int) {
        return u64::try_from(length).map_err(|_| MetainfoError::Missing("length"));
    }
    let files = info
        .get("files")
        .and_then(Value::as_list)
        .ok_or(MetainfoError::Missing("length"))?;
    files.iter().try_fold(0u64, |sum, file| {
        let len = file
            .get("length")
            .and_then(Value::as_int)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or(MetainfoError::Missing("files/length"))?;
        sum.checked_add(len).ok_or(MetainfoError::Missing("length"))
    })
}

impl Metainfo {
    /// Reads a `.torrent` file.
    pub fn parse(bytes: &[u8]) -> Result<Metainfo, MetainfoError> {
        let root = bencode::parse_default(bytes)?.value;
        let announce = root
            .get("announce")
            .and_then(Value::as_str)
            .ok_or(MetainfoError::Missing("announce"))?
            .to_string();
        let info_value = root.get("info").ok_or(MetainfoError::Missing("info"))?;
        if !matches!(info_value.kind, Kind::Dict(_)) {
            return Err(MetainfoError::Missing("info"));
        }
        let info = Info::from_value(info_value)?;
        Ok(Metainfo {
            announce,
            info,
            info_hash: sha1(info_value.span.slice(bytes)),
            info_span: info_value.span,
        })
    }

    /// A single-file torrent for `data`, cut into pieces of
    /// `piece_length` bytes, announced to `announce`: the file's bytes.
    pub fn build(name: &str, data: &[u8], piece_length: usize, announce: &str) -> Vec<u8> {
        let info = Info {
            name: name.to_string(),
            piece_length: piece_length.max(1) as u64,
            pieces: data.chunks(piece_length.max(1)).map(sha1).collect(),
            length: data.len() as u64,
        };
        Value::dict([
            ("announce", Value::bytes(announce)),
            ("info", info.to_value()),
        ])
        .encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_torrent_reads_back_with_its_hashes() {
        let data: Vec<u8> = (0..100u8).collect();
        let file = Metainfo::build("hundred.bin", &data, 32, "http://127.0.0.1:6969/announce");
        let m = Metainfo::parse(&file).unwrap();
        assert_eq!(m.announce, "http://127.0.0.1:6969/announce");
        assert_eq!(m.info.pieces.len(), 4);
        assert_eq!(m.info.piece_len(3), 4);
        assert_eq!(m.info.piece_len(4), 0);
        assert!(m.info.verify(3, &data[96..]));
        assert!(!m.info.verify(2, &data[96..]));
        assert_eq!(m.info_hash, sha1(m.info_span.slice(&file)));
        assert_eq!(&file[m.info_span.start..m.info_span.start + 1], b"d");
    }

    #[test]
    fn sha1_known_answer() {
        // FIPS 180 "abc".
        let h = sha1(b"abc");
        assert_eq!(
            crate::text::hex_spaced(&h).replace(' ', ""),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn broken_torrents_say_what_is_wrong() {
        let e = |b: &[u8]| Metainfo::parse(b).unwrap_err();
        assert_eq!(e(b"de"), MetainfoError::Missing("announce"));
        assert_eq!(
            e(b"d8:announce1:a4:infoi1ee"),
            MetainfoError::Missing("info")
        );
        let ragged = b"d8:announce1:a4:infod6:lengthi1e4:name1:x12:piece lengthi1e6:pieces3:abcee";
        assert_eq!(e(ragged), MetainfoError::RaggedPieces);
        let zero = b"d8:announce1:a4:infod6:lengthi1e4:name1:x12:piece lengthi0e6:pieces0:ee";
        assert_eq!(e(zero), MetainfoError::ZeroPieceLength);
        let short = b"d8:announce1:a4:infod6:lengthi2e4:name1:x12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaaee";
        assert_eq!(
            e(short),
            MetainfoError::WrongPieceCount {
                pieces: 1,
                needed: 2
            }
        );
        assert!(matches!(e(b"d"), MetainfoError::Bencode(_)));
    }
}
