//! The state an FTP session keeps, in the course's words: who is logged in
//! (if anyone), the current directory, the transfer type and the pending data
//! connection. The server engine owns the real state; the client engine
//! keeps its own view of it, learned from the replies, so the page can show
//! it next to the transcript.

use crate::ftp::command::CommandError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;

/// TYPE (RFC 959 §3.1.1.1, §3.1.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TransferType {
    /// `A`: text; line ends travel as CR LF whatever the hosts use. The
    /// default of RFC 959.
    #[default]
    Ascii,
    /// `I`: binary, the bytes exactly as stored (also `L 8`).
    Image,
}

impl TransferType {
    /// The code written after TYPE.
    pub fn code(&self) -> &'static str {
        match self {
            TransferType::Ascii => "A",
            TransferType::Image => "I",
        }
    }

    /// Reads TYPE's argument: `A`, `A N`, `I`, `L 8` (any case).
    pub fn parse_argument(arg: &str) -> Result<TransferType, CommandError> {
        let words: Vec<String> = arg
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["A"] | ["A", "N"] => Ok(TransferType::Ascii),
            ["I"] | ["L", "8"] => Ok(TransferType::Image),
            _ => Err(CommandError::BadType(arg.to_string())),
        }
    }
}

impl fmt::Display for TransferType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferType::Ascii => f.write_str("ASCII (A)"),
            TransferType::Image => f.write_str("binary (I)"),
        }
    }
}

/// Where the login stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LoginState {
    #[default]
    NotLoggedIn,
    /// USER was accepted (331); PASS must come next.
    NeedPassword {
        user: String,
    },
    LoggedIn {
        user: String,
        anonymous: bool,
    },
}

impl LoginState {
    pub fn is_logged_in(&self) -> bool {
        matches!(self, LoginState::LoggedIn { .. })
    }

    pub fn user(&self) -> Option<&str> {
        match self {
            LoginState::NotLoggedIn => None,
            LoginState::NeedPassword { user } | LoginState::LoggedIn { user, .. } => Some(user),
        }
    }
}

impl fmt::Display for LoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginState::NotLoggedIn => f.write_str("not logged in"),
            LoginState::NeedPassword { user } => write!(f, "user {user}, waiting for PASS"),
            LoginState::LoggedIn {
                user,
                anonymous: true,
            } => write!(f, "logged in as {user} (anonymous, read-only)"),
            LoginState::LoggedIn { user, .. } => write!(f, "logged in as {user}"),
        }
    }
}

/// The data connection prepared for the next transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DataSetup {
    /// Neither PASV/EPSV nor PORT/EPRT since the last transfer: a transfer
    /// command now gets 425.
    #[default]
    None,
    /// PASV/EPSV: the server listens at `addr`, the client connects.
    Passive { addr: SocketAddr, extended: bool },
    /// PORT/EPRT: the server will connect to the client at `addr`.
    Active { addr: SocketAddr, extended: bool },
}

impl DataSetup {
    pub fn is_some(&self) -> bool {
        !matches!(self, DataSetup::None)
    }
}

impl fmt::Display for DataSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSetup::None => f.write_str("none (send PASV or PORT before a transfer)"),
            DataSetup::Passive { addr, .. } => {
                write!(
                    f,
                    "passive: the server listens on {addr}, the client connects"
                )
            }
            DataSetup::Active { addr, .. } => {
                write!(f, "active: the server will connect to {addr}")
            }
        }
    }
}

/// What a data connection carries, so its bytes can be shown for what they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataKind {
    /// LIST output: a listing for people (dissect with `ftp-list`).
    Listing,
    /// NLST output: names, one per line.
    NameList,
    /// RETR: a file from the server.
    Download { path: String },
    /// STOR or APPE: a file to the server.
    Upload { path: String, append: bool },
}

impl DataKind {
    /// The command that opened the transfer: `LIST`, `NLST`, `RETR`,
    /// `STOR` or `APPE`.
    pub fn verb(&self) -> &'static str {
        match self {
            DataKind::Listing => "LIST",
            DataKind::NameList => "NLST",
            DataKind::Download { .. } => "RETR",
            DataKind::Upload { append: false, .. } => "STOR",
            DataKind::Upload { append: true, .. } => "APPE",
        }
    }

    /// The file transferred, for RETR, STOR and APPE.
    pub fn path(&self) -> Option<&str> {
        match self {
            DataKind::Listing | DataKind::NameList => None,
            DataKind::Download { path } | DataKind::Upload { path, .. } => Some(path),
        }
    }

    /// The command line as the client wrote it, without CR LF:
    /// `RETR /pub/hello.txt`, `LIST`.
    pub fn command(&self) -> String {
        match self.path() {
            Some(path) => format!("{} {path}", self.verb()),
            None => self.verb().to_string(),
        }
    }
}

/// The session state the course names, as one value to show.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionState {
    pub login: LoginState,
    /// The current directory, as the server would print it with PWD.
    pub cwd: String,
    pub transfer_type: TransferType,
    pub data: DataSetup,
    /// The transfer in progress, if any.
    pub transfer: Option<DataKind>,
    /// RNFR was accepted and RNTO must come next.
    pub rename_from: Option<String>,
}

impl SessionState {
    pub fn new() -> Self {
        SessionState {
            cwd: "/".into(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_names_its_command() {
        assert_eq!(DataKind::Listing.command(), "LIST");
        assert_eq!(DataKind::NameList.command(), "NLST");
        let path = "/pub/hello.txt".to_string();
        let retr = DataKind::Download { path: path.clone() };
        assert_eq!(retr.command(), "RETR /pub/hello.txt");
        let stor = DataKind::Upload {
            path: path.clone(),
            append: false,
        };
        assert_eq!(stor.command(), "STOR /pub/hello.txt");
        let appe = DataKind::Upload { path, append: true };
        assert_eq!((appe.verb(), appe.path()), ("APPE", Some("/pub/hello.txt")));
    }

    #[test]
    fn type_arguments() {
        assert_eq!(
            TransferType::parse_argument("a n").unwrap(),
            TransferType::Ascii
        );
        assert_eq!(
            TransferType::parse_argument("L 8").unwrap(),
            TransferType::Image
        );
        assert!(TransferType::parse_argument("E").is_err());
        assert!(TransferType::parse_argument("A T").is_err());
        assert_eq!(TransferType::default(), TransferType::Ascii);
    }

    #[test]
    fn states_read_as_sentences() {
        let s = LoginState::LoggedIn {
            user: "anonymous".into(),
            anonymous: true,
        };
        assert_eq!(
            s.to_string(),
            "logged in as anonymous (anonymous, read-only)"
        );
        assert!(s.is_logged_in());
        assert_eq!(SessionState::new().cwd, "/");
        let d = DataSetup::Active {
            addr: "127.0.0.1:40555".parse().unwrap(),
            extended: false,
        };
        assert_eq!(
            d.to_string(),
            "active: the server will connect to 127.0.0.1:40555"
        );
    }
}
