//! Whether a learner's followed exchanges do a task: its steps must be
//! found in order among the exchanges (other exchanges may come between;
//! with `one_connection`, all on the first step's connection), and with
//! `messages`, the run from the first step's request to the last
//! step's reply must take exactly that many messages.
//!
//! When they do not, the verdict names what is missing, as close as the
//! learner came: "a 304 came back, but the request was the page's template
//! as it stands" rather than only "no conditional GET yet".

use super::follow::Exchange;
use super::task::{Step, Task};
use serde::Serialize;

/// A task's state for one learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verdict {
    Passed,
    /// Not yet: the step reached and what it still lacks; `tried` when
    /// some exchange went part of the way (the right request with the
    /// wrong answer, a step done), not only "not seen yet".
    Missing {
        step: usize,
        reason: String,
        tried: bool,
    },
}

impl Verdict {
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed)
    }
}

/// How far an exchange went towards a step before it failed: the later
/// the check that failed, the nearer the miss.
struct Miss {
    depth: u8,
    reason: String,
}

/// Checks `task` over `history`, the learner's exchanges in the order they
/// finished.
pub fn check(task: &Task, history: &[Exchange]) -> Verdict {
    let mut best: Option<(usize, Miss)> = None;
    let mut remember = |step: usize, miss: Miss| {
        let nearer = best
            .as_ref()
            .is_none_or(|(s, m)| step > *s || (step == *s && miss.depth > m.depth));
        if nearer {
            best = Some((step, miss));
        }
    };
    // parse_task refuses a task without steps; one built by hand is not done.
    let Some(first) = task.steps.first() else {
        return Verdict::Missing {
            step: 0,
            reason: "the task has no steps".to_string(),
            tried: false,
        };
    };
    let starts = (0..history.len()).filter(|&i| matches(task, first, &history[i]));
    let mut tried_any = false;
    for start in starts {
        tried_any = true;
        let connection = history[start].connection;
        let on_it = |e: &Exchange| !task.one_connection || e.connection == connection;
        match match_from(task, history, start, &on_it) {
            Ok(end) => match count_check(task, history, start, end) {
                Ok(()) => return Verdict::Passed,
                Err(miss) => remember(task.steps.len(), miss),
            },
            Err((step, from)) => {
                let rest: Vec<Exchange> = history[from..]
                    .iter()
                    .filter(|e| on_it(e))
                    .cloned()
                    .collect();
                remember(step, nearest_miss(task, step, &rest))
            }
        }
    }
    if !tried_any {
        remember(0, nearest_miss(task, 0, history));
    }
    let (step, miss) = best.expect("a miss was remembered");
    Verdict::Missing {
        step: step.min(task.steps.len() - 1),
        reason: miss.reason,
        tried: step > 0 || miss.depth > 0,
    }
}

/// Matches the steps after the first, which `history[start]` matched,
/// greedily: the index of the exchange that matched the last step, or the
/// step not found and where its search began.
fn match_from(
    task: &Task,
    history: &[Exchange],
    start: usize,
    on_it: &dyn Fn(&Exchange) -> bool,
) -> Result<usize, (usize, usize)> {
    let mut at = start;
    for (k, step) in task.steps.iter().enumerate().skip(1) {
        let from = at + 1;
        match history[from..]
            .iter()
            .position(|e| on_it(e) && matches(task, step, e))
        {
            Some(offset) => at = from + offset,
            None => return Err((k, from)),
        }
    }
    Ok(at)
}

fn count_check(task: &Task, history: &[Exchange], start: usize, end: usize) -> Result<(), Miss> {
    let Some(most) = task.max_messages else {
        return Ok(());
    };
    let took: usize = history[start..=end].iter().map(Exchange::messages).sum();
    if took <= most {
        return Ok(());
    }
    Err(Miss {
        depth: u8::MAX,
        reason: format!(
            "every step was done, but in {took} messages, more than {most}: start again and send \
             only what each step needs"
        ),
    })
}

fn matches(task: &Task, step: &Step, exchange: &Exchange) -> bool {
    step_miss(task, step, exchange).is_none()
}

/// The nearest miss of step `k` among `exchanges`.
fn nearest_miss(task: &Task, k: usize, exchanges: &[Exchange]) -> Miss {
    let step = &task.steps[k];
    exchanges
        .iter()
        .filter_map(|e| step_miss(task, step, e))
        .filter(|m| m.depth > 0)
        .max_by_key(|m| m.depth)
        .unwrap_or_else(|| Miss {
            depth: 0,
            reason: format!("not seen yet: {}", step.what),
        })
}

/// Why `exchange` is not `step`, or `None` when it is.
fn step_miss(task: &Task, step: &Step, exchange: &Exchange) -> Option<Miss> {
    let miss = |depth: u8, reason: String| {
        Some(Miss {
            depth,
            reason: format!("{}: {reason}", step.what),
        })
    };
    let target = step.target.as_deref().unwrap_or(&task.target);
    let Some(request) = exchange.request.as_ref() else {
        return miss(0, String::new());
    };
    if !same_target(target, &exchange.target) {
        return miss(0, String::new());
    }
    if let Some(verb) = &step.command
        && !verb.eq_ignore_ascii_case(&request.verb)
    {
        return miss(0, String::new());
    }
    let sent = format!("{} {}", request.verb, request.argument);
    let sent = sent.trim();
    if let Some(argument) = &step.argument
        && !argument.eq_ignore_ascii_case(&request.argument)
    {
        return miss(
            1,
            format!("\"{sent}\" was sent, for {argument} it should be"),
        );
    }
    if let Some(part) = &step.argument_contains
        && !contains_ignoring_case(&request.argument, part)
    {
        return miss(1, format!("\"{sent}\" was sent, without {part}"));
    }
    if let Some(reason) = request_miss(step, exchange, sent) {
        return miss(2, reason);
    }
    if let Some(reason) = reply_miss(step, exchange, sent) {
        return miss(3, reason);
    }
    if step.typed
        && let Some(template) = request.template
    {
        let code = exchange.final_reply().and_then(|r| r.code);
        let got = code.map_or("the answer".to_string(), |c| format!("a {c}"));
        return miss(
            4,
            format!(
                "{got} came back, but the request was the page's template \"{template}\" as it \
                 stands (the page pastes the last ETag in by itself): type the request, with the \
                 conditional header, yourself"
            ),
        );
    }
    None
}

/// What the request itself lacks, beyond its verb and argument.
fn request_miss(step: &Step, exchange: &Exchange, sent: &str) -> Option<String> {
    let request = exchange.request.as_ref()?;
    if !step.header_any.is_empty()
        && !request
            .headers
            .iter()
            .any(|(name, _)| step.header_any.iter().any(|h| h.eq_ignore_ascii_case(name)))
    {
        return Some(format!(
            "\"{sent}\" was sent without {}",
            step.header_any.join(" or ")
        ));
    }
    if let Some(rd) = step.recursion_desired
        && request.recursion_desired != Some(rd)
    {
        return Some(if rd {
            format!("\"{sent}\" did not ask for recursion: set RD")
        } else {
            format!("\"{sent}\" asked for recursion (RD=1): ask each server yourself, RD=0")
        });
    }
    if step.sends_source_port {
        let Some(port) = exchange.source_port.map(|p| p.to_string()) else {
            return Some("the relay did not learn this connection's source port".to_string());
        };
        let holds_port = request
            .text
            .split(|c: char| !c.is_ascii_digit())
            .any(|n| n == port);
        if !holds_port {
            return Some(format!(
                "\"{}\" does not hold the source port the server saw",
                request.text
            ));
        }
    }
    None
}

/// What the final reply lacks.
fn reply_miss(step: &Step, exchange: &Exchange, sent: &str) -> Option<String> {
    let wants_reply = step.reply.is_some()
        || step.reply_ok.is_some()
        || step.reply_contains.is_some()
        || step.reply_has_answer;
    if !wants_reply {
        return None;
    }
    let Some(reply) = exchange.final_reply() else {
        return Some(format!("\"{sent}\" got no answer"));
    };
    let got = || match reply.code {
        Some(code) => code.to_string(),
        None => first_line(&reply.text).to_string(),
    };
    if let Some(code) = step.reply
        && reply.code != Some(code)
    {
        return Some(format!("\"{sent}\" was answered {}, not {code}", got()));
    }
    if let Some(ok) = step.reply_ok
        && reply.ok != ok
    {
        let wanted = if ok { "a positive reply" } else { "a refusal" };
        return Some(format!("\"{sent}\" was answered {}, not {wanted}", got()));
    }
    if let Some(part) = &step.reply_contains
        && !contains_ignoring_case(&reply.text, part)
    {
        return Some(format!("the answer to \"{sent}\" does not say {part}"));
    }
    if step.reply_has_answer && reply.answers == 0 {
        return Some(format!("the reply to \"{sent}\" has no answer record"));
    }
    None
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// `dns-root` and `dns-root-tcp` are one server.
fn same_target(wanted: &str, seen: &str) -> bool {
    let base = |name: &str| crate::catalog::split_paired(name).0.to_string();
    wanted == seen || base(wanted) == base(seen)
}

fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}
