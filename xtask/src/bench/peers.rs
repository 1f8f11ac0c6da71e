//! The peers the relay is compared with, each started on a free loopback
//! port with a configuration of its own in the run's folder: websocat and
//! websockify bridging to the echo server, unbound answering the one record
//! as local-data with one thread, nginx serving the course's page with one
//! worker, squid caching in memory with one worker. Each lives as long as
//! its [`Running`].

use super::tools::{self, Running};
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long a peer may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Starts `cmd` and waits until it listens on `port`.
fn start(name: &'static str, cmd: &mut Command, port: u16) -> Result<(Running, SocketAddr)> {
    let mut peer = Running::spawn(name, cmd.stdout(Stdio::null()).stderr(Stdio::null()))?;
    peer.wait_for(loopback(port), START_TIMEOUT)?;
    Ok((peer, loopback(port)))
}

/// websocat bridging WebSocket binary messages to the echo server.
pub fn websocat(echo: SocketAddr) -> Result<(Running, SocketAddr)> {
    let port = tools::free_port()?;
    let mut cmd = Command::new("websocat");
    // -E: a session ends when either side closes, as the relay's do.
    cmd.args(["-E", "--binary", &format!("ws-l:127.0.0.1:{port}")])
        .arg(format!("tcp:{echo}"));
    start("websocat", &mut cmd, port)
}

/// websockify bridging to the echo server.
pub fn websockify(echo: SocketAddr) -> Result<(Running, SocketAddr)> {
    let port = tools::free_port()?;
    let mut cmd = Command::new("websockify");
    cmd.arg(format!("127.0.0.1:{port}")).arg(echo.to_string());
    start("websockify", &mut cmd, port)
}

/// unbound with `gaia.cs.umass.edu A` as local-data, one thread, in the
/// foreground, no chroot and no user change.
pub fn unbound(dir: &Path) -> Result<(Running, SocketAddr)> {
    let port = tools::free_port()?;
    let config = dir.join("unbound.conf");
    let text = format!(
        "server:\n  interface: 127.0.0.1\n  port: {port}\n  num-threads: 1\n  do-daemonize: no\n  \
         chroot: \"\"\n  username: \"\"\n  directory: \"{dir}\"\n  pidfile: \"{dir}/unbound.pid\"\n  \
         use-syslog: no\n  logfile: \"\"\n  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n  \
         local-data: \"gaia.cs.umass.edu. A 128.119.245.12\"\n\
         remote-control:\n  control-enable: no\n",
        dir = dir.display()
    );
    std::fs::write(&config, text)?;
    let mut cmd = Command::new("unbound");
    cmd.arg("-d").arg("-c").arg(&config);
    start("unbound", &mut cmd, port)
}

/// nginx with one worker serving `page` at `/<path>` from a folder of its
/// own, access log off.
pub fn nginx(dir: &Path, page: &Path, path: &str) -> Result<(Running, SocketAddr)> {
    let port = tools::free_port()?;
    let root = dir.join("www");
    let served = root.join(path);
    std::fs::create_dir_all(served.parent().context("the page's folder")?)?;
    std::fs::copy(page, &served).with_context(|| format!("copying {}", page.display()))?;
    let config = dir.join("nginx.conf");
    // Workers run as the user who starts nginx (as `nobody`, root's could
    // not read a private temporary folder); a keep-alive connection ends
    // after 100 requests, as the relay's does (`MAX_REQUESTS_PER_CONNECTION`
    // in the shared HTTP server), so that wrk reconnects as often to both.
    let user = if super::is_root() { "user root;\n" } else { "" };
    let text = format!(
        "{user}worker_processes 1;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/nginx-error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  default_type text/html;\n  keepalive_requests 100;\n  \
         client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n  \
         server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
        dir = dir.display(),
        root = root.display()
    );
    std::fs::write(&config, text)?;
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&config).arg("-p").arg(dir);
    start("nginx", &mut cmd, port)
}

/// squid as a forward proxy on loopback: one worker, the cache in memory
/// only, no logs, in the foreground, stopping at once when asked (it
/// waits 30 s for its clients by default). Started as root it runs as its
/// own user, so nothing it writes goes to the run's folder.
pub fn squid(dir: &Path) -> Result<(Running, SocketAddr)> {
    let port = tools::free_port()?;
    let config = dir.join("squid.conf");
    let text = format!(
        "http_port 127.0.0.1:{port}\nworkers 1\nicp_port 0\nhtcp_port 0\n\
         cache_mem 64 MB\nmaximum_object_size_in_memory 1 MB\n\
         access_log none\ncache_log /dev/null\ncache_store_log none\npid_filename none\n\
         coredump_dir none\nvisible_hostname wirelab-bench\nshutdown_lifetime 0 seconds\n\
         acl lab src 127.0.0.0/8\nhttp_access allow lab\nhttp_access deny all\n"
    );
    std::fs::write(&config, text)?;
    let mut cmd = Command::new("squid");
    cmd.arg("-N").arg("-f").arg(&config);
    start("squid", &mut cmd, port)
}

/// Who logs in to Dovecot, and the Maildir it serves them.
pub struct DovecotUser<'a> {
    pub name: &'a str,
    pub password: &'a str,
    pub maildir: &'a Path,
}

/// Dovecot's IMAP on loopback, in the foreground, with a configuration of
/// its own: no TLS, plain LOGIN allowed, one passwd-file user whose INBOX
/// is `user.maildir`, limits raised for 100 sessions from one address,
/// and the login processes in Dovecot's high-performance mode (each
/// serving many connections). Started as root, the mail is read as
/// Dovecot's own user (it refuses uid 0), which then owns the Maildir.
pub fn dovecot(dir: &Path, user: &DovecotUser) -> Result<(Running, SocketAddr)> {
    let port = tools::free_port()?;
    let (internal, login, uid) = if super::is_root() {
        let uid = super::command_line("id", &["-u", "dovecot"]);
        let gid = super::command_line("id", &["-g", "dovecot"]);
        chown_all(user.maildir, &uid, &gid)?;
        ("dovecot".to_string(), "dovenull".to_string(), (uid, gid))
    } else {
        let me = super::command_line("id", &["-un"]);
        let ids = (
            super::command_line("id", &["-u"]),
            super::command_line("id", &["-g"]),
        );
        (me.clone(), me, ids)
    };
    let passwd = dir.join("dovecot.passwd");
    std::fs::write(
        &passwd,
        format!(
            "{}:{{PLAIN}}{}:{}:{}::{}\n",
            user.name,
            user.password,
            uid.0,
            uid.1,
            dir.display()
        ),
    )?;
    let config = dir.join("dovecot.conf");
    let text = format!(
        "protocols = imap\nlisten = 127.0.0.1\ninstance_name = wirelab-bench-{pid}\n\
         base_dir = {dir}/dovecot-run\nstate_dir = {dir}/dovecot-state\n\
         log_path = {dir}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\n\
         auth_mechanisms = plain\nmail_location = maildir:{maildir}\n\
         first_valid_uid = 1\ndefault_internal_user = {internal}\ndefault_login_user = {login}\n\
         default_process_limit = 1000\ndefault_client_limit = 10000\n\
         protocol imap {{\n  mail_max_userip_connections = 10000\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
         inet_listener imaps {{\n    port = 0\n  }}\n  service_count = 0\n  process_min_avail = 2\n}}\n\
         service anvil {{\n  chroot =\n}}\n\
         passdb {{\n  driver = passwd-file\n  args = {passwd}\n}}\n\
         userdb {{\n  driver = passwd-file\n  args = {passwd}\n}}\n",
        pid = std::process::id(),
        dir = dir.display(),
        maildir = user.maildir.display(),
        passwd = passwd.display(),
    );
    std::fs::write(&config, text)?;
    let mut cmd = Command::new("dovecot");
    cmd.arg("-F").arg("-c").arg(&config);
    start("dovecot", &mut cmd, port)
}

/// `chown -R uid:gid path`.
fn chown_all(path: &Path, uid: &str, gid: &str) -> Result<()> {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(path)
        .status()
        .context("starting chown")?;
    anyhow::ensure!(status.success(), "chown of {} failed", path.display());
    Ok(())
}
