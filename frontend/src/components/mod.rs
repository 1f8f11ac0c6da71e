//! Panes and controls shared by the workbenches.

pub mod dissection;
pub mod relay_status;
pub mod transcript;
