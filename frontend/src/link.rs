//! A connection from the page to one server: through the relay's `/ws`
//! (relay protocol v1) or to an in-browser engine ([`crate::local`]).
//! Either way the owner gets the same [`LinkEvent`]s, so a workbench does
//! not care which it has.
//!
//! Events are delivered asynchronously (never from inside `send`), so a
//! caller that records what it sent before calling `send` sees the reply
//! after it. Dropping a link closes it and detaches its callbacks.
//!
//! Either link stamps what happened where it happened: the relay link asks
//! the relay for its stamps (`stamps=1`), and the in-browser link stamps
//! with the page clock as its engine reads and writes. Stamps arrive as
//! relay messages: `data` just before the bytes it stamps, `sent` after
//! each write, and `at_us` on `connected` and `closed`.

use crate::now_ms;
use std::cell::RefCell;
use std::rc::Rc;
use wirelab_shared::engine::{ErasedEngine, Millis, Output};
use wirelab_shared::relay_protocol::{
    ClosedBy, ConnectQuery, ErrorCode, PageMessage, RelayMessage, TargetInfo, Transport,
};
use yew::Callback;

/// What a link reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// A relay text frame (`connected`, `error`, `closed`, ...).
    Relay(RelayMessage),
    /// Bytes from the server: a chunk of the TCP stream, or one datagram.
    Data(Vec<u8>),
    /// The underlying WebSocket closed.
    SocketClosed { code: u16, reason: String },
}

/// Where a link goes.
pub enum Route {
    /// Through the relay, with this `/ws` query.
    Relay(ConnectQuery),
    /// To an in-browser engine for this target.
    Local(TargetInfo),
}

/// An open (or opening) connection.
pub struct Link {
    inner: Inner,
}

enum Inner {
    Relay(relay::RelayLink),
    Local(Rc<RefCell<LocalLink>>),
}

impl Link {
    pub fn open(route: Route, on_event: Callback<LinkEvent>) -> Result<Link, String> {
        let inner = match route {
            Route::Relay(query) => Inner::Relay(relay::RelayLink::open(&query, on_event)?),
            Route::Local(target) => Inner::Local(LocalLink::open(target, on_event)?),
        };
        Ok(Link { inner })
    }

    /// Sends bytes: written to the TCP stream, or one UDP datagram.
    pub fn send(&self, bytes: &[u8]) -> Result<(), String> {
        match &self.inner {
            Inner::Relay(link) => link.send_bytes(bytes),
            Inner::Local(link) => LocalLink::input(link, bytes),
        }
    }

    /// Half-closes: TCP FIN, keep reading.
    pub fn shutdown(&self) -> Result<(), String> {
        match &self.inner {
            Inner::Relay(link) => link.send_control(&PageMessage::Shutdown),
            Inner::Local(link) => LocalLink::eof(link),
        }
    }

    /// FTP active mode: asks the relay for a listening socket that only this
    /// connection's peer may connect to; the answer is a `listening` event.
    pub fn listen(&self) -> Result<(), String> {
        match &self.inner {
            Inner::Relay(link) => link.send_control(&PageMessage::Listen),
            Inner::Local(_) => Err("listening needs the relay".into()),
        }
    }

    /// Whether this link runs in the page rather than through the relay.
    pub fn is_local(&self) -> bool {
        matches!(self.inner, Inner::Local(_))
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Inner::Local(link) = &self.inner {
            link.borrow_mut().detached = true;
        }
    }
}

/// Delivers an event on a later turn of the event loop.
fn deliver_later(on_event: &Callback<LinkEvent>, event: LinkEvent) {
    let on_event = on_event.clone();
    yew::platform::spawn_local(async move { on_event.emit(event) });
}

/// An in-browser engine standing in for a server.
struct LocalLink {
    target: TargetInfo,
    /// The TCP connection's engine; UDP makes one per datagram.
    engine: Option<Box<dyn ErasedEngine>>,
    on_event: Callback<LinkEvent>,
    timer: Option<gloo_timers::callback::Timeout>,
    detached: bool,
    closed: bool,
}

impl LocalLink {
    fn open(
        target: TargetInfo,
        on_event: Callback<LinkEvent>,
    ) -> Result<Rc<RefCell<LocalLink>>, String> {
        if crate::local::refuses(&target.name) {
            return Ok(Self::refused(target, on_event));
        }
        let engine = crate::local::engine(&target.name)
            .ok_or_else(|| format!("no in-browser server named {}", target.name))?;
        let now = Self::now_us();
        let connected = RelayMessage::Connected {
            transport: target.transport,
            target: Some(target.name.clone()),
            peer: format!("{}:{}", target.host, target.port),
            local: "this page".into(),
            connect_ms: 0.0,
            t_ms: None,
            recording: None,
            started_us: Some(now),
            at_us: Some(now),
        };
        deliver_later(&on_event, LinkEvent::Relay(connected));
        let engine = (target.transport == Transport::Tcp).then_some(engine);
        let link = Rc::new(RefCell::new(LocalLink {
            target,
            engine,
            on_event,
            timer: None,
            detached: false,
            closed: false,
        }));
        // A server that speaks first (a greeting) does so right away.
        Self::drain(&link);
        Ok(link)
    }

    /// A connect refused at once, as to a port where nothing listens: the
    /// error the relay would report, and a link that takes nothing.
    fn refused(target: TargetInfo, on_event: Callback<LinkEvent>) -> Rc<RefCell<LocalLink>> {
        let error = RelayMessage::Error {
            code: ErrorCode::ConnectFailed,
            message: format!(
                "connect to {}:{}: connection refused (nothing listens there)",
                target.host, target.port
            ),
            t_ms: None,
        };
        deliver_later(&on_event, LinkEvent::Relay(error));
        Rc::new(RefCell::new(LocalLink {
            target,
            engine: None,
            on_event,
            timer: None,
            detached: false,
            closed: true,
        }))
    }

    fn now() -> Millis {
        Millis(now_ms().max(0.0) as u64)
    }

    /// The page clock in microseconds: the in-browser servers' stamps.
    fn now_us() -> u64 {
        (now_ms().max(0.0) * 1000.0) as u64
    }

    /// Tells the page when the engine took what it was given.
    fn stamp_sent(link: &Rc<RefCell<LocalLink>>, len: usize, fin: bool) {
        let sent = RelayMessage::Sent {
            at_us: Self::now_us(),
            len,
            fin,
        };
        deliver_later(&link.borrow().on_event, LinkEvent::Relay(sent));
    }

    fn input(link: &Rc<RefCell<LocalLink>>, bytes: &[u8]) -> Result<(), String> {
        {
            let mut this = link.borrow_mut();
            if this.closed {
                return Err("the connection is closed".into());
            }
            if this.target.transport == Transport::Udp {
                // No connection: a fresh engine answers each datagram.
                this.engine = crate::local::engine(&this.target.name);
            }
            if let Some(engine) = this.engine.as_mut() {
                engine.handle_input(bytes, Self::now());
            }
        }
        Self::stamp_sent(link, bytes.len(), false);
        Self::drain(link);
        Ok(())
    }

    fn eof(link: &Rc<RefCell<LocalLink>>) -> Result<(), String> {
        if let Some(engine) = link.borrow_mut().engine.as_mut() {
            engine.handle_eof(Self::now());
        }
        Self::stamp_sent(link, 0, true);
        Self::drain(link);
        Ok(())
    }

    fn drain(link: &Rc<RefCell<LocalLink>>) {
        let mut this = link.borrow_mut();
        if this.detached || this.closed {
            return;
        }
        let on_event = this.on_event.clone();
        let mut deadline = None;
        let mut close = false;
        if let Some(engine) = this.engine.as_mut() {
            loop {
                match engine.poll_output() {
                    Output::Transmit(bytes) => {
                        let data = RelayMessage::Data {
                            at_us: Self::now_us(),
                            len: bytes.len(),
                        };
                        deliver_later(&on_event, LinkEvent::Relay(data));
                        deliver_later(&on_event, LinkEvent::Data(bytes));
                    }
                    Output::Event(_) => {}
                    Output::Close => close = true,
                    Output::Wait(d) => {
                        deadline = d;
                        break;
                    }
                }
                if close {
                    break;
                }
            }
        }
        if close {
            this.closed = true;
            this.timer = None;
            let closed = RelayMessage::Closed {
                by: ClosedBy::Peer,
                reason: "the server closed the connection (TCP FIN)".into(),
                t_ms: None,
                at_us: Some(Self::now_us()),
            };
            deliver_later(&on_event, LinkEvent::Relay(closed));
            deliver_later(
                &on_event,
                LinkEvent::SocketClosed {
                    code: 1000,
                    reason: String::new(),
                },
            );
            return;
        }
        this.timer = deadline.map(|at| {
            let wait = at.0.saturating_sub(Self::now().0).min(u32::MAX as u64) as u32;
            let weak = Rc::downgrade(link);
            gloo_timers::callback::Timeout::new(wait, move || {
                if let Some(link) = weak.upgrade() {
                    if let Some(engine) = link.borrow_mut().engine.as_mut() {
                        engine.handle_timeout(Self::now());
                    }
                    Self::drain(&link);
                }
            })
        });
    }
}

/// The WebSocket to the relay, on web-sys directly so that close codes and
/// reasons reach the student.
#[cfg(target_arch = "wasm32")]
mod relay {
    use super::LinkEvent;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
    use wirelab_shared::relay_protocol::{ConnectQuery, PageMessage, RelayMessage, SUBPROTOCOL};
    use yew::Callback;

    pub struct RelayLink {
        ws: WebSocket,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_close: Closure<dyn FnMut(CloseEvent)>,
    }

    /// `ws://` or `wss://` on the page's own host.
    fn ws_url(query: &ConnectQuery) -> Result<String, String> {
        let location = web_sys::window().ok_or("no window")?.location();
        let scheme = match location.protocol().map_err(|_| "no protocol")?.as_str() {
            "https:" => "wss",
            _ => "ws",
        };
        let host = location.host().map_err(|_| "no host")?;
        Ok(format!("{scheme}://{host}/ws?{}", query.to_query_string()))
    }

    impl RelayLink {
        pub fn open(query: &ConnectQuery, on_event: Callback<LinkEvent>) -> Result<Self, String> {
            let query = ConnectQuery {
                stamps: true,
                ..query.clone()
            };
            let url = ws_url(&query)?;
            let ws = WebSocket::new_with_str(&url, SUBPROTOCOL)
                .map_err(|e| format!("cannot open {url}: {e:?}"))?;
            ws.set_binary_type(BinaryType::Arraybuffer);
            let events = on_event.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let data = e.data();
                if let Some(text) = data.as_string() {
                    match serde_json::from_str::<RelayMessage>(&text) {
                        Ok(message) => events.emit(LinkEvent::Relay(message)),
                        Err(_) => web_sys::console::warn_1(
                            &format!("unknown relay message: {text}").into(),
                        ),
                    }
                } else if let Ok(buffer) = data.dyn_into::<js_sys::ArrayBuffer>() {
                    events.emit(LinkEvent::Data(js_sys::Uint8Array::new(&buffer).to_vec()));
                }
            });
            let events = on_event;
            let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
                events.emit(LinkEvent::SocketClosed {
                    code: e.code(),
                    reason: e.reason(),
                });
            });
            ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            Ok(RelayLink {
                ws,
                _on_message: on_message,
                _on_close: on_close,
            })
        }

        pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), String> {
            self.ws
                .send_with_u8_array(bytes)
                .map_err(|e| format!("cannot send: {e:?}"))
        }

        pub fn send_control(&self, message: &PageMessage) -> Result<(), String> {
            self.ws
                .send_with_str(&message.to_json())
                .map_err(|e| format!("cannot send: {e:?}"))
        }
    }

    impl Drop for RelayLink {
        fn drop(&mut self) {
            // Detach first: the closures die with this struct, and a late
            // event must not call into a dropped closure.
            self.ws.set_onmessage(None);
            self.ws.set_onclose(None);
            let _ = self.ws.close_with_code(1000);
        }
    }
}

/// Native builds (unit tests, clippy) have no WebSocket; the relay link
/// exists only in the browser.
#[cfg(not(target_arch = "wasm32"))]
mod relay {
    use super::LinkEvent;
    use wirelab_shared::relay_protocol::{ConnectQuery, PageMessage};
    use yew::Callback;

    pub struct RelayLink;

    impl RelayLink {
        pub fn open(_query: &ConnectQuery, _on_event: Callback<LinkEvent>) -> Result<Self, String> {
            Err("the relay link needs a browser".into())
        }

        pub fn send_bytes(&self, _bytes: &[u8]) -> Result<(), String> {
            Err("the relay link needs a browser".into())
        }

        pub fn send_control(&self, _message: &PageMessage) -> Result<(), String> {
            Err("the relay link needs a browser".into())
        }
    }
}
