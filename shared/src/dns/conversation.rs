//! A DNS exchange as the page follows it ([`Conversation`]): over UDP each
//! datagram is one message; over TCP the two-byte length prefixes cut the
//! stream into messages, whatever the chunks. Each reply is dissected
//! together with the last query sent, so a reply whose ID or question does
//! not match says so (RFC 5452), over TCP as over UDP.
//!
//! The messages keep their bytes as they crossed the wire: over TCP the
//! length prefix is part of the message and the dissection shows it as the
//! `Length` field in front of the DNS message.

use super::dissect::{dissect, dissect_reply, dissect_tcp, reply_checks};
use super::frame::{TcpFrame, next_tcp_message};
use super::query::QueryTransport;
use crate::conversation::{Conversation, Message, Pending, Sender};
use crate::dissect::{Diagnostic, Dissection};

/// One connection (TCP) or flow (UDP) to a DNS server.
#[derive(Debug, Clone)]
pub struct DnsConversation {
    transport: QueryTransport,
    client: Pending,
    server: Pending,
    /// The last query sent (the DNS message, without any prefix).
    last_query: Option<Vec<u8>>,
}

impl DnsConversation {
    pub fn new(transport: QueryTransport) -> Self {
        DnsConversation {
            transport,
            client: Pending::default(),
            server: Pending::default(),
            last_query: None,
        }
    }

    /// Dissects one message as it crossed the wire.
    fn dissect(&self, sender: Sender, wire: &[u8]) -> Dissection {
        match (self.transport, sender, &self.last_query) {
            (QueryTransport::Udp, Sender::Server, Some(query)) => dissect_reply(query, wire),
            (QueryTransport::Udp, _, _) => dissect(wire),
            (QueryTransport::Tcp, Sender::Server, Some(query)) if wire.len() >= 2 => {
                let mut d = dissect_tcp(wire);
                d.diagnostics
                    .extend(
                        reply_checks(query, &wire[2..])
                            .into_iter()
                            .map(|diag| Diagnostic {
                                span: diag.span.shifted(2),
                                ..diag
                            }),
                    );
                d
            }
            (QueryTransport::Tcp, _, _) => dissect_tcp(wire),
        }
    }

    fn message(&mut self, sender: Sender, wire: Vec<u8>, first_ms: f64, last_ms: f64) -> Message {
        let dissection = self.dissect(sender, &wire);
        if sender == Sender::Client {
            let body = match self.transport {
                QueryTransport::Udp => wire.clone(),
                QueryTransport::Tcp => wire.get(2..).unwrap_or_default().to_vec(),
            };
            self.last_query = Some(body);
        }
        Message {
            sender,
            bytes: wire,
            first_ms,
            last_ms,
            dissection,
            complete: true,
        }
    }

    fn take(&mut self, sender: Sender, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        if self.transport == QueryTransport::Udp {
            return vec![self.message(sender, bytes.to_vec(), t_ms, t_ms)];
        }
        let pending = match sender {
            Sender::Client => &mut self.client,
            Sender::Server => &mut self.server,
        };
        pending.push(bytes, t_ms);
        let mut whole = Vec::new();
        while let TcpFrame::Complete { consumed, .. } = next_tcp_message(&pending.bytes) {
            whole.push(pending.take(consumed, t_ms));
        }
        whole
            .into_iter()
            .map(|(wire, first)| self.message(sender, wire, first, t_ms))
            .collect()
    }

    /// What is left of a stream that ended inside a message.
    fn flush(&mut self, sender: Sender, t_ms: f64) -> Option<Message> {
        let pending = match sender {
            Sender::Client => &mut self.client,
            Sender::Server => &mut self.server,
        };
        if pending.bytes.is_empty() {
            return None;
        }
        let n = pending.bytes.len();
        let (wire, first) = pending.take(n, t_ms);
        let mut m = self.message(sender, wire, first, t_ms);
        m.complete = false;
        Some(m)
    }
}

impl Conversation for DnsConversation {
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.take(Sender::Client, bytes, t_ms)
    }

    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.take(Sender::Server, bytes, t_ms)
    }

    fn closed(&mut self, t_ms: f64) -> Vec<Message> {
        let client = self.flush(Sender::Client, t_ms);
        let server = self.flush(Sender::Server, t_ms);
        client.into_iter().chain(server).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::frame::tcp_wrap;
    use crate::dns::message::{Message as DnsMessage, Question};
    use crate::dns::name::Name;
    use crate::dns::types::RecordType;
    use proptest::prelude::*;

    fn query(id: u16) -> Vec<u8> {
        DnsMessage::query(
            id,
            Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A),
            false,
        )
        .to_bytes()
    }

    fn reply_to(query: &[u8], id: u16) -> Vec<u8> {
        let mut r = DnsMessage::response_to(&DnsMessage::parse(query).unwrap());
        r.header.id = id;
        r.to_bytes()
    }

    #[test]
    fn udp_replies_are_checked_against_the_query() {
        let mut c = DnsConversation::new(QueryTransport::Udp);
        let q = query(0x1234);
        let sent = c.client_bytes(&q, 1.0);
        assert_eq!(sent.len(), 1);
        assert!(sent[0].dissection.diagnostics.is_empty());
        let good = c.server_bytes(&reply_to(&q, 0x1234), 2.0);
        assert!(good[0].dissection.diagnostics.is_empty(), "{good:?}");
        let spoofed = c.server_bytes(&reply_to(&q, 0x4321), 3.0);
        assert!(
            spoofed[0]
                .dissection
                .diagnostics
                .iter()
                .any(|d| d.message.contains("does not match the query's 0x1234"))
        );
        assert!(c.closed(4.0).is_empty());
    }

    #[test]
    fn tcp_streams_are_cut_at_the_length_prefixes() {
        let mut c = DnsConversation::new(QueryTransport::Tcp);
        let q = tcp_wrap(&query(7));
        assert!(c.client_bytes(&q[..1], 1.0).is_empty());
        let sent = c.client_bytes(&q[1..], 2.0);
        assert_eq!(sent[0].bytes, q);
        assert_eq!(sent[0].first_ms, 1.0);
        assert_eq!(sent[0].dissection.fields[0].children[0].name, "Length");
        // A reply with the wrong ID, in two chunks with the next one's start.
        let bad = tcp_wrap(&reply_to(&query(7), 8));
        let mut stream = bad.clone();
        stream.extend_from_slice(&bad[..3]);
        let got = c.server_bytes(&stream[..5], 3.0);
        assert!(got.is_empty());
        let got = c.server_bytes(&stream[5..], 4.0);
        assert_eq!(got.len(), 1);
        let diag = got[0]
            .dissection
            .diagnostics
            .iter()
            .find(|d| d.message.contains("does not match"))
            .expect("the ID check");
        // The span is the ID inside the message, after the two-byte prefix.
        assert_eq!((diag.span.start, diag.span.end), (2, 4));
        let left = c.closed(5.0);
        assert_eq!(left.len(), 1);
        assert!(!left[0].complete);
        assert_eq!(left[0].bytes, bad[..3]);
    }

    proptest! {
        /// Any chunks, either way, either transport: messages or nothing,
        /// never a panic, and over TCP no byte is lost.
        #[test]
        fn any_bytes_are_followed(
            chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..80)), 0..12),
            tcp in any::<bool>(),
        ) {
            let transport = if tcp { QueryTransport::Tcp } else { QueryTransport::Udp };
            let mut c = DnsConversation::new(transport);
            let mut total = [0usize; 2];
            let mut seen = [0usize; 2];
            for (i, (from_client, bytes)) in chunks.iter().enumerate() {
                let messages = if *from_client {
                    c.client_bytes(bytes, i as f64)
                } else {
                    c.server_bytes(bytes, i as f64)
                };
                total[*from_client as usize] += bytes.len();
                for m in messages {
                    seen[(m.sender == Sender::Client) as usize] += m.bytes.len();
                }
            }
            for m in c.closed(99.0) {
                seen[(m.sender == Sender::Client) as usize] += m.bytes.len();
            }
            prop_assert_eq!(seen, total);
        }
    }
}
