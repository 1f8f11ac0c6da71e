//! A recording as a pcapng capture that Wireshark and tshark open: the
//! real payload bytes wrapped in synthesized Ethernet, IPv4 or IPv6, and
//! TCP or UDP headers with correct lengths and checksums.
//!
//! For TCP the capture starts with the three-way handshake (SYN, SYN-ACK,
//! ACK), numbers every byte as TCP does (payload larger than one segment
//! is split at [`MSS`]), and ends with FINs: the page's, the server's, and
//! the relay's own when it closed the connection. The relay is the client
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
    let mut c_next = isn(1);
    let mut s_next = isn(2);
    let connected = rec.header.connect_us;
    flow.tcp(0, true, c_next, 0, SYN, &[]);
    flow.tcp(
        connected,
        false,
        s_next,
        c_next.wrapping_add(1),
        SYN | ACK,
        &[],
    );
    c_next = c_next.wrapping_add(1);
    s_next = s_next.wrapping_add(1);
    flow.tcp(connected, true, c_next, s_next, ACK, &[]);
    let (mut client_fin, mut server_fin) = (false, false);
    let mut last_t = connected;
    for (t, event) in &rec.events {
        last_t = *t;
        match event {
            Event::ToTarget(bytes) if !client_fin => {
                for (i, seg) in bytes.chunks(MSS).enumerate() {
                    let last = (i + 1) * MSS >= bytes.len();
                    let flags = if last { PSH | ACK } else { ACK };
                    flow.tcp(*t, true, c_next, s_next, flags, seg);
                    c_next = c_next.wrapping_add(seg.len() as u32);
                }
            }
            Event::ToPage(bytes) if !server_fin => {
                for (i, seg) in bytes.chunks(MSS).enumerate() {
                    let last = (i + 1) * MSS >= bytes.len();
                    let flags = if last { PSH | ACK } else { ACK };
                    flow.tcp(*t, false, s_next, c_next, flags, seg);
                    s_next = s_next.wrapping_add(seg.len() as u32);
                }
            }
            Event::FinFromPage if !client_fin => {
                client_fin = true;
                flow.tcp(*t, true, c_next, s_next, FIN | ACK, &[]);
                c_next = c_next.wrapping_add(1);
                flow.tcp(*t, false, s_next, c_next, ACK, &[]);
            }
            Event::FinFromPeer if !server_fin => {
                server_fin = true;
                flow.tcp(*t, false, s_next, c_next, FIN | ACK, &[]);
                s_next = s_next.wrapping_add(1);
                flow.tcp(*t, true, c_next, s_next, ACK, &[]);
            }
            _ => {}
        }
    }
    // The relay closes its socket when the session ends: its FIN.
    if !client_fin {
        flow.tcp(last_t, true, c_next, s_next, FIN | ACK, &[]);
        c_next = c_next.wrapping_add(1);
        flow.tcp(last_t, false, s_next, c_next, ACK, &[]);
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
            ],
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
        // SHB, IDB, then SYN, SYN-ACK, ACK, data, 3000 bytes in 3 segments,
        // the server's FIN and its ACK, the relay's FIN and its ACK.
        assert_eq!(kinds[..2], [0x0A0D_0D0A, 1]);
        assert_eq!(kinds.len(), 2 + 3 + 1 + 3 + 2 + 2);
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
}
