//! Differential test of the IMAP command parser against imap-codec, the
//! codec of the imap-next and Duesee projects: both must agree on which
//! commands parse. Every command built from the grammar is accepted by
//! both, RFC 9051's example commands are accepted by both, and the
//! malformed commands below are refused by both.
//!
//! imap-codec 1.0 speaks IMAP4rev1 plus some extensions, so the commands
//! it lacks are listed in `NOT_IN_IMAP_CODEC` with the reason, and checked
//! to be accepted by this parser alone: a new disagreement fails the test.

mod imap_strategies;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_strategies::command;
use proptest::prelude::*;
use wirelab_shared::imap::command::{Command, Verb};
use wirelab_shared::imap::syntax::Value;

/// Whether imap-codec reads `bytes` as exactly one whole command.
fn codec_accepts(bytes: &[u8]) -> bool {
    matches!(CommandCodec::default().decode(bytes), Ok((rest, _)) if rest.is_empty())
}

fn ours_accepts(bytes: &[u8]) -> bool {
    Command::parse(bytes).is_ok()
}

/// Valid commands that imap-codec 1.0, an IMAP4rev1 codec, refuses.
const NOT_IN_IMAP_CODEC: &[(&str, &str)] = &[
    (
        "a023 ID (\"name\" \"sodr\" \"version\" \"19.34\")\r\n",
        "ID (RFC 2971) is not among imap-codec 1.0's extensions",
    ),
    (
        "a024 ID NIL\r\n",
        "ID (RFC 2971) is not among imap-codec 1.0's extensions",
    ),
    (
        "A657 FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n",
        "BINARY (RFC 3516, part of IMAP4rev2, RFC 9051 §6.4.5) is not in imap-codec 1.0",
    ),
    (
        "A001 NAMESPACE\r\n",
        "NAMESPACE (RFC 2342, part of IMAP4rev2, RFC 9051 §6.3.10) is not in imap-codec 1.0",
    ),
    (
        "A202 UID EXPUNGE 3000:3002\r\n",
        "UID EXPUNGE (UIDPLUS, part of IMAP4rev2, RFC 9051 §6.4.9) is not in imap-codec 1.0",
    ),
];

const VALID: &[&str] = &[
    "a001 CAPABILITY\r\n",
    "a002 NOOP\r\n",
    "A023 LOGOUT\r\n",
    "a001 LOGIN SMITH SESAME\r\n",
    "a001 LOGIN {5}\r\nSMITH {6+}\r\nSESAME\r\n",
    "A001 AUTHENTICATE PLAIN\r\n",
    "A001 AUTHENTICATE PLAIN AGJvYgBodW5ncnk=\r\n",
    "t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n",
    "a023 ID (\"name\" \"sodr\" \"version\" \"19.34\")\r\n",
    "a024 ID NIL\r\n",
    "A142 SELECT INBOX\r\n",
    "A932 EXAMINE blurdybloop\r\n",
    "A003 CREATE owatagusiam/\r\n",
    "A683 DELETE blurdybloop\r\n",
    "A683 RENAME blurdybloop sarasoop\r\n",
    "A002 SUBSCRIBE #news.comp.mail.mime\r\n",
    "A002 UNSUBSCRIBE #news.comp.mail.mime\r\n",
    "A101 LIST \"\" \"\"\r\n",
    "A202 LIST ~/Mail/ %\r\n",
    "A002 LSUB \"#news.\" \"comp.mail.*\"\r\n",
    "A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
    "A003 APPEND saved-messages (\\Seen) {5}\r\nhello\r\n",
    "A004 APPEND INBOX {5+}\r\nhello\r\n",
    "A002 IDLE\r\n",
    "A341 CLOSE\r\n",
    "A342 UNSELECT\r\n",
    "A202 EXPUNGE\r\n",
    "A202 UID EXPUNGE 3000:3002\r\n",
    "A283 SEARCH CHARSET UTF-8 TEXT {4+}\r\nnoon\r\n",
    "A284 SEARCH OR FROM \"alice\" NOT SEEN SINCE 1-Feb-1994 1:5\r\n",
    "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
    "A655 FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[1.2]<0.2048>)\r\n",
    "A656 FETCH 1 ALL\r\n",
    "A003 STORE 2:4 +FLAGS (\\Deleted)\r\n",
    "A004 STORE 1,3 -FLAGS.SILENT (\\Seen $Junk)\r\n",
    "A003 COPY 2:4 MEETING\r\n",
    "A999 UID FETCH 4827313:4828442 FLAGS\r\n",
    "a UID MOVE 42:69 foo\r\n",
    "a2 MOVE 1 Trash\r\n",
    "a3 CHECK\r\n",
    "A001 NAMESPACE\r\n",
    "A657 FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n",
];

const MALFORMED: &[&str] = &[
    "a+1 NOOP\r\n",
    " NOOP\r\n",
    "a001 HELO crepes.fr\r\n",
    "a003 FETCH 1 (FLAGS BODY[TEXT]\r\n",
    "a003 FETCH 1 FLAGS)\r\n",
    "a005 SELECT Bo\u{ee}te\r\n",
    "a006 NOOP",
    "a008 FETCH 0:3 FLAGS\r\n",
    "a009 NOOP now\r\n",
    "a010 LOGIN bob\r\n",
    "a011 FETCH 1 COLOUR\r\n",
    "a012 STORE 1 PAINT (\\Seen)\r\n",
    "a013 SELECT\r\n",
    "a014 SEARCH\r\n",
    "a015 SEARCH FROM\r\n",
    "a016 APPEND box (\\Seen)\r\n",
    "a017 STATUS box\r\n",
    "a018 STATUS box (COLOUR)\r\n",
    "a019 UID NOOP\r\n",
    "a020 LOGIN \"unterminated\r\n",
    "a021 SEARCH SINCE 31-Foo-1994\r\n",
    "a022 COPY 1\r\n",
    "a023 LOGIN {3}\r\nab\r\n",
    "a024  NOOP\r\n",
];

#[test]
fn both_accept_the_valid_commands() {
    let mut disagreements = Vec::new();
    for text in VALID {
        let (ours, theirs) = (
            ours_accepts(text.as_bytes()),
            codec_accepts(text.as_bytes()),
        );
        let lacking = NOT_IN_IMAP_CODEC.iter().any(|(c, _)| c == text);
        if !ours || (theirs == lacking) {
            disagreements.push(format!("{text:?}: ours {ours}, imap-codec {theirs}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn both_refuse_the_malformed_commands() {
    let mut disagreements = Vec::new();
    for text in MALFORMED {
        let (ours, theirs) = (
            ours_accepts(text.as_bytes()),
            codec_accepts(text.as_bytes()),
        );
        if ours || theirs {
            disagreements.push(format!("{text:?}: ours {ours}, imap-codec {theirs}"));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Whether a value holds a quoted string with 8-bit text, which IMAP4rev2
/// allows (UTF-8, RFC 9051 §4.3) and IMAP4rev1 does not.
fn has_8bit_quoted(value: &Value) -> bool {
    match value {
        Value::Quoted(q) => !q.is_ascii(),
        Value::List(items) => items.iter().any(has_8bit_quoted),
        _ => false,
    }
}

/// Whether a value asks for a BINARY fetch item (RFC 9051 §6.4.5).
fn has_binary(value: &Value) -> bool {
    match value {
        Value::Atom(a) => a.to_ascii_uppercase().starts_with("BINARY"),
        Value::List(items) => items.iter().any(has_binary),
        _ => false,
    }
}

proptest! {
    #[test]
    fn imap_codec_accepts_every_command_built_from_the_grammar(c in command()) {
        let bytes = c.to_bytes();
        prop_assert!(ours_accepts(&bytes));
        // As in NOT_IN_IMAP_CODEC: UTF-8 in quoted strings (RFC 9051 §4.3),
        // NAMESPACE, BINARY and UID EXPUNGE are IMAP4rev2's, not imap-codec 1.0's.
        let lacking = c.arguments.iter().any(has_8bit_quoted)
            || (c.verb == Verb::Fetch && c.arguments.iter().any(has_binary))
            || c.verb == Verb::Namespace
            || (c.uid && c.verb == Verb::Expunge);
        prop_assert_eq!(
            codec_accepts(&bytes),
            !lacking,
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
