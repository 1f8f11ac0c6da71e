//! The student's view of BitTorrent's bytes: a `.torrent` file, a tracker
//! reply, and a peer wire stream (the handshake and the messages after
//! it), every byte under a leaf field, with help citing BEP 3 and BEP 23.
//!
//! Bencode is taken apart token by token (the `i`, the digits, the `e`;
//! a string's length prefix and its bytes), and the values a reader needs
//! decoded: the 20-byte SHA-1 of each piece, each 6-byte compact peer.
//! Broken input gives what could be read plus diagnostics, never a panic.

use super::bencode::{self, Kind, Value};
use super::metainfo::{Metainfo, sha1};
use super::wire::{Frame, HANDSHAKE_LEN, MAX_BLOCK, Message, WireReader, field, id_name};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::text::{hex_spaced, visible_cut};

const BEP3: &str = "BEP 3";

/// What a bencoded document is, for names and help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Torrent,
    TrackerReply,
}

/// Dissects a `.torrent` file.
pub fn dissect_torrent(bytes: &[u8]) -> Dissection {
    let mut d = dissect_bencode(bytes, Document::Torrent);
    match Metainfo::parse(bytes) {
        Ok(m) => {
            d.summary = format!(
                "torrent {:?}: {} bytes in {} of {}, info hash {}",
                m.info.name,
                m.info.length,
                plural(m.info.pieces.len(), "piece"),
                m.info.piece_length,
                hex(&m.info_hash)
            );
        }
        Err(e) if d.diagnostics.is_empty() => {
            d.diagnostics.push(
                Diagnostic::error(
                    Span::new(0, bytes.len()),
                    format!("not a usable torrent: {e}"),
                )
                .reference("BEP 3, metainfo files"),
            );
        }
        Err(_) => {}
    }
    d
}

/// Dissects a tracker's reply body.
pub fn dissect_tracker_reply(bytes: &[u8]) -> Dissection {
    let mut d = dissect_bencode(bytes, Document::TrackerReply);
    match super::announce::AnnounceReply::parse(bytes) {
        Ok(super::announce::AnnounceReply::Failure(reason)) => {
            d.summary = format!("tracker refused: {reason}");
        }
        Ok(super::announce::AnnounceReply::Peers {
            interval, peers, ..
        }) => {
            d.summary = format!(
                "{}, announce again in {interval} s",
                plural(peers.len(), "peer")
            );
        }
        Err(e) if d.diagnostics.is_empty() => d.diagnostics.push(
            Diagnostic::error(
                Span::new(0, bytes.len()),
                format!("not a tracker reply: {e}"),
            )
            .reference("BEP 3, trackers"),
        ),
        Err(_) => {}
    }
    d
}

/// Dissects any bencoded document.
pub fn dissect_bencode(bytes: &[u8], doc: Document) -> Dissection {
    let mut d = Dissection::new(Protocol::Bittorrent, "bencoded data", bytes.len());
    match bencode::parse_default(bytes) {
        Ok(parsed) => {
            let top = match doc {
                Document::Torrent => "Metainfo (.torrent)",
                Document::TrackerReply => "Tracker reply",
            };
            let ctx = Ctx { bytes, doc };
            d.fields.push(ctx.value(top, None, &parsed.value));
            for span in parsed.irregular_keys {
                d.diagnostics.push(
                    Diagnostic::warning(span, "dictionary keys must appear in sorted order, once")
                        .reference("BEP 3, bencoding"),
                );
            }
        }
        Err(e) => {
            d.summary = format!("broken bencode: {}", e.reason);
            d.fields.push(Field::new(
                "Unreadable bencode",
                Span::new(0, bytes.len()),
                visible_cut(bytes, 80),
            ));
            d.diagnostics.push(
                Diagnostic::error(e.span, e.reason.to_string()).reference("BEP 3, bencoding"),
            );
        }
    }
    d
}

struct Ctx<'a> {
    bytes: &'a [u8],
    doc: Document,
}

impl Ctx<'_> {
    /// The field for `v`, named `name`; `key` is the dictionary key it is
    /// the value of, which decides its help and how its bytes are shown.
    fn value(&self, name: &str, key: Option<&[u8]>, v: &Value) -> Field {
        let s = v.span;
        let mut f = match &v.kind {
            Kind::Int(n) => Field::new(name, s, n.to_string()).with_children([
                Field::new("Integer start", Span::new(s.start, s.start + 1), "i"),
                Field::new("Digits", Span::new(s.start + 1, s.end - 1), n.to_string()),
                Field::new("End", Span::new(s.end - 1, s.end), "e"),
            ]),
            Kind::Bytes(b) => self.string(name, key, b, s),
            Kind::List(items) => {
                let children = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.value(&format!("Item {}", i + 1), key, item));
                Field::new(name, s, format!("list of {}", items.len()))
                    .child(Field::new(
                        "List start",
                        Span::new(s.start, s.start + 1),
                        "l",
                    ))
                    .with_children(children)
                    .child(Field::new("End", Span::new(s.end - 1, s.end), "e"))
            }
            Kind::Dict(entries) => {
                let children = entries.iter().map(|e| {
                    let key_text = String::from_utf8_lossy(&e.key).into_owned();
                    let key_field = self.string("Key", None, &e.key, e.key_span);
                    let value_field = self.value(&key_text, Some(&e.key), &e.value);
                    Field::new(
                        format!("Entry: {key_text}"),
                        Span::new(e.key_span.start, e.value.span.end),
                        value_field.value.clone(),
                    )
                    .with_children([key_field, value_field])
                });
                Field::new(name, s, format!("dictionary of {}", entries.len()))
                    .child(Field::new(
                        "Dictionary start",
                        Span::new(s.start, s.start + 1),
                        "d",
                    ))
                    .with_children(children)
                    .child(Field::new("End", Span::new(s.end - 1, s.end), "e"))
            }
        };
        if key == Some(b"info") {
            f.value = format!("info hash {}", hex(&sha1(s.slice(self.bytes))));
        }
        if let Some(help) = key.and_then(|k| self.help(k)) {
            f = f.help(help);
        } else if key.is_none() && name != "Key" {
            f = f.help(match self.doc {
                Document::Torrent => "A .torrent file is one bencoded dictionary: the tracker's URL (announce) and the info dictionary (BEP 3, metainfo files).",
                Document::TrackerReply => "The tracker answers an announce with one bencoded dictionary: a failure reason, or the interval and the peers (BEP 3, trackers; BEP 23).",
            });
        }
        f
    }

    /// A string: its length prefix, then its bytes, decoded as the key says.
    fn string(&self, name: &str, key: Option<&[u8]>, b: &[u8], s: Span) -> Field {
        let data = Span::new(s.end - b.len(), s.end);
        let prefix = Field::new(
            "Length",
            Span::new(s.start, data.start),
            format!("{} bytes", b.len()),
        )
        .help(
            "A string is its length in decimal, a colon, then that many bytes (BEP 3, bencoding).",
        );
        let data_field = match key {
            Some(b"pieces") => self.hashes(b, data),
            Some(b"peers") => compact_peers(b, data),
            _ => Field::new("Bytes", data, shown(b)),
        };
        Field::new(name, s, data_field.value.clone()).with_children([prefix, data_field])
    }

    fn hashes(&self, b: &[u8], data: Span) -> Field {
        let children = b.chunks(20).enumerate().map(|(i, h)| {
            let at = data.start + i * 20;
            Field::new(
                format!("Piece {i} SHA-1"),
                Span::new(at, at + h.len()),
                hex(h),
            )
        });
        Field::new(
            "Piece hashes",
            data,
            format!("{} SHA-1 hashes", b.len() / 20),
        )
        .with_children(children)
    }

    fn help(&self, key: &[u8]) -> Option<&'static str> {
        Some(match (self.doc, key) {
            (_, b"announce") => {
                "The tracker's URL: where a peer announces itself and learns of others (BEP 3)."
            }
            (_, b"announce-list") => "Tiers of backup trackers (BEP 12).",
            (_, b"info") => {
                "The info dictionary: its SHA-1, over exactly these bytes, is the info hash that names the torrent to the tracker and in the handshake (BEP 3)."
            }
            (_, b"name") => "The suggested file name (BEP 3).",
            (_, b"piece length") => {
                "Bytes per piece; the file is cut into pieces of this size, the last one shorter (BEP 3). The course's slides use 256 kB chunks."
            }
            (_, b"pieces") => {
                "The SHA-1 hash of every piece, 20 bytes each, concatenated: a peer checks each piece it downloads against it (BEP 3)."
            }
            (_, b"length") => "The file's length in bytes (BEP 3).",
            (_, b"files") => "A multi-file torrent: each file's length and path (BEP 3).",
            (_, b"private") => "1: use only the trackers, no DHT or peer exchange (BEP 27).",
            (_, b"creation date") => {
                "When the torrent was made, in seconds since 1970 (a common extension)."
            }
            (_, b"comment" | b"created by") => "Free text (a common extension).",
            (_, b"failure reason") => {
                "Why the tracker refused the announce; nothing else is in the reply (BEP 3)."
            }
            (_, b"warning message") => "A warning; the announce was still answered.",
            (_, b"interval") => "Seconds the peer should wait before announcing again (BEP 3).",
            (_, b"min interval") => "The least time between announces the tracker accepts.",
            (_, b"complete") => "How many seeds (peers with the whole file) the tracker knows.",
            (_, b"incomplete") => "How many leechers (peers still downloading) the tracker knows.",
            (_, b"peers") => {
                "The peers: with compact=1, 6 bytes each, an IPv4 address and a port in network order (BEP 23); otherwise a list of dictionaries (BEP 3)."
            }
            (_, b"ip") => "The peer's address (BEP 3).",
            (_, b"port") => "The peer's port (BEP 3).",
            (_, b"peer id") => "The peer's 20-byte id (BEP 3).",
            _ => return None,
        })
    }
}

/// BEP 23's compact peers, 6 bytes each.
fn compact_peers(b: &[u8], data: Span) -> Field {
    let children = b.chunks(6).enumerate().map(|(i, p)| {
        let at = data.start + i * 6;
        let span = Span::new(at, at + p.len());
        if p.len() < 6 {
            return Field::new("Incomplete peer", span, hex(p));
        }
        let ip = format!("{}.{}.{}.{}", p[0], p[1], p[2], p[3]);
        let port = u16::from_be_bytes([p[4], p[5]]);
        Field::new(format!("Peer {}", i + 1), span, format!("{ip}:{port}")).with_children([
            Field::new("IPv4 address", Span::new(at, at + 4), ip),
            Field::new("Port", Span::new(at + 4, at + 6), port.to_string()),
        ])
    });
    Field::new("Compact peers", data, format!("{} peers", b.len() / 6))
        .help("BEP 23: 6 bytes a peer, 4 of IPv4 address then 2 of port, network order.")
        .with_children(children)
}

/// "1 peer", "2 peers".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn hex(b: &[u8]) -> String {
    hex_spaced(b).replace(' ', "")
}

/// Text if it is printable UTF-8, hex otherwise.
fn shown(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => format!("{:?}", visible_cut(b, 120)),
        _ if b.len() <= 32 => hex(b),
        _ => format!("{} bytes of binary data", b.len()),
    }
}

/// Dissects a peer wire stream: the handshake if the bytes start with
/// one, then length-prefixed messages, for a torrent of `pieces` pieces
/// (to check bitfield lengths; 0 when unknown).
pub fn dissect_wire(bytes: &[u8], pieces: usize) -> Dissection {
    let mut d = Dissection::new(Protocol::Bittorrent, "peer wire", bytes.len());
    let has_handshake = bytes.first() == Some(&19);
    let mut reader = if has_handshake {
        WireReader::new(usize::MAX)
    } else {
        WireReader::after_handshake(usize::MAX)
    };
    reader.push(bytes);
    let mut names = Vec::new();
    loop {
        match reader.next_frame() {
            Ok(Some((Frame::Handshake(_), span))) => {
                names.push("handshake".to_string());
                d.fields.push(handshake_field(bytes, span));
            }
            Ok(Some((Frame::Message(m), span))) => {
                names.push(m.name().to_string());
                d.fields
                    .push(message_field(&m, span, pieces, &mut d.diagnostics));
            }
            Ok(None) => break,
            Err(e) => {
                let span = Span::new(reader.offset(), bytes.len());
                d.fields.push(Field::new(
                    "Unreadable bytes",
                    span,
                    visible_cut(span.slice(bytes), 60),
                ));
                d.diagnostics
                    .push(Diagnostic::error(span, e.to_string()).reference(BEP3));
                break;
            }
        }
    }
    if reader.pending() > 0 && d.fields.last().is_none_or(|f| f.span.end < bytes.len()) {
        let span = Span::new(reader.offset(), bytes.len());
        d.fields.push(Field::new(
            "Incomplete message",
            span,
            format!("{} bytes so far", span.len()),
        ));
        d.diagnostics.push(Diagnostic::note(
            span,
            "the rest of this message has not arrived",
        ));
    }
    d.summary = if names.is_empty() {
        "peer wire: nothing whole yet".into()
    } else {
        names.join(", ")
    };
    d
}

fn handshake_field(bytes: &[u8], span: Span) -> Field {
    let part = |name: &str, r: std::ops::Range<usize>, value: String, help: &str| {
        Field::new(
            name,
            Span::new(span.start + r.start, span.start + r.end),
            value,
        )
        .help(help)
    };
    let b = span.slice(bytes);
    let h = |r: std::ops::Range<usize>| b.get(r).unwrap_or_default();
    Field::new("Handshake", span, format!("{HANDSHAKE_LEN} bytes"))
        .help("The first message each way: the protocol's name, 8 reserved bytes, the info hash and the peer id. A peer whose info hash is not the torrent's is dropped (BEP 3).")
        .with_children([
            part("Protocol name length", field::PSTRLEN, "19".into(), "Always 19 (BEP 3)."),
            part("Protocol name", field::PSTR, "BitTorrent protocol".into(), "BEP 3."),
            part("Reserved", field::RESERVED, hex(h(field::RESERVED)), "Eight bytes of extension bits; zero when none is supported (BEP 3; BEP 5 and BEP 10 use some)."),
            part("Info hash", field::INFO_HASH, hex(h(field::INFO_HASH)), "The SHA-1 of the torrent's info dictionary: which torrent this connection is for (BEP 3)."),
            part("Peer id", field::PEER_ID, visible_cut(h(field::PEER_ID), 40), "20 bytes the peer chose; the tracker gives it out with its address (BEP 3)."),
        ])
}

fn message_field(m: &Message, span: Span, pieces: usize, diags: &mut Vec<Diagnostic>) -> Field {
    let at = span.start;
    let word = |i: usize, name: &str, v: u32| {
        Field::new(
            name,
            Span::new(at + 5 + 4 * i, at + 9 + 4 * i),
            v.to_string(),
        )
    };
    let prefix = Field::new("Length prefix", Span::new(at, at + 4), format!("{} bytes", span.len() - 4))
        .help("Every message after the handshake starts with its length on 4 bytes, big-endian; 0 is a keep-alive (BEP 3).");
    let mut children = vec![prefix];
    if let Some(id) = m.id() {
        children.push(Field::new(
            "Message id",
            Span::new(at + 4, at + 5),
            format!("{id} ({})", id_name(Some(id))),
        ));
    }
    let body = Span::new(at + 5, span.end);
    match m {
        Message::Have(i) => children.push(word(0, "Piece index", *i)),
        Message::Bitfield(b) => {
            children.push(Field::new(
                "Bitfield",
                body,
                format!("{} bits set", b.iter().map(|x| x.count_ones()).sum::<u32>()),
            ));
            if pieces > 0 && super::bitfield::Bitfield::from_wire(b, pieces).is_none() {
                diags.push(
                    Diagnostic::error(
                        body,
                        format!(
                            "a bitfield for {pieces} pieces is {} bytes with the spare bits clear",
                            pieces.div_ceil(8)
                        ),
                    )
                    .reference(BEP3),
                );
            }
        }
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
            children.extend([
                word(0, "Piece index", *index),
                word(1, "Begin", *begin),
                word(2, "Block length", *length),
            ]);
            if *length > MAX_BLOCK {
                diags.push(
                    Diagnostic::error(
                        Span::new(at + 13, at + 17),
                        format!("a block over {MAX_BLOCK} bytes: peers drop whoever asks for one"),
                    )
                    .reference(BEP3),
                );
            }
        }
        Message::Piece {
            index,
            begin,
            block,
        } => {
            children.extend([word(0, "Piece index", *index), word(1, "Begin", *begin)]);
            children.push(Field::new(
                "Block",
                Span::new(at + 13, span.end),
                format!("{} bytes", block.len()),
            ));
        }
        Message::Unknown { .. } if !body.is_empty() => {
            children.push(Field::new("Payload", body, format!("{} bytes", body.len())))
        }
        _ => {}
    }
    Field::new(format!("Message: {}", m.name()), span, m.name())
        .help(message_help(m))
        .with_children(children)
}

fn message_help(m: &Message) -> &'static str {
    match m {
        Message::KeepAlive => {
            "Sent when nothing else was for a while, so the connection is not dropped (BEP 3)."
        }
        Message::Choke => {
            "The sender will not upload to the receiver until it unchokes it (BEP 3): tit-for-tat chokes all but the top 4 and one optimistic unchoke."
        }
        Message::Unchoke => "The sender will answer the receiver's requests (BEP 3).",
        Message::Interested => "The sender wants pieces the receiver has (BEP 3).",
        Message::NotInterested => "The receiver has nothing the sender wants (BEP 3).",
        Message::Have(_) => "The sender has just downloaded and checked this piece (BEP 3).",
        Message::Bitfield(_) => {
            "Right after the handshake: which pieces the sender has, one bit each, the first piece in the high bit (BEP 3)."
        }
        Message::Request { .. } => {
            "Asks for a block: piece index, offset, length; blocks are 16 KiB (BEP 3)."
        }
        Message::Piece { .. } => {
            "Carries a block asked for: piece index, offset, the bytes (BEP 3)."
        }
        Message::Cancel { .. } => "Withdraws a request, mostly in endgame mode (BEP 3).",
        Message::Unknown { .. } => {
            "An id BEP 3 does not define: an extension, ignored by peers that do not know it."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(d: &Dissection) {
        assert_eq!(d.check_invariants(true), Vec::<String>::new());
    }

    #[test]
    fn a_torrent_is_covered_byte_by_byte() {
        let data = vec![7u8; 100];
        let file = Metainfo::build("seven.bin", &data, 64, "http://127.0.0.1:6969/announce");
        let d = dissect_torrent(&file);
        clean(&d);
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert!(d.summary.contains("2 pieces of 64"), "{}", d.summary);
        assert_eq!(
            d.find("Piece 1 SHA-1").unwrap().value,
            hex(&sha1(&data[64..]))
        );
        assert!(d.find("info").unwrap().value.starts_with("info hash "));
        assert!(
            d.find("announce")
                .unwrap()
                .help
                .as_deref()
                .unwrap()
                .contains("BEP 3")
        );
    }

    #[test]
    fn a_compact_reply_shows_each_peer() {
        let wire = b"d8:completei1e10:incompletei2e8:intervali60e5:peers12:\x7f\x00\x00\x02\x1a\xe1\x7f\x00\x00\x03\x1a\xe2e";
        let d = dissect_tracker_reply(wire);
        clean(&d);
        assert_eq!(d.find("Peer 2").unwrap().value, "127.0.0.3:6882");
        assert_eq!(d.summary, "2 peers, announce again in 60 s");
        let refused = dissect_tracker_reply(b"d14:failure reason15:unknown torrente");
        clean(&refused);
        assert_eq!(refused.summary, "tracker refused: unknown torrent");
    }

    #[test]
    fn broken_bencode_is_diagnosed() {
        for bad in [&b"d8:announce"[..], b"i03e", b"d1:bi1e1:ai1ee", b"de"] {
            let d = dissect_torrent(bad);
            assert!(d.check_invariants(false).is_empty());
            assert!(
                !d.diagnostics.is_empty(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let unsorted = dissect_bencode(b"d1:bi1e1:ai1ee", Document::TrackerReply);
        assert_eq!(unsorted.diagnostics[0].span, Span::new(7, 10));
    }

    #[test]
    fn a_wire_stream_is_taken_apart() {
        let mut wire = super::super::wire::Handshake::new([0xab; 20], *b"-WL0001-abcdefghijkl")
            .encode()
            .to_vec();
        wire.extend(Message::Bitfield(vec![0xc0]).encode());
        wire.extend(
            Message::Request {
                index: 1,
                begin: 0,
                length: 16384,
            }
            .encode(),
        );
        wire.extend(
            Message::Piece {
                index: 1,
                begin: 0,
                block: vec![1, 2, 3],
            }
            .encode(),
        );
        wire.extend(Message::KeepAlive.encode());
        let d = dissect_wire(&wire, 2);
        clean(&d);
        assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
        assert_eq!(d.summary, "handshake, bitfield, request, piece, keep-alive");
        assert_eq!(d.find("Info hash").unwrap().value, "ab".repeat(20));
        assert_eq!(d.find("Block length").unwrap().value, "16384");
    }

    #[test]
    fn bad_wire_messages_are_flagged() {
        let mut wire = Message::Request {
            index: 0,
            begin: 0,
            length: 32768,
        }
        .encode();
        wire.extend(Message::Bitfield(vec![0xff]).encode());
        wire.extend([0, 0, 0, 9, 7]);
        let d = dissect_wire(&wire, 2);
        assert!(d.check_invariants(true).is_empty());
        assert_eq!(d.diagnostics.len(), 3, "{:?}", d.diagnostics);
        let junk = dissect_wire(b"\x13BitTorrent protocoX", 0);
        assert!(junk.check_invariants(false).is_empty());
    }
}
