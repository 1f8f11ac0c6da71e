//! HTTP/1.0 and HTTP/1.1 (RFC 9110, 9112): reading messages with byte spans
//! ([`message`]), finding where they end in a stream ([`frame`]),
//! dissecting them for the student ([`dissect`]), and the pieces those need
//! (dates, cookies, URLs and forms, what headers and status codes mean).
//! The reference web server and the client-side conversation tracker are
//! sans-IO engines built on these; [`cdn`] is the content provider's and
//! the CDN's document sets, [`cdn_route`] the report of which replica
//! served which object.

pub mod book_server;
pub mod cache;
pub mod cache_demo;
pub mod cache_store;
pub mod cdn;
pub mod cdn_route;
pub mod cgi;
pub mod conversation;
pub mod cookie;
pub mod date;
pub mod dissect;
pub mod draft;
pub mod frame;
pub mod headers;
pub mod message;
pub mod page_load;
pub mod proxy;
pub mod response;
pub mod response_time;
pub mod server;
pub mod site;
pub mod status;
pub mod store;
pub mod templates;
pub mod url;

pub use dissect::{dissect_message, dissect_request, dissect_response, dissect_response_to};
