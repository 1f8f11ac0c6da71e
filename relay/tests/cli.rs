//! The `wirelab` binary's subcommands that need no network.

use std::io::Write;
use std::process::{Command, Stdio};

fn wirelab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wirelab"))
}

#[test]
fn dissect_line_from_stdin_prints_json() {
    let mut child = wirelab()
        .args(["dissect", "line"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["protocol"], "line");
    assert_eq!(json["summary"], "hello");
    assert_eq!(json["diagnostics"][0]["severity"], "warning");
}

#[test]
fn dissect_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("msg.txt");
    std::fs::write(&path, "a\r\nb\r\n").unwrap();
    let out = wirelab()
        .args(["dissect", "line", "--compact"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(r#""summary":"a (+1 more line)""#));
}

#[test]
fn dissect_errors_exit_non_zero_with_a_clear_message() {
    let out = wirelab().args(["dissect", "morse"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unknown kind \"morse\""), "{err}");
    let out = wirelab()
        .args(["dissect", "line", "/no/such/file"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot read /no/such/file")
    );
}

#[test]
fn print_config_shows_the_defaults_as_toml() {
    let out = wirelab()
        .args(["print-config", "--port", "9090"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("port = 9090"), "{text}");
    assert!(text.contains("[servers.upper]"), "{text}");
}

#[test]
fn dissect_ftp_kinds() {
    for (kind, input, summary) in [
        (
            "ftp-command",
            "PORT 127,0,0,1,158,107\r\n",
            "PORT 127,0,0,1,158,107",
        ),
        (
            "ftp-reply",
            "227 Entering Passive Mode (127,0,0,1,82,9)\r\n",
            "227 Entering Passive Mode (127,0,0,1,82,9)",
        ),
        (
            "ftp-list",
            "drwxr-xr-x 2 ftp ftp 0 Jan 05 12:00 pub\r\n",
            "Listing: 1 directories, 0 files",
        ),
    ] {
        let mut child = wirelab()
            .args(["dissect", kind, "--compact"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{kind}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["protocol"], "ftp");
        assert_eq!(json["summary"], summary);
    }
    let help = wirelab().args(["dissect", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("ftp-command") && help.contains("ftp-list"),
        "{help}"
    );
}

#[test]
fn dissect_dns_kinds() {
    // The course's query: gaia.cs.umass.edu A, recursion not desired.
    let mut query = vec![0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(b"\x04gaia\x02cs\x05umass\x03edu\x00\x00\x01\x00\x01");
    let dir = tempfile::tempdir().unwrap();
    let udp = dir.path().join("query.bin");
    std::fs::write(&udp, &query).unwrap();
    let mut framed = vec![0, query.len() as u8];
    framed.extend_from_slice(&query);
    let tcp = dir.path().join("query.tcp");
    std::fs::write(&tcp, &framed).unwrap();
    let zone = dir.path().join("x.zone");
    std::fs::write(
        &zone,
        "$ORIGIN x.\n$TTL 60\n@ SOA ns.x. h.x. 1 2 3 4 5\n@ NS ns\nns A 10.0.0.1\n",
    )
    .unwrap();
    for (kind, path, summary) in [
        ("dns", &udp, "Query 0x1234: A? gaia.cs.umass.edu. []"),
        ("dns-tcp", &tcp, "Query 0x1234: A? gaia.cs.umass.edu. []"),
        ("zone", &zone, "zone x. (3 records)"),
    ] {
        let out = wirelab()
            .args(["dissect", kind])
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{kind}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["protocol"], "dns");
        assert_eq!(json["summary"], summary, "{kind}");
    }
}
