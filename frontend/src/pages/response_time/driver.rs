//! The response-time lab's connections, live: a [`PageLoad`] from `shared`
//! decides which connection opens and what it asks, and this opens each
//! one through the relay (`/ws?target=http&delay_ms=<RTT/2>&rate_kbps=<rate>`),
//! writes the requests, feeds back what arrives, and reports every step to
//! the page's [`RtLab`](super::lab::RtLab) reducer with the page's clock:
//! what the page sees is what a browser at the end of that link would.
//!
//! Runs are numbered; events of a link of an earlier run are ignored. Links
//! are never dropped from inside their own callbacks (a WebSocket's handlers
//! must outlive the event being handled): a closed one is dropped on a
//! later turn of the event loop.

use super::lab::{ConnEvent, RtAction, Settings, Timed};
use crate::link::{Link, LinkEvent, Route};
use crate::now_ms;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wirelab_shared::http::page_load::{PageLoad, Step};
use wirelab_shared::http::response_time::Mode;
use wirelab_shared::relay_protocol::{ConnectQuery, RelayMessage};
use yew::Callback;

/// The catalog name of the reference web server.
pub const TARGET: &str = "http";
/// The course's page.
pub const BASE: &str = "/someDepartment/home.index";
/// The host the course's requests name.
pub const HOST: &str = "www.someSchool.edu";

/// The live side of the lab.
pub struct Driver {
    dispatch: Callback<RtAction>,
    number: u64,
    load: Option<PageLoad>,
    links: Vec<Option<Link>>,
    settings: Settings,
    /// Modes still to run after this one ("run all four").
    queue: VecDeque<Mode>,
}

pub type SharedDriver = Rc<RefCell<Driver>>;

impl Driver {
    pub fn new(dispatch: Callback<RtAction>) -> SharedDriver {
        Rc::new(RefCell::new(Driver {
            dispatch,
            number: 0,
            load: None,
            links: Vec::new(),
            settings: Settings::default(),
            queue: VecDeque::new(),
        }))
    }

    /// Runs `modes` one after the other with `settings`, stopping any run
    /// under way.
    pub fn run(this: &SharedDriver, modes: Vec<Mode>, settings: Settings) {
        {
            let mut d = this.borrow_mut();
            d.stop_links();
            d.settings = settings;
            d.queue = modes.into();
        }
        Self::start_next(this);
    }

    /// Stops everything (the page is going away).
    pub fn stop(this: &SharedDriver) {
        let mut d = this.borrow_mut();
        d.queue.clear();
        d.load = None;
        d.stop_links();
    }

    fn stop_links(&mut self) {
        for link in self.links.drain(..).flatten() {
            drop_later(link);
        }
    }

    fn start_next(this: &SharedDriver) {
        {
            let mut d = this.borrow_mut();
            let Some(mode) = d.queue.pop_front() else {
                return;
            };
            d.number += 1;
            d.stop_links();
            let mut load = PageLoad::new(mode, HOST, BASE, d.settings.images);
            load.start();
            d.load = Some(load);
            d.dispatch.emit(RtAction::Begin {
                mode,
                number: d.number,
                at: now_ms(),
            });
        }
        Self::pump(this);
    }

    /// Carries out what the load asks for until it waits for the network.
    fn pump(this: &SharedDriver) {
        loop {
            let step = {
                let mut d = this.borrow_mut();
                let Some(step) = d.load.as_mut().and_then(PageLoad::poll) else {
                    return;
                };
                step
            };
            match step {
                Step::Done => {
                    Self::end(this, None);
                    Self::start_next(this);
                    return;
                }
                Step::Failed(why) => {
                    Self::fail(this, why);
                    return;
                }
                step => Self::carry_out(this, step),
            }
        }
    }

    fn end(this: &SharedDriver, failed: Option<String>) {
        let mut d = this.borrow_mut();
        let number = d.number;
        d.dispatch.emit(match failed {
            None => RtAction::Finished {
                number,
                at: now_ms(),
            },
            Some(why) => RtAction::Failed { number, why },
        });
        d.load = None;
        d.stop_links();
    }

    fn report(&self, conn: usize, event: ConnEvent) {
        self.dispatch.emit(RtAction::Event {
            number: self.number,
            timed: Timed {
                at: now_ms(),
                conn,
                event,
            },
        });
    }

    fn carry_out(this: &SharedDriver, step: Step) {
        let mut d = this.borrow_mut();
        match step {
            Step::Open { conn } => {
                d.report(conn, ConnEvent::Opening);
                let link = Self::open(this, &d, conn);
                match link {
                    Ok(link) => {
                        if d.links.len() <= conn {
                            d.links.resize_with(conn + 1, || None);
                        }
                        d.links[conn] = Some(link);
                    }
                    Err(why) => {
                        drop(d);
                        Self::fail(this, why);
                    }
                }
            }
            Step::Send { conn, bytes, paths } => {
                let sent = d
                    .links
                    .get(conn)
                    .and_then(Option::as_ref)
                    .map(|l| l.send(&bytes));
                d.report(conn, ConnEvent::Sent { paths });
                if let Some(Err(why)) = sent {
                    drop(d);
                    Self::fail(this, why);
                }
            }
            Step::Close { conn } => {
                d.report(conn, ConnEvent::Closed);
                if let Some(link) = d.links.get_mut(conn).and_then(Option::take) {
                    drop_later(link);
                }
            }
            Step::Object {
                conn,
                path,
                bytes,
                status,
            } => d.report(
                conn,
                ConnEvent::Received {
                    path,
                    bytes,
                    status,
                },
            ),
            Step::Done | Step::Failed(_) => {}
        }
    }

    /// Ends the run as failed, and "run all four" with it: the next
    /// would most likely fail alike.
    fn fail(this: &SharedDriver, why: String) {
        Self::end(this, Some(why));
        this.borrow_mut().queue.clear();
    }

    fn open(this: &SharedDriver, d: &Driver, conn: usize) -> Result<Link, String> {
        let settings = d.settings;
        let query = ConnectQuery {
            delay_ms: Some(settings.delay_ms()).filter(|d| *d > 0),
            rate_kbps: settings.rate(),
            ..ConnectQuery::target(TARGET)
        };
        let weak = Rc::downgrade(this);
        let number = d.number;
        let on_event = Callback::from(move |event: LinkEvent| {
            if let Some(this) = weak.upgrade() {
                Driver::on_event(&this, number, conn, event);
            }
        });
        Link::open(Route::Relay(query), on_event)
    }

    fn on_event(this: &SharedDriver, number: u64, conn: usize, event: LinkEvent) {
        {
            let mut d = this.borrow_mut();
            if d.number != number {
                return;
            }
            match event {
                LinkEvent::Relay(RelayMessage::Connected { .. }) => {
                    d.report(conn, ConnEvent::Connected);
                    if let Some(load) = d.load.as_mut() {
                        load.opened(conn);
                    }
                }
                LinkEvent::Relay(RelayMessage::Error { message, .. }) => {
                    drop(d);
                    Self::fail(this, format!("connection {}: {message}", conn + 1));
                    return;
                }
                LinkEvent::Relay(RelayMessage::Closed { .. }) | LinkEvent::SocketClosed { .. } => {
                    if let Some(load) = d.load.as_mut() {
                        load.closed(conn);
                    }
                }
                LinkEvent::Relay(_) => return,
                LinkEvent::Data(bytes) => {
                    if let Some(load) = d.load.as_mut() {
                        load.received(conn, &bytes);
                    }
                }
            }
        }
        Self::pump(this);
    }
}

/// Drops a link on a later turn of the event loop (see the module's note).
fn drop_later(link: Link) {
    yew::platform::spawn_local(async move { drop(link) });
}
