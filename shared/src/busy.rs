//! What each protocol says to a client that a server cannot take now
//! because it is at its connection cap: the answer is sent at once and the
//! connection closed, so the client learns why instead of hanging in the
//! accept queue.
//!
//! The words follow each protocol's own rule for a server that refuses
//! service: HTTP's `503 Service Unavailable` with `Retry-After`
//! (RFC 9110 §15.6.4), SMTP's `421` greeting (RFC 5321 §3.1 and §4.2.3),
//! POP3's `-ERR` greeting with the `[SYS/TEMP]` response code (RFC 3206
//! §4), IMAP's `* BYE` greeting (RFC 9051 §7.1.5), FTP's `421` (RFC 959
//! §4.2).

/// Seconds a refused client is asked to wait before trying again.
pub const RETRY_AFTER_SECS: u32 = 5;

/// The HTTP/1.1 response: `503`, `Retry-After`, `Connection: close`.
pub fn http() -> Vec<u8> {
    let body = "The server is at its connection limit; try again in a few seconds.\n";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {RETRY_AFTER_SECS}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The SMTP greeting of a server that will not serve this session.
pub fn smtp(hostname: &str) -> Vec<u8> {
    format!(
        "421 {hostname} Service not available, too many connections; closing transmission channel\r\n"
    )
    .into_bytes()
}

/// The POP3 greeting of a server that will not serve this session.
pub fn pop3() -> Vec<u8> {
    b"-ERR [SYS/TEMP] too many connections, try again later\r\n".to_vec()
}

/// The IMAP greeting of a server that will not serve this session
/// (RFC 9051 §7.1.5: BYE at once).
pub fn imap() -> Vec<u8> {
    b"* BYE [UNAVAILABLE] too many connections, try again later\r\n".to_vec()
}

/// The FTP greeting of a server that will not serve this session.
pub fn ftp() -> Vec<u8> {
    b"421 Service not available, too many connections; closing control connection.\r\n".to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_answer_is_one_complete_response() {
        let bytes = http();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 "));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(head.contains("Connection: close"));
    }

    #[test]
    fn line_protocols_answer_in_one_line_with_their_refusal_code() {
        for (reply, code) in [
            (smtp("hamburger.edu"), "421 hamburger.edu "),
            (pop3(), "-ERR "),
            (imap(), "* BYE [UNAVAILABLE] "),
            (ftp(), "421 "),
        ] {
            let text = String::from_utf8(reply).unwrap();
            assert!(text.starts_with(code), "{text}");
            assert!(text.ends_with("\r\n") && text.matches("\r\n").count() == 1);
        }
    }
}
