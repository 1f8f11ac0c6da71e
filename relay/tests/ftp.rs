//! The reference FTP server end to end: through the relay's `/ws` (control
//! connection, passive data connections by `data_port`, active mode by
//! `listen` and `accept`), and with real clients (curl, Python's ftplib),
//! the bytes checked against the demo files.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use wirelab_relay::config::Config;
use wirelab_shared::ftp::address::{find_host_port, port_argument};
use wirelab_shared::ftp::fs::demo_files;
use wirelab_shared::relay_protocol::{ClosedBy, ErrorCode, RelayMessage};

fn demo(path: &str) -> Vec<u8> {
    demo_files()
        .into_iter()
        .find(|(p, _)| *p == path)
        .map(|(_, b)| b)
        .unwrap()
}

fn ftp_port(relay: &TestRelay) -> u16 {
    relay.relay.target("ftp").unwrap().port
}

/// Reads control bytes until a reply line starting with `code ` arrives;
/// returns everything read.
async fn until_reply(ws: &mut Ws, code: &str) -> String {
    let mut text = String::new();
    let want = format!("{code} ");
    while !text.lines().any(|l| l.starts_with(&want)) {
        text.push_str(&String::from_utf8_lossy(&next_bytes(ws).await));
    }
    text
}

async fn command(ws: &mut Ws, line: &str, code: &str) -> String {
    send_bytes(ws, format!("{line}\r\n").as_bytes()).await;
    until_reply(ws, code).await
}

async fn connected(ws: &mut Ws) -> RelayMessage {
    let msg = next_relay_message(ws).await;
    assert!(matches!(msg, RelayMessage::Connected { .. }), "{msg:?}");
    msg
}

async fn expect_error(ws: &mut Ws, code: ErrorCode) -> String {
    match next_relay_message(ws).await {
        RelayMessage::Error {
            code: got, message, ..
        } => {
            assert_eq!(got, code, "{message}");
            message
        }
        other => panic!("expected error {code:?}, got {other:?}"),
    }
}

/// Every byte of a data connection until the server closes it.
async fn data_until_closed(ws: &mut Ws) -> Vec<u8> {
    let mut data = Vec::new();
    loop {
        match next(ws).await {
            tokio_tungstenite::tungstenite::Message::Binary(b) => data.extend_from_slice(&b),
            tokio_tungstenite::tungstenite::Message::Text(t) => {
                let msg: RelayMessage = serde_json::from_str(t.as_str()).unwrap();
                assert!(
                    matches!(
                        msg,
                        RelayMessage::Closed {
                            by: ClosedBy::Peer,
                            ..
                        }
                    ),
                    "{msg:?}"
                );
                return data;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn logged_in_control(relay: &TestRelay, user: &str, pass: &str) -> Ws {
    let mut control = relay.open("target=ftp").await;
    connected(&mut control).await;
    until_reply(&mut control, "220").await;
    command(&mut control, &format!("USER {user}"), "331").await;
    command(&mut control, &format!("PASS {pass}"), "230").await;
    control
}

#[tokio::test]
async fn passive_mode_through_the_relay() {
    let relay = start(|_| {}).await;
    let range = relay.relay.target("ftp").unwrap().data_ports.unwrap();
    let mut control = logged_in_control(&relay, "anonymous", "guest@example.org").await;
    // LIST: the page opens the data connection to the port 227 names.
    let reply = command(&mut control, "PASV", "227").await;
    let port = find_host_port(reply.as_bytes()).unwrap().port();
    assert!(range.contains(port), "{port} in {range:?}");
    let mut data = relay.open(&format!("target=ftp&data_port={port}")).await;
    match connected(&mut data).await {
        RelayMessage::Connected { peer, .. } => assert!(peer.ends_with(&format!(":{port}"))),
        _ => unreachable!(),
    }
    send_bytes(&mut control, b"LIST pub\r\n").await;
    let listing = String::from_utf8(data_until_closed(&mut data).await).unwrap();
    assert!(listing.contains(" hello.txt\r\n"), "{listing}");
    let replies = until_reply(&mut control, "226").await;
    assert!(
        replies.starts_with("125 ") || replies.starts_with("150 "),
        "{replies}"
    );
    // RETR in binary: the exact bytes.
    command(&mut control, "TYPE I", "200").await;
    let reply = command(&mut control, "EPSV", "229").await;
    let port: u16 = reply
        .split("|||")
        .nth(1)
        .unwrap()
        .split('|')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut data = relay.open(&format!("target=ftp&data_port={port}")).await;
    connected(&mut data).await;
    send_bytes(&mut control, b"RETR pub/bytes.bin\r\n").await;
    assert_eq!(data_until_closed(&mut data).await, demo("/pub/bytes.bin"));
    until_reply(&mut control, "226").await;
}

#[tokio::test]
async fn data_ports_need_an_open_control_connection() {
    let relay = start(|_| {}).await;
    let range = relay.relay.target("ftp").unwrap().data_ports.unwrap();
    let query = format!("target=ftp&data_port={}", range.first);
    // No control connection yet.
    let mut ws = relay.open(&query).await;
    let message = expect_error(&mut ws, ErrorCode::Forbidden).await;
    assert!(message.contains("control connection"), "{message}");
    // Outside the range, and on a target without data ports.
    let mut control = relay.open("target=ftp").await;
    connected(&mut control).await;
    let mut ws = relay
        .open(&format!("target=ftp&data_port={}", range.last + 1))
        .await;
    assert!(
        expect_error(&mut ws, ErrorCode::Forbidden)
            .await
            .contains("not a data port")
    );
    let mut ws = relay.open("target=upper-tcp&data_port=12000").await;
    expect_error(&mut ws, ErrorCode::Forbidden).await;
    // With the control connection open, a port in the range is bridged (the
    // server refuses it at TCP level: nothing listens there yet).
    let mut ws = relay.open(&query).await;
    match next_relay_message(&mut ws).await {
        RelayMessage::Connected { .. } => {}
        RelayMessage::Error { code, .. } => assert_eq!(code, ErrorCode::ConnectFailed),
        other => panic!("{other:?}"),
    }
    // Once the control connection closes, the grant is gone.
    drop(control);
    let mut refused = false;
    for _ in 0..50 {
        let mut ws = relay.open(&query).await;
        if let RelayMessage::Error {
            code: ErrorCode::Forbidden,
            ..
        } = next_relay_message(&mut ws).await
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "the data port stayed open after the control connection closed"
    );
}

#[tokio::test]
async fn active_mode_through_listen_and_accept() {
    let relay = start(|_| {}).await;
    let mut control = logged_in_control(&relay, "anonymous", "x").await;
    send_text(&mut control, r#"{"type":"listen"}"#).await;
    let (addr, id) = match next_relay_message(&mut control).await {
        RelayMessage::Listening { addr, id, t_ms } => {
            assert!(t_ms.is_some());
            (addr.parse::<std::net::SocketAddrV4>().unwrap(), id.unwrap())
        }
        other => panic!("expected listening, got {other:?}"),
    };
    // Someone else than the server may not use the listener.
    let intruder = tokio::net::TcpSocket::new_v4().unwrap();
    intruder.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    // The kernel completes the handshake; the relay then drops the intruder.
    let mut stream = intruder
        .connect(addr.into())
        .await
        .expect("the listener completes the handshake");
    {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "the intruder was kept: {read:?}"
        );
    }
    let reply = command(
        &mut control,
        &format!("PORT {}", port_argument(addr)),
        "200",
    )
    .await;
    assert!(reply.contains(&addr.to_string()), "{reply}");
    // The page may open the accepting WebSocket before the server connects.
    let mut data = relay.open(&format!("accept={id}")).await;
    send_bytes(&mut control, b"RETR pub/hello.txt\r\n").await;
    match connected(&mut data).await {
        RelayMessage::Connected { target, local, .. } => {
            assert_eq!(target, None);
            assert_eq!(local, addr.to_string());
        }
        _ => unreachable!(),
    }
    let text = data_until_closed(&mut data).await;
    assert_eq!(
        text,
        b"Hello from the wirelab FTP server!\r\nThis file came over a data connection.\r\n"
    );
    let replies = until_reply(&mut control, "226").await;
    assert!(replies.starts_with("150 "), "{replies}");
    // An id is good once.
    let mut again = relay.open(&format!("accept={id}")).await;
    expect_error(&mut again, ErrorCode::Forbidden).await;
}

#[tokio::test]
async fn listen_is_only_for_ftp_and_expires() {
    let relay = start(|c| c.limits.listen_timeout_secs = 0.3).await;
    let mut upper = relay.open("target=upper-tcp").await;
    connected(&mut upper).await;
    send_text(&mut upper, r#"{"type":"listen"}"#).await;
    expect_error(&mut upper, ErrorCode::Forbidden).await;
    let mut bogus = relay.open("accept=0123456789abcdef").await;
    expect_error(&mut bogus, ErrorCode::Forbidden).await;

    let mut control = relay.open("target=ftp").await;
    connected(&mut control).await;
    until_reply(&mut control, "220").await;
    send_text(&mut control, r#"{"type":"listen"}"#).await;
    let id = match next_relay_message(&mut control).await {
        RelayMessage::Listening { id, .. } => id.unwrap(),
        other => panic!("{other:?}"),
    };
    let mut data = relay.open(&format!("accept={id}")).await;
    let message = expect_error(&mut data, ErrorCode::Timeout).await;
    assert!(
        message.contains("did not connect") || message.contains("closed"),
        "{message}"
    );
}

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_passive_and_active_list_download_upload() {
    if wirelab_testkit::require_tool("curl", "curl").is_none() {
        return;
    }
    let relay = start(|_| {}).await;
    let base = format!("ftp://127.0.0.1:{}", ftp_port(&relay));
    let data_dir = relay._data.path().to_path_buf();
    let local = tempfile::tempdir().unwrap();
    let upload = local.path().join("upload.bin");
    let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&upload, &payload).unwrap();
    let base2 = base.clone();
    let upload2 = upload.clone();
    tokio::task::spawn_blocking(move || {
        let base = base2;
        // Passive (curl's default: EPSV), listing and download.
        let out = curl(&[&format!("{base}/pub/")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8(out.stdout).unwrap();
        // curl turns the listing's CR LF into local line ends.
        assert!(listing.contains(" pixel.png\n"), "{listing}");
        let out = curl(&[&format!("{base}/pub/pixel.png")]);
        assert_eq!(out.stdout, demo("/pub/pixel.png"));
        // Plain PASV instead of EPSV.
        let out = curl(&["--disable-epsv", &format!("{base}/pub/bytes.bin")]);
        assert_eq!(out.stdout, demo("/pub/bytes.bin"));
        // Active mode: the server connects back (EPRT, then PORT).
        let out = curl(&["--ftp-port", "127.0.0.1", &format!("{base}/pub/bytes.bin")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, demo("/pub/bytes.bin"));
        let out = curl(&[
            "--ftp-port",
            "127.0.0.1",
            "--disable-eprt",
            &format!("{base}/"),
        ]);
        assert!(String::from_utf8_lossy(&out.stdout).contains(" README.txt\n"));
        // Upload: refused to anonymous, stored for the student.
        let out = curl(&["-T", upload2.to_str().unwrap(), &format!("{base}/upload/")]);
        assert!(!out.status.success());
        let out = curl(&[
            "-u",
            "student:student",
            "-T",
            upload2.to_str().unwrap(),
            &format!("{base}/upload/"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = curl(&[
            "-u",
            "student:student",
            "--ftp-port",
            "127.0.0.1",
            &format!("{base}/upload/upload.bin"),
        ]);
        assert_eq!(out.stdout.len(), 5000);
    })
    .await
    .unwrap();
    assert_eq!(
        std::fs::read(data_dir.join("ftp/upload/upload.bin")).unwrap(),
        payload
    );
}

const FTPLIB_SCRIPT: &str = r#"
import ftplib, io, sys
port, quota_test = int(sys.argv[1]), sys.argv[2] == "quota"
ftp = ftplib.FTP()
print(ftp.connect("127.0.0.1", port).split()[0])
if quota_test:
    ftp.login("student", "student")
    try:
        ftp.storbinary("STOR upload/big.bin", io.BytesIO(b"x" * 50000))
        print("stored")
    except ftplib.error_temp as e:
        print("error", str(e)[:3])
    ftp.voidcmd("NOOP")
    print("still connected")
    sys.exit(0)
print(ftp.login("student", "student").split()[0])
print(ftp.cwd("pub").split()[0])
print(ftp.pwd())
lines = []
ftp.retrlines("LIST", lines.append)
print("names", " ".join(sorted(l.split()[-1] for l in lines)))
blob = bytearray()
ftp.retrbinary("RETR bytes.bin", blob.extend)
print("bytes.bin", len(blob), bytes(blob) == bytes(range(256)))
text = []
ftp.retrlines("RETR hello.txt", text.append)
print("hello", text[0])
ftp.voidcmd("TYPE A")
conn = ftp.transfercmd("RETR bytes.bin")
ascii_copy = b""
while True:
    chunk = conn.recv(4096)
    if not chunk:
        break
    ascii_copy += chunk
conn.close()
ftp.voidresp()
print("ascii bytes.bin", len(ascii_copy))
ftp.cwd("/upload")
print(ftp.storbinary("STOR from-python.bin", io.BytesIO(bytes(range(256)) * 4)).split()[0])
print("size", ftp.size("from-python.bin"))
ftp.set_pasv(False)
back = bytearray()
ftp.retrbinary("RETR from-python.bin", back.extend)
print("active", len(back), bytes(back) == bytes(range(256)) * 4)
print(ftp.delete("from-python.bin").split()[0])
print(ftp.nlst())
print(ftp.quit().split()[0])
"#;

fn python(port: u16, mode: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", FTPLIB_SCRIPT, &port.to_string(), mode])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "ftplib failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_ftplib_session() {
    if wirelab_testkit::require_tool("python3", "python3").is_none() {
        return;
    }
    let relay = start(|_| {}).await;
    let port = ftp_port(&relay);
    let out = tokio::task::spawn_blocking(move || python(port, "session"))
        .await
        .unwrap();
    let expected = "220\n230\n250\n/pub\n\
names bytes.bin hello.txt notes.txt pixel.png\n\
bytes.bin 256 True\n\
hello Hello from the wirelab FTP server!\n\
ascii bytes.bin 257\n\
226\nsize 1024\nactive 1024 True\n250\n[]\n221\n";
    assert_eq!(out, expected);
    assert!(!Path::new(&relay._data.path().join("ftp/upload/from-python.bin")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_past_the_quota_gets_452() {
    if wirelab_testkit::require_tool("python3", "python3").is_none() {
        return;
    }
    let relay = start(|c: &mut Config| c.servers.ftp.quota_bytes = 10_000).await;
    let port = ftp_port(&relay);
    let out = tokio::task::spawn_blocking(move || python(port, "quota"))
        .await
        .unwrap();
    assert_eq!(out, "220\nerror 452\nstill connected\n");
    assert!(!relay._data.path().join("ftp/upload/big.bin").exists());
}

#[tokio::test]
async fn more_active_transfers_than_listener_slots_on_one_control_connection() {
    let relay = start(|_| {}).await;
    let mut control = logged_in_control(&relay, "anonymous", "x").await;
    // Each transfer's listener frees its slot once its connection is taken,
    // so a student can go on past the per-session limit of open listeners.
    for round in 0..6 {
        send_text(&mut control, r#"{"type":"listen"}"#).await;
        let (addr, id) = match next_relay_message(&mut control).await {
            RelayMessage::Listening { addr, id, .. } => {
                (addr.parse::<std::net::SocketAddrV4>().unwrap(), id.unwrap())
            }
            other => panic!("round {round}: expected listening, got {other:?}"),
        };
        command(
            &mut control,
            &format!("PORT {}", port_argument(addr)),
            "200",
        )
        .await;
        let mut data = relay.open(&format!("accept={id}")).await;
        send_bytes(&mut control, b"RETR pub/hello.txt\r\n").await;
        connected(&mut data).await;
        assert!(
            data_until_closed(&mut data)
                .await
                .starts_with(b"Hello from the wirelab FTP server!")
        );
        until_reply(&mut control, "226").await;
    }
}
