//! The bytes the proxy answers with, each noted in the request's log
//! entry: a response from the cache or the origin, and the proxy's own
//! answers (refusals, failures, the busy reply), all with `Via`, `Age` and
//! `Cache-Status`.

use super::{LogEntry, Proxy, Unusable, unix_now};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use wirelab_shared::http::cache::{CacheStatus, Forward};
use wirelab_shared::http::cache_store::{CACHE_NAME, Fetched};
use wirelab_shared::http::message::Version;
use wirelab_shared::http::proxy::{
    Delivery, ProxyRequest, Refusal, client_response, error_response,
};

/// What a client over the connection cap is told: the web server's 503,
/// with the fields every answer of the proxy carries.
pub(super) fn busy(proxy: &Proxy) -> Arc<[u8]> {
    let delivery = proxy.delivery(Version::Http11, false, "wirelab; detail=busy", 0);
    let message = "The proxy is at its connection limit (limits.server_max_connections); try again in a few seconds.";
    error_response(503, message, delivery).into()
}

impl Proxy {
    /// Writes a response to the client and notes it in the log entry.
    pub(super) fn deliver(
        &self,
        request: &ProxyRequest,
        entry: &mut LogEntry,
        response: &Fetched,
        age: u64,
        status: &CacheStatus,
    ) -> Vec<u8> {
        let cache_status = status.to_string();
        let delivery = self.delivery(request.version, request.keep_alive, &cache_status, age);
        let delivery = Delivery {
            head_only: request.method == "HEAD",
            ..delivery
        };
        entry.status = response.status;
        entry.bytes = response.body.len();
        entry.age = age;
        entry.cache_status = cache_status.clone();
        client_response(
            response.status,
            &response.reason,
            &response.headers,
            &response.body,
            delivery,
        )
    }

    pub(super) fn delivery<'a>(
        &'a self,
        version: Version,
        keep_alive: bool,
        cache_status: &'a str,
        age: u64,
    ) -> Delivery<'a> {
        Delivery {
            version,
            head_only: false,
            keep_alive,
            age,
            cache_status,
            via_name: &self.via_name,
        }
    }

    /// The proxy's own error answer for a request it read.
    pub(super) fn error(
        &self,
        request: &ProxyRequest,
        entry: &mut LogEntry,
        status: u16,
        message: &str,
        cache_status: &CacheStatus,
    ) -> Vec<u8> {
        let cache_status = cache_status.to_string();
        entry.status = status;
        entry.cache_status = cache_status.clone();
        entry.note = Some(message.to_string());
        let delivery = self.delivery(request.version, request.keep_alive, &cache_status, 0);
        error_response(status, message, delivery)
    }

    /// A request refused before any origin was looked at.
    pub(super) fn refuse(
        &self,
        mut entry: LogEntry,
        refusal: &Refusal,
        started: Instant,
    ) -> Vec<u8> {
        let mut status = CacheStatus::forwarded(CACHE_NAME, Forward::Bypass, None);
        status.fwd = None;
        status.detail = Some("refused".into());
        entry.outcome = "refused".into();
        let cache_status = status.to_string();
        entry.status = refusal.status();
        entry.cache_status = cache_status.clone();
        entry.note = Some(refusal.message());
        entry.total_ms = started.elapsed().as_millis() as u64;
        let answer = error_response(
            refusal.status(),
            &refusal.message(),
            self.delivery(Version::Http11, false, &cache_status, 0),
        );
        self.log.push(entry);
        answer
    }

    /// A request for an origin the proxy may not or cannot reach.
    pub(super) fn unusable(
        &self,
        mut entry: LogEntry,
        request: &ProxyRequest,
        unusable: Unusable,
        started: Instant,
    ) -> Vec<u8> {
        let mut status = CacheStatus::forwarded(CACHE_NAME, Forward::Bypass, None);
        status.fwd = None;
        status.detail = Some(unusable.detail.into());
        entry.outcome = "refused".into();
        let closing = ProxyRequest {
            keep_alive: false,
            ..request.clone()
        };
        let answer = self.error(
            &closing,
            &mut entry,
            unusable.status,
            &unusable.message,
            &status,
        );
        entry.total_ms = started.elapsed().as_millis() as u64;
        self.log.push(entry);
        answer
    }

    /// A request that could not even be framed.
    pub(super) fn refuse_framing(&self, client: SocketAddr, status: u16, why: &str) -> Vec<u8> {
        let mut entry = LogEntry::new(client, unix_now());
        entry.request = "(unreadable request)".into();
        let mut cache_status = CacheStatus::forwarded(CACHE_NAME, Forward::Bypass, None);
        cache_status.fwd = None;
        cache_status.detail = Some("refused".into());
        let text = cache_status.to_string();
        entry.outcome = "refused".into();
        entry.status = status;
        entry.cache_status = text.clone();
        entry.note = Some(why.to_string());
        self.log.push(entry);
        error_response(status, why, self.delivery(Version::Http11, false, &text, 0))
    }
}

/// The start line of a request that could not be read, for the log.
pub(super) fn first_line(buf: &[u8]) -> String {
    let end = buf
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(buf.len())
        .min(200);
    String::from_utf8_lossy(&buf[..end]).trim_end().to_string()
}
