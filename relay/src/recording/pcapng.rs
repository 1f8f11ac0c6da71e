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

use super::{Event, Recording};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use wirelab_shared::relay_protocol::Transport;

/// Payload per synthesized TCP segment, as on Ethernet.
pub const MSS: usize = 1460;

const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const LINKTYPE_ETHERNET: u16 = 1;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The capture of `rec`.
pub fn export(rec: &Recording) -> Vec<u8> {
    let mut out = Vec::new();
    section_header(&mut out);
    interface_description(&mut out);
    let h = &rec.header;
    let (client, server) = same_family(h.client, h.server);
    let mut flow = Flow {
        client,
        server,
        ip_id: [1, 1],
        out: &mut out,
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
    out
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
    out: &'a mut Vec<u8>,
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
        enhanced_packet(self.out, self.base_us.saturating_add(t_us), &frame);
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

/// Appends a block: type, total length, body padded to 32 bits, length.
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(out.len() + padded - body.len(), 0);
    out.extend_from_slice(&total.to_le_bytes());
}

/// An option: code, length, value padded to 32 bits.
fn option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.resize(body.len() + value.len().div_ceil(4) * 4 - value.len(), 0);
}

fn end_of_options(body: &mut Vec<u8>) {
    body.extend_from_slice(&[0, 0, 0, 0]);
}

fn section_header(out: &mut Vec<u8>) {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    body.extend_from_slice(&1u16.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
    option(&mut body, 4, b"wirelab relay (synthesized headers)"); // shb_userappl
    end_of_options(&mut body);
    block(out, 0x0A0D_0D0A, &body);
}

fn interface_description(out: &mut Vec<u8>) {
    let mut body = Vec::new();
    body.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes()); // no snap length
    option(&mut body, 2, b"wirelab"); // if_name
    option(&mut body, 9, &[6]); // if_tsresol: microseconds
    end_of_options(&mut body);
    block(out, 1, &body);
}

fn enhanced_packet(out: &mut Vec<u8>, unix_us: u64, frame: &[u8]) {
    let mut body = Vec::with_capacity(20 + frame.len());
    body.extend_from_slice(&0u32.to_le_bytes()); // interface 0
    body.extend_from_slice(&((unix_us >> 32) as u32).to_le_bytes());
    body.extend_from_slice(&(unix_us as u32).to_le_bytes());
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    body.extend_from_slice(frame);
    block(out, 6, &body);
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
}
