//! The seed corpus of every fuzz target, built from the golden fixtures
//! (`tests/fixtures/`) and the course's own examples compiled into this
//! crate (request templates, dialogues, zone files, mailbox messages), so
//! the fuzzer starts from messages that reach deep into each parser.
//!
//! Checked in under `fuzz/corpus/<target>/seed-<name>`; a test compares
//! them with what this module builds, and `WIRELAB_BLESS=1` (or `cargo
//! xtask fuzz --seed`) rewrites them.

use crate::conversation::Dialogue;
use crate::dns::query::parse_one_liner;
use crate::dns::server::Via;
use crate::engine::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One seed input of one target.
pub struct Seed {
    pub target: &'static str,
    /// The file name, after `seed-`.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut seeds = Seeds(Vec::new());
    lines(&mut seeds);
    http(&mut seeds);
    mail(&mut seeds);
    imap(&mut seeds);
    ftp(&mut seeds);
    dns(&mut seeds);
    relay_protocol(&mut seeds);
    bittorrent(&mut seeds);
    seeds.0
}

struct Seeds(Vec<Seed>);

impl Seeds {
    fn add(&mut self, targets: &[&'static str], name: &str, bytes: impl Into<Vec<u8>>) {
        let bytes = bytes.into();
        for target in targets {
            self.0.push(Seed {
                target,
                name: name.to_string(),
                bytes: bytes.clone(),
            });
        }
    }

    /// Every fixture of `folder` whose name ends with `suffix`.
    fn fixtures(&mut self, targets: &[&'static str], folder: &str, suffix: &str) {
        for (name, bytes) in fixtures(folder, suffix) {
            self.add(targets, &name, bytes);
        }
    }
}

/// The fixture files of `tests/fixtures/<folder>` ending with `suffix`,
/// by name, in name order.
fn fixtures(folder: &str, suffix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fixture_dir().join(folder);
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .map(|path| {
            let name = path
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("a readable fixture"))
        })
        .collect();
    found.sort();
    found
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A transcript fixture's two sides: what the client sent and what the
/// server sent, each line with CR LF.
fn transcript_sides(text: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut client, mut server) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(text).lines() {
        let (side, rest) = match line.get(..2) {
            Some("C:") => (&mut client, &line[2..]),
            Some("S:") => (&mut server, &line[2..]),
            _ => continue,
        };
        side.extend_from_slice(rest.strip_prefix(' ').unwrap_or(rest).as_bytes());
        side.extend_from_slice(b"\r\n");
    }
    (client, server)
}

/// A dialogue's lines as the client sends them.
fn dialogue_bytes(dialogue: &Dialogue) -> Vec<u8> {
    dialogue
        .steps
        .iter()
        .flat_map(|step| [step.as_bytes(), b"\r\n"].concat())
        .collect()
}

/// What `engine` answers to `input` sent on one connection.
fn answers<E: Engine>(engine: &mut E, input: &[u8]) -> Vec<u8> {
    super::drive(engine, input).bytes()
}

fn lines(seeds: &mut Seeds) {
    seeds.add(&["line"], "hello", "hello world\r\n");
    seeds.add(&["line"], "bare-lf-and-cr", "one\ntwo\rthree\r\nno end");
    seeds.add(
        &["line"],
        "utf8-and-control",
        b"caf\xc3\xa9 \x07bell\r\n\xff\xfe\r\n".to_vec(),
    );
    for (name, bytes) in fixtures("http", ".http-request").into_iter().take(2) {
        seeds.add(&["all_kinds"], &name, bytes);
    }
    for (folder, suffix) in [("ftp", ".reply"), ("mail", ".eml"), ("smtp", ".commands")] {
        if let Some((name, bytes)) = fixtures(folder, suffix).into_iter().next() {
            seeds.add(&["all_kinds"], &name, bytes);
        }
    }
}

fn http(seeds: &mut Seeds) {
    seeds.fixtures(&["http", "http_server"], "http", ".http-request");
    seeds.fixtures(&["http"], "http", ".http-response");
    for template in crate::http::templates::TEMPLATES {
        let wire = crate::http::templates::to_wire(template.text);
        seeds.add(
            &["http", "http_server"],
            &format!("template-{}", template.id),
            wire,
        );
    }
    let server_seeds = [
        (
            "pipelined",
            "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nHEAD /fruit/kiwi.gif HTTP/1.1\r\nHost: a\r\n\r\nGET /old/page.html HTTP/1.0\r\n\r\n",
        ),
        (
            "put-chunked",
            "PUT /upload/notes.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /upload/notes.txt HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n",
        ),
        (
            "post-form",
            "POST /cgi/show?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 17\r\n\r\nname=a%26b&q=<x>\n",
        ),
        (
            "delay-then-get",
            "GET /delay/100 HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\nCookie: id=1\r\n\r\n",
        ),
        (
            "private-basic",
            "GET /private/ HTTP/1.1\r\nHost: a\r\nAuthorization: Basic c3R1ZGVudDp3aXJlbGFi\r\n\r\n",
        ),
        (
            "session-and-cookie",
            "GET /session HTTP/1.1\r\nHost: a\r\n\r\nGET /cookie-counter HTTP/1.1\r\nHost: a\r\nCookie: count=3\r\nConnection: close\r\n\r\n",
        ),
        (
            "conditional",
            "GET /fruit/kiwi.gif HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: Mon, 22 Jun 1998 09:23:24 GMT\r\nIf-None-Match: \"x\"\r\n\r\n",
        ),
        (
            "delete-and-options",
            "DELETE /upload/notes.txt HTTP/1.1\r\nHost: a\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nBREW / HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        ("bad-version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ];
    for (name, text) in server_seeds {
        seeds.add(&["http", "http_server"], name, text);
    }
    // The CDN's base page, whose images /api/cdn/route reads.
    let (_, page) = &crate::http::cdn::origin_files(8082)[0];
    seeds.add(&["http"], "cdn-base-page", page.body.to_vec());
    http_cache(seeds);
}

/// A proxy request, then the head of the origin's answer.
fn http_cache(seeds: &mut Seeds) {
    let pairs = [
        (
            "max-age",
            "GET http://127.0.0.1:8081/cache/fresh.txt?max-age=6 HTTP/1.1\r\nHost: a\r\n\r\n",
            "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nCache-Control: max-age=6, s-maxage=3\r\nETag: \"v1\"\r\nContent-Length: 3\r\n\r\n",
        ),
        (
            "vary-expires",
            "GET http://[::1]:80/a HTTP/1.1\r\nAccept-Language: fr, en\r\nVia: 1.0 far\r\n\r\n",
            "HTTP/1.1 200 OK\r\nExpires: 0\r\nVary: Accept-Language, *\r\nLast-Modified: Mon, 22 Jun 1998 09:23:24 GMT\r\n\r\n",
        ),
        (
            "no-store-auth",
            "GET http://a/ HTTP/1.0\r\nAuthorization: Basic eA==\r\nCache-Control: no-cache, max-age=0\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nCache-Control: private, no-store, no-cache=\"Set-Cookie, X\"\r\nAge: 99999999999999999999\r\n\r\n",
        ),
        ("connect", "CONNECT a:443 HTTP/1.1\r\n\r\n", ""),
    ];
    for (name, request, response) in pairs {
        seeds.add(&["http_cache"], name, format!("{request}{response}"));
    }
}

fn mail(seeds: &mut Seeds) {
    seeds.fixtures(&["mail"], "mail", ".eml");
    for (i, message) in crate::mail::store::course_messages().iter().enumerate() {
        seeds.add(&["mail", "smtp"], &format!("mailbox-{}", i + 1), *message);
    }
    for (name, text) in fixtures("smtp", ".transcript") {
        let (client, server) = transcript_sides(&text);
        seeds.add(&["smtp", "smtp_server"], &format!("{name}-client"), client);
        seeds.add(&["smtp"], &format!("{name}-server"), server);
        seeds.add(&["smtp"], &name, text);
    }
    seeds.fixtures(&["smtp", "smtp_server"], "smtp", ".commands");
    for dialogue in crate::smtp::dialogues::DIALOGUES {
        let input = dialogue_bytes(dialogue);
        let store = Arc::new(crate::mail::MemoryStore::course());
        let mut server = crate::smtp::SmtpServer::new(Default::default(), store);
        let output = answers(&mut server, &input);
        seeds.add(
            &["smtp_server"],
            &format!("dialogue-{}", dialogue.id),
            input,
        );
        seeds.add(
            &["smtp"],
            &format!("dialogue-{}-replies", dialogue.id),
            output,
        );
    }
    for (name, text) in fixtures("pop3", ".transcript") {
        let (client, server) = transcript_sides(&text);
        seeds.add(&["pop3", "pop3_server"], &format!("{name}-client"), client);
        seeds.add(&["pop3"], &format!("{name}-server"), server);
    }
    seeds.fixtures(&["pop3", "pop3_server"], "pop3", ".commands");
    for dialogue in crate::pop3::dialogues::DIALOGUES {
        let input = dialogue_bytes(dialogue);
        let store = Arc::new(crate::mail::MemoryStore::course());
        let mut server = crate::pop3::Pop3Server::new(Default::default(), store);
        let output = answers(&mut server, &input);
        seeds.add(
            &["pop3_server"],
            &format!("dialogue-{}", dialogue.id),
            input,
        );
        seeds.add(
            &["pop3"],
            &format!("dialogue-{}-replies", dialogue.id),
            output,
        );
    }
}

fn imap(seeds: &mut Seeds) {
    seeds.fixtures(&["imap_command"], "imap", ".imap-command");
    seeds.fixtures(&["imap_response"], "imap", ".imap-response");
    let mut session = Vec::new();
    for (name, command) in fixtures("imap", ".imap-command") {
        if !name.starts_with("bad-") {
            session.extend_from_slice(&command);
        }
    }
    seeds.add(&["imap_command"], "all-commands", session);
    let mut responses = Vec::new();
    for (_, response) in fixtures("imap", ".imap-response") {
        responses.extend_from_slice(&response);
    }
    seeds.add(&["imap_response"], "all-responses", responses);
}

fn ftp(seeds: &mut Seeds) {
    seeds.fixtures(&["ftp_command"], "ftp", ".cmd");
    seeds.fixtures(&["ftp_reply"], "ftp", ".reply");
    seeds.fixtures(&["ftp_list"], "ftp", ".list");
    let mut session = Vec::new();
    for (_, line) in fixtures("ftp", ".cmd") {
        session.extend_from_slice(&line);
    }
    seeds.add(&["ftp_server"], "all-commands", session);
    for dialogue in crate::ftp::dialogues::DIALOGUES {
        let input = dialogue_bytes(dialogue);
        seeds.add(
            &["ftp_server", "ftp_command"],
            &format!("dialogue-{}", dialogue.id),
            input,
        );
    }
    let mut replies = Vec::new();
    for (_, reply) in fixtures("ftp", ".reply") {
        replies.extend_from_slice(&reply);
    }
    seeds.add(&["ftp_reply"], "all-replies", replies);
}

/// Queries for the course's names, as `dig` one-liners.
const QUERIES: &[&str] = &[
    "gaia.cs.umass.edu A",
    "gaia.cs.umass.edu A +norecurse",
    "www.someschool.edu A +bufsize=1232",
    "hamburger.edu MX",
    "cs.umass.edu NS +dnssec",
    "networkutopia.com A",
    "www.ibm.com AAAA",
    "nosuch.poly.edu A",
    "crepes.fr SOA",
    "-x 128.119.245.12",
];

fn dns(seeds: &mut Seeds) {
    let authority = super::dns::all_zones();
    for (i, line) in QUERIES.iter().enumerate() {
        let Ok(spec) = parse_one_liner(line, 0x1000 + i as u16) else {
            panic!("the seed query {line:?} does not parse");
        };
        let query = spec.to_bytes();
        let name = format!("query-{i}");
        seeds.add(&["dns", "dns_server"], &name, query.clone());
        if let Some(reply) = authority.answer(&query, Via::Udp) {
            seeds.add(&["dns"], &format!("reply-{i}"), reply.clone());
            seeds.add(
                &["dns"],
                &format!("tcp-{i}"),
                crate::dns::frame::tcp_wrap(&reply),
            );
        }
        let mut tcp = crate::dns::frame::tcp_wrap(&query);
        tcp.extend(crate::dns::frame::tcp_wrap(&query));
        seeds.add(&["dns_server"], &format!("{name}-twice-tcp"), tcp);
        // The resolver's script: the query, then the lab answers 24 times.
        let mut script = vec![query.len().min(255) as u8];
        script.extend_from_slice(&query[..query.len().min(255)]);
        script.extend_from_slice(&[0; 24]);
        seeds.add(&["dns_resolver"], &name, script);
    }
    for (file, text) in crate::dns::hierarchy::ZONE_FILES {
        seeds.add(&["dns_zone"], file, *text);
    }
}

fn relay_protocol(seeds: &mut Seeds) {
    let examples = [
        (
            "connected",
            r#"{"type":"connected","transport":"tcp","target":"http","peer":"127.0.0.1:8081","local":"127.0.0.1:50000","connect_ms":0.4,"t_ms":1.5,"recording":"r-1"}"#,
        ),
        (
            "error",
            r#"{"type":"error","code":"forbidden","message":"no","t_ms":2.0}"#,
        ),
        ("closed", r#"{"type":"closed","by":"peer","reason":"FIN"}"#),
        (
            "listening",
            r#"{"type":"listening","addr":"127.0.0.1:40000","id":"a1"}"#,
        ),
        ("shutdown", r#"{"type":"shutdown"}"#),
        ("listen", r#"{"type":"listen"}"#),
        (
            "query",
            r#"{"target":"ftp","data_port":21000,"record":true,"delay_ms":100}"#,
        ),
    ];
    for (name, json) in examples {
        seeds.add(&["relay_protocol"], name, json);
    }
}

/// The BitTorrent fixtures for the parsers, and announces (good, junk,
/// too long) for the tracker.
fn bittorrent(seeds: &mut Seeds) {
    for suffix in [".torrent", ".tracker-reply", ".peer-wire"] {
        seeds.fixtures(&["bittorrent"], "bittorrent", suffix);
    }
    let announce = crate::bittorrent::announce::AnnounceRequest {
        info_hash: [0x12; 20],
        peer_id: *b"-WL0001-abcdefghijkl",
        port: 6881,
        uploaded: 0,
        downloaded: 0,
        left: 100,
        event: crate::bittorrent::announce::Event::Started,
        compact: true,
        numwant: Some(10),
    };
    seeds.add(&["bittorrent"], "announce-query", announce.to_query());
    let requests = [
        (
            "announce",
            format!(
                "GET /announce?{} HTTP/1.1\r\nHost: t\r\n\r\n",
                announce.to_query()
            ),
        ),
        (
            "junk-announce",
            "GET /announce?info_hash=x&port=1 HTTP/1.0\r\n\r\n".to_string(),
        ),
        ("scrape", "GET /scrape HTTP/1.1\r\n\r\n".to_string()),
    ];
    for (name, request) in requests {
        seeds.add(&["bittorrent_tracker"], name, request);
    }
}
