//! A request as the student types it in the workbench: the bytes it
//! becomes on the wire (every line break CR LF, or a bare LF when the
//! student wants to see what that does), and its Content-Length set to
//! the body it really has, and its request line in absolute form for a
//! forward proxy (RFC 9112 §3.2.2) or back in origin form. The caller keeps
//! the text; these only read it.

use super::message::parse_head;
use super::templates::crlf;

/// The bytes the editor's text becomes: every line break CR LF, or LF
/// alone when the student wants to see what a bare LF does.
pub fn draft_bytes(text: &str, crlf_endings: bool) -> Vec<u8> {
    if crlf_endings {
        crlf(text).into_bytes()
    } else {
        text.replace("\r\n", "\n").into_bytes()
    }
}

/// The text with its Content-Length set to the length its body really has
/// (as sent with `crlf_endings`); unchanged if it has no head end yet. A
/// missing header is added when there is a body; duplicates collapse to one.
pub fn fix_content_length(text: &str, crlf_endings: bool) -> String {
    let wire = draft_bytes(text, crlf_endings);
    let head = parse_head(&wire);
    if !head.is_complete() {
        return text.to_string();
    }
    let body_len = wire.len() - head.end;
    let mut out = Vec::new();
    let mut replaced = false;
    let mut in_head = true;
    for line in text.split('\n') {
        if in_head && line.trim_end_matches('\r').is_empty() {
            if !replaced && body_len > 0 {
                out.push(format!("Content-Length: {body_len}"));
            }
            in_head = false;
            out.push(line.to_string());
            continue;
        }
        if in_head
            && let Some((name, _)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            if !replaced {
                out.push(format!("{}: {body_len}", name.trim()));
                replaced = true;
            }
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n")
}

/// The text with its request target in absolute form,
/// `GET http://<authority>/path HTTP/1.1`, as a forward proxy needs it to
/// know the origin (RFC 9112 §3.2.2). A target already absolute gets the
/// new authority; `*` and authority-form targets, and a text with no
/// request line, are left alone. Only the first line changes.
pub fn to_absolute_form(text: &str, authority: &str) -> String {
    with_target(text, |target| {
        origin_form_of(target).map(|path| format!("http://{authority}{path}"))
    })
}

/// The text with an absolute-form request target put back in origin form
/// (`GET /path HTTP/1.1`), as a server is asked directly.
pub fn to_origin_form(text: &str) -> String {
    with_target(text, |target| {
        origin_form_of(target).filter(|_| !target.starts_with('/'))
    })
}

/// The path and query a request target names: itself when it is in origin
/// form, what follows the authority of an `http://` URI; `None` for other
/// forms (`*`, `host:port`, other schemes).
pub fn origin_form_of(target: &str) -> Option<String> {
    if target.starts_with('/') {
        return Some(target.to_string());
    }
    let scheme = target.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &target[7..];
    Some(match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => rest[at..].to_string(),
        Some(at) => format!("/{}", &rest[at..]),
        None => "/".to_string(),
    })
}

/// The text with its request line's target replaced by what `rewrite`
/// makes of it (unchanged when it gives `None`).
fn with_target(text: &str, rewrite: impl FnOnce(&str) -> Option<String>) -> String {
    let (line, rest) = text
        .split_once('\n')
        .map_or((text, None), |(l, r)| (l, Some(r)));
    let mut words = line.splitn(3, ' ');
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return text.to_string();
    };
    let Some(target) = rewrite(target) else {
        return text.to_string();
    };
    let line = format!("{method} {target} {version}");
    match rest {
        Some(rest) => format!("{line}\n{rest}"),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_get_cr_lf_or_stay_bare() {
        assert_eq!(
            draft_bytes("GET / HTTP/1.1\nHost: a\n\n", true),
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        );
        assert_eq!(draft_bytes("GET /\r\n\n", false), b"GET /\n\n");
    }

    #[test]
    fn content_length_is_fixed_from_the_real_body() {
        let text = "POST /cgi/show HTTP/1.1\nHost: a\nContent-Length: 3\n\nprenom=Hugues";
        assert_eq!(
            fix_content_length(text, true),
            "POST /cgi/show HTTP/1.1\nHost: a\nContent-Length: 13\n\nprenom=Hugues"
        );
        // Added when missing; a CR LF in the body counts two bytes.
        let text = "PUT /upload/a HTTP/1.1\nHost: a\n\nline\n";
        assert_eq!(
            fix_content_length(text, true),
            "PUT /upload/a HTTP/1.1\nHost: a\nContent-Length: 6\n\nline\n"
        );
        assert_eq!(
            fix_content_length(text, false),
            "PUT /upload/a HTTP/1.1\nHost: a\nContent-Length: 5\n\nline\n"
        );
        // Two headers become one, with the real length.
        let text = "POST / HTTP/1.1\nContent-Length: 1\ncontent-length: 9\n\nab";
        assert_eq!(
            fix_content_length(text, true),
            "POST / HTTP/1.1\nContent-Length: 2\n\nab"
        );
        // No head end yet: nothing to do.
        assert_eq!(
            fix_content_length("GET / HTTP/1.1\nHost: a", true),
            "GET / HTTP/1.1\nHost: a"
        );
    }

    #[test]
    fn request_lines_go_to_absolute_form_and_back() {
        let direct = "GET /cache/fresh.txt?max-age=2 HTTP/1.1\nHost: a\n\n";
        let proxied = "GET http://127.0.0.1:8081/cache/fresh.txt?max-age=2 HTTP/1.1\nHost: a\n\n";
        assert_eq!(to_absolute_form(direct, "127.0.0.1:8081"), proxied);
        assert_eq!(to_origin_form(proxied), direct);
        // Another origin replaces the authority; twice changes nothing more.
        let other = to_absolute_form(proxied, "127.0.0.2:80");
        assert_eq!(
            other,
            "GET http://127.0.0.2:80/cache/fresh.txt?max-age=2 HTTP/1.1\nHost: a\n\n"
        );
        assert_eq!(to_absolute_form(&other, "127.0.0.2:80"), other);
        assert_eq!(to_origin_form(direct), direct);
        // No path, a query alone, a scheme in capitals, CR LF endings.
        assert_eq!(
            to_origin_form("HEAD HTTP://h:1 HTTP/1.1\r\n\r\n"),
            "HEAD / HTTP/1.1\r\n\r\n"
        );
        assert_eq!(
            to_origin_form("GET http://h?x=1 HTTP/1.1"),
            "GET /?x=1 HTTP/1.1"
        );
    }

    #[test]
    fn other_targets_and_broken_lines_are_left_alone() {
        for text in [
            "OPTIONS * HTTP/1.1\n\n",
            "CONNECT example.com:443 HTTP/1.1\n\n",
            "GET https://h/ HTTP/1.1\n\n",
            "GET /no-version\n\n",
            "",
        ] {
            assert_eq!(to_absolute_form(text, "127.0.0.1:8081"), text);
            assert_eq!(to_origin_form(text), text);
        }
    }
}
