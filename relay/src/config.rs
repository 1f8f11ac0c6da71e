//! The relay's configuration: defaults, the TOML file and the command-line
//! overrides, merged in that order into one [`Config`].
//!
//! Every option can be set in the file; the command line only overrides the
//! common ones. Unknown keys in the file are errors, so a typo does not
//! silently keep a default. `wirelab print-config` shows the merged result.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// Everything the relay needs to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the web server (the page, `/ws`, `/api`).
    pub bind: IpAddr,
    pub port: u16,
    /// The built site (`cargo xtask dist` writes it to `dist/`).
    pub dist: PathBuf,
    /// Where the reference servers keep their data. Defaults to the user's
    /// data directory (`~/.local/share/wirelab` on Linux).
    pub data_dir: Option<PathBuf>,
    pub limits: Limits,
    pub servers: Servers,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: LOOPBACK,
            port: 8080,
            dist: PathBuf::from("dist"),
            data_dir: None,
            limits: Limits::default(),
            servers: Servers::default(),
        }
    }
}

/// Bounds on what one WebSocket session may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A session with no traffic either way for this long is closed.
    pub idle_timeout_secs: f64,
    /// Largest WebSocket message the page may send (one TCP write, one datagram).
    pub max_frame_bytes: usize,
    /// How long to wait for a TCP connection to a target.
    pub connect_timeout_secs: f64,
    /// A reference-server connection with no traffic for this long is closed.
    pub server_idle_timeout_secs: f64,
    /// Connections each reference server accepts at once.
    pub server_max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle_timeout_secs: 300.0,
            max_frame_bytes: 64 * 1024,
            connect_timeout_secs: 5.0,
            server_idle_timeout_secs: 600.0,
            server_max_connections: 256,
        }
    }
}

impl Limits {
    pub fn idle_timeout(&self) -> Duration {
        seconds(self.idle_timeout_secs)
    }

    pub fn connect_timeout(&self) -> Duration {
        seconds(self.connect_timeout_secs)
    }

    pub fn server_idle_timeout(&self) -> Duration {
        seconds(self.server_idle_timeout_secs)
    }
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// The reference servers. Each protocol has its own table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Servers {
    /// Start the reference servers at all.
    pub enabled: bool,
    /// The address every reference server listens on.
    pub host: IpAddr,
    pub upper: UpperServer,
    pub smtp: SmtpServer,
    pub pop3: Pop3Server,
    /// The mailboxes both mail servers share.
    pub mail: MailStorage,
}

impl Default for Servers {
    fn default() -> Self {
        Servers {
            enabled: true,
            host: LOOPBACK,
            upper: UpperServer::default(),
            smtp: SmtpServer::default(),
            pop3: Pop3Server::default(),
            mail: MailStorage::default(),
        }
    }
}

/// The SMTP server of the mail chapter (the course's `hamburger.edu`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpServer {
    pub port: u16,
    /// The name in the greeting and in the Received lines it adds.
    pub hostname: String,
    /// The largest message accepted (announced as SIZE after EHLO).
    pub max_message_bytes: usize,
    pub max_recipients: usize,
}

impl Default for SmtpServer {
    fn default() -> Self {
        SmtpServer {
            port: 2525,
            hostname: "hamburger.edu".into(),
            max_message_bytes: 10 * 1024 * 1024,
            max_recipients: 100,
        }
    }
}

/// The POP3 server of the mail chapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pop3Server {
    pub port: u16,
}

impl Default for Pop3Server {
    fn default() -> Self {
        Pop3Server { port: 1110 }
    }
}

/// The mailboxes (Maildir folders under `<data_dir>/mail/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailStorage {
    /// A mailbox that holds this much refuses more mail (452 / 552).
    pub max_mailbox_bytes: u64,
    /// Every mailbox; mail for other users of their domains gets
    /// `550 No such user here`, mail for other domains is refused.
    pub mailboxes: Vec<Mailbox>,
}

impl Default for MailStorage {
    fn default() -> Self {
        MailStorage {
            max_mailbox_bytes: 50 * 1024 * 1024,
            mailboxes: wirelab_shared::mail::store::course_accounts()
                .into_iter()
                .map(|a| Mailbox {
                    address: a.address,
                    password: a.password,
                    seed: a.seed,
                })
                .collect(),
        }
    }
}

/// One mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub address: String,
    /// The POP3 password (USER is the address, or its local part).
    pub password: String,
    /// Put the course's two messages (498 and 912 octets) in it when it is
    /// created or reset.
    #[serde(default)]
    pub seed: bool,
}

/// The uppercase servers of the socket chapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpperServer {
    pub tcp_port: u16,
    pub udp_port: u16,
}

impl Default for UpperServer {
    fn default() -> Self {
        UpperServer {
            tcp_port: 12000,
            udp_port: 12000,
        }
    }
}

impl Config {
    /// Reads a TOML file; missing keys keep their defaults.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Config> {
        Ok(toml::from_str(text)?)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// A configuration for tests: every listener on 127.0.0.1 port 0 (the
    /// system picks free ports), data in `data_dir`.
    pub fn ephemeral(data_dir: &Path) -> Config {
        let mut config = Config {
            port: 0,
            data_dir: Some(data_dir.to_path_buf()),
            ..Config::default()
        };
        config.servers.upper.tcp_port = 0;
        config.servers.upper.udp_port = 0;
        config.servers.smtp.port = 0;
        config.servers.pop3.port = 0;
        config
    }

    /// The data directory, with the default filled in.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }
}

/// `~/.local/share/wirelab` (or the platform's equivalent), falling back to
/// `./wirelab-data` where the platform has none.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .map(|d| d.join("wirelab"))
        .unwrap_or_else(|| PathBuf::from("wirelab-data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_readme() {
        let c = Config::default();
        assert_eq!(c.bind.to_string(), "127.0.0.1");
        assert_eq!(c.port, 8080);
        assert_eq!(c.servers.upper.tcp_port, 12000);
        assert_eq!(c.servers.upper.udp_port, 12000);
        assert_eq!(c.servers.smtp.port, 2525);
        assert_eq!(c.servers.smtp.hostname, "hamburger.edu");
        assert_eq!(c.servers.pop3.port, 1110);
        let boxes: Vec<_> = c
            .servers
            .mail
            .mailboxes
            .iter()
            .map(|m| (m.address.as_str(), m.password.as_str(), m.seed))
            .collect();
        assert_eq!(
            boxes,
            [
                ("bob@hamburger.edu", "hungry", true),
                ("alice@crepes.fr", "crepes", false)
            ]
        );
    }

    #[test]
    fn mailboxes_replace_the_defaults() {
        let c = Config::from_toml(
            "[servers.smtp]\nport = 25\n\n[[servers.mail.mailboxes]]\naddress = \"carol@example.org\"\npassword = \"x\"\n",
        )
        .unwrap();
        assert_eq!(c.servers.smtp.port, 25);
        assert_eq!(c.servers.mail.mailboxes.len(), 1);
        assert!(!c.servers.mail.mailboxes[0].seed);
        assert!(Config::from_toml("[servers.pop3]\nprot = 1\n").is_err());
    }

    #[test]
    fn file_overrides_only_what_it_names() {
        let c = Config::from_toml("port = 9000\n[servers.upper]\ntcp_port = 13000\n").unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.servers.upper.tcp_port, 13000);
        assert_eq!(c.servers.upper.udp_port, 12000);
        assert_eq!(c.limits, Limits::default());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::from_toml("prot = 9000\n").unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }

    #[test]
    fn printed_config_reads_back() {
        let mut c = Config {
            data_dir: Some(PathBuf::from("/tmp/x")),
            ..Config::default()
        };
        c.limits.idle_timeout_secs = 1.5;
        assert_eq!(Config::from_toml(&c.to_toml()).unwrap(), c);
        assert_eq!(c.limits.idle_timeout(), Duration::from_millis(1500));
    }
}
