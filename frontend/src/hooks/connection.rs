//! `use_connection`: one connection to one server (through the relay or to
//! an in-browser engine) with its [`Session`] reducer, for any workbench.
//! The link closes when the session ends, when a new connection replaces
//! it, and when the component unmounts.

use crate::link::{Link, LinkEvent, Route};
use crate::now_ms;
use crate::relay_info::use_relay_info;
use crate::session::{Session, SessionAction};
use crate::settings::{LabSettings, SettingsHandle};
use std::cell::RefCell;
use std::rc::Rc;
use wirelab_shared::relay_protocol::{ConnectQuery, TargetInfo, Transport};
use yew::prelude::*;

/// A workbench's handle on its connection.
#[derive(Clone)]
pub struct Connection {
    pub session: UseReducerHandle<Session>,
    link: Rc<RefCell<Option<Link>>>,
    offline: bool,
    settings: LabSettings,
}

/// Two handles are equal when they drive the same connection and its
/// session has not changed, so a page can pass its connection to a
/// component as a prop.
impl PartialEq for Connection {
    fn eq(&self, other: &Self) -> bool {
        self.session == other.session
            && Rc::ptr_eq(&self.link, &other.link)
            && self.offline == other.offline
            && self.settings == other.settings
    }
}

impl Connection {
    /// Opens a connection to `target`, closing any previous one.
    pub fn connect(&self, target: &TargetInfo) {
        let route = if self.offline {
            Route::Local(target.clone())
        } else {
            Route::Relay(self.settings.apply(ConnectQuery::target(&target.name)))
        };
        self.open(target.name.clone(), route);
    }

    /// Opens a TCP connection through the relay to an address that is no
    /// catalog target (a swarm's peer, which the relay opens while its
    /// swarm runs), closing any previous one.
    pub fn connect_address(&self, host: &str, port: u16) {
        let query = ConnectQuery {
            transport: Some(Transport::Tcp),
            host: Some(host.to_string()),
            port: Some(port),
            ..ConnectQuery::default()
        };
        self.open(
            format!("{host}:{port}"),
            Route::Relay(self.settings.apply(query)),
        );
    }

    fn open(&self, label: String, route: Route) {
        self.link.borrow_mut().take();
        self.session.dispatch(SessionAction::Connecting {
            target: label,
            at: now_ms(),
        });
        let dispatcher = self.session.dispatcher();
        let on_event = Callback::from(move |event: LinkEvent| {
            let at = now_ms();
            dispatcher.dispatch(match event {
                LinkEvent::Relay(message) => SessionAction::Relay { message, at },
                LinkEvent::Data(bytes) => SessionAction::Received { bytes, at },
                LinkEvent::SocketClosed { code, reason } => {
                    SessionAction::SocketClosed { code, reason, at }
                }
            });
        });
        match Link::open(route, on_event) {
            Ok(link) => *self.link.borrow_mut() = Some(link),
            Err(reason) => self.session.dispatch(SessionAction::SocketClosed {
                code: 0,
                reason,
                at: now_ms(),
            }),
        }
    }

    /// Closes the connection at the student's request.
    pub fn disconnect(&self) {
        self.link.borrow_mut().take();
        self.session
            .dispatch(SessionAction::Disconnected { at: now_ms() });
    }

    /// Sends bytes (recorded in the transcript first). False if the
    /// connection cannot send.
    pub fn send(&self, bytes: &[u8]) -> bool {
        if !self.session.state.can_send() || bytes.is_empty() {
            return false;
        }
        self.session.dispatch(SessionAction::Sent {
            bytes: bytes.to_vec(),
            at: now_ms(),
        });
        if let Some(link) = self.link.borrow().as_ref()
            && let Err(reason) = link.send(bytes)
        {
            self.session.dispatch(SessionAction::SocketClosed {
                code: 0,
                reason,
                at: now_ms(),
            });
            return false;
        }
        true
    }

    /// Half-closes the connection (TCP FIN).
    pub fn shutdown(&self) {
        if let Some(link) = self.link.borrow().as_ref()
            && link.shutdown().is_ok()
        {
            self.session
                .dispatch(SessionAction::ShutdownSent { at: now_ms() });
        }
    }

    pub fn clear(&self) {
        self.session.dispatch(SessionAction::Clear);
    }

    /// Whether the page runs the servers itself (no relay).
    pub fn is_offline(&self) -> bool {
        self.offline
    }
}

#[hook]
pub fn use_connection() -> Connection {
    let offline = use_relay_info().is_offline();
    let settings = use_context::<SettingsHandle>()
        .map(|h| *h)
        .unwrap_or_default();
    let session = use_reducer(Session::default);
    let link = use_mut_ref(|| None::<Link>);
    {
        let link = link.clone();
        use_effect_with(session.state.is_active(), move |active| {
            if !*active {
                link.borrow_mut().take();
            }
        });
    }
    {
        let link = link.clone();
        use_effect_with((), move |_| {
            move || {
                link.borrow_mut().take();
            }
        });
    }
    Connection {
        session,
        link,
        offline,
        settings,
    }
}
