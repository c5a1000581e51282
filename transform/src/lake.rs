//! The lake as transform reads it: its own handle, which never writes what ingest writes (the
//! dataset tables, the batch index); it writes only the marts. The layout it reads (table
//! names, the batch record) is `edulake_schemas::lake`.
//!
//! Tables and the batch index are kept once read and brought forward from the commits made
//! since (a long-running cockpit reloads them every few seconds; a city's big tables take a
//! quarter of a second each to load whole, its index half a second).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use datafusion::prelude::SessionContext;
use deltalake::{DeltaTable, DeltaTableBuilder};
use url::Url;

use edulake_schemas::lake::{
    appended_files, batch_records_from_arrow, merge_records, records_in_commit, records_in_parquet,
    BatchRecord, BATCHES_TABLE,
};

use crate::error::{Result, TransformError};

/// A read handle on the lake at one root (a local folder or an object-store URL). Clones share
/// what was read.
#[derive(Clone)]
pub struct Lake {
    root: Url,
    tables: Arc<Mutex<HashMap<String, DeltaTable>>>,
    index: Arc<Mutex<Index>>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lake({})", self.root)
    }
}

/// The batch index as last read, and what the dataset tables' logs said beyond it.
#[derive(Default)]
struct Index {
    /// `_batches`' version and its records at that version.
    read: Option<(i64, Arc<Vec<BatchRecord>>)>,
    /// The versions of each dataset table whose commit was read from the log (the index did
    /// not list them: a process died between its data commit and its index entry, or the
    /// commit holds no batch), and the records found there.
    logged: HashMap<String, HashSet<i64>>,
    caught: Vec<BatchRecord>,
}

impl Lake {
    /// The lake at a local path or an object-store URL (`s3://bucket/prefix`). A local folder
    /// must exist: reading a mistyped path answers with an error, not an empty lake.
    pub fn open(location: &str) -> Result<Lake> {
        let root = edulake_schemas::lake::root_url(location).map_err(TransformError::Config)?;
        Ok(Lake {
            root,
            tables: Arc::default(),
            index: Arc::default(),
        })
    }

    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The URL of a table under the root.
    pub fn table_url(&self, name: &str) -> Url {
        self.root
            .join(&format!("{name}/"))
            .expect("table names are plain words")
    }

    /// A table as it is now; `None` if it does not exist (yet).
    pub async fn load(&self, name: &str) -> Result<Option<DeltaTable>> {
        let url = self.table_url(name);
        let exists_locally = || {
            url.to_file_path()
                .map(|p| p.join("_delta_log").is_dir())
                .unwrap_or(false)
        };
        // A table not read before is there once its log holds a commit: a build creating a
        // table makes its log folder a moment before its first commit, and a read in that
        // moment finds none. (Listed only then, not on every reload of a known table.)
        let committed_locally = || {
            url.to_file_path()
                .ok()
                .and_then(|p| std::fs::read_dir(p.join("_delta_log")).ok())
                .is_some_and(|entries| {
                    entries.flatten().any(|e| {
                        let name = e.file_name();
                        let name = name.to_string_lossy();
                        name.ends_with(".json") || name.ends_with(".checkpoint.parquet")
                    })
                })
        };
        let known = self.tables.lock().ok().and_then(|c| c.get(name).cloned());
        if let Some(mut t) = known {
            // Forward from the version read before; a table deleted since is not there.
            let gone = url.scheme() == "file" && !exists_locally();
            if !gone && t.update_incremental(None).await.is_ok() {
                self.remember(name, &t);
                return Ok(Some(t));
            }
            if let Ok(mut c) = self.tables.lock() {
                c.remove(name);
            }
        }
        let mut t = DeltaTableBuilder::from_url(url.clone())?.build()?;
        let exists = if url.scheme() == "file" {
            committed_locally()
        } else {
            t.verify_deltatable_existence().await?
        };
        if !exists {
            return Ok(None);
        }
        t.load().await?;
        self.remember(name, &t);
        Ok(Some(t))
    }

    /// Keeps a table as read, to bring forward next time.
    fn remember(&self, name: &str, t: &DeltaTable) {
        if let Ok(mut c) = self.tables.lock() {
            c.insert(name.to_string(), t.clone());
        }
    }

    /// Every batch of the lake, oldest first: the batch index, and the batches of data commits
    /// it does not list yet (a process that died between its data commit and its index entry;
    /// the next ingest writes their entries).
    pub async fn batches(&self) -> Result<Arc<Vec<BatchRecord>>> {
        let indexed = self.indexed().await?;
        let mut listed: HashMap<&str, HashSet<i64>> = HashMap::new();
        for r in indexed.iter() {
            listed
                .entry(r.dataset.as_str())
                .or_default()
                .insert(r.table_version);
        }
        let none = HashSet::new();
        for d in edulake_schemas::stored() {
            let Some(table) = self.load(d.name).await? else {
                continue;
            };
            let Some(current) = table.version() else {
                continue;
            };
            let logged = self.lock_index()?.logged.get(d.name).cloned();
            let logged = logged.unwrap_or_default();
            let listed = listed.get(d.name).unwrap_or(&none);
            for v in (0..=current as i64).filter(|v| !listed.contains(v) && !logged.contains(v)) {
                let records = match table.log_store().read_commit_entry(v as u64).await? {
                    Some(bytes) => records_in_commit(&bytes, v),
                    None => Vec::new(),
                };
                let mut index = self.lock_index()?;
                index
                    .logged
                    .entry(d.name.to_string())
                    .or_default()
                    .insert(v);
                index.caught.extend(records);
            }
        }
        let caught = self.lock_index()?.caught.clone();
        Ok(if caught.is_empty() {
            indexed
        } else {
            Arc::new(merge_records(&indexed, caught))
        })
    }

    fn lock_index(&self) -> Result<std::sync::MutexGuard<'_, Index>> {
        self.index
            .lock()
            .map_err(|_| TransformError::Internal("the batch index cache was poisoned".into()))
    }

    /// The records of `_batches`, read whole the first time and after anything but an append,
    /// else only the files appended since.
    async fn indexed(&self) -> Result<Arc<Vec<BatchRecord>>> {
        let Some(table) = self.load(BATCHES_TABLE).await? else {
            return Ok(Arc::default());
        };
        let version = table.version().map_or(-1, |v| v as i64);
        let known = self.lock_index()?.read.clone();
        let records = match known {
            Some((v, records)) if v == version => return Ok(records),
            Some((v, records)) if v < version => match appended(&table, v, version).await? {
                Some(new) => merge_records(&records, new),
                None => read_whole(&table).await?,
            },
            _ => read_whole(&table).await?,
        };
        let records = Arc::new(records);
        self.lock_index()?.read = Some((version, records.clone()));
        Ok(records)
    }
}

/// Every record of the batch index at `table`'s version, oldest first.
async fn read_whole(table: &DeltaTable) -> Result<Vec<BatchRecord>> {
    let ctx = SessionContext::new();
    table.update_datafusion_session(&ctx.state())?;
    ctx.register_table("b", table.table_provider().await?)?;
    let mut out = Vec::new();
    for rb in ctx.sql("SELECT * FROM b").await?.collect().await? {
        out.extend(batch_records_from_arrow(&rb)?);
    }
    Ok(merge_records(&[], out))
}

/// The records the index's commits after `from` up to `to` appended, from the files they
/// added; `None` where a commit did anything but append, or is gone.
async fn appended(table: &DeltaTable, from: i64, to: i64) -> Result<Option<Vec<BatchRecord>>> {
    let store = table.object_store();
    let mut out = Vec::new();
    for v in (from + 1)..=to {
        let Some(bytes) = table.log_store().read_commit_entry(v as u64).await? else {
            return Ok(None);
        };
        let Some(files) = appended_files(&bytes) else {
            return Ok(None);
        };
        for path in files {
            let Ok(path) = object_store::path::Path::from_url_path(&path) else {
                return Ok(None);
            };
            let fail = |e: &dyn std::fmt::Display| {
                TransformError::Lake(format!("_batches file {path}: {e}"))
            };
            let file = object_store::ObjectStoreExt::get(&store, &path)
                .await
                .map_err(|e| fail(&e))?
                .bytes()
                .await
                .map_err(|e| fail(&e))?;
            out.extend(records_in_parquet(file).map_err(|e| fail(&e))?);
        }
    }
    Ok(Some(out))
}

/// Whether a commit failed because another commit took its version first (or changed what
/// it read): trying again is the answer.
pub(crate) fn is_lost_race(e: &deltalake::DeltaTableError) -> bool {
    use deltalake::kernel::transaction::TransactionError as T;
    match e {
        deltalake::DeltaTableError::VersionAlreadyExists(_) => true,
        deltalake::DeltaTableError::Transaction { source } => matches!(
            source,
            T::MaxCommitAttempts(_) | T::CommitConflict(_) | T::VersionAlreadyExists(_)
        ),
        _ => false,
    }
}

/// The bureau's time zone (`EDULAKE_TZ`): what a timestamp's day is.
pub(crate) fn bureau_tz() -> Result<chrono_tz::Tz> {
    edulake_schemas::lake::bureau_tz().map_err(|name| {
        TransformError::Config(format!("EDULAKE_TZ '{name}' is not a time zone name"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table whose log folder is made but holds no commit yet (a build creating it) is not
    /// there yet: a read then is answered without it, not with an error.
    #[tokio::test]
    async fn a_table_being_created_is_not_there_yet() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("marts/x/_delta_log")).unwrap();
        let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
        assert!(lake.load("marts/x").await.unwrap().is_none());
    }
}
