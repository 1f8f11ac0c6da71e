//! IMAP responses (RFC 9051 §7): status responses (tagged or untagged OK,
//! NO, BAD, and untagged PREAUTH and BYE) with their response code `[...]`,
//! untagged data (`* CAPABILITY`, `* 3 EXISTS`, `* 1 FETCH (...)`), and the
//! continuation request `+`. Parsed with spans for the dissector, written
//! back whole.

use crate::dissect::Span;
use crate::imap::command::read_tag;
use crate::imap::syntax::{ErrorKind, Node, Reader, SyntaxError, Value, number, write_all};

/// The condition of a status response (RFC 9051 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::PreAuth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }

    pub fn section(&self) -> &'static str {
        match self {
            Status::Ok => "RFC 9051 §7.1.1",
            Status::No => "RFC 9051 §7.1.2",
            Status::Bad => "RFC 9051 §7.1.3",
            Status::PreAuth => "RFC 9051 §7.1.4",
            Status::Bye => "RFC 9051 §7.1.5",
        }
    }

    fn from_name(name: &str) -> Option<Status> {
        [
            Status::Ok,
            Status::No,
            Status::Bad,
            Status::PreAuth,
            Status::Bye,
        ]
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// A response code: `[UIDNEXT 4392]`, `[ALERT]`, `[PERMANENTFLAGS (\Seen)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub name: String,
    /// What follows the name and a space, up to `]`.
    pub text: Option<String>,
}

/// One server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `a001 OK [code] text`, or untagged (`tag` `None`) `* OK ...`.
    Status {
        tag: Option<String>,
        status: Status,
        code: Option<Code>,
        text: String,
    },
    /// Untagged data: `* name args` or `* number name args`.
    Data {
        number: Option<u32>,
        name: String,
        arguments: Vec<Value>,
    },
    /// `+ text`: the server waits for the rest of a command.
    Continuation { text: String },
}

impl Response {
    /// Parses one whole framed response, its CR LF included.
    pub fn parse(message: &[u8]) -> Result<Response, SyntaxError> {
        parse_response(message).response
    }

    /// The wire form, with CR LF.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Response::Status {
                tag,
                status,
                code,
                text,
            } => {
                out.extend_from_slice(tag.as_deref().unwrap_or("*").as_bytes());
                out.push(b' ');
                out.extend_from_slice(status.name().as_bytes());
                if let Some(code) = code {
                    out.extend_from_slice(b" [");
                    out.extend_from_slice(code.name.as_bytes());
                    if let Some(t) = &code.text {
                        out.push(b' ');
                        out.extend_from_slice(t.as_bytes());
                    }
                    out.push(b']');
                }
                if !text.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(text.as_bytes());
                }
            }
            Response::Data {
                number,
                name,
                arguments,
            } => {
                out.extend_from_slice(b"* ");
                if let Some(n) = number {
                    out.extend_from_slice(format!("{n} ").as_bytes());
                }
                out.extend_from_slice(name.as_bytes());
                if !arguments.is_empty() {
                    out.push(b' ');
                    write_all(arguments, &mut out);
                }
            }
            Response::Continuation { text } => {
                out.push(b'+');
                if !text.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Where the pieces of a response are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseSyntax {
    /// The tag, `*` or `+`.
    pub tag: Option<Span>,
    pub number: Option<Span>,
    /// The status or data name.
    pub name: Option<Span>,
    /// The code with its brackets, its name, and its text.
    pub code: Option<(Span, Span, Option<Span>)>,
    pub text: Option<Span>,
    pub arguments: Vec<Node>,
    pub end: Option<Span>,
}

/// A parsed response: the result and where its pieces are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    pub response: Result<Response, SyntaxError>,
    pub syntax: ResponseSyntax,
}

/// Parses one whole framed response.
pub fn parse_response(message: &[u8]) -> ParsedResponse {
    let mut syntax = ResponseSyntax::default();
    let response = read_response(message, &mut syntax);
    ParsedResponse { response, syntax }
}

fn text(message: &[u8], span: Span) -> String {
    String::from_utf8_lossy(span.slice(message)).into_owned()
}

fn read_response(message: &[u8], syntax: &mut ResponseSyntax) -> Result<Response, SyntaxError> {
    let mut r = Reader::new(message);
    let response = match r.peek() {
        Some(b'+') => {
            r.pos += 1;
            syntax.tag = Some(Span::new(0, 1));
            let t = rest_text(&mut r, syntax)?;
            Response::Continuation {
                text: text(message, t),
            }
        }
        Some(b'*') if matches!(message.get(1), Some(b' ')) => {
            r.pos += 1;
            syntax.tag = Some(Span::new(0, 1));
            r.space()?;
            untagged(&mut r, syntax)?
        }
        _ => {
            let tag = read_tag(&mut r)?;
            syntax.tag = Some(tag);
            r.space()?;
            let (status, name) = word(&mut r);
            syntax.name = Some(name);
            let status = status
                .filter(|s| matches!(s, Status::Ok | Status::No | Status::Bad))
                .ok_or_else(|| {
                    SyntaxError::new(
                        ErrorKind::Syntax,
                        name,
                        "a tagged response is OK, NO or BAD",
                    )
                    .cite("RFC 9051 §7.1")
                })?;
            status_rest(&mut r, syntax, Some(text(message, tag)), status)?
        }
    };
    syntax.end = Some(r.line_end()?);
    if r.pos < message.len() {
        return Err(SyntaxError::new(
            ErrorKind::Syntax,
            Span::new(r.pos, message.len()),
            "more bytes follow the end of the response",
        ));
    }
    Ok(response)
}

/// Reads a word of letters and digits; the status it names, if any.
fn word(r: &mut Reader) -> (Option<Status>, Span) {
    let start = r.pos;
    while r
        .peek()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        r.pos += 1;
    }
    let span = Span::new(start, r.pos);
    (Status::from_name(&text(r.bytes, span)), span)
}

fn untagged(r: &mut Reader, syntax: &mut ResponseSyntax) -> Result<Response, SyntaxError> {
    let (status, first) = word(r);
    if let Some(status) = status {
        syntax.name = Some(first);
        return status_rest(r, syntax, None, status);
    }
    let first_text = text(r.bytes, first);
    let (number, name) = match number(&first_text) {
        Some(n) => {
            syntax.number = Some(first);
            r.space()?;
            (Some(n), word(r).1)
        }
        None => (None, first),
    };
    syntax.name = Some(name);
    if name.is_empty() {
        return Err(SyntaxError::new(
            ErrorKind::Syntax,
            Span::point(r.pos),
            "untagged data starts with its name: * CAPABILITY, * 3 EXISTS",
        )
        .cite("RFC 9051 §7"));
    }
    let name = text(r.bytes, name).to_ascii_uppercase();
    r.read_nodes(false, &mut syntax.arguments)?;
    let arguments: Vec<Value> = syntax.arguments.iter().map(|n| n.value(r.bytes)).collect();
    crate::imap::data::check(number, &name, &arguments).map_err(|message| {
        let span = syntax
            .name
            .map_or(Span::point(0), |n| Span::new(n.start, r.pos));
        SyntaxError::new(ErrorKind::Syntax, span, message.0).cite(message.1)
    })?;
    Ok(Response::Data {
        number,
        name,
        arguments,
    })
}

fn status_rest(
    r: &mut Reader,
    syntax: &mut ResponseSyntax,
    tag: Option<String>,
    status: Status,
) -> Result<Response, SyntaxError> {
    let mut code = None;
    if r.peek() == Some(b' ') && r.bytes.get(r.pos + 1) == Some(&b'[') {
        r.pos += 1;
        code = Some(response_code(r, syntax)?);
    }
    let t = rest_text(r, syntax)?;
    Ok(Response::Status {
        tag,
        status,
        code,
        text: text(r.bytes, t),
    })
}

/// `[NAME]` or `[NAME text]`.
fn response_code(r: &mut Reader, syntax: &mut ResponseSyntax) -> Result<Code, SyntaxError> {
    let open = r.pos;
    r.pos += 1;
    let name_start = r.pos;
    while r
        .peek()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        r.pos += 1;
    }
    let name = Span::new(name_start, r.pos);
    let mut code_text = None;
    if r.peek() == Some(b' ') {
        r.pos += 1;
        let start = r.pos;
        while r
            .peek()
            .is_some_and(|b| b != b']' && b != b'\r' && b != b'\n')
        {
            r.pos += 1;
        }
        code_text = Some(Span::new(start, r.pos));
    }
    if name.is_empty() || r.peek() != Some(b']') || code_text.is_some_and(|t| t.is_empty()) {
        return Err(SyntaxError::new(
            ErrorKind::Unbalanced,
            Span::new(open, r.pos),
            "a response code is [NAME] or [NAME text], closed by ']'",
        )
        .cite("RFC 9051 §7.1"));
    }
    r.pos += 1;
    syntax.code = Some((Span::new(open, r.pos), name, code_text));
    Ok(Code {
        name: text(r.bytes, name).to_ascii_uppercase(),
        text: code_text.map(|t| text(r.bytes, t)),
    })
}

/// An optional space and human-readable text up to the end of the line.
fn rest_text(r: &mut Reader, syntax: &mut ResponseSyntax) -> Result<Span, SyntaxError> {
    if r.peek() == Some(b' ') {
        r.pos += 1;
    } else if !r.at_line_end() {
        return Err(SyntaxError::new(
            ErrorKind::Syntax,
            Span::new(r.pos, r.pos + 1),
            "a space separates the text",
        )
        .cite("RFC 9051 §7.1"));
    }
    let start = r.pos;
    while !r.at_line_end() {
        let b = r.bytes[r.pos];
        if b == 0 {
            return Err(SyntaxError::new(
                ErrorKind::Syntax,
                Span::new(r.pos, r.pos + 1),
                "a NUL byte in the text",
            ));
        }
        r.pos += 1;
    }
    let span = Span::new(start, r.pos);
    if !span.is_empty() {
        syntax.text = Some(span);
    }
    Ok(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &[u8]) -> Response {
        let r = Response::parse(text)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(text)));
        assert_eq!(Response::parse(&r.to_bytes()), Ok(r.clone()));
        r
    }

    #[test]
    fn statuses_data_and_continuations() {
        let r = round_trip(b"a002 OK [READ-WRITE] SELECT completed\r\n");
        assert!(
            matches!(r, Response::Status { status: Status::Ok, code: Some(Code { ref name, text: None }), .. } if name == "READ-WRITE")
        );
        round_trip(b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
        round_trip(b"* BYE IMAP4rev2 Server logging out\r\n");
        round_trip(b"* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n");
        let r = round_trip(b"* 172 EXISTS\r\n");
        assert_eq!(
            r,
            Response::Data {
                number: Some(172),
                name: "EXISTS".into(),
                arguments: vec![]
            }
        );
        round_trip(b"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n");
        round_trip(b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n");
        round_trip(b"* 12 FETCH (FLAGS (\\Seen) BODY[HEADER] {5}\r\nab\r\nc UID 4)\r\n");
        round_trip(b"* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n");
        round_trip(b"* SEARCH 2 84 882\r\n");
        round_trip(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
        round_trip(b"+ Ready for literal data\r\n");
        round_trip(b"+\r\n");
    }

    #[test]
    fn malformed_responses() {
        for bad in [
            &b"a1 MAYBE fine\r\n"[..],
            b"* 3 EXISTS now\r\n",
            b"* OK [ALERT text\r\n",
            b"* 1 FETCH (FLAGS\r\n",
            b"* FROBNICATE 1\r\n",
            b"a1 OK done",
        ] {
            assert!(
                Response::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
