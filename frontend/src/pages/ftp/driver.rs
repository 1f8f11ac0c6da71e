//! The FTP page's connections, live: one control connection through the
//! relay and the data connections the session asks for, each on its own
//! WebSocket. A shared [`FtpClient`] follows the control connection as the
//! bytes arrive and says what to do:
//!
//! - a 227/229 reply (`ConnectData`): open `/ws?target=<ftp>&data_port=<port>`
//!   right away, before the transfer command is answered (passive mode);
//! - a `listening` answer to `{"type":"listen"}`: open `/ws?accept=<id>`,
//!   which the relay completes when the server connects (active mode);
//! - a 125/150 reply (`TransferStarting`): the newest data connection
//!   carries this transfer; for STOR/APPE the page sends the file on it and
//!   half-closes it (the FIN is the end of the file).
//!
//! Everything it learns goes to the page's [`FtpLab`] reducer as
//! [`FtpAction`]s. Links are never dropped from inside their own callbacks
//! (a WebSocket's handlers must outlive the event being handled): only on
//! connect, disconnect and unmount. A generation number makes events of an
//! earlier connection harmless.

use super::lab::{DataOrigin, FtpAction};
use crate::link::{Link, LinkEvent, Route};
use crate::now_ms;
use crate::session::SessionAction;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use wirelab_shared::engine::{Engine, Millis, Output};
use wirelab_shared::ftp::client::{ClientEvent, FtpClient};
use wirelab_shared::ftp::session::DataKind;
use wirelab_shared::relay_protocol::{ConnectQuery, RelayMessage, TargetInfo};
use yew::Callback;

/// Largest piece of an upload sent as one WebSocket message (the relay's
/// default frame limit is 64 KiB).
pub const UPLOAD_CHUNK: usize = 16 * 1024;

/// What the page sends for STOR when the student chose no file.
pub const DEFAULT_UPLOAD: &str = "This file was uploaded from the wirelab page.\r\n";

/// A file chosen for upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub name: String,
    pub bytes: Rc<Vec<u8>>,
}

struct DataLink {
    link: Option<Link>,
    open: bool,
    /// An upload waiting for the connection to open.
    outgoing: Option<Rc<Vec<u8>>>,
}

/// The live side of the FTP page.
pub struct Driver {
    dispatch: Callback<FtpAction>,
    generation: u64,
    client: FtpClient,
    control: Option<Link>,
    control_open: bool,
    /// The catalog name of the FTP target, for data-port queries.
    target: String,
    data: BTreeMap<usize, DataLink>,
    next_number: usize,
    /// The newest data connection: the next transfer uses it.
    current: Option<usize>,
    upload: Option<Upload>,
}

pub type SharedDriver = Rc<RefCell<Driver>>;

impl Driver {
    pub fn new(dispatch: Callback<FtpAction>) -> Driver {
        Driver {
            dispatch,
            generation: 0,
            client: FtpClient::new(),
            control: None,
            control_open: false,
            target: String::new(),
            data: BTreeMap::new(),
            next_number: 1,
            current: None,
            upload: None,
        }
    }

    /// Chooses the file the next STOR sends (`None`: the default text).
    pub fn set_upload(&mut self, upload: Option<Upload>) {
        self.upload = upload;
    }

    /// Opens a new control connection to `target`, forgetting the last one.
    pub fn connect(this: &SharedDriver, target: &TargetInfo) {
        let mut d = this.borrow_mut();
        d.close_all();
        d.generation += 1;
        d.client = FtpClient::new();
        d.next_number = 1;
        d.current = None;
        d.target = target.name.clone();
        d.dispatch.emit(FtpAction::Reset);
        d.dispatch
            .emit(FtpAction::Control(SessionAction::Connecting {
                target: target.name.clone(),
                at: now_ms(),
            }));
        let weak = Rc::downgrade(this);
        let generation = d.generation;
        let on_event = Callback::from(move |event: LinkEvent| {
            if let Some(this) = weak.upgrade() {
                Driver::on_control(&this, generation, event);
            }
        });
        match Link::open(Route::Relay(ConnectQuery::target(&target.name)), on_event) {
            Ok(link) => d.control = Some(link),
            Err(reason) => d
                .dispatch
                .emit(FtpAction::Control(SessionAction::SocketClosed {
                    code: 0,
                    reason,
                    at: now_ms(),
                })),
        }
    }

    /// Closes the control connection and every data connection.
    pub fn disconnect(this: &SharedDriver) {
        let mut d = this.borrow_mut();
        d.generation += 1;
        let at = now_ms();
        d.dispatch
            .emit(FtpAction::Control(SessionAction::Disconnected { at }));
        let numbers: Vec<usize> = d.data.keys().copied().collect();
        for number in numbers {
            d.dispatch.emit(FtpAction::Data {
                number,
                action: SessionAction::Disconnected { at },
            });
        }
        d.close_all();
    }

    /// Drops every link (their WebSockets close).
    pub fn close_all(&mut self) {
        self.control = None;
        self.control_open = false;
        self.data.clear();
    }

    /// Sends a line typed by the student (with its CR LF) on the control
    /// connection. False if the connection cannot send.
    pub fn send_line(this: &SharedDriver, bytes: &[u8]) -> bool {
        let mut d = this.borrow_mut();
        if !d.control_open || d.control.is_none() || bytes.is_empty() {
            return false;
        }
        d.dispatch.emit(FtpAction::Control(SessionAction::Sent {
            bytes: bytes.to_vec(),
            at: now_ms(),
        }));
        d.client.send_line(bytes);
        d.drain(this);
        true
    }

    /// Active mode: asks the relay to listen for the server's data
    /// connection. The answer (`listening`) opens the accept link.
    pub fn listen(this: &SharedDriver) -> Result<(), String> {
        let d = this.borrow();
        match (&d.control, d.control_open) {
            (Some(link), true) => link.listen(),
            _ => Err("connect first: listening belongs to a control connection".into()),
        }
    }

    fn on_control(this: &SharedDriver, generation: u64, event: LinkEvent) {
        let mut d = this.borrow_mut();
        if d.generation != generation {
            return;
        }
        let at = now_ms();
        match event {
            LinkEvent::Relay(message) => {
                let mut accept = None;
                match &message {
                    RelayMessage::Connected { peer, local, .. } => {
                        d.client
                            .set_addresses(peer.parse().ok(), local.parse().ok());
                        d.control_open = true;
                    }
                    RelayMessage::Listening {
                        addr, id: Some(id), ..
                    } => accept = Some((addr.clone(), id.clone())),
                    RelayMessage::Closed { .. } | RelayMessage::Error { .. } => {
                        d.control_open = false;
                    }
                    RelayMessage::Listening { id: None, .. }
                    | RelayMessage::Data { .. }
                    | RelayMessage::Sent { .. } => {}
                }
                d.dispatch
                    .emit(FtpAction::Control(SessionAction::Relay { message, at }));
                if let Some((addr, id)) = accept {
                    let query = ConnectQuery {
                        accept: Some(id),
                        ..Default::default()
                    };
                    let number =
                        d.open_data(this, DataOrigin::Active { addr: addr.clone() }, query);
                    d.dispatch.emit(FtpAction::Listening {
                        addr,
                        channel: number,
                    });
                }
            }
            LinkEvent::Data(bytes) => {
                d.dispatch.emit(FtpAction::Control(SessionAction::Received {
                    bytes: bytes.clone(),
                    at,
                }));
                d.client.handle_input(&bytes, Millis(0));
                d.drain(this);
            }
            LinkEvent::SocketClosed { code, reason } => {
                d.control_open = false;
                d.dispatch
                    .emit(FtpAction::Control(SessionAction::SocketClosed {
                        code,
                        reason,
                        at,
                    }));
            }
        }
    }

    /// Acts on what the client engine reports.
    fn drain(&mut self, this: &SharedDriver) {
        loop {
            match self.client.poll_output() {
                Output::Transmit(bytes) => {
                    let failed = self
                        .control
                        .as_ref()
                        .map(|link| link.send(&bytes))
                        .and_then(Result::err);
                    if let Some(reason) = failed {
                        self.control_open = false;
                        self.dispatch
                            .emit(FtpAction::Control(SessionAction::SocketClosed {
                                code: 0,
                                reason,
                                at: now_ms(),
                            }));
                    }
                }
                Output::Event(ClientEvent::ConnectData {
                    port, arithmetic, ..
                }) => {
                    let query = ConnectQuery {
                        target: Some(self.target.clone()),
                        data_port: Some(port),
                        ..Default::default()
                    };
                    self.open_data(this, DataOrigin::Passive { port, arithmetic }, query);
                }
                Output::Event(ClientEvent::TransferStarting { kind }) => self.claim(kind),
                Output::Event(_) | Output::Close => {}
                Output::Wait(_) => return,
            }
        }
    }

    /// Opens data connection number n through the relay; returns n.
    fn open_data(&mut self, this: &SharedDriver, origin: DataOrigin, query: ConnectQuery) -> usize {
        let number = self.next_number;
        self.next_number += 1;
        self.current = Some(number);
        self.dispatch.emit(FtpAction::OpenData {
            number,
            origin,
            at: now_ms(),
        });
        let weak: Weak<RefCell<Driver>> = Rc::downgrade(this);
        let generation = self.generation;
        let on_event = Callback::from(move |event: LinkEvent| {
            if let Some(this) = weak.upgrade() {
                Driver::on_data(&this, generation, number, event);
            }
        });
        let link = match Link::open(Route::Relay(query), on_event) {
            Ok(link) => Some(link),
            Err(reason) => {
                self.dispatch.emit(FtpAction::Data {
                    number,
                    action: SessionAction::SocketClosed {
                        code: 0,
                        reason,
                        at: now_ms(),
                    },
                });
                None
            }
        };
        self.data.insert(
            number,
            DataLink {
                link,
                open: false,
                outgoing: None,
            },
        );
        number
    }

    /// A transfer started: the newest data connection carries it.
    fn claim(&mut self, kind: DataKind) {
        let Some(number) = self.current.take() else {
            return;
        };
        let upload = matches!(kind, DataKind::Upload { .. }).then(|| {
            self.upload.clone().unwrap_or_else(|| Upload {
                name: "(the page's default text)".into(),
                bytes: Rc::new(DEFAULT_UPLOAD.as_bytes().to_vec()),
            })
        });
        self.dispatch.emit(FtpAction::Claim {
            number,
            kind,
            transfer_type: self.client.state().transfer_type,
            upload_name: upload.as_ref().map(|u| u.name.clone()),
        });
        if let Some(upload) = upload
            && let Some(data) = self.data.get_mut(&number)
        {
            data.outgoing = Some(upload.bytes);
            self.send_upload(number);
        }
    }

    /// Sends a pending upload once its connection is open, then the FIN.
    fn send_upload(&mut self, number: usize) {
        let Some(data) = self.data.get_mut(&number) else {
            return;
        };
        if !data.open {
            return;
        }
        let (Some(bytes), Some(link)) = (data.outgoing.take(), data.link.as_ref()) else {
            return;
        };
        for chunk in bytes.chunks(UPLOAD_CHUNK) {
            self.dispatch.emit(FtpAction::Data {
                number,
                action: SessionAction::Sent {
                    bytes: chunk.to_vec(),
                    at: now_ms(),
                },
            });
            if let Err(reason) = link.send(chunk) {
                self.dispatch.emit(FtpAction::Data {
                    number,
                    action: SessionAction::SocketClosed {
                        code: 0,
                        reason,
                        at: now_ms(),
                    },
                });
                return;
            }
        }
        if link.shutdown().is_ok() {
            self.dispatch.emit(FtpAction::Data {
                number,
                action: SessionAction::ShutdownSent { at: now_ms() },
            });
        }
    }

    fn on_data(this: &SharedDriver, generation: u64, number: usize, event: LinkEvent) {
        let mut d = this.borrow_mut();
        if d.generation != generation {
            return;
        }
        let at = now_ms();
        let action = match event {
            LinkEvent::Relay(message) => {
                let opened = matches!(message, RelayMessage::Connected { .. });
                // Stamps say nothing about whether the connection is open.
                let stamp = matches!(
                    message,
                    RelayMessage::Data { .. } | RelayMessage::Sent { .. }
                );
                if !stamp && let Some(data) = d.data.get_mut(&number) {
                    data.open = opened;
                }
                d.dispatch.emit(FtpAction::Data {
                    number,
                    action: SessionAction::Relay { message, at },
                });
                if opened {
                    d.send_upload(number);
                }
                return;
            }
            LinkEvent::Data(bytes) => SessionAction::Received { bytes, at },
            LinkEvent::SocketClosed { code, reason } => {
                if let Some(data) = d.data.get_mut(&number) {
                    data.open = false;
                }
                SessionAction::SocketClosed { code, reason, at }
            }
        };
        d.dispatch.emit(FtpAction::Data { number, action });
    }
}
