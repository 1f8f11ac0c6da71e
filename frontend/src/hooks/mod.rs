//! Hooks shared by the workbenches, and the caching proxy's figures for
//! the HTTP page.

pub mod connection;
pub mod proxy_log;
