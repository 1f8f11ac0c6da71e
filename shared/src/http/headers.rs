//! What each header field is for: its family in the course's sense
//! (capabilities, caching, context, delivery, plus connection management)
//! and a sentence for the student with the RFC section.

/// The course's families of header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// What the client can handle or who it is (User-Agent, Accept-*), and
    /// what the server offers (Server, Allow, Accept-Ranges).
    Capability,
    /// Cache validation and freshness (If-Modified-Since, ETag, Expires...).
    Caching,
    /// Who asks, from where, as whom (Host, Cookie, Referer, Authorization).
    Context,
    /// What the body is and how it travels (Content-*, Set-Cookie, Location).
    Delivery,
    /// The connection itself (Connection, Keep-Alive, Transfer-Encoding).
    Connection,
    /// A field this lab has no notes on.
    Other,
}

impl Family {
    pub fn label(&self) -> &'static str {
        match self {
            Family::Capability => "capability",
            Family::Caching => "caching",
            Family::Context => "context",
            Family::Delivery => "delivery",
            Family::Connection => "connection management",
            Family::Other => "other",
        }
    }
}

/// The family and a one-sentence explanation of a header field.
pub fn describe(name: &str) -> (Family, &'static str) {
    use Family::*;
    match name.to_ascii_lowercase().as_str() {
        "host" => (
            Context,
            "The host (and port) the client wants: one server address can host many sites, so HTTP/1.1 requires it (RFC 9112 §3.2, RFC 9110 §7.2).",
        ),
        "user-agent" => (
            Capability,
            "The client software; servers may send different versions of an object to different browsers (RFC 9110 §10.1.5).",
        ),
        "accept" => (
            Capability,
            "The media types the client prefers, with q weights (RFC 9110 §12.5.1).",
        ),
        "accept-language" => (
            Capability,
            "The languages the client prefers: `fr` asks for the French version if the server has one (RFC 9110 §12.5.4).",
        ),
        "accept-encoding" => (
            Capability,
            "The content codings the client can decode, such as gzip (RFC 9110 §12.5.3).",
        ),
        "accept-charset" => (
            Capability,
            "The character sets the client prefers; obsolete, browsers no longer send it (RFC 9110 §12.5.2).",
        ),
        "accept-ranges" => (
            Capability,
            "The server can send parts of this object on request (byte ranges) (RFC 9110 §14.3).",
        ),
        "server" => (
            Capability,
            "The server software, the counterpart of User-Agent (RFC 9110 §10.2.4).",
        ),
        "allow" => (
            Capability,
            "The methods this resource supports, sent with 405 (RFC 9110 §10.2.1).",
        ),
        "if-modified-since" => (
            Caching,
            "A conditional GET: send the object only if it changed after this date, else 304 Not Modified (RFC 9110 §13.1.3).",
        ),
        "if-none-match" => (
            Caching,
            "A conditional GET by entity tag: send the object only if its ETag differs, else 304 (RFC 9110 §13.1.2).",
        ),
        "if-match" | "if-unmodified-since" => (
            Caching,
            "A precondition: carry out the request only if the object is still the version the client knows (RFC 9110 §13.1).",
        ),
        "last-modified" => (
            Caching,
            "When the object last changed; a cache sends it back in If-Modified-Since (RFC 9110 §8.8.2).",
        ),
        "etag" => (
            Caching,
            "An opaque tag of this version of the object; a cache sends it back in If-None-Match (RFC 9110 §8.8.3).",
        ),
        "expires" => (
            Caching,
            "After this date a cache must check again before reusing the response (RFC 9111 §5.3).",
        ),
        "cache-control" => (
            Caching,
            "Caching directives such as max-age and no-cache, for the browser and the proxies on the way (RFC 9111 §5.2).",
        ),
        "age" => (
            Caching,
            "How long a cache has held this response (RFC 9111 §5.1).",
        ),
        "pragma" => (
            Caching,
            "HTTP/1.0's `no-cache`, replaced by Cache-Control (RFC 9111 §5.4).",
        ),
        "vary" => (
            Caching,
            "Which request headers chose this version: a cache keeps one copy per combination (RFC 9110 §12.5.5).",
        ),
        "cookie" => (
            Context,
            "The cookies the browser stored for this site, sent back so the stateless server can recognise the user (RFC 6265 §5.4).",
        ),
        "referer" => (
            Context,
            "The page whose link led here (the misspelling is in the standard) (RFC 9110 §10.1.3).",
        ),
        "authorization" => (
            Context,
            "The client's credentials, sent with every request after a 401 (RFC 9110 §11.6.2).",
        ),
        "www-authenticate" => (
            Context,
            "Sent with 401: how to authenticate, such as Basic with a realm (RFC 9110 §11.6.1).",
        ),
        "from" => (
            Context,
            "An e-mail address of the human behind the client (RFC 9110 §10.1.2).",
        ),
        "origin" => (Context, "The site a script request comes from (RFC 6454)."),
        "content-type" => (
            Delivery,
            "The media type of the body, which decides how it is shown, not the file name (RFC 9110 §8.3).",
        ),
        "content-length" => (
            Delivery,
            "The size of the body in bytes: how the receiver knows where the message ends (RFC 9110 §8.6, RFC 9112 §6.3).",
        ),
        "content-encoding" => (
            Delivery,
            "A compression applied to the body, such as gzip (RFC 9110 §8.4).",
        ),
        "content-language" => (Delivery, "The language of the body (RFC 9110 §8.5)."),
        "content-location" | "content-range" | "content-disposition" => (
            Delivery,
            "More about the body: where it comes from, which part it is, or how to save it (RFC 9110 §8.7, §14.4; RFC 6266).",
        ),
        "set-cookie" => (
            Delivery,
            "The server gives the browser a cookie to store and send back in Cookie (RFC 6265 §4.1).",
        ),
        "location" => (
            Delivery,
            "Where the object now is (with 301, 302...) or what was created (with 201) (RFC 9110 §10.2.2).",
        ),
        "date" => (
            Delivery,
            "When the server generated this message, not when the object changed (RFC 9110 §6.6.1).",
        ),
        "retry-after" => (
            Delivery,
            "How long to wait before trying again (RFC 9110 §10.2.3).",
        ),
        "connection" => (
            Connection,
            "Options for this connection only: `close` ends it after this response; `keep-alive` asks HTTP/1.0 to keep it (RFC 9112 §9.6).",
        ),
        "keep-alive" => (
            Connection,
            "An HTTP/1.0-era extension giving how long an idle persistent connection stays open; not part of HTTP/1.1 (RFC 2068 §19.7.1).",
        ),
        "transfer-encoding" => (
            Connection,
            "How the body is framed on this hop: `chunked` sends it in pieces, each with its size, ending with a zero-size chunk (RFC 9112 §7).",
        ),
        "te" => (
            Connection,
            "The transfer codings the client accepts, and `trailers` (RFC 9110 §10.1.4).",
        ),
        "trailer" => (
            Connection,
            "The header fields that will follow a chunked body (RFC 9110 §6.6.2).",
        ),
        "upgrade" => (
            Connection,
            "Switch this connection to another protocol, such as WebSocket (RFC 9110 §7.8).",
        ),
        "via" => (
            Connection,
            "The proxies the message went through (RFC 9110 §7.6.3).",
        ),
        _ => (
            Other,
            "A header field this lab has no notes on; names are case-insensitive, and unknown fields are ignored by recipients that do not understand them (RFC 9110 §5.1).",
        ),
    }
}

/// Whether a header value is a date (checked against IMF-fixdate).
pub fn is_date_field(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "date"
            | "last-modified"
            | "expires"
            | "if-modified-since"
            | "if-unmodified-since"
            | "retry-after"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_courses_families() {
        for (name, family) in [
            ("User-Agent", Family::Capability),
            ("Accept-Language", Family::Capability),
            ("If-Modified-Since", Family::Caching),
            ("If-None-Match", Family::Caching),
            ("Last-Modified", Family::Caching),
            ("ETag", Family::Caching),
            ("Expires", Family::Caching),
            ("Cache-Control", Family::Caching),
            ("Cookie", Family::Context),
            ("Referer", Family::Context),
            ("Authorization", Family::Context),
            ("Host", Family::Context),
            ("Content-Type", Family::Delivery),
            ("content-length", Family::Delivery),
            ("Set-Cookie", Family::Delivery),
            ("X-Powered-By", Family::Other),
        ] {
            assert_eq!(describe(name).0, family, "{name}");
        }
        assert!(is_date_field("Last-Modified"));
        assert!(!is_date_field("Host"));
    }
}
