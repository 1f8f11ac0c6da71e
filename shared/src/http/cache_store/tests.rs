//! The store through the course's sequence: a miss, hits, a stale copy
//! revalidated with a 304, a changed object fetched again; and its bounds.

use super::*;

const T: i64 = 1_700_000_000;
const URI: &str = "http://127.0.0.1:8081/fruit/kiwi.gif";

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn bounds() -> Bounds {
    Bounds {
        max_bytes: 1 << 20,
        max_entries: 100,
        max_object_bytes: 64 * 1024,
    }
}

fn response(status: u16, at: i64, headers: &[(&str, &str)], body: &[u8]) -> Fetched {
    Fetched {
        status,
        reason: "OK".into(),
        headers: fields(headers),
        body: body.into(),
        request_time: at,
        response_time: at,
    }
}

fn kiwi(at: i64, etag: &str) -> Fetched {
    response(
        200,
        at,
        &[
            ("Cache-Control", "max-age=60"),
            ("ETag", etag),
            ("Last-Modified", "Mon, 22 Jun 1998 09:23:24 GMT"),
        ],
        b"GIF89a...",
    )
}

/// Plans, then settles with `fetched` as the origin's answer.
fn through(store: &mut Store, request: &[(&str, &str)], fetched: Fetched) -> (Plan, Settled) {
    let request = fields(request);
    let plan = store.plan("GET", URI, &request, fetched.request_time);
    let settled = store.settle(&plan, "GET", URI, &request, fetched);
    (plan, settled)
}

#[test]
fn miss_then_hits_then_a_304_then_a_changed_object() {
    let mut store = Store::new(bounds());
    let (plan, first) = through(&mut store, &[], kiwi(T, "\"v1\""));
    assert_eq!(plan, Plan::Fetch(Forward::UriMiss));
    assert_eq!(
        first.status.to_string(),
        "wirelab; fwd=uri-miss; fwd-status=200; stored; ttl=60"
    );
    assert_eq!(store.len(), 1);

    // 10 s later: a hit, 10 s old.
    let Plan::Serve(hit) = store.plan("GET", URI, &[], T + 10) else {
        panic!("a fresh copy is served");
    };
    assert_eq!((hit.age(T + 10), hit.ttl(T + 10)), (10, 50));
    assert_eq!(hit.response.body.as_ref(), b"GIF89a...");

    // 70 s later it is stale: revalidated with its validators.
    let Plan::Revalidate {
        conditional, fwd, ..
    } = store.plan("GET", URI, &[], T + 70)
    else {
        panic!("a stale copy is revalidated");
    };
    assert_eq!(fwd, Forward::Stale);
    assert_eq!(
        conditional,
        fields(&[
            ("If-None-Match", "\"v1\""),
            ("If-Modified-Since", "Mon, 22 Jun 1998 09:23:24 GMT")
        ])
    );
    let not_modified = response(
        304,
        T + 70,
        &[("ETag", "\"v1\""), ("Cache-Control", "max-age=60")],
        b"",
    );
    let (_, revalidated) = through(&mut store, &[], not_modified);
    assert_eq!(
        revalidated.status.to_string(),
        "wirelab; fwd=stale; fwd-status=304; ttl=60"
    );
    assert_eq!(
        revalidated.response.status, 200,
        "the client gets the stored object"
    );
    assert_eq!(revalidated.response.body.as_ref(), b"GIF89a...");
    assert!(
        matches!(store.plan("GET", URI, &[], T + 80), Plan::Serve(_)),
        "fresh again"
    );
    assert_eq!(store.view(T + 80)[0].revalidated_at, Some(T + 70));

    // Later still it has changed: the origin answers 200 and it replaces the copy.
    let (_, changed) = through(&mut store, &[], kiwi(T + 200, "\"v2\""));
    assert_eq!(changed.status.fwd_status, Some(200));
    assert!(changed.status.stored);
    assert_eq!(store.len(), 1);
    assert_eq!(store.view(T + 200)[0].etag.as_deref(), Some("\"v2\""));
}

#[test]
fn a_request_asking_for_a_check_revalidates_a_fresh_copy() {
    let mut store = Store::new(bounds());
    through(&mut store, &[], kiwi(T, "\"v1\""));
    let asks = fields(&[("Cache-Control", "no-cache")]);
    assert!(matches!(
        store.plan("GET", URI, &asks, T + 1),
        Plan::Revalidate {
            fwd: Forward::Request,
            ..
        }
    ));
}

#[test]
fn what_may_not_be_kept_is_passed_on_and_not_stored() {
    let mut store = Store::new(bounds());
    let big = response(
        200,
        T,
        &[("Cache-Control", "max-age=60")],
        &vec![b'x'; 64 * 1024 + 1],
    );
    let (_, settled) = through(&mut store, &[], big);
    assert_eq!(settled.status.detail.as_deref(), Some("too-big"));
    assert!(!settled.status.stored);
    assert_eq!(
        settled.response.body.len(),
        64 * 1024 + 1,
        "passed through whole"
    );
    let secret = response(200, T, &[("Cache-Control", "no-store")], b"secret");
    let (_, settled) = through(&mut store, &[], secret);
    assert_eq!(settled.status.detail.as_deref(), Some("no-store"));
    assert!(store.is_empty());
    assert_eq!(store.bytes(), 0);
    // A POST goes around the cache and drops what was stored for the URI.
    through(&mut store, &[], kiwi(T, "\"v1\""));
    let plan = store.plan("POST", URI, &[], T);
    assert_eq!(plan, Plan::Fetch(Forward::Bypass));
    let settled = store.settle(&plan, "POST", URI, &[], response(200, T, &[], b"done"));
    assert_eq!(
        settled.status.to_string(),
        "wirelab; fwd=bypass; fwd-status=200"
    );
    assert!(store.is_empty());
}

#[test]
fn vary_keeps_one_copy_per_language() {
    let mut store = Store::new(bounds());
    let page = |lang: &str| {
        response(
            200,
            T,
            &[
                ("Cache-Control", "max-age=60"),
                ("Vary", "Accept-Language"),
                ("Content-Language", lang),
            ],
            lang.as_bytes(),
        )
    };
    through(&mut store, &[("Accept-Language", "fr")], page("fr"));
    let (plan, _) = through(&mut store, &[("Accept-Language", "en")], page("en"));
    assert_eq!(plan, Plan::Fetch(Forward::VaryMiss));
    assert_eq!(store.len(), 2);
    let Plan::Serve(fr) = store.plan("GET", URI, &fields(&[("accept-language", "fr")]), T + 1)
    else {
        panic!("the French copy is stored");
    };
    assert_eq!(fr.response.body.as_ref(), b"fr");
    store.clear();
    assert!(store.is_empty() && store.bytes() == 0);
    assert_eq!(
        store.plan("GET", URI, &[], T),
        Plan::Fetch(Forward::UriMiss)
    );
}

#[test]
fn least_recently_used_goes_first_by_entries_and_by_bytes() {
    let mut store = Store::new(Bounds {
        max_entries: 2,
        ..bounds()
    });
    let get = |store: &mut Store, uri: &str, at: i64| {
        let plan = store.plan("GET", uri, &[], at);
        store.settle(&plan, "GET", uri, &[], kiwi(at, "\"x\""));
    };
    get(&mut store, "http://a/1", T);
    get(&mut store, "http://a/2", T);
    // Using 1 makes 2 the least recently used.
    assert!(matches!(
        store.plan("GET", "http://a/1", &[], T + 1),
        Plan::Serve(_)
    ));
    get(&mut store, "http://a/3", T + 1);
    let uris: Vec<String> = store.view(T + 1).into_iter().map(|e| e.uri).collect();
    assert_eq!(
        uris,
        vec!["http://a/1".to_string(), "http://a/3".to_string()]
    );

    let one = stored_size("http://b/1", &kiwi(T, "\"x\""));
    let mut store = Store::new(Bounds {
        max_bytes: one * 2 + 10,
        ..bounds()
    });
    for i in 1..=3 {
        get(&mut store, &format!("http://b/{i}"), T);
    }
    assert_eq!(store.len(), 2);
    assert!(store.bytes() <= store.bounds().max_bytes);
}
