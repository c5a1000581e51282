//! The state directory: operational state kept outside the lake (the pseudonymisation key and
//! the reject reports, which quote what clerks sent and so are personal data).

use std::path::{Path, PathBuf};

use crate::error::{IngestError, Result};
use crate::pseudo::Key;

/// Where the key came from, so the command can tell the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The `EDULAKE_KEY` environment variable.
    Environment,
    /// An existing key file.
    File(PathBuf),
    /// A key file created just now: it must be backed up.
    Created(PathBuf),
}

/// The state directory of one lake.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    /// The default state directory of a lake: beside a local lake (`./lake` → `./lake.state`),
    /// or under the user's data directory for an object-store lake.
    pub fn default_for(lake: &str) -> PathBuf {
        if lake.contains("://") {
            let safe: String = lake
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let base = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
                .unwrap_or_else(|| PathBuf::from("."));
            base.join("edulake").join(safe)
        } else {
            let trimmed = lake.trim_end_matches('/');
            PathBuf::from(format!(
                "{}.state",
                if trimmed.is_empty() { "lake" } else { trimmed }
            ))
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn ensure_private_dir(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| {
            IngestError::Config(format!(
                "cannot create state directory {}: {e}",
                dir.display()
            ))
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700));
        }
        Ok(())
    }

    /// The bureau's key: `EDULAKE_KEY` if set, else the key file, created on first use with
    /// owner-only permissions.
    pub fn key(&self) -> Result<(Key, KeyOrigin)> {
        if let Ok(text) = std::env::var("EDULAKE_KEY") {
            if !text.trim().is_empty() {
                return Ok((Key::parse(&text)?, KeyOrigin::Environment));
            }
        }
        let path = self.root.join("key");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((Key::parse(&text)?, KeyOrigin::File(path))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.ensure_private_dir(&self.root)?;
                // Written whole under a name of its own, then linked into place,
                // which fails if another process's key got there first: then that one is
                // everyone's. Two first ingests at once never make two keys, and nobody reads
                // a key half written.
                let key = Key::generate();
                let mine = self.root.join(format!("key.{}.new", uuid::Uuid::now_v7()));
                let cannot = |e: std::io::Error| {
                    IngestError::Config(format!("cannot write key file {}: {e}", path.display()))
                };
                write_private(&mine, format!("{}\n", key.to_hex()).as_bytes()).map_err(cannot)?;
                let linked = std::fs::hard_link(&mine, &path);
                let _ = std::fs::remove_file(&mine);
                match linked {
                    Ok(()) => Ok((key, KeyOrigin::Created(path))),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(&path).map_err(cannot)?;
                        Ok((Key::parse(&text)?, KeyOrigin::File(path)))
                    }
                    Err(e) => Err(cannot(e)),
                }
            }
            Err(e) => Err(IngestError::Config(format!(
                "cannot read key file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Where the reject report of a batch is kept.
    pub fn reject_report(&self, dataset: &str, batch_id: &str) -> PathBuf {
        self.root
            .join("rejects")
            .join(dataset)
            .join(format!("{batch_id}.csv"))
    }

    /// Adds files rejected whole to the log of them ([`edulake_schemas::lake::REJECTED_LOG`]),
    /// one line each, appended whole.
    pub fn log_rejected(&self, files: &[edulake_schemas::lake::RejectedFile]) -> Result<()> {
        use std::io::Write;
        if files.is_empty() {
            return Ok(());
        }
        self.ensure_private_dir(&self.root)?;
        let path = self.root.join(edulake_schemas::lake::REJECTED_LOG);
        let mut lines = Vec::new();
        for f in files {
            let line = serde_json::to_string(f)
                .map_err(|e| IngestError::Internal(format!("rejected file record: {e}")))?;
            lines.extend_from_slice(line.as_bytes());
            lines.push(b'\n');
        }
        let mut opts = private_options();
        opts.truncate(false).append(true);
        opts.open(&path)
            .and_then(|mut f| f.write_all(&lines))
            .map_err(|e| IngestError::Lake(format!("cannot write {}: {e}", path.display())))
    }

    /// Opens a file under the state directory (owner-only), creating it if it is not there and
    /// keeping what it holds (a lock file).
    pub fn create_keep(&self, path: &Path) -> Result<std::fs::File> {
        if let Some(dir) = path.parent() {
            self.ensure_private_dir(dir)?;
        }
        let mut opts = private_options();
        opts.truncate(false);
        opts.open(path)
            .map_err(|e| IngestError::Lake(format!("cannot open {}: {e}", path.display())))
    }

    /// Creates a file under the state directory, owner-only, to be written as data comes.
    pub fn create(&self, path: &Path) -> Result<std::fs::File> {
        if let Some(dir) = path.parent() {
            self.ensure_private_dir(dir)?;
        }
        private_options()
            .open(path)
            .map_err(|e| IngestError::Lake(format!("cannot write {}: {e}", path.display())))
    }

    /// Writes a file under the state directory, owner-only.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        if let Some(dir) = path.parent() {
            self.ensure_private_dir(dir)?;
        }
        write_private(path, bytes)
            .map_err(|e| IngestError::Lake(format!("cannot write {}: {e}", path.display())))
    }
}

fn private_options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = private_options().open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many first uses at once (processes starting their first ingest together) make one key,
    /// the same for all of them.
    #[test]
    fn first_uses_at_once_make_one_key() {
        if std::env::var("EDULAKE_KEY").is_ok_and(|k| !k.trim().is_empty()) {
            return; // the key is the environment's, and no file is made
        }
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("state");
            let keys: Vec<String> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..8)
                    .map(|_| {
                        let root = root.clone();
                        s.spawn(move || StateDir::new(root).key().unwrap().0.fingerprint())
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
            let file = StateDir::new(root.clone()).key().unwrap().0.fingerprint();
            assert_eq!(file, keys[0]);
            let left: Vec<_> = std::fs::read_dir(&root)
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert_eq!(left.len(), 1, "only the key file stays: {left:?}");
        }
    }
}
