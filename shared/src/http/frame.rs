//! Finding where an HTTP/1.x message ends in a stream (RFC 9112 §6.3):
//! the head ends at the first empty line, and the body by its
//! Content-Length, by the chunked transfer coding's zero-size last chunk, or
//! by the connection closing. HEAD responses, 1xx, 204 and 304 have none.
//!
//! [`frame_request`] and [`frame_response`] say `Partial` until the whole
//! message is in the buffer, or an error as soon as a [`Limits`] bound is
//! crossed or the framing is broken (a server answers 431, 414, 413 or 400
//! and closes). A message framed `UntilClose` is complete only at end of
//! stream: the caller takes the whole buffer then. A server reading a
//! stream keeps one [`RequestFramer`], which resumes where it stopped, so
//! bytes that trickle in are not read again and again.
//!
//! This is the strict path a server answers from; the dissector reads the
//! same bytes for the student with [`parse_chunks`], which keeps every
//! chunk's spans for the tree.

use super::message::{Head, HeaderLineKind, StartLine, parse_head, text};
use crate::dissect::Span;

/// Bounds on what one message may hold. Every one is checked as the bytes
/// arrive, so a sender that never stops is refused at the bound instead of
/// being buffered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line of the head or of the trailer section, in bytes.
    pub max_line: usize,
    /// Most header lines.
    pub max_headers: usize,
    /// Longest head (start line, headers, blank line).
    pub max_head: usize,
    /// Longest body; for a chunked body, its chunks with their size lines.
    pub max_body: usize,
    /// Longest chunk-size line, chunk extensions included.
    pub max_chunk_line: usize,
    /// Most trailer field lines after the last chunk.
    pub max_trailers: usize,
    /// Longest trailer section (its field lines and the final empty line).
    pub max_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 8 * 1024,
            max_headers: 100,
            max_head: 64 * 1024,
            max_body: 4 * 1024 * 1024,
            max_chunk_line: 1024,
            max_trailers: 32,
            max_trailer_bytes: 16 * 1024,
        }
    }
}

/// How the end of a body is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body at all.
    None,
    /// Exactly this many bytes (Content-Length).
    Length(usize),
    /// Chunks, each with its size, until a zero-size chunk and the trailers.
    Chunked,
    /// Everything until the server closes the connection (responses only).
    UntilClose,
}

impl BodyFraming {
    /// How a student would say it.
    pub fn describe(&self) -> String {
        match self {
            BodyFraming::None => "no body".into(),
            BodyFraming::Length(n) => format!("{n} bytes, as Content-Length says"),
            BodyFraming::Chunked => {
                "chunked: each chunk gives its size, a zero-size chunk ends it".into()
            }
            BodyFraming::UntilClose => "until the server closes the connection".into(),
        }
    }
}

/// A complete message at the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Where the body starts (the end of the head).
    pub head_end: usize,
    pub body: BodyFraming,
    /// The whole message's length: drop this many bytes after using it.
    pub len: usize,
}

/// The framer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Complete(Frame),
    /// Not all of it has arrived.
    Partial,
    /// The head is complete and the body runs until the connection closes:
    /// the caller completes it at end of stream.
    UntilClose {
        head_end: usize,
    },
}

/// Why a message cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the first line is longer than {limit} bytes")]
    StartLineTooLong { limit: usize },
    #[error("a line of the head is longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("more than {limit} header lines")]
    TooManyHeaders { limit: usize },
    #[error("the head is longer than {limit} bytes")]
    HeadTooLarge { limit: usize },
    #[error("the body is longer than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("a chunk-size line is longer than {limit} bytes")]
    ChunkLineTooLong { limit: usize },
    #[error("a trailer line is longer than {limit} bytes")]
    TrailerLineTooLong { limit: usize },
    #[error("more than {limit} trailer lines")]
    TooManyTrailers { limit: usize },
    #[error("the trailer section is longer than {limit} bytes")]
    TrailersTooLarge { limit: usize },
    #[error("Content-Length is not a number of bytes")]
    InvalidContentLength,
    #[error("several Content-Length values that disagree")]
    ConflictingContentLength,
    #[error("a request's Transfer-Encoding must end with chunked")]
    UnknownTransferCoding,
    #[error("the chunked body is malformed: {0}")]
    BadChunk(&'static str),
}

impl FrameError {
    /// The status a server answers with: 431 for a head (or trailers) too
    /// large, 414 for a request line, 413 for a body, else 400.
    pub fn status(&self) -> u16 {
        match self {
            FrameError::LineTooLong { .. }
            | FrameError::TooManyHeaders { .. }
            | FrameError::HeadTooLarge { .. }
            | FrameError::TrailerLineTooLong { .. }
            | FrameError::TooManyTrailers { .. }
            | FrameError::TrailersTooLarge { .. } => 431,
            FrameError::StartLineTooLong { .. } => 414,
            FrameError::BodyTooLarge { .. } => 413,
            _ => 400,
        }
    }
}

/// The next line of `buf` from `start`: its content (without CR LF) and
/// the index just past its LF. `searched` is how far earlier calls looked
/// without finding an LF, so bytes that arrive a few at a time are each
/// looked at once; it is updated when no LF is found.
fn next_line(buf: &[u8], start: usize, searched: &mut usize) -> Option<(usize, usize)> {
    let from = (*searched).max(start).min(buf.len());
    let Some(rel) = buf[from..].iter().position(|&b| b == b'\n') else {
        *searched = buf.len();
        return None;
    };
    let lf = from + rel;
    let content_end = if lf > start && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    Some((content_end, lf + 1))
}

/// Where reading a head has got to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct HeadScan {
    /// Where the line being read starts.
    line_start: usize,
    /// Where the search for its LF stopped.
    searched: usize,
    /// Header lines counted so far.
    fields: usize,
    seen_start_line: bool,
}

impl HeadScan {
    /// Reads on; `Some(end)` just past the empty line that ends the head.
    fn advance(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
        loop {
            let start = self.line_start;
            // A line may hold `max_line` bytes and its CR LF: look no further.
            let window = &buf[..buf.len().min(start.saturating_add(limits.max_line + 2))];
            let Some((content_end, next)) = next_line(window, start, &mut self.searched) else {
                return self.check_partial(buf, limits);
            };
            if next > limits.max_head {
                return Err(FrameError::HeadTooLarge {
                    limit: limits.max_head,
                });
            }
            self.line_start = next;
            self.searched = next;
            if content_end == start {
                // Empty lines before the start line are skipped, not an end.
                if self.seen_start_line {
                    return Ok(Some(next));
                }
                continue;
            }
            if self.seen_start_line {
                self.fields += 1;
                if self.fields > limits.max_headers {
                    return Err(FrameError::TooManyHeaders {
                        limit: limits.max_headers,
                    });
                }
            }
            self.seen_start_line = true;
        }
    }

    /// The line being read has no end yet: is it already too long?
    fn check_partial(&self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
        if buf.len() - self.line_start > limits.max_line + 1 {
            return Err(if self.seen_start_line {
                FrameError::LineTooLong {
                    limit: limits.max_line,
                }
            } else {
                FrameError::StartLineTooLong {
                    limit: limits.max_line,
                }
            });
        }
        if buf.len() > limits.max_head {
            return Err(FrameError::HeadTooLarge {
                limit: limits.max_head,
            });
        }
        Ok(None)
    }
}

/// Finds the end of the head (just after the empty line), enforcing limits.
pub fn find_head_end(buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
    HeadScan::default().advance(buf, limits)
}

/// What a chunked body is being read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkPhase {
    /// A chunk-size line.
    Size,
    /// A chunk's data, which ends here and is followed by CR LF.
    Data { data_end: usize },
    /// After the last chunk: trailer lines, then an empty line.
    Trailers { section_start: usize, fields: usize },
}

/// Where strictly reading a chunked body has got to: sizes, data endings
/// and trailers are checked against the limits as they arrive, and nothing
/// is kept but this position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkScan {
    body_start: usize,
    at: usize,
    searched: usize,
    phase: ChunkPhase,
}

impl ChunkScan {
    fn new(body_start: usize) -> Self {
        ChunkScan {
            body_start,
            at: body_start,
            searched: body_start,
            phase: ChunkPhase::Size,
        }
    }

    /// Reads on; `Some(end)` just past the body's final empty line.
    fn advance(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, FrameError> {
        loop {
            let step = match self.phase {
                ChunkPhase::Size => self.size_line(buf, limits)?,
                ChunkPhase::Data { data_end } => self.data_ending(buf, data_end)?,
                ChunkPhase::Trailers {
                    section_start,
                    fields,
                } => match self.trailer_line(buf, limits, section_start, fields)? {
                    Some(true) => return Ok(Some(self.at)),
                    Some(false) => true,
                    None => false,
                },
            };
            if !step {
                return Ok(None);
            }
        }
    }

    fn moved_to(&mut self, at: usize, phase: ChunkPhase) -> bool {
        self.at = at;
        self.searched = at;
        self.phase = phase;
        true
    }

    fn size_line(&mut self, buf: &[u8], limits: &Limits) -> Result<bool, FrameError> {
        let window = &buf[..buf
            .len()
            .min(self.at.saturating_add(limits.max_chunk_line + 2))];
        let Some((content_end, next)) = next_line(window, self.at, &mut self.searched) else {
            if buf.len() - self.at > limits.max_chunk_line + 1 {
                return Err(FrameError::ChunkLineTooLong {
                    limit: limits.max_chunk_line,
                });
            }
            return Ok(false);
        };
        let too_large = FrameError::BodyTooLarge {
            limit: limits.max_body,
        };
        let size = chunk_size(&buf[self.at..content_end])?.ok_or(too_large)?;
        if size == 0 {
            let phase = ChunkPhase::Trailers {
                section_start: next,
                fields: 0,
            };
            return Ok(self.moved_to(next, phase));
        }
        let data_end = next.checked_add(size).ok_or(too_large)?;
        if data_end - self.body_start > limits.max_body {
            return Err(too_large);
        }
        Ok(self.moved_to(next, ChunkPhase::Data { data_end }))
    }

    fn data_ending(&mut self, buf: &[u8], data_end: usize) -> Result<bool, FrameError> {
        match buf.get(data_end..buf.len().min(data_end + 2)) {
            Some([b'\r', b'\n']) => Ok(self.moved_to(data_end + 2, ChunkPhase::Size)),
            Some([b'\n', ..]) => Ok(self.moved_to(data_end + 1, ChunkPhase::Size)),
            // Not here yet, or only the CR of the CR LF.
            None | Some([] | [b'\r']) => Ok(false),
            Some(_) => Err(FrameError::BadChunk(
                "a chunk's data must be followed by CRLF (is the size right?)",
            )),
        }
    }

    /// `Some(true)` at the final empty line, `Some(false)` after a field.
    fn trailer_line(
        &mut self,
        buf: &[u8],
        limits: &Limits,
        section_start: usize,
        fields: usize,
    ) -> Result<Option<bool>, FrameError> {
        let too_large = FrameError::TrailersTooLarge {
            limit: limits.max_trailer_bytes,
        };
        let window = &buf[..buf.len().min(self.at.saturating_add(limits.max_line + 2))];
        let Some((content_end, next)) = next_line(window, self.at, &mut self.searched) else {
            if buf.len() - self.at > limits.max_line + 1 {
                return Err(FrameError::TrailerLineTooLong {
                    limit: limits.max_line,
                });
            }
            if buf.len() - section_start > limits.max_trailer_bytes {
                return Err(too_large);
            }
            return Ok(None);
        };
        if next - section_start > limits.max_trailer_bytes {
            return Err(too_large);
        }
        if content_end == self.at {
            self.moved_to(next, self.phase);
            return Ok(Some(true));
        }
        if fields + 1 > limits.max_trailers {
            return Err(FrameError::TooManyTrailers {
                limit: limits.max_trailers,
            });
        }
        let phase = ChunkPhase::Trailers {
            section_start,
            fields: fields + 1,
        };
        self.moved_to(next, phase);
        Ok(Some(false))
    }
}

/// The size on a chunk-size line (hex digits, then extensions after `;`):
/// `Ok(None)` if it does not fit in a `usize`.
fn chunk_size(line: &[u8]) -> Result<Option<usize>, FrameError> {
    let hex_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let rest = &line[hex_end..];
    let rest_ok = rest.is_empty() || rest[0] == b';' || rest[0] == b' ' || rest[0] == b'\t';
    if hex_end == 0 || !rest_ok {
        return Err(FrameError::BadChunk(
            "a chunk size must be a hexadecimal number",
        ));
    }
    let size = line[..hex_end].iter().try_fold(0usize, |size, &digit| {
        let value = (digit as char).to_digit(16)? as usize;
        size.checked_mul(16)?.checked_add(value)
    });
    Ok(size)
}

/// The Content-Length of a head: `None` if absent; an error if it is not a
/// number or several values disagree (RFC 9112 §6.3 rule 5).
pub fn content_length(head: &Head, bytes: &[u8]) -> Result<Option<usize>, FrameError> {
    let mut found: Option<usize> = None;
    for field in head.fields(bytes) {
        if !field.name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        for part in field.value.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FrameError::InvalidContentLength);
            }
            let n: usize = part.parse().map_err(|_| FrameError::InvalidContentLength)?;
            match found {
                Some(prev) if prev != n => return Err(FrameError::ConflictingContentLength),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// The transfer codings listed in Transfer-Encoding, lowercased.
pub fn transfer_codings(head: &Head, bytes: &[u8]) -> Vec<String> {
    head.fields(bytes)
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|f| {
            f.value
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// How a request's body is framed (RFC 9112 §6.3).
pub fn request_body_framing(head: &Head, bytes: &[u8]) -> Result<BodyFraming, FrameError> {
    let codings = transfer_codings(head, bytes);
    if !codings.is_empty() {
        return if codings.last().map(String::as_str) == Some("chunked") {
            Ok(BodyFraming::Chunked)
        } else {
            Err(FrameError::UnknownTransferCoding)
        };
    }
    Ok(match content_length(head, bytes)? {
        Some(0) | None => BodyFraming::None,
        Some(n) => BodyFraming::Length(n),
    })
}

/// Whether a response to `method` with `status` has no body whatever its
/// headers say.
pub fn response_has_no_body(method: Option<&str>, status: u16) -> bool {
    method.is_some_and(|m| m.eq_ignore_ascii_case("HEAD"))
        || (100..200).contains(&status)
        || status == 204
        || status == 304
        || (method.is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"))
            && (200..300).contains(&status))
}

/// How a response's body is framed, given the request's method.
pub fn response_body_framing(
    head: &Head,
    bytes: &[u8],
    request_method: Option<&str>,
) -> Result<BodyFraming, FrameError> {
    let status = head.status(bytes).unwrap_or(200);
    if response_has_no_body(request_method, status) {
        return Ok(BodyFraming::None);
    }
    let codings = transfer_codings(head, bytes);
    if !codings.is_empty() {
        return Ok(if codings.last().map(String::as_str) == Some("chunked") {
            BodyFraming::Chunked
        } else {
            BodyFraming::UntilClose
        });
    }
    Ok(match content_length(head, bytes)? {
        Some(0) => BodyFraming::None,
        Some(n) => BodyFraming::Length(n),
        None => BodyFraming::UntilClose,
    })
}

/// One chunk of a chunked body, spans absolute in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The size line (hex size and extensions), without its CRLF.
    pub size_line: Span,
    /// The size line's CRLF.
    pub size_ending: Span,
    pub size: usize,
    /// The chunk's data.
    pub data: Span,
    /// The CRLF after the data.
    pub data_ending: Span,
}

/// The layout of a chunked body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkLayout {
    pub chunks: Vec<Chunk>,
    /// The `0` line and its ending.
    pub last_chunk: Option<Span>,
    /// Trailer field lines (with their endings).
    pub trailers: Vec<Span>,
    /// The final empty line.
    pub end_line: Option<Span>,
    /// Where parsing stopped: the end of the body when complete.
    pub end: usize,
    pub complete: bool,
    /// What was wrong, if parsing stopped early on bad input.
    pub error: Option<&'static str>,
}

impl ChunkLayout {
    /// The data of all chunks joined: the body as the sender meant it.
    pub fn data(&self, bytes: &[u8]) -> Vec<u8> {
        self.chunks
            .iter()
            .flat_map(|c| c.data.slice(bytes).iter().copied())
            .collect()
    }
}

fn line_at(buf: &[u8], start: usize) -> Option<(Span, Span)> {
    let rel = buf.get(start..)?.iter().position(|&b| b == b'\n')?;
    let lf = start + rel;
    let content_end = if lf > start && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    Some((
        Span::new(start, content_end),
        Span::new(content_end, lf + 1),
    ))
}

/// Reads the chunked body starting at `start`, as far as the bytes go.
pub fn parse_chunks(buf: &[u8], start: usize, max_body: usize) -> ChunkLayout {
    let mut layout = ChunkLayout {
        end: start,
        ..ChunkLayout::default()
    };
    let mut at = start;
    loop {
        let Some((size_line, size_ending)) = line_at(buf, at) else {
            if buf.len().saturating_sub(at) > 1024 {
                layout.error = Some("a chunk-size line longer than 1024 bytes");
            }
            layout.end = at;
            return layout;
        };
        // The framer's reading of the size line, so the two never disagree.
        let Ok(Some(size)) = chunk_size(size_line.slice(buf)) else {
            layout.error = Some("a chunk size must be a hexadecimal number");
            layout.end = at;
            return layout;
        };
        if size == 0 {
            layout.last_chunk = Some(Span::new(size_line.start, size_ending.end));
            at = size_ending.end;
            // Trailer fields, then an empty line.
            loop {
                let Some((content, ending)) = line_at(buf, at) else {
                    layout.end = at;
                    return layout;
                };
                if content.is_empty() {
                    layout.end_line = Some(Span::new(content.start, ending.end));
                    layout.end = ending.end;
                    layout.complete = true;
                    return layout;
                }
                layout.trailers.push(Span::new(content.start, ending.end));
                at = ending.end;
            }
        }
        let data_start = size_ending.end;
        let data_end = data_start.saturating_add(size);
        let body_so_far = data_end - start;
        if body_so_far > max_body {
            layout.error = Some("the chunks add up to more than the body limit");
            layout.end = at;
            return layout;
        }
        if buf.len() < data_end + 1 {
            layout.end = at;
            return layout;
        }
        let data_ending = match &buf[data_end..buf.len().min(data_end + 2)] {
            [b'\r', b'\n', ..] => Span::new(data_end, data_end + 2),
            [b'\n', ..] => Span::new(data_end, data_end + 1),
            [b'\r'] => {
                layout.end = at;
                return layout;
            }
            _ => {
                layout.error = Some("a chunk's data must be followed by CRLF (is the size right?)");
                layout.end = at;
                return layout;
            }
        };
        layout.chunks.push(Chunk {
            size_line,
            size_ending,
            size,
            data: Span::new(data_start, data_end),
            data_ending,
        });
        at = data_ending.end;
    }
}

/// Frames the requests of one connection, one after another. It remembers
/// how far it has read, so bytes that arrive a few at a time are each looked
/// at once: its caller passes the same buffer, grown at the end, until the
/// answer is `Complete` or an error, then drops the `len` bytes of a complete
/// request from the front (after an error, the connection is done).
#[derive(Debug, Clone)]
pub struct RequestFramer {
    limits: Limits,
    progress: Progress,
}

#[derive(Debug, Clone, Copy)]
enum Progress {
    Head(HeadScan),
    Body {
        head_end: usize,
        framing: BodyFraming,
        chunks: ChunkScan,
    },
}

impl RequestFramer {
    pub fn new(limits: Limits) -> Self {
        RequestFramer {
            limits,
            progress: Progress::Head(HeadScan::default()),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether the head of the request being read has all arrived.
    pub fn head_complete(&self) -> bool {
        matches!(self.progress, Progress::Body { .. })
    }

    /// Reads on in `buf`; see the type's docs for what the caller does next.
    pub fn next(&mut self, buf: &[u8]) -> Result<Status, FrameError> {
        let status = self.advance(buf);
        if !matches!(status, Ok(Status::Partial)) {
            self.progress = Progress::Head(HeadScan::default());
        }
        status
    }

    fn advance(&mut self, buf: &[u8]) -> Result<Status, FrameError> {
        let limits = self.limits;
        if let Progress::Head(scan) = &mut self.progress {
            let Some(head_end) = scan.advance(buf, &limits)? else {
                return Ok(Status::Partial);
            };
            let head = parse_head(&buf[..head_end]);
            let framing = request_body_framing(&head, buf)?;
            if let BodyFraming::Length(n) = framing
                && n > limits.max_body
            {
                // Refused before a byte of it is read.
                return Err(FrameError::BodyTooLarge {
                    limit: limits.max_body,
                });
            }
            self.progress = Progress::Body {
                head_end,
                framing,
                chunks: ChunkScan::new(head_end),
            };
        }
        let Progress::Body {
            head_end,
            framing,
            chunks,
        } = &mut self.progress
        else {
            return Ok(Status::Partial);
        };
        body_end(buf, *head_end, *framing, chunks, &limits)
    }
}

/// Frames the request at the front of `buf`.
pub fn frame_request(buf: &[u8], limits: &Limits) -> Result<Status, FrameError> {
    RequestFramer::new(*limits).next(buf)
}

/// Frames the response at the front of `buf`; `request_method` is the
/// method of the request it answers (HEAD responses have no body).
pub fn frame_response(
    buf: &[u8],
    request_method: Option<&str>,
    limits: &Limits,
) -> Result<Status, FrameError> {
    let Some(head_end) = find_head_end(buf, limits)? else {
        return Ok(Status::Partial);
    };
    let head = parse_head(&buf[..head_end]);
    let body = response_body_framing(&head, buf, request_method)?;
    if let BodyFraming::Length(n) = body
        && n > limits.max_body
    {
        return Err(FrameError::BodyTooLarge {
            limit: limits.max_body,
        });
    }
    body_end(buf, head_end, body, &mut ChunkScan::new(head_end), limits)
}

/// Whether the body that starts at `head_end` has all arrived.
fn body_end(
    buf: &[u8],
    head_end: usize,
    body: BodyFraming,
    chunks: &mut ChunkScan,
    limits: &Limits,
) -> Result<Status, FrameError> {
    let complete = |len| {
        Status::Complete(Frame {
            head_end,
            body,
            len,
        })
    };
    match body {
        BodyFraming::None => Ok(complete(head_end)),
        BodyFraming::Length(n) => Ok(if buf.len() - head_end >= n {
            complete(head_end + n)
        } else {
            Status::Partial
        }),
        BodyFraming::Chunked => Ok(match chunks.advance(buf, limits)? {
            Some(end) => complete(end),
            None => Status::Partial,
        }),
        BodyFraming::UntilClose => {
            if buf.len() - head_end > limits.max_body {
                return Err(FrameError::BodyTooLarge {
                    limit: limits.max_body,
                });
            }
            Ok(Status::UntilClose { head_end })
        }
    }
}

/// The body bytes of a framed message, de-chunked if chunked.
pub fn body_bytes(buf: &[u8], frame: &Frame) -> Vec<u8> {
    match frame.body {
        BodyFraming::Chunked => dechunk(&buf[..frame.len], frame.head_end),
        _ => buf[frame.head_end..frame.len].to_vec(),
    }
}

/// The data of a chunked body already framed, joined; nothing else is
/// kept, however many chunks it has.
fn dechunk(buf: &[u8], start: usize) -> Vec<u8> {
    let mut data = Vec::new();
    let mut at = start;
    while let Some((size_line, size_ending)) = line_at(buf, at) {
        let size = chunk_size(size_line.slice(buf)).ok().flatten().unwrap_or(0);
        let data_start = size_ending.end;
        let Some(chunk) = buf.get(data_start..data_start.saturating_add(size)) else {
            break;
        };
        if size == 0 {
            break;
        }
        data.extend_from_slice(chunk);
        at = data_start + size;
        at += match buf.get(at) {
            Some(b'\r') => 2,
            _ => 1,
        };
    }
    data
}

/// Whether a head's start line is a request (as opposed to a status line).
pub fn is_request(head: &Head) -> bool {
    matches!(head.start, StartLine::Request { .. })
}

/// The names of header lines that have no colon (broken lines).
pub fn broken_lines<'a>(head: &Head, bytes: &'a [u8]) -> Vec<&'a str> {
    head.lines
        .iter()
        .filter(|l| l.kind == HeaderLineKind::NoColon)
        .map(|l| text(bytes, l.content))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn complete_len(status: Status) -> usize {
        match status {
            Status::Complete(f) => f.len,
            other => panic!("expected a complete message, got {other:?}"),
        }
    }

    #[test]
    fn requests_with_and_without_bodies() {
        let l = Limits::default();
        let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n";
        assert_eq!(complete_len(frame_request(get, &l).unwrap()), 27);
        let post = b"POST /f HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(complete_len(frame_request(post, &l).unwrap()), post.len());
        assert_eq!(
            frame_request(&post[..post.len() - 1], &l).unwrap(),
            Status::Partial
        );
    }

    #[test]
    fn chunked_with_trailers() {
        let l = Limits::default();
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nExpires: never\r\n\r\n";
        let status = frame_response(msg, Some("GET"), &l).unwrap();
        let Status::Complete(frame) = status else {
            panic!()
        };
        assert_eq!(frame.len, msg.len());
        assert_eq!(body_bytes(msg, &frame), b"hello world");
        let layout = parse_chunks(msg, frame.head_end, usize::MAX);
        assert_eq!(layout.chunks.len(), 2);
        assert_eq!(layout.chunks[1].size, 6);
        assert_eq!(layout.trailers.len(), 1);
        assert!(layout.complete);
    }

    #[test]
    fn responses_without_bodies() {
        let l = Limits::default();
        let head_reply = b"HTTP/1.1 200 OK\r\nContent-Length: 6821\r\n\r\n";
        assert_eq!(
            complete_len(frame_response(head_reply, Some("HEAD"), &l).unwrap()),
            head_reply.len()
        );
        let not_modified = b"HTTP/1.0 304 Not Modified\r\nContent-Length: 10\r\n\r\n";
        assert_eq!(
            complete_len(frame_response(not_modified, Some("GET"), &l).unwrap()),
            not_modified.len()
        );
        let until_close = b"HTTP/1.0 200 Document Follows\r\n\r\n<html>";
        assert_eq!(
            frame_response(until_close, Some("GET"), &l).unwrap(),
            Status::UntilClose { head_end: 33 }
        );
    }

    #[test]
    fn broken_framing_is_an_error() {
        let l = Limits::default();
        let bad_length = b"POST / HTTP/1.1\r\nContent-Length: five\r\n\r\n";
        assert_eq!(
            frame_request(bad_length, &l),
            Err(FrameError::InvalidContentLength)
        );
        let conflict = b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
        assert_eq!(
            frame_request(conflict, &l),
            Err(FrameError::ConflictingContentLength)
        );
        let same_twice = b"POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\nx";
        assert_eq!(
            complete_len(frame_request(same_twice, &l).unwrap()),
            same_twice.len()
        );
        let gzip_only = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
        assert_eq!(
            frame_request(gzip_only, &l),
            Err(FrameError::UnknownTransferCoding)
        );
        let bad_chunk = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(matches!(
            frame_request(bad_chunk, &l),
            Err(FrameError::BadChunk(_))
        ));
        let short_chunk =
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n";
        assert!(matches!(
            frame_request(short_chunk, &l),
            Err(FrameError::BadChunk(_))
        ));
    }

    #[test]
    fn limits_hold() {
        let small = Limits {
            max_line: 20,
            max_headers: 2,
            max_head: 100,
            max_body: 10,
            ..Limits::default()
        };
        assert_eq!(
            frame_request(b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &small),
            Err(FrameError::StartLineTooLong { limit: 20 })
        );
        assert_eq!(
            frame_request(b"GET / HTTP/1.1\r\nX-Long: aaaaaaaaaaaaaaaaaaaaa", &small),
            Err(FrameError::LineTooLong { limit: 20 })
        );
        assert_eq!(
            frame_request(b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n", &small),
            Err(FrameError::TooManyHeaders { limit: 2 })
        );
        assert_eq!(
            frame_request(b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", &small),
            Err(FrameError::BodyTooLarge { limit: 10 })
        );
        // Leading empty lines are not the end of a head.
        assert_eq!(
            complete_len(frame_request(b"\r\nGET / HTTP/1.1\r\n\r\n", &small).unwrap()),
            20
        );
    }

    /// A chunked request head and one chunk, ready for a last chunk.
    const CHUNKED_POST: &[u8] =
        b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";

    /// Feeds `stream` to one framer in pieces of `step` bytes, as a server
    /// does, until it answers something other than `Partial`; returns the
    /// answer and how many bytes it had by then.
    fn feed(stream: &[u8], step: usize, limits: Limits) -> (Result<Status, FrameError>, usize) {
        let mut framer = RequestFramer::new(limits);
        let mut end = 0;
        while end < stream.len() {
            end = (end + step).min(stream.len());
            let status = framer.next(&stream[..end]);
            if status != Ok(Status::Partial) {
                return (status, end);
            }
        }
        (Ok(Status::Partial), end)
    }

    #[test]
    fn an_endless_trailer_section_is_refused_at_its_limits() {
        let l = Limits::default();
        let mut flood = CHUNKED_POST.to_vec();
        flood.extend_from_slice(b"0\r\n");
        let section_start = flood.len();
        for i in 0..10_000 {
            flood.extend_from_slice(format!("X-Flood-{i}: yes\r\n").as_bytes());
        }
        let (status, read) = feed(&flood, 7, l);
        assert_eq!(status, Err(FrameError::TooManyTrailers { limit: 32 }));
        assert!(read - section_start < 33 * 24, "read {read} bytes");
        // Few but long lines hit the size bound instead.
        let mut flood = CHUNKED_POST.to_vec();
        flood.extend_from_slice(b"0\r\n");
        for _ in 0..10 {
            flood.extend_from_slice(format!("X-Big: {}\r\n", "a".repeat(4000)).as_bytes());
        }
        let (status, read) = feed(&flood, 1000, l);
        assert_eq!(
            status,
            Err(FrameError::TrailersTooLarge { limit: 16 * 1024 })
        );
        assert!(
            read - section_start <= 16 * 1024 + 1000,
            "read {read} bytes"
        );
        // One line that never ends hits the line bound.
        let mut flood = CHUNKED_POST.to_vec();
        flood.extend_from_slice(b"0\r\nX-Endless: ");
        flood.extend(std::iter::repeat_n(b'a', 100_000));
        let (status, read) = feed(&flood, 1000, l);
        assert_eq!(
            status,
            Err(FrameError::TrailerLineTooLong { limit: 8 * 1024 })
        );
        assert!(read - section_start <= 8 * 1024 + 1000, "read {read} bytes");
    }

    #[test]
    fn head_limits_are_checked_as_bytes_arrive() {
        let l = Limits::default();
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..1000 {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        let (status, read) = feed(&many, 5, l);
        assert_eq!(status, Err(FrameError::TooManyHeaders { limit: 100 }));
        assert!(read < 101 * 12, "read {read} bytes");
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..100 {
            big.extend_from_slice(format!("X-Big: {}\r\n", "b".repeat(1000)).as_bytes());
        }
        let (status, read) = feed(&big, 100, l);
        assert_eq!(status, Err(FrameError::HeadTooLarge { limit: 64 * 1024 }));
        assert!(read <= 64 * 1024 + 100, "read {read} bytes");
        let mut long_target = b"GET /".to_vec();
        long_target.extend(std::iter::repeat_n(b'x', 100_000));
        let (status, read) = feed(&long_target, 100, l);
        assert_eq!(
            status,
            Err(FrameError::StartLineTooLong { limit: 8 * 1024 })
        );
        assert!(read <= 8 * 1024 + 100, "read {read} bytes");
    }

    #[test]
    fn a_huge_content_length_is_refused_before_the_body() {
        let l = Limits::default();
        assert_eq!(
            frame_request(
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000\r\n\r\n",
                &l
            ),
            Err(FrameError::BodyTooLarge { limit: l.max_body })
        );
        // A chunk that announces more than the limit, before its data.
        let mut big_chunk = CHUNKED_POST.to_vec();
        big_chunk.extend_from_slice(b"ffffffff\r\n");
        assert_eq!(
            frame_request(&big_chunk, &l),
            Err(FrameError::BodyTooLarge { limit: l.max_body })
        );
        let mut overflow = CHUNKED_POST.to_vec();
        overflow.extend_from_slice(b"fffffffffffffffffffffff\r\n");
        assert_eq!(
            frame_request(&overflow, &l),
            Err(FrameError::BodyTooLarge { limit: l.max_body })
        );
    }

    #[test]
    fn chunk_size_lines_and_extensions_are_bounded() {
        let l = Limits::default();
        let mut endless = CHUNKED_POST.to_vec();
        endless.extend_from_slice(b"5;name=");
        endless.extend(std::iter::repeat_n(b'v', 10_000));
        let (status, read) = feed(&endless, 100, l);
        assert_eq!(status, Err(FrameError::ChunkLineTooLong { limit: 1024 }));
        assert!(read - CHUNKED_POST.len() <= 1024 + 100, "read {read} bytes");
        // The same when the long line arrives whole, with its end.
        endless.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        assert_eq!(
            frame_request(&endless, &l),
            Err(FrameError::ChunkLineTooLong { limit: 1024 })
        );
        let mut short = CHUNKED_POST.to_vec();
        short.extend_from_slice(b"5;name=value\r\nhello\r\n0\r\n\r\n");
        assert_eq!(
            complete_len(frame_request(&short, &l).unwrap()),
            short.len()
        );
    }

    proptest! {
        #[test]
        fn every_strict_prefix_is_partial(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            chunked in any::<bool>(),
            split in 1usize..8,
        ) {
            let mut msg = b"POST /form HTTP/1.1\r\nHost: x\r\n".to_vec();
            if chunked {
                msg.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for piece in body.chunks(split) {
                    msg.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    msg.extend_from_slice(piece);
                    msg.extend_from_slice(b"\r\n");
                }
                msg.extend_from_slice(b"0\r\nX-Sum: 1\r\n\r\n");
            } else {
                msg.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                msg.extend_from_slice(&body);
            }
            let l = Limits::default();
            for cut in 0..msg.len() {
                prop_assert_eq!(frame_request(&msg[..cut], &l), Ok(Status::Partial), "cut at {}", cut);
            }
            let Status::Complete(frame) = frame_request(&msg, &l).unwrap() else {
                return Err(TestCaseError::fail("not complete"));
            };
            prop_assert_eq!(frame.len, msg.len());
            prop_assert_eq!(body_bytes(&msg, &frame), body);
            // One framer fed the message in pieces says the same.
            for step in [1, split, 1000] {
                let (status, read) = feed(&msg, step, l);
                prop_assert_eq!(status, Ok(Status::Complete(frame.clone())));
                prop_assert_eq!(read, msg.len());
            }
        }

        #[test]
        fn framing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let l = Limits {
                max_line: 64,
                max_headers: 8,
                max_head: 256,
                max_body: 128,
                max_chunk_line: 16,
                max_trailers: 2,
                max_trailer_bytes: 64,
            };
            if let Ok(Status::Complete(f)) = frame_request(&bytes, &l) {
                prop_assert!(f.len <= bytes.len());
            }
            let _ = frame_response(&bytes, Some("GET"), &l);
        }
    }
}
