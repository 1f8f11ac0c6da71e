//! Base64 (RFC 4648 §4), the encoding of HTTP Basic credentials and of
//! MIME bodies: encoding, strict decoding, and a lenient decoding that says
//! what was wrong, for dissectors.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes bytes with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The 6-bit value of a base64 alphabet character.
pub fn value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// What a lenient decoding found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub bytes: Vec<u8>,
    /// Characters outside the alphabet (line breaks and spaces excepted).
    pub invalid_characters: usize,
    /// The number of base64 characters modulo 4 (0 when well formed); a
    /// remainder of 1 can never be valid.
    pub leftover: usize,
}

impl Decoded {
    pub fn is_clean(&self) -> bool {
        self.invalid_characters == 0 && self.leftover == 0
    }
}

/// Decodes as much as can be decoded, skipping whitespace and counting what
/// is wrong, instead of failing.
pub fn decode_lenient(text: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut count = 0usize;
    let mut padding = 0usize;
    for &c in text {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            padding += 1;
            continue;
        }
        match value(c) {
            Some(v) if padding == 0 => {
                count += 1;
                acc = acc << 6 | v as u32;
                bits += 6;
                if bits >= 8 {
                    bits -= 8;
                    out.bytes.push((acc >> bits) as u8);
                    acc &= (1 << bits) - 1;
                }
            }
            _ => out.invalid_characters += 1,
        }
    }
    out.leftover = (count + padding) % 4;
    out
}

/// Strict decoding: `None` unless the text is well-formed base64.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let decoded = decode_lenient(text);
    decoded.is_clean().then_some(decoded.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answers() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg==");
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"alice:wonderland"), "YWxpY2U6d29uZGVybGFuZA==");
        assert_eq!(decode(b"Zm9v\r\nYmE=").unwrap(), b"fooba");
    }

    #[test]
    fn broken_input_is_described() {
        let d = decode_lenient(b"Zm9vY");
        assert_eq!(d.leftover, 1);
        assert_eq!(d.bytes, b"foo");
        let d = decode_lenient(b"Zm9v!!");
        assert_eq!(d.invalid_characters, 2);
        assert!(decode(b"Zm9v!!").is_none());
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(decode(encode(&bytes).as_bytes()).unwrap(), bytes);
        }
    }
}
