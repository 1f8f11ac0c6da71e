//! Every default task, checked over a conversation that does it and one
//! that nearly does (the near-miss the verdict must name). The bytes are
//! what the relay would bridge: the course's dialogues where they fit.

use std::sync::atomic::{AtomicU64, Ordering};
use wirelab_shared::conversation::Sender::{self, Client as C, Server as S};
use wirelab_shared::dns::message::{Message, Question, Record};
use wirelab_shared::dns::name::Name;
use wirelab_shared::dns::rdata::RData;
use wirelab_shared::dns::types::RecordType;
use wirelab_shared::exercises::{
    Connection, DEFAULT_TASKS, Exchange, Follow, Task, TaskProtocol, Verdict, check, parse_task,
};

/// A connection of its own each time, as the relay numbers them.
fn connection(target: &str, udp: bool, source_port: Option<u16>) -> Connection {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    Connection {
        id: NEXT.fetch_add(1, Ordering::Relaxed),
        target: target.to_string(),
        udp,
        source_port,
    }
}

fn task(id: &str) -> Task {
    let file = format!("{id}.toml");
    let (_, text) = DEFAULT_TASKS
        .iter()
        .find(|(f, _)| *f == file)
        .unwrap_or_else(|| panic!("no default task {id}"));
    parse_task(&file, text).unwrap()
}

/// One connection, followed as the relay does.
fn conn(protocol: TaskProtocol, target: &str, chunks: &[(Sender, &str)]) -> Vec<Exchange> {
    Follow::replay(
        protocol,
        connection(target, false, None),
        chunks.iter().map(|(s, t)| (*s, t.as_bytes())),
    )
}

fn passes(id: &str, history: &[Exchange]) {
    assert_eq!(check(&task(id), history), Verdict::Passed, "{id}");
}

fn misses(id: &str, history: &[Exchange], needle: &str) {
    match check(&task(id), history) {
        Verdict::Passed => panic!("{id} passed on a near-miss"),
        Verdict::Missing { reason, .. } => {
            assert!(reason.contains(needle), "{id}: {reason:?} lacks {needle:?}")
        }
    }
}

fn http(chunks: &[(Sender, &str)]) -> Vec<Exchange> {
    conn(TaskProtocol::Http, "http", chunks)
}

const OK_PAGE: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

#[test]
fn http_get_page() {
    passes(
        "http-get-page",
        &http(&[
            (C, "GET /~ross/ HTTP/1.1\r\nHost: cis.poly.edu\r\n\r\n"),
            (S, OK_PAGE),
        ]),
    );
    misses(
        "http-get-page",
        &http(&[
            (C, "GET /~ross/ HTTP/1.1\r\n\r\n"),
            (S, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ]),
        "without Host",
    );
}

#[test]
fn http_head() {
    passes(
        "http-head",
        &http(&[
            (C, "HEAD /~ross/ HTTP/1.1\r\nHost: x\r\n\r\n"),
            (S, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
        ]),
    );
    misses(
        "http-head",
        &http(&[
            (C, "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
            (S, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n"),
        ]),
        "answered 404, not 200",
    );
}

#[test]
fn http_404() {
    let not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    passes(
        "http-404",
        &http(&[
            (
                C,
                "GET /~ross/banana/.html HTTP/1.1\r\nHost: cis.poly.edu\r\n\r\n",
            ),
            (S, not_found),
        ]),
    );
    misses(
        "http-404",
        &http(&[
            (C, "GET /~ross/ HTTP/1.1\r\nHost: cis.poly.edu\r\n\r\n"),
            (S, OK_PAGE),
        ]),
        "answered 200, not 404",
    );
}

const KIWI: &str = "HTTP/1.0 200 OK\r\nLast-Modified: Tue, 02 Jun 2026 10:00:00 GMT\r\nETag: \"4-kiwi\"\r\nContent-Length: 4\r\n\r\nGIF8";
const NOT_MODIFIED: &str = "HTTP/1.1 304 Not Modified\r\nETag: \"4-kiwi\"\r\n\r\n";

#[test]
fn http_304_typed_passes_on_a_conditional_get_the_student_wrote() {
    // Two connections: HTTP/1.0 closes after each answer.
    let mut history = http(&[
        (
            C,
            "GET /fruit/kiwi.gif HTTP/1.0\r\nUser-agent: Mozilla/4.0\r\n\r\n",
        ),
        (S, KIWI),
    ]);
    history.extend(http(&[
        (C, "GET /fruit/kiwi.gif HTTP/1.1\r\nHost: www.someschool.edu\r\nIf-Modified-Since: Tue, 02 Jun 2026 10:00:00 GMT\r\n\r\n"),
        (S, NOT_MODIFIED),
    ]));
    passes("http-304-typed", &history);
}

#[test]
fn http_304_by_the_pages_etag_template_is_a_near_miss() {
    // The ETag template with the ETag the page pasted in: not typed.
    let history = http(&[
        (
            C,
            "GET /fruit/kiwi.gif HTTP/1.1\r\nHost: www.someschool.edu\r\nIf-None-Match: \"4-kiwi\"\r\n\r\n",
        ),
        (S, NOT_MODIFIED),
    ]);
    misses(
        "http-304-typed",
        &history,
        "a 304 came back, but the request was the page's template \"kiwi-etag\"",
    );
    // The same request with one header typed by the student is typed.
    let history = http(&[
        (
            C,
            "GET /fruit/kiwi.gif HTTP/1.1\r\nHost: www.someschool.edu\r\nIf-None-Match: \"4-kiwi\"\r\nAccept: image/gif\r\n\r\n",
        ),
        (S, NOT_MODIFIED),
    ]);
    passes("http-304-typed", &history);
}

#[test]
fn http_304_without_a_validator_is_named() {
    let history = http(&[
        (C, "GET /fruit/kiwi.gif HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, KIWI),
    ]);
    misses(
        "http-304-typed",
        &history,
        "without If-Modified-Since or If-None-Match",
    );
}

#[test]
fn http_400() {
    passes(
        "http-400",
        &http(&[
            (C, "GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
            (S, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        ]),
    );
    misses(
        "http-400",
        &http(&[(C, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), (S, OK_PAGE)]),
        "answered 200, not 400",
    );
}

#[test]
fn http_auth() {
    let challenge = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"lab\"\r\nContent-Length: 0\r\n\r\n";
    let history = http(&[
        (C, "GET /private/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, challenge),
        (
            C,
            "GET /private/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic c3R1ZGVudDp3aXJlbGFi\r\n\r\n",
        ),
        (S, OK_PAGE),
    ]);
    passes("http-auth", &history);
    let wrong_password = http(&[
        (C, "GET /private/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, challenge),
        (
            C,
            "GET /private/ HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n\r\n",
        ),
        (S, challenge),
    ]);
    misses("http-auth", &wrong_password, "answered 401, not 200");
}

#[test]
fn http_cookie() {
    let set = "HTTP/1.1 200 OK\r\nSet-Cookie: visits=1\r\nContent-Length: 2\r\n\r\nhi";
    let history = http(&[
        (C, "GET /cookie-counter HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, set),
        (
            C,
            "GET /cookie-counter HTTP/1.1\r\nHost: x\r\nCookie: visits=1\r\n\r\n",
        ),
        (S, set),
    ]);
    passes("http-cookie", &history);
    let twice_without = http(&[
        (C, "GET /cookie-counter HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, set),
        (C, "GET /cookie-counter HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, set),
    ]);
    misses("http-cookie", &twice_without, "without Cookie");
}

#[test]
fn http_post_form() {
    let body = "prenom=Hugues&nom=Fauconnier&age=41+%E0+60+ans";
    let post = format!(
        "POST /cgi/show HTTP/1.1\r\nHost: www.monsite.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    passes("http-post-form", &http(&[(C, &post), (S, OK_PAGE)]));
    let get = "GET /cgi/show?prenom=Hugues HTTP/1.1\r\nHost: www.monsite.com\r\n\r\n";
    misses(
        "http-post-form",
        &http(&[(C, get), (S, OK_PAGE)]),
        "not seen yet",
    );
}

fn ftp(chunks: &[(Sender, &str)]) -> Vec<Exchange> {
    let mut all = vec![(S, "220 wirelab FTP server ready\r\n")];
    all.extend_from_slice(chunks);
    conn(TaskProtocol::Ftp, "ftp", &all)
}

const FTP_LOGIN: [(Sender, &str); 4] = [
    (C, "USER anonymous\r\n"),
    (S, "331 Username OK, password required\r\n"),
    (C, "PASS me@crepes.fr\r\n"),
    (S, "230 Logged in\r\n"),
];

#[test]
fn ftp_login() {
    passes("ftp-login", &ftp(&FTP_LOGIN));
    misses(
        "ftp-login",
        &ftp(&[
            (C, "USER bob\r\n"),
            (S, "331 Username OK, password required\r\n"),
            (C, "PASS nope\r\n"),
            (S, "530 Not logged in\r\n"),
        ]),
        "answered 530, not 230",
    );
}

#[test]
fn ftp_passive_list() {
    let mut chunks = FTP_LOGIN.to_vec();
    chunks.extend([
        (C, "PASV\r\n"),
        (S, "227 Entering Passive Mode (127,0,0,1,195,80)\r\n"),
        (C, "LIST pub\r\n"),
        (S, "150 Here comes the directory listing\r\n"),
        (S, "226 Directory send OK\r\n"),
    ]);
    passes("ftp-passive-list", &ftp(&chunks));
    let mut without_pasv = FTP_LOGIN.to_vec();
    without_pasv.extend([
        (C, "LIST pub\r\n"),
        (S, "425 Can't open data connection\r\n"),
    ]);
    misses(
        "ftp-passive-list",
        &ftp(&without_pasv),
        "not seen yet: PASV",
    );
}

#[test]
fn ftp_active_retr() {
    let mut chunks = FTP_LOGIN.to_vec();
    chunks.extend([
        (C, "PORT 127,0,0,1,158,107\r\n"),
        (S, "200 PORT command successful\r\n"),
        (C, "RETR pub/hello.txt\r\n"),
        (S, "150 Opening data connection\r\n"),
        (S, "226 Transfer complete\r\n"),
    ]);
    passes("ftp-active-retr", &ftp(&chunks));
    let mut missing_file = FTP_LOGIN.to_vec();
    missing_file.extend([
        (C, "PORT 127,0,0,1,158,107\r\n"),
        (S, "200 PORT command successful\r\n"),
        (C, "RETR pub/nothing.txt\r\n"),
        (S, "550 No such file\r\n"),
    ]);
    misses(
        "ftp-active-retr",
        &ftp(&missing_file),
        "answered 550, not 226",
    );
}

fn smtp(chunks: &[(Sender, &str)]) -> Vec<Exchange> {
    conn(TaskProtocol::Smtp, "smtp", chunks)
}

/// The course's dialogue between crepes.fr and hamburger.edu, from HELO to
/// the message's 250, with `second` as the second RCPT's answer.
fn course_dialogue(second: &'static str) -> Vec<(Sender, &'static str)> {
    vec![
        (S, "220 hamburger.edu\r\n"),
        (C, "HELO crepes.fr\r\n"),
        (S, "250 Hello crepes.fr, pleased to meet you\r\n"),
        (C, "MAIL FROM:<alice@crepes.fr>\r\n"),
        (S, "250 alice@crepes.fr ... Sender ok\r\n"),
        (C, "RCPT TO:<bob@hamburger.edu>\r\n"),
        (S, "250 bob@hamburger.edu ... Recipient ok\r\n"),
        (C, "RCPT TO:<john@hamburger.edu>\r\n"),
        (S, second),
        (C, "DATA\r\n"),
        (S, "354 Enter mail, end with \".\" on a line by itself\r\n"),
        (C, "Do you like ketchup?\r\nHow about pickles?\r\n.\r\n"),
        (S, "250 Message accepted for delivery\r\n"),
    ]
}

#[test]
fn smtp_course_mail() {
    let mut chunks = course_dialogue("550 No such user here\r\n");
    chunks.extend([
        (C, "QUIT\r\n"),
        (S, "221 hamburger.edu closing connection\r\n"),
    ]);
    passes("smtp-course-mail", &smtp(&chunks));
    // Both recipients accepted: the refusal the course shows is missing.
    let both = course_dialogue("250 john@hamburger.edu ... Recipient ok\r\n");
    misses("smtp-course-mail", &smtp(&both), "answered 250, not 550");
}

#[test]
fn smtp_two_mails() {
    let mut chunks = course_dialogue("550 No such user here\r\n");
    chunks.extend([
        (C, "MAIL FROM:<alice@crepes.fr>\r\n"),
        (S, "250 Sender ok\r\n"),
        (C, "RCPT TO:<bob@hamburger.edu>\r\n"),
        (S, "250 Recipient ok\r\n"),
        (C, "DATA\r\n"),
        (S, "354 Enter mail\r\n"),
        (C, "Encore?\r\n.\r\n"),
        (S, "250 Message accepted for delivery\r\n"),
    ]);
    passes("smtp-two-mails", &smtp(&chunks));
    // A second mail sent over a new connection is not the persistent session.
    let mut history = smtp(&course_dialogue("550 No such user here\r\n"));
    history.extend(smtp(&course_dialogue("550 No such user here\r\n")));
    misses(
        "smtp-two-mails",
        &history,
        "not seen yet: a second MAIL FROM",
    );
}

fn pop3(chunks: &[(Sender, &str)]) -> Vec<Exchange> {
    let mut all = vec![(S, "+OK POP3 server ready\r\n")];
    all.extend_from_slice(chunks);
    conn(TaskProtocol::Pop3, "pop3", &all)
}

const POP3_LOGIN: [(Sender, &str); 4] = [
    (C, "user bob\r\n"),
    (S, "+OK\r\n"),
    (C, "pass hungry\r\n"),
    (S, "+OK user successfully logged on\r\n"),
];

#[test]
fn pop3_read_delete() {
    let mut chunks = POP3_LOGIN.to_vec();
    chunks.extend([
        (C, "retr 1\r\n"),
        (S, "+OK 22 octets\r\nDo you like ketchup?\r\n.\r\n"),
        (C, "dele 1\r\n"),
        (S, "+OK message 1 deleted\r\n"),
        (C, "quit\r\n"),
        (S, "+OK POP3 server signing off\r\n"),
    ]);
    passes("pop3-read-delete", &pop3(&chunks));
    // The window closed before QUIT: the deletion never applied.
    let mut no_quit = POP3_LOGIN.to_vec();
    no_quit.extend([
        (C, "retr 1\r\n"),
        (S, "+OK 22 octets\r\nDo you like ketchup?\r\n.\r\n"),
        (C, "dele 1\r\n"),
        (S, "+OK message 1 deleted\r\n"),
    ]);
    misses("pop3-read-delete", &pop3(&no_quit), "not seen yet: QUIT");
}

#[test]
fn pop3_list() {
    let mut chunks = POP3_LOGIN.to_vec();
    chunks.extend([
        (C, "stat\r\n"),
        (S, "+OK 2 1410\r\n"),
        (C, "list\r\n"),
        (S, "+OK 2 messages\r\n1 498\r\n2 912\r\n.\r\n"),
    ]);
    passes("pop3-list", &pop3(&chunks));
    let wrong_password = [
        (C, "user bob\r\n"),
        (S, "+OK\r\n"),
        (C, "pass ketchup\r\n"),
        (S, "-ERR invalid password\r\n"),
    ];
    misses(
        "pop3-list",
        &pop3(&wrong_password),
        "was answered -ERR invalid password, not a positive reply",
    );
}

/// One UDP query and its reply, to `target`, as its own flow.
fn dns(
    target: &str,
    name: &str,
    qtype: RecordType,
    rd: bool,
    answer: Option<RData>,
) -> Vec<Exchange> {
    let owner = Name::parse(name).unwrap();
    let query = Message::query(7, Question::new(owner.clone(), qtype), rd);
    let mut reply = Message::response_to(&query);
    reply.answers = answer
        .into_iter()
        .map(|data| Record::new(owner.clone(), 60, data))
        .collect();
    Follow::replay(
        TaskProtocol::Dns,
        connection(target, true, None),
        [(C, &query.to_bytes()[..]), (S, &reply.to_bytes()[..])],
    )
}

fn gaia() -> Option<RData> {
    Some(RData::A([128, 119, 245, 12].into()))
}

#[test]
fn dns_walk_from_the_root_in_8_messages_at_most() {
    let a = RecordType::A;
    let walk = |servers: &[&str]| {
        let last = servers.len() - 1;
        servers
            .iter()
            .enumerate()
            .flat_map(|(i, server)| {
                let answer = if i == last { gaia() } else { None };
                dns(server, "gaia.cs.umass.edu.", a, false, answer)
            })
            .collect::<Vec<_>>()
    };
    // By dns.umass.edu, as the course counts: 8 messages.
    passes(
        "dns-walk",
        &walk(&["dns-root", "dns-edu", "dns-umass", "dns-cs-umass"]),
    );
    // Straight to dns.cs.umass.edu, which edu also names: 6.
    passes("dns-walk", &walk(&["dns-root", "dns-edu", "dns-cs-umass"]));
    // A detour to the wrong TLD: 10.
    let detour = walk(&[
        "dns-root",
        "dns-edu",
        "dns-com",
        "dns-umass",
        "dns-cs-umass",
    ]);
    misses("dns-walk", &detour, "in 10 messages, more than 8");
    // Asking the root to recurse is not walking by hand.
    let recursive = dns("dns-root", "gaia.cs.umass.edu.", a, true, None);
    misses("dns-walk", &recursive, "asked for recursion (RD=1)");
}

#[test]
fn dns_walk_over_tcp_names_the_same_servers() {
    let owner = Name::parse("gaia.cs.umass.edu.").unwrap();
    let query = Message::query(9, Question::new(owner.clone(), RecordType::A), false);
    let framed = |m: &Message| {
        let bytes = m.to_bytes();
        let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
        out.extend(bytes);
        out
    };
    let reply = Message::response_to(&query);
    let mut history = Vec::new();
    for target in ["dns-root-tcp", "dns-edu-tcp"] {
        history.extend(Follow::replay(
            TaskProtocol::Dns,
            connection(target, false, None),
            [(C, &framed(&query)[..]), (S, &framed(&reply)[..])],
        ));
    }
    history.extend(dns(
        "dns-cs-umass",
        "gaia.cs.umass.edu.",
        RecordType::A,
        false,
        gaia(),
    ));
    passes("dns-walk", &history);
}

#[test]
fn dns_recursive() {
    passes(
        "dns-recursive",
        &dns("dns", "gaia.cs.umass.edu.", RecordType::A, true, gaia()),
    );
    misses(
        "dns-recursive",
        &dns("dns", "gaia.cs.umass.edu.", RecordType::A, false, None),
        "did not ask for recursion",
    );
}

#[test]
fn dns_mx() {
    let mx = Some(RData::Mx {
        preference: 10,
        exchange: Name::parse("mail.hamburger.edu.").unwrap(),
    });
    passes(
        "dns-mx",
        &dns("dns", "hamburger.edu.", RecordType::MX, true, mx),
    );
    misses(
        "dns-mx",
        &dns("dns", "hamburger.edu.", RecordType::A, true, None),
        "not seen yet: an MX query",
    );
}

#[test]
fn sockets_upper() {
    let history = conn(
        TaskProtocol::Line,
        "upper-tcp",
        &[(C, "hello\r\n"), (S, "HELLO\r\n")],
    );
    passes("sockets-upper", &history);
    // A line sent to a server that never answered.
    let silent = conn(TaskProtocol::Line, "upper-tcp", &[(C, "hello\r\n")]);
    misses("sockets-upper", &silent, "got no answer");
}

#[test]
fn sockets_source_port() {
    let flow = |line: &str| {
        let reply = line.to_uppercase();
        Follow::replay(
            TaskProtocol::Line,
            connection("upper-udp", true, Some(40112)),
            [(C, line.as_bytes()), (S, reply.as_bytes())],
        )
    };
    passes("sockets-source-port", &flow("my port is 40112"));
    misses(
        "sockets-source-port",
        &flow("my port is 401120"),
        "does not hold the source port",
    );
}

/// Whether the verdict says the task was tried at all.
fn tried(id: &str, history: &[Exchange]) -> bool {
    match check(&task(id), history) {
        Verdict::Passed => panic!("{id} passed"),
        Verdict::Missing { tried, .. } => tried,
    }
}

#[test]
fn a_task_is_tried_when_a_step_went_part_of_the_way() {
    let head = http(&[
        (C, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, "HTTP/1.1 200 OK\r\n\r\n"),
    ]);
    // A HEAD does nothing towards a GET answered 404...
    assert!(!tried("http-404", &head));
    // ...a GET answered 200 does, and so does a first step done.
    let get = http(&[(C, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), (S, OK_PAGE)]);
    assert!(tried("http-404", &get));
    let challenge = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    let first_step = http(&[
        (C, "GET /private/ HTTP/1.1\r\nHost: x\r\n\r\n"),
        (S, challenge),
    ]);
    assert!(tried("http-auth", &first_step));
}

/// Every default task has a conversation here that passes it and one that
/// nearly does (`passes("<id>"` and `misses("<id>"` in this file): a task
/// added to the defaults without both fails this.
#[test]
fn every_default_task_has_a_pass_and_a_near_miss_here() {
    let source: String = include_str!("exercises.rs").split_whitespace().collect();
    let lacking: Vec<String> = DEFAULT_TASKS
        .iter()
        .flat_map(|(file, _)| {
            let id = file.trim_end_matches(".toml");
            ["passes", "misses"]
                .into_iter()
                .filter(|call| !source.contains(&format!("{call}(\"{id}\"")))
                .map(move |call| format!("{id}: no {call}"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(DEFAULT_TASKS.len() >= 15, "{}", DEFAULT_TASKS.len());
    assert!(lacking.is_empty(), "{lacking:?}");
}
