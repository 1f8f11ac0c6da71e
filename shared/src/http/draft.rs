//! A request as the student types it in the workbench: the bytes it
//! becomes on the wire (every line break CR LF, or a bare LF when the
//! student wants to see what that does), and its Content-Length set to
//! the body it really has. The caller keeps the text; these only read it.

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
}
