//! Catalog names of servers that answer on both transports. A DNS server
//! is two entries of the relay's catalog, `dns-root` for UDP and
//! `dns-root-tcp` for TCP; the relay names them, the page's in-browser
//! servers name theirs alike, and the page reads a name back to the server
//! and transport it stands for. One spelling of that rule, here.

use crate::relay_protocol::Transport;

/// What `closed-tcp` is, wherever it is offered (the relay, the page).
pub const CLOSED_TCP_DESCRIPTION: &str = "A TCP port where no server listens, as when the client \
    starts before TCPServer: the connection is refused at once (the machine answers the SYN with \
    a RST; Python raises ConnectionRefusedError), so nothing can be sent.";

/// What `closed-udp` is, wherever it is offered.
pub const CLOSED_UDP_DESCRIPTION: &str = "A UDP port where no server listens, as when the client \
    starts before UDPServer: sending works (UDP has no connection to refuse) and no answer ever \
    comes. The machine answers each datagram with an ICMP \"port unreachable\": a connected UDP \
    socket on Linux reports it on its next receive (Python: ConnectionRefusedError), an \
    unconnected one (the book's UDPClient) waits forever. The lab takes it as UDP does: the page \
    hears silence.";

/// What `webserver-book` is, wherever it is offered.
pub const BOOK_WEB_DESCRIPTION: &str = "The textbook's own web server (§2.8, WebServer.java): \
    reads the request line only, answers GET with HTTP/1.0 200 Document Follows, Content-Length \
    (and Content-Type for .gif and .jpg) and the file, then closes. Like the book's code it never \
    answers 404: a missing file, another method or a line without a file name close the \
    connection with no reply.";

/// What a server's TCP entry adds to its name.
pub const TCP_SUFFIX: &str = "-tcp";

/// The catalog name of `base` (`dns-root`) over `transport`.
pub fn paired_name(base: &str, transport: Transport) -> String {
    match transport {
        Transport::Udp => base.to_string(),
        Transport::Tcp => format!("{base}{TCP_SUFFIX}"),
    }
}

/// The server and transport a paired catalog name stands for:
/// `dns-root-tcp` is `dns-root` over TCP, `dns-root` is `dns-root` over UDP.
pub fn split_paired(name: &str) -> (&str, Transport) {
    match name.strip_suffix(TCP_SUFFIX) {
        Some(base) if !base.is_empty() => (base, Transport::Tcp),
        _ => (name, Transport::Udp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_reading_round_trip() {
        for base in ["dns", "dns-root", "dns-cs-umass"] {
            for transport in [Transport::Udp, Transport::Tcp] {
                assert_eq!(
                    split_paired(&paired_name(base, transport)),
                    (base, transport)
                );
            }
        }
        assert_eq!(paired_name("dns-root", Transport::Tcp), "dns-root-tcp");
        // The suffix alone names no server.
        assert_eq!(split_paired("-tcp"), ("-tcp", Transport::Udp));
    }
}
