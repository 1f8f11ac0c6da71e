//! A recording as a pcapng capture that Wireshark and tshark open: the
//! real payload bytes wrapped in synthesized Ethernet, IPv4 or IPv6, and
//! TCP or UDP headers with correct lengths and checksums.
//!
//! For TCP the capture starts with the three-way handshake (SYN, SYN-ACK,
//! ACK), numbers every byte as TCP does (payload larger than one segment
//! is split at [`MSS`], and the receiver acknowledges every second segment
//! and the last of each write), and has each FIN where it happened with
//! its ACK: the relay's (when the page half-closed, or the relay closed
//! as the session ended) and the server's (when the relay read its EOF).
//! A session still open has no FIN yet. The relay is the client
//! (`02:00:00:00:00:01`), the server `02:00:00:00:00:02`. Only what the
//! relay saw is shown: no retransmissions, no window updates.
//!
//! The frames are built here; the `pcap-file` crate writes the blocks.

use super::{Event, Recording};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::{PcapNgBlock, PcapNgWriter};
use pcap_file::{DataLink, Endianness};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use wirelab_shared::relay_protocol::Transport;

/// Payload per synthesized TCP segment, as on Ethernet.
pub const MSS: usize = 1460;

const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The capture of `rec`.
pub fn export(rec: &Recording) -> Vec<u8> {
    let mut capture = Capture::new();
    let h = &rec.header;
    let (client, server) = same_family(h.client, h.server);
    let mut flow = Flow {
        client,
        server,
        ip_id: [1, 1],
        out: &mut capture,
        base_us: h.started_unix_us,
    };
    match h.transport {
        Transport::Udp => {
            for (t, event) in &rec.events {
                match event {
                    Event::ToTarget(b) => flow.udp(*t, true, b),
                    Event::ToPage(b) => flow.udp(*t, false, b),
                    _ => {}
                }
            }
        }
        Transport::Tcp => tcp(&mut flow, rec),
    }
    capture.into_bytes()
}

fn tcp(flow: &mut Flow<'_>, rec: &Recording) {
    // Initial sequence numbers from the recording id: stable for one
    // recording, different between recordings, as a real stack's would be.
    let id = rec.header.id.as_bytes();
    let isn = |salt: u32| {
        id.iter().fold(0x811c_9dc5u32 ^ salt, |h, &b| {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        })
    };
    let mut conn = Connection {
        next: [isn(1), isn(2)],
        fin: [false, false],
    };
    let connected = rec.header.connect_us;
    conn.handshake(flow, connected);
    let mut last_t = connected;
    for (t, event) in &rec.events {
        last_t = *t;
        match event {
            Event::ToTarget(bytes) => conn.data(flow, *t, Side::Client, bytes),
            Event::ToPage(bytes) => conn.data(flow, *t, Side::Server, bytes),
            Event::FinFromPage | Event::FinFromRelay => conn.fin(flow, *t, Side::Client),
            Event::FinFromPeer => conn.fin(flow, *t, Side::Server),
            _ => {}
        }
    }
    // Recordings made before the relay recorded its own FIN: it closed its
    // socket when the session ended. An open session has no FIN yet.
    if rec.ended() {
        conn.fin(flow, last_t, Side::Client);
    }
}

/// One end of the synthesized connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client = 0,
    Server = 1,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// The sequence numbers of both ends, indexed by [`Side`]: what each sends
/// next, and whether it has sent its FIN.
struct Connection {
    next: [u32; 2],
    fin: [bool; 2],
}

impl Connection {
    fn handshake(&mut self, flow: &mut Flow<'_>, connected: u64) {
        let [client, server] = self.next;
        flow.tcp(0, true, client, 0, SYN, &[]);
        flow.tcp(
            connected,
            false,
            server,
            client.wrapping_add(1),
            SYN | ACK,
            &[],
        );
        self.next = [client.wrapping_add(1), server.wrapping_add(1)];
        flow.tcp(connected, true, self.next[0], self.next[1], ACK, &[]);
    }

    /// `from` sends `bytes` in segments of at most [`MSS`]; the other end
    /// acknowledges every second segment and the last, as delayed ACKs do.
    /// Nothing is sent after a FIN, nor for no bytes (an ACK of nothing new
    /// would be a duplicate ACK).
    fn data(&mut self, flow: &mut Flow<'_>, t: u64, from: Side, bytes: &[u8]) {
        if self.fin[from as usize] || bytes.is_empty() {
            return;
        }
        let count = bytes.len().div_ceil(MSS);
        for (i, segment) in bytes.chunks(MSS).enumerate() {
            let last = i + 1 == count;
            let flags = if last { PSH | ACK } else { ACK };
            self.send(flow, t, from, flags, segment);
            if last || i % 2 == 1 {
                self.send(flow, t, from.other(), ACK, &[]);
            }
        }
    }

    /// `from` sends its FIN (once) and the other end acknowledges it.
    fn fin(&mut self, flow: &mut Flow<'_>, t: u64, from: Side) {
        if self.fin[from as usize] {
            return;
        }
        self.send(flow, t, from, FIN | ACK, &[]);
        self.fin[from as usize] = true;
        self.send(flow, t, from.other(), ACK, &[]);
    }

    /// One segment, acknowledging all the other end has sent; a FIN counts
    /// as one byte of the sequence.
    fn send(&mut self, flow: &mut Flow<'_>, t: u64, from: Side, flags: u8, payload: &[u8]) {
        let (me, peer) = (from as usize, from.other() as usize);
        let seq = self.next[me];
        flow.tcp(
            t,
            from == Side::Client,
            seq,
            self.next[peer],
            flags,
            payload,
        );
        let len = payload.len() as u32 + u32::from(flags & FIN != 0);
        self.next[me] = seq.wrapping_add(len);
    }
}

/// Both ends in one family: IPv4 if both are, else IPv6 (IPv4 mapped).
fn same_family(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a.is_ipv4() == b.is_ipv4() {
        return (a, b);
    }
    let v6 = |s: SocketAddr| match s.ip() {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), s.port()),
        IpAddr::V6(_) => s,
    };
    (v6(a), v6(b))
}

struct Flow<'a> {
    client: SocketAddr,
    server: SocketAddr,
    /// IPv4 identification counters, client then server.
    ip_id: [u16; 2],
    out: &'a mut Capture,
    base_us: u64,
}

impl Flow<'_> {
    fn ends(&self, from_client: bool) -> (SocketAddr, SocketAddr) {
        if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        }
    }

    fn tcp(&mut self, t_us: u64, from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) {
        let (src, dst) = self.ends(from_client);
        let mut seg = Vec::with_capacity(20 + payload.len());
        seg.extend_from_slice(&src.port().to_be_bytes());
        seg.extend_from_slice(&dst.port().to_be_bytes());
        seg.extend_from_slice(&seq.to_be_bytes());
        seg.extend_from_slice(&ack.to_be_bytes());
        seg.push(5 << 4); // data offset: 5 words, no options
        seg.push(flags);
        seg.extend_from_slice(&65535u16.to_be_bytes()); // window
        seg.extend_from_slice(&[0, 0]); // checksum, below
        seg.extend_from_slice(&[0, 0]); // urgent pointer
        seg.extend_from_slice(payload);
        let sum = transport_checksum(src.ip(), dst.ip(), 6, &seg);
        seg[16..18].copy_from_slice(&sum.to_be_bytes());
        self.packet(t_us, from_client, 6, &seg);
    }

    fn udp(&mut self, t_us: u64, from_client: bool, payload: &[u8]) {
        let (src, dst) = self.ends(from_client);
        // A datagram longer than IP can carry cannot have been sent.
        let payload = &payload[..payload.len().min(65_507)];
        let len = (8 + payload.len()) as u16;
        let mut dgram = Vec::with_capacity(len as usize);
        dgram.extend_from_slice(&src.port().to_be_bytes());
        dgram.extend_from_slice(&dst.port().to_be_bytes());
        dgram.extend_from_slice(&len.to_be_bytes());
        dgram.extend_from_slice(&[0, 0]);
        dgram.extend_from_slice(payload);
        let mut sum = transport_checksum(src.ip(), dst.ip(), 17, &dgram);
        if sum == 0 {
            // Zero means "no checksum" in UDP; all ones is the same sum.
            sum = 0xffff;
        }
        dgram[6..8].copy_from_slice(&sum.to_be_bytes());
        self.packet(t_us, from_client, 17, &dgram);
    }

    fn packet(&mut self, t_us: u64, from_client: bool, protocol: u8, transport: &[u8]) {
        let (src, dst) = self.ends(from_client);
        let (src_mac, dst_mac) = if from_client {
            (CLIENT_MAC, SERVER_MAC)
        } else {
            (SERVER_MAC, CLIENT_MAC)
        };
        let mut frame = Vec::with_capacity(14 + 40 + transport.len());
        frame.extend_from_slice(&dst_mac);
        frame.extend_from_slice(&src_mac);
        match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                frame.extend_from_slice(&0x0800u16.to_be_bytes());
                let id = &mut self.ip_id[usize::from(!from_client)];
                let mut ip = Vec::with_capacity(20);
                ip.push(0x45);
                ip.push(0);
                ip.extend_from_slice(&((20 + transport.len()) as u16).to_be_bytes());
                ip.extend_from_slice(&id.to_be_bytes());
                *id = id.wrapping_add(1);
                ip.extend_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
                ip.push(64);
                ip.push(protocol);
                ip.extend_from_slice(&[0, 0]);
                ip.extend_from_slice(&s.octets());
                ip.extend_from_slice(&d.octets());
                let sum = fold(sum16(0, &ip));
                ip[10..12].copy_from_slice(&sum.to_be_bytes());
                frame.extend_from_slice(&ip);
            }
            (s, d) => {
                frame.extend_from_slice(&0x86DDu16.to_be_bytes());
                frame.extend_from_slice(&0x6000_0000u32.to_be_bytes());
                frame.extend_from_slice(&(transport.len() as u16).to_be_bytes());
                frame.push(protocol);
                frame.push(64);
                frame.extend_from_slice(&v6(s).octets());
                frame.extend_from_slice(&v6(d).octets());
            }
        }
        frame.extend_from_slice(transport);
        self.out.packet(self.base_us.saturating_add(t_us), &frame);
    }
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The ones' complement sum of 16-bit words, not yet folded.
fn sum16(mut acc: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [last] = chunks.remainder() {
        acc += (*last as u64) << 8;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The TCP/UDP checksum with its IPv4 or IPv6 pseudo-header (RFC 793, RFC
/// 768, RFC 8200 §8.1).
fn transport_checksum(src: IpAddr, dst: IpAddr, protocol: u8, segment: &[u8]) -> u16 {
    let mut acc = 0u64;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = sum16(acc, &s.octets());
            acc = sum16(acc, &d.octets());
            acc += protocol as u64;
            acc += segment.len() as u64;
        }
        (s, d) => {
            acc = sum16(acc, &v6(s).octets());
            acc = sum16(acc, &v6(d).octets());
            acc += segment.len() as u64;
            acc += protocol as u64;
        }
    }
    fold(sum16(acc, segment))
}

/// The pcapng file being written: one section, one Ethernet interface.
struct Capture {
    writer: PcapNgWriter<Vec<u8>>,
}

impl Capture {
    fn new() -> Capture {
        let section = SectionHeaderBlock {
            // The same bytes whichever machine runs the relay.
            endianness: Endianness::Little,
            options: vec![SectionHeaderOption::UserApplication(Cow::Borrowed(
                "wirelab relay (synthesized headers)",
            ))],
            ..SectionHeaderBlock::default()
        };
        let interface = InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0, // no limit
            options: vec![
                InterfaceDescriptionOption::IfName(Cow::Borrowed("wirelab")),
                // pcap-file writes timestamps in nanoseconds; say so.
                InterfaceDescriptionOption::IfTsResol(9),
            ],
        };
        let writer = PcapNgWriter::with_section_header(Vec::new(), section);
        let mut capture = Capture {
            writer: infallible(writer),
        };
        capture.write(interface);
        capture
    }

    fn packet(&mut self, unix_us: u64, frame: &[u8]) {
        self.write(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_micros(unix_us),
            // A frame is at most an IP packet and its 54 bytes of headers.
            original_len: frame.len() as u32,
            data: Cow::Borrowed(frame),
            options: Vec::new(),
        });
    }

    fn write<'a>(&mut self, block: impl PcapNgBlock<'a>) {
        infallible(self.writer.write_pcapng_block(block));
    }

    fn into_bytes(self) -> Vec<u8> {
        self.writer.into_inner()
    }
}

/// The writer's errors cannot happen here: writing to a `Vec` does not
/// fail, and the one interface every packet names is described first.
fn infallible<T>(result: pcap_file::PcapResult<T>) -> T {
    result.expect("a pcapng block written to memory")
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample_header;
    use super::*;

    #[test]
    fn checksums_verify_to_zero() {
        // A correct checksum makes the sum over the data including it 0xffff.
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        let dst: IpAddr = "192.0.2.2".parse().unwrap();
        let mut seg = vec![0x30, 0x39, 0x00, 0x50, 0, 8, 0, 0, b'h', b'i', b'!'];
        let len = seg.len() as u16;
        seg[4..6].copy_from_slice(&len.to_be_bytes());
        let sum = transport_checksum(src, dst, 17, &seg);
        seg[6..8].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(transport_checksum(src, dst, 17, &seg), 0);
    }

    #[test]
    fn blocks_are_padded_and_framed() {
        let rec = Recording {
            header: sample_header(Transport::Tcp),
            events: vec![
                (1000, Event::ToTarget(b"hello\r\n".to_vec())),
                (2000, Event::ToPage(vec![b'x'; 3000])),
                (3000, Event::FinFromPeer),
                (
                    3000,
                    Event::Closed("the server closed the connection".into()),
                ),
            ],
            live: false,
        };
        let bytes = export(&rec);
        // Walk the blocks: each starts and ends with the same length.
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < bytes.len() {
            let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            let trailer = u32::from_le_bytes(bytes[at + len - 4..at + len].try_into().unwrap());
            assert_eq!(trailer as usize, len);
            kinds.push(kind);
            at += len;
        }
        assert_eq!(at, bytes.len());
        // SHB, IDB, then SYN, SYN-ACK, ACK, data and its ACK, 3000 bytes in
        // 3 segments with ACKs after the second and the third, the server's
        // FIN and its ACK, the relay's FIN and its ACK.
        assert_eq!(kinds[..2], [0x0A0D_0D0A, 1]);
        assert_eq!(kinds.len(), 2 + 3 + 2 + 5 + 2 + 2);
    }

    #[test]
    fn timestamps_read_back_to_the_microsecond() {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let header = sample_header(Transport::Udp);
        let base = header.started_unix_us;
        let rec = Recording {
            header,
            events: vec![
                (1_500, Event::ToTarget(b"q".to_vec())),
                (2_000_001, Event::ToPage(b"a".to_vec())),
            ],
            live: false,
        };
        let bytes = export(&rec);
        let mut reader = PcapNgReader::new(&bytes[..]).unwrap();
        assert_eq!(reader.section().endianness, Endianness::Little);
        let (mut resolutions, mut times) = (Vec::new(), Vec::new());
        while let Some(block) = reader.next_block() {
            match block.unwrap() {
                Block::InterfaceDescription(i) => {
                    resolutions.extend(i.options.iter().filter_map(|o| match o {
                        InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
                        _ => None,
                    }))
                }
                Block::EnhancedPacket(p) => times.push(p.timestamp),
                _ => {}
            }
        }
        // Nanoseconds, as pcap-file writes them and tshark then reads them.
        assert_eq!(resolutions, [9]);
        assert_eq!(
            times,
            [
                Duration::from_micros(base + 1_500),
                Duration::from_micros(base + 2_000_001)
            ]
        );
    }

    /// (from the client, flags, seq, ack, payload length) of each segment
    /// of an IPv4 capture.
    fn segments(capture: &[u8]) -> Vec<(bool, u8, u32, u32, usize)> {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let mut reader = PcapNgReader::new(capture).unwrap();
        let mut out = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(p) = block.unwrap() {
                let tcp = &p.data[14 + 20..];
                let word = |at: usize| u32::from_be_bytes(tcp[at..at + 4].try_into().unwrap());
                out.push((
                    p.data[6..12] == CLIENT_MAC,
                    tcp[13],
                    word(4),
                    word(8),
                    tcp.len() - 20,
                ));
            }
        }
        out
    }

    #[test]
    fn both_fins_come_in_the_order_they_happened_each_with_its_ack() {
        let rec = Recording {
            header: sample_header(Transport::Tcp),
            events: vec![
                (1000, Event::ToTarget(b"QUIT\r\n".to_vec())),
                (2000, Event::FinFromRelay),
                (3000, Event::FinFromPeer),
                (3000, Event::Closed("the page closed the WebSocket".into())),
            ],
            live: false,
        };
        let segs = segments(&export(&rec));
        let fins: Vec<usize> = (0..segs.len()).filter(|&i| segs[i].1 & FIN != 0).collect();
        assert_eq!(fins.len(), 2, "{segs:?}");
        let (client_fin, server_fin) = (segs[fins[0]], segs[fins[1]]);
        assert!(
            client_fin.0 && !server_fin.0,
            "the relay's FIN first: {segs:?}"
        );
        for fin in fins {
            let (from_client, _, seq, _, _) = segs[fin];
            let ack = segs[fin + 1];
            assert_eq!(
                (ack.0, ack.1, ack.3),
                (!from_client, ACK, seq.wrapping_add(1))
            );
        }
        // The handshake, the data and its ACK, two FINs and their ACKs.
        assert_eq!(segs.len(), 3 + 2 + 4);
    }

    #[test]
    fn an_open_session_has_no_fin_yet() {
        let rec = Recording {
            header: sample_header(Transport::Tcp),
            events: vec![(1000, Event::ToTarget(b"hello".to_vec()))],
            live: true,
        };
        let segs = segments(&export(&rec));
        assert_eq!(segs.len(), 3 + 2);
        assert!(segs.iter().all(|s| s.1 & FIN == 0), "{segs:?}");
        // The server acknowledges the five bytes.
        assert_eq!(segs[4].3, segs[3].2.wrapping_add(5));
    }
}
