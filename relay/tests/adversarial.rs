//! The adversarial suite: a class's worth of mistakes and malice against one
//! running relay (the `wirelab` binary, in its own process so its memory can
//! be read), while an honest student does the course's flows: the
//! someDepartment page over HTTP, the SMTP dialogue and its POP3 read-back,
//! an IMAP session listing INBOX's flags and envelopes, the DNS walk from
//! the root and a recursive query, FTP's passive LIST and RETR.
//!
//! Each attack runs for a bounded time and count on loopback, then stops.
//! Every honest flow during every attack must succeed, and the relay's
//! resident memory must come back near where it started. The suite prints,
//! per attack, what the servers did to the attacker, the memory before,
//! at its peak and after, and the honest client's p50 and p99.

mod process;

use process::Wirelab;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wirelab_shared::dns::message::{Message, Question};
use wirelab_shared::dns::name::Name;
use wirelab_shared::dns::rdata::RData;
use wirelab_shared::dns::types::RecordType;

/// How long each attack goes on.
const ATTACK_TIME: Duration = Duration::from_secs(3);
/// What the relay may keep of its memory after an attack, over where it was
/// before the suite began.
const MEMORY_SLACK_KIB: u64 = 64 * 1024;
/// A read that takes longer than this is a failure of the honest client.
const HONEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The relay process, with its data directory.
struct Lab {
    relay: Wirelab,
    _dir: tempfile::TempDir,
}

impl Lab {
    /// The classroom-sized caps, and time bounds short enough that the
    /// suite sees them act.
    fn start() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let config = process::config(
            dir.path(),
            &[
                (
                    "limits",
                    "server_idle_timeout_secs = 4.0
write_timeout_secs = 2.0
server_max_connections = 512",
                ),
                (
                    "servers.http",
                    "head_timeout_secs = 2.0
request_timeout_secs = 3.0",
                ),
                (
                    "servers.smtp",
                    "command_timeout_secs = 2.0
data_timeout_secs = 3.0",
                ),
                ("servers.pop3", "command_timeout_secs = 2.0"),
                (
                    "servers.ftp",
                    "line_timeout_secs = 2.0
send_timeout_secs = 2.0",
                ),
            ],
        );
        Lab {
            relay: Wirelab::spawn(&config),
            _dir: dir,
        }
    }

    fn addr(&self, name: &str) -> SocketAddr {
        self.relay.addr(name)
    }

    fn rss_kib(&self) -> u64 {
        self.relay.rss_kib()
    }
}

// ---------------------------------------------------------------------------
// The honest student

type Outcome = Result<(), String>;

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s =
        TcpStream::connect_timeout(&addr, HONEST_TIMEOUT).map_err(|e| format!("{addr}: {e}"))?;
    s.set_read_timeout(Some(HONEST_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(HONEST_TIMEOUT)).unwrap();
    Ok(s)
}

/// One CRLF-ended line (a reply line of SMTP, POP3 or FTP).
fn line(s: &mut TcpStream) -> Result<String, String> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        match s.read(&mut byte) {
            Ok(1) => out.push(byte[0]),
            Ok(_) => return Err(format!("closed after {:?}", String::from_utf8_lossy(&out))),
            Err(e) => return Err(format!("reading: {e}")),
        }
        if out.len() > 4096 {
            return Err("a reply line over 4 KiB".into());
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// An FTP reply: its last line (multi-line replies end with `code `).
fn ftp_reply(s: &mut TcpStream) -> Result<String, String> {
    let first = line(s)?;
    if first.as_bytes().get(3) == Some(&b'-') {
        let end = format!("{} ", &first[..3]);
        loop {
            let next = line(s)?;
            if next.starts_with(&end) {
                return Ok(next);
            }
        }
    }
    Ok(first)
}

fn expect(what: &str, got: String, code: &str) -> Outcome {
    if got.starts_with(code) {
        Ok(())
    } else {
        Err(format!("{what}: expected {code}, got {got:?}"))
    }
}

fn say(s: &mut TcpStream, text: &str) -> Result<String, String> {
    s.write_all(text.as_bytes())
        .map_err(|e| format!("writing {text:?}: {e}"))?;
    line(s)
}

fn http_page(lab: &Lab) -> Outcome {
    let mut s = connect(lab.addr("http"))?;
    s.write_all(
        b"GET /someDepartment/home.index HTTP/1.1\r\nHost: www.someSchool.edu\r\nConnection: close\r\n\r\n",
    )
    .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    s.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    if text.starts_with("HTTP/1.1 200 ") && text.contains("</html>") {
        Ok(())
    } else {
        Err(format!("http: {:?}", text.lines().next()))
    }
}

fn smtp_dialogue(lab: &Lab, n: u64) -> Outcome {
    let mut s = connect(lab.addr("smtp"))?;
    expect("greeting", line(&mut s)?, "220")?;
    expect("HELO", say(&mut s, "HELO crepes.fr\r\n")?, "250")?;
    expect(
        "MAIL",
        say(&mut s, "MAIL FROM:<alice@crepes.fr>\r\n")?,
        "250",
    )?;
    expect(
        "RCPT",
        say(&mut s, "RCPT TO:<bob@hamburger.edu>\r\n")?,
        "250",
    )?;
    expect("DATA", say(&mut s, "DATA\r\n")?, "354")?;
    let message =
        format!("Subject: honest {n}\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n.\r\n");
    expect("message", say(&mut s, &message)?, "250")?;
    expect("QUIT", say(&mut s, "QUIT\r\n")?, "221")
}

fn pop3_read_back(lab: &Lab) -> Outcome {
    let mut s = connect(lab.addr("pop3"))?;
    expect("greeting", line(&mut s)?, "+OK")?;
    expect("USER", say(&mut s, "USER bob\r\n")?, "+OK")?;
    expect("PASS", say(&mut s, "PASS hungry\r\n")?, "+OK")?;
    let stat = say(&mut s, "STAT\r\n")?;
    expect("STAT", stat.clone(), "+OK")?;
    let count: u64 = stat
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if count > 0 {
        expect("RETR", say(&mut s, "RETR 1\r\n")?, "+OK")?;
        while line(&mut s)? != ".\r\n" {}
        expect("DELE", say(&mut s, "DELE 1\r\n")?, "+OK")?;
    }
    expect("QUIT", say(&mut s, "QUIT\r\n")?, "+OK")
}

/// IMAP: log in, select INBOX, every message's flags and envelope, log out.
fn imap_session(lab: &Lab, n: u64) -> Outcome {
    let mut s = connect(lab.addr("imap"))?;
    expect("greeting", line(&mut s)?, "* OK")?;
    let mut tagged = |command: &str| -> Outcome {
        let tag = format!("h{n}");
        s.write_all(format!("{tag} {command}\r\n").as_bytes())
            .map_err(|e| format!("writing {command:?}: {e}"))?;
        loop {
            let reply = line(&mut s)?;
            if let Some(status) = reply.strip_prefix(&format!("{tag} ")) {
                return expect(command, status.to_string(), "OK");
            }
        }
    };
    tagged("LOGIN bob hungry")?;
    tagged("SELECT INBOX")?;
    // By UID: 1:* is no error in a mailbox POP3 has just emptied.
    tagged("UID FETCH 1:* (FLAGS ENVELOPE)")?;
    tagged("LOGOUT")
}

/// Sends a query over UDP and parses the reply.
fn ask(server: SocketAddr, name: &str, recursion: bool, id: u16) -> Result<Message, String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let question = Question::new(Name::parse(name).unwrap(), RecordType::A);
    let query = Message::query(id, question, recursion).to_bytes();
    let mut buf = [0u8; 4096];
    // UDP may lose a datagram under a flood: retry as a stub resolver does.
    for _ in 0..3 {
        socket.send_to(&query, server).map_err(|e| e.to_string())?;
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            let reply = Message::parse(&buf[..n]).map_err(|e| format!("{e:?}"))?;
            if reply.header.id == id {
                return Ok(reply);
            }
        }
    }
    Err(format!("no answer from {server} for {name}"))
}

/// From the root, following glue, to gaia.cs.umass.edu's address.
fn dns_walk(lab: &Lab, id: u16) -> Outcome {
    let mut server = lab.addr("dns-root");
    for _ in 0..6 {
        let reply = ask(server, "gaia.cs.umass.edu", false, id)?;
        if reply.answers.iter().any(|r| matches!(r.data, RData::A(_))) {
            return Ok(());
        }
        let glue = reply.additional.iter().find_map(|r| match r.data {
            RData::A(ip) => Some(ip),
            _ => None,
        });
        let Some(ip) = glue else {
            return Err(format!("no answer and no glue from {server}"));
        };
        server = SocketAddr::new(ip.into(), server.port());
    }
    Err("the walk did not end in six steps".into())
}

fn dns_recursive(lab: &Lab, id: u16) -> Outcome {
    let reply = ask(lab.addr("dns"), "gaia.cs.umass.edu", true, id)?;
    if reply.answers.iter().any(|r| matches!(r.data, RData::A(_))) {
        Ok(())
    } else {
        Err(format!("the resolver answered {:?}", reply.header))
    }
}

/// The data port of a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
fn passive_port(reply: &str) -> Result<u16, String> {
    let inside = reply
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .ok_or_else(|| format!("no address in {reply:?}"))?
        .0;
    let numbers: Vec<u16> = inside
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    match numbers.as_slice() {
        [_, _, _, _, p1, p2] => Ok(p1 * 256 + p2),
        _ => Err(format!("bad address in {reply:?}")),
    }
}

fn ftp_transfer(control: &mut TcpStream, ip: SocketAddr, command: &str) -> Outcome {
    let reply = say(control, "PASV\r\n")?;
    expect("PASV", reply.clone(), "227")?;
    let mut data = connect(SocketAddr::new(ip.ip(), passive_port(&reply)?))?;
    // 125 when the data connection is already open, 150 when it is about to be.
    expect(command, say(control, &format!("{command}\r\n"))?, "1")?;
    let mut bytes = Vec::new();
    data.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    expect(command, ftp_reply(control)?, "226")?;
    if bytes.is_empty() {
        return Err(format!("{command}: no data"));
    }
    Ok(())
}

fn ftp_session(lab: &Lab) -> Outcome {
    let addr = lab.addr("ftp");
    let mut s = connect(addr)?;
    expect("greeting", ftp_reply(&mut s)?, "220")?;
    expect("USER", say(&mut s, "USER anonymous\r\n")?, "331")?;
    expect("PASS", ftp_reply_after(&mut s, "PASS guest@\r\n")?, "230")?;
    ftp_transfer(&mut s, addr, "LIST /pub")?;
    ftp_transfer(&mut s, addr, "RETR /pub/hello.txt")?;
    expect("QUIT", ftp_reply_after(&mut s, "QUIT\r\n")?, "221")
}

fn ftp_reply_after(s: &mut TcpStream, text: &str) -> Result<String, String> {
    s.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    ftp_reply(s)
}

/// What the honest student saw during one attack.
#[derive(Default)]
struct Honest {
    times: Vec<Duration>,
    failures: Vec<String>,
}

/// Runs the course's flows over and over until `stop`.
fn honest_student(lab: &Lab, stop: &AtomicBool, n: &AtomicU64) -> Honest {
    let mut seen = Honest::default();
    let flows: [(&str, &dyn Fn(u64) -> Outcome); 7] = [
        ("http", &|_| http_page(lab)),
        ("smtp", &|n| smtp_dialogue(lab, n)),
        ("pop3", &|_| pop3_read_back(lab)),
        ("imap", &|n| imap_session(lab, n)),
        ("dns walk", &|n| dns_walk(lab, n as u16)),
        ("dns recursive", &|n| dns_recursive(lab, n as u16)),
        ("ftp", &|_| ftp_session(lab)),
    ];
    // Every flow at least once, even if the attack ends first.
    let mut rounds = 0;
    while rounds == 0 || !stop.load(Ordering::Relaxed) {
        for (name, flow) in &flows {
            let started = Instant::now();
            let id = n.fetch_add(1, Ordering::Relaxed);
            match flow(id) {
                Ok(()) => seen.times.push(started.elapsed()),
                Err(why) => seen.failures.push(format!("{name}: {why}")),
            }
        }
        rounds += 1;
    }
    seen
}

// ---------------------------------------------------------------------------
// The attacks

/// What an attack observed of the servers' answers, for the report.
type Observed = Arc<Mutex<Vec<String>>>;

fn note(observed: &Observed, what: String) {
    let mut seen = observed.lock().unwrap();
    if !seen.contains(&what) && seen.len() < 8 {
        seen.push(what);
    }
}

/// Reads what a server says within `wait` and whether it closed: the
/// last line, shortened, for the report.
fn answer_of(s: &mut TcpStream, wait: Duration) -> String {
    s.set_read_timeout(Some(wait)).ok();
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    let until = Instant::now() + wait;
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => {
                if got.len() < 8192 {
                    got.extend_from_slice(&buf[..n]);
                }
            }
            Err(_) => break false,
        }
        if Instant::now() > until {
            break false;
        }
    };
    // The last thing said is the server's verdict (a greeting comes first).
    let text = String::from_utf8_lossy(&got);
    // An HTTP verdict is its status line, not the end of its page.
    let status = text.lines().rev().find(|l| l.starts_with("HTTP/1."));
    let last: String = status
        .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .chars()
        .take(60)
        .collect();
    let end = if closed {
        " then closed"
    } else {
        ", still open"
    };
    format!("{last:?}{end}")
}

const TCP_SERVERS: [&str; 7] = [
    "http",
    "smtp",
    "pop3",
    "imap",
    "ftp",
    "upper-tcp",
    "dns-tcp",
];

/// Opens many connections to every TCP server and trickles a partial
/// message into each, a byte at a time.
fn slowloris(lab: &Lab, observed: &Observed) {
    let mut conns = Vec::new();
    for name in TCP_SERVERS {
        for _ in 0..60 {
            if let Ok(s) = TcpStream::connect(lab.addr(name)) {
                conns.push((name, s));
            }
        }
    }
    let started = Instant::now();
    while started.elapsed() < ATTACK_TIME {
        for (_, s) in &mut conns {
            let _ = s.write_all(b"X");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    for (name, mut s) in conns.into_iter().step_by(60) {
        note(
            observed,
            format!("{name}: {}", answer_of(&mut s, Duration::from_millis(300))),
        );
    }
}

/// Writes `bytes` without reading anything back, as long as the server
/// takes them, for the attack's time.
fn flood_without_reading(addr: SocketAddr, unit: &[u8], observed: &Observed, name: &str) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return;
    };
    s.set_write_timeout(Some(Duration::from_millis(500))).ok();
    let started = Instant::now();
    let mut sent = 0usize;
    let batch: Vec<u8> = unit
        .iter()
        .copied()
        .cycle()
        .take(unit.len() * 256)
        .collect();
    while started.elapsed() < ATTACK_TIME {
        match s.write(&batch) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    note(
        observed,
        format!(
            "{name}: took {} KiB unread, then {}",
            sent / 1024,
            answer_of(&mut s, Duration::from_millis(500))
        ),
    );
}

fn pipelining_floods(lab: &Lab, observed: &Observed) {
    let dns_query = {
        let q = Message::query(
            7,
            Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A),
            true,
        )
        .to_bytes();
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        framed
    };
    let floods: Vec<(&str, Vec<u8>)> = vec![
        ("dns-tcp", dns_query),
        (
            "http",
            b"GET /fruit/kiwi.gif HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        ),
        ("smtp", b"RCPT TO:<bob@hamburger.edu>\r\n".to_vec()),
        ("pop3", b"STAT\r\n".to_vec()),
        ("imap", b"a1 NOOP\r\n".to_vec()),
        ("ftp", b"NOOP\r\n".to_vec()),
        ("upper-tcp", b"hello there\n".to_vec()),
    ];
    std::thread::scope(|scope| {
        for (name, unit) in &floods {
            let addr = lab.addr(name);
            scope.spawn(move || flood_without_reading(addr, unit, observed, name));
        }
    });
}

/// Lines, heads and headers far past every limit.
fn oversized(lab: &Lab, observed: &Observed) {
    let megabytes = vec![b'a'; 4 * 1024 * 1024];
    let mut trailers =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
    for i in 0..200_000 {
        trailers.extend_from_slice(format!("X-T{i}: y\r\n").as_bytes());
    }
    let mut headers = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..20_000 {
        headers.extend_from_slice(format!("X-H{i}: y\r\n").as_bytes());
    }
    let long_header = [
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ".as_slice(),
        &megabytes,
    ]
    .concat();
    // Non-synchronising: the bytes come without waiting for a "+".
    let imap_literal = [b"a1 APPEND INBOX {4194304+}\r\n".as_slice(), &megabytes].concat();
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("smtp", "4 MiB line", megabytes.clone()),
        ("pop3", "4 MiB line", megabytes.clone()),
        ("imap", "4 MiB line", megabytes.clone()),
        ("imap", "4 MiB literal", imap_literal),
        ("ftp", "4 MiB line", megabytes.clone()),
        ("upper-tcp", "4 MiB line", megabytes.clone()),
        ("http", "4 MiB header", long_header),
        ("http", "20,000 headers", headers),
        ("http", "endless trailers", trailers),
    ];
    std::thread::scope(|scope| {
        for (name, what, bytes) in &cases {
            let addr = lab.addr(name);
            scope.spawn(move || {
                let Ok(mut s) = TcpStream::connect(addr) else {
                    return;
                };
                s.set_write_timeout(Some(ATTACK_TIME)).ok();
                let taken = bytes
                    .chunks(64 * 1024)
                    .take_while(|chunk| s.write_all(chunk).is_ok())
                    .count()
                    * 64;
                note(
                    observed,
                    format!(
                        "{name} {what}: took {taken} KiB, then {}",
                        answer_of(&mut s, Duration::from_secs(1))
                    ),
                );
            });
        }
    });
    dns_bad_names(lab, observed);
}

/// Names past 255 bytes and compression pointers that loop, over UDP.
fn dns_bad_names(lab: &Lab, observed: &Observed) {
    let mut long = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..100 {
        long.extend_from_slice(b"\x05abcde");
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    // A name that points at itself.
    let looping = vec![
        0x12, 0x35, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
    ];
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    for server in ["dns", "dns-root"] {
        for (what, bytes) in [("600-byte name", &long), ("looping pointer", &looping)] {
            socket.send_to(bytes, lab.addr(server)).unwrap();
            let mut buf = [0u8; 1024];
            let answer = match socket.recv_from(&mut buf) {
                Ok((n, _)) if n >= 4 => format!("rcode {}", buf[3] & 0x0f),
                Ok(_) => "a short reply".into(),
                Err(_) => "no reply".into(),
            };
            note(observed, format!("{server} {what}: {answer}"));
        }
    }
}

/// Connections that send half a message and close their side, or
/// connect and say nothing.
fn half_open(lab: &Lab, observed: &Observed) {
    let mut conns = Vec::new();
    for name in TCP_SERVERS {
        for i in 0..40 {
            if let Ok(mut s) = TcpStream::connect(lab.addr(name)) {
                if i % 2 == 0 {
                    let _ = s.write_all(b"GET / HT");
                    let _ = s.shutdown(Shutdown::Write);
                }
                conns.push((name, s));
            }
        }
    }
    std::thread::sleep(ATTACK_TIME);
    for (name, mut s) in conns.into_iter().step_by(40) {
        note(
            observed,
            format!("{name}: {}", answer_of(&mut s, Duration::from_millis(300))),
        );
    }
}

/// Thousands of connections opened and dropped, from several threads at
/// once.
fn connect_and_drop(lab: &Lab, observed: &Observed) {
    let opened = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for name in TCP_SERVERS {
            let addr = lab.addr(name);
            let opened = &opened;
            scope.spawn(move || {
                let started = Instant::now();
                for _ in 0..1_000 {
                    if started.elapsed() > ATTACK_TIME {
                        break;
                    }
                    if TcpStream::connect(addr).is_ok() {
                        opened.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    note(
        observed,
        format!(
            "{} connections opened and dropped",
            opened.load(Ordering::Relaxed)
        ),
    );
}

/// Datagrams as fast as loopback takes them, to the DNS servers and the
/// uppercase server.
fn udp_floods(lab: &Lab, observed: &Observed) {
    let query = Message::query(
        9,
        Question::new(Name::parse("gaia.cs.umass.edu").unwrap(), RecordType::A),
        false,
    )
    .to_bytes();
    std::thread::scope(|scope| {
        for name in ["dns", "dns-root", "dns-cs-umass", "upper-udp"] {
            let addr = lab.addr(name);
            let query = &query;
            scope.spawn(move || {
                let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                let started = Instant::now();
                let mut sent = 0u64;
                while started.elapsed() < ATTACK_TIME && sent < 200_000 {
                    if socket.send_to(query, addr).is_ok() {
                        sent += 1;
                    }
                }
                note(observed, format!("{name}: {sent} datagrams"));
            });
        }
    });
}

/// Invalid UTF-8, NUL bytes, and a FIN or a reset in the middle of a
/// message.
fn garbage_and_cuts(lab: &Lab, observed: &Observed) {
    let garbage: &[u8] = b"\xff\xfe\x00\x00HELO \xc3\x28\x00\r\nUSER \x00\x00\r\n\x80\x81\r\n";
    for name in TCP_SERVERS {
        if let Ok(mut s) = TcpStream::connect(lab.addr(name)) {
            let _ = s.write_all(garbage);
            note(
                observed,
                format!(
                    "{name} garbage: {}",
                    answer_of(&mut s, Duration::from_millis(300))
                ),
            );
        }
        for reset in [false, true] {
            let Ok(mut s) = TcpStream::connect(lab.addr(name)) else {
                continue;
            };
            let _ = s.write_all(b"MAIL FROM:<half");
            if reset {
                // A zero linger turns the close into a reset.
                let socket = socket2::SockRef::from(&s);
                let _ = socket.set_linger(Some(Duration::ZERO));
                drop(s);
            } else {
                let _ = s.shutdown(Shutdown::Write);
            }
        }
    }
}

// ---------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at]
}

#[test]
fn every_attack_leaves_the_honest_student_served_and_memory_bounded() {
    let lab = Lab::start();
    let ids = AtomicU64::new(1);
    // A first honest round warms every server (zones, the resolver's cache).
    let warm = honest_student(&lab, &AtomicBool::new(true), &ids);
    assert!(
        warm.failures.is_empty(),
        "before any attack: {:?}",
        warm.failures
    );
    let baseline = lab.rss_kib();

    type Attack = fn(&Lab, &Observed);
    let attacks: [(&str, Attack); 7] = [
        ("slowloris on every TCP server", slowloris),
        ("pipelining floods, never reading", pipelining_floods),
        (
            "oversized lines, heads, headers, trailers, names",
            oversized,
        ),
        ("half-open and silent connections", half_open),
        ("connections opened and dropped", connect_and_drop),
        ("UDP floods (DNS, uppercase)", udp_floods),
        (
            "invalid UTF-8, NUL, FIN and RST mid-message",
            garbage_and_cuts,
        ),
    ];
    let mut failures = Vec::new();
    println!("\nrelay memory at the start: {} MiB", baseline / 1024);
    for (name, attack) in attacks {
        let before = lab.rss_kib();
        let stop = AtomicBool::new(false);
        let peak = AtomicU64::new(before);
        let observed: Observed = Arc::default();
        let honest = std::thread::scope(|scope| {
            let student = scope.spawn(|| honest_student(&lab, &stop, &ids));
            let sampler = scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(lab.rss_kib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
            attack(&lab, &observed);
            stop.store(true, Ordering::Relaxed);
            sampler.join().unwrap();
            student.join().unwrap()
        });
        // Let the servers' time bounds close what the attack left open.
        std::thread::sleep(Duration::from_secs(1));
        let after = lab.rss_kib();
        let mut times = honest.times.clone();
        times.sort();
        println!(
            "\n## {name}\nmemory {} → peak {} → {} MiB; honest flows: {} ok, {} failed, p50 {:?}, p99 {:?}",
            before / 1024,
            peak.load(Ordering::Relaxed) / 1024,
            after / 1024,
            honest.times.len(),
            honest.failures.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
        );
        for seen in observed.lock().unwrap().iter() {
            println!("  {seen}");
        }
        for failure in honest.failures.iter().take(5) {
            failures.push(format!("{name}: {failure}"));
        }
        if after > baseline + MEMORY_SLACK_KIB {
            failures.push(format!(
                "{name}: the relay kept {} MiB over its {} MiB start",
                (after - baseline) / 1024,
                baseline / 1024
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
