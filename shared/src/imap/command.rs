//! IMAP commands (RFC 9051 §6, IMAP4rev1 clients per RFC 3501): the typed
//! [`Command`] (tag, [`Verb`], arguments as [`Value`]s), its parser with the
//! span of every item for the dissector, and its wire form.
//!
//! Command names are case-insensitive; arguments are checked against each
//! command's grammar (RFC 9051 §9), so what parses is what a strict server
//! would accept. A `UID` prefix is kept as [`Command::uid`].

use crate::dissect::Span;
use crate::imap::args;
use crate::imap::syntax::{ErrorKind, Node, Reader, SyntaxError, Value, write_all};

/// The states of an IMAP session (RFC 9051 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ImapState {
    /// Where a connection starts, unless its greeting is PREAUTH.
    #[default]
    NotAuthenticated,
    Authenticated,
    Selected,
    Logout,
}

impl ImapState {
    /// The RFC's name, shown to the student.
    pub fn label(&self) -> &'static str {
        match self {
            ImapState::NotAuthenticated => "Not Authenticated",
            ImapState::Authenticated => "Authenticated",
            ImapState::Selected => "Selected",
            ImapState::Logout => "Logout",
        }
    }
}

macro_rules! verbs {
    ($($verb:ident $name:literal $section:literal;)*) => {
        /// An IMAP command name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Verb { $($verb,)* }

        impl Verb {
            /// Every command this parser knows.
            pub const ALL: &'static [Verb] = &[$(Verb::$verb,)*];

            /// The name as sent, upper case.
            pub fn name(&self) -> &'static str {
                match self { $(Verb::$verb => $name,)* }
            }

            /// Where the command is defined.
            pub fn section(&self) -> &'static str {
                match self { $(Verb::$verb => $section,)* }
            }
        }
    };
}

verbs! {
    Capability "CAPABILITY" "RFC 9051 §6.1.1";
    Noop "NOOP" "RFC 9051 §6.1.2";
    Logout "LOGOUT" "RFC 9051 §6.1.3";
    Starttls "STARTTLS" "RFC 9051 §6.2.1";
    Authenticate "AUTHENTICATE" "RFC 9051 §6.2.2";
    Login "LOGIN" "RFC 9051 §6.2.3";
    Enable "ENABLE" "RFC 9051 §6.3.1";
    Select "SELECT" "RFC 9051 §6.3.2";
    Examine "EXAMINE" "RFC 9051 §6.3.3";
    Create "CREATE" "RFC 9051 §6.3.4";
    Delete "DELETE" "RFC 9051 §6.3.5";
    Rename "RENAME" "RFC 9051 §6.3.6";
    Subscribe "SUBSCRIBE" "RFC 9051 §6.3.7";
    Unsubscribe "UNSUBSCRIBE" "RFC 9051 §6.3.8";
    List "LIST" "RFC 9051 §6.3.9";
    Namespace "NAMESPACE" "RFC 9051 §6.3.10";
    Status "STATUS" "RFC 9051 §6.3.11";
    Append "APPEND" "RFC 9051 §6.3.12";
    Idle "IDLE" "RFC 9051 §6.3.13";
    Close "CLOSE" "RFC 9051 §6.4.1";
    Unselect "UNSELECT" "RFC 9051 §6.4.2";
    Expunge "EXPUNGE" "RFC 9051 §6.4.3";
    Search "SEARCH" "RFC 9051 §6.4.4";
    Fetch "FETCH" "RFC 9051 §6.4.5";
    Store "STORE" "RFC 9051 §6.4.6";
    Copy "COPY" "RFC 9051 §6.4.7";
    Move "MOVE" "RFC 9051 §6.4.8";
    Id "ID" "RFC 2971 §3.1";
    Lsub "LSUB" "RFC 3501 §6.3.9";
    Check "CHECK" "RFC 3501 §6.4.1";
}

impl Verb {
    /// The command called `name` (any case).
    pub fn from_name(name: &str) -> Option<Verb> {
        Verb::ALL
            .iter()
            .copied()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }

    /// Whether `UID` may precede it (RFC 9051 §6.4.9).
    pub fn takes_uid(&self) -> bool {
        matches!(
            self,
            Verb::Fetch | Verb::Store | Verb::Copy | Verb::Move | Verb::Search | Verb::Expunge
        )
    }

    /// Whether the command is valid in `state` (RFC 9051 §6.1 to §6.4).
    pub fn valid_in(&self, state: ImapState) -> bool {
        use ImapState::*;
        match self {
            Verb::Capability | Verb::Noop | Verb::Logout | Verb::Id => state != Logout,
            Verb::Starttls | Verb::Authenticate | Verb::Login => state == NotAuthenticated,
            Verb::Close
            | Verb::Unselect
            | Verb::Expunge
            | Verb::Search
            | Verb::Fetch
            | Verb::Store
            | Verb::Copy
            | Verb::Move
            | Verb::Check => state == Selected,
            _ => matches!(state, Authenticated | Selected),
        }
    }
}

/// One tagged client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    /// Sent as `UID FETCH`, `UID STORE`, ...: numbers are UIDs.
    pub uid: bool,
    pub verb: Verb,
    pub arguments: Vec<Value>,
}

impl Command {
    /// A command without arguments.
    pub fn new(tag: impl Into<String>, verb: Verb) -> Self {
        Command {
            tag: tag.into(),
            uid: false,
            verb,
            arguments: Vec::new(),
        }
    }

    /// Parses one whole framed command, its CR LF included.
    pub fn parse(message: &[u8]) -> Result<Command, SyntaxError> {
        parse_command(message).command
    }

    /// The wire form, with CR LF; literals are written whole.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.tag.as_bytes());
        out.push(b' ');
        if self.uid {
            out.extend_from_slice(b"UID ");
        }
        out.extend_from_slice(self.verb.name().as_bytes());
        if !self.arguments.is_empty() {
            out.push(b' ');
            write_all(&self.arguments, &mut out);
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// Where the pieces of a command are, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandSyntax {
    pub tag: Option<Span>,
    /// `UID`, when given.
    pub uid: Option<Span>,
    pub verb: Option<Span>,
    pub arguments: Vec<Node>,
    /// The CR LF that ends the command.
    pub end: Option<Span>,
}

/// A parsed command: the result and where its pieces are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub command: Result<Command, SyntaxError>,
    pub syntax: CommandSyntax,
}

/// Parses one whole framed command.
pub fn parse_command(message: &[u8]) -> ParsedCommand {
    let mut syntax = CommandSyntax::default();
    let command = read_command(message, &mut syntax);
    ParsedCommand { command, syntax }
}

fn read_command(message: &[u8], syntax: &mut CommandSyntax) -> Result<Command, SyntaxError> {
    let mut r = Reader::new(message);
    let tag = read_tag(&mut r)?;
    syntax.tag = Some(tag);
    r.space()?;
    let (mut verb, mut verb_span) = read_verb(&mut r)?;
    let mut uid = false;
    if verb.is_none() && verb_span.slice(message).eq_ignore_ascii_case(b"UID") {
        uid = true;
        syntax.uid = Some(verb_span);
        r.space()?;
        (verb, verb_span) = read_verb(&mut r)?;
    }
    syntax.verb = Some(verb_span);
    let name = String::from_utf8_lossy(verb_span.slice(message)).into_owned();
    let verb = verb.ok_or_else(|| {
        SyntaxError::new(
            ErrorKind::UnknownCommand,
            verb_span,
            format!("{name:?} is not an IMAP command"),
        )
        .cite("RFC 9051 §6")
    })?;
    if uid && !verb.takes_uid() {
        return Err(SyntaxError::new(
            ErrorKind::Syntax,
            verb_span,
            format!("UID goes with FETCH, STORE, COPY, MOVE, SEARCH or EXPUNGE, not {name}"),
        )
        .cite("RFC 9051 §6.4.9"));
    }
    r.read_nodes(false, &mut syntax.arguments)?;
    syntax.end = Some(r.line_end()?);
    if r.pos < message.len() {
        return Err(SyntaxError::new(
            ErrorKind::Syntax,
            Span::new(r.pos, message.len()),
            "more bytes follow the end of the command",
        ));
    }
    let arguments: Vec<Value> = syntax.arguments.iter().map(|n| n.value(message)).collect();
    args::check_command(verb, uid, &arguments, &syntax.arguments, verb_span)?;
    Ok(Command {
        tag: String::from_utf8_lossy(tag.slice(message)).into_owned(),
        uid,
        verb,
        arguments,
    })
}

/// Whether `b` may be in a tag: an ASTRING-CHAR other than `+` (RFC 9051 §9).
pub fn is_tag_char(b: u8) -> bool {
    b > 0x20 && b < 0x7f && !b"(){%*\"\\+".contains(&b)
}

/// Reads the tag; its span.
pub fn read_tag(r: &mut Reader) -> Result<Span, SyntaxError> {
    let start = r.pos;
    while r.peek().is_some_and(is_tag_char) {
        r.pos += 1;
    }
    let end_of_word = matches!(r.peek(), None | Some(b' ' | b'\r' | b'\n'));
    if r.pos == start || !end_of_word {
        let stop = r.bytes[start..]
            .iter()
            .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
            .map_or(r.bytes.len(), |p| start + p);
        let message = if r.pos == start && end_of_word {
            "a command starts with a tag (a001), then a space and the command".to_string()
        } else {
            format!(
                "the tag holds {:?}, which a tag may not contain (no space, ( ) {{ % * \" \\ + \
                 or control bytes)",
                r.peek().map(char::from).unwrap_or(' ')
            )
        };
        return Err(SyntaxError::new(
            ErrorKind::BadTag,
            Span::new(start, stop.max(start + 1)),
            message,
        )
        .cite("RFC 9051 §2.2.1"));
    }
    Ok(Span::new(start, r.pos))
}

/// Reads a command name; the verb if it is a known one.
fn read_verb(r: &mut Reader) -> Result<(Option<Verb>, Span), SyntaxError> {
    let start = r.pos;
    while r
        .peek()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        r.pos += 1;
    }
    if !matches!(r.peek(), None | Some(b' ' | b'\r' | b'\n')) {
        while !matches!(r.peek(), None | Some(b' ' | b'\r' | b'\n')) {
            r.pos += 1;
        }
    }
    let span = Span::new(start, r.pos);
    if span.is_empty() {
        return Err(SyntaxError::new(
            ErrorKind::UnknownCommand,
            Span::point(start),
            "the command name is missing after the tag",
        )
        .cite("RFC 9051 §2.2.1"));
    }
    let name = String::from_utf8_lossy(span.slice(r.bytes));
    Ok((Verb::from_name(&name), span))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Command {
        Command::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn err(text: &str) -> ErrorKind {
        match Command::parse(text.as_bytes()) {
            Ok(c) => panic!("{text:?} parsed as {c:?}"),
            Err(e) => e.kind,
        }
    }

    #[test]
    fn commands_of_every_state() {
        let c = ok("a001 login bob hungry\r\n");
        assert_eq!(c.verb, Verb::Login);
        assert_eq!(c.arguments[1], Value::Atom("hungry".into()));
        let c = ok("A003 UID fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.1024>)\r\n");
        assert!(c.uid);
        assert_eq!(c.verb, Verb::Fetch);
        assert_eq!(
            c.to_bytes(),
            b"A003 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.1024>)\r\n"
        );
        ok("a STORE 2:4 +FLAGS.SILENT (\\Deleted)\r\n");
        ok("a SEARCH CHARSET UTF-8 OR FROM \"alice\" NOT SEEN SINCE 1-Feb-1994 1:5\r\n");
        ok("a APPEND saved-messages (\\Seen) {3}\r\nabc\r\n");
        ok("a LIST \"\" *\r\n");
        ok("a STATUS blurdybloop (UIDNEXT MESSAGES)\r\n");
        ok("a ID (\"name\" \"sodr\" \"version\" \"19.34\")\r\n");
        ok("a ID NIL\r\n");
        ok("a ENABLE UTF8=ACCEPT\r\n");
        ok("a UID EXPUNGE 3000:3002\r\n");
        ok("a MOVE 1,3 Trash\r\n");
        ok("a AUTHENTICATE PLAIN AGJvYgBodW5ncnk=\r\n");
    }

    #[test]
    fn malformed_commands() {
        assert_eq!(err("a+1 NOOP\r\n"), ErrorKind::BadTag);
        assert_eq!(err(" NOOP\r\n"), ErrorKind::BadTag);
        assert_eq!(err("a HELO x\r\n"), ErrorKind::UnknownCommand);
        assert_eq!(err("a NOOP"), ErrorKind::MissingCrlf);
        assert_eq!(err("a FETCH 1 (FLAGS\r\n"), ErrorKind::Unbalanced);
        assert_eq!(err("a LOGIN b\u{f6}b x\r\n"), ErrorKind::EightBitAtom);
        assert_eq!(err("a UID NOOP\r\n"), ErrorKind::Syntax);
        for bad in [
            "a NOOP now\r\n",
            "a LOGIN bob\r\n",
            "a FETCH 0 FLAGS\r\n",
            "a FETCH 1 COLOUR\r\n",
            "a STORE 1 FLAGS\r\n",
            "a STORE 1 PAINT (\\Seen)\r\n",
            "a SELECT\r\n",
            "a SEARCH\r\n",
            "a SEARCH FROM\r\n",
            "a APPEND box (\\Seen)\r\n",
            "a STATUS box\r\n",
        ] {
            assert_eq!(err(bad), ErrorKind::Syntax, "{bad}");
        }
    }

    #[test]
    fn states() {
        assert!(Verb::Login.valid_in(ImapState::NotAuthenticated));
        assert!(!Verb::Login.valid_in(ImapState::Selected));
        assert!(Verb::Select.valid_in(ImapState::Selected));
        assert!(!Verb::Fetch.valid_in(ImapState::Authenticated));
    }
}
