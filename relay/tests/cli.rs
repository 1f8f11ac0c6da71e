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
    assert!(text.contains(r#""summary":"a (+1 more lines)""#));
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
