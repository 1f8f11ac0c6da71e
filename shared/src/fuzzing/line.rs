//! Fuzz bodies for text lines and the uppercase servers, and for every
//! registered dissector kind at once.

use super::check;
use crate::engine::{Engine, Millis, drain};

/// Text lines and the uppercase servers: however the input is cut, the
/// TCP one answers with the upper case of all of it (no character split
/// between two answers), the UDP one each datagram with one datagram; no
/// answer grows more than [`crate::upper::MAX_GROWTH`] times.
pub fn line(data: &[u8]) {
    check(&crate::line::dissect(data), data);
    check(&crate::line::dissect_datagram(data), data);
    let mut server = crate::upper::UpperTcpServer::new();
    let (a, b) = data.split_at(data.len() / 2);
    server.handle_input(a, Millis(0));
    server.handle_input(b, Millis(1));
    server.handle_eof(Millis(2));
    let out = drain(&mut server);
    let upper = crate::upper::to_upper(data);
    assert!(upper.len() <= data.len() * crate::upper::MAX_GROWTH);
    assert_eq!(out.bytes(), upper);
    let mut udp = crate::upper::UpperUdpServer::new();
    udp.handle_input(data, Millis(0));
    let out = drain(&mut udp);
    assert_eq!(out.transmitted.len(), 1);
    assert_eq!(out.bytes(), upper);
}

/// Every registered kind (see [`crate::kinds`]) over the same bytes.
pub fn all_kinds(data: &[u8]) {
    for kind in crate::kinds::KINDS {
        check(&(kind.dissect)(data), data);
    }
}
