//! SMTP commands (RFC 5321 §4.1): the typed [`Command`], its parser with
//! the spans and leniencies the dissector shows, and its wire form.
//!
//! [`parse_line`] takes one command line without its CR LF and returns both
//! the command (or why it is not one, with the reply code a server gives)
//! and the [`Syntax`] spans. It accepts what many servers accept (lower
//! case, the course's `MAIL FROM: <alice@crepes.fr>` with a space, a path
//! without angle brackets) and says so in `Syntax::notes`.

use crate::dissect::{Diagnostic, Span};
use crate::mail::address::check_address;

/// A `KEYWORD[=value]` parameter of MAIL or RCPT (RFC 5321 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// Upper-cased.
    pub keyword: String,
    pub value: Option<String>,
}

/// One SMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    /// `MAIL FROM:<reverse-path>`; an empty path is the null sender `<>`.
    Mail {
        reverse_path: String,
        params: Vec<Param>,
    },
    Rcpt {
        forward_path: String,
        params: Vec<Param>,
    },
    Data,
    Rset,
    Noop(Option<String>),
    Quit,
    Vrfy(String),
    Expn(String),
    Help(Option<String>),
}

impl Command {
    /// The verb, upper case.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Helo(_) => "HELO",
            Command::Ehlo(_) => "EHLO",
            Command::Mail { .. } => "MAIL",
            Command::Rcpt { .. } => "RCPT",
            Command::Data => "DATA",
            Command::Rset => "RSET",
            Command::Noop(_) => "NOOP",
            Command::Quit => "QUIT",
            Command::Vrfy(_) => "VRFY",
            Command::Expn(_) => "EXPN",
            Command::Help(_) => "HELP",
        }
    }

    /// Parses one line without its CR LF.
    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        parse_line(line).command
    }

    /// The canonical wire form, with CR LF.
    pub fn to_bytes(&self) -> Vec<u8> {
        fn params_text(params: &[Param]) -> String {
            params
                .iter()
                .map(|p| match &p.value {
                    Some(v) => format!(" {}={v}", p.keyword),
                    None => format!(" {}", p.keyword),
                })
                .collect()
        }
        let line = match self {
            Command::Helo(d) => format!("HELO {d}"),
            Command::Ehlo(d) => format!("EHLO {d}"),
            Command::Mail {
                reverse_path,
                params,
            } => format!("MAIL FROM:<{reverse_path}>{}", params_text(params)),
            Command::Rcpt {
                forward_path,
                params,
            } => format!("RCPT TO:<{forward_path}>{}", params_text(params)),
            Command::Data => "DATA".into(),
            Command::Rset => "RSET".into(),
            Command::Noop(None) => "NOOP".into(),
            Command::Noop(Some(s)) => format!("NOOP {s}"),
            Command::Quit => "QUIT".into(),
            Command::Vrfy(s) => format!("VRFY {s}"),
            Command::Expn(s) => format!("EXPN {s}"),
            Command::Help(None) => "HELP".into(),
            Command::Help(Some(s)) => format!("HELP {s}"),
        };
        format!("{line}\r\n").into_bytes()
    }
}

/// Why a line is not a command a server can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// `500`: the verb is unknown.
    #[error("{verb:?} is not an SMTP command")]
    Unrecognized { verb: String, span: Span },
    /// `502`: a real SMTP command this server does not implement.
    #[error("{verb} is an SMTP command this server does not implement")]
    NotImplemented { verb: String, span: Span },
    /// `501`: the arguments are wrong.
    #[error("{message}")]
    Syntax { message: String, span: Span },
}

impl CommandError {
    /// The reply code a server answers with.
    pub fn code(&self) -> u16 {
        match self {
            CommandError::Unrecognized { .. } => 500,
            CommandError::NotImplemented { .. } => 502,
            CommandError::Syntax { .. } => 501,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            CommandError::Unrecognized { span, .. }
            | CommandError::NotImplemented { span, .. }
            | CommandError::Syntax { span, .. } => *span,
        }
    }
}

/// The path of MAIL or RCPT as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSyntax {
    /// `FROM:` or `TO:`.
    pub keyword: Span,
    /// The path with its angle brackets, if any.
    pub path: Span,
    /// The address inside the brackets.
    pub address: Span,
}

/// Where the pieces of a command line are, for the dissector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Syntax {
    pub verb: Span,
    pub path: Option<PathSyntax>,
    /// Each parameter of MAIL or RCPT.
    pub params: Vec<Span>,
    /// The argument of HELO, EHLO, VRFY, EXPN, NOOP, HELP.
    pub argument: Option<Span>,
    /// What a strict server would refuse or what is unusual, though this
    /// parser accepted it.
    pub notes: Vec<Diagnostic>,
}

/// A parsed line: the command (or why not) and where its pieces are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub command: Result<Command, CommandError>,
    pub syntax: Syntax,
}

const NOT_IMPLEMENTED: &[&str] = &[
    "STARTTLS", "AUTH", "BDAT", "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML", "XCLIENT",
];

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Parses one command line (without its CR LF).
pub fn parse_line(line: &[u8]) -> ParsedCommand {
    let mut syntax = Syntax::default();
    let verb_end = line.iter().position(|&b| is_space(b)).unwrap_or(line.len());
    syntax.verb = Span::new(0, verb_end);
    let verb = String::from_utf8_lossy(&line[..verb_end]).to_ascii_uppercase();
    let mut arg_start = verb_end;
    let spaces = line[verb_end..]
        .iter()
        .take_while(|&&b| is_space(b))
        .count();
    if spaces > 1 || line.get(verb_end) == Some(&b'\t') {
        syntax.notes.push(
            Diagnostic::note(
                Span::new(verb_end, verb_end + spaces),
                "the verb and its argument are separated by exactly one space in RFC 5321",
            )
            .reference("RFC 5321 §4.1.1"),
        );
    }
    arg_start += spaces;
    let arg_end = line
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(arg_start, |p| (p + 1).max(arg_start));
    if arg_end < line.len() && arg_end > 0 {
        syntax.notes.push(
            Diagnostic::note(
                Span::new(arg_end, line.len()),
                "trailing white space before the end of the line",
            )
            .reference("RFC 5321 §4.1.1"),
        );
    }
    let arg = Span::new(arg_start, arg_end);
    let arg_text = String::from_utf8_lossy(arg.slice(line)).into_owned();
    let has_arg = !arg.is_empty();
    let syntax_error = |message: String, span: Span| CommandError::Syntax { message, span };
    let vspan = syntax.verb;
    let command = match verb.as_str() {
        "HELO" | "EHLO" => {
            syntax.argument = has_arg.then_some(arg);
            if !has_arg {
                Err(syntax_error(
                    format!("{verb} needs the client's domain name: {verb} crepes.fr"),
                    Span::point(line.len()),
                ))
            } else {
                if !arg_text.starts_with('[') && check_address(&format!("x@{arg_text}")).is_err() {
                    syntax.notes.push(
                        Diagnostic::warning(
                            arg,
                            format!("{arg_text:?} is not a valid domain name or address literal"),
                        )
                        .reference("RFC 5321 §4.1.1.1"),
                    );
                }
                Ok(if verb == "HELO" {
                    Command::Helo(arg_text)
                } else {
                    Command::Ehlo(arg_text)
                })
            }
        }
        "MAIL" | "RCPT" => parse_path_command(line, arg, &verb, &mut syntax),
        "DATA" | "RSET" | "QUIT" => {
            if has_arg {
                Err(syntax_error(format!("{verb} takes no argument"), arg))
            } else {
                Ok(match verb.as_str() {
                    "DATA" => Command::Data,
                    "RSET" => Command::Rset,
                    _ => Command::Quit,
                })
            }
        }
        "NOOP" | "HELP" => {
            syntax.argument = has_arg.then_some(arg);
            let a = has_arg.then_some(arg_text);
            Ok(if verb == "NOOP" {
                Command::Noop(a)
            } else {
                Command::Help(a)
            })
        }
        "VRFY" | "EXPN" => {
            syntax.argument = has_arg.then_some(arg);
            if has_arg {
                Ok(if verb == "VRFY" {
                    Command::Vrfy(arg_text)
                } else {
                    Command::Expn(arg_text)
                })
            } else {
                Err(syntax_error(
                    format!("{verb} needs a user name or address"),
                    Span::point(line.len()),
                ))
            }
        }
        _ if NOT_IMPLEMENTED.contains(&verb.as_str()) => {
            Err(CommandError::NotImplemented { verb, span: vspan })
        }
        _ => Err(CommandError::Unrecognized {
            verb: String::from_utf8_lossy(&line[..verb_end]).into_owned(),
            span: vspan,
        }),
    };
    ParsedCommand { command, syntax }
}

fn parse_path_command(
    line: &[u8],
    arg: Span,
    verb: &str,
    syntax: &mut Syntax,
) -> Result<Command, CommandError> {
    let keyword: &[u8] = if verb == "MAIL" { b"FROM:" } else { b"TO:" };
    let text = arg.slice(line);
    let example = if verb == "MAIL" {
        "MAIL FROM:<address>"
    } else {
        "RCPT TO:<address>"
    };
    // "MAIL FROM :<x>" and "MAIL FROM <x>" are common typos; name them.
    let kw_len = keyword.len();
    if text.len() < kw_len || !text[..kw_len].eq_ignore_ascii_case(keyword) {
        return Err(CommandError::Syntax {
            message: format!(
                "{verb} must be followed by {} and the path, as in {example}",
                String::from_utf8_lossy(keyword)
            ),
            span: if arg.is_empty() {
                Span::point(line.len())
            } else {
                arg
            },
        });
    }
    let kw_span = Span::new(arg.start, arg.start + kw_len);
    let mut i = kw_span.end;
    let spaces = line[i..arg.end]
        .iter()
        .take_while(|&&b| is_space(b))
        .count();
    if spaces > 0 {
        syntax.notes.push(
            Diagnostic::warning(
                Span::new(i, i + spaces),
                format!(
                    "a space after the colon is not in RFC 5321's grammar ({example}); this server \
                     accepts it, as many do, but strict servers answer 501"
                ),
            )
            .reference("RFC 5321 §4.1.2"),
        );
    }
    i += spaces;
    let rest = &line[i..arg.end];
    let (path, address) = if rest.first() == Some(&b'<') {
        match rest.iter().position(|&b| b == b'>') {
            Some(close) => (Span::new(i, i + close + 1), Span::new(i + 1, i + close)),
            None => {
                return Err(CommandError::Syntax {
                    message: "the path has a '<' without its closing '>'".into(),
                    span: Span::new(i, arg.end),
                });
            }
        }
    } else {
        let end = rest
            .iter()
            .position(|&b| is_space(b))
            .map_or(arg.end, |p| i + p);
        let span = Span::new(i, end);
        if !span.is_empty() {
            syntax.notes.push(
                Diagnostic::warning(
                    span,
                    format!(
                        "the path belongs in angle brackets ({example}); many servers accept it \
                         without, strict ones answer 501"
                    ),
                )
                .reference("RFC 5321 §4.1.2"),
            );
        }
        (span, span)
    };
    syntax.path = Some(PathSyntax {
        keyword: kw_span,
        path,
        address,
    });
    let mut address_text = String::from_utf8_lossy(address.slice(line)).into_owned();
    // Obsolete source routes: <@relay.example:bob@hamburger.edu>.
    if address_text.starts_with('@')
        && let Some((_, mailbox)) = address_text.split_once(':')
    {
        syntax.notes.push(
            Diagnostic::note(
                address,
                "a source route (@host:) is obsolete; servers ignore it",
            )
            .reference("RFC 5321 §4.1.2, §C"),
        );
        address_text = mailbox.to_string();
    }
    if path.is_empty() {
        return Err(CommandError::Syntax {
            message: format!("{verb} needs a path, as in {example}"),
            span: Span::point(i),
        });
    }
    let postmaster = verb == "RCPT" && address_text.eq_ignore_ascii_case("postmaster");
    if address_text.is_empty() {
        if verb == "RCPT" {
            return Err(CommandError::Syntax {
                message: "<> (the null path) is only allowed in MAIL FROM".into(),
                span: path,
            });
        }
    } else if !postmaster && let Err(e) = check_address(&address_text) {
        return Err(CommandError::Syntax {
            message: format!("{address_text:?} is not a valid address: {e}"),
            span: address,
        });
    }
    // Parameters: SP-separated KEYWORD[=value].
    let mut params = Vec::new();
    let mut j = path.end;
    while j < arg.end {
        while j < arg.end && is_space(line[j]) {
            j += 1;
        }
        let start = j;
        while j < arg.end && !is_space(line[j]) {
            j += 1;
        }
        if start == j {
            break;
        }
        let span = Span::new(start, j);
        let raw = String::from_utf8_lossy(span.slice(line)).into_owned();
        let (keyword, value) = match raw.split_once('=') {
            Some((k, v)) => (k.to_ascii_uppercase(), Some(v.to_string())),
            None => (raw.to_ascii_uppercase(), None),
        };
        if keyword.is_empty()
            || !keyword
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(CommandError::Syntax {
                message: format!("{raw:?} is not a KEYWORD=value parameter"),
                span,
            });
        }
        syntax.params.push(span);
        params.push(Param { keyword, value });
    }
    Ok(if verb == "MAIL" {
        Command::Mail {
            reverse_path: address_text,
            params,
        }
    } else {
        Command::Rcpt {
            forward_path: address_text,
            params,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_course_commands() {
        assert_eq!(
            Command::parse(b"HELO crepes.fr"),
            Ok(Command::Helo("crepes.fr".into()))
        );
        let p = parse_line(b"MAIL FROM: <alice@crepes.fr>");
        assert_eq!(
            p.command,
            Ok(Command::Mail {
                reverse_path: "alice@crepes.fr".into(),
                params: vec![]
            })
        );
        assert_eq!(p.syntax.notes.len(), 1);
        assert!(p.syntax.notes[0].message.contains("space after the colon"));
        let path = p.syntax.path.unwrap();
        assert_eq!(path.path, Span::new(11, 28));
        assert_eq!(path.address, Span::new(12, 27));
        assert_eq!(
            Command::parse(b"rcpt to:<Johm@hamburger.edu>"),
            Ok(Command::Rcpt {
                forward_path: "Johm@hamburger.edu".into(),
                params: vec![]
            })
        );
        assert_eq!(Command::parse(b"DATA"), Ok(Command::Data));
        assert_eq!(Command::parse(b"quit"), Ok(Command::Quit));
    }

    #[test]
    fn errors_carry_the_reply_code() {
        let e = Command::parse(b"HELLO crepes.fr").unwrap_err();
        assert_eq!(e.code(), 500);
        assert_eq!(e.span(), Span::new(0, 5));
        assert_eq!(Command::parse(b"STARTTLS").unwrap_err().code(), 502);
        for bad in [
            &b"HELO"[..],
            b"MAIL alice@crepes.fr",
            b"MAIL FROM:<alice@crepes.fr",
            b"RCPT TO:<>",
            b"RCPT TO:<bob>",
            b"DATA now",
            b"VRFY",
            b"MAIL FROM:<a@b.c> =x",
        ] {
            assert_eq!(
                Command::parse(bad).map_err(|e| e.code()),
                Err(501),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn leniencies_and_params() {
        let p = parse_line(b"MAIL FROM:alice@crepes.fr SIZE=1000 BODY=8BITMIME");
        assert_eq!(
            p.command,
            Ok(Command::Mail {
                reverse_path: "alice@crepes.fr".into(),
                params: vec![
                    Param {
                        keyword: "SIZE".into(),
                        value: Some("1000".into())
                    },
                    Param {
                        keyword: "BODY".into(),
                        value: Some("8BITMIME".into())
                    },
                ]
            })
        );
        assert!(p.syntax.notes[0].message.contains("angle brackets"));
        assert_eq!(p.syntax.params.len(), 2);
        assert_eq!(
            Command::parse(b"MAIL FROM:<>"),
            Ok(Command::Mail {
                reverse_path: String::new(),
                params: vec![]
            })
        );
        assert_eq!(
            Command::parse(b"RCPT TO:<Postmaster>").unwrap().verb(),
            "RCPT"
        );
        let p = parse_line(b"RCPT TO:<@relay.org:bob@hamburger.edu>");
        assert_eq!(
            p.command.unwrap(),
            Command::Rcpt {
                forward_path: "bob@hamburger.edu".into(),
                params: vec![]
            }
        );
        assert_eq!(parse_line(b"NOOP  ").syntax.notes.len(), 1);
    }

    fn domain() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,8}(\\.[a-z]{2,5}){1,2}"
    }

    fn address() -> impl Strategy<Value = String> {
        ("[a-z0-9][a-z0-9._+-]{0,8}[a-z0-9]", domain())
            .prop_filter("no double dots", |(l, _)| !l.contains(".."))
            .prop_map(|(l, d)| format!("{l}@{d}"))
    }

    fn param() -> impl Strategy<Value = Param> {
        ("[A-Z][A-Z0-9-]{0,6}", proptest::option::of("[!-<>-~]{1,8}"))
            .prop_map(|(keyword, value)| Param { keyword, value })
    }

    pub(crate) fn command() -> impl Strategy<Value = Command> {
        let text = "[!-~]([ -~]{0,20}[!-~])?";
        prop_oneof![
            domain().prop_map(Command::Helo),
            domain().prop_map(Command::Ehlo),
            (
                proptest::option::of(address()),
                proptest::collection::vec(param(), 0..3)
            )
                .prop_map(|(a, params)| Command::Mail {
                    reverse_path: a.unwrap_or_default(),
                    params
                }),
            (address(), proptest::collection::vec(param(), 0..3)).prop_map(
                |(forward_path, params)| Command::Rcpt {
                    forward_path,
                    params
                }
            ),
            Just(Command::Data),
            Just(Command::Rset),
            Just(Command::Quit),
            proptest::option::of(text).prop_map(Command::Noop),
            proptest::option::of(text).prop_map(Command::Help),
            text.prop_map(Command::Vrfy),
            text.prop_map(Command::Expn),
        ]
    }

    proptest! {
        #[test]
        fn commands_round_trip(c in command()) {
            let bytes = c.to_bytes();
            prop_assert!(bytes.ends_with(b"\r\n"));
            let parsed = parse_line(&bytes[..bytes.len() - 2]);
            prop_assert_eq!(parsed.command, Ok(c));
            prop_assert!(parsed.syntax.notes.is_empty(), "{:?}", parsed.syntax.notes);
        }

        #[test]
        fn any_line_parses_or_errs_within_bounds(line in proptest::collection::vec(any::<u8>(), 0..120)) {
            let p = parse_line(&line);
            if let Err(e) = &p.command {
                prop_assert!(e.span().end <= line.len());
            }
            for n in &p.syntax.notes {
                prop_assert!(n.span.end <= line.len());
            }
        }
    }
}
