//! What the caching proxy reports (`GET /api/proxy/log`, `GET
//! /api/proxy/cache`), made ready for the HTTP page: each cache entry's age
//! and freshness left on the page's clock, each request's outcome as a
//! short key, the page's own exchanges paired with the log's rows, and the
//! proxy's upstream conversation as arrows of the timeline. Plain Rust, so
//! it is tested natively; the hook that fetches the figures is
//! [`crate::hooks::proxy_log`].

use crate::components::timeline::{Arrow, ArrowKind, Lane};
use serde::Deserialize;
use std::rc::Rc;
use wirelab_shared::conversation::{Message, Sender};
use wirelab_shared::http::cache_store::EntryView;
use wirelab_shared::http::draft::origin_form_of;
use wirelab_shared::http::message::parse_head;

/// One row of `GET /api/proxy/log`, the fields the page shows (the
/// relay's `servers::proxy::log::LogEntry`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogRow {
    pub id: u64,
    /// The request line the client sent.
    pub request: String,
    /// `hit`, `miss`, `miss, not stored`, `revalidated`, `refetched`, ...
    pub outcome: String,
    pub status: u16,
    pub cache_status: String,
    pub age: u64,
    pub upstream: Option<Upstream>,
    pub total_ms: u64,
    pub note: Option<String>,
}

/// What the proxy sent the origin and what came back.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Upstream {
    pub origin: String,
    /// The request head as sent.
    pub request: String,
    /// The validators of a revalidation, `If-None-Match: "…"`.
    pub conditional: Vec<String>,
    pub status: Option<u16>,
    pub ms: u64,
}

/// The proxy's figures as last fetched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProxySnapshot {
    pub log: Rc<Vec<LogRow>>,
    pub cache: Rc<Vec<EntryView>>,
    /// The page clock ([`crate::now_ms`]) when the cache was fetched: the
    /// API's ages and freshness are as of then.
    pub fetched_at_ms: f64,
    /// Why the last fetch failed, if it did.
    pub error: Option<String>,
}

/// An entry's freshness left at `now_ms`, in milliseconds (negative once
/// stale): the API's figure, less the time since it was fetched.
pub fn fresh_ms(entry: &EntryView, fetched_at_ms: f64, now_ms: f64) -> i64 {
    entry.ttl_secs.saturating_mul(1000) - elapsed_ms(fetched_at_ms, now_ms)
}

/// An entry's age at `now_ms`, in whole seconds.
pub fn age_secs(entry: &EntryView, fetched_at_ms: f64, now_ms: f64) -> u64 {
    entry.age_secs + elapsed_ms(fetched_at_ms, now_ms).unsigned_abs() / 1000
}

fn elapsed_ms(fetched_at_ms: f64, now_ms: f64) -> i64 {
    (now_ms - fetched_at_ms).max(0.0) as i64
}

/// The outcome's key for `data-outcome` and its colour: its first word
/// (`miss, not stored` is a `miss`).
pub fn outcome_key(outcome: &str) -> &str {
    outcome.split([',', ' ']).next().unwrap_or(outcome)
}

/// One request of the page's transcript and the response to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// The request's first line.
    pub request_line: String,
    /// The response's message id.
    pub response: usize,
    /// When the response's first byte arrived (the session's clock).
    pub response_ms: f64,
    /// Its `Cache-Status`, as the response says it.
    pub cache_status: Option<String>,
}

/// The page's exchanges in order: on a connection, the n-th response
/// answers the n-th request not yet answered.
pub fn exchanges(messages: &[Rc<Message>]) -> Vec<Exchange> {
    let mut waiting = std::collections::VecDeque::new();
    let mut out = Vec::new();
    for (id, m) in messages.iter().enumerate() {
        match m.sender {
            Sender::Client => waiting.push_back(first_line(&m.bytes)),
            Sender::Server => {
                let Some(request_line) = waiting.pop_front() else {
                    continue;
                };
                out.push(Exchange {
                    request_line,
                    response: id,
                    response_ms: m.first_ms,
                    cache_status: header(&m.bytes, "Cache-Status"),
                });
            }
        }
    }
    out
}

fn first_line(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn header(bytes: &[u8], name: &str) -> Option<String> {
    parse_head(bytes)
        .fields(bytes)
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.value.clone())
}

/// Method and path of a request line, however its target is written:
/// the log's lines are in the proxy's own spelling of the URI.
fn request_key(line: &str) -> Option<(String, String)> {
    let mut words = line.split(' ');
    let method = words.next()?.to_string();
    let path = origin_form_of(words.next()?)?;
    Some((method, path))
}

/// For each exchange, the log row that stands for it, if any: both are
/// walked from the newest, an exchange taking the newest unclaimed row
/// with its method and path (others' requests in the log are skipped).
pub fn pair_with_log<'a>(exchanges: &[Exchange], log: &'a [LogRow]) -> Vec<Option<&'a LogRow>> {
    let mut paired = vec![None; exchanges.len()];
    let mut rows = log.iter().rev();
    for (slot, exchange) in paired.iter_mut().zip(exchanges).rev() {
        let Some(key) = request_key(&exchange.request_line) else {
            continue;
        };
        // Rows are consumed: an older exchange only gets an older row.
        let mut remaining = rows.clone();
        if let Some(row) = remaining.find(|row| request_key(&row.request).as_ref() == Some(&key)) {
            *slot = Some(row);
            rows = remaining;
        }
    }
    paired
}

/// The lane the proxy's upstream conversation gets.
pub fn origin_lane_label(log: &[LogRow]) -> String {
    let origin = log
        .iter()
        .rev()
        .find_map(|r| r.upstream.as_ref().map(|u| u.origin.clone()))
        .unwrap_or_else(|| "the origin".into());
    format!("origin {origin} (the proxy's side, as the relay reports it)")
}

/// Adds the origin's lane and, for each exchange the proxy went upstream
/// for, its request and the origin's answer, drawn from the proxy's lane
/// (the one the response came from) and ending as the response leaves:
/// the relay gives how long the upstream exchange took, not the page's
/// clock, so that is where it is placed.
pub fn with_upstream_lane(
    lanes: &[Lane],
    arrows: &[Arrow],
    exchanges: &[Exchange],
    rows: &[Option<&LogRow>],
) -> Option<(Vec<Lane>, Vec<Arrow>)> {
    let origin = lanes.len();
    let mut added = Vec::new();
    for (exchange, row) in exchanges.iter().zip(rows) {
        let Some((row, upstream)) = row.and_then(|r| r.upstream.as_ref().map(|u| (r, u))) else {
            continue;
        };
        let Some(proxy) = arrows
            .iter()
            .find(|a| a.message == Some(exchange.response))
            .map(|a| a.from)
        else {
            continue;
        };
        let end = exchange.response_ms;
        let start = (end - upstream.ms as f64).max(0.0);
        let mut asked = first_line(upstream.request.as_bytes());
        if !upstream.conditional.is_empty() {
            asked = format!("{asked} + {}", upstream.conditional.join(", "));
        }
        let answered = match upstream.status {
            Some(status) => format!("{status} ({})", row.outcome),
            None => format!("no answer ({})", row.outcome),
        };
        added.push(upstream_arrow(
            proxy,
            origin,
            start,
            asked,
            ArrowKind::Request,
        ));
        added.push(upstream_arrow(
            origin,
            proxy,
            end,
            answered,
            ArrowKind::Response,
        ));
    }
    if added.is_empty() {
        return None;
    }
    let mut lanes = lanes.to_vec();
    lanes.push(Lane {
        label: origin_lane_label(
            &rows
                .iter()
                .flatten()
                .map(|r| (*r).clone())
                .collect::<Vec<_>>(),
        ),
    });
    let mut arrows = arrows.to_vec();
    arrows.extend(added);
    arrows.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
    Some((lanes, arrows))
}

fn upstream_arrow(from: usize, to: usize, t_ms: f64, label: String, kind: ArrowKind) -> Arrow {
    Arrow {
        from,
        to,
        t_ms,
        label,
        kind,
        message: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirelab_shared::http::cache::LifetimeSource;

    fn entry(ttl_secs: i64, age_secs: u64) -> EntryView {
        EntryView {
            uri: "http://127.0.0.1:8081/cache/fresh.txt?max-age=2".into(),
            vary: vec![],
            status: 200,
            bytes: 10,
            age_secs,
            lifetime_secs: 2,
            lifetime_source: LifetimeSource::MaxAge,
            ttl_secs,
            fresh: ttl_secs > 0,
            hits: 0,
            etag: None,
            last_modified: None,
            stored_at: 0,
            revalidated_at: None,
        }
    }

    fn message(sender: Sender, text: &str, at: f64) -> Rc<Message> {
        Rc::new(Message {
            sender,
            bytes: text.as_bytes().to_vec(),
            first_ms: at,
            last_ms: at,
            dissection: wirelab_shared::dissect::Dissection::new(
                wirelab_shared::dissect::Protocol::Http,
                "",
                text.len(),
            ),
            complete: true,
        })
    }

    fn row(id: u64, request: &str, outcome: &str, upstream: Option<u16>) -> LogRow {
        LogRow {
            id,
            request: request.into(),
            outcome: outcome.into(),
            status: 200,
            cache_status: String::new(),
            age: 0,
            upstream: upstream.map(|status| Upstream {
                origin: "127.0.0.1:8081".into(),
                request: "GET /cache/fresh.txt?max-age=2 HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n\r\n"
                    .into(),
                conditional: if status == 304 {
                    vec!["If-None-Match: \"x\"".into()]
                } else {
                    vec![]
                },
                status: Some(status),
                ms: 30,
            }),
            total_ms: 31,
            note: None,
        }
    }

    const LINE: &str = "GET http://127.0.0.1:8081/cache/fresh.txt?max-age=2 HTTP/1.1";

    #[test]
    fn freshness_counts_down_on_the_page_clock() {
        let e = entry(2, 0);
        assert_eq!(fresh_ms(&e, 1000.0, 1000.0), 2000);
        assert_eq!(fresh_ms(&e, 1000.0, 2500.0), 500);
        assert_eq!(fresh_ms(&e, 1000.0, 4000.0), -1000);
        // A clock read before the fetch does not add freshness.
        assert_eq!(fresh_ms(&e, 1000.0, 0.0), 2000);
        assert_eq!(age_secs(&entry(-1, 3), 0.0, 2100.0), 5);
    }

    #[test]
    fn outcomes_have_short_keys() {
        assert_eq!(outcome_key("miss, not stored"), "miss");
        assert_eq!(outcome_key("revalidated"), "revalidated");
        assert_eq!(outcome_key(""), "");
    }

    #[test]
    fn the_pages_exchanges_pair_with_the_newest_matching_rows() {
        let ok = "HTTP/1.1 200 OK\r\nCache-Status: wirelab; hit\r\nContent-Length: 0\r\n\r\n";
        let messages = vec![
            message(Sender::Client, &format!("{LINE}\r\nHost: a\r\n\r\n"), 0.0),
            message(Sender::Server, ok, 50.0),
            message(Sender::Client, &format!("{LINE}\r\nHost: a\r\n\r\n"), 60.0),
            message(Sender::Server, ok, 70.0),
        ];
        let ex = exchanges(&messages);
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[1].response, 3);
        assert_eq!(ex[0].cache_status.as_deref(), Some("wirelab; hit"));
        // Someone else's request in between is skipped; the oldest row
        // has no exchange left.
        let log = vec![
            row(1, LINE, "miss", Some(200)),
            row(2, LINE, "miss", Some(200)),
            row(
                3,
                "GET http://127.0.0.1:8081/other HTTP/1.1",
                "miss",
                Some(200),
            ),
            row(4, LINE, "hit", None),
        ];
        let paired = pair_with_log(&ex, &log);
        let ids: Vec<_> = paired.iter().map(|r| r.map(|r| r.id)).collect();
        assert_eq!(ids, [Some(2), Some(4)]);
        // Nothing in the log: nothing paired.
        assert_eq!(pair_with_log(&ex, &[]), vec![None, None]);
    }

    #[test]
    fn upstream_exchanges_become_the_origins_lane() {
        let lanes = vec![
            Lane {
                label: "client".into(),
            },
            Lane {
                label: "proxy".into(),
            },
        ];
        let response = |message, t_ms| Arrow {
            from: 1,
            to: 0,
            t_ms,
            label: "200 OK".into(),
            kind: ArrowKind::Response,
            message: Some(message),
        };
        let arrows = vec![response(1, 100.0), response(3, 200.0)];
        let ex = |response, response_ms| Exchange {
            request_line: LINE.into(),
            response,
            response_ms,
            cache_status: None,
        };
        let exchanges = [ex(1, 100.0), ex(3, 200.0)];
        let revalidated = row(5, LINE, "revalidated", Some(304));
        let hit = row(6, LINE, "hit", None);
        let (lanes, arrows) = with_upstream_lane(
            &lanes,
            &arrows,
            &exchanges,
            &[Some(&revalidated), Some(&hit)],
        )
        .expect("an upstream exchange");
        assert_eq!(lanes.len(), 3);
        assert!(
            lanes[2].label.contains("as the relay reports it"),
            "{}",
            lanes[2].label
        );
        let upstream: Vec<_> = arrows.iter().filter(|a| a.from == 2 || a.to == 2).collect();
        assert_eq!(upstream.len(), 2, "the hit went nowhere");
        assert_eq!((upstream[0].from, upstream[0].t_ms), (1, 70.0));
        assert!(
            upstream[0].label.contains("If-None-Match"),
            "{}",
            upstream[0].label
        );
        assert_eq!(upstream[1].label, "304 (revalidated)");
        // Only hits: no origin lane at all.
        assert_eq!(
            with_upstream_lane(&lanes[..2], &arrows[..0], &exchanges, &[Some(&hit), None]),
            None
        );
    }
}
