//! The FTP page's state, as a plain-Rust reducer (unit-tested natively):
//! the control connection's [`Session`] and one [`DataChannel`] per data
//! connection, each with its own session, what it was opened for (a port
//! from a 227/229 reply, or the relay's listening socket for PORT), and
//! what the transfer command said it carries.
//!
//! The page's driver ([`super::driver`]) dispatches [`FtpAction`]s as the
//! links report, the page its [`Bench`] actions (the editor, the replay,
//! the file for STOR); the view ([`super::view`]) renders the state.

use super::bench::{Bench, BenchAction};
use crate::session::{Session, SessionAction};
use std::net::{SocketAddr, SocketAddrV4};
use std::rc::Rc;
use wirelab_shared::ftp::address::port_argument;
use wirelab_shared::ftp::session::{DataKind, TransferType};
use wirelab_shared::relay_protocol::RelayMessage;
use yew::Reducible;

/// How a data connection came to be.
#[derive(Debug, Clone, PartialEq)]
pub enum DataOrigin {
    /// PASV (227) or EPSV (229): the server listens on `port` and the page
    /// connects to it through the relay.
    Passive {
        port: u16,
        /// `p1*256+p2 = port`, for a 227.
        arithmetic: Option<String>,
    },
    /// PORT: the relay listens at `addr` for the page, and the server
    /// connects to it.
    Active { addr: String },
}

impl DataOrigin {
    /// What the page connects to, for the data session's first event.
    pub fn target_label(&self) -> String {
        match self {
            DataOrigin::Passive { port, .. } => format!("the server's data port {port}"),
            DataOrigin::Active { addr } => {
                format!("the relay's listening socket {addr} (waiting for the server to connect)")
            }
        }
    }

    /// One sentence on where this connection came from.
    pub fn explain(&self) -> String {
        match self {
            DataOrigin::Passive {
                port,
                arithmetic: Some(arithmetic),
            } => format!(
                "passive mode: the 227 reply named port {arithmetic}; the page connects to {port}"
            ),
            DataOrigin::Passive {
                port,
                arithmetic: None,
            } => format!("passive mode: the 229 reply named port {port}; the page connects to it"),
            DataOrigin::Active { addr } => format!(
                "active mode: the relay listens on {addr} for the page and the server connects to it"
            ),
        }
    }
}

/// One data connection and what crossed it.
#[derive(Debug, Clone, PartialEq)]
pub struct DataChannel {
    /// 1, 2, 3... in the order they were opened.
    pub number: usize,
    pub origin: DataOrigin,
    /// What the transfer command (its 125/150 reply) said this carries.
    pub kind: Option<DataKind>,
    /// The transfer type in force when the transfer started.
    pub transfer_type: TransferType,
    pub session: Session,
    /// The name of the local file the page sent on it (uploads).
    pub upload_name: Option<String>,
}

impl DataChannel {
    /// A short name for lanes and rows: "data #2 (RETR /pub/hello.txt)".
    pub fn label(&self) -> String {
        match &self.kind {
            None => format!("data #{}", self.number),
            Some(kind) => format!("data #{} ({})", self.number, kind.command()),
        }
    }

    /// The file name a download is saved under: the last part of its path.
    pub fn file_name(&self) -> Option<String> {
        match &self.kind {
            Some(DataKind::Download { path }) => {
                let name = path.rsplit('/').next().unwrap_or_default();
                Some(if name.is_empty() { "download" } else { name }.to_string())
            }
            _ => None,
        }
    }
}

/// The relay's listening socket for active mode, and the PORT that names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenOffer {
    pub addr: String,
    /// `PORT 127,0,0,1,158,107`, when `addr` is IPv4.
    pub port_line: Option<String>,
    /// How the six numbers come from the address.
    pub explanation: String,
    /// The data channel waiting on it.
    pub channel: usize,
}

impl ListenOffer {
    pub fn new(addr: &str, channel: usize) -> ListenOffer {
        match addr.parse::<SocketAddrV4>() {
            Ok(v4) => {
                let argument = port_argument(v4);
                let port = v4.port();
                let (p1, p2) = (port / 256, port % 256);
                ListenOffer {
                    addr: addr.to_string(),
                    port_line: Some(format!("PORT {argument}")),
                    explanation: format!(
                        "The relay listens on {addr} for you. PORT writes that address as six \
                         numbers: the four bytes of {ip}, then the port split in two bytes, \
                         p1 = {port} / 256 = {p1} and p2 = {port} mod 256 = {p2} \
                         (check: {p1}*256+{p2} = {port}). So: PORT {argument}",
                        ip = v4.ip(),
                    ),
                    channel,
                }
            }
            Err(_) => ListenOffer {
                addr: addr.to_string(),
                port_line: None,
                explanation: format!(
                    "The relay listens on {addr}: PORT cannot write this address (IPv4 only); \
                     use EPRT |2|address|port|"
                ),
                channel,
            },
        }
    }
}

/// The whole page's connections.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FtpLab {
    pub control: Session,
    /// The control connection's (server, local) addresses, from `connected`.
    pub addresses: Option<(SocketAddr, SocketAddr)>,
    pub channels: Vec<DataChannel>,
    /// The latest listening socket the relay opened (active mode).
    pub listening: Option<ListenOffer>,
    /// The workbench: editor, replay, selection, file for STOR.
    pub bench: Bench,
}

/// What can happen on the page's connections. `at` is the page clock.
#[derive(Debug, Clone, PartialEq)]
pub enum FtpAction {
    /// A new control connection: forget every connection (the bench
    /// stays).
    Reset,
    Control(SessionAction),
    /// A data connection is being opened.
    OpenData {
        number: usize,
        origin: DataOrigin,
        at: f64,
    },
    /// Something happened on data connection `number`.
    Data {
        number: usize,
        action: SessionAction,
    },
    /// A transfer command's 125/150 reply said what `number` carries.
    Claim {
        number: usize,
        kind: DataKind,
        transfer_type: TransferType,
        upload_name: Option<String>,
    },
    /// The relay listens for active mode; `channel` waits on it. Its
    /// PORT line goes into the editor.
    Listening {
        addr: String,
        channel: usize,
    },
    Bench(BenchAction),
}

impl FtpLab {
    pub fn channel(&self, number: usize) -> Option<&DataChannel> {
        self.channels.iter().find(|c| c.number == number)
    }

    /// Applies one action (the reducer, without the `Rc`).
    pub fn apply(&mut self, action: FtpAction) {
        match action {
            FtpAction::Reset => {
                *self = FtpLab {
                    bench: std::mem::take(&mut self.bench),
                    ..FtpLab::default()
                }
            }
            FtpAction::Control(action) => {
                if let SessionAction::Relay {
                    message: RelayMessage::Connected { peer, local, .. },
                    ..
                } = &action
                {
                    self.addresses = peer.parse().ok().zip(local.parse().ok());
                }
                self.control.apply(action);
            }
            FtpAction::OpenData { number, origin, at } => {
                let mut session = Session::default();
                session.apply(SessionAction::Connecting {
                    target: origin.target_label(),
                    at,
                });
                self.channels.push(DataChannel {
                    number,
                    origin,
                    kind: None,
                    transfer_type: TransferType::default(),
                    session,
                    upload_name: None,
                });
            }
            FtpAction::Data { number, action } => {
                if let Some(c) = self.channels.iter_mut().find(|c| c.number == number) {
                    c.session.apply(action);
                }
            }
            FtpAction::Claim {
                number,
                kind,
                transfer_type,
                upload_name,
            } => {
                if let Some(c) = self.channels.iter_mut().find(|c| c.number == number) {
                    c.kind = Some(kind);
                    c.transfer_type = transfer_type;
                    c.upload_name = upload_name;
                }
            }
            FtpAction::Listening { addr, channel } => {
                let offer = ListenOffer::new(&addr, channel);
                if let Some(line) = &offer.port_line {
                    self.bench.draft = line.clone();
                }
                self.listening = Some(offer);
            }
            FtpAction::Bench(action) => self.apply_bench(action),
        }
    }
}

impl Reducible for FtpLab {
    type Action = FtpAction;

    fn reduce(self: Rc<Self>, action: FtpAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::relay_protocol::{ClosedBy, Transport};

    fn connected(peer: &str, local: &str) -> RelayMessage {
        RelayMessage::Connected {
            transport: Transport::Tcp,
            target: Some("ftp".into()),
            peer: peer.into(),
            local: local.into(),
            connect_ms: 0.1,
            t_ms: None,
            recording: None,
            started_us: None,
            at_us: None,
        }
    }

    #[test]
    fn control_and_data_sessions_are_kept_apart() {
        let mut lab = FtpLab::default();
        lab.apply(FtpAction::Control(SessionAction::Connecting {
            target: "ftp".into(),
            at: 100.0,
        }));
        lab.apply(FtpAction::Control(SessionAction::Relay {
            message: connected("127.0.0.1:2121", "127.0.0.1:50000"),
            at: 101.0,
        }));
        assert_eq!(
            lab.addresses,
            Some((
                "127.0.0.1:2121".parse().unwrap(),
                "127.0.0.1:50000".parse().unwrap()
            ))
        );
        lab.apply(FtpAction::OpenData {
            number: 1,
            origin: DataOrigin::Passive {
                port: 21001,
                arithmetic: Some("82*256+9 = 21001".into()),
            },
            at: 150.0,
        });
        lab.apply(FtpAction::Data {
            number: 1,
            action: SessionAction::Relay {
                message: connected("127.0.0.1:21001", "127.0.0.1:50001"),
                at: 151.0,
            },
        });
        lab.apply(FtpAction::Claim {
            number: 1,
            kind: DataKind::Listing,
            transfer_type: TransferType::Ascii,
            upload_name: None,
        });
        lab.apply(FtpAction::Data {
            number: 1,
            action: SessionAction::Received {
                bytes: b"drwxr-xr-x 1 ftp ftp 0 Jan 01 00:00 pub\r\n".to_vec(),
                at: 152.0,
            },
        });
        lab.apply(FtpAction::Data {
            number: 1,
            action: SessionAction::Relay {
                message: RelayMessage::Closed {
                    by: ClosedBy::Peer,
                    reason: "FIN".into(),
                    t_ms: None,
                    at_us: None,
                },
                at: 153.0,
            },
        });
        let c = lab.channel(1).unwrap().clone();
        assert_eq!(c.label(), "data #1 (LIST)");
        assert_eq!(c.session.state.key(), "closed");
        assert_eq!(c.session.epoch(), 150.0);
        // The control connection is still open.
        assert!(lab.control.state.can_send());
        // Data for a channel that does not exist is ignored.
        lab.apply(FtpAction::Data {
            number: 9,
            action: SessionAction::Disconnected { at: 1.0 },
        });
        assert_eq!(lab.channels.len(), 1);
        assert!(c.origin.explain().contains("82*256+9 = 21001"));
        lab.apply(FtpAction::Reset);
        assert!(lab.channels.is_empty() && lab.addresses.is_none());
    }

    #[test]
    fn the_port_line_is_computed_and_explained() {
        let offer = ListenOffer::new("127.0.0.1:40555", 2);
        assert_eq!(offer.port_line.as_deref(), Some("PORT 127,0,0,1,158,107"));
        assert!(
            offer.explanation.contains("158*256+107 = 40555"),
            "{}",
            offer.explanation
        );
        let offer = ListenOffer::new("[::1]:40555", 2);
        assert!(offer.port_line.is_none());
        assert!(offer.explanation.contains("EPRT"));
    }

    #[test]
    fn downloads_are_saved_under_their_file_name() {
        let mut c = DataChannel {
            number: 3,
            origin: DataOrigin::Active {
                addr: "127.0.0.1:40555".into(),
            },
            kind: Some(DataKind::Download {
                path: "/pub/hello.txt".into(),
            }),
            transfer_type: TransferType::Image,
            session: Session::default(),
            upload_name: None,
        };
        assert_eq!(c.file_name().as_deref(), Some("hello.txt"));
        assert_eq!(c.label(), "data #3 (RETR /pub/hello.txt)");
        c.kind = Some(DataKind::Listing);
        assert_eq!(c.file_name(), None);
        assert!(c.origin.explain().contains("server connects"));
    }
}
