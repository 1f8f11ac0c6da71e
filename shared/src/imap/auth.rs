//! AUTHENTICATE PLAIN (RFC 9051 §6.2.2, the mechanism of RFC 4616): the
//! credentials as one base64 string, given with the command (SASL-IR, RFC
//! 4959) or on the line after the server's empty `+`; and NAMESPACE (RFC
//! 9051 §6.3.10), which tells a client where the user's folders are.
//!
//! PLAIN is `authzid NUL user NUL password`: base64 hides nothing, so on
//! the wire it is as clear as LOGIN (the lab has no TLS). Only PLAIN is
//! offered; an authorization identity other than the user is refused.

use crate::imap::Status;
use crate::imap::command::Command;
use crate::imap::folder::DELIMITER;
use crate::imap::response::Response;
use crate::imap::server::{ImapServer, data};
use crate::imap::store::ImapStore;
use crate::imap::syntax::Value;

/// The user and password of a PLAIN response, or why it is not one.
fn plain_credentials(base64: &[u8]) -> Result<(String, String), &'static str> {
    let bytes = if base64 == b"=" {
        Vec::new()
    } else {
        crate::base64::decode(base64.trim_ascii()).ok_or("the response is not base64")?
    };
    let mut parts = bytes.split(|&b| b == 0);
    let (Some(authzid), Some(user), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("PLAIN is authzid NUL user NUL password, base64-encoded (RFC 4616 §2)");
    };
    if !authzid.is_empty() && authzid != user {
        return Err("acting as another user (an authorization identity) is not allowed here");
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok((text(user), text(password)))
}

impl<S: ImapStore> ImapServer<S> {
    pub(super) fn authenticate(&mut self, c: &Command) {
        let mechanism = c
            .arguments
            .first()
            .and_then(Value::as_atom)
            .unwrap_or_default();
        if !mechanism.eq_ignore_ascii_case("PLAIN") {
            let text = format!("{mechanism} is not offered: AUTHENTICATE PLAIN (AUTH=PLAIN)");
            return self.no(c, Some("CANNOT"), &text);
        }
        match c.arguments.get(1).and_then(Value::string_bytes) {
            Some(initial) => self.plain_response(&c.tag.clone(), initial),
            None => {
                self.send(&Response::Continuation {
                    text: String::new(),
                });
                self.authenticating = Some(c.tag.clone());
            }
        }
    }

    /// Checks a PLAIN response, answering the AUTHENTICATE command `tag`.
    pub(super) fn plain_response(&mut self, tag: &str, line: &[u8]) {
        if line.trim_ascii() == b"*" {
            let text = "AUTHENTICATE cancelled by the client (RFC 9051 §6.2.2)";
            return self.complete(tag, "AUTHENTICATE", Status::Bad, None, text);
        }
        match plain_credentials(line) {
            Ok((user, password)) => self.log_in(tag, "AUTHENTICATE", &user, &password),
            Err(why) => self.complete(tag, "AUTHENTICATE", Status::Bad, None, why),
        }
    }

    /// NAMESPACE: the user's folders, no one else's, none shared.
    pub(super) fn namespace(&mut self, c: &Command) {
        let personal = Value::List(vec![Value::List(vec![
            Value::Quoted(Vec::new()),
            Value::Quoted(vec![DELIMITER as u8]),
        ])]);
        let none = || Value::Atom("NIL".into());
        self.send(&data("NAMESPACE", vec![personal, none(), none()]));
        self.ok(c, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_credentials_are_checked() {
        let b64 = |s: &[u8]| crate::base64::encode(s).into_bytes();
        assert_eq!(
            plain_credentials(&b64(b"\0bob\0hungry")),
            Ok(("bob".into(), "hungry".into()))
        );
        assert!(plain_credentials(&b64(b"bob\0bob\0hungry")).is_ok());
        assert!(plain_credentials(&b64(b"alice\0bob\0hungry")).is_err());
        assert!(plain_credentials(&b64(b"bob\0hungry")).is_err());
        assert!(plain_credentials(b"=").is_err());
        assert!(plain_credentials(b"!!").is_err());
    }
}
