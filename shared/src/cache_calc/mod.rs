//! The course's web-caching arithmetic, as pure functions the page draws
//! and the tests check against the course's own numbers: the access link of
//! §2.9.1 and problem P13 ([`access_link`]), the slides' three wrong
//! utilisations ([`errata`]), and problem P14's URL hashing onto a cluster of
//! caches with consistent hashing beside it ([`url_hash`]).
//!
//! Nothing here reads input from the network: the callers pass numbers a
//! student chose with a slider, and every function answers `None` rather
//! than a division by zero or an infinite delay.

pub mod access_link;
pub mod errata;
pub mod url_hash;
