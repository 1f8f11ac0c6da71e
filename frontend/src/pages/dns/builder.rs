//! The query being built, kept in three views that follow each other: the
//! form (a `QuerySpec`: name, type, ID, flags), the `dig`-like one-liner,
//! and the bytes (editable as hex, or bit by bit in the flags word).
//! Editing any view rewrites the other two; the bytes are what is sent.
//!
//! The form cannot say everything bytes can (QR set in a query, a second
//! question): then the form shows what it can read and [`Draft::in_sync`]
//! is false, so the page can say the bytes carry more than the form.
//! All the DNS work is `wirelab_shared::dns`; this is the page's state.

use crate::plural::plural;
use wirelab_shared::dns::header::FLAG_BITS;
use wirelab_shared::dns::message::Message;
use wirelab_shared::dns::query::{OneLinerError, QuerySpec, QueryTransport, parse_one_liner};
use wirelab_shared::text::{hex_spaced, parse_hex};

/// The draft query.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The form's values (its `server` and `transport` mirror the page's
    /// choice of server, for the one-liner).
    pub spec: QuerySpec,
    /// The DNS message as it will be sent (no TCP length prefix).
    pub bytes: Vec<u8>,
    /// The hex editor's text, as typed.
    pub hex_text: String,
    pub hex_error: Option<String>,
    /// The one-liner's text, as typed.
    pub one_liner: String,
    pub one_liner_error: Option<OneLinerError>,
    /// The bytes do not parse as a query the form can show.
    pub form_note: Option<String>,
    /// The name and ID fields as typed (half-typed values stay there while
    /// the spec keeps the last valid ones).
    pub name_text: String,
    pub name_error: Option<String>,
    pub id_text: String,
}

impl Draft {
    pub fn new(spec: QuerySpec) -> Draft {
        let mut d = Draft {
            bytes: Vec::new(),
            hex_text: String::new(),
            hex_error: None,
            one_liner: String::new(),
            one_liner_error: None,
            form_note: None,
            name_text: String::new(),
            name_error: None,
            id_text: String::new(),
            spec: spec.clone(),
        };
        d.set_spec(spec);
        d
    }

    /// The form changed: the bytes, hex and one-liner follow.
    pub fn set_spec(&mut self, spec: QuerySpec) {
        self.bytes = spec.to_bytes();
        self.hex_text = hex_lines(&self.bytes);
        self.hex_error = None;
        self.one_liner = spec.to_one_liner();
        self.one_liner_error = None;
        self.form_note = None;
        self.name_text = name_text(&spec);
        self.name_error = None;
        self.id_text = spec.id.to_string();
        self.spec = spec;
    }

    /// The student typed in the name field.
    pub fn set_name_text(&mut self, text: &str) {
        match wirelab_shared::dns::Name::parse(text.trim()) {
            Ok(name) if !text.trim().is_empty() => {
                let mut spec = self.spec.clone();
                spec.name = name;
                self.set_spec(spec);
            }
            Ok(_) => self.name_error = Some("type a name to look up".into()),
            Err(e) => self.name_error = Some(e.to_string()),
        }
        self.name_text = text.to_string();
    }

    /// The student typed in the ID field.
    pub fn set_id_text(&mut self, text: &str) {
        if let Ok(id) = text.trim().parse::<u16>() {
            let mut spec = self.spec.clone();
            spec.id = id;
            self.set_spec(spec);
        }
        self.id_text = text.to_string();
    }

    /// The student typed in the one-liner. On success the form and bytes
    /// follow and the returned spec carries `@server` and `+tcp` for the
    /// page to apply; the text stays as typed either way.
    pub fn set_one_liner(&mut self, text: &str) -> Option<QuerySpec> {
        match parse_one_liner(text, self.spec.id) {
            Ok(mut parsed) => {
                if parsed.server.is_none() {
                    parsed.server = self.spec.server.clone();
                }
                self.set_spec(parsed.clone());
                self.one_liner = text.to_string();
                Some(parsed)
            }
            Err(e) => {
                self.one_liner = text.to_string();
                self.one_liner_error = Some(e);
                None
            }
        }
    }

    /// The student typed in the hex editor.
    pub fn set_hex(&mut self, text: &str) {
        self.hex_text = text.to_string();
        match parse_hex(text) {
            Some(bytes) => {
                self.hex_error = None;
                self.adopt_bytes(bytes);
            }
            None => {
                self.hex_error = Some(
                    "not hex: type pairs of digits 0-9 a-f, spaces allowed (the bytes \
                     below are the last valid ones)"
                        .into(),
                );
            }
        }
    }

    /// Flips one bit of the flags word (bit 0 is its most significant, as
    /// in RFC 1035's drawing).
    pub fn toggle_flag_bit(&mut self, bit: u8) {
        if self.bytes.len() < 4 || bit > 15 {
            return;
        }
        let flags = u16::from_be_bytes([self.bytes[2], self.bytes[3]]) ^ (0x8000 >> bit);
        let mut bytes = self.bytes.clone();
        bytes[2..4].copy_from_slice(&flags.to_be_bytes());
        self.hex_text = hex_lines(&bytes);
        self.hex_error = None;
        self.adopt_bytes(bytes);
    }

    /// The flags word, if the message is long enough to have one.
    pub fn flags(&self) -> Option<u16> {
        (self.bytes.len() >= 4).then(|| u16::from_be_bytes([self.bytes[2], self.bytes[3]]))
    }

    /// New bytes from the hex or the bits: the form follows if it can.
    fn adopt_bytes(&mut self, bytes: Vec<u8>) {
        self.bytes = bytes;
        match Message::parse(&self.bytes) {
            Ok(m) => match QuerySpec::from_message(&m) {
                Some(mut spec) => {
                    spec.server = self.spec.server.clone();
                    spec.transport = self.spec.transport;
                    self.one_liner = spec.to_one_liner();
                    self.one_liner_error = None;
                    self.name_text = name_text(&spec);
                    self.name_error = None;
                    self.id_text = spec.id.to_string();
                    self.spec = spec;
                    self.form_note = (!self.in_sync()).then(|| {
                        let flags = self.flags().unwrap_or(0);
                        let extra: Vec<&str> = FLAG_BITS
                            .iter()
                            .filter(|f| matches!(f.short, "QR" | "AA" | "TC" | "RA" | "Z" | "Opcode" | "RCODE"))
                            .filter(|f| f.get(flags) != 0)
                            .map(|f| f.short)
                            .collect();
                        if extra.is_empty() {
                            "the bytes hold more than the form shows (records or options of their own)".into()
                        } else {
                            format!(
                                "the bytes set {}, which a query leaves at 0: the form does not show it",
                                extra.join(", ")
                            )
                        }
                    });
                }
                None => {
                    self.form_note = Some(format!(
                        "the message has {}: the form shows one",
                        plural(m.questions.len(), "question")
                    ))
                }
            },
            Err(e) => {
                self.form_note = Some(format!(
                    "the bytes are not a valid DNS message ({e}); they are sent as they are"
                ))
            }
        }
    }

    /// Whether the form says everything the bytes say.
    pub fn in_sync(&self) -> bool {
        self.spec.to_bytes() == self.bytes
    }

    /// What goes on the wire: over TCP, the two-byte length in front.
    pub fn wire(&self, transport: QueryTransport) -> Vec<u8> {
        match transport {
            QueryTransport::Udp => self.bytes.clone(),
            QueryTransport::Tcp => wirelab_shared::dns::frame::tcp_wrap(&self.bytes),
        }
    }
}

/// The name as the form shows it: without the final dot.
fn name_text(spec: &QuerySpec) -> String {
    let text = spec.name.to_string();
    match text.trim_end_matches('.') {
        "" => ".".into(),
        t => t.to_string(),
    }
}

/// Hex in lines of 16 bytes, as the editor shows it.
pub fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(hex_spaced)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::dns::{Name, RecordType};

    fn gaia() -> Draft {
        let mut spec = QuerySpec::new(
            Name::parse("gaia.cs.umass.edu").unwrap(),
            RecordType::A,
            0x1234,
        );
        spec.server = Some("dns-root".into());
        Draft::new(spec)
    }

    #[test]
    fn the_form_writes_the_bytes_and_the_one_liner() {
        let d = gaia();
        assert_eq!(&d.bytes[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(d.one_liner, "gaia.cs.umass.edu A @dns-root +id=4660");
        assert!(d.hex_text.starts_with("12 34 01 00"));
        assert!(d.in_sync());
    }

    #[test]
    fn half_typed_fields_stay_as_typed() {
        let mut d = gaia();
        d.set_name_text("www.");
        assert_eq!(d.name_text, "www.");
        assert_eq!(d.spec.name.to_string(), "www.");
        d.set_name_text("www..ibm");
        assert_eq!(d.name_text, "www..ibm");
        assert!(d.name_error.is_some());
        assert_eq!(d.spec.name.to_string(), "www.", "the last valid name stays");
        d.set_id_text("");
        assert_eq!((d.id_text.as_str(), d.spec.id), ("", 0x1234));
        d.set_id_text("7");
        assert_eq!(d.spec.id, 7);
        assert_eq!(&d.bytes[..2], &[0, 7]);
        assert_eq!(d.name_text, "www");
    }

    #[test]
    fn the_one_liner_writes_the_form() {
        let mut d = gaia();
        let spec = d.set_one_liner("hamburger.edu MX +norecurse +tcp").unwrap();
        assert_eq!(spec.qtype, RecordType::MX);
        assert_eq!(spec.transport, QueryTransport::Tcp);
        assert_eq!(spec.server.as_deref(), Some("dns-root"));
        assert!(!d.spec.recursion_desired);
        assert_eq!(d.bytes[2], 0x00);
        assert_eq!(d.one_liner, "hamburger.edu MX +norecurse +tcp");
        // A mistake keeps the text and the last good bytes.
        let before = d.bytes.clone();
        assert!(d.set_one_liner("hamburger.edu +norecurs").is_none());
        assert_eq!(d.one_liner_error.as_ref().unwrap().span.start, 14);
        assert_eq!(d.bytes, before);
    }

    #[test]
    fn hex_and_bits_write_the_form() {
        let mut d = gaia();
        // Clear RD (bit 7 of the flags word) by its bit.
        d.toggle_flag_bit(7);
        assert!(!d.spec.recursion_desired);
        assert!(d.in_sync());
        assert!(d.one_liner.contains("+norecurse"));
        // Set QR: the form cannot say it, the bytes keep it.
        d.toggle_flag_bit(0);
        assert!(!d.in_sync());
        assert!(d.form_note.as_ref().unwrap().contains("QR"));
        assert_eq!(d.flags(), Some(0x8000));
        // The ID typed as hex.
        let mut hex = d.hex_text.clone();
        hex.replace_range(0..5, "ab cd");
        d.set_hex(&hex);
        assert_eq!(d.spec.id, 0xabcd);
        d.set_hex("zz");
        assert!(d.hex_error.is_some());
        assert_eq!(d.spec.id, 0xabcd);
        d.set_hex("00 01 02");
        assert!(
            d.form_note
                .as_ref()
                .unwrap()
                .contains("not a valid DNS message")
        );
        assert_eq!(d.bytes, [0, 1, 2]);
        assert_eq!(d.wire(QueryTransport::Tcp), [0, 3, 0, 1, 2]);
        d.toggle_flag_bit(1);
        assert_eq!(d.bytes, [0, 1, 2], "no flags word to flip");
    }
}
