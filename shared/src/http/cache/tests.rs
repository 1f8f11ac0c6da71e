//! RFC 9111's rules on its own cases and the course's conditional GET.

use super::*;

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
const T: i64 = 784_111_777;

#[test]
fn cache_control_directives_are_read_case_blind_and_first_wins() {
    let cc = CacheControl::of(&fields(&[
        ("Cache-Control", "Public, MAX-AGE=60, s-maxage=\"30\""),
        (
            "cache-control",
            "max-age=5, no-cache=\"Set-Cookie, X\", must-revalidate",
        ),
    ]));
    assert_eq!(cc.max_age, Some(60), "the first max-age wins (§4.2.1)");
    assert_eq!(cc.s_maxage, Some(30));
    assert!(cc.public && cc.no_cache && cc.must_revalidate);
    assert!(!cc.no_store && !cc.private);
    // Not a number: invalid freshness information, so stale.
    assert_eq!(
        CacheControl::of(&fields(&[("Cache-Control", "max-age=soon")])).max_age,
        Some(0)
    );
    // Too large: capped at 2^31 (§1.2.2).
    assert_eq!(
        CacheControl::of(&fields(&[(
            "Cache-Control",
            "max-age=99999999999999999999"
        )]))
        .max_age,
        Some(1 << 31)
    );
}

#[test]
fn lifetime_prefers_s_maxage_then_max_age_then_expires_then_heuristic() {
    let lifetime =
        |pairs: &[(&str, &str)]| freshness_lifetime(200, &ResponseFacts::of(&fields(pairs)), T);
    let date = ("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    let expires = ("Expires", "Sun, 06 Nov 1994 09:49:37 GMT");
    let modified = ("Last-Modified", "Wed, 27 Oct 1994 08:49:37 GMT");
    let all = [
        date,
        expires,
        modified,
        ("Cache-Control", "max-age=60, s-maxage=30"),
    ];
    assert_eq!(
        lifetime(&all),
        Lifetime {
            secs: 30,
            source: LifetimeSource::SMaxage
        }
    );
    let no_s = [date, expires, modified, ("Cache-Control", "max-age=60")];
    assert_eq!(
        lifetime(&no_s),
        Lifetime {
            secs: 60,
            source: LifetimeSource::MaxAge
        }
    );
    assert_eq!(
        lifetime(&[date, expires, modified]),
        Lifetime {
            secs: 3600,
            source: LifetimeSource::Expires
        }
    );
    // Ten days since Last-Modified: 10 % is one day.
    assert_eq!(
        lifetime(&[date, modified]),
        Lifetime {
            secs: 86_400,
            source: LifetimeSource::Heuristic
        }
    );
    assert_eq!(
        lifetime(&[date]),
        Lifetime {
            secs: 0,
            source: LifetimeSource::None
        }
    );
    // "Expires: 0" is a time in the past (§5.3).
    assert_eq!(lifetime(&[date, ("Expires", "0")]).secs, 0);
    // No heuristic for a status that does not allow one.
    let facts = ResponseFacts::of(&fields(&[date, modified]));
    assert_eq!(
        freshness_lifetime(302, &facts, T).source,
        LifetimeSource::None
    );
}

#[test]
fn expires_without_date_counts_from_arrival() {
    let facts = ResponseFacts::of(&fields(&[("Expires", "Sun, 06 Nov 1994 08:50:37 GMT")]));
    assert_eq!(freshness_lifetime(200, &facts, T).secs, 60);
}

#[test]
fn current_age_follows_section_4_2_3() {
    // Sent at T, answered 2 s later, the origin's clock 5 s behind and an
    // upstream cache saying it held it 10 s.
    let received = Received {
        request_time: T,
        response_time: T + 2,
        date: Some(T - 3),
        age: Some(10),
    };
    // apparent_age = 5; corrected_age_value = 10 + 2 = 12; initial = 12.
    assert_eq!(received.initial_age(), 12);
    assert_eq!(received.current_age(T + 32), 42);
    // A Date in the future gives no negative age.
    let ahead = Received {
        request_time: T,
        response_time: T,
        date: Some(T + 100),
        age: None,
    };
    assert_eq!(ahead.current_age(T), 0);
    let lifetime = Lifetime {
        secs: 60,
        source: LifetimeSource::MaxAge,
    };
    assert_eq!(ttl(lifetime, &ahead, T + 15), 45);
    assert_eq!(ttl(lifetime, &ahead, T + 75), -15);
}

#[test]
fn what_a_shared_cache_may_store() {
    let get = fields(&[]);
    let ok = fields(&[("Cache-Control", "max-age=60")]);
    assert_eq!(storable("GET", &get, 200, &ok), Ok(()));
    assert_eq!(storable("POST", &get, 200, &ok), Err(NotStorable::Method));
    assert_eq!(storable("GET", &get, 206, &ok), Err(NotStorable::Status));
    let no_store = fields(&[("Cache-Control", "no-store, max-age=60")]);
    assert_eq!(
        storable("GET", &get, 200, &no_store),
        Err(NotStorable::NoStore)
    );
    let private = fields(&[("Cache-Control", "private, max-age=60")]);
    assert_eq!(
        storable("GET", &get, 200, &private),
        Err(NotStorable::Private)
    );
    let asks_no_store = fields(&[("Cache-Control", "no-store")]);
    assert_eq!(
        storable("GET", &asks_no_store, 200, &ok),
        Err(NotStorable::RequestNoStore)
    );
    // Credentials: only if the response says a shared cache may (§3.5).
    let auth = fields(&[("Authorization", "Basic c3R1ZGVudDp3aXJlbGFi")]);
    assert_eq!(
        storable("GET", &auth, 200, &ok),
        Err(NotStorable::Authorization)
    );
    let public = fields(&[("Cache-Control", "public, max-age=60")]);
    assert_eq!(storable("GET", &auth, 200, &public), Ok(()));
    let star = fields(&[("Cache-Control", "max-age=60"), ("Vary", "Accept, *")]);
    assert_eq!(
        storable("GET", &get, 200, &star),
        Err(NotStorable::VaryStar)
    );
    // A 302 with nothing to go by cannot be kept; a 200 can (heuristic,
    // or stored to be revalidated each time).
    assert_eq!(
        storable("GET", &get, 302, &get),
        Err(NotStorable::NoFreshness)
    );
    assert_eq!(storable("GET", &get, 200, &get), Ok(()));
    // no-cache may be stored, but is checked before each use.
    let no_cache = fields(&[("Cache-Control", "no-cache")]);
    assert_eq!(storable("GET", &get, 200, &no_cache), Ok(()));
    let facts = ResponseFacts::of(&no_cache);
    assert!(!reusable_without_validation(&facts, &get, 100));
}

#[test]
fn a_request_can_ask_for_a_check() {
    let facts = ResponseFacts::of(&fields(&[("Cache-Control", "max-age=60")]));
    assert!(reusable_without_validation(&facts, &fields(&[]), 30));
    assert!(!reusable_without_validation(&facts, &fields(&[]), 0));
    for asks in [
        ("Cache-Control", "no-cache"),
        ("Cache-Control", "max-age=0"),
        ("Pragma", "no-cache"),
    ] {
        assert!(
            !reusable_without_validation(&facts, &fields(&[asks]), 30),
            "{asks:?}"
        );
    }
}

#[test]
fn the_courses_conditional_get() {
    // The textbook's kiwi.gif: the cache sends back the Last-Modified it got.
    let stored = fields(&[
        ("Last-Modified", "Mon, 22 Jun 1998 09:23:24 GMT"),
        ("ETag", "\"3e8-5a1\""),
    ]);
    assert_eq!(
        conditional_fields(&stored),
        fields(&[
            ("If-None-Match", "\"3e8-5a1\""),
            ("If-Modified-Since", "Mon, 22 Jun 1998 09:23:24 GMT"),
        ])
    );
    assert!(conditional_fields(&fields(&[("Content-Type", "image/gif")])).is_empty());
}

#[test]
fn a_304_refreshes_the_stored_fields_but_not_its_length() {
    let mut stored = fields(&[
        ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Cache-Control", "max-age=60"),
        ("Content-Length", "1000"),
        ("ETag", "\"v1\""),
        ("Content-Type", "image/gif"),
    ]);
    let not_modified = fields(&[
        ("Date", "Sun, 06 Nov 1994 09:49:37 GMT"),
        ("Cache-Control", "max-age=120"),
        ("Content-Length", "0"),
        ("Connection", "close"),
        ("ETag", "W/\"v1\""),
    ]);
    assert!(not_modified_matches(&stored, &not_modified));
    update_from_304(&mut stored, &not_modified);
    assert_eq!(
        value_of(&stored, "date"),
        Some("Sun, 06 Nov 1994 09:49:37 GMT")
    );
    assert_eq!(value_of(&stored, "cache-control"), Some("max-age=120"));
    assert_eq!(value_of(&stored, "content-length"), Some("1000"));
    assert_eq!(value_of(&stored, "content-type"), Some("image/gif"));
    assert_eq!(value_of(&stored, "connection"), None);
    assert_eq!(values_of(&stored, "date").len(), 1);
    // A 304 naming another version is not about this one.
    assert!(!not_modified_matches(
        &stored,
        &fields(&[("ETag", "\"v2\"")])
    ));
}

#[test]
fn vary_makes_secondary_keys() {
    let response = fields(&[
        ("Vary", "Accept-Language"),
        ("vary", "accept-encoding, Accept-Language"),
    ]);
    let names = vary_names(&response).unwrap();
    assert_eq!(
        names,
        vec!["accept-encoding".to_string(), "accept-language".to_string()]
    );
    let fr = fields(&[("Accept-Language", "fr"), ("Accept-Encoding", "gzip ,  br")]);
    let fr_again = fields(&[("accept-encoding", "gzip,br"), ("accept-language", "fr")]);
    let en = fields(&[("Accept-Language", "en"), ("Accept-Encoding", "gzip, br")]);
    assert_eq!(secondary_key(&names, &fr), secondary_key(&names, &fr_again));
    assert_ne!(secondary_key(&names, &fr), secondary_key(&names, &en));
    assert_eq!(
        secondary_key(&names, &fields(&[])),
        vec![
            ("accept-encoding".into(), None),
            ("accept-language".into(), None)
        ]
    );
}

#[test]
fn hop_by_hop_fields_include_what_connection_names() {
    let request = fields(&[("Connection", "close, X-Secret")]);
    assert!(hop_by_hop("Keep-Alive", &request));
    assert!(hop_by_hop("x-secret", &request));
    assert!(!hop_by_hop("Accept", &request));
}

#[test]
fn cache_status_reads_as_rfc_9211_writes_it() {
    assert_eq!(
        CacheStatus::hit("wirelab", 56).to_string(),
        "wirelab; hit; ttl=56"
    );
    let mut miss = CacheStatus::forwarded("wirelab", Forward::UriMiss, Some(200));
    miss.stored = true;
    miss.ttl = Some(60);
    assert_eq!(
        miss.to_string(),
        "wirelab; fwd=uri-miss; fwd-status=200; stored; ttl=60"
    );
    let revalidated = CacheStatus::forwarded("wirelab", Forward::Stale, Some(304));
    assert_eq!(
        revalidated.to_string(),
        "wirelab; fwd=stale; fwd-status=304"
    );
    let mut big = CacheStatus::forwarded("wirelab", Forward::UriMiss, Some(200));
    big.detail = Some("too-big".into());
    assert_eq!(
        big.to_string(),
        "wirelab; fwd=uri-miss; fwd-status=200; detail=too-big"
    );
}
