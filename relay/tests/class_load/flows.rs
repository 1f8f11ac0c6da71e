//! The course's flows as one student does them through `/ws`, every step
//! timed and bounded by [`STEP_TIMEOUT`]:
//!
//! - web: the someschool page and the home page on one persistent HTTP/1.1
//!   connection, each body checked against the site's file;
//! - mail: crepes.fr sends to hamburger.edu over SMTP (HELO, MAIL FROM,
//!   RCPT TO, DATA, the message, QUIT), then the student reads it back over
//!   POP3 (USER, PASS, LIST, RETR, DELE, QUIT) from a mailbox of its own,
//!   since a POP3 session locks its mailbox;
//! - dns walk: gaia.cs.umass.edu from the root, one UDP query per server
//!   the referrals name ([`Walk`] says which), as the page's walk does;
//! - dns recursive: one query to the local resolver `dns`;
//! - ftp: anonymous login, PASV and LIST on a data connection, then TYPE I,
//!   PASV and RETR of a demo file, checked byte for byte;
//! - upper tcp and upper udp: a sentence and its uppercase echo.
//!
//! Replies are framed and parsed by `shared`'s engines; a step fails on an
//! unexpected code, a wrong body, a relay error or a timeout, and the first
//! failed step ends its flow.

use super::session::{Gauge, Session};
use super::stats::{Failure, Recorder};
use anyhow::{Context, Result, anyhow, bail, ensure};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wirelab_shared::dns::query::QuerySpec;
use wirelab_shared::dns::reply::ReplyKind;
use wirelab_shared::dns::walk::Walk;
use wirelab_shared::dns::{Message, Name, Question, Rcode, RecordType};
use wirelab_shared::ftp::address::find_host_port;
use wirelab_shared::http::frame::{Limits, Status, body_bytes, frame_response};
use wirelab_shared::http::message::parse_head;
use wirelab_shared::{framing, ftp, pop3, smtp, upper};

/// The longest one step may take before it counts as failed.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// A walk from the root needs three servers; more means it went round.
const MAX_WALK_HOPS: usize = 6;
/// What the walk must end with: gaia.cs.umass.edu's address in the lab.
const GAIA: &str = "128.119.245.12";

/// What a student does, one flow after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flow {
    Web,
    Mail,
    DnsWalk,
    DnsRecursive,
    Ftp,
    UpperTcp,
    UpperUdp,
}

impl Flow {
    pub const ALL: [Flow; 7] = [
        Flow::Web,
        Flow::Mail,
        Flow::DnsWalk,
        Flow::DnsRecursive,
        Flow::Ftp,
        Flow::UpperTcp,
        Flow::UpperUdp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flow::Web => "web",
            Flow::Mail => "mail",
            Flow::DnsWalk => "dns walk",
            Flow::DnsRecursive => "dns recursive",
            Flow::Ftp => "ftp",
            Flow::UpperTcp => "upper tcp",
            Flow::UpperUdp => "upper udp",
        }
    }
}

/// The mailbox of student `id`, and its POP3 password.
pub fn mailbox(id: usize) -> (String, String) {
    (format!("student{id}@hamburger.edu"), format!("pw{id}"))
}

/// One simulated student.
pub struct Student {
    pub id: usize,
    relay: SocketAddr,
    gauge: Arc<Gauge>,
    rng: fastrand::Rng,
    rec: Recorder,
    /// The flow under way.
    flow: Flow,
    /// Messages sent so far, to tell this run's message from another.
    sent: u64,
}

impl Student {
    pub fn new(id: usize, relay: SocketAddr, gauge: Arc<Gauge>, seed: u64) -> Student {
        Student {
            id,
            relay,
            gauge,
            rng: fastrand::Rng::with_seed(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ id as u64),
            rec: Recorder::default(),
            flow: Flow::ALL[id % Flow::ALL.len()],
            sent: 0,
        }
    }

    /// Does one flow after another, with a think time between them, until
    /// `until`; starts after a random delay so the class does not connect
    /// in the same millisecond. `class_started` dates the failures.
    pub async fn attend(mut self, until: Instant, class_started: Instant) -> Recorder {
        tokio::time::sleep(Duration::from_millis(self.rng.u64(0..1000))).await;
        let mut next = self.id % Flow::ALL.len();
        while Instant::now() < until {
            let flow = Flow::ALL[next];
            next = (next + 1) % Flow::ALL.len();
            self.flow = flow;
            self.rec.begin();
            let started = Instant::now();
            let result = self.run(flow).await;
            let failure = result.err().map(|e| Failure {
                student: self.id,
                flow,
                at_secs: class_started.elapsed().as_secs_f64(),
                reason: format!("{e:#}"),
            });
            self.rec.end(flow, started.elapsed(), failure);
            let think = Duration::from_millis(self.rng.u64(100..=500));
            tokio::time::sleep(think).await;
        }
        self.rec
    }

    async fn run(&mut self, flow: Flow) -> Result<()> {
        match flow {
            Flow::Web => self.web().await,
            Flow::Mail => self.mail().await,
            Flow::DnsWalk => self.dns_walk().await,
            Flow::DnsRecursive => self.dns_recursive().await,
            Flow::Ftp => self.ftp().await,
            Flow::UpperTcp => self.upper_tcp().await,
            Flow::UpperUdp => self.upper_udp().await,
        }
    }

    /// Times one step, bounded by [`STEP_TIMEOUT`]; its error names it.
    async fn step<T>(&mut self, name: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
        let started = Instant::now();
        let result = match tokio::time::timeout(STEP_TIMEOUT, work).await {
            Ok(result) => result,
            Err(_) => Err(anyhow!("no answer within {} s", STEP_TIMEOUT.as_secs())),
        };
        self.rec
            .step(self.flow, name, started.elapsed(), result.is_ok());
        result.with_context(|| name.to_string())
    }

    /// Opens `/ws?target=<target>` as one timed step.
    async fn connect(&mut self, name: &str, query: &str) -> Result<Session> {
        let (relay, gauge) = (self.relay, self.gauge.clone());
        self.step(name, Session::open(relay, query, &gauge)).await
    }

    async fn web(&mut self) -> Result<()> {
        let mut s = self.connect("connect", "target=http").await?;
        let page = "/somedir/page.html";
        self.step("GET /somedir/page.html", http_get(&mut s, page, false))
            .await?;
        self.step("GET /index.html", http_get(&mut s, "/index.html", true))
            .await?;
        s.close().await;
        Ok(())
    }

    async fn mail(&mut self) -> Result<()> {
        let (address, password) = mailbox(self.id);
        self.sent += 1;
        let marker = format!("class load: student {} message {}", self.id, self.sent);
        let mut s = self.connect("SMTP connect", "target=smtp").await?;
        self.step("SMTP greeting", smtp_say(&mut s, b"", 220))
            .await?;
        self.step("SMTP HELO", smtp_say(&mut s, b"HELO crepes.fr\r\n", 250))
            .await?;
        let mail_from = b"MAIL FROM:<alice@crepes.fr>\r\n";
        self.step("SMTP MAIL FROM", smtp_say(&mut s, mail_from, 250))
            .await?;
        let rcpt = format!("RCPT TO:<{address}>\r\n");
        self.step("SMTP RCPT TO", smtp_say(&mut s, rcpt.as_bytes(), 250))
            .await?;
        self.step("SMTP DATA", smtp_say(&mut s, b"DATA\r\n", 354))
            .await?;
        let text =
            format!("Subject: {marker}\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n.\r\n");
        self.step("SMTP message", smtp_say(&mut s, text.as_bytes(), 250))
            .await?;
        self.step("SMTP QUIT", smtp_say(&mut s, b"QUIT\r\n", 221))
            .await?;
        s.close().await;

        let mut s = self.connect("POP3 connect", "target=pop3").await?;
        self.step("POP3 greeting", pop3_say(&mut s, b"", false))
            .await?;
        let user = format!("USER {}\r\n", address.split('@').next().unwrap_or(""));
        self.step("POP3 USER", pop3_say(&mut s, user.as_bytes(), false))
            .await?;
        let pass = format!("PASS {password}\r\n");
        self.step("POP3 PASS", pop3_say(&mut s, pass.as_bytes(), false))
            .await?;
        let list = self
            .step("POP3 LIST", pop3_say(&mut s, b"LIST\r\n", true))
            .await?;
        let listed = list.body.unwrap_or_default();
        ensure!(
            listed.starts_with(b"1 ") && listed.iter().filter(|b| **b == b'\n').count() == 1,
            "LIST shows {:?}, not the one message just sent",
            String::from_utf8_lossy(&listed)
        );
        let retr = self
            .step("POP3 RETR", pop3_say(&mut s, b"RETR 1\r\n", true))
            .await?;
        let message = String::from_utf8_lossy(&retr.body.unwrap_or_default()).into_owned();
        ensure!(
            message.contains(&marker),
            "RETR 1 is not the message sent: {message}"
        );
        self.step("POP3 DELE", pop3_say(&mut s, b"DELE 1\r\n", false))
            .await?;
        self.step("POP3 QUIT", pop3_say(&mut s, b"QUIT\r\n", false))
            .await?;
        s.close().await;
        Ok(())
    }

    async fn dns_walk(&mut self) -> Result<()> {
        let question = Question::new(Name::parse("gaia.cs.umass.edu")?, RecordType::A);
        let mut walk = Walk::new(question, self.rng.u16(..));
        let started = Instant::now();
        let ms = |at: Instant| at.duration_since(started).as_secs_f64() * 1000.0;
        while !walk.is_finished() {
            ensure!(walk.steps.len() < MAX_WALK_HOPS, "the walk went round");
            let hop = walk
                .next_hops()
                .into_iter()
                .find(|h| h.server.is_some() && !h.tcp)
                .ok_or_else(|| anyhow!("no server to ask after {:?}", walk.steps.last()))?;
            let server = hop.server.clone().unwrap_or_default();
            let id = self.rng.u16(..);
            let spec = QuerySpec {
                recursion_desired: false,
                ..QuerySpec::new(hop.question.name.clone(), hop.question.qtype, id)
            };
            let query = spec.to_bytes();
            let query_name = format!("{server} connect");
            let mut s = self
                .connect(&query_name, &format!("target={server}"))
                .await?;
            walk.asked(
                &server,
                Some(hop.zone.clone()),
                query.clone(),
                ms(Instant::now()),
            );
            let reply = self
                .step(&format!("{server} query"), dns_exchange(&mut s, &query, id))
                .await?;
            walk.answered(reply, ms(Instant::now()));
            s.close().await;
            if let Some(Some(ReplyKind::Error { why, .. })) = walk.steps.last().map(|s| &s.outcome)
            {
                bail!("{server} answered with an error: {why}");
            }
        }
        match walk.outcome() {
            Some(ReplyKind::Answer { records, .. })
                if records.iter().any(|r| r.data.to_text() == GAIA) =>
            {
                Ok(())
            }
            Some(other) => bail!("the walk ended with {}", other.describe()),
            None => bail!("the walk ended without an outcome"),
        }
    }

    async fn dns_recursive(&mut self) -> Result<()> {
        const QUESTIONS: [(&str, RecordType); 4] = [
            ("gaia.cs.umass.edu", RecordType::A),
            ("www.ibm.com", RecordType::A),
            ("hamburger.edu", RecordType::MX),
            ("www.networkutopia.com", RecordType::A),
        ];
        let (name, qtype) = QUESTIONS[self.rng.usize(..QUESTIONS.len())];
        let id = self.rng.u16(..);
        let query = QuerySpec::new(Name::parse(name)?, qtype, id).to_bytes();
        let mut s = self.connect("connect", "target=dns").await?;
        let reply = self
            .step("recursive query", dns_exchange(&mut s, &query, id))
            .await?;
        s.close().await;
        let reply = Message::parse(&reply)?;
        ensure!(
            reply.rcode() == Rcode::NOERROR && reply.header.ra && !reply.answers.is_empty(),
            "the resolver answered {name} {qtype} with {}",
            reply.to_text()
        );
        Ok(())
    }

    async fn ftp(&mut self) -> Result<()> {
        let mut control = self.connect("connect", "target=ftp").await?;
        self.step("greeting", ftp_say(&mut control, b"", 220))
            .await?;
        self.step("USER", ftp_say(&mut control, b"USER anonymous\r\n", 331))
            .await?;
        let pass = b"PASS student@crepes.fr\r\n";
        self.step("PASS", ftp_say(&mut control, pass, 230)).await?;

        let mut data = self.passive(&mut control).await?;
        let listing = self
            .step(
                "LIST pub",
                ftp_transfer(&mut control, &mut data, b"LIST pub\r\n"),
            )
            .await?;
        let names: Vec<String> = ftp::list::parse_listing(&listing)
            .into_iter()
            .filter_map(|(_, _, line)| match line {
                ftp::list::ListLine::Entry(entry) => Some(entry.name.text),
                _ => None,
            })
            .collect();
        ensure!(
            names.iter().any(|n| n == "hello.txt"),
            "LIST pub shows {names:?}"
        );

        self.step("TYPE I", ftp_say(&mut control, b"TYPE I\r\n", 200))
            .await?;
        let mut data = self.passive(&mut control).await?;
        let file = self
            .step(
                "RETR pub/hello.txt",
                ftp_transfer(&mut control, &mut data, b"RETR pub/hello.txt\r\n"),
            )
            .await?;
        ensure!(
            file == demo_file("/pub/hello.txt"),
            "RETR pub/hello.txt: other bytes"
        );
        self.step("QUIT", ftp_say(&mut control, b"QUIT\r\n", 221))
            .await?;
        control.close().await;
        Ok(())
    }

    /// PASV, then the data connection to the port of the 227, as the page
    /// opens it.
    async fn passive(&mut self, control: &mut Session) -> Result<Session> {
        let reply = self
            .step("PASV", ftp_say(control, b"PASV\r\n", 227))
            .await?;
        let port = find_host_port(reply.text().as_bytes())
            .ok_or_else(|| anyhow!("no address in {:?}", reply.text()))?
            .port();
        self.connect("data connect", &format!("target=ftp&data_port={port}"))
            .await
    }

    async fn upper_tcp(&mut self) -> Result<()> {
        let line = format!("a class at once: student {} on TCP\n", self.id);
        let mut s = self.connect("connect", "target=upper-tcp").await?;
        let echo = self
            .step("line", async {
                s.send(line.as_bytes()).await?;
                s.reply(|buf| Ok(framing::next_line(buf, 4096)?.map(|l| l.consumed)))
                    .await
            })
            .await?;
        s.close().await;
        ensure!(echo == upper::to_upper(line.as_bytes()), "echo {echo:?}");
        Ok(())
    }

    async fn upper_udp(&mut self) -> Result<()> {
        let sentence = format!("a class at once: student {} on UDP", self.id);
        let mut s = self.connect("connect", "target=upper-udp").await?;
        let echo = self
            .step("datagram", async {
                s.send(sentence.as_bytes()).await?;
                s.recv().await
            })
            .await?;
        s.close().await;
        ensure!(
            echo == upper::to_upper(sentence.as_bytes()),
            "echo {echo:?}"
        );
        Ok(())
    }
}

/// A demo file of the FTP server, as stored.
fn demo_file(path: &str) -> Vec<u8> {
    ftp::fs::demo_files()
        .into_iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| bytes)
        .unwrap_or_default()
}

/// Sends one GET (the course's request lines) and checks the response is a
/// 200 with the site's file as its body.
async fn http_get(s: &mut Session, path: &str, close: bool) -> Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: www.someschool.edu\r\nConnection: {connection}\r\n\
         User-agent: Mozilla/5.0\r\nAccept-language: fr\r\n\r\n"
    );
    s.send(request.as_bytes()).await?;
    let limits = Limits::default();
    let frame = |buf: &[u8]| match frame_response(buf, Some("GET"), &limits)? {
        Status::Complete(frame) => Ok(Some(frame.len)),
        Status::Partial => Ok(None),
        Status::UntilClose { .. } => bail!("a response without Content-Length"),
    };
    let bytes = s.reply(frame).await?;
    let Status::Complete(frame) = frame_response(&bytes, Some("GET"), &limits)? else {
        bail!("the framed response does not frame again");
    };
    let head = parse_head(&bytes[..frame.head_end]);
    ensure!(
        head.status(&bytes) == Some(200),
        "GET {path}: {}",
        String::from_utf8_lossy(&bytes[..frame.head_end])
    );
    let expected = wirelab_shared::http::site::demo_files()
        .get(path)
        .map(|f| f.body.to_vec())
        .unwrap_or_default();
    ensure!(
        body_bytes(&bytes, &frame) == expected,
        "GET {path}: another body"
    );
    Ok(())
}

/// Sends `line` (nothing when empty: the greeting) and expects one SMTP
/// reply with code `want`.
async fn smtp_say(s: &mut Session, line: &[u8], want: u16) -> Result<()> {
    if !line.is_empty() {
        s.send(line).await?;
    }
    let bytes = s.reply(|buf| Ok(smtp::frame::next_reply(buf)?)).await?;
    let reply = smtp::reply::Reply::parse(&bytes)?;
    ensure!(
        reply.code == want,
        "{} {} (expected {want})",
        reply.code,
        reply.text()
    );
    Ok(())
}

/// Sends `line` (nothing when empty: the greeting) and expects `+OK`,
/// with a body when `multiline`.
async fn pop3_say(s: &mut Session, line: &[u8], multiline: bool) -> Result<pop3::reply::Reply> {
    if !line.is_empty() {
        s.send(line).await?;
    }
    let bytes = s
        .reply(|buf| Ok(pop3::frame::next_reply(buf, multiline)?))
        .await?;
    let reply = pop3::reply::Reply::parse(&bytes, multiline)?;
    ensure!(reply.ok, "-ERR {}", reply.text);
    Ok(reply)
}

/// The next FTP reply on the control connection.
async fn ftp_reply(s: &mut Session) -> Result<ftp::reply::Reply> {
    let bytes = s
        .reply(|buf| Ok(ftp::frame::next_reply(buf, ftp::MAX_LINE)?.map(|f| f.consumed)))
        .await?;
    Ok(ftp::reply::Reply::parse(&bytes)?)
}

/// Sends `line` (nothing when empty: the greeting) and expects one FTP
/// reply with code `want`.
async fn ftp_say(s: &mut Session, line: &[u8], want: u16) -> Result<ftp::reply::Reply> {
    if !line.is_empty() {
        s.send(line).await?;
    }
    let reply = ftp_reply(s).await?;
    ensure!(
        reply.code == want,
        "{} {} (expected {want})",
        reply.code,
        reply.text()
    );
    Ok(reply)
}

/// A transfer command: its preliminary reply, the data until the server
/// closes the data connection, then 226.
async fn ftp_transfer(control: &mut Session, data: &mut Session, line: &[u8]) -> Result<Vec<u8>> {
    control.send(line).await?;
    let opening = ftp_reply(control).await?;
    ensure!(
        matches!(opening.code, 125 | 150),
        "{} {}",
        opening.code,
        opening.text()
    );
    let bytes = data.until_closed().await?;
    let done = ftp_reply(control).await?;
    ensure!(done.code == 226, "{} {}", done.code, done.text());
    Ok(bytes)
}

/// One DNS query in one datagram, and the reply to it (same ID).
async fn dns_exchange(s: &mut Session, query: &[u8], id: u16) -> Result<Vec<u8>> {
    s.send(query).await?;
    let reply = s.recv().await?;
    let parsed = Message::parse(&reply)?;
    ensure!(
        parsed.header.id == id,
        "a reply with ID {} to query {id}",
        parsed.header.id
    );
    Ok(reply)
}
