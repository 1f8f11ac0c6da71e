//! Exercises checked from live traffic: a [`Task`] is data (a TOML file),
//! a protocol, a catalog target and the [`Step`]s a learner's conversation
//! must show; [`Follow`] reads the bytes of one bridged connection into
//! [`Exchange`]s with the protocol's own engine, and [`check`] says whether
//! a learner's exchanges do the task, or what is still missing.
//!
//! Nothing here trusts the page: the caller (the relay) feeds the bytes it
//! bridged, each way, in order. Every connection is followed only so far
//! ([`follow::MAX_FOLLOWED_BYTES`]); keeping a learner's history bounded is
//! the caller's part.
//!
//! The lab's own tasks are [`DEFAULT_TASKS`], one file each, which the relay
//! writes to its data directory when missing, so an instructor can edit them
//! and add their own.

pub mod check;
pub mod follow;
pub mod task;

pub use check::{Verdict, check};
pub use follow::{Connection, Exchange, Follow, Reply, Request};
pub use task::{Page, Step, Task, TaskError, TaskProtocol, parse_task};

/// The lab's tasks, as `(file name, text)`, in the course's order.
pub const DEFAULT_TASKS: &[(&str, &str)] = &[
    task_file!("http-get-page"),
    task_file!("http-head"),
    task_file!("http-404"),
    task_file!("http-304-typed"),
    task_file!("http-400"),
    task_file!("http-auth"),
    task_file!("http-cookie"),
    task_file!("http-post-form"),
    task_file!("ftp-login"),
    task_file!("ftp-passive-list"),
    task_file!("ftp-active-retr"),
    task_file!("smtp-course-mail"),
    task_file!("smtp-two-mails"),
    task_file!("pop3-read-delete"),
    task_file!("pop3-list"),
    task_file!("dns-walk"),
    task_file!("dns-recursive"),
    task_file!("dns-mx"),
    task_file!("sockets-upper"),
    task_file!("sockets-source-port"),
];

macro_rules! task_file {
    ($id:literal) => {
        (
            concat!($id, ".toml"),
            include_str!(concat!("tasks/", $id, ".toml")),
        )
    };
}
use task_file;

/// The default tasks, parsed.
pub fn default_tasks() -> Vec<Task> {
    DEFAULT_TASKS
        .iter()
        .filter_map(|(file, text)| parse_task(file, text).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_task_parses_and_is_named_after_its_file() {
        for (file, text) in DEFAULT_TASKS {
            let task = parse_task(file, text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format!("{}.toml", task.id), *file);
        }
        assert_eq!(default_tasks().len(), DEFAULT_TASKS.len());
        assert!(DEFAULT_TASKS.len() >= 15);
    }

    #[test]
    fn every_page_has_tasks() {
        let tasks = default_tasks();
        for page in [
            Page::Http,
            Page::Smtp,
            Page::Pop3,
            Page::Ftp,
            Page::Dns,
            Page::Sockets,
        ] {
            assert!(tasks.iter().any(|t| t.page == page), "{page:?}");
        }
    }
}
