//! FTP commands: a verb of three or four letters, optionally a space and an
//! argument, then CR LF (RFC 959 §5.3). [`Command::parse`] reads one line
//! (without its ending) into a typed command; [`Command::to_bytes`] writes it
//! back with CR LF. [`COMMANDS`] describes every verb the lab knows, for the
//! dissector, the server's HELP and the page.
//!
//! Verbs are case-insensitive (RFC 959 §5.3); arguments are kept as sent.

use crate::ftp::address::{
    ExtendedAddressError, HostPortError, eprt_argument, parse_extended_address, parse_host_port,
    port_argument,
};
use crate::ftp::session::TransferType;
use std::fmt;
use std::net::{SocketAddr, SocketAddrV4};

/// Whether a verb takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    Optional,
    Required,
}

/// What the lab knows about one verb.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    pub verb: &'static str,
    /// `RETR <SP> <pathname>`.
    pub syntax: &'static str,
    pub arg: Arg,
    /// One or two sentences for the student.
    pub help: &'static str,
    pub reference: &'static str,
    /// Refused with 530 before login.
    pub needs_login: bool,
    /// Moves bytes over a data connection.
    pub uses_data_connection: bool,
}

const fn info(
    verb: &'static str,
    syntax: &'static str,
    arg: Arg,
    help: &'static str,
    reference: &'static str,
    needs_login: bool,
    uses_data_connection: bool,
) -> CommandInfo {
    CommandInfo {
        verb,
        syntax,
        arg,
        help,
        reference,
        needs_login,
        uses_data_connection,
    }
}

/// Every verb the lab understands, in the order HELP lists them.
pub const COMMANDS: &[CommandInfo] = &[
    info(
        "USER",
        "USER <SP> <username>",
        Arg::Required,
        "Names the user who logs in; the server answers 331 when it wants a password next (230 when it does not).",
        "RFC 959 §4.1.1",
        false,
        false,
    ),
    info(
        "PASS",
        "PASS <SP> <password>",
        Arg::Optional,
        "Sends the password, right after USER. It crosses the network in clear text: anyone on the path can read it.",
        "RFC 959 §4.1.1",
        false,
        false,
    ),
    info(
        "ACCT",
        "ACCT <SP> <account>",
        Arg::Required,
        "Sends accounting information; almost no server needs it.",
        "RFC 959 §4.1.1",
        false,
        false,
    ),
    info(
        "CWD",
        "CWD <SP> <pathname>",
        Arg::Required,
        "Changes the current (working) directory: state the server keeps for this session.",
        "RFC 959 §4.1.1",
        true,
        false,
    ),
    info(
        "CDUP",
        "CDUP",
        Arg::None,
        "Changes to the parent of the current directory.",
        "RFC 959 §4.1.1",
        true,
        false,
    ),
    info(
        "PWD",
        "PWD",
        Arg::None,
        "Prints the current directory, answered with 257 and the path in quotes.",
        "RFC 959 §4.1.3",
        true,
        false,
    ),
    info(
        "TYPE",
        "TYPE <SP> <type-code>",
        Arg::Required,
        "Sets the transfer type: A (ASCII, line ends converted to CR LF on the wire) or I (image: the bytes exactly as stored).",
        "RFC 959 §3.1.1",
        false,
        false,
    ),
    info(
        "MODE",
        "MODE <SP> <mode-code>",
        Arg::Required,
        "Sets the transfer mode; S (stream: the data connection's end marks the end of the file) is the only one in use.",
        "RFC 959 §3.4",
        false,
        false,
    ),
    info(
        "STRU",
        "STRU <SP> <structure-code>",
        Arg::Required,
        "Sets the file structure; F (file: a plain sequence of bytes) is the only one in use.",
        "RFC 959 §3.1.2",
        false,
        false,
    ),
    info(
        "PASV",
        "PASV",
        Arg::None,
        "Asks the server to listen for the next data connection; 227 gives its address as h1,h2,h3,h4,p1,p2 and the client connects to it (passive mode).",
        "RFC 959 §4.1.2",
        true,
        false,
    ),
    info(
        "EPSV",
        "EPSV [<SP> <net-prt> | ALL]",
        Arg::Optional,
        "PASV for any address family: 229 gives only the port, the host is the control connection's.",
        "RFC 2428 §3",
        true,
        false,
    ),
    info(
        "PORT",
        "PORT <SP> <host-port>",
        Arg::Required,
        "Tells the server to connect to the client's address h1.h2.h3.h4, port p1*256+p2, for the next transfer (active mode).",
        "RFC 959 §4.1.2",
        true,
        false,
    ),
    info(
        "EPRT",
        "EPRT <SP> <d><net-prt><d><net-addr><d><tcp-port><d>",
        Arg::Required,
        "PORT for any address family: |1|127.0.0.1|40555| (1 = IPv4, 2 = IPv6).",
        "RFC 2428 §2",
        true,
        false,
    ),
    info(
        "LIST",
        "LIST [<SP> <pathname>]",
        Arg::Optional,
        "Sends a listing of the current (or named) directory over a new data connection, in a format meant for people (usually ls -l).",
        "RFC 959 §4.1.3",
        true,
        true,
    ),
    info(
        "NLST",
        "NLST [<SP> <pathname>]",
        Arg::Optional,
        "Sends only the names of the files, one per line, over a new data connection.",
        "RFC 959 §4.1.3",
        true,
        true,
    ),
    info(
        "RETR",
        "RETR <SP> <pathname>",
        Arg::Required,
        "Retrieves (downloads) a file: the server sends it over a new data connection, then closes that connection.",
        "RFC 959 §4.1.3",
        true,
        true,
    ),
    info(
        "STOR",
        "STOR <SP> <pathname>",
        Arg::Required,
        "Stores (uploads) a file: the client sends it over a new data connection and closes it to mark the end.",
        "RFC 959 §4.1.3",
        true,
        true,
    ),
    info(
        "APPE",
        "APPE <SP> <pathname>",
        Arg::Required,
        "Like STOR, but appends to the file if it exists.",
        "RFC 959 §4.1.3",
        true,
        true,
    ),
    info(
        "DELE",
        "DELE <SP> <pathname>",
        Arg::Required,
        "Deletes a file.",
        "RFC 959 §4.1.3",
        true,
        false,
    ),
    info(
        "MKD",
        "MKD <SP> <pathname>",
        Arg::Required,
        "Makes a directory; 257 answers with its path.",
        "RFC 959 §4.1.3",
        true,
        false,
    ),
    info(
        "RMD",
        "RMD <SP> <pathname>",
        Arg::Required,
        "Removes an (empty) directory.",
        "RFC 959 §4.1.3",
        true,
        false,
    ),
    info(
        "RNFR",
        "RNFR <SP> <pathname>",
        Arg::Required,
        "Names the file to rename; 350 asks for RNTO next.",
        "RFC 959 §4.1.3",
        true,
        false,
    ),
    info(
        "RNTO",
        "RNTO <SP> <pathname>",
        Arg::Required,
        "Gives the new name, right after RNFR.",
        "RFC 959 §4.1.3",
        true,
        false,
    ),
    info(
        "SIZE",
        "SIZE <SP> <pathname>",
        Arg::Required,
        "Asks for a file's size in bytes as it would be transferred in the current type (213).",
        "RFC 3659 §4",
        true,
        false,
    ),
    info(
        "MDTM",
        "MDTM <SP> <pathname>",
        Arg::Required,
        "Asks for a file's modification time, answered as 213 YYYYMMDDHHMMSS in UTC.",
        "RFC 3659 §3",
        true,
        false,
    ),
    info(
        "SYST",
        "SYST",
        Arg::None,
        "Asks for the server's operating system type (215 UNIX Type: L8).",
        "RFC 959 §4.1.3",
        false,
        false,
    ),
    info(
        "FEAT",
        "FEAT",
        Arg::None,
        "Lists the extensions the server supports, one per line of a multi-line 211 reply.",
        "RFC 2389 §3",
        false,
        false,
    ),
    info(
        "OPTS",
        "OPTS <SP> <command> [<SP> <options>]",
        Arg::Required,
        "Sets options of a command, as OPTS UTF8 ON.",
        "RFC 2389 §4",
        false,
        false,
    ),
    info(
        "STAT",
        "STAT [<SP> <pathname>]",
        Arg::Optional,
        "Without argument: the session's status over the control connection (211).",
        "RFC 959 §4.1.3",
        false,
        false,
    ),
    info(
        "NOOP",
        "NOOP",
        Arg::None,
        "Does nothing but get a 200: checks that the control connection is alive.",
        "RFC 959 §4.1.3",
        false,
        false,
    ),
    info(
        "HELP",
        "HELP [<SP> <string>]",
        Arg::Optional,
        "Lists the commands the server understands (214).",
        "RFC 959 §4.1.3",
        false,
        false,
    ),
    info(
        "ABOR",
        "ABOR",
        Arg::None,
        "Aborts the transfer in progress: 426 for the transfer, then 226 for ABOR.",
        "RFC 959 §4.1.3",
        false,
        false,
    ),
    info(
        "QUIT",
        "QUIT",
        Arg::None,
        "Ends the session: 221, then the server closes the control connection.",
        "RFC 959 §4.1.1",
        false,
        false,
    ),
];

/// What the lab knows about `verb` (any case).
pub fn command_info(verb: &str) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.verb.eq_ignore_ascii_case(verb))
}

/// One typed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(String),
    Acct(String),
    Cwd(String),
    Cdup,
    Pwd,
    Type(TransferType),
    Mode(String),
    Stru(String),
    Pasv,
    /// `EPSV`, `EPSV 1`, `EPSV ALL`.
    Epsv(Option<String>),
    Port(SocketAddrV4),
    Eprt(SocketAddr),
    List(Option<String>),
    Nlst(Option<String>),
    Retr(String),
    Stor(String),
    Appe(String),
    Dele(String),
    Mkd(String),
    Rmd(String),
    Rnfr(String),
    Rnto(String),
    Size(String),
    Mdtm(String),
    Syst,
    Feat,
    Opts(String),
    Stat(Option<String>),
    Noop,
    Help(Option<String>),
    Abor,
    Quit,
    /// A verb the lab does not know, kept so it can be written back.
    Other {
        verb: String,
        argument: Option<String>,
    },
}

/// Why a line is not a valid command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    #[error("empty command line")]
    Empty,
    #[error("a command starts with a verb of letters, not {0:?}")]
    BadVerb(String),
    #[error("{verb} needs an argument: {syntax}")]
    MissingArgument {
        verb: &'static str,
        syntax: &'static str,
    },
    #[error("{verb} takes no argument")]
    UnexpectedArgument { verb: &'static str },
    #[error("TYPE {0:?} is not a type: use A (ASCII) or I (image, binary)")]
    BadType(String),
    #[error("bad PORT argument: {0}")]
    BadPort(#[from] HostPortError),
    #[error("bad EPRT argument: {0}")]
    BadEprt(#[from] ExtendedAddressError),
}

/// A line split into its verb and argument, with byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub verb: &'a [u8],
    /// The argument after the first space, if there is a space.
    pub argument: Option<&'a [u8]>,
    /// Where the argument starts in the line.
    pub argument_start: usize,
}

/// Splits a command line (without its ending) at the first space.
pub fn split(line: &[u8]) -> Parts<'_> {
    match line.iter().position(|&b| b == b' ') {
        Some(sp) => Parts {
            verb: &line[..sp],
            argument: Some(&line[sp + 1..]),
            argument_start: sp + 1,
        },
        None => Parts {
            verb: line,
            argument: None,
            argument_start: line.len(),
        },
    }
}

impl Command {
    /// Parses one command line, without its CR LF.
    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        if line.is_empty() {
            return Err(CommandError::Empty);
        }
        let parts = split(line);
        if parts.verb.is_empty() || !parts.verb.iter().all(u8::is_ascii_alphabetic) {
            return Err(CommandError::BadVerb(
                String::from_utf8_lossy(parts.verb).into_owned(),
            ));
        }
        let verb = String::from_utf8_lossy(parts.verb).to_ascii_uppercase();
        let argument = parts
            .argument
            .map(|a| String::from_utf8_lossy(a).into_owned());
        let Some(info) = command_info(&verb) else {
            return Ok(Command::Other { verb, argument });
        };
        let raw_arg = parts.argument.unwrap_or(b"");
        // An empty argument after the space counts as none.
        let argument = argument.filter(|a| !a.is_empty());
        let required = || {
            argument.clone().ok_or(CommandError::MissingArgument {
                verb: info.verb,
                syntax: info.syntax,
            })
        };
        if info.arg == Arg::None && argument.as_deref().is_some_and(|a| !a.trim().is_empty()) {
            return Err(CommandError::UnexpectedArgument { verb: info.verb });
        }
        Ok(match info.verb {
            "USER" => Command::User(required()?),
            "PASS" => Command::Pass(argument.unwrap_or_default()),
            "ACCT" => Command::Acct(required()?),
            "CWD" => Command::Cwd(required()?),
            "CDUP" => Command::Cdup,
            "PWD" => Command::Pwd,
            "TYPE" => Command::Type(TransferType::parse_argument(&required()?)?),
            "MODE" => Command::Mode(required()?),
            "STRU" => Command::Stru(required()?),
            "PASV" => Command::Pasv,
            "EPSV" => Command::Epsv(argument),
            "PORT" => {
                required()?;
                Command::Port(parse_host_port(raw_arg)?.addr())
            }
            "EPRT" => {
                required()?;
                Command::Eprt(parse_extended_address(raw_arg)?.addr())
            }
            "LIST" => Command::List(argument),
            "NLST" => Command::Nlst(argument),
            "RETR" => Command::Retr(required()?),
            "STOR" => Command::Stor(required()?),
            "APPE" => Command::Appe(required()?),
            "DELE" => Command::Dele(required()?),
            "MKD" => Command::Mkd(required()?),
            "RMD" => Command::Rmd(required()?),
            "RNFR" => Command::Rnfr(required()?),
            "RNTO" => Command::Rnto(required()?),
            "SIZE" => Command::Size(required()?),
            "MDTM" => Command::Mdtm(required()?),
            "SYST" => Command::Syst,
            "FEAT" => Command::Feat,
            "OPTS" => Command::Opts(required()?),
            "STAT" => Command::Stat(argument),
            "NOOP" => Command::Noop,
            "HELP" => Command::Help(argument),
            "ABOR" => Command::Abor,
            "QUIT" => Command::Quit,
            _ => Command::Other { verb, argument },
        })
    }

    /// The verb, upper case.
    pub fn verb(&self) -> &str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Acct(_) => "ACCT",
            Command::Cwd(_) => "CWD",
            Command::Cdup => "CDUP",
            Command::Pwd => "PWD",
            Command::Type(_) => "TYPE",
            Command::Mode(_) => "MODE",
            Command::Stru(_) => "STRU",
            Command::Pasv => "PASV",
            Command::Epsv(_) => "EPSV",
            Command::Port(_) => "PORT",
            Command::Eprt(_) => "EPRT",
            Command::List(_) => "LIST",
            Command::Nlst(_) => "NLST",
            Command::Retr(_) => "RETR",
            Command::Stor(_) => "STOR",
            Command::Appe(_) => "APPE",
            Command::Dele(_) => "DELE",
            Command::Mkd(_) => "MKD",
            Command::Rmd(_) => "RMD",
            Command::Rnfr(_) => "RNFR",
            Command::Rnto(_) => "RNTO",
            Command::Size(_) => "SIZE",
            Command::Mdtm(_) => "MDTM",
            Command::Syst => "SYST",
            Command::Feat => "FEAT",
            Command::Opts(_) => "OPTS",
            Command::Stat(_) => "STAT",
            Command::Noop => "NOOP",
            Command::Help(_) => "HELP",
            Command::Abor => "ABOR",
            Command::Quit => "QUIT",
            Command::Other { verb, .. } => verb,
        }
    }

    /// The argument as it is written on the wire, if any.
    pub fn argument(&self) -> Option<String> {
        match self {
            Command::User(a)
            | Command::Pass(a)
            | Command::Acct(a)
            | Command::Cwd(a)
            | Command::Mode(a)
            | Command::Stru(a)
            | Command::Retr(a)
            | Command::Stor(a)
            | Command::Appe(a)
            | Command::Dele(a)
            | Command::Mkd(a)
            | Command::Rmd(a)
            | Command::Rnfr(a)
            | Command::Rnto(a)
            | Command::Size(a)
            | Command::Mdtm(a)
            | Command::Opts(a) => Some(a.clone()),
            Command::Epsv(a)
            | Command::List(a)
            | Command::Nlst(a)
            | Command::Stat(a)
            | Command::Help(a)
            | Command::Other { argument: a, .. } => a.clone(),
            Command::Type(t) => Some(t.code().to_string()),
            Command::Port(addr) => Some(port_argument(*addr)),
            Command::Eprt(addr) => Some(eprt_argument(*addr)),
            Command::Cdup
            | Command::Pwd
            | Command::Pasv
            | Command::Syst
            | Command::Feat
            | Command::Noop
            | Command::Abor
            | Command::Quit => None,
        }
    }

    /// The line without its CR LF.
    pub fn to_line(&self) -> String {
        match self.argument() {
            Some(arg) if !(arg.is_empty() && matches!(self, Command::Pass(_))) => {
                format!("{} {arg}", self.verb())
            }
            Some(_) => format!("{} ", self.verb()),
            None => self.verb().to_string(),
        }
    }

    /// The line with CR LF, ready to send.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut line = self.to_line().into_bytes();
        line.extend_from_slice(b"\r\n");
        line
    }

    /// What the lab knows about this verb, if it is a known one.
    pub fn info(&self) -> Option<&'static CommandInfo> {
        command_info(self.verb())
    }

    /// Whether the reply to this command may be preceded by a 1xx reply and
    /// a data transfer.
    pub fn uses_data_connection(&self) -> bool {
        self.info().is_some_and(|i| i.uses_data_connection)
    }

    /// The line as it may be shown or logged: the password of PASS hidden.
    pub fn redacted(&self) -> String {
        match self {
            Command::Pass(p) if !p.is_empty() => "PASS ****".to_string(),
            other => other.to_line(),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_course_commands() {
        assert_eq!(
            Command::parse(b"USER anonymous").unwrap(),
            Command::User("anonymous".into())
        );
        assert_eq!(Command::parse(b"list").unwrap(), Command::List(None));
        assert_eq!(
            Command::parse(b"RETR notes.txt").unwrap(),
            Command::Retr("notes.txt".into())
        );
        assert_eq!(
            Command::parse(b"STOR my file.txt").unwrap(),
            Command::Stor("my file.txt".into())
        );
        assert_eq!(
            Command::parse(b"PORT 127,0,0,1,158,107").unwrap(),
            Command::Port("127.0.0.1:40555".parse().unwrap())
        );
        assert_eq!(
            Command::parse(b"EPRT |1|127.0.0.1|40555|").unwrap(),
            Command::Eprt("127.0.0.1:40555".parse().unwrap())
        );
        assert_eq!(
            Command::parse(b"TYPE I").unwrap(),
            Command::Type(TransferType::Image)
        );
        assert_eq!(
            Command::parse(b"XYZZY plugh").unwrap(),
            Command::Other {
                verb: "XYZZY".into(),
                argument: Some("plugh".into())
            }
        );
    }

    #[test]
    fn errors_name_the_rule() {
        assert_eq!(Command::parse(b""), Err(CommandError::Empty));
        assert!(matches!(
            Command::parse(b"RETR"),
            Err(CommandError::MissingArgument { verb: "RETR", .. })
        ));
        assert!(matches!(
            Command::parse(b"RETR "),
            Err(CommandError::MissingArgument { .. })
        ));
        assert_eq!(
            Command::parse(b"PWD now"),
            Err(CommandError::UnexpectedArgument { verb: "PWD" })
        );
        assert!(matches!(
            Command::parse(b"PORT 1,2,3"),
            Err(CommandError::BadPort(_))
        ));
        assert!(matches!(
            Command::parse(b"TYPE X"),
            Err(CommandError::BadType(_))
        ));
        assert!(matches!(
            Command::parse(b"R3TR x"),
            Err(CommandError::BadVerb(_))
        ));
    }

    #[test]
    fn pass_is_redacted_and_every_verb_has_a_round_trip() {
        assert_eq!(Command::Pass("hungry".into()).redacted(), "PASS ****");
        assert_eq!(Command::Pass(String::new()).to_line(), "PASS ");
        for info in COMMANDS {
            let line = match info.arg {
                Arg::None => info.verb.to_string(),
                _ if info.verb == "PORT" => "PORT 10,0,0,1,4,1".into(),
                _ if info.verb == "EPRT" => "EPRT |1|10.0.0.1|1025|".into(),
                _ if info.verb == "TYPE" => "TYPE A".into(),
                _ => format!("{} x", info.verb),
            };
            let cmd = Command::parse(line.as_bytes()).unwrap();
            assert_eq!(cmd.verb(), info.verb);
            assert_eq!(cmd.to_line(), line);
        }
    }

    proptest! {
        #[test]
        fn commands_round_trip(
            verb in proptest::sample::select(COMMANDS.iter().map(|c| c.verb).collect::<Vec<_>>()),
            arg in "[!-~][ -~]{0,20}",
            lower in any::<bool>(),
        ) {
            let verb = if lower { verb.to_ascii_lowercase() } else { verb.to_string() };
            let line = format!("{verb} {arg}");
            if let Ok(cmd) = Command::parse(line.as_bytes()) {
                let again = Command::parse(&cmd.to_bytes()[..cmd.to_bytes().len() - 2]).unwrap();
                prop_assert_eq!(again, cmd);
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Command::parse(&bytes);
        }
    }
}
