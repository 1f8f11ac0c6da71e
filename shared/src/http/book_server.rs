//! The textbook's own web server (§2.8, `WebServer.java`), answering exactly
//! as its code does, so a student can set it beside the reference server:
//!
//! - it reads one line, the request line, and nothing after it;
//! - if its first word is `GET`, the second is the file name (a leading `/`
//!   dropped), and the reply is `HTTP/1.0 200 Document Follows`, a
//!   `Content-Type` only for `.jpg` and `.gif`, `Content-Length`, a blank
//!   line and the file; then the connection closes;
//! - anything else ends with no reply at all: the book's code prints
//!   "Bad Request Message" on its console for another method, and throws
//!   (the program dies, closing the socket) for a file that does not exist
//!   or a line with one word. The book never answers 404: it "assumes that
//!   the client requests an object that is in the server's file system".
//!
//! Files are the reference site's ([`super::site::demo_files`]), looked up
//! by name, so no request reaches anything else. The driver gives each
//! connection its own engine (the book's program serves one request and
//! exits; the catalog's keeps listening).

use super::site::StaticFile;
use crate::engine::{Engine, Millis, Output};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// The longest request line read; a longer one closes the connection
/// (Java's `readLine` would read on without bound).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// The files the server can send, by path (`/somedir/page.html`).
pub type BookFiles = Arc<BTreeMap<&'static str, StaticFile>>;

/// What happened to the one request of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookServerEvent {
    /// `HTTP/1.0 200 Document Follows` and the file.
    Sent { file: String, bytes: usize },
    /// The connection closed with no reply, and why (what the book's
    /// program would have done instead).
    NoReply { why: &'static str },
}

/// One connection to the book's web server.
#[derive(Debug)]
pub struct BookWebServer {
    files: BookFiles,
    line: Vec<u8>,
    outputs: VecDeque<Output<BookServerEvent>>,
    done: bool,
}

impl BookWebServer {
    pub fn new(files: BookFiles) -> Self {
        BookWebServer {
            files,
            line: Vec::new(),
            outputs: VecDeque::new(),
            done: false,
        }
    }

    /// Answers the request line as `WebServer.java` does, then closes.
    fn answer(&mut self, request_line: &[u8]) {
        self.done = true;
        let event = match self.reply(request_line) {
            Ok((file, reply)) => {
                let bytes = reply.len();
                self.outputs.push_back(Output::Transmit(reply));
                BookServerEvent::Sent { file, bytes }
            }
            Err(why) => BookServerEvent::NoReply { why },
        };
        self.outputs.push_back(Output::Event(event));
        self.outputs.push_back(Output::Close);
    }

    /// The file named and the whole reply, or why the book's code sends none.
    fn reply(&self, request_line: &[u8]) -> Result<(String, Vec<u8>), &'static str> {
        // StringTokenizer's default delimiters: space, tab, CR, LF, FF.
        let mut words = request_line
            .split(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0c))
            .filter(|word| !word.is_empty());
        let method = words
            .next()
            .ok_or("an empty request line: nextToken() throws")?;
        if method != b"GET" {
            return Err(
                "not GET: the book's server prints \"Bad Request Message\" and sends nothing",
            );
        }
        let name = words
            .next()
            .ok_or("GET without a file name: nextToken() throws")?;
        let name = String::from_utf8_lossy(name.strip_prefix(b"/").unwrap_or(name)).into_owned();
        let file = self
            .files
            .get(format!("/{name}").as_str())
            .ok_or("no such file: new FileInputStream(fileName) throws and the program ends")?;
        Ok((name.clone(), document_follows(&name, &file.body)))
    }
}

/// The book's reply, header line by header line.
fn document_follows(name: &str, body: &[u8]) -> Vec<u8> {
    let mut reply = b"HTTP/1.0 200 Document Follows\r\n".to_vec();
    if name.ends_with(".jpg") {
        reply.extend_from_slice(b"Content-Type: image/jpeg\r\n");
    }
    if name.ends_with(".gif") {
        reply.extend_from_slice(b"Content-Type: image/gif\r\n");
    }
    reply.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    reply.extend_from_slice(body);
    reply
}

impl Engine for BookWebServer {
    type Event = BookServerEvent;

    fn handle_input(&mut self, bytes: &[u8], _now: Millis) {
        if self.done {
            return;
        }
        // Java's readLine ends a line at LF, CR or CR LF.
        match bytes.iter().position(|b| matches!(b, b'\r' | b'\n')) {
            Some(end) if self.line.len() + end <= MAX_REQUEST_LINE => {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&bytes[..end]);
                self.answer(&line);
            }
            None if self.line.len() + bytes.len() <= MAX_REQUEST_LINE => {
                self.line.extend_from_slice(bytes);
            }
            _ => {
                self.done = true;
                self.outputs
                    .push_back(Output::Event(BookServerEvent::NoReply {
                        why: "a request line longer than the server reads",
                    }));
                self.outputs.push_back(Output::Close);
            }
        }
    }

    fn handle_eof(&mut self, _now: Millis) {
        if self.done {
            return;
        }
        // readLine returns what came before the end of the stream.
        let line = std::mem::take(&mut self.line);
        self.answer(&line);
    }

    fn poll_output(&mut self) -> Output<BookServerEvent> {
        self.outputs.pop_front().unwrap_or(Output::Wait(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::drain;
    use crate::http::site::demo_files;

    fn server() -> BookWebServer {
        BookWebServer::new(Arc::new(demo_files()))
    }

    fn ask(request: &[u8]) -> (Vec<u8>, bool, Vec<BookServerEvent>) {
        let mut server = server();
        server.handle_input(request, Millis(0));
        let out = drain(&mut server);
        (out.bytes(), out.close, out.events)
    }

    #[test]
    fn a_page_follows_the_books_status_line_with_only_a_length() {
        let page = demo_files()["/somedir/page.html"].body.to_vec();
        let (reply, closed, _) = ask(b"GET /somedir/page.html HTTP/1.0\r\nHost: x\r\n\r\n");
        let mut expected = format!(
            "HTTP/1.0 200 Document Follows\r\nContent-Length: {}\r\n\r\n",
            page.len()
        )
        .into_bytes();
        expected.extend_from_slice(&page);
        assert_eq!(reply, expected);
        assert!(closed);
    }

    #[test]
    fn gif_and_jpg_get_their_content_type() {
        let (reply, _, _) = ask(b"GET /fruit/kiwi.gif HTTP/1.1\n");
        assert!(reply.starts_with(
            b"HTTP/1.0 200 Document Follows\r\nContent-Type: image/gif\r\nContent-Length: "
        ));
        let (reply, _, _) = ask(b"GET someDepartment/img/pic01.jpg\r");
        assert!(
            reply.starts_with(b"HTTP/1.0 200 Document Follows\r\nContent-Type: image/jpeg\r\n")
        );
    }

    #[test]
    fn the_request_line_may_come_in_pieces_and_end_with_the_stream() {
        let mut server = server();
        server.handle_input(b"GET /ind", Millis(0));
        assert!(drain(&mut server).transmitted.is_empty());
        server.handle_input(b"ex.html", Millis(1));
        server.handle_eof(Millis(2));
        let out = drain(&mut server);
        assert!(
            out.bytes()
                .starts_with(b"HTTP/1.0 200 Document Follows\r\n")
        );
        assert!(out.close);
    }

    #[test]
    fn what_the_book_does_not_handle_closes_without_a_reply() {
        for request in [
            &b"GET /nope.html HTTP/1.0\r\n"[..],
            b"GET / HTTP/1.0\r\n",
            b"HEAD /index.html HTTP/1.0\r\n",
            b"get /index.html HTTP/1.0\r\n",
            b"GET\r\n",
            b"\r\n",
            b"GET /index.html?x=1 HTTP/1.0\r\n",
            b"GET /../index.html HTTP/1.0\r\n",
        ] {
            let (reply, closed, events) = ask(request);
            assert!(reply.is_empty(), "{request:?}");
            assert!(closed, "{request:?}");
            assert!(
                matches!(events[..], [BookServerEvent::NoReply { .. }]),
                "{request:?}"
            );
        }
    }

    #[test]
    fn an_endless_request_line_closes_the_connection() {
        let mut server = server();
        for _ in 0..=MAX_REQUEST_LINE / 1024 {
            server.handle_input(&[b'a'; 1024], Millis(0));
        }
        let out = drain(&mut server);
        assert!(out.transmitted.is_empty());
        assert!(out.close);
        assert!(server.line.len() <= MAX_REQUEST_LINE);
    }
}
