//! One student's panel on `/instructor`, its state: the student's sessions
//! (`/api/classes/{id}/students/{student}/sessions`, open ones first, each
//! newest first), and the two actions that cannot be undone (reset their
//! mailboxes and FTP home, revoke their token), each asked to be confirmed
//! in the page before it is sent, then its outcome. A plain reducer with
//! native tests; the view is [`super::student_panel`], which passes the
//! time with each load (the reducer reads no clock).

use serde::Deserialize;
use serde_json::Value;
use std::rc::Rc;
use yew::Reducible;

/// One session as the relay lists it; an open one has no duration or
/// outcome yet.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SessionRow {
    pub target: String,
    /// Unix milliseconds.
    pub started_ms: u64,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    pub bytes_to_target: u64,
    pub bytes_to_page: u64,
    /// How it ended ("closed by peer", "idle", ...).
    #[serde(default)]
    pub outcome: Option<String>,
    /// Links to the recording, when the session was recorded.
    #[serde(default)]
    pub text_url: Option<String>,
    #[serde(default)]
    pub pcapng_url: Option<String>,
}

/// The relay's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sessions {
    pub open: Vec<SessionRow>,
    pub finished: Vec<SessionRow>,
}

/// An action on the student that cannot be undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Danger {
    Reset,
    Revoke,
}

impl Danger {
    /// The last part of its route.
    pub fn route(self) -> &'static str {
        match self {
            Danger::Reset => "reset",
            Danger::Revoke => "revoke",
        }
    }
}

/// Where the panel's actions are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Step {
    #[default]
    Idle,
    /// "Are you sure?" is on screen.
    Confirming(Danger),
    /// Sent; the relay has not answered yet.
    Working(Danger),
}

/// What the last action did, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StudentPanel {
    pub open: Vec<SessionRow>,
    pub finished: Vec<SessionRow>,
    /// When the sessions were read (Unix milliseconds): an open session's
    /// duration so far.
    pub loaded_at_ms: u64,
    pub loaded: bool,
    pub error: Option<String>,
    pub step: Step,
    pub outcome: Option<Outcome>,
}

pub enum PanelAction {
    Loaded {
        sessions: Sessions,
        now_ms: u64,
    },
    LoadFailed(String),
    Ask(Danger),
    Cancel,
    /// The instructor confirmed: the action is being sent.
    Confirm,
    /// The relay's answer to an action, or its reason for refusing it.
    Answered(Danger, Result<Value, String>),
}

/// One session of the list, as the view draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedSession<'a> {
    pub open: bool,
    pub row: &'a SessionRow,
    pub duration_ms: u64,
}

impl StudentPanel {
    pub fn apply(&mut self, action: PanelAction) {
        match action {
            PanelAction::Loaded { sessions, now_ms } => {
                self.open = newest_first(sessions.open);
                self.finished = newest_first(sessions.finished);
                self.loaded_at_ms = now_ms;
                self.loaded = true;
                self.error = None;
            }
            PanelAction::LoadFailed(message) => self.error = Some(message),
            PanelAction::Ask(danger) if self.idle() => {
                self.step = Step::Confirming(danger);
                self.outcome = None;
            }
            PanelAction::Cancel if self.confirming().is_some() => self.step = Step::Idle,
            PanelAction::Confirm => {
                if let Some(danger) = self.confirming() {
                    self.step = Step::Working(danger);
                }
            }
            PanelAction::Answered(danger, answer) if self.step == Step::Working(danger) => {
                self.step = Step::Idle;
                self.outcome = Some(match answer {
                    Ok(body) => Outcome {
                        ok: true,
                        text: describe(danger, &body),
                    },
                    Err(reason) => Outcome {
                        ok: false,
                        text: format!("Not done: {reason}"),
                    },
                });
            }
            // An action out of step (a double click) changes nothing.
            PanelAction::Ask(_) | PanelAction::Cancel | PanelAction::Answered(..) => {}
        }
    }

    fn idle(&self) -> bool {
        self.step == Step::Idle
    }

    /// The action waiting for its confirmation.
    pub fn confirming(&self) -> Option<Danger> {
        match self.step {
            Step::Confirming(danger) => Some(danger),
            _ => None,
        }
    }

    /// Open sessions first, then finished ones, each newest first.
    pub fn sessions(&self) -> Vec<ListedSession<'_>> {
        let open = self.open.iter().map(|row| ListedSession {
            open: true,
            row,
            duration_ms: self.loaded_at_ms.saturating_sub(row.started_ms),
        });
        let finished = self.finished.iter().map(|row| ListedSession {
            open: false,
            row,
            duration_ms: row.duration_ms.unwrap_or(0),
        });
        open.chain(finished).collect()
    }
}

fn newest_first(mut rows: Vec<SessionRow>) -> Vec<SessionRow> {
    rows.sort_by_key(|r| std::cmp::Reverse(r.started_ms));
    rows
}

/// The relay's answer to `danger`, in words.
fn describe(danger: Danger, body: &Value) -> String {
    match danger {
        Danger::Reset => {
            let mailboxes: Vec<&str> = body["mailboxes"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut done = Vec::new();
            if !mailboxes.is_empty() {
                done.push(format!(
                    "{} back to their seed messages ({})",
                    crate::plural::plural(mailboxes.len(), "mailbox"),
                    mailboxes.join(", ")
                ));
            }
            if body["ftp"].as_bool() == Some(true) {
                done.push("the FTP home back to the demo files".to_string());
            }
            if done.is_empty() {
                "Reset: nothing to reset (this relay runs no mail or FTP server).".into()
            } else {
                format!("Reset: {}.", done.join("; "))
            }
        }
        Danger::Revoke => {
            let ended = body["sessions_ended"].as_u64().unwrap_or(0);
            format!(
                "Revoked: their token no longer works; {} ended.",
                crate::plural::plural(usize::try_from(ended).unwrap_or(usize::MAX), "open session")
            )
        }
    }
}

impl Reducible for StudentPanel {
    type Action = PanelAction;

    fn reduce(self: Rc<Self>, action: PanelAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

/// A byte count for people: "512 B", "1.5 kB", "2.0 MB".
pub fn bytes(n: u64) -> String {
    const KB: f64 = 1000.0;
    // Display only: a rounding of a count past 2^53 does not matter.
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n < 1000 {
        format!("{n} B")
    } else if f < KB * KB {
        format!("{:.1} kB", f / KB)
    } else {
        format!("{:.1} MB", f / (KB * KB))
    }
}

/// A duration for people: "850 ms", "12 s", "3 min 4 s", "1 h 2 min".
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    match secs {
        0 => format!("{ms} ms"),
        1..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sessions() -> Sessions {
        serde_json::from_value(json!({
            "student": {"id": "s-a", "name": "Ann"},
            "open": [
                {"student": "s-a", "client": "127.0.0.1", "target": "smtp", "transport": "tcp",
                 "peer": "127.0.0.1:25", "started_ms": 9_000, "bytes_to_target": 5, "bytes_to_page": 7},
                {"student": "s-a", "client": "127.0.0.1", "target": "pop3", "transport": "tcp",
                 "peer": "127.0.0.1:110", "started_ms": 9_500, "bytes_to_target": 1, "bytes_to_page": 2}],
            "finished": [
                {"student": "s-a", "target": "upper-tcp", "transport": "tcp", "peer": "p", "client": "c",
                 "started_ms": 1_000, "duration_ms": 2_000, "bytes_to_target": 3, "bytes_to_page": 3,
                 "outcome": "closed by page", "recording": "r1",
                 "text_url": "/api/recordings/r1/text", "pcapng_url": "/api/recordings/r1/pcapng"},
                {"student": "s-a", "target": "http", "transport": "tcp", "peer": "p", "client": "c",
                 "started_ms": 4_000, "duration_ms": 100, "bytes_to_target": 80, "bytes_to_page": 900,
                 "outcome": "closed by peer"}]
        }))
        .unwrap()
    }

    fn loaded() -> StudentPanel {
        let mut panel = StudentPanel::default();
        panel.apply(PanelAction::Loaded {
            sessions: sessions(),
            now_ms: 10_000,
        });
        panel
    }

    #[test]
    fn open_sessions_come_first_each_newest_first_with_their_durations() {
        let panel = loaded();
        let listed: Vec<(bool, &str, u64)> = panel
            .sessions()
            .iter()
            .map(|s| (s.open, s.row.target.as_str(), s.duration_ms))
            .collect();
        assert_eq!(
            listed,
            [
                (true, "pop3", 500),
                (true, "smtp", 1_000),
                (false, "http", 100),
                (false, "upper-tcp", 2_000)
            ]
        );
        let recorded = &panel.sessions()[3];
        assert_eq!(
            recorded.row.text_url.as_deref(),
            Some("/api/recordings/r1/text")
        );
        assert_eq!(panel.sessions()[2].row.pcapng_url, None, "not recorded");
    }

    #[test]
    fn an_action_waits_for_its_confirmation_and_a_cancel_sends_nothing() {
        let mut panel = loaded();
        panel.apply(PanelAction::Confirm);
        assert_eq!(panel.step, Step::Idle, "nothing asked, nothing confirmed");
        panel.apply(PanelAction::Ask(Danger::Revoke));
        assert_eq!(panel.confirming(), Some(Danger::Revoke));
        panel.apply(PanelAction::Ask(Danger::Reset));
        assert_eq!(panel.confirming(), Some(Danger::Revoke), "one at a time");
        panel.apply(PanelAction::Cancel);
        assert_eq!(panel.step, Step::Idle);
        panel.apply(PanelAction::Ask(Danger::Reset));
        panel.apply(PanelAction::Confirm);
        assert_eq!(panel.step, Step::Working(Danger::Reset));
        panel.apply(PanelAction::Cancel);
        assert_eq!(panel.step, Step::Working(Danger::Reset), "too late");
    }

    #[test]
    fn the_outcome_says_what_the_relay_did_or_why_it_refused() {
        let mut panel = loaded();
        panel.apply(PanelAction::Ask(Danger::Reset));
        panel.apply(PanelAction::Confirm);
        // An answer to another action is not this one's.
        panel.apply(PanelAction::Answered(Danger::Revoke, Ok(json!({}))));
        assert_eq!(panel.outcome, None);
        let body = json!({"mailboxes": ["alice@wirelab.test", "bob@wirelab.test"], "ftp": true});
        panel.apply(PanelAction::Answered(Danger::Reset, Ok(body)));
        let outcome = panel.outcome.clone().unwrap();
        assert!(outcome.ok);
        assert_eq!(
            outcome.text,
            "Reset: 2 mailboxes back to their seed messages (alice@wirelab.test, \
             bob@wirelab.test); the FTP home back to the demo files."
        );
        assert_eq!(panel.step, Step::Idle);

        panel.apply(PanelAction::Ask(Danger::Revoke));
        assert_eq!(panel.outcome, None, "a new question clears the old answer");
        panel.apply(PanelAction::Confirm);
        panel.apply(PanelAction::Answered(
            Danger::Revoke,
            Ok(json!({"sessions_ended": 1})),
        ));
        assert_eq!(
            panel.outcome.clone().unwrap().text,
            "Revoked: their token no longer works; 1 open session ended."
        );

        panel.apply(PanelAction::Ask(Danger::Reset));
        panel.apply(PanelAction::Confirm);
        panel.apply(PanelAction::Answered(
            Danger::Reset,
            Err("a POP3 session holds alice@wirelab.test".into()),
        ));
        let refused = panel.outcome.clone().unwrap();
        assert!(!refused.ok);
        assert!(
            refused.text.contains("POP3 session holds"),
            "{}",
            refused.text
        );
    }

    #[test]
    fn a_failed_reload_keeps_the_sessions_shown() {
        let mut panel = loaded();
        panel.apply(PanelAction::LoadFailed("HTTP 500".into()));
        assert_eq!(panel.error.as_deref(), Some("HTTP 500"));
        assert_eq!(panel.sessions().len(), 4);
        panel.apply(PanelAction::Loaded {
            sessions: sessions(),
            now_ms: 10_000,
        });
        assert_eq!(panel.error, None);
    }

    #[test]
    fn counts_and_durations_read_as_people_say_them() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_500), "1.5 kB");
        assert_eq!(bytes(2_000_000), "2.0 MB");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_400), "12 s");
        assert_eq!(duration(184_000), "3 min 4 s");
        assert_eq!(duration(3_720_000), "1 h 2 min");
    }
}
