//! The `wirelab` command line: `serve` (the default), `dissect`,
//! `print-config` and `class` (the instructor's classes, worked on in the
//! data directory, so it needs no running relay). Options given here
//! override the config file, which overrides the defaults.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::io::Read;
use std::net::IpAddr;
use std::path::PathBuf;
use wirelab_shared::kinds;

#[derive(Debug, Parser)]
#[command(
    name = "wirelab",
    version,
    about = "wirelab relay: the page, the WebSocket bridge to TCP/UDP, and the reference servers",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, which runs when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the page, /ws and the reference servers (the default).
    Serve(ServeArgs),
    /// Dissect one message and print its dissection as JSON.
    #[command(after_help = kinds_help())]
    Dissect(DissectArgs),
    /// Print the configuration that `serve` would use, as TOML.
    PrintConfig(ServeArgs),
    /// Make, list, inspect and close classroom classes.
    Class(ClassArgs),
    /// Empty a mailbox and put its seed messages back (bob's two messages
    /// of the course). Run it while the relay is stopped, or use
    /// `POST /api/mailboxes/<address>/reset` on a running relay.
    ResetMailbox(ResetArgs),
}

#[derive(Debug, Args)]
pub struct ClassArgs {
    #[command(subcommand)]
    pub action: ClassAction,
}

/// Each class command takes the relay's options: the config file and data
/// directory to work on, and the relay's address for join links.
#[derive(Debug, Subcommand)]
pub enum ClassAction {
    /// Make a class and print its join link.
    Create {
        /// The class's name, shown to students.
        #[arg(long)]
        name: String,
        /// Catalog targets students may open, comma-separated [default: all].
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
        /// Let students type their own host and port (the policy's rules
        /// still decide which are allowed).
        #[arg(long)]
        custom_targets: bool,
        /// How long a student's token lasts, in seconds
        /// [default: classroom.token_ttl_secs].
        #[arg(long, value_name = "SECS")]
        token_ttl: Option<u64>,
        #[command(flatten)]
        relay: ServeArgs,
    },
    /// List the classes.
    List {
        #[command(flatten)]
        relay: ServeArgs,
    },
    /// Show a class's students and their sessions, as JSON.
    Show {
        id: String,
        #[command(flatten)]
        relay: ServeArgs,
    },
    /// Close a class: its join link and its students' tokens stop working.
    Close {
        id: String,
        #[command(flatten)]
        relay: ServeArgs,
    },
}

impl ClassAction {
    fn relay(&self) -> &ServeArgs {
        match self {
            ClassAction::Create { relay, .. }
            | ClassAction::List { relay }
            | ClassAction::Show { relay, .. }
            | ClassAction::Close { relay, .. } => relay,
        }
    }
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The mailbox, such as bob@hamburger.edu.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub address: Option<String>,
    /// Reset every configured mailbox.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Runs `wirelab reset-mailbox`: returns what was reset, one line each.
pub fn reset_mailbox(args: &ResetArgs) -> Result<String> {
    let config = args.serve.load()?;
    let root = config.data_dir().join("mail");
    let store = crate::maildir::MaildirStore::open(&root, &config.servers.mail)
        .with_context(|| format!("cannot open the mailboxes in {}", root.display()))?;
    let targets = match &args.address {
        Some(a) => vec![a.clone()],
        None => store.addresses(),
    };
    let mut out = String::new();
    for address in targets {
        store
            .reset(&address)
            .with_context(|| format!("cannot reset {address}"))?;
        let summary = store
            .summaries()
            .into_iter()
            .find(|s| s.address == address.to_ascii_lowercase());
        let (n, bytes) = summary.map_or((0, 0), |s| (s.messages, s.bytes));
        out.push_str(&format!(
            "{address}: reset, {n} message(s), {bytes} octets\n"
        ));
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// A TOML file with any of the options (see `wirelab print-config`).
    #[arg(long, env = "WIRELAB_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address of the web server [default: 127.0.0.1].
    #[arg(long)]
    pub bind: Option<IpAddr>,
    /// Port of the web server [default: 8080].
    #[arg(long)]
    pub port: Option<u16>,
    /// The built site to serve [default: dist].
    #[arg(long)]
    pub dist: Option<PathBuf>,
    /// Where the reference servers keep mailboxes, files and zones
    /// [default: the user's data directory, e.g. ~/.local/share/wirelab].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Close a WebSocket session after this many idle seconds [default: 300].
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<f64>,
    /// Address the reference servers listen on [default: 127.0.0.1].
    #[arg(long, value_name = "IP")]
    pub servers_host: Option<IpAddr>,
    /// Do not start the reference servers.
    #[arg(long)]
    pub no_servers: bool,
    /// Classroom mode: require a class token on /ws and the APIs.
    #[arg(long)]
    pub classroom: bool,
    /// Let the page reach your own programs on this machine's loopback
    /// ports (never the relay's own). Only with a loopback bind, never in
    /// classroom mode.
    #[arg(long)]
    pub local_programs: bool,
}

impl ServeArgs {
    /// The config file (if any) with these options applied on top.
    pub fn load(&self) -> Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(v) = self.bind {
            config.bind = v;
        }
        if let Some(v) = self.port {
            config.port = v;
        }
        if let Some(v) = &self.dist {
            config.dist = v.clone();
        }
        if let Some(v) = &self.data_dir {
            config.data_dir = Some(v.clone());
        }
        if let Some(v) = self.idle_timeout {
            if !(v.is_finite() && v > 0.0) {
                bail!("--idle-timeout must be a positive number of seconds");
            }
            config.limits.idle_timeout_secs = v;
        }
        if let Some(v) = self.servers_host {
            config.servers.host = v;
        }
        if self.no_servers {
            config.servers.enabled = false;
        }
        if self.classroom {
            config.classroom.enabled = true;
        }
        if self.local_programs {
            config.local_programs = true;
        }
        config.validate()?;
        Ok(config)
    }
}

#[derive(Debug, Args)]
pub struct DissectArgs {
    /// What the input is (see the list below).
    pub kind: String,
    /// The file holding one message; standard input if absent or `-`.
    pub file: Option<PathBuf>,
    /// Print the JSON on one line.
    #[arg(long)]
    pub compact: bool,
}

fn kinds_help() -> String {
    let mut help = String::from("Kinds:\n");
    for kind in kinds::KINDS {
        help.push_str(&format!("  {:<16} {}\n", kind.name, kind.description));
    }
    help
}

/// Runs `wirelab dissect`: the JSON of the dissection, or an error that lists
/// the kinds when the kind is unknown.
pub fn dissect(args: &DissectArgs) -> Result<String> {
    let Some(kind) = kinds::find(&args.kind) else {
        let names: Vec<_> = kinds::KINDS.iter().map(|k| k.name).collect();
        bail!(
            "unknown kind {:?}; the kinds are: {}",
            args.kind,
            names.join(", ")
        );
    };
    let bytes = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            bytes
        }
    };
    let dissection = (kind.dissect)(&bytes);
    let json = if args.compact {
        serde_json::to_string(&dissection)?
    } else {
        serde_json::to_string_pretty(&dissection)?
    };
    Ok(json)
}

/// Runs `wirelab class ...`, returning what to print.
pub fn class(args: &ClassArgs) -> Result<String> {
    use crate::classroom::store::{ClassStore, NewClass};
    let config = args.action.relay().load()?;
    let store = ClassStore::open(&config.data_dir())?;
    let base = config.public_url.clone().unwrap_or_else(|| {
        let host = if config.bind.is_unspecified() {
            "127.0.0.1".to_string()
        } else if config.bind.is_ipv6() {
            format!("[{}]", config.bind)
        } else {
            config.bind.to_string()
        };
        format!("http://{host}:{}", config.port)
    });
    let link = |code: &str| format!("{}/join/{code}", base.trim_end_matches('/'));
    let note = if config.classroom.enabled {
        ""
    } else {
        "\nnote: classroom mode is off in this configuration; start the relay with --classroom \
         (or [classroom] enabled = true) for the link to work."
    };
    Ok(match &args.action {
        ClassAction::Create {
            name,
            targets,
            custom_targets,
            token_ttl,
            ..
        } => {
            let class = store.create(
                NewClass {
                    name: name.clone(),
                    targets: targets.clone(),
                    custom_targets: *custom_targets,
                    token_ttl_secs: *token_ttl,
                },
                crate::classroom::unix_now(),
            )?;
            format!(
                "class {} ({:?}) created\njoin link: {}{note}",
                class.id,
                class.name,
                link(&class.join_code)
            )
        }
        ClassAction::List { .. } => {
            let mut out = String::new();
            for c in store.list()? {
                out.push_str(&format!(
                    "{}  {:<8} {:?}  {}\n",
                    c.id,
                    if c.closed { "closed" } else { "open" },
                    c.name,
                    link(&c.join_code)
                ));
            }
            if out.is_empty() {
                out.push_str("no classes yet (wirelab class create --name ...)\n");
            }
            out.trim_end().to_string()
        }
        ClassAction::Show { id, .. } => {
            let class = store
                .get(id)?
                .with_context(|| format!("there is no class {id:?}"))?;
            let json = serde_json::json!({
                "class": class,
                "join_url": link(&class.join_code),
                "students": store.students(id)?,
                "sessions": store.sessions(id)?,
            });
            serde_json::to_string_pretty(&json)?
        }
        ClassAction::Close { id, .. } => {
            let class = store.close(id)?;
            format!("class {} ({:?}) closed", class.id, class.name)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_programs_is_one_flag_refused_with_a_classroom_or_an_open_bind() {
        let load = |args: &[&str]| {
            let argv = [&["wirelab"][..], args].concat();
            Cli::try_parse_from(argv).unwrap().serve.load()
        };
        assert!(!load(&[]).unwrap().local_programs);
        assert!(load(&["--local-programs"]).unwrap().local_programs);
        for refused in [&["--classroom"][..], &["--bind", "0.0.0.0"]] {
            let error = load(&[&["--local-programs"][..], refused].concat()).unwrap_err();
            assert!(error.to_string().contains("local_programs"), "{error:#}");
        }
        assert!(load(&["--classroom"]).is_ok());
    }

    #[test]
    fn serve_is_the_default_and_options_override_the_file() {
        let cli = Cli::try_parse_from(["wirelab", "--port", "9999", "--no-servers"]).unwrap();
        assert!(cli.command.is_none());
        let config = cli.serve.load().unwrap();
        assert_eq!(config.port, 9999);
        assert!(!config.servers.enabled);
        let cli = Cli::try_parse_from(["wirelab", "serve", "--bind", "0.0.0.0"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.load().unwrap().bind.to_string(), "0.0.0.0");
    }

    #[test]
    fn dissect_reports_unknown_kinds_and_unreadable_files() {
        let err = dissect(&DissectArgs {
            kind: "carrier-pigeon".into(),
            file: None,
            compact: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("the kinds are: line"), "{err}");
        let err = dissect(&DissectArgs {
            kind: "line".into(),
            file: Some("/nonexistent/message".into()),
            compact: false,
        })
        .unwrap_err();
        assert!(err.to_string().contains("cannot read /nonexistent/message"));
    }

    #[test]
    fn classes_are_made_and_closed_from_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let run = |args: &[&str]| {
            let mut argv = vec!["wirelab", "class"];
            argv.extend_from_slice(args);
            argv.extend_from_slice(&["--data-dir", data, "--classroom"]);
            let cli = Cli::try_parse_from(argv).unwrap();
            let Some(Command::Class(args)) = cli.command else {
                panic!("expected class");
            };
            class(&args).unwrap()
        };
        let out = run(&[
            "create",
            "--name",
            "Lab 3",
            "--targets",
            "upper-tcp,upper-udp",
        ]);
        assert!(
            out.contains("join link: http://127.0.0.1:8080/join/"),
            "{out}"
        );
        let id = out.split_whitespace().nth(1).unwrap().to_string();
        assert!(run(&["list"]).contains("open"));
        let shown: serde_json::Value = serde_json::from_str(&run(&["show", &id])).unwrap();
        assert_eq!(shown["class"]["targets"][1], "upper-udp");
        assert!(run(&["close", &id]).contains("closed"));
        assert!(run(&["list"]).contains("closed"));
    }

    #[test]
    fn bad_idle_timeout_is_refused() {
        let cli = Cli::try_parse_from(["wirelab", "--idle-timeout=-1"]).unwrap();
        assert!(cli.serve.load().is_err());
    }
}
