//! HTTP/1.x requests and responses taken apart for the student: the start
//! line and its parts, each header line (name, value, family, and decoded
//! details such as dates, cookies and credentials), the blank line, and the
//! body with how its end was found (and its chunks, or its form fields).
//!
//! Every byte of a well-formed message lies in a leaf field. Fields that
//! decode something further ("Cookie: visits=3", "Query parameter: nom")
//! are extra children that overlap the leaf they explain. Rules the message
//! breaks become diagnostics citing RFC 9110/9112 (or 6265 for cookies).

use super::cookie::{parse_cookie, parse_set_cookie};
use super::date::{self, DateFormat};
use super::frame::{
    BodyFraming, ChunkLayout, FrameError, parse_chunks, request_body_framing, response_body_framing,
};
use super::headers::{describe, is_date_field};
use super::message::{
    Head, HeaderLine, HeaderLineKind, StartLine, Version, VersionProblem, parse_head, text,
};
use super::status::{meaning, method_meaning, reason_phrase};
use super::url::{Charset, TargetForm, form_pairs, split_target};
use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::framing::LineEnding;
use crate::text::{visible, visible_cut};

const MAX_SHOWN: usize = 200;

/// Dissects a request.
pub fn dissect_request(bytes: &[u8]) -> Dissection {
    Dissector::new(bytes, Role::Request).run()
}

/// Dissects a response whose request is unknown (assumed not HEAD).
pub fn dissect_response(bytes: &[u8]) -> Dissection {
    dissect_response_to(bytes, None)
}

/// Dissects a response to a request with `request_method` (a HEAD
/// response has no body, whatever Content-Length says).
pub fn dissect_response_to(bytes: &[u8], request_method: Option<&str>) -> Dissection {
    Dissector::new(
        bytes,
        Role::Response {
            method: request_method.map(str::to_string),
        },
    )
    .run()
}

/// Dissects whichever it is: a message starting with `HTTP/` is a response.
pub fn dissect_message(bytes: &[u8]) -> Dissection {
    let start = bytes.iter().position(|b| !b"\r\n".contains(b)).unwrap_or(0);
    if bytes[start..].starts_with(b"HTTP/") {
        dissect_response(bytes)
    } else {
        dissect_request(bytes)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    Request,
    Response { method: Option<String> },
}

struct Dissector<'a> {
    bytes: &'a [u8],
    role: Role,
    head: Head,
    fields: Vec<Field>,
    diags: Vec<Diagnostic>,
}

/// A field's value: the first [`MAX_SHOWN`] characters of its bytes,
/// visible.
fn shown(bytes: &[u8], span: Span) -> String {
    visible_cut(span.slice(bytes), MAX_SHOWN)
}

fn ending_field(span: Span, ending: Option<LineEnding>) -> Option<Field> {
    match ending? {
        LineEnding::CrLf => Some(
            Field::new("End of line", span, "CR LF")
                .help("CR LF (0x0D 0x0A) ends every line of the head (RFC 9112 §2.2)."),
        ),
        LineEnding::BareLf => Some(
            Field::new("End of line", span, "LF alone")
                .help("A line ended by LF without CR: tolerated by many servers, not what RFC 9112 §2.2 asks."),
        ),
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl<'a> Dissector<'a> {
    fn new(bytes: &'a [u8], role: Role) -> Self {
        Dissector {
            bytes,
            role,
            head: parse_head(bytes),
            fields: Vec::new(),
            diags: Vec::new(),
        }
    }

    fn is_request(&self) -> bool {
        self.role == Role::Request
    }

    fn run(mut self) -> Dissection {
        let bytes = self.bytes;
        if bytes.is_empty() {
            let mut d = Dissection::new(Protocol::Http, "(empty)", 0);
            d.diagnostics.push(Diagnostic::note(
                Span::point(0),
                "nothing yet: a request starts with a line such as `GET /index.html HTTP/1.1`",
            ));
            return d;
        }
        if !self.head.leading.is_empty() {
            self.fields.push(
                Field::new("Empty lines before the start line", self.head.leading, "")
                    .help("A server ignores empty lines before a request line (RFC 9112 §2.2)."),
            );
            self.diags.push(
                Diagnostic::note(
                    self.head.leading,
                    "empty lines before the start line are ignored by servers, but a client must not send them",
                )
                .reference("RFC 9112 §2.2"),
            );
        }
        self.start_line();
        self.header_lines();
        self.line_ending_diagnostics();
        self.message_rules();
        match self.head.blank {
            Some(blank) => {
                self.fields.push(
                    Field::new("End of head", blank, visible(blank.slice(bytes))).help(
                        "An empty line (CR LF) ends the header section; the body, if any, follows (RFC 9112 §2.1).",
                    ),
                );
                self.body();
            }
            None => {
                self.diags.push(
                    Diagnostic::warning(
                        Span::point(bytes.len()),
                        "the head is not finished: it must end with an empty line (press Enter twice), \
                         or the server keeps waiting for more header lines",
                    )
                    .reference("RFC 9112 §2.1"),
                );
            }
        }
        let summary = if self.head.start_content.is_empty() {
            "(no start line)".to_string()
        } else {
            shown(bytes, self.head.start_content)
        };
        let mut d = Dissection::new(Protocol::Http, summary, bytes.len());
        d.fields = self.fields;
        d.diagnostics = self.diags;
        d
    }

    fn start_line(&mut self) {
        let bytes = self.bytes;
        let head = self.head.clone();
        let head = &head;
        let whole = head.start_whole;
        if whole.is_empty() {
            return;
        }
        let ending = ending_field(
            Span::new(head.start_content.end, whole.end),
            head.start_ending,
        );
        match head.start.clone() {
            StartLine::Request {
                method,
                target,
                version,
                extra_spaces,
            } => {
                if !self.is_request() {
                    self.diags.push(
                        Diagnostic::error(
                            head.start_content,
                            "a response must start with a status line such as `HTTP/1.1 200 OK`",
                        )
                        .reference("RFC 9112 §4"),
                    );
                }
                let mut children = Vec::new();
                let method_text = text(bytes, method);
                let mut method_field = Field::new("Method", method, method_text);
                match method_meaning(method_text) {
                    Some(m) => method_field = method_field.help(m),
                    None => {
                        if method_meaning(&method_text.to_ascii_uppercase()).is_some() {
                            self.diags.push(
                                Diagnostic::error(
                                    method,
                                    format!(
                                        "methods are case-sensitive: `{method_text}` is not `{}`; servers answer 501 or 400",
                                        method_text.to_ascii_uppercase()
                                    ),
                                )
                                .reference("RFC 9110 §9.1"),
                            );
                        } else {
                            self.diags.push(
                                Diagnostic::note(
                                    method,
                                    format!("`{method_text}` is not a standard method"),
                                )
                                .reference("RFC 9110 §9"),
                            );
                        }
                        method_field = method_field
                            .help("The method says what to do with the target (RFC 9110 §9).");
                    }
                }
                children.push(method_field);
                children.push(space_field(Span::new(method.end, target.start)));
                children.push(self.target_field(target));
                match version {
                    Some(version) => {
                        children.push(space_field(Span::new(target.end, version.start)));
                        children.push(self.version_field(version));
                    }
                    None => self.diags.push(
                        Diagnostic::warning(
                            Span::point(target.end),
                            "no HTTP version: this is an HTTP/0.9 request, which modern servers refuse; end the line with ` HTTP/1.1`",
                        )
                        .reference("RFC 9112 §3"),
                    ),
                }
                if extra_spaces {
                    self.diags.push(
                        Diagnostic::error(
                            head.start_content,
                            "the parts of the request line must be separated by exactly one space (a space inside the target must be written %20)",
                        )
                        .reference("RFC 9112 §3"),
                    );
                }
                children.extend(ending);
                self.fields.push(
                    Field::new("Request line", whole, shown(bytes, head.start_content))
                        .help("method SP request-target SP HTTP-version CRLF (RFC 9112 §3).")
                        .with_children(children),
                );
            }
            StartLine::Status {
                version,
                code,
                reason,
            } => {
                if self.is_request() {
                    self.diags.push(Diagnostic::error(
                        head.start_content,
                        "this is a status line: a request starts with a method, such as `GET / HTTP/1.1`",
                    ).reference("RFC 9112 §3"));
                }
                let code_text = text(bytes, code);
                let mut children = vec![self.version_field(version)];
                children.push(space_field(Span::new(version.end, code.start)));
                let mut code_field = Field::new("Status code", code, code_text);
                match code_text.parse::<u16>() {
                    Ok(n) if code_text.len() == 3 && (100..600).contains(&n) => {
                        code_field = code_field.help(meaning(n));
                        if let Some(standard) = reason_phrase(n) {
                            let written = text(bytes, reason);
                            if !written.eq_ignore_ascii_case(standard) && !reason.is_empty() {
                                self.diags.push(
                                    Diagnostic::note(
                                        reason,
                                        format!(
                                            "the usual phrase for {n} is `{standard}`; the phrase is for humans and clients ignore it"
                                        ),
                                    )
                                    .reference("RFC 9112 §4"),
                                );
                            }
                        }
                    }
                    _ => {
                        code_field = code_field
                            .help("A status code is three digits, 100 to 599 (RFC 9110 §15).");
                        self.diags.push(
                            Diagnostic::error(
                                code,
                                format!("`{code_text}` is not a three-digit status code"),
                            )
                            .reference("RFC 9112 §4"),
                        );
                    }
                }
                children.push(code_field);
                if !reason.is_empty() {
                    children.push(space_field(Span::new(code.end, reason.start)));
                    children.push(
                        Field::new("Reason phrase", reason, text(bytes, reason))
                            .help("Text for a human; the code is what counts (RFC 9112 §4)."),
                    );
                } else if code.end < head.start_content.end {
                    children.push(space_field(Span::new(code.end, head.start_content.end)));
                }
                children.extend(ending);
                self.fields.push(
                    Field::new("Status line", whole, shown(bytes, head.start_content))
                        .help("HTTP-version SP status-code SP reason-phrase CRLF (RFC 9112 §4).")
                        .with_children(children),
                );
            }
            StartLine::Invalid => {
                let what = if self.is_request() {
                    "a request line is `method target version`, such as `GET /index.html HTTP/1.1`"
                } else {
                    "a status line is `version code phrase`, such as `HTTP/1.1 200 OK`"
                };
                self.diags.push(
                    Diagnostic::error(
                        head.start_content,
                        format!("this first line is not valid: {what}"),
                    )
                    .reference(if self.is_request() {
                        "RFC 9112 §3"
                    } else {
                        "RFC 9112 §4"
                    }),
                );
                let mut field = Field::new(
                    "Start line (invalid)",
                    whole,
                    shown(bytes, head.start_content),
                );
                if !head.start_content.is_empty() {
                    field.children.push(Field::new(
                        "Text",
                        head.start_content,
                        shown(bytes, head.start_content),
                    ));
                }
                field.children.extend(ending);
                self.fields.push(field);
            }
        }
    }

    fn version_field(&mut self, span: Span) -> Field {
        let version_text = text(self.bytes, span);
        let field = Field::new("Version", span, version_text);
        match Version::parse(version_text) {
            Ok(Version::Http11) => {
                field.help("HTTP/1.1: persistent connections by default, Host required (RFC 9112).")
            }
            Ok(Version::Http10) => field.help(
                "HTTP/1.0: one request per connection unless keep-alive is asked for (RFC 1945).",
            ),
            Err(VersionProblem::Unsupported) => {
                self.diags.push(
                    Diagnostic::error(
                        span,
                        format!("{version_text} is not a version an HTTP/1.x server speaks on this connection: the answer is 505 HTTP Version Not Supported"),
                    )
                    .reference("RFC 9110 §15.6.6"),
                );
                field.help("The protocol version (RFC 9110 §2.5).")
            }
            Err(VersionProblem::Malformed) => {
                self.diags.push(
                    Diagnostic::error(span, format!("`{version_text}` is not an HTTP version: write HTTP/1.1 (upper case, with the slash)"))
                        .reference("RFC 9112 §2.3"),
                );
                field.help("The protocol version (RFC 9110 §2.5).")
            }
        }
    }

    fn target_field(&mut self, span: Span) -> Field {
        let target = text(self.bytes, span);
        let parts = split_target(target);
        let form_help = match parts.form {
            TargetForm::Origin => {
                "origin form: the path and query on this server; the host is in Host"
            }
            TargetForm::Absolute => "absolute form: a whole URL, as sent to a proxy",
            TargetForm::Authority => "authority form: host:port, for CONNECT",
            TargetForm::Asterisk => "asterisk form: the whole server, for OPTIONS",
        };
        let mut field = Field::new("Request target", span, target).help(format!(
            "The object asked for, in {form_help} (RFC 9112 §3.2)."
        ));
        if parts.form == TargetForm::Origin && !target.starts_with('/') {
            self.diags.push(
                Diagnostic::error(
                    span,
                    "the target must start with `/` (or be a full URL for a proxy)",
                )
                .reference("RFC 9112 §3.2"),
            );
        }
        if parts.form == TargetForm::Absolute {
            self.diags.push(
                Diagnostic::note(
                    span,
                    "a full URL as target is the form sent to proxies; servers must accept it too",
                )
                .reference("RFC 9112 §3.2.2"),
            );
        }
        let at = |s: Span| s.shifted(span.start);
        if let Some(authority) = parts.scheme_authority {
            field.children.push(
                Field::new(
                    "Scheme and authority",
                    at(authority),
                    &target[authority.start..authority.end],
                )
                .help("Where the object lives, for a proxy to connect to (RFC 9110 §4.2)."),
            );
        }
        if !parts.path.is_empty() {
            let path = &target[parts.path.start..parts.path.end];
            let (decoded, _) = super::url::percent_decode(path, false);
            let (decoded, _) = super::url::bytes_to_text(&decoded);
            let value = if decoded == path {
                path.to_string()
            } else {
                format!("{path} (decoded: {decoded})")
            };
            field.children.push(
                Field::new("Path", at(parts.path), value).help(
                    "Which object on the server; %XX escapes stand for bytes (RFC 3986 §3.3).",
                ),
            );
        }
        if let Some(query) = parts.query {
            // The `?` and the query text form one leaf.
            let with_mark = Span::new(query.start - 1, query.end);
            field.children.push(
                Field::new("Query", at(with_mark), &target[query.start..query.end])
                    .help("After `?`: data for the server program, often name=value pairs joined by & (RFC 3986 §3.4)."),
            );
            for pair in form_pairs(&target[query.start..query.end]) {
                field.children.push(pair_field(
                    "Query parameter",
                    &pair,
                    at(pair.span.shifted(query.start)),
                ));
            }
        }
        if let Some(fragment) = parts.fragment {
            let with_mark = Span::new(fragment.start - 1, fragment.end);
            field.children.push(
                Field::new(
                    "Fragment",
                    at(with_mark),
                    &target[fragment.start..fragment.end],
                )
                .help("After `#`: a place inside the page, for the browser only (RFC 3986 §3.5)."),
            );
            self.diags.push(
                Diagnostic::warning(
                    at(with_mark),
                    "a fragment (#...) is for the browser and is never sent to the server",
                )
                .reference("RFC 9110 §4.2.4"),
            );
        }
        field
    }

    fn header_lines(&mut self) {
        let lines = self.head.lines.clone();
        let mut previous_name: Option<String> = None;
        for line in &lines {
            let field = match &line.kind {
                HeaderLineKind::Field {
                    name,
                    separator,
                    value,
                    space_before_colon,
                } => {
                    let f = self.header_field(line, *name, *separator, *value, *space_before_colon);
                    previous_name = Some(text(self.bytes, *name).to_string());
                    f
                }
                HeaderLineKind::Continuation => self.continuation(line, previous_name.as_deref()),
                HeaderLineKind::NoColon => self.no_colon(line),
            };
            self.fields.push(field);
        }
    }

    fn header_field(
        &mut self,
        line: &HeaderLine,
        name: Span,
        separator: Span,
        value: Span,
        space_before_colon: bool,
    ) -> Field {
        let bytes = self.bytes;
        let name_text = text(bytes, name);
        let value_text = text(bytes, value);
        let (family, about) = describe(name_text);
        let display_name = if name_text.is_empty() {
            "(no name)"
        } else {
            name_text
        };
        let mut children = vec![
            Field::new("Name", name, name_text)
                .help("Field names are case-insensitive: Host, host and HOST are the same (RFC 9110 §5.1)."),
            Field::new("Separator", separator, visible(separator.slice(bytes)))
                .help("A colon, then optional spaces before the value (RFC 9112 §5)."),
        ];
        if !value.is_empty() {
            children.push(Field::new("Value", value, shown(bytes, value)));
        }
        // Trailing whitespace after the value belongs to no part: make it a leaf.
        if value.end < line.content.end && !value.is_empty() {
            children.push(Field::new(
                "Trailing space",
                Span::new(value.end, line.content.end),
                "",
            ));
        }
        if name.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    line.content,
                    "a header line must start with a field name before the colon",
                )
                .reference("RFC 9112 §5"),
            );
        } else if let Some(bad) = name.slice(bytes).iter().position(|&b| !is_tchar(b)) {
            let at = name.start + bad;
            self.diags.push(
                Diagnostic::error(
                    Span::new(at, at + 1),
                    format!("`{name_text}` is not a valid field name: only letters, digits and !#$%&'*+-.^_`|~ are allowed"),
                )
                .reference("RFC 9110 §5.1"),
            );
        }
        if space_before_colon {
            self.diags.push(
                Diagnostic::error(
                    Span::new(name.end, separator.end),
                    format!("no whitespace is allowed between `{name_text}` and the colon: a server must reject the request with 400"),
                )
                .reference("RFC 9112 §5.1"),
            );
        }
        if let Some(bad) = value.slice(bytes).iter().position(|&b| b >= 0x80) {
            let at = value.start + bad;
            self.diags.push(
                Diagnostic::note(Span::new(at, at + 1), format!("the value of {display_name} contains non-ASCII bytes, which recipients may misread"))
                    .reference("RFC 9110 §5.5"),
            );
        }
        self.header_details(name_text, value_text, value, &mut children);
        children.extend(ending_field(
            Span::new(line.content.end, line.whole.end),
            line.ending,
        ));
        Field::new(format!("Header: {display_name}"), line.whole, value_text)
            .help(format!("{} header. {about}", capitalize(family.label())))
            .with_children(children)
    }

    /// Decoded details of well-known headers, added after the leaves.
    fn header_details(&mut self, name: &str, value: &str, span: Span, children: &mut Vec<Field>) {
        let lower = name.to_ascii_lowercase();
        if is_date_field(&lower) && lower != "retry-after" {
            children.push(self.date_detail(value, span));
        }
        match lower.as_str() {
            "set-cookie" => {
                let cookie = parse_set_cookie(value);
                let pair_span = cookie.pair.shifted(span.start);
                if cookie.has_equals {
                    children.push(
                        Field::new("Cookie", pair_span, format!("{} = {}", cookie.name, cookie.value))
                            .help("The cookie the browser stores and sends back in Cookie: name=value (RFC 6265 §4.1.1)."),
                    );
                } else {
                    children.push(Field::new("Cookie (no name)", pair_span, &cookie.value));
                    self.diags.push(
                        Diagnostic::error(
                            pair_span,
                            format!(
                                "a cookie is `name=value`: `{}` has no name, and browsers ignore such a Set-Cookie (write for example `id={}`)",
                                cookie.value, cookie.value
                            ),
                        )
                        .reference("RFC 6265 §4.1.1"),
                    );
                }
                for attribute in &cookie.attributes {
                    let shown_value = match &attribute.value {
                        Some(v) => format!("{} = {v}", attribute.name),
                        None => attribute.name.clone(),
                    };
                    children.push(
                        Field::new(
                            "Cookie attribute",
                            attribute.span.shifted(span.start),
                            shown_value,
                        )
                        .help(attribute.meaning()),
                    );
                }
            }
            "cookie" => {
                for pair in parse_cookie(value) {
                    let pair_span = pair.span.shifted(span.start);
                    if pair.has_equals {
                        children.push(
                            Field::new("Cookie", pair_span, format!("{} = {}", pair.name, pair.value))
                                .help("A cookie the server set earlier, sent back so it can recognise this browser (RFC 6265 §5.4)."),
                        );
                    } else {
                        children.push(Field::new("Cookie (no name)", pair_span, &pair.value));
                        self.diags.push(
                            Diagnostic::error(
                                pair_span,
                                format!(
                                    "a cookie is sent back as `name=value`; `{}` has no name",
                                    pair.value
                                ),
                            )
                            .reference("RFC 6265 §4.2.1"),
                        );
                    }
                }
            }
            "authorization" | "proxy-authorization" => {
                if let Some((scheme, credentials)) = value.split_once(' ')
                    && scheme.eq_ignore_ascii_case("basic")
                {
                    let decoded = crate::base64::decode(credentials.trim().as_bytes());
                    let shown = match decoded.as_deref().map(std::str::from_utf8) {
                        Some(Ok(pair)) => format!("Basic, which decodes to `{pair}`"),
                        _ => {
                            self.diags.push(
                                Diagnostic::error(
                                    span,
                                    "Basic credentials must be the base64 of user:password",
                                )
                                .reference("RFC 7617 §2"),
                            );
                            "Basic (not valid base64)".to_string()
                        }
                    };
                    children.push(
                        Field::new("Credentials", span, shown).help(
                            "Basic authentication sends user:password in base64, an encoding anyone can undo, not encryption: only HTTPS protects it (RFC 7617).",
                        ),
                    );
                }
            }
            "www-authenticate" => {
                children.push(
                    Field::new("Challenge", span, value)
                        .help("The client should ask the user for credentials and repeat the request with Authorization (RFC 9110 §11.6.1)."),
                );
            }
            "keep-alive" => {
                self.diags.push(
                    Diagnostic::note(
                        span,
                        "Keep-Alive comes from the HTTP/1.0 era; HTTP/1.1 keeps connections open by default and ignores it",
                    )
                    .reference("RFC 9112 §9.3"),
                );
            }
            "accept-charset" => {
                self.diags.push(
                    Diagnostic::note(
                        span,
                        "Accept-Charset is obsolete: today's browsers no longer send it",
                    )
                    .reference("RFC 9110 §12.5.2"),
                );
            }
            "connection" => {
                for token in value.split(',').map(str::trim) {
                    let meaning = match token.to_ascii_lowercase().as_str() {
                        "close" => {
                            "close: the connection ends after this response (non-persistent)"
                        }
                        "keep-alive" => {
                            "keep-alive: keep the connection open for more requests (persistent)"
                        }
                        "upgrade" => "upgrade: see Upgrade",
                        _ => continue,
                    };
                    children.push(Field::new("Connection option", span, meaning));
                }
            }
            "host" => {
                let (host, port) = match value.rsplit_once(':') {
                    Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
                        (h, p)
                    }
                    _ => (value, "80 (the default for http)"),
                };
                children.push(Field::new(
                    "Host and port",
                    span,
                    format!("host {host}, port {port}"),
                ));
                if value.is_empty() {
                    self.diags.push(
                        Diagnostic::error(span, "Host must name the server")
                            .reference("RFC 9110 §7.2"),
                    );
                }
            }
            "content-type" => {
                let (media, params) = value.split_once(';').unwrap_or((value, ""));
                let mut shown = format!("media type {}", media.trim());
                for param in params.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    shown.push_str(&format!(", {param}"));
                }
                children.push(Field::new("Media type", span, shown));
            }
            "etag" => {
                let weak = value.starts_with("W/");
                let quoted = value.trim_start_matches("W/");
                if !(quoted.starts_with('"') && quoted.ends_with('"') && quoted.len() >= 2) {
                    self.diags.push(
                        Diagnostic::warning(
                            span,
                            "an entity tag is written in double quotes, optionally after W/",
                        )
                        .reference("RFC 9110 §8.8.3"),
                    );
                }
                children.push(Field::new(
                    "Entity tag",
                    span,
                    if weak {
                        "weak: equivalent content, not byte-identical"
                    } else {
                        "strong: byte-identical versions"
                    },
                ));
            }
            _ => {}
        }
    }

    fn date_detail(&mut self, value: &str, span: Span) -> Field {
        match date::parse(value) {
            Ok(parsed) => {
                let mut shown = date::format_imf(parsed.unix);
                let days = parsed.unix.div_euclid(86_400);
                let (y, m, d) = date::civil_from_days(days);
                shown = format!("{y:04}-{m:02}-{d:02} {} UTC ({shown})", &shown[17..25]);
                match parsed.format {
                    DateFormat::ImfFixdate => {}
                    DateFormat::Rfc850 | DateFormat::Asctime => self.diags.push(
                        Diagnostic::warning(
                            span,
                            format!(
                                "this date is in an obsolete form: senders must write IMF-fixdate, as in `{}`",
                                date::format_imf(parsed.unix)
                            ),
                        )
                        .reference("RFC 9110 §5.6.7"),
                    ),
                }
                if let Some(wrong) = &parsed.wrong_weekday {
                    self.diags.push(
                        Diagnostic::warning(
                            span,
                            format!(
                                "the weekday is wrong: {y:04}-{m:02}-{d:02} was a {}, not a {}",
                                long_weekday(wrong.actual),
                                long_weekday(wrong.written)
                            ),
                        )
                        .reference("RFC 9110 §5.6.7"),
                    );
                }
                Field::new("Date value", span, shown).help(
                    "HTTP dates are always in GMT, written `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, RFC 9110 §5.6.7).",
                )
            }
            Err(e) => {
                self.diags.push(
                    Diagnostic::warning(span, format!("`{value}` cannot be read as a date: {e}"))
                        .reference("RFC 9110 §5.6.7"),
                );
                Field::new("Date value", span, "not a valid HTTP date")
            }
        }
    }

    fn continuation(&mut self, line: &HeaderLine, previous: Option<&str>) -> Field {
        let message = match (previous, self.is_request()) {
            (Some(name), true) => format!(
                "this line starts with a space, so it continues the value of {name} (obsolete line folding): a server must reject it with 400 or replace it with a space"
            ),
            (Some(name), false) => format!(
                "this line starts with a space, so it continues the value of {name} (obsolete line folding): a client replaces the fold with a space"
            ),
            (None, _) => {
                "a header line cannot start with a space: there is no field before it to continue"
                    .to_string()
            }
        };
        self.diags
            .push(Diagnostic::error(line.content, message).reference("RFC 9112 §5.2"));
        let mut field = Field::new(
            "Continuation line (obsolete folding)",
            line.whole,
            shown(self.bytes, line.content),
        );
        field.children.push(Field::new(
            "Text",
            line.content,
            shown(self.bytes, line.content),
        ));
        field.children.extend(ending_field(
            Span::new(line.content.end, line.whole.end),
            line.ending,
        ));
        field
    }

    fn no_colon(&mut self, line: &HeaderLine) -> Field {
        let content = text(self.bytes, line.content);
        let suggestion = match content.split_once(' ') {
            Some((name, rest)) if describe(name).0 != super::headers::Family::Other => {
                format!("; did you mean `{name}: {}`?", rest.trim())
            }
            _ => String::new(),
        };
        let consequence = if self.is_request() {
            "a server answers 400 Bad Request"
        } else {
            "a client may drop the line or reject the response"
        };
        self.diags.push(
            Diagnostic::error(
                line.content,
                format!("`{}` has no colon: a header line is `name: value`, so {consequence}{suggestion}", visible(content.as_bytes())),
            )
            .reference("RFC 9112 §5"),
        );
        let mut field = Field::new(
            "Header line without colon",
            line.whole,
            shown(self.bytes, line.content),
        );
        if !line.content.is_empty() {
            field.children.push(Field::new(
                "Text",
                line.content,
                shown(self.bytes, line.content),
            ));
        }
        field.children.extend(ending_field(
            Span::new(line.content.end, line.whole.end),
            line.ending,
        ));
        field
    }

    fn line_ending_diagnostics(&mut self) {
        let mut bare: Vec<Span> = Vec::new();
        let head = &self.head;
        if head.start_ending == Some(LineEnding::BareLf) {
            bare.push(Span::new(head.start_content.end, head.start_whole.end));
        }
        for line in &head.lines {
            if line.ending == Some(LineEnding::BareLf) {
                bare.push(Span::new(line.content.end, line.whole.end));
            }
        }
        if let Some(blank) = head.blank
            && blank.len() == 1
        {
            bare.push(blank);
        }
        if let Some(first) = bare.first() {
            let count = bare.len();
            let lines = if count == 1 {
                "1 line ends".to_string()
            } else {
                format!("{count} lines end")
            };
            self.diags.push(
                Diagnostic::warning(
                    *first,
                    format!("{lines} with a bare LF instead of CR LF: many servers accept it, but a strict one answers 400"),
                )
                .reference("RFC 9112 §2.2"),
            );
        }
        // A CR inside a line (not before its LF) is always an error.
        for line in head
            .lines
            .iter()
            .map(|l| l.content)
            .chain([head.start_content])
        {
            if let Some(i) = line.slice(self.bytes).iter().position(|&b| b == b'\r') {
                let at = line.start + i;
                self.diags.push(
                    Diagnostic::error(
                        Span::new(at, at + 1),
                        "a CR inside a line: CR may only come just before LF",
                    )
                    .reference("RFC 9112 §2.2"),
                );
                break;
            }
        }
    }

    /// Rules about the message as a whole: Host, duplicate lengths, both
    /// Content-Length and Transfer-Encoding.
    fn message_rules(&mut self) {
        let bytes = self.bytes;
        let fields = self.head.fields(bytes);
        let span_of = |f: &super::message::FieldRef| f.line.content;
        let named = |n: &str| {
            fields
                .iter()
                .filter(|f| f.name.eq_ignore_ascii_case(n))
                .collect::<Vec<_>>()
        };
        if self.is_request() {
            let hosts = named("host");
            let version = self.head.version_text(bytes);
            if hosts.is_empty() && version == Some("HTTP/1.1") {
                self.diags.push(
                    Diagnostic::error(
                        self.head.start_content,
                        "HTTP/1.1 requests must carry a Host header: without it the server answers 400 Bad Request",
                    )
                    .reference("RFC 9112 §3.2"),
                );
            }
            if hosts.len() > 1 {
                self.diags.push(
                    Diagnostic::error(
                        span_of(hosts[1]),
                        "a request must carry exactly one Host header; a server answers 400",
                    )
                    .reference("RFC 9112 §3.2"),
                );
            }
        }
        let lengths = named("content-length");
        if lengths.len() > 1 {
            let same = lengths
                .iter()
                .all(|f| f.value.trim() == lengths[0].value.trim());
            let message = if same {
                "Content-Length appears twice with the same value: tolerated, but send it once"
            } else {
                "Content-Length appears twice with different values: the message cannot be framed, a server answers 400 and closes"
            };
            self.diags.push(
                Diagnostic::new(
                    if same {
                        crate::dissect::Severity::Warning
                    } else {
                        crate::dissect::Severity::Error
                    },
                    span_of(lengths[1]),
                    message,
                )
                .reference("RFC 9112 §6.3"),
            );
        }
        let codings = named("transfer-encoding");
        if !codings.is_empty() && !lengths.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    span_of(lengths[0]),
                    "both Transfer-Encoding and Content-Length: Transfer-Encoding wins, and disagreeing hops are how request smuggling works; send only one",
                )
                .reference("RFC 9112 §6.1"),
            );
        }
        if !codings.is_empty() && self.head.version_text(bytes) == Some("HTTP/1.0") {
            self.diags.push(
                Diagnostic::warning(span_of(codings[0]), "HTTP/1.0 has no Transfer-Encoding: an HTTP/1.0 peer cannot read chunked messages")
                    .reference("RFC 9112 §6.1"),
            );
        }
    }

    fn body(&mut self) {
        let bytes = self.bytes;
        let start = self.head.end;
        let present = bytes.len() - start;
        let method = self.head.method(bytes).map(str::to_string);
        let framing = match &self.role {
            Role::Request => request_body_framing(&self.head, bytes),
            Role::Response { method: m } => response_body_framing(&self.head, bytes, m.as_deref()),
        };
        let framing = match framing {
            Ok(f) => f,
            Err(e) => {
                let reference = match e {
                    FrameError::UnknownTransferCoding => "RFC 9112 §6.3",
                    _ => "RFC 9112 §6.3",
                };
                self.diags.push(
                    Diagnostic::error(
                        Span::new(start, bytes.len()),
                        format!("the body cannot be framed: {e}"),
                    )
                    .reference(reference),
                );
                if present > 0 {
                    self.fields.push(Field::new(
                        "Body (unframed)",
                        Span::new(start, bytes.len()),
                        format!("{present} bytes"),
                    ));
                }
                return;
            }
        };
        match framing {
            BodyFraming::None => {
                if present == 0 {
                    return;
                }
                let extra = Span::new(start, bytes.len());
                let message = match &self.role {
                    Role::Request => format!(
                        "this request has neither Content-Length nor Transfer-Encoding, so its body is empty: the {present} bytes after the head would be read as the next request"
                    ),
                    Role::Response { method: Some(m) } if m.eq_ignore_ascii_case("HEAD") => {
                        format!(
                            "a response to HEAD has no body: the {present} bytes after the head belong to the next response"
                        )
                    }
                    Role::Response { .. } => format!(
                        "this response has no body (its status or Content-Length: 0 says so): the {present} bytes after the head belong to the next response"
                    ),
                };
                self.diags
                    .push(Diagnostic::error(extra, message).reference("RFC 9112 §6.3"));
                self.fields.push(
                    Field::new("Bytes after the message", extra, shown(bytes, extra))
                        .help("Bytes that are not part of this message by its framing."),
                );
            }
            BodyFraming::Length(n) => {
                let body_end = start + n.min(present);
                let body = Span::new(start, body_end);
                if present < n {
                    self.diags.push(
                        Diagnostic::error(
                            Span::new(start, bytes.len()),
                            format!("Content-Length says {n} bytes but only {present} follow: the receiver keeps waiting for the rest"),
                        )
                        .reference("RFC 9112 §6.3"),
                    );
                }
                self.body_field(
                    body,
                    format!("{} bytes (Content-Length: {n})", body.len()),
                    framing,
                );
                if present > n {
                    let extra = Span::new(body_end, bytes.len());
                    self.diags.push(
                        Diagnostic::error(
                            extra,
                            format!(
                                "Content-Length says {n} bytes but {present} follow: the {} extra bytes would be read as the start of the next message",
                                present - n
                            ),
                        )
                        .reference("RFC 9112 §6.3"),
                    );
                    self.fields.push(Field::new(
                        "Bytes after the message",
                        extra,
                        shown(bytes, extra),
                    ));
                }
            }
            BodyFraming::Chunked => {
                let layout = parse_chunks(bytes, start, usize::MAX);
                self.chunked_body(start, &layout);
            }
            BodyFraming::UntilClose => {
                let body = Span::new(start, bytes.len());
                self.diags.push(
                    Diagnostic::note(
                        body,
                        "no Content-Length and not chunked: the body ends only when the server closes the connection, so this connection cannot be reused",
                    )
                    .reference("RFC 9112 §6.3"),
                );
                self.body_field(
                    body,
                    format!("{present} bytes (until the connection closes)"),
                    framing,
                );
            }
        }
        if let Some(m) = method.as_deref()
            && (m == "GET" || m == "HEAD")
            && present > 0
            && framing != BodyFraming::None
        {
            self.diags.push(
                Diagnostic::warning(
                    Span::new(start, bytes.len()),
                    format!("a {m} request with a body: the body has no meaning for {m} and some servers reject it"),
                )
                .reference("RFC 9110 §9.3.1"),
            );
        }
    }

    fn content_type(&self) -> String {
        self.head
            .fields(self.bytes)
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case("content-type"))
            .map(|f| f.value.to_ascii_lowercase())
            .unwrap_or_default()
    }

    fn body_field(&mut self, body: Span, value: String, framing: BodyFraming) {
        let bytes = self.bytes;
        if body.is_empty() {
            self.fields
                .push(Field::new("Body", body, value).help(framing.describe()));
            return;
        }
        let data = body.slice(bytes);
        let mut children = vec![self.data_field(body, data)];
        if self
            .content_type()
            .starts_with("application/x-www-form-urlencoded")
        {
            let text_value = String::from_utf8_lossy(data).to_string();
            // The pairs' own spans are in the decoded text, off after any
            // byte that is not UTF-8; the pieces between `&` in the bytes
            // are the same pairs, in the same order.
            for (pair, span) in form_pairs(&text_value).iter().zip(form_piece_spans(data)) {
                children.push(pair_field("Form field", pair, span.shifted(body.start)));
            }
        }
        if let Some(inner) = bencoded_body(&self.content_type(), data) {
            children.extend(inner.fields.into_iter().map(|f| f.shifted(body.start)));
            self.diags
                .extend(inner.diagnostics.into_iter().map(|mut d| {
                    d.span = d.span.shifted(body.start);
                    d
                }));
        }
        self.fields.push(
            Field::new("Body", body, value)
                .help(format!(
                    "The object itself; its end is found {}.",
                    match framing {
                        BodyFraming::Length(_) => "by counting Content-Length bytes",
                        BodyFraming::Chunked => "by the zero-size last chunk",
                        BodyFraming::UntilClose => "when the connection closes",
                        BodyFraming::None => "nowhere: there is none",
                    }
                ))
                .with_children(children),
        );
    }

    fn data_field(&self, span: Span, data: &[u8]) -> Field {
        let content_type = self.content_type();
        let kind = sniff(data);
        let textual = std::str::from_utf8(data).is_ok() && kind.is_none();
        let value = match kind {
            Some(kind) => format!("{kind}, {} bytes", data.len()),
            None if textual => shown(self.bytes, span),
            None => format!("{} bytes of binary data", data.len()),
        };
        let help = if content_type.is_empty() {
            "The body's bytes. Without Content-Type the receiver has to guess what they are (RFC 9110 §8.3).".to_string()
        } else {
            format!(
                "The body's bytes, of type {content_type} as Content-Type says (RFC 9110 §8.3)."
            )
        };
        Field::new("Data", span, value).help(help)
    }

    fn chunked_body(&mut self, start: usize, layout: &ChunkLayout) {
        let bytes = self.bytes;
        let mut children = Vec::new();
        for (i, chunk) in layout.chunks.iter().enumerate() {
            let whole = Span::new(chunk.size_line.start, chunk.data_ending.end);
            let mut field = Field::new(
                format!("Chunk {}", i + 1),
                whole,
                format!("{} bytes", chunk.size),
            )
            .child(
                Field::new("Chunk size", chunk.size_line, text(bytes, chunk.size_line)).help(
                    format!(
                        "The size in hexadecimal: {:#x} = {} bytes (RFC 9112 §7.1).",
                        chunk.size, chunk.size
                    ),
                ),
            )
            .child(Field::new("End of line", chunk.size_ending, "CR LF"));
            if !chunk.data.is_empty() {
                field
                    .children
                    .push(self.data_field(chunk.data, chunk.data.slice(bytes)));
            }
            field.children.push(
                Field::new("End of chunk", chunk.data_ending, "CR LF")
                    .help("CR LF after each chunk's data."),
            );
            children.push(field);
        }
        if let Some(last) = layout.last_chunk {
            children.push(
                Field::new("Last chunk", last, "0")
                    .help("A chunk of size 0 ends the body (RFC 9112 §7.1)."),
            );
        }
        for trailer in &layout.trailers {
            children.push(
                Field::new("Trailer field", *trailer, shown(bytes, *trailer))
                    .help("A header field sent after the body, such as a checksum computed while sending (RFC 9112 §7.1.2)."),
            );
        }
        if let Some(end) = layout.end_line {
            children.push(
                Field::new("End of body", end, "CR LF")
                    .help("An empty line ends the chunked body."),
            );
        }
        let span = Span::new(start, layout.end);
        let total: usize = layout.chunks.iter().map(|c| c.size).sum();
        if let Some(problem) = layout.error {
            self.diags.push(
                Diagnostic::error(
                    Span::new(layout.end, bytes.len()),
                    format!("chunked body: {problem}"),
                )
                .reference("RFC 9112 §7.1"),
            );
        } else if !layout.complete {
            self.diags.push(
                Diagnostic::warning(
                    Span::point(bytes.len()),
                    "the chunked body has not ended: it ends with a chunk of size 0 and an empty line",
                )
                .reference("RFC 9112 §7.1"),
            );
        }
        self.fields.push(
            Field::new(
                "Body",
                span,
                format!("{total} bytes in {} chunks (Transfer-Encoding: chunked)", layout.chunks.len()),
            )
            .help("A chunked body: the sender need not know the length in advance; each chunk says its own size (RFC 9112 §7.1).")
            .with_children(children),
        );
        if layout.end < bytes.len() {
            let extra = Span::new(layout.end, bytes.len());
            if layout.complete {
                self.diags.push(
                    Diagnostic::error(
                        extra,
                        "bytes after the last chunk belong to the next message",
                    )
                    .reference("RFC 9112 §7.1"),
                );
            }
            self.fields.push(Field::new(
                "Bytes after the body",
                extra,
                shown(bytes, extra),
            ));
        }
    }
}

fn space_field(span: Span) -> Field {
    Field::new("Space", span, "SP").help("One space (0x20) separates the parts of the start line.")
}

/// Where the `&`-separated pieces of a form body that are not empty lie in
/// its bytes, in order: one for each pair [`form_pairs`] reads.
fn form_piece_spans(data: &[u8]) -> impl Iterator<Item = Span> + '_ {
    let mut start = 0;
    data.split(|&b| b == b'&').filter_map(move |piece| {
        let span = Span::new(start, start + piece.len());
        start += piece.len() + 1;
        (!piece.is_empty()).then_some(span)
    })
}

fn pair_field(kind: &str, pair: &super::url::FormPair, span: Span) -> Field {
    let value = if pair.has_value {
        format!("{} = {}", pair.name, pair.value)
    } else {
        format!("{} (no value)", pair.name)
    };
    let charset = match pair.charset {
        Charset::Utf8 => "",
        Charset::Latin1 => {
            " The escaped bytes are not UTF-8, so they are read as ISO-8859-1 (Latin-1), as the page that sent them used."
        }
    };
    Field::new(format!("{kind}: {}", pair.name), span, value).help(format!(
        "name=value, with + for a space and %XX for a byte (application/x-www-form-urlencoded).{charset}"
    ))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn long_weekday(short: &str) -> &'static str {
    match short {
        "Mon" => "Monday",
        "Tue" => "Tuesday",
        "Wed" => "Wednesday",
        "Thu" => "Thursday",
        "Fri" => "Friday",
        "Sat" => "Saturday",
        _ => "Sunday",
    }
}

/// A body in bencode, BitTorrent's encoding, dissected as such: a
/// `.torrent` by its media type; a tracker's reply, which BEP 3 sends as
/// `text/plain`, by being one bencoded dictionary with a tracker's keys.
fn bencoded_body(content_type: &str, data: &[u8]) -> Option<Dissection> {
    use crate::bittorrent::bencode::{Kind, parse_default};
    use crate::bittorrent::dissect::{dissect_torrent, dissect_tracker_reply};
    if content_type.starts_with("application/x-bittorrent") {
        return Some(dissect_torrent(data));
    }
    if data.first() != Some(&b'd') {
        return None;
    }
    let parsed = parse_default(data).ok()?;
    let Kind::Dict(entries) = &parsed.value.kind else {
        return None;
    };
    let tracker_keys: [&[u8]; 3] = [b"interval", b"peers", b"failure reason"];
    entries
        .iter()
        .any(|e| tracker_keys.contains(&e.key.as_slice()))
        .then(|| dissect_tracker_reply(data))
}

/// Recognises a few binary formats by their first bytes.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("a GIF image")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("a JPEG image")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("a PNG image")
    } else if data.starts_with(b"%PDF") {
        Some("a PDF document")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;

    fn messages(d: &Dissection) -> Vec<String> {
        d.diagnostics.iter().map(|d| d.message.clone()).collect()
    }

    #[test]
    fn the_someschool_request_is_clean_and_covered() {
        let msg = b"GET /somedir/page.html HTTP/1.1\r\nHost: www.someschool.edu\r\nConnection: close\r\nUser-agent: Mozilla/4.0\r\nAccept-language: fr\r\n\r\n";
        let d = dissect_request(msg);
        assert_eq!(d.summary, "GET /somedir/page.html HTTP/1.1");
        assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(d.find("Method").unwrap().value, "GET");
        assert!(
            d.find("Header: Accept-language")
                .unwrap()
                .help
                .as_ref()
                .unwrap()
                .starts_with("Capability")
        );
    }

    #[test]
    fn a_tracker_reply_body_is_taken_apart_as_bencode() {
        // What the lab's tracker sends: text/plain, as BEP 3 has it.
        let body = b"d8:intervali60e5:peers6:\x7f\x00\x02\x01\x1a\xe1e";
        let mut msg = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        let at = msg.len();
        msg.extend_from_slice(body);
        let d = dissect_response(&msg);
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        let reply = d
            .find("Tracker reply")
            .expect("the body's bencode dissected");
        assert_eq!(reply.span, Span::new(at, msg.len()));
        assert_eq!(reply.value, "dictionary of 2");
        assert_eq!(d.find("interval").unwrap().value, "60");
        let peer = d.find("Peer 1").unwrap();
        assert_eq!(peer.value, "127.0.2.1:6881");
        assert_eq!(peer.span, Span::new(msg.len() - 7, msg.len() - 1));

        // Text that merely starts with a d is left alone.
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ndear!";
        assert!(dissect_response(plain).find("Tracker reply").is_none());
        // A failure reason is a reply too, and broken bencode is not one.
        let refused = b"HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\nd14:failure reason4:nopee";
        assert!(dissect_response(refused).find("Tracker reply").is_some());
        let torrent =
            crate::bittorrent::metainfo::Metainfo::build("f", b"data", 16384, "http://t/a");
        let mut msg = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-bittorrent\r\nContent-Length: {}\r\n\r\n",
            torrent.len()
        )
        .into_bytes();
        msg.extend_from_slice(&torrent);
        assert!(dissect_response(&msg).find("Metainfo (.torrent)").is_some());
    }

    #[test]
    fn missing_host_bare_lf_and_the_missing_colon() {
        let d = dissect_request(b"GET / HTTP/1.1\nConnection close\n\n");
        let m = messages(&d);
        assert!(
            m.iter().any(|m| m.contains("must carry a Host header")),
            "{m:?}"
        );
        assert!(m.iter().any(|m| m.contains("bare LF")), "{m:?}");
        assert!(
            m.iter()
                .any(|m| m.contains("has no colon")
                    && m.contains("did you mean `Connection: close`")),
            "{m:?}"
        );
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn response_with_content_length_and_dates() {
        let msg = b"HTTP/1.1 200 OK\r\nDate: Thu, 06 Jan 2017 12:00:15 GMT\r\nContent-Length: 5\r\nContent-Type: text/html\r\n\r\nhello";
        let d = dissect_response(msg);
        assert!(d.check_invariants(true).is_empty());
        let m = messages(&d);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains("was a Friday, not a Thursday"));
        let length = d.find("Header: Content-Length").unwrap();
        assert_eq!(length.span.slice(msg), b"Content-Length: 5\r\n");
        assert_eq!(d.find("Body").unwrap().value, "5 bytes (Content-Length: 5)");
    }

    #[test]
    fn wrong_lengths() {
        let short =
            dissect_request(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
        assert!(messages(&short).iter().any(|m| m.contains("only 3 follow")));
        let long = dissect_request(b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nabc");
        assert!(messages(&long).iter().any(|m| m.contains("2 extra bytes")));
        let none = dissect_request(b"POST /f HTTP/1.1\r\nHost: a\r\n\r\nabc");
        assert!(
            messages(&none)
                .iter()
                .any(|m| m.contains("neither Content-Length"))
        );
        let dup = dissect_request(
            b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        );
        assert!(
            messages(&dup)
                .iter()
                .any(|m| m.contains("different values"))
        );
    }

    #[test]
    fn chunked_layout_and_form_fields() {
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
        let d = dissect_response(msg);
        assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert_eq!(
            d.find("Body").unwrap().value,
            "9 bytes in 2 chunks (Transfer-Encoding: chunked)"
        );
        assert!(d.find("Last chunk").is_some());

        let form = b"POST /cgi/show HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 46\r\n\r\nprenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans";
        let d = dissect_request(form);
        assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
        assert_eq!(
            d.find("Form field: age").unwrap().value,
            "age = 41 à 60 ans"
        );
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn query_pairs_and_versions() {
        let d = dissect_request(b"GET /cgi/show?prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            d.find("Query parameter: nom").unwrap().value,
            "nom = Fauconnier"
        );
        assert!(d.check_invariants(true).is_empty());
        let d = dissect_request(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n");
        assert!(messages(&d).iter().any(|m| m.contains("505")));
        let d = dissect_request(b"get / http/1.1\r\nHost: x\r\n\r\n");
        let m = messages(&d);
        assert!(m.iter().any(|m| m.contains("case-sensitive")), "{m:?}");
        assert!(
            m.iter().any(|m| m.contains("is not an HTTP version")),
            "{m:?}"
        );
    }

    #[test]
    fn cookies_folding_and_space_before_colon() {
        let d =
            dissect_response(b"HTTP/1.1 200 OK\r\nSet-cookie: 1678\r\nContent-Length: 0\r\n\r\n");
        let m = messages(&d);
        assert!(m.iter().any(|m| m.contains("`1678` has no name")), "{m:?}");
        let d = dissect_response(b"HTTP/1.1 200 OK\r\nSet-Cookie: visits=2; Path=/; HttpOnly\r\nContent-Length: 0\r\n\r\n");
        assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
        assert_eq!(d.find("Cookie").unwrap().value, "visits = 2");
        let d = dissect_request(b"GET / HTTP/1.1\r\nHost : a\r\nX-A: 1\r\n 2\r\n\r\n");
        let m = messages(&d);
        assert!(
            m.iter().any(|m| m.contains("no whitespace is allowed")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|m| m.contains("obsolete line folding")),
            "{m:?}"
        );
        assert!(d.check_invariants(true).is_empty());
    }

    #[test]
    fn head_response_and_incomplete_heads() {
        let d = dissect_response_to(
            b"HTTP/1.1 200 OK\r\nContent-Length: 6821\r\n\r\n",
            Some("HEAD"),
        );
        assert!(d.diagnostics.is_empty(), "{:?}", messages(&d));
        let d = dissect_request(b"GET / HTTP/1.1\r\nHost: a\r\n");
        assert!(messages(&d).iter().any(|m| m.contains("press Enter twice")));
        assert_eq!(d.worst(), Some(Severity::Warning));
        let d = dissect_request(b"");
        assert_eq!(d.summary, "(empty)");
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let d = dissect_request(b"GET /private/ HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n");
        assert_eq!(
            d.find("Credentials").unwrap().value,
            "Basic, which decodes to `alice:wonderland`"
        );
    }

    #[test]
    fn binary_bodies_are_named() {
        let mut msg =
            b"HTTP/1.0 200 OK\r\nContent-Type: image/gif\r\nContent-Length: 10\r\n\r\n".to_vec();
        msg.extend_from_slice(b"GIF89a\x01\x00\x01\x00");
        let d = dissect_response(&msg);
        assert_eq!(d.find("Data").unwrap().value, "a GIF image, 10 bytes");
    }
}
