//! The registry of message kinds a student (or `wirelab dissect`) can ask to
//! have dissected, so the page and the command line offer the same list.
//!
//! Each protocol adds its kinds to [`KINDS`]: a stable name, a one-line
//! description and the function that dissects one complete message.

use crate::dissect::Dissection;

/// One kind of message that can be dissected.
pub struct Kind {
    /// The name on the command line: `line`, `http-request`, `dns`.
    pub name: &'static str,
    pub description: &'static str,
    pub dissect: fn(&[u8]) -> Dissection,
}

/// Every kind, in the order the help text lists them.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "line",
        description: "text lines, as sent to the uppercase server or any line-based socket",
        dissect: crate::line::dissect,
    },
    Kind {
        name: "http-request",
        description: "one HTTP/1.x request (request line, headers, body)",
        dissect: crate::http::dissect_request,
    },
    Kind {
        name: "http-response",
        description: "one HTTP/1.x response (status line, headers, body)",
        dissect: crate::http::dissect_response,
    },
    Kind {
        name: "ftp-command",
        description: "FTP command lines (USER, PASV, PORT h1,h2,h3,h4,p1,p2, RETR, ...)",
        dissect: crate::ftp::dissect::dissect_command,
    },
    Kind {
        name: "ftp-reply",
        description: "FTP replies, single or multi-line (331, 227, 211-...)",
        dissect: crate::ftp::dissect::dissect_reply,
    },
    Kind {
        name: "ftp-list",
        description: "FTP LIST output as sent on the data connection (Unix ls -l lines)",
        dissect: crate::ftp::dissect::dissect_list,
    },
    Kind {
        name: "dns",
        description: "a DNS message as carried in one UDP datagram",
        dissect: crate::dns::dissect::dissect,
    },
    Kind {
        name: "dns-tcp",
        description: "DNS over TCP: messages each with its two-byte length prefix",
        dissect: crate::dns::dissect::dissect_tcp,
    },
    Kind {
        name: "zone",
        description: "a DNS zone file (RFC 1035 master file format)",
        dissect: crate::dns::zone::dissect_zone,
    },
    Kind {
        name: "smtp-command",
        description: "one SMTP command line (HELO, MAIL FROM, RCPT TO, DATA, ...)",
        dissect: crate::smtp::dissect::dissect_command,
    },
    Kind {
        name: "smtp-reply",
        description: "one SMTP reply, single or multi-line (220, 250-..., 354, 550, ...)",
        dissect: crate::smtp::dissect::dissect_reply,
    },
    Kind {
        name: "smtp-data",
        description: "the text sent after DATA: the message, dot-stuffed, ending with a '.' line",
        dissect: smtp_data,
    },
    Kind {
        name: "pop3-command",
        description: "one POP3 command line (USER, PASS, LIST, RETR, DELE, ...)",
        dissect: crate::pop3::dissect::dissect_command,
    },
    Kind {
        name: "pop3-reply",
        description: "one POP3 reply (+OK/-ERR), with its multi-line body if any",
        dissect: crate::pop3::dissect::dissect_reply,
    },
    Kind {
        name: "imap-command",
        description: "one IMAP command (a001 LOGIN, SELECT, FETCH, ...), its literals included",
        dissect: crate::imap::dissect::dissect_command,
    },
    Kind {
        name: "imap-response",
        description: "one IMAP response (tagged OK/NO/BAD, untagged * data, + continuation)",
        dissect: crate::imap::dissect::dissect_response,
    },
    Kind {
        name: "mail",
        description: "a whole Internet message (RFC 5322 header and body, MIME parts)",
        dissect: crate::mail::dissect::dissect,
    },
    Kind {
        name: "torrent",
        description: "a BitTorrent .torrent file (bencoded metainfo, BEP 3)",
        dissect: crate::bittorrent::dissect::dissect_torrent,
    },
    Kind {
        name: "tracker-reply",
        description: "a BitTorrent tracker's bencoded reply to an announce (BEP 3, compact peers BEP 23)",
        dissect: crate::bittorrent::dissect::dissect_tracker_reply,
    },
    Kind {
        name: "peer-wire",
        description: "BitTorrent peer wire bytes: the 68-byte handshake, then length-prefixed messages",
        dissect: peer_wire,
    },
];

/// Peer wire bytes on their own: the torrent, so its piece count, is not
/// known, and bitfield lengths are not checked.
fn peer_wire(bytes: &[u8]) -> Dissection {
    crate::bittorrent::dissect::dissect_wire(bytes, 0)
}

/// DATA text on its own: no envelope is known, and whether 8BITMIME was
/// declared is not either, so 8-bit text is not flagged here.
fn smtp_data(bytes: &[u8]) -> Dissection {
    crate::smtp::dissect::dissect_data(bytes, None, true)
}

/// Looks a kind up by name.
pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Dissects `bytes` as the kind named `name`, if there is one.
pub fn dissect(name: &str, bytes: &[u8]) -> Option<Dissection> {
    find(name).map(|k| (k.dissect)(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_findable() {
        for (i, kind) in KINDS.iter().enumerate() {
            assert!(
                KINDS[..i].iter().all(|k| k.name != kind.name),
                "{}",
                kind.name
            );
            assert!(find(kind.name).is_some());
            // Every kind survives empty input, with a well-formed tree.
            let problems = (kind.dissect)(b"").check_invariants(false);
            assert!(problems.is_empty(), "{}: {problems:?}", kind.name);
        }
        assert!(find("no-such-kind").is_none());
        assert_eq!(dissect("line", b"hi\r\n").unwrap().summary, "hi");
        assert_eq!(
            dissect("smtp-command", b"HELO crepes.fr\r\n")
                .unwrap()
                .summary,
            "HELO crepes.fr"
        );
        assert_eq!(dissect("pop3-reply", b"+OK\r\n").unwrap().summary, "+OK");
        assert_eq!(
            dissect("imap-response", b"* 3 EXISTS\r\n").unwrap().summary,
            "* 3 EXISTS"
        );
        assert!(
            dissect("mail", b"Subject: x\r\n\r\n")
                .unwrap()
                .summary
                .contains("\"x\"")
        );
    }
}
