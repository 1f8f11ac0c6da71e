//! An HTTP connection seen from the client: requests framed as they were
//! sent, responses framed knowing the method they answer (a HEAD response
//! has no body), in order, pipelined or not.

use super::frame::{Limits, Status, frame_request, frame_response};
use super::message::parse_head;
use super::{dissect_request, dissect_response_to};
use crate::conversation::{Conversation, Message, Pending, Sender};
use std::collections::VecDeque;

/// Follows one HTTP/1.x connection.
#[derive(Default)]
pub struct HttpConversation {
    client: Pending,
    server: Pending,
    /// Methods of the requests not answered yet, oldest first.
    awaiting: VecDeque<String>,
    limits: Limits,
}

impl HttpConversation {
    pub fn new() -> Self {
        HttpConversation {
            limits: Limits {
                max_body: 64 * 1024 * 1024,
                ..Limits::default()
            },
            ..Default::default()
        }
    }

    /// How many requests wait for their response.
    pub fn outstanding(&self) -> usize {
        self.awaiting.len()
    }
}

impl Conversation for HttpConversation {
    fn client_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.client.push(bytes, t_ms);
        let mut out = Vec::new();
        while let Ok(Status::Complete(frame)) = frame_request(&self.client.bytes, &self.limits) {
            let (raw, first_ms) = self.client.take(frame.len, t_ms);
            let method = parse_head(&raw).method(&raw).unwrap_or("GET").to_string();
            self.awaiting.push_back(method);
            out.push(Message {
                sender: Sender::Client,
                dissection: dissect_request(&raw),
                bytes: raw,
                first_ms,
                last_ms: t_ms,
                complete: true,
            });
        }
        out
    }

    fn server_bytes(&mut self, bytes: &[u8], t_ms: f64) -> Vec<Message> {
        self.server.push(bytes, t_ms);
        let mut out = Vec::new();
        loop {
            let method = self.awaiting.front().cloned();
            match frame_response(&self.server.bytes, method.as_deref(), &self.limits) {
                Ok(Status::Complete(frame)) => {
                    // A 1xx interim response does not answer the request.
                    let interim = parse_head(&self.server.bytes[..frame.head_end])
                        .status(&self.server.bytes)
                        .is_some_and(|s| (100..200).contains(&s));
                    if !interim {
                        self.awaiting.pop_front();
                    }
                    let (raw, first_ms) = self.server.take(frame.len, t_ms);
                    out.push(Message {
                        sender: Sender::Server,
                        dissection: dissect_response_to(&raw, method.as_deref()),
                        bytes: raw,
                        first_ms,
                        last_ms: t_ms,
                        complete: true,
                    });
                }
                _ => break,
            }
        }
        out
    }

    /// A head still missing its blank line, a body still arriving: shown
    /// as they stand, so a request typed in pieces is visible at once.
    fn in_progress(&self) -> Vec<Message> {
        let method = self.awaiting.front().map(String::as_str);
        let request = self.client.partial(Sender::Client, dissect_request);
        let response = self
            .server
            .partial(Sender::Server, |raw| dissect_response_to(raw, method));
        request.into_iter().chain(response).collect()
    }

    fn closed(&mut self, t_ms: f64) -> Vec<Message> {
        let mut out = Vec::new();
        if !self.client.bytes.is_empty() {
            let n = self.client.bytes.len();
            let (raw, first_ms) = self.client.take(n, t_ms);
            out.push(Message {
                sender: Sender::Client,
                dissection: dissect_request(&raw),
                bytes: raw,
                first_ms,
                last_ms: t_ms,
                complete: false,
            });
        }
        if !self.server.bytes.is_empty() {
            let method = self.awaiting.pop_front();
            let until_close = matches!(
                frame_response(&self.server.bytes, method.as_deref(), &self.limits),
                Ok(Status::UntilClose { .. })
            );
            let n = self.server.bytes.len();
            let (raw, first_ms) = self.server.take(n, t_ms);
            out.push(Message {
                sender: Sender::Server,
                dissection: dissect_response_to(&raw, method.as_deref()),
                bytes: raw,
                first_ms,
                last_ms: t_ms,
                // A body that ends with the connection is complete now.
                complete: until_close,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_head_and_get() {
        let mut c = HttpConversation::new();
        let sent = c.client_bytes(
            b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
            1.0,
        );
        assert_eq!(sent.len(), 2);
        assert_eq!(c.outstanding(), 2);
        // The HEAD response announces 5 bytes but carries none.
        let got = c.server_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Le",
            2.0,
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].dissection.diagnostics.is_empty());
        let got = c.server_bytes(b"ngth: 5\r\n\r\nhello", 3.0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].first_ms, 2.0);
        assert_eq!(c.outstanding(), 0);
    }

    #[test]
    fn a_head_without_its_blank_line_is_in_progress() {
        let mut c = HttpConversation::new();
        assert!(
            c.client_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n", 1.0)
                .is_empty()
        );
        let growing = c.in_progress();
        assert_eq!(growing.len(), 1);
        assert_eq!(growing[0].bytes, b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert_eq!(growing[0].first_ms, 1.0);
        assert!(!growing[0].complete);
        let done = c.client_bytes(b"\r\n", 5.0);
        assert_eq!(done.len(), 1);
        assert_eq!((done[0].first_ms, done[0].last_ms), (1.0, 5.0));
        assert!(c.in_progress().is_empty());
        // A response head arriving in pieces, read as the answer to GET.
        assert!(c.server_bytes(b"HTTP/1.1 200 OK\r\n", 6.0).is_empty());
        let growing = c.in_progress();
        assert_eq!(growing[0].sender, Sender::Server);
        assert_eq!(growing[0].dissection.summary, "HTTP/1.1 200 OK");
    }

    #[test]
    fn a_body_until_close_completes_at_close() {
        let mut c = HttpConversation::new();
        c.client_bytes(b"GET / HTTP/1.0\r\n\r\n", 0.0);
        assert!(
            c.server_bytes(b"HTTP/1.0 200 Document Follows\r\n\r\n<html>", 1.0)
                .is_empty()
        );
        let last = c.closed(2.0);
        assert_eq!(last.len(), 1);
        assert!(last[0].complete);
        assert_eq!(
            last[0].dissection.find("Body").unwrap().value,
            "6 bytes (until the connection closes)"
        );
    }
}
