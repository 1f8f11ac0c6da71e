//! The response-time lab's state as one plain-Rust reducer: the RTT, link
//! rate, number of parallel connections and of images the student picked,
//! and one run per mode (what each connection did, and when, on the page's
//! clock), from which the rows (measured against the course's formula)
//! and each run's timeline are drawn.
//!
//! A run keeps the settings it ran with, so changing a control afterwards
//! does not rewrite a result already on screen; a new run of the same mode
//! replaces the last. Events of a run that is no longer current (a newer
//! run started) are ignored: each carries its run's number.

use crate::components::timeline::{Arrow, ArrowKind, Lane};
use crate::plural::plural;
use std::rc::Rc;
use wirelab_shared::http::response_time::{Mode, Scenario};
use yew::Reducible;

/// The RTTs offered, in milliseconds (the relay adds half each way).
pub const RTTS: [u64; 6] = [0, 20, 50, 100, 200, 500];
/// The link rates offered, in kbit/s; 0 is "no transmission time".
pub const RATES: [u64; 6] = [0, 64, 256, 1000, 10_000, 100_000];
/// The most parallel connections and images offered.
pub const MAX_PARALLEL: usize = 10;
pub const MAX_IMAGES: usize = 10;

/// What the student picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub rtt_ms: u64,
    /// kbit/s; 0: no rate (no transmission time).
    pub rate_kbps: u64,
    pub m: usize,
    pub images: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rtt_ms: 100,
            rate_kbps: 1000,
            m: 5,
            images: 10,
        }
    }
}

impl Settings {
    /// The relay's one-way delay: half the RTT.
    pub fn delay_ms(&self) -> u64 {
        self.rtt_ms / 2
    }

    pub fn rate(&self) -> Option<u64> {
        (self.rate_kbps > 0).then_some(self.rate_kbps)
    }

    pub fn modes(&self) -> [Mode; 4] {
        Mode::all(self.m)
    }
}

/// What happened on one connection of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnEvent {
    /// The page asked the relay for the connection.
    Opening,
    /// The connection is up (after the emulated handshake).
    Connected,
    /// Requests written.
    Sent { paths: Vec<String> },
    /// A whole response arrived.
    Received {
        path: String,
        bytes: usize,
        status: u16,
    },
    /// The page closed it.
    Closed,
}

/// One event, at a time on the page's clock (milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub at: f64,
    pub conn: usize,
    pub event: ConnEvent,
}

/// One mode's run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub mode: Mode,
    pub settings: Settings,
    pub number: u64,
    pub started: f64,
    pub finished: Option<f64>,
    pub failed: Option<String>,
    pub events: Vec<Timed>,
}

impl Run {
    /// The page's load time, once it is complete.
    pub fn measured_ms(&self) -> Option<f64> {
        self.finished.map(|f| f - self.started)
    }

    /// Each object's response size, the base file's first, in order.
    fn sizes(&self) -> Vec<usize> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                ConnEvent::Received { bytes, .. } => Some(*bytes),
                _ => None,
            })
            .collect()
    }

    /// The course's formula for what this run fetched.
    pub fn formula_ms(&self) -> Option<f64> {
        self.finished?;
        let sizes = self.sizes();
        let (base, objects) = sizes.split_first()?;
        let scenario = Scenario {
            rtt_ms: self.settings.rtt_ms as f64,
            rate_kbps: self.settings.rate().map(|r| r as f64),
            base_bytes: *base,
            object_bytes: objects.to_vec(),
        };
        Some(scenario.total_ms(self.mode))
    }

    /// Connections the run opened.
    pub fn connections(&self) -> usize {
        self.events
            .iter()
            .filter(|e| e.event == ConnEvent::Opening)
            .count()
    }

    /// Objects received so far.
    pub fn objects(&self) -> usize {
        self.sizes().len()
    }

    /// Why measured and formula differ, in a sentence or two.
    pub fn explanation(&self) -> Option<String> {
        let (measured, formula) = (self.measured_ms()?, self.formula_ms()?);
        let conns = self.connections();
        let gap = measured - formula;
        let because = match self.mode {
            Mode::NonPersistent => format!(
                "{} opened one after the other: each costs the page a WebSocket to the relay \
                 on top of the handshake's RTT, and each request's own bytes take \
                 transmission time, both of which the formula leaves out.",
                plural(conns, "connection")
            ),
            Mode::Parallel { m } => format!(
                "The {m} connections are not in lock step as the formula's rounds are: each \
                 starts its next image as soon as its last has arrived, each has its own link \
                 at the full rate (as the course assumes), and opening {} costs the page its \
                 WebSockets.",
                plural(conns, "connection")
            ),
            Mode::Persistent => "One handshake, then one RTT per object: what is left is the \
                 page's own time between a response and its next request, and each request's \
                 transmission time."
                .to_string(),
            Mode::Pipelined => "The image requests leave in one write and the responses come \
                 back to back on the one link, so their transmission times add up: at a low \
                 rate that sum, not the round trips, is most of the time."
                .to_string(),
        };
        Some(format!(
            "Measured {measured:.0} ms, the formula {formula:.0} ms ({gap:+.0} ms). {because}"
        ))
    }

    /// The run's timeline: the client, then one lane per connection.
    pub fn timeline(&self) -> (Rc<Vec<Lane>>, Rc<Vec<Arrow>>) {
        let mut lanes = vec![Lane {
            label: "client (this page)".into(),
        }];
        lanes.extend((1..=self.connections()).map(|n| Lane {
            label: format!("server, connection {n}"),
        }));
        let arrows = self
            .events
            .iter()
            .map(|e| self.arrow(e))
            .collect::<Vec<_>>();
        (Rc::new(lanes), Rc::new(arrows))
    }

    fn arrow(&self, e: &Timed) -> Arrow {
        let lane = e.conn + 1;
        let (from, to, kind, label) = match &e.event {
            ConnEvent::Opening => (0, lane, ArrowKind::Connect, "SYN (connect)".to_string()),
            ConnEvent::Connected => (lane, 0, ArrowKind::Connect, "SYN-ACK: connected".into()),
            ConnEvent::Sent { paths } => (0, lane, ArrowKind::Request, request_label(paths)),
            ConnEvent::Received {
                path,
                bytes,
                status,
            } => (
                lane,
                0,
                ArrowKind::Response,
                format!("{status} {} ({bytes} bytes)", file_name(path)),
            ),
            ConnEvent::Closed => (0, lane, ArrowKind::Close, "FIN (close)".into()),
        };
        Arrow {
            from,
            to,
            t_ms: e.at - self.started,
            label,
            kind,
            message: None,
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn request_label(paths: &[String]) -> String {
    match paths {
        [one] => format!("GET {}", file_name(one)),
        [first, .., last] => format!(
            "GET ×{} pipelined ({} … {})",
            paths.len(),
            file_name(first),
            file_name(last)
        ),
        [] => "GET".into(),
    }
}

/// The whole page's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RtLab {
    pub settings: Settings,
    /// The last run of each mode, in the course's order.
    pub runs: Vec<Run>,
    /// The mode whose timeline is shown (its key).
    pub shown: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RtAction {
    Rtt(u64),
    Rate(u64),
    Parallel(usize),
    Images(usize),
    /// A run of `mode` begins at `at`, numbered `number` (by the driver,
    /// one more each run).
    Begin {
        mode: Mode,
        number: u64,
        at: f64,
    },
    /// Something happened on a connection of run `number`.
    Event {
        number: u64,
        timed: Timed,
    },
    /// Run `number` has every object.
    Finished {
        number: u64,
        at: f64,
    },
    /// Run `number` cannot go on.
    Failed {
        number: u64,
        why: String,
    },
    /// Show this mode's timeline.
    Show(&'static str),
}

impl RtLab {
    /// The last run of the mode named `key`.
    pub fn run(&self, key: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.mode.key() == key)
    }

    /// Whether any run is still going.
    pub fn running(&self) -> bool {
        self.runs
            .iter()
            .any(|r| r.finished.is_none() && r.failed.is_none())
    }

    fn run_numbered(&mut self, number: u64) -> Option<&mut Run> {
        self.runs.iter_mut().find(|r| r.number == number)
    }

    pub fn apply(&mut self, action: RtAction) {
        match action {
            RtAction::Rtt(v) if RTTS.contains(&v) => self.settings.rtt_ms = v,
            RtAction::Rate(v) if RATES.contains(&v) => self.settings.rate_kbps = v,
            RtAction::Parallel(m) if (1..=MAX_PARALLEL).contains(&m) => self.settings.m = m,
            RtAction::Images(n) if n <= MAX_IMAGES => self.settings.images = n,
            RtAction::Rtt(_) | RtAction::Rate(_) | RtAction::Parallel(_) | RtAction::Images(_) => {}
            RtAction::Begin { mode, number, at } => self.begin(mode, number, at),
            RtAction::Event { number, timed } => {
                if let Some(run) = self.run_numbered(number)
                    && run.finished.is_none()
                    && run.failed.is_none()
                {
                    run.events.push(timed);
                }
            }
            RtAction::Finished { number, at } => {
                if let Some(run) = self.run_numbered(number)
                    && run.failed.is_none()
                {
                    run.finished.get_or_insert(at);
                }
            }
            RtAction::Failed { number, why } => {
                if let Some(run) = self.run_numbered(number)
                    && run.finished.is_none()
                {
                    run.failed.get_or_insert(why);
                }
            }
            RtAction::Show(key) => self.shown = Some(key),
        }
    }

    fn begin(&mut self, mode: Mode, number: u64, at: f64) {
        let run = Run {
            mode,
            settings: self.settings,
            number,
            started: at,
            finished: None,
            failed: None,
            events: Vec::new(),
        };
        self.shown = Some(mode.key());
        let order = |m: &Mode| Mode::all(1).iter().position(|x| x.key() == m.key());
        match self.runs.iter_mut().find(|r| r.mode.key() == mode.key()) {
            Some(old) => *old = run,
            None => {
                self.runs.push(run);
                self.runs.sort_by_key(|r| order(&r.mode));
            }
        }
    }
}

impl Reducible for RtLab {
    type Action = RtAction;

    fn reduce(self: Rc<Self>, action: RtAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "/someDepartment/home.index";

    fn event(lab: &mut RtLab, number: u64, at: f64, conn: usize, event: ConnEvent) {
        lab.apply(RtAction::Event {
            number,
            timed: Timed { at, conn, event },
        });
    }

    fn received(path: &str, bytes: usize) -> ConnEvent {
        ConnEvent::Received {
            path: path.into(),
            bytes,
            status: 200,
        }
    }

    /// A persistent run of the base and two images, 10 ms apart.
    fn persistent_run(lab: &mut RtLab, number: u64) {
        lab.apply(RtAction::Begin {
            mode: Mode::Persistent,
            number,
            at: 1000.0,
        });
        event(lab, number, 1000.0, 0, ConnEvent::Opening);
        event(lab, number, 1100.0, 0, ConnEvent::Connected);
        event(
            lab,
            number,
            1100.0,
            0,
            ConnEvent::Sent {
                paths: vec![BASE.into()],
            },
        );
        event(lab, number, 1210.0, 0, received(BASE, 1500));
        for (i, at) in [(1, 1210.0), (2, 1320.0)] {
            let path = format!("/img/pic0{i}.jpg");
            event(
                lab,
                number,
                at,
                0,
                ConnEvent::Sent {
                    paths: vec![path.clone()],
                },
            );
            event(lab, number, at + 110.0, 0, received(&path, 1250));
        }
        event(lab, number, 1430.0, 0, ConnEvent::Closed);
        lab.apply(RtAction::Finished { number, at: 1430.0 });
    }

    #[test]
    fn controls_take_only_the_values_offered() {
        let mut lab = RtLab::default();
        lab.apply(RtAction::Rtt(50));
        lab.apply(RtAction::Rtt(51));
        lab.apply(RtAction::Rate(0));
        lab.apply(RtAction::Parallel(0));
        lab.apply(RtAction::Parallel(3));
        lab.apply(RtAction::Images(11));
        lab.apply(RtAction::Images(3));
        let s = lab.settings;
        assert_eq!((s.rtt_ms, s.rate_kbps, s.m, s.images), (50, 0, 3, 3));
        assert_eq!((s.delay_ms(), s.rate()), (25, None));
    }

    #[test]
    fn a_finished_run_is_measured_against_its_formula() {
        let mut lab = RtLab::default();
        lab.apply(RtAction::Rtt(100));
        lab.apply(RtAction::Rate(64));
        persistent_run(&mut lab, 0);
        let run = lab.run("persistent").unwrap();
        assert_eq!(run.measured_ms(), Some(430.0));
        // At 64 kbit/s: 2 RTT + 187.5 ms for the base's 1500 bytes, then
        // RTT + 156.25 ms per image of 1250.
        assert_eq!(run.formula_ms(), Some(200.0 + 187.5 + 2.0 * 256.25));
        assert_eq!((run.connections(), run.objects()), (1, 3));
        let why = run.explanation().unwrap();
        assert!(
            why.starts_with("Measured 430 ms, the formula 900 ms (-470 ms)."),
            "{why}"
        );
        assert!(!lab.running());
        assert_eq!(lab.shown, Some("persistent"));
    }

    #[test]
    fn settings_changed_later_do_not_rewrite_a_result() {
        let mut lab = RtLab::default();
        persistent_run(&mut lab, 0);
        let before = lab.run("persistent").unwrap().formula_ms();
        lab.apply(RtAction::Rtt(500));
        assert_eq!(lab.run("persistent").unwrap().formula_ms(), before);
    }

    #[test]
    fn a_new_run_replaces_the_last_and_old_events_are_ignored() {
        let mut lab = RtLab::default();
        persistent_run(&mut lab, 0);
        lab.apply(RtAction::Begin {
            mode: Mode::Persistent,
            number: 1,
            at: 5000.0,
        });
        event(&mut lab, 0, 5001.0, 0, ConnEvent::Opening);
        lab.apply(RtAction::Finished {
            number: 0,
            at: 5002.0,
        });
        let run = lab.run("persistent").unwrap();
        assert!(run.events.is_empty() && run.finished.is_none());
        assert!(lab.running());
        assert_eq!(lab.runs.len(), 1);
    }

    #[test]
    fn runs_stay_in_the_courses_order_and_a_failure_ends_one() {
        let mut lab = RtLab::default();
        for (number, mode) in [(0, Mode::Pipelined), (1, Mode::NonPersistent)] {
            lab.apply(RtAction::Begin {
                mode,
                number,
                at: 0.0,
            });
        }
        let keys: Vec<_> = lab.runs.iter().map(|r| r.mode.key()).collect();
        assert_eq!(keys, ["non-persistent", "pipelined"]);
        lab.apply(RtAction::Failed {
            number: 1,
            why: "refused".into(),
        });
        lab.apply(RtAction::Finished { number: 1, at: 9.0 });
        let run = lab.run("non-persistent").unwrap();
        assert_eq!(
            (run.failed.as_deref(), run.measured_ms()),
            (Some("refused"), None)
        );
    }

    #[test]
    fn the_timeline_has_a_lane_per_connection() {
        let mut lab = RtLab::default();
        lab.apply(RtAction::Begin {
            mode: Mode::NonPersistent,
            number: 0,
            at: 10.0,
        });
        for conn in 0..3 {
            let at = 10.0 + conn as f64 * 100.0;
            event(&mut lab, 0, at, conn, ConnEvent::Opening);
            event(&mut lab, 0, at + 50.0, conn, received("/a/b.jpg", 9));
        }
        let (lanes, arrows) = lab.run("non-persistent").unwrap().timeline();
        assert_eq!(lanes.len(), 4);
        assert_eq!(lanes[3].label, "server, connection 3");
        let last = arrows.last().unwrap();
        assert_eq!((last.from, last.to, last.t_ms), (3, 0, 250.0));
        assert_eq!(last.label, "200 b.jpg (9 bytes)");
        assert_eq!(
            request_label(&["/x/p1.jpg".into(), "/x/p2.jpg".into(), "/x/p3.jpg".into()]),
            "GET ×3 pipelined (p1.jpg … p3.jpg)"
        );
    }
}
