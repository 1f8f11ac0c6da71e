//! Hooks shared by the workbenches.

pub mod connection;
