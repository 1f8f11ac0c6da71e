//! Recordings: per-connection transcripts written to
//! `<data_dir>/recordings/<id>.rec`, read back as text or as a pcapng file
//! ([`pcapng`]) the student downloads.
//!
//! A file is one JSON [`Header`] line, then binary records
//! `kind u8 | t_us u64 LE | len u32 LE | bytes`, times counted from the
//! moment the relay began connecting. Times are taken on the page's side of
//! the relay (bytes from the page when they arrive, bytes to the page when
//! they are handed over), so a `delay_ms` shows in the recording as the
//! round-trip time the student asked for.
//!
//! The bridge opens a [`Recorder`] when the connection is made (if
//! `[recordings] mode` and the page's `record=1` say so), feeds it every
//! event and drops it at the end. Each record goes to the file as it is
//! made, whole, so a recording can be read while its session is open: the
//! reader gets what is there so far, and leaves out a record it finds half
//! written. The store knows which recordings are still being written, so a
//! transcript can tell an open session from one the relay never finished.
//! Payload beyond `max_bytes` is not kept; the transcript says so. Old
//! recordings are pruned on start and whenever a new one begins.

pub mod pcapng;

use crate::config::{RecordingMode, RecordingsConfig};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wirelab_shared::relay_protocol::Transport;

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub id: String,
    pub transport: Transport,
    /// The catalog name, or `host:port` of a custom target.
    pub target: String,
    /// The relay's end of the connection.
    pub client: SocketAddr,
    /// The server's end.
    pub server: SocketAddr,
    /// When the relay began connecting, Unix microseconds.
    pub started_unix_us: u64,
    /// How long connecting took (TCP handshake, plus twice the delay).
    pub connect_us: u64,
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
}

/// What happened, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes (one datagram for UDP) from the page to the server.
    ToTarget(Vec<u8>),
    /// Bytes (one datagram for UDP) from the server to the page.
    ToPage(Vec<u8>),
    /// The page half-closed (TCP FIN from the relay).
    FinFromPage,
    /// The server closed its side (TCP FIN).
    FinFromPeer,
    /// The session was ending and the page had not half-closed: the relay
    /// closed its side of the connection (TCP FIN).
    FinFromRelay,
    /// A UDP reply that was not passed on, and why.
    Dropped { len: u32, why: String },
    /// Payload was no longer kept from here on.
    Truncated,
    /// The session ended, and why.
    Closed(String),
}

impl Event {
    fn kind(&self) -> u8 {
        match self {
            Event::ToTarget(_) => 1,
            Event::ToPage(_) => 2,
            Event::FinFromPage => 3,
            Event::FinFromPeer => 4,
            Event::Dropped { .. } => 5,
            Event::Truncated => 6,
            Event::Closed(_) => 7,
            Event::FinFromRelay => 8,
        }
    }

    fn payload(&self) -> Vec<u8> {
        match self {
            Event::ToTarget(b) | Event::ToPage(b) => b.clone(),
            Event::Dropped { len, why } => {
                let mut v = len.to_le_bytes().to_vec();
                v.extend_from_slice(why.as_bytes());
                v
            }
            Event::Closed(why) => why.as_bytes().to_vec(),
            Event::FinFromPage | Event::FinFromPeer | Event::FinFromRelay | Event::Truncated => {
                Vec::new()
            }
        }
    }

    fn decode(kind: u8, payload: Vec<u8>) -> Option<Event> {
        Some(match kind {
            1 => Event::ToTarget(payload),
            2 => Event::ToPage(payload),
            3 => Event::FinFromPage,
            4 => Event::FinFromPeer,
            5 => {
                let len = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?);
                Event::Dropped {
                    len,
                    why: String::from_utf8_lossy(&payload[4..]).into_owned(),
                }
            }
            6 => Event::Truncated,
            7 => Event::Closed(String::from_utf8_lossy(&payload).into_owned()),
            8 => Event::FinFromRelay,
            _ => return None,
        })
    }
}

/// A recording read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub header: Header,
    /// Microseconds since the start, and the event.
    pub events: Vec<(u64, Event)>,
    /// The session was still open when this was read: `events` is what it
    /// had so far.
    pub live: bool,
}

impl Recording {
    /// Whether the session's end is recorded.
    pub fn ended(&self) -> bool {
        self.events
            .iter()
            .any(|(_, e)| matches!(e, Event::Closed(_)))
    }
}

/// Whether `id` looks like a recording id (32 lower-case hex digits), so
/// it is safe in a path.
pub fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The ids of the recordings being written, shared by the store and its
/// recorders (each takes its id out when it is dropped).
type LiveIds = Arc<Mutex<HashSet<String>>>;

/// The `recordings` folder and its settings.
#[derive(Debug, Clone)]
pub struct RecordingStore {
    dir: PathBuf,
    config: RecordingsConfig,
    live: LiveIds,
}

/// Whether `mode` records a session, given whether its page asked (a
/// class's own mode overrides the relay's).
pub fn mode_wants(mode: RecordingMode, requested: bool) -> bool {
    match mode {
        RecordingMode::Off => false,
        RecordingMode::OnRequest => requested,
        RecordingMode::Always => true,
    }
}

impl RecordingStore {
    pub fn new(data_dir: &Path, config: &RecordingsConfig) -> Self {
        RecordingStore {
            dir: data_dir.join("recordings"),
            config: config.clone(),
            live: LiveIds::default(),
        }
    }

    /// Whether a session is recorded, given whether its page asked.
    pub fn wants(&self, requested: bool) -> bool {
        mode_wants(self.config.mode, requested)
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.rec"))
    }

    /// Starts a recording; `started` is when connecting began. The header
    /// is on disk when this returns, so the recording can be read at once.
    pub fn start(&self, header: Header, started: Instant) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(&self.dir)?;
        self.prune();
        let mut file = File::create(self.path(&header.id))?;
        let mut line = serde_json::to_string(&header)?;
        line.push('\n');
        file.write_all(line.as_bytes())?;
        lock(&self.live).insert(header.id.clone());
        Ok(Recorder {
            id: header.id,
            file: Some(file),
            started,
            kept: 0,
            max: self.config.max_bytes,
            truncated: false,
            client_fin: false,
            server_fin: false,
            live: self.live.clone(),
        })
    }

    /// Reads recording `id`, as far as it is written if its session is
    /// still open.
    pub fn open(&self, id: &str) -> Option<Recording> {
        if !valid_id(id) {
            return None;
        }
        // Asked before reading: a session that ends in between has its end
        // in the file, and counts as ended whatever `live` says.
        let live = lock(&self.live).contains(id);
        let bytes = std::fs::read(self.path(id)).ok()?;
        let mut recording = parse(&bytes)?;
        recording.live = live;
        Some(recording)
    }

    /// The header of recording `id`.
    pub fn header(&self, id: &str) -> Option<Header> {
        if !valid_id(id) {
            return None;
        }
        read_header(&self.path(id))
    }

    /// Every recording's header, newest first.
    pub fn list(&self) -> Vec<Header> {
        let mut headers: Vec<Header> = self
            .files()
            .into_iter()
            .filter_map(|(path, _)| read_header(&path))
            .collect();
        headers.sort_by_key(|h| std::cmp::Reverse(h.started_unix_us));
        headers
    }

    fn files(&self) -> Vec<(PathBuf, SystemTime)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "rec"))
            .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
            .collect()
    }

    /// Deletes recordings older than `keep_hours`, then the oldest beyond
    /// `max_count` (keeping room for one more). A recording being written is
    /// kept, as its page may still read it; it counts toward `max_count`.
    pub fn prune(&self) {
        let keep =
            Duration::try_from_secs_f64(self.config.keep_hours * 3600.0).unwrap_or(Duration::MAX);
        let now = SystemTime::now();
        let mut files = self.files();
        let live = lock(&self.live).clone();
        let is_live = |path: &Path| {
            path.file_stem()
                .and_then(|stem| stem.to_str())
                .is_some_and(|id| live.contains(id))
        };
        files.retain(|(path, modified)| {
            let old = now.duration_since(*modified).unwrap_or_default() > keep && !is_live(path);
            if old {
                let _ = std::fs::remove_file(path);
            }
            !old
        });
        let excess = (files.len() + 1).saturating_sub(self.config.max_count.max(1));
        if excess == 0 {
            return;
        }
        // File times are coarse; the header's start time orders recordings
        // made within the same millisecond.
        let mut files: Vec<(u64, PathBuf)> = files
            .into_iter()
            .map(|(path, modified)| {
                let started = read_header(&path)
                    .map(|h| h.started_unix_us)
                    .unwrap_or_else(|| {
                        modified
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_micros() as u64)
                            .unwrap_or(0)
                    });
                (started, path)
            })
            .collect();
        files.retain(|(_, path)| !is_live(path));
        files.sort();
        for (_, path) in files.iter().take(excess) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The set of live ids. A recorder that panicked while holding the lock
/// left a set that is still whole (inserts and removes do not panic midway).
fn lock(live: &LiveIds) -> std::sync::MutexGuard<'_, HashSet<String>> {
    live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read_header(path: &Path) -> Option<Header> {
    use std::io::{BufRead, Read};
    let mut line = String::new();
    std::io::BufReader::new(File::open(path).ok()?.take(64 * 1024))
        .read_line(&mut line)
        .ok()?;
    serde_json::from_str(line.trim_end()).ok()
}

/// Reads a recording file; a record cut short at the end (the relay
/// stopped mid-write) is left out.
pub fn parse(bytes: &[u8]) -> Option<Recording> {
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let header: Header = serde_json::from_slice(&bytes[..newline]).ok()?;
    let mut rest = &bytes[newline + 1..];
    let mut events = Vec::new();
    while rest.len() >= 13 {
        let kind = rest[0];
        let t_us = u64::from_le_bytes(rest[1..9].try_into().ok()?);
        let len = u32::from_le_bytes(rest[9..13].try_into().ok()?) as usize;
        let Some(payload) = rest.get(13..13 + len) else {
            break;
        };
        if let Some(event) = Event::decode(kind, payload.to_vec()) {
            events.push((t_us, event));
        }
        rest = &rest[13 + len..];
    }
    Some(Recording {
        header,
        events,
        live: false,
    })
}

/// Writes one connection's events, each straight to the file (one write
/// per record, no buffer held back), so readers see it at once.
#[derive(Debug)]
pub struct Recorder {
    id: String,
    file: Option<File>,
    started: Instant,
    kept: u64,
    max: u64,
    truncated: bool,
    /// A FIN from the relay's side (the page's or its own) is recorded.
    client_fin: bool,
    /// The server's FIN is recorded.
    server_fin: bool,
    live: LiveIds,
}

impl Recorder {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the relay's side has sent its FIN, as recorded.
    pub fn client_fin_recorded(&self) -> bool {
        self.client_fin
    }

    /// Whether the server's FIN is recorded.
    pub fn server_fin_recorded(&self) -> bool {
        self.server_fin
    }

    /// Records `event` now. Payload past the size bound is replaced by one
    /// `Truncated` mark; a write error stops the recording, not the session.
    pub fn record(&mut self, event: Event) {
        let payload_len = match &event {
            Event::ToTarget(b) | Event::ToPage(b) => b.len() as u64,
            _ => 0,
        };
        if payload_len > 0 && self.truncated {
            return;
        }
        let event = if payload_len > 0 && self.kept + payload_len > self.max {
            self.truncated = true;
            Event::Truncated
        } else {
            self.kept += payload_len;
            event
        };
        match event {
            Event::FinFromPage | Event::FinFromRelay => self.client_fin = true,
            Event::FinFromPeer => self.server_fin = true,
            _ => {}
        }
        let t_us = self.started.elapsed().as_micros() as u64;
        let Some(file) = &mut self.file else {
            return;
        };
        let payload = event.payload();
        let mut record = Vec::with_capacity(13 + payload.len());
        record.push(event.kind());
        record.extend_from_slice(&t_us.to_le_bytes());
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&payload);
        if let Err(e) = file.write_all(&record) {
            tracing::warn!("recording {} stopped: {e}", self.id);
            self.file = None;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        lock(&self.live).remove(&self.id);
    }
}

/// Unix microseconds now.
pub fn unix_now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// `2025-03-04 05:06:07.890 UTC` from Unix microseconds.
pub fn format_utc(unix_us: u64) -> String {
    let secs = unix_us / 1_000_000;
    let millis = unix_us / 1000 % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = wirelab_shared::calendar::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{millis:03} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The recording as a text transcript.
pub fn transcript(rec: &Recording) -> String {
    let h = &rec.header;
    let mut out = String::new();
    let _ = writeln!(out, "# wirelab recording {}", h.id);
    let _ = writeln!(
        out,
        "# {} {} -> {} ({})",
        h.transport, h.client, h.server, h.target
    );
    let _ = writeln!(
        out,
        "# started {}; added delay {} ms each way",
        format_utc(h.started_unix_us),
        h.delay_ms
    );
    let _ = writeln!(
        out,
        "# times in ms since connecting began; '>' page to server, '<' server to page"
    );
    let ms = |us: u64| format!("{:>10.3}", us as f64 / 1000.0);
    let _ = writeln!(out, "{}  connecting", ms(0));
    let _ = writeln!(out, "{}  connected", ms(h.connect_us));
    for (t, event) in &rec.events {
        let line = match event {
            Event::ToTarget(b) => {
                format!(">  {} bytes  {}", b.len(), wirelab_shared::text::visible(b))
            }
            Event::ToPage(b) => {
                format!("<  {} bytes  {}", b.len(), wirelab_shared::text::visible(b))
            }
            Event::FinFromPage => ">  FIN (the page closed its sending side)".into(),
            Event::FinFromPeer => "<  FIN (the server closed its sending side)".into(),
            Event::FinFromRelay => {
                ">  FIN (the relay closed its sending side: the session was ending)".into()
            }
            Event::Dropped { len, why } => format!("<  a reply of {len} bytes was dropped: {why}"),
            Event::Truncated => {
                "   (the recording's size limit was reached: later bytes are not recorded)".into()
            }
            Event::Closed(why) => format!("   closed: {why}"),
        };
        let _ = writeln!(out, "{}  {line}", ms(*t));
    }
    if rec.live && !rec.ended() {
        let _ = writeln!(
            out,
            "   (the session is still open: this is what was recorded so far; reload for more)"
        );
    } else if !rec.ended() {
        let _ = writeln!(
            out,
            "   (the recording stops here: the relay stopped before the session ended)"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_header(transport: Transport) -> Header {
        Header {
            id: "0123456789abcdef0123456789abcdef".into(),
            transport,
            target: "upper-tcp".into(),
            client: "127.0.0.1:40112".parse().unwrap(),
            server: "127.0.0.1:12000".parse().unwrap(),
            started_unix_us: 1_700_000_000_123_456,
            connect_us: 210,
            delay_ms: 0,
            class: None,
            student: None,
        }
    }

    #[test]
    fn a_recording_reads_back_with_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordingStore::new(
            dir.path(),
            &RecordingsConfig {
                max_bytes: 20,
                ..Default::default()
            },
        );
        let mut rec = store
            .start(sample_header(Transport::Tcp), Instant::now())
            .unwrap();
        rec.record(Event::ToTarget(b"hello world\r\n".to_vec()));
        rec.record(Event::ToPage(b"HELLO WORLD\r\n".to_vec()));
        rec.record(Event::ToPage(b"MORE".to_vec()));
        rec.record(Event::FinFromPeer);
        rec.record(Event::Closed("the server closed the connection".into()));
        drop(rec);
        let back = store.open("0123456789abcdef0123456789abcdef").unwrap();
        let kinds: Vec<_> = back.events.iter().map(|(_, e)| e.kind()).collect();
        assert_eq!(kinds, vec![1, 6, 4, 7]);
        let text = transcript(&back);
        assert!(text.contains(">  13 bytes  hello world␍␊"), "{text}");
        assert!(text.contains("size limit"), "{text}");
        assert!(text.contains("2023-11-14 22:13:20.123 UTC"), "{text}");
        assert!(store.open("../../etc/passwd").is_none());
        assert_eq!(store.list().len(), 1);
    }

    #[test]
    fn an_open_recording_reads_back_as_far_as_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordingStore::new(dir.path(), &RecordingsConfig::default());
        let header = sample_header(Transport::Tcp);
        let id = header.id.clone();
        let mut rec = store.start(header, Instant::now()).unwrap();
        let empty = store.open(&id).expect("the header is written at once");
        assert!(empty.live && empty.events.is_empty());
        rec.record(Event::ToTarget(b"hello\r\n".to_vec()));
        let so_far = store.open(&id).unwrap();
        assert_eq!(so_far.events.len(), 1);
        assert!(transcript(&so_far).contains("still open"));
        // A record half written when the reader comes is left out.
        let path = store.path(&id);
        let whole = std::fs::read(&path).unwrap();
        let mut cut = whole.clone();
        cut.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, b'H']);
        assert_eq!(parse(&cut).unwrap().events, so_far.events);
        rec.record(Event::Closed("the page closed the WebSocket".into()));
        drop(rec);
        let done = store.open(&id).unwrap();
        assert!(!done.live && done.ended());
        assert!(!transcript(&done).contains("still open"));
        // A file whose session never ended, with nobody writing it: the
        // relay stopped.
        std::fs::write(&path, &whole).unwrap();
        let cut_short = transcript(&store.open(&id).unwrap());
        assert!(cut_short.contains("the relay stopped"), "{cut_short}");
    }

    #[test]
    fn old_and_excess_recordings_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = RecordingStore::new(
            dir.path(),
            &RecordingsConfig {
                max_count: 2,
                ..Default::default()
            },
        );
        for i in 0..4 {
            let mut h = sample_header(Transport::Udp);
            h.id = format!("{i:032x}");
            h.started_unix_us += i;
            drop(store.start(h, Instant::now()).unwrap());
        }
        assert_eq!(store.list().len(), 2);
        assert!(store.header(&format!("{:032x}", 3)).is_some());
        assert!(store.header(&format!("{:032x}", 0)).is_none());
        // The oldest of all, still being written, outlives newer ones.
        let mut h = sample_header(Transport::Udp);
        h.id = format!("{:032x}", 9);
        let open = store.start(h, Instant::now()).unwrap();
        for i in 4..6 {
            let mut h = sample_header(Transport::Udp);
            h.id = format!("{i:032x}");
            h.started_unix_us += i;
            drop(store.start(h, Instant::now()).unwrap());
        }
        assert!(store.header(open.id()).is_some());
        assert_eq!(store.list().len(), 2);
    }

    #[test]
    fn dates_are_formatted_in_utc() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(
            format_utc(951_782_400_000_000),
            "2000-02-29 00:00:00.000 UTC"
        );
        assert!(valid_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_id("0123456789ABCDEF0123456789ABCDEF"));
    }
}
