//! HTTP caching rules for a shared cache (RFC 9111) as pure functions:
//! reading `Cache-Control`, `Expires`, `Date`, `Age`, `Last-Modified`,
//! `ETag` and `Vary`; whether a response may be stored (§3); its freshness
//! lifetime (§4.2.1, with §4.2.2's heuristic); its current age (§4.2.3);
//! the conditional request that revalidates it (§4.3.1); how a `304`
//! refreshes it (§4.3.4); and the `Cache-Status` field that says what the
//! cache did (RFC 9211).
//!
//! There is no clock here: every time is seconds since the Unix epoch and
//! the caller passes "now". Header fields are `(name, value)` pairs as they
//! arrived; names are compared without regard to case.

use super::date;
use std::fmt;

/// Header fields as `(name, value)` pairs, in the order they arrived.
pub type Fields = [(String, String)];

/// Seconds a delta-seconds value is capped at (RFC 9111 §1.2.2: a value
/// too large to hold is taken as 2^31).
const DELTA_SECONDS_CAP: u64 = 1 << 31;

/// Directives read from the field lines beyond this many are ignored: the
/// head is already bounded, this bounds the work on a head full of commas.
const MAX_DIRECTIVES: usize = 64;

/// The share of the time since `Last-Modified` that a response without an
/// explicit lifetime stays fresh (RFC 9111 §4.2.2 suggests 10 %; the course
/// gives no figure, it only says a cache checks with a conditional GET).
pub const HEURISTIC_FRACTION_PERCENT: u64 = 10;

/// The `Cache-Control` directives a shared cache acts on (RFC 9111 §5.2).
/// A directive given twice keeps its first value (§4.2.1); a max-age that
/// is not a number makes the response stale (§4.2.1: invalid freshness
/// information), so it reads as 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheControl {
    pub max_age: Option<u64>,
    pub s_maxage: Option<u64>,
    pub no_store: bool,
    pub no_cache: bool,
    pub private: bool,
    pub public: bool,
    pub must_revalidate: bool,
    pub proxy_revalidate: bool,
}

impl CacheControl {
    /// Reads every `Cache-Control` line of `fields`.
    pub fn of(fields: &Fields) -> CacheControl {
        let mut cc = CacheControl::default();
        let values = values_of(fields, "cache-control");
        for directive in values
            .iter()
            .flat_map(|v| split_list(v))
            .take(MAX_DIRECTIVES)
        {
            cc.apply(directive);
        }
        cc
    }

    /// Reads one directive, `name` or `name=value`.
    fn apply(&mut self, directive: &str) {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        match name.to_ascii_lowercase().as_str() {
            "max-age" => keep_first(&mut self.max_age, delta_seconds(value)),
            "s-maxage" => keep_first(&mut self.s_maxage, delta_seconds(value)),
            "no-store" => self.no_store = true,
            // The qualified forms (`no-cache="Set-Cookie"`) are taken as the
            // unqualified one: stricter, and allowed by §5.2.2.4.
            "no-cache" => self.no_cache = true,
            "private" => self.private = true,
            "public" => self.public = true,
            "must-revalidate" => self.must_revalidate = true,
            "proxy-revalidate" => self.proxy_revalidate = true,
            _ => {}
        }
    }
}

fn keep_first(slot: &mut Option<u64>, value: u64) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// A delta-seconds value; anything else is 0, so the response is stale.
fn delta_seconds(value: Option<&str>) -> u64 {
    let Some(digits) = value.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    else {
        return 0;
    };
    digits
        .parse::<u64>()
        .map_or(DELTA_SECONDS_CAP, |n| n.min(DELTA_SECONDS_CAP))
}

/// Splits a comma-separated field value, keeping commas inside quotes.
fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, b) in value.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// Every value of the field `name`, in order.
pub fn values_of<'a>(fields: &'a Fields, name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// The first value of the field `name`.
pub fn value_of<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    values_of(fields, name).into_iter().next()
}

fn date_of(fields: &Fields, name: &str) -> Option<i64> {
    value_of(fields, name).and_then(|v| date::parse(v).ok().map(|d| d.unix))
}

/// What a response says about its own caching, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseFacts {
    pub cache_control: CacheControl,
    pub date: Option<i64>,
    /// An `Expires` that is not a date (such as `0`) is in the past
    /// (RFC 9111 §5.3), read as the epoch.
    pub expires: Option<i64>,
    pub age: Option<u64>,
    pub last_modified: Option<i64>,
    pub etag: Option<String>,
}

impl ResponseFacts {
    pub fn of(fields: &Fields) -> ResponseFacts {
        ResponseFacts {
            cache_control: CacheControl::of(fields),
            date: date_of(fields, "date"),
            expires: value_of(fields, "expires").map(|v| date::parse(v).map_or(0, |d| d.unix)),
            // An Age that is not delta-seconds is ignored (§5.1).
            age: value_of(fields, "age").and_then(|v| v.parse::<u64>().ok()),
            last_modified: date_of(fields, "last-modified"),
            etag: value_of(fields, "etag").map(str::to_string),
        }
    }

    /// Whether the response gives its lifetime itself (not by heuristic).
    pub fn explicit_freshness(&self) -> bool {
        let cc = &self.cache_control;
        cc.s_maxage.is_some() || cc.max_age.is_some() || self.expires.is_some()
    }
}

/// Status codes whose responses may get a heuristic lifetime
/// (RFC 9110 §15.1, "heuristically cacheable").
pub fn heuristically_cacheable(status: u16) -> bool {
    matches!(
        status,
        200 | 203 | 204 | 206 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    )
}

/// Why a shared cache may not store a response (RFC 9111 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStorable {
    /// Only GET responses are cached here.
    Method,
    /// 1xx, 206 (no ranges here) and 304 are never stored.
    Status,
    /// `Cache-Control: no-store` in the request.
    RequestNoStore,
    /// `Cache-Control: no-store` in the response.
    NoStore,
    /// `Cache-Control: private`: for the user's own cache only.
    Private,
    /// The request carried credentials and the response did not say a
    /// shared cache may keep it (§3.5).
    Authorization,
    /// `Vary: *`: no later request can ever match it (§4.1).
    VaryStar,
    /// No lifetime, and a status a cache may not guess one for.
    NoFreshness,
}

impl NotStorable {
    /// The reason in a few words, as `Cache-Status`'s detail and the log show it.
    pub fn as_str(&self) -> &'static str {
        match self {
            NotStorable::Method => "method",
            NotStorable::Status => "status",
            NotStorable::RequestNoStore => "request-no-store",
            NotStorable::NoStore => "no-store",
            NotStorable::Private => "private",
            NotStorable::Authorization => "authorization",
            NotStorable::VaryStar => "vary-star",
            NotStorable::NoFreshness => "no-freshness",
        }
    }
}

/// Whether a shared cache may store the response to a `method` request
/// with `request` fields (RFC 9111 §3, §3.5).
pub fn storable(
    method: &str,
    request: &Fields,
    status: u16,
    response: &Fields,
) -> Result<(), NotStorable> {
    let facts = ResponseFacts::of(response);
    let cc = &facts.cache_control;
    if method != "GET" {
        return Err(NotStorable::Method);
    }
    if status < 200 || status == 206 || status == 304 {
        return Err(NotStorable::Status);
    }
    if CacheControl::of(request).no_store {
        return Err(NotStorable::RequestNoStore);
    }
    if cc.no_store {
        return Err(NotStorable::NoStore);
    }
    if cc.private {
        return Err(NotStorable::Private);
    }
    let shared_allowed = cc.public || cc.must_revalidate || cc.s_maxage.is_some();
    if value_of(request, "authorization").is_some() && !shared_allowed {
        return Err(NotStorable::Authorization);
    }
    if vary_names(response).is_none() {
        return Err(NotStorable::VaryStar);
    }
    if !(facts.explicit_freshness() || cc.public || heuristically_cacheable(status)) {
        return Err(NotStorable::NoFreshness);
    }
    Ok(())
}

/// Where a freshness lifetime came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifetimeSource {
    SMaxage,
    MaxAge,
    Expires,
    /// A share of the time since Last-Modified (§4.2.2).
    Heuristic,
    /// Nothing to go by: stale at once, revalidated every time.
    None,
}

/// A freshness lifetime in seconds and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub secs: u64,
    pub source: LifetimeSource,
}

/// The freshness lifetime of a response a shared cache received at
/// `response_time` (RFC 9111 §4.2.1): s-maxage, else max-age, else
/// Expires − Date, else the heuristic from Last-Modified.
pub fn freshness_lifetime(status: u16, facts: &ResponseFacts, response_time: i64) -> Lifetime {
    let cc = &facts.cache_control;
    let (secs, source) = if let Some(s) = cc.s_maxage {
        (s, LifetimeSource::SMaxage)
    } else if let Some(m) = cc.max_age {
        (m, LifetimeSource::MaxAge)
    } else if let Some(expires) = facts.expires {
        let date = facts.date.unwrap_or(response_time);
        (
            expires.saturating_sub(date).max(0) as u64,
            LifetimeSource::Expires,
        )
    } else if let Some(secs) = heuristic_lifetime(status, facts, response_time) {
        (secs, LifetimeSource::Heuristic)
    } else {
        (0, LifetimeSource::None)
    };
    Lifetime { secs, source }
}

/// §4.2.2: a fraction of the time since the object last changed, for the
/// statuses that allow a guess (or with `public`).
fn heuristic_lifetime(status: u16, facts: &ResponseFacts, response_time: i64) -> Option<u64> {
    if !(heuristically_cacheable(status) || facts.cache_control.public) {
        return None;
    }
    let modified = facts.last_modified?;
    let date = facts.date.unwrap_or(response_time);
    let since = date.saturating_sub(modified).max(0) as u64;
    Some(since * HEURISTIC_FRACTION_PERCENT / 100)
}

/// When a stored response was asked for and received, and what it said
/// about its age: what §4.2.3 needs to age it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// When the cache sent the request that got this response.
    pub request_time: i64,
    /// When the response arrived.
    pub response_time: i64,
    pub date: Option<i64>,
    pub age: Option<u64>,
}

impl Received {
    /// The age the response had when it arrived (§4.2.3's
    /// corrected_initial_age).
    pub fn initial_age(&self) -> u64 {
        let date = self.date.unwrap_or(self.response_time);
        let apparent_age = self.response_time.saturating_sub(date).max(0) as u64;
        let response_delay = self.response_time.saturating_sub(self.request_time).max(0) as u64;
        let corrected_age_value = self.age.unwrap_or(0).saturating_add(response_delay);
        apparent_age.max(corrected_age_value)
    }

    /// Its age at `now` (§4.2.3's current_age).
    pub fn current_age(&self, now: i64) -> u64 {
        let resident_time = now.saturating_sub(self.response_time).max(0) as u64;
        self.initial_age().saturating_add(resident_time)
    }
}

/// Seconds of freshness left at `now`: negative once stale.
pub fn ttl(lifetime: Lifetime, received: &Received, now: i64) -> i64 {
    let age = received.current_age(now).min(i64::MAX as u64) as i64;
    (lifetime.secs.min(i64::MAX as u64) as i64).saturating_sub(age)
}

/// Whether a stored response may be served without asking the origin:
/// it is fresh and neither it nor the request says to check first.
pub fn reusable_without_validation(
    response: &ResponseFacts,
    request: &Fields,
    ttl_secs: i64,
) -> bool {
    let request_cc = CacheControl::of(request);
    let pragma_no_cache = values_of(request, "pragma")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("no-cache"));
    let request_says_check =
        request_cc.no_cache || request_cc.max_age == Some(0) || pragma_no_cache;
    ttl_secs > 0 && !response.cache_control.no_cache && !request_says_check
}

/// The validators to send upstream to revalidate a stored response
/// (RFC 9111 §4.3.1): `If-None-Match` from its ETag, `If-Modified-Since`
/// from its Last-Modified. Empty when it has neither: then only a full
/// GET can tell.
pub fn conditional_fields(stored: &Fields) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    if let Some(etag) = value_of(stored, "etag") {
        fields.push(("If-None-Match".to_string(), etag.to_string()));
    }
    if let Some(modified) = value_of(stored, "last-modified") {
        fields.push(("If-Modified-Since".to_string(), modified.to_string()));
    }
    fields
}

/// Fields that belong to one connection, never stored or forwarded
/// (RFC 9110 §7.6.1), plus the ones a `Connection` field names.
pub fn hop_by_hop(name: &str, fields: &Fields) -> bool {
    const ALWAYS: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let lower = name.to_ascii_lowercase();
    ALWAYS.contains(&lower.as_str())
        || values_of(fields, "connection")
            .iter()
            .flat_map(|v| split_list(v))
            .any(|option| option.eq_ignore_ascii_case(name))
}

/// Whether a `304` applies to the stored response: its strong ETag, if it
/// has one, must be the stored one (RFC 9111 §4.3.4).
pub fn not_modified_matches(stored: &Fields, not_modified: &Fields) -> bool {
    match (value_of(not_modified, "etag"), value_of(stored, "etag")) {
        (Some(new), Some(old)) => new.trim_start_matches("W/") == old.trim_start_matches("W/"),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Refreshes a stored response's fields from a `304` (RFC 9111 §4.3.4,
/// §3.2): each field of the 304 replaces the stored ones of that name,
/// except the connection's own fields and Content-Length, which describe
/// the stored body, not the 304.
pub fn update_from_304(stored: &mut Vec<(String, String)>, not_modified: &Fields) {
    let kept: Vec<&(String, String)> = not_modified
        .iter()
        .filter(|(name, _)| {
            !hop_by_hop(name, not_modified) && !name.eq_ignore_ascii_case("content-length")
        })
        .collect();
    stored.retain(|(name, _)| !kept.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
    stored.extend(kept.into_iter().cloned());
}

/// The request fields a response varies on, lower case, or `None` for
/// `Vary: *` (RFC 9110 §12.5.5).
pub fn vary_names(response: &Fields) -> Option<Vec<String>> {
    let mut names: Vec<String> = values_of(response, "vary")
        .iter()
        .flat_map(|v| split_list(v))
        .take(MAX_DIRECTIVES)
        .map(str::to_ascii_lowercase)
        .collect();
    if names.iter().any(|n| n == "*") {
        return None;
    }
    names.sort();
    names.dedup();
    Some(names)
}

/// The secondary key of a request for a response that varies on `names`
/// (RFC 9111 §4.1): each field's values joined, whitespace around commas
/// dropped, `None` where the request lacks the field.
pub fn secondary_key(names: &[String], request: &Fields) -> Vec<(String, Option<String>)> {
    names
        .iter()
        .map(|name| {
            let values: Vec<&str> = values_of(request, name)
                .iter()
                .flat_map(|v| split_list(v))
                .collect();
            (name.clone(), (!values.is_empty()).then(|| values.join(",")))
        })
        .collect()
}

/// Why the cache went to the origin (RFC 9211 §2.2, `fwd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Forward {
    /// The cache was not used (a method it does not cache).
    Bypass,
    /// Nothing stored for this URI.
    UriMiss,
    /// Something stored for this URI, but for other Vary values.
    VaryMiss,
    /// A stored response could not be used for another reason.
    Miss,
    /// The request asked to check (`no-cache`).
    Request,
    /// The stored response was stale.
    Stale,
}

impl Forward {
    pub fn as_str(&self) -> &'static str {
        match self {
            Forward::Bypass => "bypass",
            Forward::UriMiss => "uri-miss",
            Forward::VaryMiss => "vary-miss",
            Forward::Miss => "miss",
            Forward::Request => "request",
            Forward::Stale => "stale",
        }
    }
}

/// A `Cache-Status` member (RFC 9211): `wirelab; hit; ttl=56`,
/// `wirelab; fwd=uri-miss; fwd-status=200; stored; ttl=60`,
/// `wirelab; fwd=stale; fwd-status=304; ttl=60`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStatus {
    /// The cache's name in the field.
    pub cache: String,
    /// Served from the cache without going to the origin.
    pub hit: bool,
    pub fwd: Option<Forward>,
    /// The status the origin answered with.
    pub fwd_status: Option<u16>,
    pub stored: bool,
    /// Seconds of freshness left on what was served (negative: stale).
    pub ttl: Option<i64>,
    /// Why it was not stored or not served, a token such as `too-big`.
    pub detail: Option<String>,
}

impl CacheStatus {
    pub fn hit(cache: &str, ttl: i64) -> CacheStatus {
        CacheStatus {
            cache: cache.to_string(),
            hit: true,
            fwd: None,
            fwd_status: None,
            stored: false,
            ttl: Some(ttl),
            detail: None,
        }
    }

    pub fn forwarded(cache: &str, fwd: Forward, fwd_status: Option<u16>) -> CacheStatus {
        CacheStatus {
            cache: cache.to_string(),
            hit: false,
            fwd: Some(fwd),
            fwd_status,
            stored: false,
            ttl: None,
            detail: None,
        }
    }
}

impl fmt::Display for CacheStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cache)?;
        if self.hit {
            f.write_str("; hit")?;
        }
        if let Some(fwd) = self.fwd {
            write!(f, "; fwd={}", fwd.as_str())?;
        }
        if let Some(status) = self.fwd_status {
            write!(f, "; fwd-status={status}")?;
        }
        if self.stored {
            f.write_str("; stored")?;
        }
        if let Some(ttl) = self.ttl {
            write!(f, "; ttl={ttl}")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, "; detail={detail}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
