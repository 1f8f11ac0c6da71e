//! POP3 commands (RFC 1939 §5-7, RFC 2449 §5): the typed [`Command`], its
//! parser with spans for the dissector, and its wire form.
//!
//! Keywords are case-insensitive (the course types `user bob`), arguments
//! are separated by one space; PASS takes the rest of the line, spaces
//! included (RFC 1939 §7). Message numbers start at 1.

use crate::dissect::{Diagnostic, Span};

/// One POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(String),
    Stat,
    List(Option<u32>),
    Retr(u32),
    Dele(u32),
    Noop,
    Rset,
    Quit,
    Top(u32, u32),
    Uidl(Option<u32>),
    Capa,
}

impl Command {
    /// The keyword, upper case.
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Quit => "QUIT",
            Command::Top(..) => "TOP",
            Command::Uidl(_) => "UIDL",
            Command::Capa => "CAPA",
        }
    }

    /// Whether a positive reply to this command is multi-line, ended by a
    /// line with a single dot (RFC 1939 §3).
    pub fn expects_multiline(&self) -> bool {
        matches!(
            self,
            Command::List(None)
                | Command::Uidl(None)
                | Command::Retr(_)
                | Command::Top(..)
                | Command::Capa
        )
    }

    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        parse_line(line).command
    }

    /// The wire form, with CR LF (upper-case keyword).
    pub fn to_bytes(&self) -> Vec<u8> {
        let k = self.keyword();
        let line = match self {
            Command::User(s) | Command::Pass(s) => format!("{k} {s}"),
            Command::List(Some(n))
            | Command::Uidl(Some(n))
            | Command::Retr(n)
            | Command::Dele(n) => {
                format!("{k} {n}")
            }
            Command::Top(n, lines) => format!("{k} {n} {lines}"),
            _ => k.to_string(),
        };
        format!("{line}\r\n").into_bytes()
    }
}

/// Why a line is not a POP3 command; servers answer `-ERR` either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    #[error("{keyword:?} is not a POP3 command")]
    Unknown { keyword: String, span: Span },
    #[error("{message}")]
    Syntax { message: String, span: Span },
}

impl CommandError {
    pub fn span(&self) -> Span {
        match self {
            CommandError::Unknown { span, .. } | CommandError::Syntax { span, .. } => *span,
        }
    }
}

/// Where the pieces of a command line are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Syntax {
    pub keyword: Span,
    pub arguments: Vec<Span>,
    pub notes: Vec<Diagnostic>,
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub command: Result<Command, CommandError>,
    pub syntax: Syntax,
}

/// Parses one command line (without its CR LF).
pub fn parse_line(line: &[u8]) -> ParsedCommand {
    let mut syntax = Syntax::default();
    let kw_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    syntax.keyword = Span::new(0, kw_end);
    let keyword = String::from_utf8_lossy(&line[..kw_end]).to_ascii_uppercase();
    let keyword_span = syntax.keyword;
    // PASS keeps the rest of the line as one argument.
    if keyword == "PASS" {
        let start = (kw_end + 1).min(line.len());
        let arg = Span::new(start, line.len());
        let command = if arg.is_empty() {
            Err(CommandError::Syntax {
                message: "PASS needs the password: PASS hungry".into(),
                span: Span::point(line.len()),
            })
        } else {
            syntax.arguments.push(arg);
            Ok(Command::Pass(
                String::from_utf8_lossy(arg.slice(line)).into_owned(),
            ))
        };
        return ParsedCommand { command, syntax };
    }
    let mut i = kw_end;
    while i < line.len() {
        let start = i + 1;
        let end = line[start.min(line.len())..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(line.len(), |p| start + p);
        let span = Span::new(start.min(line.len()), end);
        if span.is_empty() {
            syntax.notes.push(
                Diagnostic::warning(
                    Span::new(i, (i + 1).min(line.len())),
                    "arguments are separated by a single space",
                )
                .reference("RFC 1939 §3"),
            );
        } else {
            if span.len() > 40 {
                syntax.notes.push(
                    Diagnostic::warning(span, "a POP3 argument is at most 40 characters")
                        .reference("RFC 1939 §3"),
                );
            }
            syntax.arguments.push(span);
        }
        i = end;
    }
    let args: Vec<String> = syntax
        .arguments
        .iter()
        .map(|s| String::from_utf8_lossy(s.slice(line)).into_owned())
        .collect();
    let spans = syntax.arguments.clone();
    let number = |k: usize, what: &str| -> Result<u32, CommandError> {
        let text = &args[k];
        match text.parse::<u32>() {
            Ok(n) if n > 0 || what == "lines" => Ok(n),
            _ => Err(CommandError::Syntax {
                message: format!(
                    "{text:?} is not a valid {what}{}",
                    if what == "lines" {
                        " count"
                    } else {
                        " (messages are numbered from 1)"
                    }
                ),
                span: spans[k],
            }),
        }
    };
    let arity = |min: usize, max: usize, usage: &str| -> Result<(), CommandError> {
        if args.len() < min || args.len() > max {
            Err(CommandError::Syntax {
                message: format!("usage: {usage}"),
                span: if args.is_empty() {
                    Span::point(line.len())
                } else {
                    Span::new(spans[0].start, line.len())
                },
            })
        } else {
            Ok(())
        }
    };
    let command = (|| -> Result<Command, CommandError> {
        Ok(match keyword.as_str() {
            "USER" => {
                arity(1, 1, "USER name")?;
                Command::User(args[0].clone())
            }
            "STAT" | "NOOP" | "RSET" | "QUIT" | "CAPA" => {
                arity(0, 0, &format!("{keyword} (no argument)"))?;
                match keyword.as_str() {
                    "STAT" => Command::Stat,
                    "NOOP" => Command::Noop,
                    "RSET" => Command::Rset,
                    "QUIT" => Command::Quit,
                    _ => Command::Capa,
                }
            }
            "LIST" | "UIDL" => {
                arity(0, 1, &format!("{keyword} [message number]"))?;
                let n = if args.is_empty() {
                    None
                } else {
                    Some(number(0, "message number")?)
                };
                if keyword == "LIST" {
                    Command::List(n)
                } else {
                    Command::Uidl(n)
                }
            }
            "RETR" | "DELE" => {
                arity(1, 1, &format!("{keyword} message-number"))?;
                let n = number(0, "message number")?;
                if keyword == "RETR" {
                    Command::Retr(n)
                } else {
                    Command::Dele(n)
                }
            }
            "TOP" => {
                arity(2, 2, "TOP message-number lines")?;
                Command::Top(number(0, "message number")?, number(1, "lines")?)
            }
            _ => {
                return Err(CommandError::Unknown {
                    keyword: String::from_utf8_lossy(&line[..kw_end]).into_owned(),
                    span: keyword_span,
                });
            }
        })
    })();
    ParsedCommand { command, syntax }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_course_commands() {
        assert_eq!(Command::parse(b"user bob"), Ok(Command::User("bob".into())));
        assert_eq!(
            Command::parse(b"pass hungry"),
            Ok(Command::Pass("hungry".into()))
        );
        assert_eq!(Command::parse(b"list"), Ok(Command::List(None)));
        assert_eq!(Command::parse(b"retr 1"), Ok(Command::Retr(1)));
        assert_eq!(Command::parse(b"dele 2"), Ok(Command::Dele(2)));
        assert_eq!(Command::parse(b"quit"), Ok(Command::Quit));
        assert_eq!(
            Command::parse(b"PASS with spaces"),
            Ok(Command::Pass("with spaces".into()))
        );
        assert_eq!(Command::parse(b"TOP 1 0"), Ok(Command::Top(1, 0)));
        assert!(Command::Retr(1).expects_multiline());
        assert!(!Command::List(Some(1)).expects_multiline());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Command::parse(b"HELO x"),
            Err(CommandError::Unknown { .. })
        ));
        for bad in [
            &b"retr"[..],
            b"retr 0",
            b"retr one",
            b"dele 1 2",
            b"stat now",
            b"user",
            b"pass",
            b"top 1",
        ] {
            assert!(
                matches!(Command::parse(bad), Err(CommandError::Syntax { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let p = parse_line(b"retr  1");
        assert_eq!(p.command, Ok(Command::Retr(1)));
        assert_eq!(p.syntax.notes.len(), 1);
    }

    pub(crate) fn command() -> impl Strategy<Value = Command> {
        let word = "[!-~]{1,40}";
        let n = 1u32..100_000;
        prop_oneof![
            word.prop_map(Command::User),
            "[!-~]([ -~]{0,30}[!-~])?".prop_map(Command::Pass),
            Just(Command::Stat),
            proptest::option::of(n.clone()).prop_map(Command::List),
            n.clone().prop_map(Command::Retr),
            n.clone().prop_map(Command::Dele),
            Just(Command::Noop),
            Just(Command::Rset),
            Just(Command::Quit),
            (n.clone(), 0u32..1000).prop_map(|(a, b)| Command::Top(a, b)),
            proptest::option::of(n).prop_map(Command::Uidl),
            Just(Command::Capa),
        ]
    }

    proptest! {
        #[test]
        fn commands_round_trip(c in command()) {
            let bytes = c.to_bytes();
            let parsed = parse_line(&bytes[..bytes.len() - 2]);
            prop_assert_eq!(parsed.command, Ok(c));
            prop_assert!(parsed.syntax.notes.is_empty());
        }

        #[test]
        fn any_line_is_handled(line in proptest::collection::vec(any::<u8>(), 0..100)) {
            let p = parse_line(&line);
            if let Err(e) = &p.command {
                prop_assert!(e.span().end <= line.len());
            }
        }
    }
}
