//! A task as an instructor writes it: a TOML file naming the page it
//! belongs to, the protocol and catalog target it is done against, and the
//! steps the followed conversation must show, in order.
//!
//! [`parse_task`] reads one file; a file that is not a task is an error
//! naming the file, the line and the reason (the `toml` crate gives every
//! error, ours included, the span of the value it is about).

use serde::{Deserialize, Deserializer, Serialize};

/// The protocols a task can be checked over: how the bytes are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskProtocol {
    Http,
    Smtp,
    Pop3,
    Ftp,
    Dns,
    /// A line protocol without state: the uppercase servers.
    Line,
}

impl TaskProtocol {
    /// The protocol of a catalog entry (`TargetInfo::protocol`), if tasks
    /// know it.
    pub fn from_catalog(protocol: &str) -> Option<TaskProtocol> {
        Some(match protocol {
            "http" => TaskProtocol::Http,
            "smtp" => TaskProtocol::Smtp,
            "pop3" => TaskProtocol::Pop3,
            "ftp" => TaskProtocol::Ftp,
            "dns" => TaskProtocol::Dns,
            "line" => TaskProtocol::Line,
            _ => return None,
        })
    }
}

/// The pages of the lab a task can sit on (the router's paths, without `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Page {
    Http,
    Smtp,
    Pop3,
    Ftp,
    Dns,
    Sockets,
}

impl Page {
    pub fn as_str(self) -> &'static str {
        match self {
            Page::Http => "http",
            Page::Smtp => "smtp",
            Page::Pop3 => "pop3",
            Page::Ftp => "ftp",
            Page::Dns => "dns",
            Page::Sockets => "sockets",
        }
    }
}

/// One task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Stable id: lower-case letters, digits and dashes.
    #[serde(deserialize_with = "task_id")]
    pub id: String,
    pub page: Page,
    pub title: String,
    pub hint: String,
    pub protocol: TaskProtocol,
    /// The catalog name of the server the steps talk to (a step may name
    /// another, as a DNS walk does).
    pub target: String,
    /// How many messages (requests and replies) the steps may take at
    /// most, from the first step's request to the last step's reply: the
    /// course's "8 messages" of an iterative resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<usize>,
    /// Every step on one connection (SMTP's persistent session).
    #[serde(default)]
    pub one_connection: bool,
    #[serde(rename = "step", deserialize_with = "some_steps")]
    pub steps: Vec<Step>,
}

/// What one exchange (a request and its replies) must show. Every field
/// left out is not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Step {
    /// What the step is, for the student: "a conditional GET for the kiwi".
    pub what: String,
    /// The catalog name of the server, when not the task's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The method, verb or command (any case); for a DNS query, its type
    /// (`A`, `MX`); `(message text)` for the text SMTP takes after DATA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The request's argument, whole (any case): a path, an address, a
    /// queried name without its final dot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
    /// Text the argument must contain (any case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument_contains: Option<String>,
    /// HTTP: the request carries at least one of these headers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header_any: Vec<String>,
    /// HTTP: the request is not one of the page's templates sent as it
    /// stands (see [`super::follow::Request::template`]).
    pub typed: bool,
    /// DNS: the query's RD flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recursion_desired: Option<bool>,
    /// The line holds the source port of the connection, as the server saw it.
    pub sends_source_port: bool,
    /// The status or reply code of the final reply (HTTP, SMTP, FTP; the
    /// RCODE for DNS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<u16>,
    /// The final reply is positive (2xx/3xx, `+OK`, NOERROR) or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_ok: Option<bool>,
    /// Text the reply must contain (any case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_contains: Option<String>,
    /// DNS: the reply has at least one record in its answer section.
    pub reply_has_answer: bool,
}

/// A task file that is not a task: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct TaskError {
    pub file: String,
    /// 1-based; 0 when the reason has no place in the file.
    pub line: usize,
    pub reason: String,
}

/// Reads the task in `text`, the file `file`.
pub fn parse_task(file: &str, text: &str) -> Result<Task, TaskError> {
    toml::from_str::<Task>(text).map_err(|e| TaskError {
        file: file.to_string(),
        line: e
            .span()
            .map_or(0, |span| line_of(text, span.start.min(text.len()))),
        reason: e.message().trim().to_string(),
    })
}

/// The 1-based line of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn task_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let id = String::deserialize(d)?;
    let fine = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if fine {
        Ok(id)
    } else {
        Err(serde::de::Error::custom(format!(
            "the id {id:?} must be 1 to 64 lower-case letters, digits and dashes"
        )))
    }
}

fn some_steps<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Step>, D::Error> {
    let steps = Vec::<Step>::deserialize(d)?;
    if steps.is_empty() {
        return Err(serde::de::Error::custom(
            "a task needs at least one [[step]]",
        ));
    }
    if let Some(step) = steps.iter().find(|s| s.what.trim().is_empty()) {
        return Err(serde::de::Error::custom(format!(
            "every [[step]] needs a `what` for the student ({step:?} has none)"
        )));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "demo"
page = "http"
title = "t"
hint = "h"
protocol = "http"
target = "http"

[[step]]
what = "a GET"
command = "GET"
reply = 200
"#;

    #[test]
    fn a_task_reads() {
        let task = parse_task("demo.toml", GOOD).unwrap();
        assert_eq!(task.steps.len(), 1);
        assert_eq!(task.steps[0].reply, Some(200));
        assert_eq!(task.page, Page::Http);
    }

    #[test]
    fn a_bad_value_names_file_line_and_reason() {
        let text = GOOD.replace("reply = 200", "reply = \"ok\"");
        let e = parse_task("tasks/demo.toml", &text).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("tasks/demo.toml", 12));
        assert!(e.reason.contains("expected u16"), "{e}");
        assert!(e.to_string().starts_with("tasks/demo.toml:12: "), "{e}");
    }

    #[test]
    fn an_unknown_key_and_a_bad_id_are_named() {
        let e = parse_task("a.toml", &GOOD.replace("reply = 200", "replie = 200")).unwrap_err();
        assert_eq!(e.line, 12);
        assert!(e.reason.contains("replie"), "{e}");
        let e = parse_task("a.toml", &GOOD.replace("\"demo\"", "\"Demo!\"")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("lower-case"), "{e}");
        let e = parse_task(
            "a.toml",
            &GOOD.replace("page = \"http\"", "page = \"imap\""),
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn a_task_without_steps_or_broken_toml_is_refused() {
        let cut = GOOD.split("[[step]]").next().unwrap().to_string() + "step = []\n";
        let e = parse_task("a.toml", &cut).unwrap_err();
        assert!(e.reason.contains("at least one"), "{e}");
        let e = parse_task("a.toml", "id = \"x\"\npage = \n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
