//! Panes and controls shared by the workbenches: the inspector (dissection
//! tree, bytes, diagnostics), the timeline, the transcripts, the target
//! picker and the relay badge.

pub mod inspector;
pub mod messages;
pub mod recording;
pub mod relay_status;
pub mod target_picker;
pub mod timeline;
