//! `/cache/...` on the reference web server: objects whose caching fields
//! make the course's web-cache sequence happen through the proxy (a miss,
//! hits, an expired object revalidated with a 304, a changed object
//! fetched again), one rule of RFC 9111 each. Query parameters choose the
//! times, so a test or a student need not wait a minute:
//!
//! - `fresh.txt?max-age=N` — never changes; `Cache-Control: max-age=N`
//!   (30 s by default), ETag and Last-Modified to revalidate with;
//! - `changing.txt?every=N&max-age=M` — a new version every N s (60), each
//!   with its own ETag and Last-Modified, fresh for M s (10);
//! - `expires.txt?in=N` — `Expires` N s after now (30), no max-age;
//! - `heuristic.txt` — Last-Modified only: the cache guesses (§4.2.2);
//! - `no-store.txt`, `private.txt` — never kept by a shared cache;
//! - `vary.txt` — `Vary: Accept-Language`, in French or English;
//! - `big.bin?kib=N` — N KiB (2048 by default, 4096 at most), for the
//!   proxy's largest cached object.

use super::cache::{Fields, values_of};
use super::date::format_imf;
use super::response::Response;
use super::site::{PAGES_LAST_MODIFIED, Reply, Request, etag_of, not_modified, only_get_head};
use super::url::form_pairs;

/// Longest `big.bin`: the web server's own bound on what it builds.
const MAX_BIG_KIB: u64 = 4096;

/// Longest time a parameter may give, a day: enough for any lesson.
const MAX_SECS: u64 = 86_400;

/// A `/cache/` object as the origin describes it.
struct Object {
    body: Vec<u8>,
    content_type: &'static str,
    last_modified: Option<i64>,
    /// Caching fields besides ETag and Last-Modified.
    fields: Vec<(&'static str, String)>,
}

/// Answers `/cache/<name>`.
pub fn respond(req: &Request, name: &str, query: &str, now: i64) -> Reply {
    if let Some(refusal) = only_get_head(req) {
        return refusal;
    }
    let param = |key: &str, default: u64| {
        form_pairs(query)
            .into_iter()
            .find(|p| p.name == key)
            .and_then(|p| p.value.parse::<u64>().ok())
            .unwrap_or(default)
            .min(MAX_SECS)
    };
    let object = match name {
        "" | "index.html" => return index(),
        "fresh.txt" => fresh(param("max-age", 30)),
        "changing.txt" => changing(now, param("every", 60).max(1), param("max-age", 10)),
        "expires.txt" => expires(now, param("in", 30)),
        "heuristic.txt" => text(
            "Only Last-Modified: a cache guesses a lifetime, a tenth of the time since it changed.\n",
            vec![],
        ),
        "no-store.txt" => text(
            "Cache-Control: no-store: no cache may keep this.\n",
            vec![("Cache-Control", "no-store".into())],
        ),
        "private.txt" => text(
            "Cache-Control: private: your browser may keep this, a shared proxy may not.\n",
            vec![("Cache-Control", "private, max-age=60".into())],
        ),
        "vary.txt" => vary(req),
        "big.bin" => big(param("kib", 2048).min(MAX_BIG_KIB)),
        _ => {
            return Response::html(
                404,
                "404 Not Found",
                "<p>No such object in /cache/; <a href=\"/cache/\">the list</a>.</p>",
            )
            .into();
        }
    };
    serve(req, object)
}

/// The object, or a 304 with its caching fields when the request's
/// validators match (RFC 9110 §15.4.5 asks for them on the 304 too).
fn serve(req: &Request, object: Object) -> Reply {
    let etag = etag_of(&object.body);
    let modified = object.last_modified.unwrap_or(i64::MAX);
    let mut response = if not_modified(req, &etag, modified) {
        Response::new(304)
    } else {
        Response::new(200).body(object.content_type, object.body)
    };
    response = response.header("ETag", etag);
    if let Some(at) = object.last_modified {
        response = response.header("Last-Modified", format_imf(at));
    }
    for (name, value) in object.fields {
        response = response.header(name, value);
    }
    response.into()
}

fn text(body: &str, fields: Vec<(&'static str, String)>) -> Object {
    Object {
        body: body.as_bytes().to_vec(),
        content_type: "text/plain; charset=utf-8",
        last_modified: Some(PAGES_LAST_MODIFIED),
        fields,
    }
}

fn fresh(max_age: u64) -> Object {
    text(
        &format!(
            "This object never changes; it is fresh for {max_age} s, then a cache asks with If-None-Match.\n"
        ),
        vec![("Cache-Control", format!("max-age={max_age}"))],
    )
}

fn changing(now: i64, every: u64, max_age: u64) -> Object {
    let every = every as i64;
    let version = now.div_euclid(every);
    let since = version * every;
    Object {
        body: format!(
            "Version {version} of this object, made at {}: a new one comes every {every} s.\n",
            format_imf(since)
        )
        .into_bytes(),
        content_type: "text/plain; charset=utf-8",
        last_modified: Some(since),
        fields: vec![("Cache-Control", format!("max-age={max_age}"))],
    }
}

fn expires(now: i64, secs: u64) -> Object {
    let mut object = text(
        &format!("Fresh until the Expires date, {secs} s after it was sent.\n"),
        vec![],
    );
    object
        .fields
        .push(("Expires", format_imf(now.saturating_add(secs as i64))));
    object
}

fn vary(req: &Request) -> Object {
    let french = values_of(&req.headers as &Fields, "accept-language")
        .iter()
        .any(|v| v.trim_start().starts_with("fr"));
    let (body, language) = if french {
        ("Bonjour ! Une copie par langue dans le cache.\n", "fr")
    } else {
        ("Hello! One copy per language in the cache.\n", "en")
    };
    text(
        body,
        vec![
            ("Cache-Control", "max-age=60".into()),
            ("Vary", "Accept-Language".into()),
            ("Content-Language", language.into()),
        ],
    )
}

fn big(kib: u64) -> Object {
    Object {
        body: vec![b'x'; (kib * 1024) as usize],
        content_type: "application/octet-stream",
        last_modified: Some(PAGES_LAST_MODIFIED),
        fields: vec![("Cache-Control", "max-age=60".into())],
    }
}

fn index() -> Reply {
    let items = [
        (
            "fresh.txt?max-age=10",
            "fresh for max-age seconds, then revalidated (304)",
        ),
        (
            "changing.txt?every=60&max-age=10",
            "a new version every minute: revalidation brings a 200",
        ),
        ("expires.txt?in=30", "fresh until Expires"),
        (
            "heuristic.txt",
            "Last-Modified only: the heuristic lifetime",
        ),
        ("no-store.txt", "never stored"),
        ("private.txt", "not stored by a shared cache"),
        ("vary.txt", "one copy per Accept-Language"),
        (
            "big.bin?kib=2048",
            "larger than the proxy's largest cached object",
        ),
    ];
    let list: String = items
        .iter()
        .map(|(href, what)| format!("<li><a href=\"/cache/{href}\">{href}</a>: {what}</li>"))
        .collect();
    Response::html(
        200,
        "Objects for the web cache",
        &format!("<p>Fetch these through the proxy (127.0.0.1:3128) and watch /api/proxy/log.</p><ul>{list}</ul>"),
    )
    .header("Cache-Control", "no-cache")
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            version: crate::http::message::Version::Http11,
            body: Vec::new(),
            raw: Vec::new(),
        }
    }

    fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
        reply
            .response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn fresh_then_revalidated_with_its_etag() {
        let first = respond(&get("/cache/fresh.txt", &[]), "fresh.txt", "max-age=2", 0);
        assert_eq!(first.response.status, 200);
        assert_eq!(header(&first, "Cache-Control"), Some("max-age=2"));
        let etag = header(&first, "ETag").unwrap().to_string();
        let again = respond(
            &get("/cache/fresh.txt", &[("If-None-Match", &etag)]),
            "fresh.txt",
            "max-age=2",
            99,
        );
        assert_eq!(again.response.status, 304);
        assert_eq!(
            header(&again, "Cache-Control"),
            Some("max-age=2"),
            "the 304 carries its freshness"
        );
    }

    #[test]
    fn the_changing_object_has_a_new_version_each_period() {
        let at = |now| {
            respond(
                &get("/cache/changing.txt", &[]),
                "changing.txt",
                "every=60",
                now,
            )
        };
        let (a, b, c) = (at(60), at(119), at(120));
        assert_eq!(header(&a, "ETag"), header(&b, "ETag"));
        assert_ne!(header(&b, "ETag"), header(&c, "ETag"));
        assert_eq!(header(&c, "Last-Modified"), Some(format_imf(120).as_str()));
        let etag = header(&a, "ETag").unwrap().to_string();
        let later = respond(
            &get("/", &[("If-None-Match", &etag)]),
            "changing.txt",
            "every=60",
            130,
        );
        assert_eq!(
            later.response.status, 200,
            "it changed: the whole new version"
        );
    }

    #[test]
    fn vary_big_and_unknown() {
        let fr = respond(
            &get("/", &[("Accept-Language", "fr-FR")]),
            "vary.txt",
            "",
            0,
        );
        assert_eq!(header(&fr, "Content-Language"), Some("fr"));
        let big = respond(&get("/", &[]), "big.bin", "kib=99999", 0);
        assert_eq!(big.response.body.len(), 4096 * 1024);
        assert_eq!(
            respond(&get("/", &[]), "nothing", "", 0).response.status,
            404
        );
        assert!(
            header(
                &respond(&get("/", &[]), "expires.txt", "in=5", 100),
                "Expires"
            )
            .is_some()
        );
    }
}
