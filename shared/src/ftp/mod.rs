//! FTP (RFC 959, with EPSV/EPRT of RFC 2428 and SIZE/MDTM/FEAT of RFC 3659
//! and RFC 2389): the course's example of out-of-band control, where one
//! persistent control connection carries commands and replies and a new data
//! connection carries every file and every listing.
//!
//! - [`command`]: the typed commands, with `parse` and `to_bytes`;
//! - [`reply`]: replies (single and multi-line) and what their code digits mean;
//! - [`frame`]: where a reply ends in a growing buffer (`211-` ... `211 End`);
//! - [`address`]: the host-port arguments of PORT/EPRT and the 227/229 replies,
//!   with the `p1*256+p2` arithmetic shown;
//! - [`list`]: the Unix `ls -l` listing LIST sends on the data connection;
//! - [`session`]: the state the course names (logged in or not, current
//!   directory, transfer type, the pending data connection);
//! - [`path`] and [`fs`]: virtual paths that cannot leave the root, and the
//!   [`fs::FileTree`] trait the server stores files in, with [`fs::MemoryTree`];
//! - [`server`] and [`client`]: sans-IO engines. The server asks its driver to
//!   open, feed and close data connections through [`server::DataRequest`]s;
//!   the client follows a session typed by a student and says which data
//!   connection to open;
//! - [`dissect`]: bytes → [`crate::Dissection`] for commands, replies and listings;
//!   [`data`]: what a data connection carried (a listing, a name list, a file);
//! - [`conversation`]: a control connection cut into messages dissected in the
//!   session's context, for the page's transcript; [`dialogues`]: the course's
//!   sessions to replay.

pub mod address;
pub mod client;
pub mod command;
pub mod conversation;
pub mod data;
pub mod dialogues;
pub mod dissect;
pub mod frame;
pub mod fs;
pub mod list;
pub mod path;
pub mod reply;
pub mod server;
pub mod session;

pub use address::{HostPort, port_argument};
pub use client::{ClientEvent, FtpClient};
pub use command::Command;
pub use fs::{FileTree, FsError, MemoryTree};
pub use reply::Reply;
pub use server::{DataConnId, DataEvent, DataRequest, FtpServer, ServerEvent, ServerSettings};
pub use session::{DataKind, DataSetup, LoginState, SessionState, TransferType};

/// The control connection's well-known port (RFC 959 §3.2, the course's "port 21").
pub const CONTROL_PORT: u16 = 21;

/// Longest command or reply line the engines buffer. RFC 959 sets no limit;
/// real servers use a few hundred bytes to a few KiB.
pub const MAX_LINE: usize = 4096;
