//! Fuzz bodies for FTP: commands, replies, listings and data as the
//! dissectors, parsers and client engine see them, and the reference
//! server engine with its data connections.

use super::{check, follow};
use crate::engine::{Engine, Millis, drain};
use crate::ftp;

/// Command lines: the dissector, the parser (with its round trip) and the
/// client's diagnostics.
pub fn ftp_command(data: &[u8]) {
    check(&ftp::dissect::dissect_command(data), data);
    let line = data.strip_suffix(b"\r\n").unwrap_or(data);
    if let Ok(command) = ftp::command::Command::parse(line) {
        let wire = command.to_bytes();
        let again = ftp::command::Command::parse(wire.strip_suffix(b"\r\n").unwrap_or(&wire));
        assert_eq!(
            again.as_ref(),
            Ok(&command),
            "{:?}",
            String::from_utf8_lossy(&wire)
        );
    }
    let client = ftp::client::FtpClient::new();
    for diagnostic in client.diagnose(data) {
        assert!(diagnostic.span.end <= data.len());
    }
}

/// Replies: the dissector, the framer, the parser (with its round trip),
/// the client engine and the page's view of a control connection.
pub fn ftp_reply(data: &[u8]) {
    check(&ftp::dissect::dissect_reply(data), data);
    if let Ok(Some(frame)) = ftp::frame::next_reply(data, ftp::MAX_LINE) {
        assert!(frame.consumed <= data.len());
        // The writer turns a CR or LF inside a line into a space (it could
        // not be sent otherwise), so what it writes is the fixed point.
        if let Ok(reply) = ftp::reply::Reply::parse(&data[..frame.consumed]) {
            let wire = reply.to_bytes();
            let again = ftp::reply::Reply::parse(&wire).expect("a written reply parses");
            assert_eq!(again.to_bytes(), wire);
        }
    }
    let mut client = ftp::client::FtpClient::new();
    super::drive(&mut client, data);
    follow(&mut ftp::conversation::FtpConversation::new(), data);
}

/// LIST output, and whatever else a data connection carries.
pub fn ftp_list(data: &[u8]) {
    use ftp::session::{DataKind, TransferType};
    check(&ftp::dissect::dissect_list(data), data);
    let kinds = [
        None,
        Some(DataKind::NameList),
        Some(DataKind::Download { path: "/f".into() }),
    ];
    for kind in &kinds {
        for t in [TransferType::Ascii, TransferType::Image] {
            check(&ftp::data::dissect_data(data, kind.as_ref(), t), data);
        }
    }
}

/// The most the server may send in answer to one call: a reply, and one
/// piece of a listing or file on a data connection (it sends files in
/// pieces of 16 KiB).
const MAX_OUTPUT_PER_CALL: usize = 17 * 1024;

/// The server engine: after a login and PASV, the input as control bytes
/// in chunks of seven, each chunk also choosing a data connection event.
/// Control replies are whole lines, and what the server sends, on the
/// control connection and the data connections, stays bounded by the
/// calls it was given.
pub fn ftp_server(data: &[u8]) {
    use ftp::server::{DataConnId, DataEvent, FtpServer, ServerSettings};
    let mut server = FtpServer::new(
        ServerSettings::default(),
        ftp::fs::MemoryTree::demo(0).with_quota(Some(4096)),
        ([127, 0, 0, 1], 40000).into(),
        ([127, 0, 0, 1], 21).into(),
    );
    let mut script = b"USER anonymous\r\nPASS x\r\nPASV\r\n".to_vec();
    script.extend_from_slice(data);
    let mut calls = 1;
    let mut sent = Sent::default();
    sent.add(drain(&mut server));
    for (i, chunk) in script.chunks(7).enumerate() {
        let now = Millis(i as u64);
        server.handle_input(chunk, now);
        let out = drain(&mut server);
        assert!(out.transmitted.iter().all(|t| t.ends_with(b"\r\n")));
        sent.add(out);
        let id = DataConnId(u64::from(chunk[0] % 4));
        let event = match chunk.get(1).copied().unwrap_or(0) % 7 {
            0 => DataEvent::Listening {
                addr: ([127, 0, 0, 1], 21000).into(),
            },
            1 => DataEvent::Opened,
            2 => DataEvent::Received(chunk.to_vec()),
            3 => DataEvent::PeerClosed,
            4 => DataEvent::Closed,
            5 => DataEvent::Failed {
                reason: "fuzz".into(),
            },
            _ => {
                calls += 1;
                continue;
            }
        };
        server.handle_data(id, event, now);
        sent.add(drain(&mut server));
        server.handle_timeout(Millis(i as u64 * 10_000));
        sent.add(drain(&mut server));
        calls += 3;
    }
    assert!(
        sent.bytes <= calls * MAX_OUTPUT_PER_CALL,
        "{} bytes sent in {calls} calls",
        sent.bytes
    );
    server.handle_eof(Millis(u64::MAX / 2));
    sent.add(drain(&mut server));
    assert!(sent.closed, "the stream ended, so did the session");
}

/// What the server sent on every connection, and whether it closed.
#[derive(Default)]
struct Sent {
    bytes: usize,
    closed: bool,
}

impl Sent {
    fn add(&mut self, out: crate::engine::Drained<ftp::server::ServerEvent>) {
        self.bytes += out.bytes().len() + data_bytes(&out.events);
        self.closed |= out.close;
    }
}

/// The bytes the server asks its driver to send on data connections.
fn data_bytes(events: &[ftp::server::ServerEvent]) -> usize {
    use ftp::server::{DataRequest, ServerEvent};
    events
        .iter()
        .map(|e| match e {
            ServerEvent::Data(DataRequest::Send { bytes, .. }) => bytes.len(),
            _ => 0,
        })
        .sum()
}
