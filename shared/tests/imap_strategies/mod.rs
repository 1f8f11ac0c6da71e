//! Strategies that build IMAP commands and responses from the grammar, for
//! the round-trip and the differential tests. Literal data has no NUL
//! (RFC 9051 `CHAR8`).
#![allow(dead_code)]

use proptest::prelude::*;
use wirelab_shared::imap::command::{Command, Verb};
use wirelab_shared::imap::response::{Code, Response, Status};
use wirelab_shared::imap::syntax::Value;

pub fn atom() -> impl Strategy<Value = Value> {
    "[A-Za-z0-9$._-]{1,12}".prop_map(Value::Atom)
}

pub fn quoted() -> impl Strategy<Value = Value> {
    "[ -~é€]{0,16}".prop_map(|s| Value::Quoted(s.into_bytes()))
}

pub fn literal() -> impl Strategy<Value = Value> {
    (proptest::collection::vec(1u8.., 0..24), any::<bool>()).prop_map(|(data, sync)| {
        Value::Literal {
            data,
            synchronizing: sync,
        }
    })
}

pub fn astring() -> impl Strategy<Value = Value> {
    prop_oneof![atom(), quoted(), literal()]
}

pub fn sequence_set() -> impl Strategy<Value = Value> {
    let end = prop_oneof![
        (1u32..5000).prop_map(|n| n.to_string()),
        Just("*".to_string())
    ];
    let element = (end.clone(), proptest::option::of(end))
        .prop_map(|(a, b)| b.map_or(a.clone(), |b| format!("{a}:{b}")));
    proptest::collection::vec(element, 1..4).prop_map(|e| Value::Atom(e.join(",")))
}

pub fn flags() -> impl Strategy<Value = Value> {
    let flag = prop_oneof![
        Just("\\Seen"),
        Just("\\Deleted"),
        Just("\\Flagged"),
        Just("\\Answered"),
        Just("\\Draft"),
        Just("$Junk"),
    ];
    proptest::collection::vec(flag.prop_map(|f| Value::Atom(f.into())), 0..4).prop_map(Value::List)
}

pub fn fetch_items() -> impl Strategy<Value = Value> {
    let item = prop_oneof![
        Just("FLAGS"),
        Just("UID"),
        Just("ENVELOPE"),
        Just("RFC822.SIZE"),
        Just("INTERNALDATE"),
        Just("BODYSTRUCTURE"),
        Just("BODY[]"),
        Just("BODY.PEEK[HEADER]"),
        Just("BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT)]"),
        Just("BODY[1.2.TEXT]<0.2048>"),
        Just("BINARY.PEEK[1]"),
    ]
    .prop_map(|i| Value::Atom(i.into()));
    prop_oneof![
        item.clone(),
        proptest::collection::vec(item, 1..5).prop_map(Value::List),
        Just(Value::Atom("ALL".into())),
    ]
}

pub fn search_keys() -> impl Strategy<Value = Vec<Value>> {
    let key = prop_oneof![
        Just(vec![Value::Atom("SEEN".into())]),
        Just(vec![Value::Atom("UNSEEN".into())]),
        Just(vec![Value::Atom("ALL".into())]),
        astring().prop_map(|s| vec![Value::Atom("FROM".into()), s]),
        astring().prop_map(|s| vec![Value::Atom("SUBJECT".into()), s]),
        Just(vec![
            Value::Atom("SINCE".into()),
            Value::Atom("1-Feb-1994".into())
        ]),
        (1u32..100000).prop_map(|n| vec![Value::Atom("LARGER".into()), Value::Atom(n.to_string())]),
        sequence_set().prop_map(|s| vec![s]),
        sequence_set().prop_map(|s| vec![Value::Atom("UID".into()), s]),
        Just(vec![
            Value::Atom("NOT".into()),
            Value::Atom("DELETED".into())
        ]),
        Just(vec![
            Value::Atom("OR".into()),
            Value::Atom("SEEN".into()),
            Value::List(vec![
                Value::Atom("FLAGGED".into()),
                Value::Atom("DRAFT".into())
            ]),
        ]),
    ];
    proptest::collection::vec(key, 1..4).prop_map(|k| k.concat())
}

pub fn command() -> impl Strategy<Value = Command> {
    let tag = "[A-Za-z0-9.]{1,8}";
    let shape = prop_oneof![
        prop_oneof![
            Just(Verb::Capability),
            Just(Verb::Noop),
            Just(Verb::Logout),
            Just(Verb::Idle),
            Just(Verb::Close),
            Just(Verb::Unselect),
            Just(Verb::Expunge),
            Just(Verb::Namespace),
        ]
        .prop_map(|v| (v, false, vec![])),
        (astring(), astring()).prop_map(|(u, p)| (Verb::Login, false, vec![u, p])),
        (
            prop_oneof![
                Just(Verb::Select),
                Just(Verb::Examine),
                Just(Verb::Create),
                Just(Verb::Delete),
                Just(Verb::Subscribe),
                Just(Verb::Unsubscribe),
            ],
            astring()
        )
            .prop_map(|(v, m)| (v, false, vec![m])),
        (astring(), astring()).prop_map(|(a, b)| (Verb::Rename, false, vec![a, b])),
        (astring(), astring()).prop_map(|(a, b)| (Verb::List, false, vec![a, b])),
        astring().prop_map(|m| (
            Verb::Status,
            false,
            vec![
                m,
                Value::List(vec![
                    Value::Atom("MESSAGES".into()),
                    Value::Atom("UIDNEXT".into())
                ])
            ]
        )),
        (astring(), proptest::option::of(flags()), literal()).prop_map(|(m, f, l)| {
            let mut args = vec![m];
            args.extend(f);
            args.push(l);
            (Verb::Append, false, args)
        }),
        (any::<bool>(), sequence_set(), fetch_items()).prop_map(|(u, s, i)| (
            Verb::Fetch,
            u,
            vec![s, i]
        )),
        (
            any::<bool>(),
            sequence_set(),
            prop_oneof![Just("FLAGS"), Just("+FLAGS.SILENT"), Just("-FLAGS")],
            flags()
        )
            .prop_map(|(u, s, a, f)| (Verb::Store, u, vec![s, Value::Atom(a.into()), f])),
        (
            any::<bool>(),
            prop_oneof![Just(Verb::Copy), Just(Verb::Move)],
            sequence_set(),
            astring()
        )
            .prop_map(|(u, v, s, m)| (v, u, vec![s, m])),
        (any::<bool>(), search_keys()).prop_map(|(u, k)| (Verb::Search, u, k)),
        sequence_set().prop_map(|s| (Verb::Expunge, true, vec![s])),
    ];
    (tag, shape).prop_map(|(tag, (verb, uid, arguments))| Command {
        tag,
        uid,
        verb,
        arguments,
    })
}

pub fn text() -> impl Strategy<Value = String> {
    "([!-Z\\\\^-~][ -~]{0,30})?"
}

pub fn response() -> impl Strategy<Value = Response> {
    let status = prop_oneof![Just(Status::Ok), Just(Status::No), Just(Status::Bad)];
    let code = proptest::option::of(
        (
            "[A-Z][A-Z0-9-]{0,10}",
            proptest::option::of("[!-\\\\^-~][ -\\\\^-~]{0,12}"),
        )
            .prop_map(|(name, text)| Code { name, text }),
    );
    let number = 1u32..100_000;
    prop_oneof![
        (
            proptest::option::of("[A-Za-z0-9]{1,8}"),
            status,
            code,
            text()
        )
            .prop_map(|(tag, status, code, text)| {
                Response::Status {
                    tag,
                    status,
                    code,
                    text,
                }
            }),
        (number.clone(), prop_oneof![Just("EXISTS"), Just("EXPUNGE")]).prop_map(|(n, name)| {
            Response::Data {
                number: Some(n),
                name: name.into(),
                arguments: vec![],
            }
        }),
        proptest::collection::vec("[A-Z0-9=+-]{1,10}", 1..5).prop_map(|caps| Response::Data {
            number: None,
            name: "CAPABILITY".into(),
            arguments: caps.into_iter().map(Value::Atom).collect(),
        }),
        (number.clone(), flags(), number.clone(), literal()).prop_map(|(n, f, uid, body)| {
            Response::Data {
                number: Some(n),
                name: "FETCH".into(),
                arguments: vec![Value::List(vec![
                    Value::Atom("FLAGS".into()),
                    f,
                    Value::Atom("UID".into()),
                    Value::Atom(uid.to_string()),
                    Value::Atom("BODY[HEADER]".into()),
                    body,
                ])],
            }
        }),
        proptest::collection::vec(number, 0..5).prop_map(|ns| Response::Data {
            number: None,
            name: "SEARCH".into(),
            arguments: ns.into_iter().map(|n| Value::Atom(n.to_string())).collect(),
        }),
        (flags(), astring()).prop_map(|(f, m)| Response::Data {
            number: None,
            name: "LIST".into(),
            arguments: vec![f, Value::Quoted(b"/".to_vec()), m],
        }),
        text().prop_map(|text| Response::Continuation { text }),
    ]
}
