//! The reference web server (catalog `http`): drives
//! [`wirelab_shared::http::server`]'s engine over TCP, with the uploads of
//! `/upload/` kept in a folder of the data directory and the bounds of
//! `[servers.http]` (sizes, time to send a request, pipelining) given to
//! every connection. With the CDN's replicas running, it is also the
//! content provider's origin server www.sina.com, whose base page names
//! the replicas' port ([`wirelab_shared::http::cdn`]).

use super::{ServerContext, bind_tcp};
use crate::driver::serve_tcp;
use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use wirelab_shared::http::cdn;
use wirelab_shared::http::server::{Endpoints, HttpServerConnection};
use wirelab_shared::http::site::{Credentials, WebSite};
use wirelab_shared::http::store::{FileStore, StoreError, StoredFile, UploadName};
use wirelab_shared::relay_protocol::{TargetInfo, Transport};

/// Starts the web server; `cdn_port` is the CDN replicas' port, if they
/// run.
pub async fn start(ctx: &ServerContext<'_>, cdn_port: Option<u16>) -> Result<Vec<TargetInfo>> {
    let cfg = &ctx.config.servers.http;
    let uploads = DiskFileStore::open(&ctx.data_dir.join("http").join("upload"))?;
    let mut site = WebSite::new(
        Arc::new(uploads),
        Credentials {
            user: cfg.user.clone(),
            password: cfg.password.clone(),
            realm: "wirelab private area".into(),
        },
    );
    site.keep_alive_secs = cfg.keep_alive_secs;
    site.upload_quota = cfg.upload_quota_bytes;
    if let Some(port) = cdn_port {
        site.files.extend(cdn::origin_files(port));
    }
    let listener = bind_tcp(
        SocketAddr::new(ctx.config.servers.host, cfg.port),
        "the web server (http)",
        "servers.http.port",
    )
    .await?;
    let addr = listener.local_addr()?;
    serve_site(ctx, "http", listener, site);
    Ok(vec![TargetInfo {
        name: "http".into(),
        transport: Transport::Tcp,
        host: addr.ip().to_string(),
        port: addr.port(),
        protocol: "http".into(),
        description: "Web server with the course's pages: conditional GET, cookies, forms, Basic auth, chunks, PUT/DELETE".into(),
        data_ports: None,
    }])
}

/// Serves `site` on `listener` with the bounds of `[servers.http]`; `name`
/// is the server's in logs (the CDN's replicas use it too).
pub fn serve_site(
    ctx: &ServerContext<'_>,
    name: &'static str,
    listener: tokio::net::TcpListener,
    site: WebSite,
) {
    let site = Arc::new(site);
    let epoch = unix_now();
    let limits = ctx.config.servers.http.limits();
    serve_tcp(
        listener,
        ctx.tcp_settings(name)
            .with_busy_reply(wirelab_shared::busy::http()),
        move |peer| {
            HttpServerConnection::new(
                site.clone(),
                Endpoints {
                    remote_ip: peer.remote.ip().to_string(),
                    local_ip: peer.local.ip().to_string(),
                },
                epoch,
            )
            .with_limits(limits)
            .with_local_port(peer.local.port())
        },
        ctx.shutdown.clone(),
        ctx.tracker,
    );
}

/// Seconds since the Unix epoch: the wall clock the web and mail engines
/// start from.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `/upload/` on disk: one file per checked name in one folder. Names are
/// validated by [`UploadName`] before they get here, and symbolic links are
/// never followed, so nothing outside the folder is read or written.
pub struct DiskFileStore {
    dir: PathBuf,
}

impl DiskFileStore {
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(DiskFileStore {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, name: &UploadName) -> PathBuf {
        self.dir.join(name.as_str())
    }

    /// The file at `path`, if it is a regular file and not a link.
    fn regular(path: &Path) -> Result<Option<std::fs::Metadata>, StoreError> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_file() => Ok(Some(meta)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError(e.to_string())),
        }
    }
}

fn modified_unix(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl FileStore for DiskFileStore {
    fn get(&self, name: &UploadName) -> Result<Option<StoredFile>, StoreError> {
        let path = self.path(name);
        let Some(meta) = Self::regular(&path)? else {
            return Ok(None);
        };
        let bytes = std::fs::read(&path).map_err(|e| StoreError(e.to_string()))?;
        Ok(Some(StoredFile {
            bytes,
            modified_unix: modified_unix(&meta),
        }))
    }

    fn put(
        &self,
        name: &UploadName,
        bytes: &[u8],
        _modified_unix: i64,
    ) -> Result<bool, StoreError> {
        let path = self.path(name);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.file_type().is_file()) {
            return Err(StoreError(format!(
                "{} is not a regular file",
                name.as_str()
            )));
        }
        let existed = Self::regular(&path)?.is_some();
        // Write aside, then rename: a reader never sees half a file.
        let temporary = self.dir.join(format!(".partial-{}", name.as_str()));
        std::fs::write(&temporary, bytes).map_err(|e| StoreError(e.to_string()))?;
        std::fs::rename(&temporary, &path).map_err(|e| StoreError(e.to_string()))?;
        Ok(!existed)
    }

    fn delete(&self, name: &UploadName) -> Result<bool, StoreError> {
        let path = self.path(name);
        if Self::regular(&path)?.is_none() {
            return Ok(false);
        }
        std::fs::remove_file(&path).map_err(|e| StoreError(e.to_string()))?;
        Ok(true)
    }

    fn list(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| StoreError(e.to_string()))? {
            let entry = entry.map_err(|e| StoreError(e.to_string()))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if UploadName::new(&name).is_err() {
                continue;
            }
            if let Ok(meta) = std::fs::symlink_metadata(entry.path())
                && meta.file_type().is_file()
            {
                files.push((name, meta.len()));
            }
        }
        files.sort();
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_store_round_trip_and_refuses_links() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskFileStore::open(&dir.path().join("upload")).unwrap();
        let name = UploadName::new("a.txt").unwrap();
        assert!(store.put(&name, b"one", 0).unwrap());
        assert!(!store.put(&name, b"two", 0).unwrap());
        assert_eq!(store.get(&name).unwrap().unwrap().bytes, b"two");
        assert_eq!(store.list().unwrap(), vec![("a.txt".into(), 3)]);
        // A link planted in the folder is never followed.
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "top secret").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, dir.path().join("upload/link")).unwrap();
            let link = UploadName::new("link").unwrap();
            assert!(store.get(&link).unwrap().is_none());
            assert!(store.put(&link, b"x", 0).is_err());
            assert!(!store.delete(&link).unwrap());
            assert_eq!(std::fs::read_to_string(&secret).unwrap(), "top secret");
        }
        assert!(store.delete(&name).unwrap());
        assert!(store.get(&name).unwrap().is_none());
    }
}
