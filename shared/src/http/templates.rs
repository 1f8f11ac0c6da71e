//! The requests of the course, ready to load into the HTTP workbench: each
//! is written with `\n` line breaks, as a student types it; the workbench
//! turns them into CR LF when it sends. Several keep the course's errors on
//! purpose, so the dissection can explain them.

/// One ready-made request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Template {
    /// Stable id (for `data-testid` and links).
    pub id: &'static str,
    pub title: &'static str,
    /// What to look at once it is sent.
    pub note: &'static str,
    pub text: &'static str,
}

/// What the ETag template holds until the page pastes in the last ETag a
/// response carried (the exercises read a request sent so as the template,
/// not as typed).
pub const ETAG_PLACEHOLDER: &str = "\"paste the ETag here\"";

/// What the tracker template holds until the page puts in the info hash
/// of a running swarm, percent-encoded ([`with_info_hash`]).
pub const INFO_HASH_PLACEHOLDER: &str = "PASTE-THE-INFO-HASH";

/// The date the demo kiwi was last modified, as the textbook gives it.
pub const KIWI_DATE: &str = "Mon, 22 Jun 1998 09:23:24 GMT";

pub const TEMPLATES: &[Template] = &[
    Template {
        id: "someschool",
        title: "The textbook's request (someschool)",
        note: "Connection: close asks for a non-persistent connection: the server closes after answering.",
        text: "GET /somedir/page.html HTTP/1.1\nHost: www.someschool.edu\nConnection: close\nUser-agent: Mozilla/4.0\nAccept-language: fr\n\n",
    },
    Template {
        id: "firefox",
        title: "A browser's request (Firefox, from the slides)",
        note: "Accept-* headers say what the browser can handle; Keep-Alive and Accept-Charset are relics.",
        text: "GET /index.html HTTP/1.1\nHost: www-net.cs.umass.edu\nUser-Agent: Firefox/3.6.10\nAccept: text/html,application/xhtml+xml\nAccept-Language: en-us,en;q=0.5\nAccept-Encoding: gzip,deflate\nAccept-Charset: ISO-8859-1,utf-8;q=0.7\nKeep-Alive: 115\nConnection: keep-alive\n\n",
    },
    Template {
        id: "telnet-get",
        title: "Telnet exercise 1: GET /~ross/",
        note: "The minimal complete HTTP/1.1 request: a request line, Host, and an empty line.",
        text: "GET /~ross/ HTTP/1.1\nHost: cis.poly.edu\n\n",
    },
    Template {
        id: "telnet-head",
        title: "Telnet exercise 2: HEAD",
        note: "The same headers come back, but no body: compare Content-Length with the bytes that arrive.",
        text: "HEAD /~ross/index.html HTTP/1.1\nHost: cis.poly.edu\n\n",
    },
    Template {
        id: "telnet-404",
        title: "Telnet exercise 3: a path that does not exist",
        note: "404 Not Found: the server still answers with a full response.",
        text: "GET /~ross/banana/.html HTTP/1.1\nHost: cis.poly.edu\n\n",
    },
    Template {
        id: "http10",
        title: "An HTTP/1.0 request (no Host)",
        note: "HTTP/1.0 needed no Host, and the server closes the connection after the response.",
        text: "GET /ross/index.html HTTP/1.0\n\n",
    },
    Template {
        id: "kiwi",
        title: "Conditional GET, step 1: fetch the kiwi",
        note: "Note the Last-Modified and ETag of the response: a cache keeps them with the image.",
        text: "GET /fruit/kiwi.gif HTTP/1.0\nUser-agent: Mozilla/4.0\n\n",
    },
    Template {
        id: "kiwi-conditional",
        title: "Conditional GET, step 2: If-modified-since",
        note: "304 Not Modified and no body: the cached copy is still good.",
        text: "GET /fruit/kiwi.gif HTTP/1.0\nUser-agent: Mozilla/4.0\nIf-modified-since: Mon, 22 Jun 1998 09:23:24 GMT\n\n",
    },
    Template {
        id: "kiwi-etag",
        title: "Conditional GET by entity tag (If-None-Match)",
        note: "Paste the ETag of the kiwi's response: a match gives 304.",
        text: "GET /fruit/kiwi.gif HTTP/1.1\nHost: www.someschool.edu\nIf-None-Match: \"paste the ETag here\"\n\n",
    },
    Template {
        id: "cache-fresh",
        title: "Web cache: one object three times (tick \"through the web cache\")",
        note: "Through the proxy, send it three times: a miss (the proxy asks the origin), a hit (no origin, Age grows), and after 2 s a revalidation (a conditional GET upstream, 304). Watch Cache-Status and the cache's view.",
        text: "GET /cache/fresh.txt?max-age=2 HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "cache-changing",
        title: "Web cache: an object that changes (every 20 s, fresh 5 s)",
        note: "Through the proxy: after 5 s the copy is stale; the origin answers 304 while the object is the same, and a new copy (refetched) once it changed.",
        text: "GET /cache/changing.txt?every=20&max-age=5 HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "form-get",
        title: "A form sent with GET",
        note: "The fields travel in the URL's query; /cgi/show shows what the server saw.",
        text: "GET /cgi/show?prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans HTTP/1.1\nHost: www.monsite.com\nUser-Agent: wirelab\n\n",
    },
    Template {
        id: "form-post",
        title: "The same form sent with POST",
        note: "The fields travel in the body; Content-Length must count its bytes exactly.",
        text: "POST /cgi/show HTTP/1.1\nHost: www.monsite.com\nUser-Agent: wirelab\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 46\n\nprenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans",
    },
    Template {
        id: "private",
        title: "Authentication, step 1: no credentials",
        note: "401 Unauthorized with WWW-Authenticate: Basic realm=...",
        text: "GET /private/ HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "private-auth",
        title: "Authentication, step 2: Authorization",
        note: "c3R1ZGVudDp3aXJlbGFi is the base64 of student:wirelab: an encoding, not encryption.",
        text: "GET /private/ HTTP/1.1\nHost: www.someschool.edu\nAuthorization: Basic c3R1ZGVudDp3aXJlbGFi\n\n",
    },
    Template {
        id: "cookie",
        title: "Cookies: the visit counter",
        note: "Send it, then add the header `Cookie: visits=1` (as the Set-Cookie said) and send again.",
        text: "GET /cookie-counter HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "session",
        title: "A server-side session (ends after 10 visits)",
        note: "The cookie holds only a key; the server keeps the count in its own table.",
        text: "GET /session HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "moved",
        title: "An object that moved (301)",
        note: "Location says where it is now; a browser follows it by itself.",
        text: "GET /old/page.html HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "put",
        title: "PUT a file into /upload/",
        note: "201 Created the first time, 204 when it replaces the file; then GET it or DELETE it.",
        text: "PUT /upload/notes.txt HTTP/1.1\nHost: www.someschool.edu\nContent-Type: text/plain\nContent-Length: 26\n\nnon-persistent: 2 RTT each",
    },
    Template {
        id: "delete",
        title: "DELETE the uploaded file",
        note: "204 No Content when it is gone, 404 if there was nothing.",
        text: "DELETE /upload/notes.txt HTTP/1.1\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "chunked",
        title: "A chunked response",
        note: "No Content-Length: each chunk gives its size in hexadecimal, a zero chunk ends the body.",
        text: "GET /chunked HTTP/1.1\nHost: www.someschool.edu\nTE: trailers\n\n",
    },
    Template {
        id: "pipelined",
        title: "Two requests pipelined",
        note: "Both requests leave before any response arrives; the responses come back in order.",
        text: "GET /someDepartment/home.index HTTP/1.1\nHost: www.someSchool.edu\n\nGET /someDepartment/img/pic01.jpg HTTP/1.1\nHost: www.someSchool.edu\n\n",
    },
    Template {
        id: "bad-header",
        title: "The slides' broken header: `Connection close`",
        note: "No colon: the dissection says so before you send, and the server answers 400.",
        text: "GET /somedir/page.html HTTP/1.1\nHost: www.someschool.edu\nConnection close\n\n",
    },
    Template {
        id: "http2",
        title: "An unknown version",
        note: "505 HTTP Version Not Supported.",
        text: "GET / HTTP/2.0\nHost: www.someschool.edu\n\n",
    },
    Template {
        id: "tracker-announce",
        title: "Announce to the BitTorrent tracker (a running swarm)",
        note: "Pick the tracker as the server. Its answer is bencoded: a dictionary with interval and peers, 6 bytes a peer with compact=1 (BEP 23). The info hash is a running swarm's (start one on the P2P page), its 20 bytes percent-encoded.",
        text: "GET /announce?info_hash=PASTE-THE-INFO-HASH&peer_id=-WL0001-student00001&port=6881&uploaded=0&downloaded=0&left=0&compact=1 HTTP/1.1\nHost: 127.0.0.1:6969\nConnection: close\n\n",
    },
    Template {
        id: "echo",
        title: "Echo: the request as the server received it",
        note: "The body of the response is your request, byte for byte.",
        text: "GET /echo HTTP/1.1\nHost: www.someschool.edu\nUser-Agent: wirelab\n\n",
    },
];

/// `text` with the tracker template's placeholder replaced by `info_hash`
/// as an announce carries it: each of its 20 bytes percent-encoded unless
/// it is an unreserved character (BEP 3).
pub fn with_info_hash(text: &str, info_hash: &[u8; 20]) -> String {
    text.replace(
        INFO_HASH_PLACEHOLDER,
        &crate::bittorrent::announce::percent_encode(info_hash),
    )
}

/// A template by id.
pub fn find(id: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.id == id)
}

/// The bytes a template sends: its text with every `\n` made CR LF.
pub fn to_wire(text: &str) -> Vec<u8> {
    crlf(text).into_bytes()
}

/// Turns bare `\n` into `\r\n`, leaving existing `\r\n` alone.
pub fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Severity;
    use crate::http::dissect_request;
    use crate::http::frame::{Limits, Status, frame_request};

    #[test]
    fn the_tracker_template_takes_a_swarms_info_hash() {
        let t = find("tracker-announce").unwrap();
        let mut hash = [0xab; 20];
        hash[0] = b'A';
        let text = with_info_hash(t.text, &hash);
        assert!(!text.contains(INFO_HASH_PLACEHOLDER));
        assert!(
            text.starts_with("GET /announce?info_hash=A%AB%AB"),
            "{text}"
        );
        let query = text.split_once('?').unwrap().1.split_once(' ').unwrap().0;
        let asked = crate::bittorrent::announce::AnnounceRequest::from_query(query).unwrap();
        assert_eq!(asked.info_hash, hash);
        assert!(asked.compact);
    }

    #[test]
    fn ids_are_unique() {
        for (i, t) in TEMPLATES.iter().enumerate() {
            assert!(TEMPLATES[..i].iter().all(|o| o.id != t.id), "{}", t.id);
        }
        assert!(find("someschool").is_some());
    }

    #[test]
    fn templates_frame_and_only_the_deliberate_ones_break_rules() {
        let deliberate = ["bad-header", "http2", "firefox", "kiwi-etag"];
        for t in TEMPLATES {
            let wire = to_wire(t.text);
            let mut rest = &wire[..];
            let mut count = 0;
            while !rest.is_empty() {
                match frame_request(rest, &Limits::default()) {
                    Ok(Status::Complete(f)) => {
                        let d = dissect_request(&rest[..f.len]);
                        let errors: Vec<_> = d
                            .diagnostics
                            .iter()
                            .filter(|d| d.severity >= Severity::Warning)
                            .collect();
                        if !deliberate.contains(&t.id) {
                            assert!(errors.is_empty(), "{}: {errors:?}", t.id);
                        }
                        rest = &rest[f.len..];
                        count += 1;
                    }
                    other => panic!("{} does not frame: {other:?}", t.id),
                }
            }
            assert!(count >= 1);
        }
    }

    #[test]
    fn crlf_conversion() {
        assert_eq!(crlf("a\nb\r\nc\n"), "a\r\nb\r\nc\r\n");
        assert_eq!(crlf(""), "");
    }
}
