//! The reference FTP server against clients that misbehave, each limit
//! answered as FTP answers it: a slowloris command line and an idle control
//! connection get `421` and are closed, an over-long line gets `500`, bad
//! commands past the bound get `421`, PASV listeners are capped per session
//! and in all, a client that never reads its RETR gets `426` while others'
//! transfers go on, an upload cut mid-file stores nothing, and shutdown ends
//! it all promptly. The tests speak FTP straight to the server's port, with
//! short bounds in their configuration.

mod common;

use common::*;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use wirelab_relay::config::Config;
use wirelab_shared::ftp::address::find_host_port;

/// Every test gives the server this long to answer before failing.
const WITHIN: Duration = Duration::from_secs(5);

/// One control connection, read reply by reply.
struct Control {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// The line being read: kept when a read is cancelled (select!).
    partial: String,
}

impl Control {
    async fn connect(relay: &TestRelay) -> Control {
        let port = relay.relay.target("ftp").unwrap().port;
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (reader, writer) = stream.into_split();
        let mut control = Control {
            reader: BufReader::new(reader),
            writer,
            partial: String::new(),
        };
        control.expect("220").await;
        control
    }

    async fn login(relay: &TestRelay, user: &str, password: &str) -> Control {
        let mut control = Control::connect(relay).await;
        control.command(&format!("USER {user}"), "331").await;
        control.command(&format!("PASS {password}"), "230").await;
        control
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// The next whole reply (all lines of a multi-line one); `None` at EOF.
    async fn reply(&mut self) -> Option<String> {
        self.reply_within(WITHIN).await
    }

    /// [`Control::reply`], failing the test when a line takes over `bound`.
    async fn reply_within(&mut self, bound: Duration) -> Option<String> {
        let mut text = String::new();
        loop {
            let line = self.line_within(bound).await;
            if line.is_empty() {
                return (!text.is_empty()).then_some(text);
            }
            text.push_str(&line);
            // "123 text" ends a reply; "123-text" opens a multi-line one.
            let ends = line.len() >= 4
                && line.as_bytes()[3] == b' '
                && line.as_bytes()[..3] == text.as_bytes()[..3];
            if ends {
                return Some(text);
            }
        }
    }

    /// One line; empty at EOF. Cancel-safe: a line read in part stays in
    /// `partial` for the next call.
    async fn line_within(&mut self, bound: Duration) -> String {
        tokio::time::timeout(bound, self.reader.read_line(&mut self.partial))
            .await
            .unwrap_or_else(|_| panic!("a reply line within {bound:?}"))
            .expect("the control connection reads");
        std::mem::take(&mut self.partial)
    }

    async fn expect(&mut self, code: &str) -> String {
        let reply = self.reply().await.expect("a reply, not the end");
        assert!(
            reply.starts_with(&format!("{code} ")),
            "expected {code}: {reply}"
        );
        reply
    }

    async fn command(&mut self, line: &str, code: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.expect(code).await
    }

    /// PASV; the address the 227 names.
    async fn pasv(&mut self) -> SocketAddr {
        let reply = self.command("PASV", "227").await;
        SocketAddr::V4(find_host_port(reply.as_bytes()).unwrap().addr())
    }

    /// Reads to the end: the server closed the control connection.
    async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        tokio::time::timeout(WITHIN, self.reader.read_to_end(&mut rest))
            .await
            .expect("the server closes within 5 s")
            .unwrap_or_default();
        assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    }
}

/// Everything the data connection at `addr` carries until the server closes it.
async fn read_all(data: &mut TcpStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    tokio::time::timeout(WITHIN, data.read_to_end(&mut bytes))
        .await
        .expect("the transfer ends within 5 s")
        .unwrap();
    bytes
}

const HELLO: &[u8] =
    b"Hello from the wirelab FTP server!\r\nThis file came over a data connection.\r\n";

/// Sends a transfer command and expects it to start: `125` when the server
/// had already accepted the data connection, `150` when not yet.
async fn start_transfer(control: &mut Control, line: &str) {
    control.send(format!("{line}\r\n").as_bytes()).await;
    let reply = control.reply().await.expect("a reply to the transfer");
    assert!(
        reply.starts_with("125 ") || reply.starts_with("150 "),
        "{line}: {reply}"
    );
}

/// An honest client's RETR of the demo file (in ASCII), start to end.
async fn honest_retr(control: &mut Control) {
    control.command("TYPE A", "200").await;
    let addr = control.pasv().await;
    let mut data = TcpStream::connect(addr).await.unwrap();
    start_transfer(control, "RETR /pub/hello.txt").await;
    assert_eq!(read_all(&mut data).await, HELLO);
    control.expect("226").await;
}

#[tokio::test]
async fn a_slowloris_command_line_gets_421_and_is_closed() {
    let relay = start(|c: &mut Config| c.servers.ftp.line_timeout_secs = 1.0).await;
    let mut slow = Control::login(&relay, "anonymous", "x").await;
    // A byte every 200 ms never makes a line; the bound counts from the
    // first byte, not the last.
    let mut honest = Control::login(&relay, "anonymous", "x").await;
    let mut answer = None;
    for byte in b"NOOPNOOPNOOPNOOPNOOPNOOPNOOPNOOP" {
        if slow.writer.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::select! {
            reply = slow.reply() => {
                answer = reply;
                break;
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
    let answer = answer.expect("the server answered the slow line");
    assert!(answer.starts_with("421 Timeout"), "{answer}");
    slow.expect_closed().await;
    // Meanwhile, and after, a client that sends whole lines is served.
    honest_retr(&mut honest).await;
}

#[tokio::test]
async fn an_idle_control_connection_gets_421_and_is_closed() {
    let relay = start(|c: &mut Config| c.limits.server_idle_timeout_secs = 2.0).await;
    let mut idle = Control::login(&relay, "anonymous", "x").await;
    let reply = idle.expect("421").await;
    assert!(reply.contains("idle"), "{reply}");
    idle.expect_closed().await;
}

#[tokio::test]
async fn an_over_long_command_line_gets_500_and_the_session_goes_on() {
    let relay = start(|c: &mut Config| c.servers.ftp.max_line_bytes = 1000).await;
    let mut control = Control::login(&relay, "anonymous", "x").await;
    let long = format!("CWD /{}\r\n", "a".repeat(5000));
    control.send(long.as_bytes()).await;
    let reply = control.expect("500").await;
    assert!(reply.contains("too long"), "{reply}");
    // The rest of the long line was skipped, not read as commands.
    control.command("PWD", "257").await;
    honest_retr(&mut control).await;
}

#[tokio::test]
async fn bad_commands_past_the_bound_get_421() {
    let relay = start(|c: &mut Config| c.servers.ftp.max_bad_commands = 5).await;
    let mut control = Control::connect(&relay).await;
    for _ in 0..4 {
        control.command("XYZZY", "502").await;
    }
    control.command("XYZZY", "502").await;
    let reply = control.expect("421").await;
    assert!(reply.contains("Too many bad commands"), "{reply}");
    control.expect_closed().await;
}

#[tokio::test]
async fn pasv_listeners_are_capped_per_session_and_in_all() {
    // The default data timeout (30 s) keeps the listeners for the whole test.
    let relay = start(|c: &mut Config| c.servers.ftp.max_passive_listeners = 5).await;
    // Four clients ask for 50 listeners each (200 in all) and never connect:
    // each new PASV drops that session's last listener.
    let mut attackers = Vec::new();
    for _ in 0..4 {
        let mut attacker = Control::login(&relay, "anonymous", "x").await;
        attacker.send("PASV\r\n".repeat(50).as_bytes()).await;
        for _ in 0..50 {
            attacker.expect("227").await;
        }
        attackers.push(attacker);
    }
    // So they hold four, and an honest client gets the fifth and last.
    let mut honest = Control::login(&relay, "anonymous", "x").await;
    let addr = honest.pasv().await;
    let mut late = Control::login(&relay, "anonymous", "x").await;
    let refused = late.command("PASV", "425").await;
    assert!(refused.contains("passive listeners"), "{refused}");
    // The honest client's LIST and RETR work.
    let mut data = TcpStream::connect(addr).await.unwrap();
    start_transfer(&mut honest, "LIST /pub").await;
    let listing = String::from_utf8(read_all(&mut data).await).unwrap();
    assert!(listing.contains(" hello.txt\r\n"), "{listing}");
    honest.expect("226").await;
    honest_retr(&mut honest).await;
    // The attackers leave: their listeners close with their sessions, and
    // free their places.
    drop(attackers);
    let mut tries = 0;
    loop {
        late.send(b"PASV\r\n").await;
        let reply = late.reply().await.unwrap();
        if reply.starts_with("227 ") {
            break;
        }
        assert!(reply.starts_with("425 "), "{reply}");
        tries += 1;
        assert!(tries < 50, "the attackers' listeners were never given back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    honest_retr(&mut late).await;
}

#[tokio::test]
async fn a_transfer_whose_data_connection_never_comes_gets_425() {
    let relay = start(|c: &mut Config| c.servers.ftp.data_timeout_secs = 2.0).await;
    let mut control = Control::login(&relay, "anonymous", "x").await;
    control.pasv().await;
    control.command("RETR /pub/hello.txt", "150").await;
    let reply = control.expect("425").await;
    assert!(reply.contains("nothing connected within 2 s"), "{reply}");
    // A listener nobody used is dropped the same way, silently; the session
    // goes on.
    control.pasv().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    control.command("RETR /pub/hello.txt", "425").await;
    honest_retr(&mut control).await;
}

#[tokio::test]
async fn a_retr_client_that_never_reads_gets_426_while_others_are_served() {
    let relay = start(|c: &mut Config| {
        c.servers.ftp.send_timeout_secs = 1.0;
        c.servers.ftp.quota_bytes = 64 * 1024 * 1024;
    })
    .await;
    // Bigger than what the sockets' buffers take in, so the server has to
    // wait for the client.
    let big: Vec<u8> = (0..32 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(relay._data.path().join("ftp/pub/big.bin"), &big).unwrap();
    let mut stuck = Control::login(&relay, "anonymous", "x").await;
    stuck.command("TYPE I", "200").await;
    let addr = stuck.pasv().await;
    let _never_read = TcpStream::connect(addr).await.unwrap();
    start_transfer(&mut stuck, "RETR /pub/big.bin").await;
    // Another client is served while that transfer is stuck.
    let mut other = Control::login(&relay, "anonymous", "x").await;
    honest_retr(&mut other).await;
    // The stuck transfer ends with 426 once the sockets' buffers are full
    // and the send timeout has passed, and its session goes on.
    let reply = stuck
        .reply_within(Duration::from_secs(20))
        .await
        .expect("a reply to the stuck RETR");
    assert!(reply.starts_with("426 "), "{reply}");
    assert!(reply.contains("stopped reading"), "{reply}");
    stuck.command("NOOP", "200").await;
    honest_retr(&mut stuck).await;
}

#[tokio::test]
async fn an_upload_cut_mid_file_leaves_nothing_under_its_name() {
    let relay = start(|_| {}).await;
    let upload = relay._data.path().join("ftp/upload");
    let mut control = Control::login(&relay, "student", "student").await;
    control.command("TYPE I", "200").await;
    let addr = control.pasv().await;
    let mut data = TcpStream::connect(addr).await.unwrap();
    start_transfer(&mut control, "STOR /upload/cut.bin").await;
    data.write_all(&vec![7u8; 100_000]).await.unwrap();
    // A reset, not a FIN: in stream mode a FIN is the end of the file.
    data.set_zero_linger().unwrap();
    drop(data);
    let reply = control.expect("426").await;
    assert!(reply.contains("aborted"), "{reply}");
    let left: Vec<_> = std::fs::read_dir(&upload)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // The session goes on, and a whole upload is stored.
    let addr = control.pasv().await;
    let mut data = TcpStream::connect(addr).await.unwrap();
    start_transfer(&mut control, "STOR /upload/whole.bin").await;
    data.write_all(&[1, 2, 3]).await.unwrap();
    data.shutdown().await.unwrap();
    control.expect("226").await;
    assert_eq!(std::fs::read(upload.join("whole.bin")).unwrap(), [1, 2, 3]);
}

#[tokio::test]
async fn shutdown_ends_the_server_promptly_with_attackers_connected() {
    let test_relay = start(|c: &mut Config| c.servers.ftp.quota_bytes = 64 * 1024 * 1024).await;
    let big = vec![0u8; 32 * 1024 * 1024];
    std::fs::write(test_relay._data.path().join("ftp/pub/big.bin"), &big).unwrap();
    // A half line, a listener nobody connects to, a RETR nobody reads, and a
    // client that reads none of its replies.
    let mut slow = Control::login(&test_relay, "anonymous", "x").await;
    slow.send(b"NO").await;
    let mut waiting = Control::login(&test_relay, "anonymous", "x").await;
    waiting.pasv().await;
    let mut stuck = Control::login(&test_relay, "anonymous", "x").await;
    stuck.command("TYPE I", "200").await;
    let addr = stuck.pasv().await;
    let _never_read = TcpStream::connect(addr).await.unwrap();
    start_transfer(&mut stuck, "RETR /pub/big.bin").await;
    let Control {
        writer: mut deaf,
        reader: _deaf_reader,
        ..
    } = Control::login(&test_relay, "anonymous", "x").await;
    let flood = tokio::spawn(async move {
        let help = "HELP\r\n".repeat(1000);
        while deaf.write_all(help.as_bytes()).await.is_ok() {}
    });
    // Let the flood fill the server's sending side.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let TestRelay { relay, _data } = test_relay;
    assert!(
        relay.stop(WITHIN).await,
        "every task of the relay ended within 5 s"
    );
    let goodbye = slow.expect("421").await;
    assert!(goodbye.contains("shutting down"), "{goodbye}");
    flood.abort();
}
