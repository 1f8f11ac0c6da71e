//! Panes and controls shared by the workbenches: the inspector (dissection
//! tree, bytes, diagnostics), the timeline, the transcripts, the target
//! picker, the course's dialogues to replay and the relay badge; for the
//! mail pages, a message opened as a mail reader shows it and the server's
//! mailboxes; the keyboard shortcuts dialog; the page's tasks; for the
//! HTTP page, the web cache's view and which CDN replica served which
//! object.

pub mod cache_view;
pub mod cdn_routes;
pub mod dialogue_bar;
pub mod inspector;
pub mod mail_message;
pub mod mailboxes;
pub mod messages;
pub mod recording;
pub mod relay_status;
pub mod shortcuts;
pub mod socket_outcome;
pub mod target_picker;
pub mod tasks;
pub mod timeline;
