//! The peer wire protocol's bytes (BEP 3): the 68-byte handshake, then
//! messages each preceded by their length on four bytes (zero: a
//! keep-alive), the first payload byte naming the message.
//!
//! [`WireReader`] frames a connection's incoming bytes: it returns the
//! handshake first, then one [`Message`] at a time, and refuses a length
//! prefix over its bound before buffering what follows it.

use super::metainfo::Sha1Hash;
use crate::dissect::Span;

/// "BitTorrent protocol", preceded by its length (19) in the handshake.
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// Length of the handshake: 1 + 19 + 8 reserved + 20 info hash + 20 peer id.
pub const HANDSHAKE_LEN: usize = 68;
/// The largest block a request may ask for: 16 KiB, what every client
/// uses; more is refused (clients drop peers asking for more than this).
pub const MAX_BLOCK: u32 = 16 * 1024;

/// Where each part of the handshake lies.
pub mod field {
    use std::ops::Range;
    pub const PSTRLEN: Range<usize> = 0..1;
    pub const PSTR: Range<usize> = 1..20;
    pub const RESERVED: Range<usize> = 20..28;
    pub const INFO_HASH: Range<usize> = 28..48;
    pub const PEER_ID: Range<usize> = 48..68;
}

/// The first message each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    pub reserved: [u8; 8],
    pub info_hash: Sha1Hash,
    pub peer_id: [u8; 20],
}

impl Handshake {
    /// A handshake with no extension bits set.
    pub fn new(info_hash: Sha1Hash, peer_id: [u8; 20]) -> Handshake {
        Handshake {
            reserved: [0; 8],
            info_hash,
            peer_id,
        }
    }

    pub fn encode(&self) -> [u8; HANDSHAKE_LEN] {
        let mut out = [0u8; HANDSHAKE_LEN];
        out[0] = 19;
        out[field::PSTR].copy_from_slice(PROTOCOL);
        out[field::RESERVED].copy_from_slice(&self.reserved);
        out[field::INFO_HASH].copy_from_slice(&self.info_hash);
        out[field::PEER_ID].copy_from_slice(&self.peer_id);
        out
    }

    /// Reads the 68 bytes of a handshake.
    pub fn parse(bytes: &[u8; HANDSHAKE_LEN]) -> Result<Handshake, WireError> {
        if bytes[0] != 19 || &bytes[field::PSTR] != PROTOCOL {
            return Err(WireError::NotBitTorrent);
        }
        let mut h = Handshake::new([0; 20], [0; 20]);
        h.reserved.copy_from_slice(&bytes[field::RESERVED]);
        h.info_hash.copy_from_slice(&bytes[field::INFO_HASH]);
        h.peer_id.copy_from_slice(&bytes[field::PEER_ID]);
        Ok(h)
    }
}

/// One message after the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    Bitfield(Vec<u8>),
    Request {
        index: u32,
        begin: u32,
        length: u32,
    },
    Piece {
        index: u32,
        begin: u32,
        block: Vec<u8>,
    },
    Cancel {
        index: u32,
        begin: u32,
        length: u32,
    },
    /// An id BEP 3 does not define (an extension): read and ignored.
    Unknown {
        id: u8,
        payload: Vec<u8>,
    },
}

/// Why bytes are not the peer wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    #[error("the handshake does not start with 19 \"BitTorrent protocol\"")]
    NotBitTorrent,
    #[error("a message of {len} bytes is over the limit of {limit}")]
    TooLong { len: u32, limit: usize },
    #[error("message {id} must have a payload of {expected} bytes, not {got}")]
    BadPayload { id: u8, expected: usize, got: usize },
}

impl Message {
    /// The id byte, `None` for a keep-alive.
    pub fn id(&self) -> Option<u8> {
        Some(match self {
            Message::KeepAlive => return None,
            Message::Choke => 0,
            Message::Unchoke => 1,
            Message::Interested => 2,
            Message::NotInterested => 3,
            Message::Have(_) => 4,
            Message::Bitfield(_) => 5,
            Message::Request { .. } => 6,
            Message::Piece { .. } => 7,
            Message::Cancel { .. } => 8,
            Message::Unknown { id, .. } => *id,
        })
    }

    /// The name BEP 3 gives it.
    pub fn name(&self) -> &'static str {
        id_name(self.id())
    }

    /// The message with its length prefix.
    pub fn encode(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        match self {
            Message::Have(i) => payload.extend_from_slice(&i.to_be_bytes()),
            Message::Bitfield(b) => payload.extend_from_slice(b),
            Message::Request {
                index,
                begin,
                length,
            }
            | Message::Cancel {
                index,
                begin,
                length,
            } => {
                for n in [index, begin, length] {
                    payload.extend_from_slice(&n.to_be_bytes());
                }
            }
            Message::Piece {
                index,
                begin,
                block,
            } => {
                payload.extend_from_slice(&index.to_be_bytes());
                payload.extend_from_slice(&begin.to_be_bytes());
                payload.extend_from_slice(block);
            }
            Message::Unknown { payload: p, .. } => payload.extend_from_slice(p),
            _ => {}
        }
        let id_len = usize::from(self.id().is_some());
        let mut out = Vec::with_capacity(4 + id_len + payload.len());
        out.extend_from_slice(&((id_len + payload.len()) as u32).to_be_bytes());
        out.extend(self.id());
        out.extend_from_slice(&payload);
        out
    }

    /// Reads one message from its body (what follows the length prefix).
    pub fn parse(body: &[u8]) -> Result<Message, WireError> {
        let Some((&id, payload)) = body.split_first() else {
            return Ok(Message::KeepAlive);
        };
        let exact = |expected: usize| {
            if payload.len() == expected {
                Ok(())
            } else {
                Err(WireError::BadPayload {
                    id,
                    expected,
                    got: payload.len(),
                })
            }
        };
        let word =
            |i: usize| u32::from_be_bytes(payload[i * 4..i * 4 + 4].try_into().unwrap_or([0; 4]));
        Ok(match id {
            0..=3 => {
                exact(0)?;
                [
                    Message::Choke,
                    Message::Unchoke,
                    Message::Interested,
                    Message::NotInterested,
                ][usize::from(id)]
                .clone()
            }
            4 => {
                exact(4)?;
                Message::Have(word(0))
            }
            5 => Message::Bitfield(payload.to_vec()),
            6 | 8 => {
                exact(12)?;
                let (index, begin, length) = (word(0), word(1), word(2));
                if id == 6 {
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
                }
            }
            7 => {
                if payload.len() < 8 {
                    return Err(WireError::BadPayload {
                        id,
                        expected: 8,
                        got: payload.len(),
                    });
                }
                Message::Piece {
                    index: word(0),
                    begin: word(1),
                    block: payload[8..].to_vec(),
                }
            }
            _ => Message::Unknown {
                id,
                payload: payload.to_vec(),
            },
        })
    }
}

/// BEP 3's name for message id `id` (`None`: keep-alive).
pub fn id_name(id: Option<u8>) -> &'static str {
    match id {
        None => "keep-alive",
        Some(0) => "choke",
        Some(1) => "unchoke",
        Some(2) => "interested",
        Some(3) => "not interested",
        Some(4) => "have",
        Some(5) => "bitfield",
        Some(6) => "request",
        Some(7) => "piece",
        Some(8) => "cancel",
        Some(_) => "unknown (an extension)",
    }
}

/// What [`WireReader::next_frame`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Handshake(Handshake),
    Message(Message),
}

/// Frames the bytes one side of a connection sends: a handshake, then
/// length-prefixed messages of at most `max_message` bytes.
#[derive(Debug, Clone)]
pub struct WireReader {
    buffer: Vec<u8>,
    handshake_done: bool,
    max_message: usize,
    consumed: usize,
}

/// The longest message a torrent of `pieces` pieces needs: a piece message
/// with a 16 KiB block, or its bitfield, whichever is longer.
pub fn max_message_for(pieces: usize) -> usize {
    (9 + MAX_BLOCK as usize).max(1 + pieces.div_ceil(8))
}

impl WireReader {
    /// A reader that expects the handshake first.
    pub fn new(max_message: usize) -> WireReader {
        WireReader {
            buffer: Vec::new(),
            handshake_done: false,
            max_message,
            consumed: 0,
        }
    }

    /// A reader for the messages after a handshake read elsewhere (or for
    /// a dissector shown messages alone).
    pub fn after_handshake(max_message: usize) -> WireReader {
        WireReader {
            handshake_done: true,
            ..WireReader::new(max_message)
        }
    }

    /// Adds bytes received. The driver calls [`WireReader::next_frame`] until it
    /// returns `Ok(None)` after every push, so the buffer never holds more
    /// than one message over the bound.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes buffered and not yet framed.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Where, counted from the first byte pushed, the next frame starts.
    pub fn offset(&self) -> usize {
        self.consumed
    }

    /// The next complete frame, `Ok(None)` until one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<(Frame, Span)>, WireError> {
        let start = self.consumed;
        if !self.handshake_done {
            let Some(head) = self.buffer.get(..HANDSHAKE_LEN) else {
                return match self.buffer.first() {
                    Some(&n) if n != 19 => Err(WireError::NotBitTorrent),
                    _ => Ok(None),
                };
            };
            let head: [u8; HANDSHAKE_LEN] = head.try_into().unwrap_or([0; HANDSHAKE_LEN]);
            let handshake = Handshake::parse(&head)?;
            self.take(HANDSHAKE_LEN);
            self.handshake_done = true;
            return Ok(Some((
                Frame::Handshake(handshake),
                Span::new(start, self.consumed),
            )));
        }
        let Some(prefix) = self.buffer.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(prefix.try_into().unwrap_or([0; 4]));
        if len as usize > self.max_message {
            return Err(WireError::TooLong {
                len,
                limit: self.max_message,
            });
        }
        // Checked: on wasm32 a length near 4 GiB plus the prefix overflows.
        let Some(end) = (len as usize).checked_add(4) else {
            return Ok(None);
        };
        let Some(body) = self.buffer.get(4..end) else {
            return Ok(None);
        };
        let message = Message::parse(body)?;
        self.take(end);
        Ok(Some((
            Frame::Message(message),
            Span::new(start, self.consumed),
        )))
    }

    fn take(&mut self, n: usize) {
        self.buffer.drain(..n);
        self.consumed += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_is_68_bytes_and_reads_back() {
        let h = Handshake::new([0xaa; 20], *b"-WL0001-abcdefghijkl");
        let wire = h.encode();
        assert_eq!(wire.len(), 68);
        assert_eq!(&wire[..20], b"\x13BitTorrent protocol");
        assert_eq!(Handshake::parse(&wire), Ok(h));
        let mut bad = wire;
        bad[1] = b'b';
        assert_eq!(Handshake::parse(&bad), Err(WireError::NotBitTorrent));
    }

    #[test]
    fn messages_have_bep3_layouts() {
        assert_eq!(Message::KeepAlive.encode(), [0, 0, 0, 0]);
        assert_eq!(Message::Interested.encode(), [0, 0, 0, 1, 2]);
        assert_eq!(Message::Have(258).encode(), [0, 0, 0, 5, 4, 0, 0, 1, 2]);
        let request = Message::Request {
            index: 1,
            begin: 16384,
            length: 16384,
        };
        assert_eq!(
            request.encode(),
            [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]
        );
        for m in [
            Message::Choke,
            Message::Unchoke,
            Message::NotInterested,
            Message::Bitfield(vec![0xf0]),
            request,
            Message::Piece {
                index: 2,
                begin: 0,
                block: b"data".to_vec(),
            },
            Message::Cancel {
                index: 0,
                begin: 0,
                length: 1,
            },
            Message::Unknown {
                id: 20,
                payload: vec![0],
            },
        ] {
            let wire = m.encode();
            assert_eq!(Message::parse(&wire[4..]), Ok(m));
        }
        assert_eq!(
            Message::parse(&[4, 0, 0]),
            Err(WireError::BadPayload {
                id: 4,
                expected: 4,
                got: 2
            })
        );
    }

    #[test]
    fn reader_frames_byte_by_byte_and_refuses_long_prefixes() {
        let mut stream = Handshake::new([1; 20], [2; 20]).encode().to_vec();
        stream.extend(Message::Unchoke.encode());
        stream.extend(Message::KeepAlive.encode());
        let mut reader = WireReader::new(max_message_for(8));
        let mut frames = Vec::new();
        for b in &stream {
            reader.push(std::slice::from_ref(b));
            while let Some(f) = reader.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames.len(), 3);
        assert_eq!(
            frames[1],
            (Frame::Message(Message::Unchoke), Span::new(68, 73))
        );
        assert_eq!(reader.pending(), 0);
        reader.push(&[0, 1, 0, 0]);
        assert_eq!(
            reader.next_frame(),
            Err(WireError::TooLong {
                len: 65536,
                limit: 16393
            })
        );
        let mut junk = WireReader::new(100);
        junk.push(b"GET / HTTP/1.1\r\n");
        assert_eq!(junk.next_frame(), Err(WireError::NotBitTorrent));
    }
}
