//! The paths the page's router knows. The relay answers each with the page
//! and status 200, and any other path that is not a file with the page and
//! status 404, so a mistyped link is a 404 for browsers, crawlers and
//! scripts alike while the page still shows its own "not found" view.
//!
//! The frontend's `Route` enum must list the same paths; a native test of
//! the frontend (`frontend/tests/page_paths.rs`) checks that it does.

/// Every path the page's router shows a page for (its not-found view aside),
/// the hidden `/bench` (the dissectors timed in the browser) and
/// `/instructor` (the classroom's instructor) among them.
pub const PAGE_PATHS: &[&str] = &[
    "/",
    "/http",
    "/response-time",
    "/caching",
    "/smtp",
    "/pop3",
    "/imap",
    "/ftp",
    "/dns",
    "/sockets",
    "/p2p",
    "/bench",
    "/instructor",
];

/// Whether the page's router knows `path` (a URL path, without its query).
/// The router ignores one trailing slash, so `/http/` is `/http`.
pub fn is_page_path(path: &str) -> bool {
    let trimmed = match path.strip_suffix('/') {
        Some("") | None => path,
        Some(rest) => rest,
    };
    PAGE_PATHS.contains(&trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_and_their_trailing_slash_are_pages() {
        for path in ["/", "/http", "/http/", "/sockets", "/dns/", "/caching"] {
            assert!(is_page_path(path), "{path}");
        }
    }

    #[test]
    fn anything_else_is_not() {
        for path in [
            "",
            "/instructors",
            "/http/extra",
            "/HTTP",
            "/404",
            "/sockets//",
        ] {
            assert!(!is_page_path(path), "{path}");
        }
    }
}
