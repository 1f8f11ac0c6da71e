//! An FTP upload acknowledged with 226 survives `kill -9` of the relay, and
//! one interrupted by it never appears: the `wirelab` binary runs as a
//! separate process on free ports with its own data directory, and a new
//! process on the same directory serves what the first one acknowledged.

mod process;

use process::Wirelab;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wirelab_shared::ftp::address::find_host_port;

fn config(dir: &Path) -> PathBuf {
    process::config(
        dir,
        &[
            ("servers.dns", "enabled = false"),
            ("servers.ftp", "passive_port_count = 8"),
        ],
    )
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// One reply line (the server's replies here are all single lines).
fn line(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while !out.ends_with(b"\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1, "connection closed");
        out.push(b[0]);
    }
    String::from_utf8(out).unwrap()
}

fn say(s: &mut TcpStream, text: &str) -> String {
    s.write_all(format!("{text}\r\n").as_bytes()).unwrap();
    line(s)
}

/// A student session in binary type, and a data connection for its next
/// transfer.
fn student(port: u16) -> (TcpStream, TcpStream) {
    let mut control = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    assert!(line(&mut control).starts_with("220 "));
    assert!(say(&mut control, "USER student").starts_with("331 "));
    assert!(say(&mut control, "PASS student").starts_with("230 "));
    assert!(say(&mut control, "TYPE I").starts_with("200 "));
    let pasv = say(&mut control, "PASV");
    let addr = find_host_port(pasv.as_bytes()).unwrap_or_else(|| panic!("{pasv}"));
    (control, connect(addr.addr().into()))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_acknowledged_upload_survives_kill_9_and_an_interrupted_one_never_appears() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let upload = dir.path().join("data/ftp/upload");
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    {
        let relay = Wirelab::spawn(&cfg);
        // One upload acknowledged...
        let (mut control, mut data) = student(relay.port("ftp"));
        let opening = say(&mut control, "STOR /upload/done.bin");
        assert!(
            opening.starts_with("125 ") || opening.starts_with("150 "),
            "{opening}"
        );
        data.write_all(&payload).unwrap();
        drop(data);
        assert!(line(&mut control).starts_with("226 "));
        // ...and one still under way when the relay dies.
        let (mut control, mut data) = student(relay.port("ftp"));
        let opening = say(&mut control, "STOR /upload/half.bin");
        assert!(
            opening.starts_with("125 ") || opening.starts_with("150 "),
            "{opening}"
        );
        data.write_all(&payload[..100_000]).unwrap();
        // SIGKILL: no chance to flush or clean anything.
        let mut relay = relay;
        relay.kill_9();
    }
    assert_eq!(std::fs::read(upload.join("done.bin")).unwrap(), payload);
    assert!(!upload.join("half.bin").exists());
    // What a kill during the write itself would leave: a temporary file.
    std::fs::write(upload.join(".wirelab-part.0123456789abcdef"), b"half").unwrap();
    let relay = Wirelab::spawn(&cfg);
    assert_eq!(names_in(&upload), ["done.bin"], "removed at start");
    let (mut control, mut data) = student(relay.port("ftp"));
    let opening = say(&mut control, "NLST /upload");
    assert!(
        opening.starts_with("125 ") || opening.starts_with("150 "),
        "{opening}"
    );
    let mut listing = String::new();
    data.read_to_string(&mut listing).unwrap();
    assert!(line(&mut control).starts_with("226 "));
    assert_eq!(listing, "done.bin\r\n");
    assert!(say(&mut control, "SIZE /upload/done.bin").starts_with("213 300000"));
}
