//! One module per page of the lab.

pub mod caching;
pub mod compose_lab;
pub mod dns;
pub mod ftp;
pub mod home;
pub mod http;
pub mod http_lab;
pub mod imap;
pub mod instructor;
pub mod line_lab;
pub mod not_found;
pub mod p2p;
pub mod pop3;
pub mod response_time;
pub mod smtp;
pub mod sockets;
pub mod workbench;
