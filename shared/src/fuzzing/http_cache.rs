//! Fuzz body for the caching proxy: a forward proxy's request reading and
//! RFC 9111's rules over any header fields, and the cache store kept
//! within its bounds whatever the origin says.

use crate::http::cache::{
    CacheControl, ResponseFacts, conditional_fields, freshness_lifetime, secondary_key, storable,
    update_from_304, values_of, vary_names,
};
use crate::http::cache_store::{Bounds, Fetched, Store};
use crate::http::frame::{Limits, Status, frame_request};
use crate::http::message::parse_head;
use crate::http::proxy::{parse_absolute, read_request};

const NOW: i64 = 1_700_000_000;

/// The input is a request, then (after the first empty line) a response
/// head: the request goes through the proxy's reader, both heads' fields
/// through the cache rules and the store.
pub fn http_cache(data: &[u8]) {
    if let Ok(Status::Complete(frame)) = frame_request(data, &Limits::default())
        && let Ok(request) = read_request(data, &frame, "127.0.0.1:3128")
    {
        // The URI the cache keys on reads back as the same origin.
        let uri = request.origin.uri();
        assert_eq!(parse_absolute(&uri), Ok(request.origin.clone()), "{uri}");
    }
    let split = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(data.len(), |i| i + 4);
    let request = fields(&data[..split]);
    let response = fields(&data[split..]);
    rules(&request, &response);
    store(&request, &response);
}

fn fields(head: &[u8]) -> Vec<(String, String)> {
    parse_head(head)
        .fields(head)
        .into_iter()
        .map(|f| (f.name.to_string(), f.value))
        .collect()
}

fn rules(request: &[(String, String)], response: &[(String, String)]) {
    let cc = CacheControl::of(response);
    assert!(cc.max_age.is_none_or(|a| a <= 1 << 31));
    let facts = ResponseFacts::of(response);
    let lifetime = freshness_lifetime(200, &facts, NOW);
    if facts.cache_control.s_maxage.is_some() || facts.cache_control.max_age.is_some() {
        assert!(lifetime.secs <= 1 << 31);
    }
    let _ = storable("GET", request, 200, response);
    if let Some(names) = vary_names(response) {
        let key = secondary_key(&names, request);
        assert_eq!(key.len(), names.len());
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted, no twins");
    }
    let mut stored = response.to_vec();
    let lengths = values_of(&stored, "content-length").len();
    update_from_304(&mut stored, request);
    assert_eq!(values_of(&stored, "content-length").len(), lengths);
    assert!(conditional_fields(&stored).len() <= 2);
}

fn store(request: &[(String, String)], response: &[(String, String)]) {
    let bounds = Bounds {
        max_bytes: 4096,
        max_entries: 3,
        max_object_bytes: 1024,
    };
    let mut store = Store::new(bounds);
    for (i, status) in [200u16, 304, 200, 404].into_iter().enumerate() {
        let uri = format!("http://a/{}", i % 2);
        let now = NOW + 10 * i as i64;
        let plan = store.plan("GET", &uri, request, now);
        let fetched = Fetched {
            status,
            reason: "R".into(),
            headers: response.to_vec(),
            body: vec![b'x'; 100 * i].into(),
            request_time: now,
            response_time: now,
        };
        let settled = store.settle(&plan, "GET", &uri, request, fetched);
        assert!(settled.status.to_string().starts_with("wirelab;"));
        assert!(store.len() <= bounds.max_entries && store.bytes() <= bounds.max_bytes);
        let _ = store.view(now);
    }
}
