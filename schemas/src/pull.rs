//! What a pulled source remembers between pulls, kept in the state directory: the files it
//! has taken and how its pulls went. `edulake_ingest::pull` writes it; transform reads it for
//! the cockpit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a source remembers between pulls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Each file taken, by its path within the folder: its size and modification time then.
    pub taken: BTreeMap<String, Seen>,
    /// When the last pull that ended well ended (RFC 3339, UTC).
    pub last_success: Option<String>,
    /// The last pull's failure, if it failed.
    pub last_error: Option<String>,
    /// When the last pull began (RFC 3339, UTC).
    #[serde(default)]
    pub last_run: Option<String>,
    /// When a new file was last taken (RFC 3339, UTC): a source silent for long is news.
    #[serde(default)]
    pub last_file: Option<String>,
    /// When the pull now running began; `None` when none runs (a pull killed leaves it until
    /// the next one).
    #[serde(default)]
    pub running_since: Option<String>,
    /// For an HTTP source, the cursor the next pull gives (`?since=`): when the last pull that
    /// ended well began, so that nothing sent while it ran is missed.
    #[serde(default)]
    pub since: Option<String>,
    pub files_taken: u64,
    pub rows_stored: u64,
    pub rows_rejected: u64,
}

/// A file as it was when it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub size: u64,
    /// Nanoseconds since the epoch.
    pub modified: u128,
}

/// A source's id in file names: a hash of its name (a name may hold any character).
fn id(source: &str) -> String {
    Sha256::digest(source.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a source's cursor is, within the state directory.
pub fn cursor_path(source: &str) -> PathBuf {
    PathBuf::from("pull").join(format!("{}.json", id(source)))
}

impl Cursor {
    /// A source's cursor as the state directory at `root` keeps it; a new one before its
    /// first pull. `Err`: a cursor there that cannot be read.
    pub fn read(root: &std::path::Path, source: &str) -> Result<Cursor, String> {
        match std::fs::read(root.join(cursor_path(source))) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Cursor::default()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Where a source's lock file is, within the state directory.
pub fn lock_path(source: &str) -> PathBuf {
    PathBuf::from("pull").join(format!("{}.lock", id(source)))
}
