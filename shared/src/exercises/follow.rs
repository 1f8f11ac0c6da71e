//! Following one bridged connection for the checker: its bytes, each way and
//! in order, go through the protocol's own [`Conversation`] (the one the
//! page uses), and every complete message is read into a small record: a
//! [`Request`] (verb, argument, headers) and the [`Reply`]s that answered it,
//! paired in order. An [`Exchange`] is one request and its replies.
//!
//! The caller feeds [`Follow::client`] / [`Follow::server`] and calls
//! [`Follow::closed`] at the end, taking finished exchanges with
//! [`Follow::take_finished`]. It bounds what it follows: past
//! [`MAX_FOLLOWED_BYTES`] the rest of the connection is ignored.

use super::task::TaskProtocol;
use crate::conversation::{Conversation, DatagramConversation, LineConversation, Message, Sender};
use crate::dns::conversation::DnsConversation;
use crate::dns::message::Message as DnsMessage;
use crate::dns::query::QueryTransport;
use crate::ftp::conversation::FtpConversation;
use crate::http::conversation::HttpConversation;
use crate::http::message::parse_head;
use crate::http::templates::{ETAG_PLACEHOLDER, TEMPLATES};
use crate::pop3::Pop3Transcript;
use crate::smtp::SmtpTranscript;
use crate::transcript::FollowedConversation;
use serde::Serialize;
use std::collections::VecDeque;

/// Bytes of one connection followed, both ways together; the rest is not.
pub const MAX_FOLLOWED_BYTES: usize = 256 * 1024;
/// Longest reply (and request) text kept: `reply_contains` reads a reply's
/// first line or head, and a learner's window holds many exchanges.
const MAX_REPLY_TEXT: usize = 1024;
/// Most header fields kept per request, and the longest value kept.
const MAX_HEADERS: usize = 32;
const MAX_HEADER_VALUE: usize = 256;
/// The verb given to the message text SMTP takes after `354`.
pub const MESSAGE_TEXT: &str = "(message text)";

/// What the student sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// Upper case: `GET`, `RCPT`, `RETR`; a DNS query's type (`A`).
    pub verb: String,
    /// The rest of the line (a path, `TO:<bob@hamburger.edu>`); a DNS
    /// query's name, lower case, without its final dot.
    pub argument: String,
    /// HTTP header fields, names as sent.
    pub headers: Vec<(String, String)>,
    /// HTTP: the id of the page's template this request is, as it stands
    /// (line endings aside, and whatever the page pasted for the ETag).
    /// A request that is none of them was typed, or edited, by the student:
    /// that is what "typed" means here, read from the bytes alone.
    pub template: Option<&'static str>,
    /// DNS: the RD flag.
    pub recursion_desired: Option<bool>,
    /// The request's text (lossy UTF-8), for the source-port check.
    pub text: String,
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The status or reply code; DNS: the RCODE; POP3 and line: none.
    pub code: Option<u16>,
    /// 2xx/3xx, `+OK`, NOERROR; a line protocol's reply is always ok.
    pub ok: bool,
    /// DNS: records in the answer section.
    pub answers: usize,
    /// The reply as text (lossy UTF-8, cut at 1 KiB).
    pub text: String,
}

/// The connection a follower follows, as the relay bridged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    /// Tells the caller's connections apart (a task may ask for its steps
    /// on one connection).
    pub id: u64,
    /// The catalog name of the server.
    pub target: String,
    /// A flow of datagrams: each chunk is one message.
    pub udp: bool,
    /// The connection's source port, as the server saw it.
    pub source_port: Option<u16>,
}

impl Connection {
    /// A TCP connection to `target`, its source port unknown.
    pub fn tcp(id: u64, target: &str) -> Self {
        Connection {
            id,
            target: target.to_string(),
            udp: false,
            source_port: None,
        }
    }
}

/// One request and its replies (interim ones first), or a reply nothing
/// asked for (a greeting), on a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// The connection's id, as its caller gave it.
    pub connection: u64,
    pub target: String,
    /// The connection's source port, as the server saw it.
    pub source_port: Option<u16>,
    pub request: Option<Request>,
    pub replies: Vec<Reply>,
}

impl Exchange {
    /// How many messages it took on the wire.
    pub fn messages(&self) -> usize {
        usize::from(self.request.is_some()) + self.replies.len()
    }

    /// The reply that ends it: the last one.
    pub fn final_reply(&self) -> Option<&Reply> {
        self.replies.last()
    }
}

/// The follower of one connection.
pub struct Follow {
    protocol: TaskProtocol,
    connection: Connection,
    conversation: Box<dyn Conversation + Send>,
    /// Requests waiting for their final reply, oldest first.
    open: VecDeque<Exchange>,
    finished: Vec<Exchange>,
    /// Bytes still followed before the rest is ignored.
    budget: usize,
    /// SMTP: the last command was DATA and got 354, so the next client
    /// message is the message text.
    text_next: bool,
}

impl Follow {
    /// A follower of `connection`, over `protocol`.
    pub fn new(protocol: TaskProtocol, connection: Connection) -> Self {
        Follow {
            protocol,
            conversation: conversation_for(protocol, connection.udp),
            connection,
            open: VecDeque::new(),
            finished: Vec::new(),
            budget: MAX_FOLLOWED_BYTES,
            text_next: false,
        }
    }

    /// Bytes (one datagram for UDP) the client sent.
    pub fn client(&mut self, bytes: &[u8]) {
        if let Some(bytes) = self.within_budget(bytes) {
            let messages = self.conversation.client_bytes(bytes, 0.0);
            self.read_all(messages);
        }
    }

    /// Bytes (one datagram for UDP) the server sent.
    pub fn server(&mut self, bytes: &[u8]) {
        if let Some(bytes) = self.within_budget(bytes) {
            let messages = self.conversation.server_bytes(bytes, 0.0);
            self.read_all(messages);
        }
    }

    /// The connection ended: what was left is read, and requests still
    /// unanswered finish without a reply.
    pub fn closed(&mut self) {
        let messages = self.conversation.closed(0.0);
        self.read_all(messages);
        self.finished.extend(self.open.drain(..));
    }

    /// The exchanges finished since the last call, in the order they ended.
    pub fn take_finished(&mut self) -> Vec<Exchange> {
        std::mem::take(&mut self.finished)
    }

    /// Follows a whole conversation at once (tests, replays).
    pub fn replay<'a>(
        protocol: TaskProtocol,
        connection: Connection,
        chunks: impl IntoIterator<Item = (Sender, &'a [u8])>,
    ) -> Vec<Exchange> {
        let mut follow = Follow::new(protocol, connection);
        for (sender, bytes) in chunks {
            match sender {
                Sender::Client => follow.client(bytes),
                Sender::Server => follow.server(bytes),
            }
        }
        follow.closed();
        follow.take_finished()
    }

    fn within_budget<'b>(&mut self, bytes: &'b [u8]) -> Option<&'b [u8]> {
        let n = bytes.len().min(self.budget);
        self.budget -= n;
        (n > 0).then_some(&bytes[..n])
    }

    fn read_all(&mut self, messages: Vec<Message>) {
        for message in messages {
            match message.sender {
                Sender::Client => self.read_request(&message.bytes),
                Sender::Server => self.read_reply(&message.bytes),
            }
        }
    }

    fn read_request(&mut self, bytes: &[u8]) {
        let mut request = read_request(self.protocol, bytes);
        if std::mem::take(&mut self.text_next) {
            request.verb = MESSAGE_TEXT.to_string();
            request.argument.clear();
        }
        self.open
            .push_back(self.exchange(Some(request), Vec::new()));
    }

    fn exchange(&self, request: Option<Request>, replies: Vec<Reply>) -> Exchange {
        Exchange {
            connection: self.connection.id,
            target: self.connection.target.clone(),
            source_port: self.connection.source_port,
            request,
            replies,
        }
    }

    fn read_reply(&mut self, bytes: &[u8]) {
        let reply = read_reply(self.protocol, bytes);
        let interim = is_interim(self.protocol, &reply);
        let Some(mut exchange) = self.open.pop_front() else {
            // A greeting, or a reply to nothing: it still took a message.
            let greeting = self.exchange(None, vec![reply]);
            self.finished.push(greeting);
            return;
        };
        self.text_next = self.protocol == TaskProtocol::Smtp
            && reply.code == Some(354)
            && exchange.request.as_ref().is_some_and(|r| r.verb == "DATA");
        exchange.replies.push(reply);
        if interim {
            self.open.push_front(exchange);
        } else {
            self.finished.push(exchange);
        }
    }
}

fn conversation_for(protocol: TaskProtocol, udp: bool) -> Box<dyn Conversation + Send> {
    match protocol {
        TaskProtocol::Http => Box::new(HttpConversation::new()),
        TaskProtocol::Smtp => Box::new(FollowedConversation::new(SmtpTranscript::new())),
        TaskProtocol::Pop3 => Box::new(FollowedConversation::new(Pop3Transcript::new())),
        TaskProtocol::Ftp => Box::new(FtpConversation::new()),
        TaskProtocol::Dns if udp => Box::new(DnsConversation::new(QueryTransport::Udp)),
        TaskProtocol::Dns => Box::new(DnsConversation::new(QueryTransport::Tcp)),
        TaskProtocol::Line if udp => Box::new(DatagramConversation::new(
            crate::line::dissect_datagram,
            crate::line::dissect_datagram,
        )),
        TaskProtocol::Line => Box::new(LineConversation::new(
            crate::line::dissect,
            crate::line::dissect,
        )),
    }
}

/// A reply that does not end its request: HTTP 1xx, FTP 1xx (`150`
/// opening the data connection, before `226`).
fn is_interim(protocol: TaskProtocol, reply: &Reply) -> bool {
    matches!(protocol, TaskProtocol::Http | TaskProtocol::Ftp)
        && reply.code.is_some_and(|c| (100..200).contains(&c))
}

fn lossy(bytes: &[u8], max: usize) -> String {
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    text.truncate(text.trim_end_matches(['\r', '\n']).len());
    text
}

fn read_request(protocol: TaskProtocol, bytes: &[u8]) -> Request {
    match protocol {
        TaskProtocol::Http => http_request(bytes),
        TaskProtocol::Dns => dns_query(bytes),
        _ => line_command(bytes),
    }
}

/// `VERB argument` of a command line; a line protocol's whole line is
/// its argument.
fn line_command(bytes: &[u8]) -> Request {
    let text = lossy(bytes, MAX_REPLY_TEXT);
    let (verb, argument) = text.split_once(' ').unwrap_or((text.as_str(), ""));
    Request {
        verb: verb.to_ascii_uppercase(),
        argument: argument.trim().to_string(),
        headers: Vec::new(),
        template: None,
        recursion_desired: None,
        text,
    }
}

fn http_request(bytes: &[u8]) -> Request {
    let head = parse_head(bytes);
    let head_bytes = &bytes[..head.end.min(bytes.len())];
    let line = lossy(
        &bytes[head.start_content.start..head.start_content.end],
        8192,
    );
    let mut parts = line.split_whitespace();
    let headers = head
        .fields(bytes)
        .into_iter()
        .take(MAX_HEADERS)
        .map(|f| {
            let value = f.value.trim();
            let kept = &value[..floor_char_boundary(value, MAX_HEADER_VALUE)];
            (f.name.to_string(), kept.to_string())
        })
        .collect();
    Request {
        verb: parts.next().unwrap_or("").to_string(),
        argument: parts.next().unwrap_or("").to_string(),
        headers,
        template: page_template(bytes),
        recursion_desired: None,
        text: lossy(head_bytes, MAX_REPLY_TEXT),
    }
}

/// The page template `bytes` is as it stands, if any: line endings are
/// read as the page writes them (CR LF or LF), and the ETag template
/// matches whatever the page pasted in place of its placeholder.
pub fn page_template(bytes: &[u8]) -> Option<&'static str> {
    let sent = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    TEMPLATES.iter().find_map(|t| {
        let same = match t.text.split_once(ETAG_PLACEHOLDER) {
            None => sent == t.text,
            Some((before, after)) => {
                sent.len() >= before.len() + after.len()
                    && sent.starts_with(before)
                    && sent.ends_with(after)
                    && !sent[before.len()..sent.len() - after.len()].contains('\n')
            }
        };
        same.then_some(t.id)
    })
}

/// The message of a DNS chunk: over TCP the two-byte length comes first.
fn dns_payload(bytes: &[u8]) -> Option<DnsMessage> {
    DnsMessage::parse(bytes)
        .ok()
        .or_else(|| DnsMessage::parse(bytes.get(2..)?).ok())
}

fn dns_query(bytes: &[u8]) -> Request {
    let message = dns_payload(bytes);
    let question = message.as_ref().and_then(|m| m.question());
    let name = question.map_or(String::new(), |q| q.name.to_string());
    Request {
        verb: question.map_or(String::new(), |q| q.qtype.to_string()),
        argument: name.trim_end_matches('.').to_ascii_lowercase(),
        headers: Vec::new(),
        template: None,
        recursion_desired: message.as_ref().map(|m| m.header.rd),
        text: String::new(),
    }
}

fn read_reply(protocol: TaskProtocol, bytes: &[u8]) -> Reply {
    let text = lossy(bytes, MAX_REPLY_TEXT);
    match protocol {
        TaskProtocol::Http => {
            let code = parse_head(bytes).status(bytes);
            coded(code, text)
        }
        TaskProtocol::Smtp | TaskProtocol::Ftp => {
            let code = text.get(..3).and_then(|c| c.parse().ok());
            coded(code, text)
        }
        TaskProtocol::Pop3 => Reply {
            code: None,
            ok: text.starts_with("+OK"),
            answers: 0,
            text,
        },
        TaskProtocol::Dns => dns_reply(bytes),
        TaskProtocol::Line => Reply {
            code: None,
            ok: true,
            answers: 0,
            text,
        },
    }
}

fn coded(code: Option<u16>, text: String) -> Reply {
    Reply {
        ok: code.is_some_and(|c| (200..400).contains(&c)),
        code,
        answers: 0,
        text,
    }
}

fn dns_reply(bytes: &[u8]) -> Reply {
    match dns_payload(bytes) {
        Some(message) => {
            let rcode = message.rcode().0;
            let mut text = message.to_text();
            text.truncate(floor_char_boundary(&text, MAX_REPLY_TEXT));
            Reply {
                code: Some(rcode),
                ok: rcode == 0,
                answers: message.answers.len(),
                text,
            }
        }
        None => Reply {
            code: None,
            ok: false,
            answers: 0,
            text: String::new(),
        },
    }
}

fn floor_char_boundary(text: &str, max: usize) -> usize {
    (0..=max.min(text.len()))
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_requests_pair_with_their_responses() {
        let got = Follow::replay(
            TaskProtocol::Http,
            Connection::tcp(1, "http"),
            [
                (
                    Sender::Client,
                    &b"GET /a HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"t\"\r\n\r\n"[..],
                ),
                (Sender::Server, b"HTTP/1.1 304 Not Modified\r\n\r\n"),
            ],
        );
        assert_eq!(got.len(), 1);
        let request = got[0].request.as_ref().unwrap();
        assert_eq!(
            (request.verb.as_str(), request.argument.as_str()),
            ("GET", "/a")
        );
        assert_eq!(request.headers[1], ("If-None-Match".into(), "\"t\"".into()));
        assert_eq!(request.template, None);
        assert_eq!(got[0].final_reply().unwrap().code, Some(304));
    }

    #[test]
    fn the_etag_template_is_recognised_whatever_tag_was_pasted() {
        assert!(TEMPLATES.iter().any(|t| t.text.contains(ETAG_PLACEHOLDER)));
        let sent = b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: www.someschool.edu\r\nIf-None-Match: \"5-abc\"\r\n\r\n";
        assert_eq!(page_template(sent), Some("kiwi-etag"));
        let edited = b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: www.someschool.edu\r\nIf-None-Match: \"5-abc\"\r\nX: y\r\n\r\n";
        assert_eq!(page_template(edited), None);
    }

    #[test]
    fn ftp_interim_replies_stay_with_their_command_and_the_greeting_stands_alone() {
        let got = Follow::replay(
            TaskProtocol::Ftp,
            Connection::tcp(1, "ftp"),
            [
                (Sender::Server, &b"220 ready\r\n"[..]),
                (Sender::Client, b"LIST pub\r\n"),
                (Sender::Server, b"150 Here comes the listing\r\n"),
                (Sender::Server, b"226 Done\r\n"),
            ],
        );
        assert_eq!(got.len(), 2);
        assert!(got[0].request.is_none());
        assert_eq!(got[1].replies.len(), 2);
        assert_eq!(got[1].final_reply().unwrap().code, Some(226));
        assert_eq!(got[1].messages(), 3);
    }

    #[test]
    fn a_connection_is_followed_only_so_far() {
        let mut follow = Follow::new(TaskProtocol::Line, Connection::tcp(1, "upper-tcp"));
        let line = vec![b'a'; MAX_FOLLOWED_BYTES];
        follow.client(&line);
        follow.client(b"more\n");
        follow.closed();
        let got = follow.take_finished();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].request.as_ref().unwrap().text.len(), MAX_REPLY_TEXT);
    }
}
