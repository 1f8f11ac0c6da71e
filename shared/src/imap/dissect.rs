//! IMAP dissectors: one command or one response, framed as a server or a
//! client would frame it, with a field for the tag, the command or status,
//! every argument, list item and literal (its `{n}`, its CR LF and its
//! data), and help citing RFC 9051. A message that breaks a rule gets the
//! fields that could be read and a diagnostic saying which rule.

use crate::dissect::{Diagnostic, Dissection, Field, Protocol, Span};
use crate::imap::command::{ImapState, Verb, parse_command};
use crate::imap::frame::{FrameError, Framed, Limits, next_command, next_response};
use crate::imap::response::{ResponseSyntax, Status, parse_response};
use crate::imap::syntax::{ErrorKind, Node, NodeKind, SeqNumber, SyntaxError, Value, sequence_set};
use crate::mail::cover::cover;
use crate::text::visible;

/// The most a non-synchronising literal may carry under LITERAL-, which
/// IMAP4rev2 includes (RFC 9051 §4.3, RFC 7888 §5).
pub const MAX_NON_SYNC_LITERAL: usize = 4096;

const TAG_HELP: &str = "The tag the client chose for this command; the server ends its answer \
     with a response carrying the same tag (RFC 9051 §2.2.1).";
const CRLF_HELP: &str = "CR LF ends every line of IMAP (RFC 9051 §2.2).";

/// Dissects one client command (the `imap-command` kind).
pub fn dissect_command(bytes: &[u8]) -> Dissection {
    dissect_command_in(bytes, None)
}

/// Dissects one client command sent while the session is in `state`, which
/// adds a diagnostic when the command is not valid there.
pub fn dissect_command_in(bytes: &[u8], state: Option<ImapState>) -> Dissection {
    let mut d = Dissection::new(Protocol::Imap, summary(bytes), bytes.len());
    if bytes.is_empty() {
        d.summary = "(empty)".into();
        return d;
    }
    let Some(end) = frame(bytes, next_command(bytes, &Limits::default()), &mut d) else {
        return d;
    };
    let message = &bytes[..end];
    if crate::framing::strip_line_end(message) == b"DONE" {
        d.fields.push(done(message));
        d.following_bytes(bytes, end, "more bytes follow this line");
        return d;
    }
    let parsed = parse_command(message);
    let s = &parsed.syntax;
    let verb = s
        .verb
        .and_then(|v| Verb::from_name(&String::from_utf8_lossy(v.slice(message))));
    let mut children = Vec::new();
    if let Some(tag) = s.tag {
        children.push(Field::new("Tag", tag, visible(tag.slice(message))).help(TAG_HELP));
    }
    if let Some(uid) = s.uid {
        children.push(Field::new("UID", uid, "UID").help(
            "The numbers in this command are unique identifiers, not message sequence \
             numbers (RFC 9051 §6.4.9).",
        ));
    }
    if let Some(v) = s.verb {
        let name = visible(v.slice(message));
        let mut f = Field::new("Command", v, name.to_ascii_uppercase());
        if let Some(verb) = verb {
            f = f.help(format!("{} ({}).", verb_help(verb), verb.section()));
        }
        children.push(f);
    }
    let values: Vec<Value> = s.arguments.iter().map(|n| n.value(message)).collect();
    let roles = verb
        .map(|v| roles(v, s.uid.is_some(), &values))
        .unwrap_or_default();
    for (i, node) in s.arguments.iter().enumerate() {
        let role = roles.get(i).copied();
        children.push(node_field(message, node, role, &mut d.diagnostics));
    }
    if let Some(e) = s.end {
        children.push(Field::new("End of line", e, "CR LF (␍␊)").help(CRLF_HELP));
    }
    let whole = Span::new(0, end);
    let title = verb.map_or("Command".to_string(), |v| {
        let uid = if s.uid.is_some() { "UID " } else { "" };
        format!("Command: {uid}{}", v.name())
    });
    d.fields.push(
        Field::new(
            title,
            whole,
            visible(crate::framing::strip_line_end(message)),
        )
        .with_children(delimit(cover(message, whole, children))),
    );
    if let Err(e) = &parsed.command
        && !refused_literal(&d, e)
    {
        d.diagnostics
            .push(syntax_diagnostic(e, end, "the server answers BAD"));
    }
    if let (Some(verb), Some(state)) = (verb, state)
        && !verb.valid_in(state)
        && let Some(v) = s.verb
    {
        d.diagnostics.push(
            Diagnostic::error(
                v,
                format!(
                    "{} is not valid in the {} state: the server refuses it",
                    verb.name(),
                    state.label()
                ),
            )
            .reference("RFC 9051 §3"),
        );
    }
    d.following_bytes(bytes, end, "more bytes follow this command");
    d
}

/// Dissects one server response (the `imap-response` kind).
pub fn dissect_response(bytes: &[u8]) -> Dissection {
    let mut d = Dissection::new(Protocol::Imap, summary(bytes), bytes.len());
    if bytes.is_empty() {
        d.summary = "(empty)".into();
        return d;
    }
    let Some(end) = frame(bytes, next_response(bytes, &Limits::default()), &mut d) else {
        return d;
    };
    let message = &bytes[..end];
    let parsed = parse_response(message);
    let s = &parsed.syntax;
    let mut children = response_head(message, s);
    let name = s
        .name
        .map(|n| String::from_utf8_lossy(n.slice(message)).to_ascii_uppercase())
        .unwrap_or_default();
    for (i, node) in s.arguments.iter().enumerate() {
        let role = if name == "FETCH" {
            Some("Fetch data")
        } else if i == 0 && matches!(name.as_str(), "LIST" | "LSUB") {
            Some("Mailbox attributes")
        } else {
            None
        };
        children.push(node_field(message, node, role, &mut d.diagnostics));
    }
    if let Some(e) = s.end {
        children.push(Field::new("End of line", e, "CR LF (␍␊)").help(CRLF_HELP));
    }
    let whole = Span::new(0, end);
    d.fields.push(
        Field::new(
            response_title(message, s),
            whole,
            visible(crate::framing::strip_line_end(message)),
        )
        .with_children(delimit(cover(message, whole, children))),
    );
    if let Err(e) = &parsed.response
        && !refused_literal(&d, e)
    {
        d.diagnostics.push(syntax_diagnostic(
            e,
            end,
            "a client cannot read this response",
        ));
    }
    d.following_bytes(bytes, end, "more bytes follow this response");
    d
}

/// Where the first message of `bytes` ends, or `None` (with a diagnostic)
/// when a limit is broken; an unfinished message is dissected whole.
fn frame(bytes: &[u8], framed: Result<Framed, FrameError>, d: &mut Dissection) -> Option<usize> {
    match framed {
        Ok(Framed::Complete(n)) => Some(n),
        Ok(Framed::Partial) => Some(bytes.len()),
        Ok(Framed::AwaitingContinuation { size, at }) => {
            d.diagnostics.push(
                Diagnostic::note(
                    Span::point(at.min(bytes.len())),
                    format!(
                        "a synchronising literal of {size} bytes: the client waits for the \
                         server's \"+\" continuation before sending them"
                    ),
                )
                .reference("RFC 9051 §4.3"),
            );
            Some(bytes.len())
        }
        Err(e) => {
            let (span, reference) = match e {
                FrameError::LiteralTooLarge { span, .. } => (span, "RFC 9051 §4.3"),
                _ => (Span::new(0, bytes.len()), "RFC 9051 §4"),
            };
            d.diagnostics.push(
                Diagnostic::error(
                    span,
                    format!("{e}: the peer refuses it before reading any of its bytes"),
                )
                .reference(reference),
            );
            if let FrameError::LiteralTooLarge { span, .. } = e {
                // The line that announces it is whole: dissect up to its end.
                let lf = bytes[span.end..].iter().position(|&b| b == b'\n');
                return Some(lf.map_or(bytes.len(), |lf| span.end + lf + 1));
            }
            d.fields.push(Field::new(
                "Refused message",
                Span::new(0, bytes.len()),
                visible(&bytes[..bytes.len().min(200)]),
            ));
            None
        }
    }
}

/// Whether `e` is about a literal the framer already refused as too large.
fn refused_literal(d: &Dissection, e: &SyntaxError) -> bool {
    e.kind == ErrorKind::Literal && d.diagnostics.iter().any(|x| x.span.start == e.span.start)
}

fn syntax_diagnostic(e: &SyntaxError, end: usize, consequence: &str) -> Diagnostic {
    let span = Span::new(e.span.start.min(end), e.span.end.min(end));
    if e.kind == ErrorKind::MissingCrlf && span.start >= end {
        return Diagnostic::warning(
            span,
            format!("{}: the message is not complete yet", e.message),
        )
        .reference(e.reference);
    }
    Diagnostic::error(span, format!("{}; {consequence}", e.message)).reference(e.reference)
}

/// `DONE`, the line that ends IDLE.
fn done(message: &[u8]) -> Field {
    let text = crate::framing::strip_line_end(message).len();
    let whole = Span::new(0, message.len());
    let mut children = vec![
        Field::new("Continuation: DONE", Span::new(0, text), "DONE").help(
            "Ends IDLE: the server stops sending updates and completes the IDLE command with \
             its tagged OK (RFC 9051 §6.3.13).",
        ),
    ];
    if message.len() > text {
        children.push(Field::new(
            "End of line",
            Span::new(text, message.len()),
            "CR LF (␍␊)",
        ));
    }
    Field::new("End of IDLE", whole, "DONE").with_children(children)
}

/// The first line, with a password hidden.
fn summary(bytes: &[u8]) -> String {
    let line = &bytes[..crate::framing::text_end(bytes)];
    let text = visible(line);
    let words: Vec<&str> = text.splitn(4, ' ').collect();
    let shown = match words.as_slice() {
        [tag, verb, user, _] if verb.eq_ignore_ascii_case("LOGIN") => {
            format!("{tag} {verb} {user} ••••••")
        }
        _ => text,
    };
    if shown.chars().count() > 80 {
        format!("{}…", shown.chars().take(80).collect::<String>())
    } else {
        shown
    }
}

/// Names the single-byte gaps that are list or section delimiters.
fn delimit(mut fields: Vec<Field>) -> Vec<Field> {
    for f in &mut fields {
        if f.children.is_empty() && matches!(f.value.as_str(), "(" | ")" | "[" | "]") {
            f.name = "Delimiter".into();
        }
    }
    fields
}

/// What each argument of `verb` is, by position.
fn roles(verb: Verb, uid: bool, values: &[Value]) -> Vec<&'static str> {
    let set = if uid { "UID set" } else { "Sequence set" };
    match verb {
        Verb::Login => vec!["User name", "Password"],
        Verb::Authenticate => vec!["SASL mechanism", "Initial response"],
        Verb::Select
        | Verb::Examine
        | Verb::Create
        | Verb::Delete
        | Verb::Subscribe
        | Verb::Unsubscribe => vec!["Mailbox", "Parameters"],
        Verb::Rename => vec!["Mailbox", "New name"],
        Verb::Status => vec!["Mailbox", "Status items"],
        Verb::Lsub => vec!["Reference", "Mailbox pattern"],
        Verb::List => {
            let mut r = Vec::new();
            if matches!(values.first(), Some(Value::List(_))) {
                r.push("Selection options");
            }
            r.extend(["Reference", "Mailbox pattern", "RETURN", "Return options"]);
            r
        }
        Verb::Append => values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                _ if i == 0 => "Mailbox",
                Value::List(_) => "Flags",
                Value::Quoted(_) => "Date-time",
                _ => "Message",
            })
            .collect(),
        Verb::Fetch => vec![set, "Fetch items"],
        Verb::Store => {
            let mut r = vec![set, "Store action"];
            r.extend(std::iter::repeat_n("Flags", values.len().saturating_sub(2)));
            r
        }
        Verb::Copy | Verb::Move => vec![set, "Destination mailbox"],
        Verb::Expunge => vec![set],
        Verb::Search => vec!["Search criteria"; values.len()],
        Verb::Enable => vec!["Capability"; values.len()],
        Verb::Id => vec!["Identification"],
        _ => Vec::new(),
    }
}

fn verb_help(verb: Verb) -> &'static str {
    match verb {
        Verb::Capability => "Asks which capabilities the server has",
        Verb::Noop => "Does nothing, and lets the server send pending updates",
        Verb::Logout => "Ends the session: the server sends BYE, then OK",
        Verb::Starttls => "Starts TLS on this connection (the lab has no TLS)",
        Verb::Authenticate => "Logs in with a SASL mechanism",
        Verb::Login => "Logs in with a user name and a password, in clear text",
        Verb::Enable => "Turns on extensions the client understands",
        Verb::Id => "Tells the server who the client is, and asks who the server is",
        Verb::Namespace => "Asks for the prefixes of personal, shared and other users' folders",
        Verb::Select => "Opens a mailbox read-write: the session enters the Selected state",
        Verb::Examine => "Opens a mailbox read-only",
        Verb::Create => "Creates a mailbox",
        Verb::Delete => "Deletes a mailbox",
        Verb::Rename => "Renames a mailbox",
        Verb::Subscribe => "Adds a mailbox to the subscribed ones",
        Verb::Unsubscribe => "Removes a mailbox from the subscribed ones",
        Verb::List => "Lists the mailboxes whose names match the pattern",
        Verb::Lsub => "Lists the subscribed mailboxes (IMAP4rev1; LIST (SUBSCRIBED) in rev2)",
        Verb::Status => "Asks for counters of a mailbox without selecting it",
        Verb::Append => "Adds a message, sent as a literal, to a mailbox",
        Verb::Idle => "Waits for the server to tell of changes as they happen, until DONE",
        Verb::Close => "Closes the mailbox, expunging the messages marked \\Deleted",
        Verb::Unselect => "Closes the mailbox without expunging anything",
        Verb::Expunge => "Removes the messages marked \\Deleted for good",
        Verb::Search => "Finds the messages that match the criteria",
        Verb::Fetch => "Retrieves data of messages: flags, envelope, headers, body parts",
        Verb::Store => "Sets, adds or removes flags of messages",
        Verb::Copy => "Copies messages to another mailbox",
        Verb::Move => "Moves messages to another mailbox",
        Verb::Check => "Asks for a checkpoint of the mailbox (IMAP4rev1 only)",
    }
}

/// The child role of the items of a list that has `role`.
fn item_role(role: Option<&str>, index: usize) -> Option<&'static str> {
    Some(match role? {
        "Fetch items" => "Fetch item",
        "Flags" | "Mailbox attributes" => "Flag",
        "Status items" => "Status item",
        "Fetch data" if index.is_multiple_of(2) => "Fetch item",
        "Fetch data" => "Item value",
        "Search criteria" => "Search criteria",
        _ => return None,
    })
}

/// The field of one item, its children those of a list or literal.
fn node_field(
    bytes: &[u8],
    node: &Node,
    role: Option<&str>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Field {
    let raw = node.span.slice(bytes);
    match &node.kind {
        NodeKind::Atom => atom_field(bytes, node.span, role),
        NodeKind::Quoted { value } => {
            let shown = if role == Some("Password") {
                "••••••".to_string()
            } else {
                visible(value)
            };
            Field::new(role.unwrap_or("Quoted string"), node.span, shown).help(
                "A quoted string: between double quotes, with \\\" and \\\\ for a quote and \
                 a backslash; no CR, LF or NUL (RFC 9051 §4.3).",
            )
        }
        NodeKind::Literal {
            header,
            data,
            synchronizing,
        } => {
            if !synchronizing && data.len() > MAX_NON_SYNC_LITERAL {
                diagnostics.push(
                    Diagnostic::warning(
                        *header,
                        format!(
                            "a non-synchronising literal {{n+}} may carry at most \
                             {MAX_NON_SYNC_LITERAL} bytes (LITERAL-): use {{n}} and wait for \"+\""
                        ),
                    )
                    .reference("RFC 7888 §5"),
                );
            }
            literal_field(bytes, *header, *data, *synchronizing, role)
        }
        NodeKind::List { items } => {
            let children = items
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut child = item_role(role, i);
                    let after_flags = i > 0
                        && items[i - 1]
                            .span
                            .slice(bytes)
                            .eq_ignore_ascii_case(b"FLAGS");
                    if child == Some("Item value") && after_flags {
                        child = Some("Flags");
                    }
                    node_field(bytes, n, child, diagnostics)
                })
                .collect();
            Field::new(
                role.unwrap_or("List"),
                node.span,
                format!("{} item(s)", items.len()),
            )
            .help("A parenthesised list, items separated by one space (RFC 9051 §4.4).")
            .with_children(delimit(cover(bytes, node.span, children)))
        }
    }
    .or_raw_value(raw)
}

/// Keeps the value a role gave, or shows the raw bytes when there is none.
trait OrRawValue {
    fn or_raw_value(self, raw: &[u8]) -> Self;
}

impl OrRawValue for Field {
    fn or_raw_value(mut self, raw: &[u8]) -> Self {
        if self.value.is_empty() {
            self.value = visible(raw);
        }
        self
    }
}

fn literal_field(
    bytes: &[u8],
    header: Span,
    data: Span,
    synchronizing: bool,
    role: Option<&str>,
) -> Field {
    let size_end = header.end - 2;
    let kind = if synchronizing {
        "synchronising: the client waits for the server's \"+\" before sending the data"
    } else {
        "non-synchronising ({n+}, LITERAL+): the data follows at once"
    };
    let mut children = vec![
        Field::new(
            "Literal size",
            Span::new(header.start, size_end),
            visible(Span::new(header.start, size_end).slice(bytes)),
        )
        .help(format!(
            "{} bytes follow the CR LF, {kind} (RFC 9051 §4.3).",
            data.len()
        )),
        Field::new("End of line", Span::new(size_end, header.end), "CR LF (␍␊)").help(CRLF_HELP),
    ];
    if !data.is_empty() {
        children.push(
            Field::new("Literal data", data, visible(&data.slice(bytes)[..data.len().min(200)]))
                .help("The literal's bytes, taken as they are: any byte may appear, CR LF included (RFC 9051 §4.3)."),
        );
    }
    Field::new(
        role.unwrap_or("Literal"),
        Span::new(header.start, data.end),
        format!("{} bytes", data.len()),
    )
    .with_children(children)
}

fn atom_field(bytes: &[u8], span: Span, role: Option<&str>) -> Field {
    let text = String::from_utf8_lossy(span.slice(bytes)).into_owned();
    if text.eq_ignore_ascii_case("NIL") {
        return Field::new(role.unwrap_or("NIL"), span, "NIL")
            .help("NIL: no value, not the string \"NIL\" (RFC 9051 §4.5).");
    }
    match role {
        Some("Sequence set" | "UID set") => {
            sequence_field(bytes, &text, span, role.unwrap_or_default())
        }
        Some("Flag") => Field::new("Flag", span, text.clone()).help(flag_help(&text)),
        Some("Fetch item") => Field::new("Fetch item", span, text.clone()).help(fetch_help(&text)),
        Some("Password") => Field::new("Password", span, "••••••").help(
            "The password, in clear text on the wire: only safe under TLS (RFC 9051 §6.2.3).",
        ),
        Some("Mailbox" | "Destination mailbox") if text.eq_ignore_ascii_case("INBOX") => {
            Field::new(role.unwrap_or_default(), span, text)
                .help("INBOX, the user's mailbox for new mail, in any case (RFC 9051 §5.1).")
        }
        Some(r) => Field::new(r, span, text)
            .help("An atom: a word without spaces, parentheses, quotes or braces (RFC 9051 §4.1)."),
        None => Field::new("Atom", span, text)
            .help("An atom: a word without spaces, parentheses, quotes or braces (RFC 9051 §4.1)."),
    }
}

/// A sequence set with a field per number or range; the commas between
/// them are separators.
fn sequence_field(bytes: &[u8], text: &str, span: Span, role: &str) -> Field {
    let help = if role == "UID set" {
        "Unique identifiers: stay the same across sessions (RFC 9051 §2.3.1.1); ranges with ':', \
         '*' for the largest, elements separated by ','."
    } else {
        "Message sequence numbers: 1 is the oldest message of the mailbox (RFC 9051 §2.3.1.2); \
         ranges with ':', '*' for the last, elements separated by ','."
    };
    let mut field = Field::new(role, span, text).help(help);
    let Some(ranges) = sequence_set(text) else {
        return field;
    };
    let show = |n: SeqNumber| match n {
        SeqNumber::Number(n) => n.to_string(),
        SeqNumber::Star => "* (the largest)".to_string(),
    };
    let children = ranges
        .iter()
        .map(|r| {
            let s = r.span.shifted(span.start);
            match r.last {
                Some(last) => {
                    Field::new("Range", s, format!("{} to {}", show(r.first), show(last)))
                }
                None => Field::new("Number", s, show(r.first)),
            }
        })
        .collect::<Vec<_>>();
    if ranges.len() > 1 || ranges.iter().any(|r| r.last.is_some()) {
        field.children = cover(bytes, span, children);
    }
    field
}

fn flag_help(flag: &str) -> String {
    let meaning = match flag.to_ascii_lowercase().as_str() {
        "\\seen" => "the message has been read",
        "\\answered" => "the message has been answered",
        "\\flagged" => "the message is flagged for attention",
        "\\deleted" => "the message is marked for removal by EXPUNGE or CLOSE",
        "\\draft" => "the message is a draft",
        "\\recent" => "the message is new in this session (IMAP4rev1 only)",
        "\\*" => "new keywords may be created",
        "\\noselect" | "\\noinferiors" | "\\haschildren" | "\\hasnochildren" | "\\marked"
        | "\\unmarked" | "\\subscribed" | "\\nonexistent" | "\\remote" => {
            "a mailbox attribute (RFC 9051 §7.3.1)"
        }
        _ if flag.starts_with('\\') => "a system flag",
        _ => "a keyword, a flag the client names",
    };
    format!("{flag}: {meaning} (RFC 9051 §2.3.2).")
}

fn fetch_help(item: &str) -> String {
    let upper = item.to_ascii_uppercase();
    let meaning = match upper.as_str() {
        "FLAGS" => "the message's flags",
        "UID" => "the message's unique identifier",
        "ENVELOPE" => "the parsed header: date, subject, from, to, message-id",
        "INTERNALDATE" => "when the server received the message",
        "RFC822.SIZE" => "the size of the message in octets",
        "BODYSTRUCTURE" => "the MIME structure of the message",
        "BODY" => "the MIME structure, without extensions",
        "ALL" => "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE",
        "FAST" => "FLAGS INTERNALDATE RFC822.SIZE",
        "FULL" => "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY",
        _ if upper.starts_with("BODY.PEEK[") => "a section of the message, without setting \\Seen",
        _ if upper.starts_with("BODY[") => "a section of the message; sets \\Seen",
        _ if upper.starts_with("BINARY") => "a section, its transfer encoding decoded",
        _ => "a data item",
    };
    format!("{item}: {meaning} (RFC 9051 §6.4.5).")
}

fn response_title(message: &[u8], s: &ResponseSyntax) -> String {
    let name = s
        .name
        .map(|n| String::from_utf8_lossy(n.slice(message)).to_ascii_uppercase())
        .unwrap_or_default();
    match message.first() {
        Some(b'+') => "Continuation request".into(),
        Some(b'*') => format!("Untagged: {name}"),
        _ => format!("Tagged: {name}"),
    }
}

/// The fields of a response before its arguments.
fn response_head(message: &[u8], s: &ResponseSyntax) -> Vec<Field> {
    let mut out = Vec::new();
    if let Some(tag) = s.tag {
        out.push(match tag.slice(message) {
            b"+" => Field::new("Continuation", tag, "+").help(
                "The server waits for the rest of the command: a literal's bytes or the \
                 next step of AUTHENTICATE (RFC 9051 §7.6).",
            ),
            b"*" => Field::new("Untagged", tag, "*").help(
                "Data or status the server sends on its own or before the tagged \
                 completion (RFC 9051 §2.2.2).",
            ),
            _ => Field::new("Tag", tag, visible(tag.slice(message)))
                .help("The tag of the command this response completes (RFC 9051 §2.2.2)."),
        });
    }
    if let Some(n) = s.number {
        out.push(
            Field::new("Message number", n, visible(n.slice(message)))
                .help("The message sequence number this data is about (RFC 9051 §2.3.1.2)."),
        );
    }
    if let Some(n) = s.name {
        let name = String::from_utf8_lossy(n.slice(message)).to_ascii_uppercase();
        let status = [
            Status::Ok,
            Status::No,
            Status::Bad,
            Status::PreAuth,
            Status::Bye,
        ]
        .into_iter()
        .find(|st| st.name() == name);
        let field = match status {
            Some(st) => Field::new("Status", n, name).help(format!(
                "{} ({}).",
                status_help(st),
                st.section()
            )),
            None => {
                let reference = crate::imap::data::section(&name).unwrap_or("RFC 9051 §7");
                Field::new("Data", n, name).help(format!("Untagged data ({reference})."))
            }
        };
        out.push(field);
    }
    if let Some((whole, name, text)) = s.code {
        let mut children = vec![Field::new("Code", name, visible(name.slice(message)))];
        if let Some(t) = text {
            children.push(Field::new("Code data", t, visible(t.slice(message))));
        }
        out.push(
            Field::new("Response code", whole, visible(whole.slice(message)))
                .help("A response code in brackets, for the client program rather than the user (RFC 9051 §7.1).")
                .with_children(delimit(cover(message, whole, children))),
        );
    }
    if let Some(t) = s.text {
        out.push(Field::new("Text", t, visible(t.slice(message))).help("Text for humans."));
    }
    out
}

fn status_help(status: Status) -> &'static str {
    match status {
        Status::Ok => "OK: the command succeeded, or (untagged) information",
        Status::No => "NO: the command failed; the session goes on",
        Status::Bad => "BAD: the command was not understood (unknown, bad syntax, wrong state)",
        Status::PreAuth => "PREAUTH: the greeting of a session already authenticated",
        Status::Bye => "BYE: the server closes the connection",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;

    fn clean(d: &Dissection) {
        assert!(
            d.check_invariants(true).is_empty(),
            "{:?}",
            d.check_invariants(true)
        );
        assert!(
            d.diagnostics.iter().all(|x| x.severity != Severity::Error),
            "{:?}",
            d.diagnostics
        );
    }

    fn errors(d: &Dissection) -> Vec<String> {
        assert!(
            d.check_invariants(false).is_empty(),
            "{:?}",
            d.check_invariants(false)
        );
        d.diagnostics
            .iter()
            .filter(|x| x.severity == Severity::Error)
            .map(|x| x.message.clone())
            .collect()
    }

    #[test]
    fn a_fetch_command_has_a_field_for_every_item() {
        let d = dissect_command(b"A654 FETCH 2:4,7 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n");
        clean(&d);
        assert_eq!(d.find("Tag").unwrap().value, "A654");
        assert_eq!(d.find("Range").unwrap().value, "2 to 4");
        assert_eq!(d.find("Number").unwrap().value, "7");
        let comma = d.find("Separator").unwrap();
        assert_eq!((comma.span, comma.value.as_str()), (Span::new(14, 15), ","));
        let items: Vec<_> = d.walk().filter(|f| f.name == "Fetch item").collect();
        assert_eq!(items.len(), 2);
        assert!(items[1].help.as_ref().unwrap().contains("sets \\Seen"));
    }

    #[test]
    fn a_login_with_literals_and_its_password_hidden() {
        let d = dissect_command(b"a001 LOGIN {3}\r\nbob \"hungry\"\r\n");
        clean(&d);
        assert_eq!(d.summary, "a001 LOGIN {3}", "the first line only");
        assert_eq!(
            dissect_command(b"a001 LOGIN bob hungry\r\n").summary,
            "a001 LOGIN bob ••••••"
        );
        assert_eq!(d.find("Literal size").unwrap().value, "{3}");
        assert_eq!(d.find("Literal data").unwrap().value, "bob");
        assert_eq!(d.find("Password").unwrap().value, "••••••");
        let waiting = dissect_command(b"a001 LOGIN {3}\r\n");
        assert!(
            waiting
                .diagnostics
                .iter()
                .any(|x| x.message.contains("waits for the server's \"+\""))
        );
    }

    #[test]
    fn responses() {
        let d = dissect_response(b"* 12 FETCH (FLAGS (\\Seen) BODY[] {5}\r\nhello UID 7)\r\n");
        clean(&d);
        assert_eq!(d.find("Message number").unwrap().value, "12");
        assert_eq!(d.find("Literal data").unwrap().value, "hello");
        assert_eq!(d.find("Flag").unwrap().value, "\\Seen");
        let d = dissect_response(b"a002 OK [READ-WRITE] SELECT completed\r\n");
        clean(&d);
        assert_eq!(d.find("Code").unwrap().value, "READ-WRITE");
        assert_eq!(d.find("Status").unwrap().value, "OK");
        clean(&dissect_response(
            b"+ Ready for additional command text\r\n",
        ));
        clean(&dissect_response(
            b"* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
        ));
    }

    #[test]
    fn malformed_input_gives_diagnostics() {
        let cases: [(&[u8], &str); 9] = [
            (b"a+1 NOOP\r\n", "tag"),
            (b"a001 FROB\r\n", "not an IMAP command"),
            (b"a APPEND box {99999999}\r\n", "larger than"),
            (b"a FETCH 1 (FLAGS\r\n", "never closed"),
            (b"a FETCH 1 FLAGS)\r\n", "without its"),
            (b"a LOGIN b\xc3\xb6b x\r\n", "0xC3"),
            (b"a NOOP\n", "LF alone"),
            (b"a LOGIN x y\r\n", "not valid in the Selected state"),
            (
                b"a SEARCH ((((((((((((((((((ALL))))))))))))))))))\r\n",
                "deep",
            ),
        ];
        for (bytes, expect) in cases {
            let d = dissect_command_in(bytes, Some(ImapState::Selected));
            let found = errors(&d);
            assert!(
                found.iter().any(|m| m.contains(expect)),
                "{}: {found:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        let partial = dissect_command(b"a NOOP");
        assert!(errors(&partial).is_empty());
        assert_eq!(partial.diagnostics[0].severity, Severity::Warning);
        assert!(partial.diagnostics[0].message.contains("not complete"));
        let big = dissect_command(b"a APPEND INBOX {99999999}\r\nabc");
        assert_eq!(big.find("Tag").unwrap().value, "a");
        assert_eq!(errors(&big).len(), 1, "{:?}", big.diagnostics);
        let d = dissect_response(b"* OK [ALERT oops\r\n");
        assert!(!errors(&d).is_empty());
    }

    #[test]
    fn idle_ends_with_done() {
        let d = dissect_command(b"DONE\r\n");
        clean(&d);
        assert!(d.find("End of IDLE").is_some());
    }
}
