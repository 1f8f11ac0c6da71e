//! The untagged data a server sends (RFC 9051 §7.2 to §7.5): which names
//! there are, where each is defined, and the shape of their arguments.

use crate::imap::syntax::{Value, number};

/// A rule broken by untagged data: what, and where the rule is.
pub struct DataError(pub String, pub &'static str);

/// Where the untagged data called `name` is defined, if it is known.
pub fn section(name: &str) -> Option<&'static str> {
    Some(match name {
        "ENABLED" => "RFC 9051 §7.2.1",
        "CAPABILITY" => "RFC 9051 §7.2.2",
        "LIST" => "RFC 9051 §7.3.1",
        "NAMESPACE" => "RFC 9051 §7.3.2",
        "STATUS" => "RFC 9051 §7.3.3",
        "ESEARCH" => "RFC 9051 §7.3.4",
        "FLAGS" => "RFC 9051 §7.3.5",
        "EXISTS" => "RFC 9051 §7.4.1",
        "EXPUNGE" => "RFC 9051 §7.5.1",
        "FETCH" => "RFC 9051 §7.5.2",
        "SEARCH" => "RFC 3501 §7.2.5",
        "LSUB" => "RFC 3501 §7.2.3",
        "RECENT" => "RFC 3501 §7.3.2",
        "ID" => "RFC 2971 §3.2",
        _ => return None,
    })
}

/// Whether the data called `name` comes after a message number.
fn numbered(name: &str) -> bool {
    matches!(name, "EXISTS" | "EXPUNGE" | "FETCH" | "RECENT")
}

/// Checks untagged data against its grammar.
pub fn check(message_number: Option<u32>, name: &str, args: &[Value]) -> Result<(), DataError> {
    let Some(reference) = section(name) else {
        return Err(DataError(
            format!("{name:?} is not untagged data this lab knows"),
            "RFC 9051 §7",
        ));
    };
    let fail = |what: &str| Err(DataError(what.to_string(), reference));
    if numbered(name) != message_number.is_some() {
        return fail(if numbered(name) {
            "this data follows a message number: * 3 EXISTS"
        } else {
            "this data has no message number before its name"
        });
    }
    let atoms = |from: usize| {
        args[from.min(args.len())..]
            .iter()
            .all(|v| v.as_atom().is_some())
    };
    let ok = match name {
        "EXISTS" | "EXPUNGE" | "RECENT" => args.is_empty(),
        "CAPABILITY" | "ENABLED" => (name == "ENABLED" || !args.is_empty()) && atoms(0),
        "FLAGS" => {
            matches!(args, [Value::List(items)] if items.iter().all(|v| v.as_atom().is_some()))
        }
        "LIST" | "LSUB" => list(args),
        "STATUS" => {
            matches!(args, [m, Value::List(items)] if m.is_string_like() && pairs(items, |v| v.as_atom().and_then(number).is_some()))
        }
        "SEARCH" => args.iter().all(|v| v.as_atom().and_then(number).is_some()),
        "ESEARCH" => esearch(args),
        "FETCH" => matches!(args, [Value::List(items)] if fetch(items)),
        "NAMESPACE" => {
            args.len() == 3
                && args
                    .iter()
                    .all(|v| matches!(v, Value::List(_)) || is_nil(v))
        }
        "ID" => matches!(args, [Value::List(_)]) || matches!(args, [v] if is_nil(v)),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        fail(&format!(
            "the arguments of {name} do not follow its grammar"
        ))
    }
}

fn is_nil(value: &Value) -> bool {
    value
        .as_atom()
        .is_some_and(|t| t.eq_ignore_ascii_case("NIL"))
}

/// Whether `items` are name and value pairs, each value passing `value`.
fn pairs(items: &[Value], value: impl Fn(&Value) -> bool) -> bool {
    items.len().is_multiple_of(2)
        && items
            .chunks(2)
            .all(|p| p[0].as_atom().is_some() && value(&p[1]))
}

/// `(attributes) delimiter mailbox [extended]`.
fn list(args: &[Value]) -> bool {
    match args {
        [Value::List(attrs), delim, mailbox, rest @ ..] => {
            attrs.iter().all(|v| v.as_atom().is_some())
                && (matches!(delim, Value::Quoted(q) if q.len() == 1) || is_nil(delim))
                && mailbox.is_string_like()
                && rest.len() <= 1
        }
        _ => false,
    }
}

/// `[(TAG "x")] [UID] (name value)*`.
fn esearch(args: &[Value]) -> bool {
    let mut rest = args;
    if let [Value::List(_), tail @ ..] = rest {
        rest = tail;
    }
    if let [Value::Atom(uid), tail @ ..] = rest
        && uid.eq_ignore_ascii_case("UID")
    {
        rest = tail;
    }
    pairs(rest, |v| {
        v.as_atom().is_some() || matches!(v, Value::List(_))
    })
}

/// Fetch data: name and value pairs with each value of its item's shape.
fn fetch(items: &[Value]) -> bool {
    !items.is_empty()
        && pairs(items, |_| true)
        && items.chunks(2).all(|p| {
            let name = p[0].as_atom().unwrap_or_default().to_ascii_uppercase();
            let value = &p[1];
            let string = !matches!(value, Value::List(_));
            match name.as_str() {
                "FLAGS" => {
                    matches!(value, Value::List(f) if f.iter().all(|v| v.as_atom().is_some()))
                }
                "UID" | "RFC822.SIZE" => value.as_atom().and_then(number).is_some(),
                "INTERNALDATE" => matches!(value, Value::Quoted(_)),
                "ENVELOPE" | "BODYSTRUCTURE" | "MODSEQ" => matches!(value, Value::List(_)),
                "BODY" => matches!(value, Value::List(_)),
                "RFC822" | "RFC822.HEADER" | "RFC822.TEXT" => string,
                _ if name.starts_with("BODY[") || name.starts_with("BINARY[") => string,
                _ if name.starts_with("BINARY.SIZE[") => value.as_atom().and_then(number).is_some(),
                _ => false,
            }
        })
}
