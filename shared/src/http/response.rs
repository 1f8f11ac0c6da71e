//! Building the responses of the reference web server and writing them out
//! as bytes, with Content-Length or chunks, and without a body for HEAD,
//! 304 and 204.

use super::message::Version;
use super::status::reason_phrase;

/// A body: all at once, or in chunks (sent chunked to HTTP/1.1 clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Full(Vec<u8>),
    Chunks {
        chunks: Vec<Vec<u8>>,
        /// Trailer fields, sent only when the client said `TE: trailers`.
        trailers: Vec<(String, String)>,
    },
}

impl Body {
    pub fn len(&self) -> usize {
        match self {
            Body::Full(b) => b.len(),
            Body::Chunks { chunks, .. } => chunks.iter().map(Vec::len).sum(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A response being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// How the response is written on this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// The request's version: HTTP/1.0 clients get no chunked coding.
    pub request_version: Version,
    /// A response to HEAD: headers only.
    pub head_only: bool,
    /// The client sent `TE: trailers`.
    pub accepts_trailers: bool,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: reason_phrase(status).unwrap_or("Unknown").to_string(),
            headers: Vec::new(),
            body: Body::Full(Vec::new()),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        self.headers
            .push(("Content-Type".into(), content_type.to_string()));
        self.body = Body::Full(body.into());
        self
    }

    /// A small HTML page with a title and some paragraphs of HTML.
    pub fn html(status: u16, title: &str, html_body: &str) -> Response {
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body>\n<h1>{t}</h1>\n{html_body}\n</body></html>\n",
            t = escape(title)
        );
        Response::new(status).body("text/html; charset=utf-8", page)
    }

    /// Whether a header is already set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Whether this status never carries a body.
    pub fn bodiless_status(&self) -> bool {
        (100..200).contains(&self.status) || self.status == 204 || self.status == 304
    }

    /// The bytes on the wire. `close_delimited` is true when the body of an
    /// HTTP/1.0 chunked response is sent without a length and ended by
    /// closing the connection; the caller must close after sending.
    pub fn to_bytes(&self, wire: Wire) -> (Vec<u8>, bool) {
        // Written straight into one buffer sized for the whole answer: the
        // head and body used to be formatted piece by piece and copied twice,
        // which showed in the serving path's profile.
        let head_len: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum();
        let mut out = Vec::with_capacity(64 + head_len + self.body.len());
        out.extend_from_slice(b"HTTP/1.1 ");
        put_decimal(&mut out, self.status.into());
        out.push(b' ');
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.headers {
            put_field(&mut out, name, value);
        }
        if self.bodiless_status() {
            out.extend_from_slice(b"\r\n");
            return (out, false);
        }
        let close_delimited = match &self.body {
            Body::Full(bytes) => {
                out.extend_from_slice(b"Content-Length: ");
                put_decimal(&mut out, bytes.len() as u64);
                out.extend_from_slice(b"\r\n\r\n");
                if !wire.head_only {
                    out.extend_from_slice(bytes);
                }
                false
            }
            Body::Chunks { chunks, trailers } => self.put_chunked(&mut out, wire, chunks, trailers),
        };
        (out, close_delimited && !wire.head_only)
    }

    /// The end of the head and a body in chunks; true when it is sent to an
    /// HTTP/1.0 client as it is, ended by closing the connection.
    fn put_chunked(
        &self,
        out: &mut Vec<u8>,
        wire: Wire,
        chunks: &[Vec<u8>],
        trailers: &[(String, String)],
    ) -> bool {
        if wire.request_version == Version::Http10 {
            // HTTP/1.0 has no chunked coding: the body ends when
            // the connection closes, as in the early Web.
            out.extend_from_slice(b"\r\n");
            if !wire.head_only {
                chunks.iter().for_each(|c| out.extend_from_slice(c));
            }
            return true;
        }
        let send_trailers = wire.accepts_trailers && !trailers.is_empty();
        if send_trailers {
            let names: Vec<&str> = trailers.iter().map(|(n, _)| n.as_str()).collect();
            put_field(out, "Trailer", &names.join(", "));
        }
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        if wire.head_only {
            return false;
        }
        for chunk in chunks.iter().filter(|c| !c.is_empty()) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n");
        if send_trailers {
            for (n, v) in trailers {
                put_field(out, n, v);
            }
        }
        out.extend_from_slice(b"\r\n");
        false
    }
}

/// Appends `name: value` and its line end.
fn put_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal.
fn put_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE11: Wire = Wire {
        request_version: Version::Http11,
        head_only: false,
        accepts_trailers: false,
    };

    #[test]
    fn full_bodies_get_a_length_and_head_drops_the_body() {
        let r = Response::new(200).body("text/plain", "hi");
        let (bytes, close) = r.to_bytes(WIRE11);
        assert_eq!(
            bytes,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
        );
        assert!(!close);
        let (head, _) = r.to_bytes(Wire {
            head_only: true,
            ..WIRE11
        });
        assert!(head.ends_with(b"Content-Length: 2\r\n\r\n"));
        let (not_modified, _) = Response::new(304).to_bytes(WIRE11);
        assert_eq!(not_modified, b"HTTP/1.1 304 Not Modified\r\n\r\n");
    }

    #[test]
    fn chunks_for_1_1_and_close_delimited_for_1_0() {
        let r = Response {
            body: Body::Chunks {
                chunks: vec![b"Wiki".to_vec(), b"pedia".to_vec()],
                trailers: vec![("X-Count".into(), "2".into())],
            },
            ..Response::new(200)
        };
        let (bytes, close) = r.to_bytes(WIRE11);
        assert!(!close);
        assert!(
            bytes.ends_with(
                b"Transfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
            )
        );
        let (with_trailers, _) = r.to_bytes(Wire {
            accepts_trailers: true,
            ..WIRE11
        });
        assert!(with_trailers.ends_with(b"0\r\nX-Count: 2\r\n\r\n"));
        let (old, close) = r.to_bytes(Wire {
            request_version: Version::Http10,
            ..WIRE11
        });
        assert!(close);
        assert!(old.ends_with(b"\r\n\r\nWikipedia"));
        assert!(!String::from_utf8_lossy(&old).contains("Content-Length"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
