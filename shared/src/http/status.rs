//! What status codes and methods mean, in a sentence for the student.

/// The standard reason phrase of a status code, if it is a known one.
pub fn reason_phrase(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => return None,
    })
}

/// What a status code tells the client.
pub fn meaning(code: u16) -> String {
    let specific = match code {
        200 => "the request succeeded; the requested object follows",
        201 => "a new resource was created (Location says where)",
        204 => "success, and there is deliberately no body",
        301 => {
            "the object moved for good; Location gives the new URL, which the client uses from now on"
        }
        302 | 307 => "the object is temporarily elsewhere; Location says where",
        303 => "see another URL (Location), typically after a POST",
        304 => {
            "the cached copy is still good: no body, use the copy (the answer to a conditional GET)"
        }
        400 => "the server could not understand the request",
        401 => "credentials are needed: WWW-Authenticate says how, then send Authorization",
        403 => "the server understood but refuses",
        404 => "the server has nothing at this path",
        405 => "this method is not allowed here; Allow lists the methods that are",
        411 => "a body needs a Content-Length",
        413 => "the body is larger than the server accepts",
        431 => "the header section is larger than the server accepts",
        500 => "the server failed",
        501 => "the server does not implement this method",
        503 => "the server is overloaded or down for now",
        505 => "the server does not speak this HTTP version",
        _ => "",
    };
    let class = match code / 100 {
        1 => "1xx informational: the request was received, continue",
        2 => "2xx success: the request was received, understood and accepted",
        3 => "3xx redirection: further action is needed to complete the request",
        4 => "4xx client error: the request is wrong or cannot be fulfilled",
        5 => "5xx server error: the server failed to fulfil a valid request",
        _ => "not a valid status class (the first digit must be 1 to 5)",
    };
    if specific.is_empty() {
        format!("{class} (RFC 9110 §15)")
    } else {
        let mut chars = specific.chars();
        let first = chars
            .next()
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_default();
        format!("{first}{}. {class} (RFC 9110 §15)", chars.as_str())
    }
}

/// What a method does, and since when it exists.
pub fn method_meaning(method: &str) -> Option<&'static str> {
    Some(match method {
        "GET" => "GET: fetch the object at the target (HTTP/1.0; RFC 9110 §9.3.1).",
        "HEAD" => {
            "HEAD: like GET, but the response has no body, only the headers; handy for checking an object (HTTP/1.0; RFC 9110 §9.3.2)."
        }
        "POST" => {
            "POST: send data in the body for the target to process, such as a form (HTTP/1.0; RFC 9110 §9.3.3)."
        }
        "PUT" => {
            "PUT: store the body as the object at the target, creating or replacing it (HTTP/1.1; RFC 9110 §9.3.4)."
        }
        "DELETE" => "DELETE: remove the object at the target (HTTP/1.1; RFC 9110 §9.3.5).",
        "OPTIONS" => "OPTIONS: ask which methods the target supports (HTTP/1.1; RFC 9110 §9.3.7).",
        "TRACE" => {
            "TRACE: the server echoes the request back, for debugging (HTTP/1.1; RFC 9110 §9.3.8)."
        }
        "CONNECT" => "CONNECT: ask a proxy for a tunnel to host:port (RFC 9110 §9.3.6).",
        "PATCH" => "PATCH: change part of the object (RFC 5789).",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_courses_codes() {
        for code in [200, 301, 304, 400, 401, 404, 405, 505] {
            assert!(reason_phrase(code).is_some(), "{code}");
            assert!(!meaning(code).starts_with(' '));
        }
        assert!(meaning(304).contains("conditional GET"));
        assert!(meaning(200).starts_with("The request succeeded"));
        assert!(meaning(299).starts_with("2xx"));
        assert!(meaning(700).contains("not a valid status class"));
        assert!(method_meaning("HEAD").unwrap().contains("no body"));
        assert!(method_meaning("get").is_none());
    }
}
