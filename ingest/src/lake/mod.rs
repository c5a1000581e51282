//! The lake: one Delta table per dataset under one root (a local folder or an object-store
//! URL), and the `_batches` table that indexes every ingested batch.
//!
//! A commit to a dataset table carries, in its commit info, the batch records of the files it
//! holds: data and record become visible together or not at all. The `_batches` table is an
//! index of those records, appended right after each commit and caught up from the Delta log
//! if a process died in between ([`Lake::sync_batches`]).
//!
//! The batch record and `_batches`' schema are the lake's layout, in `edulake_schemas::lake`:
//! transform reads what this writes with its own handle.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, StructType};
use deltalake::logstore::LogStore;
use deltalake::operations::write::SchemaMode;
use deltalake::parquet::basic::{Compression, Encoding, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, DeltaTableBuilder};
use url::Url;

use edulake_schemas::dataset::Dataset;

use crate::error::{IngestError, Result};

use edulake_schemas::lake::{
    appended_files, batch_records_from_arrow, batch_records_to_arrow, merge_records,
    records_in_commit, records_in_parquet, COMMIT_KEY,
};
pub use edulake_schemas::lake::{batches_schema, identity, BatchRecord, BATCHES_TABLE};
/// How many times a commit is tried while other processes' commits land first.
const MAX_COMMIT_ATTEMPTS: usize = 1000;
/// Table property of `_batches` holding the key fingerprint.
const KEY_PROPERTY: &str = "edulake.keyFingerprint";

/// One file's rows and its record, ready for a commit.
pub struct FileBatches {
    pub record: BatchRecord,
    pub batches: Vec<RecordBatch>,
}

/// What a commit did with the files it was given.
#[derive(Debug, Default)]
pub struct Committed {
    /// The files committed, with their table version.
    pub stored: Vec<BatchRecord>,
    /// Files another process committed first (the same bytes for the same school and date):
    /// (this file's batch id, the batch id it already has).
    pub already: Vec<(String, String)>,
    /// The table version up to which every commit's files are known.
    pub seen_version: i64,
}

/// Where the lake is.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
    /// Tables as last loaded, shared by the clones of this `Lake`: a later load reads only
    /// the commits made since (a long-running server reloads the same tables every few
    /// seconds; a big table's checkpoint alone takes a quarter of a second to read).
    loaded: TableCache,
    /// Versions of each dataset table known to carry no batch, so a catch-up of the batch
    /// index does not read them again.
    without_batches: VersionsWithout,
    /// The batch index as last read (its version and records), shared by the clones: a later
    /// read takes only the records appended since (a city's index holds about 100,000, read
    /// by every upload and every refresh of the cockpit).
    records: RecordCache,
}

/// The batch index's version and its records at that version.
type IndexAt = (i64, Arc<Vec<BatchRecord>>);

#[derive(Clone, Default)]
struct RecordCache(Arc<std::sync::Mutex<Option<IndexAt>>>);

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordCache")
    }
}

#[derive(Clone, Default, Debug)]
struct VersionsWithout(
    Arc<std::sync::Mutex<std::collections::HashMap<String, std::collections::HashSet<i64>>>>,
);

#[derive(Clone, Default)]
struct TableCache(Arc<std::sync::Mutex<std::collections::HashMap<String, DeltaTable>>>);

impl std::fmt::Debug for TableCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TableCache")
    }
}

/// A fault to inject, for tests of atomicity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    #[default]
    None,
    /// Fail after the data files are written and before the commit.
    BeforeCommit,
    /// End the process right after the data commit, before the batch index is written (as a
    /// power cut would).
    AfterCommit,
}

impl Lake {
    /// Opens a lake at a local path or an object-store URL (`s3://bucket/prefix`). A local
    /// folder is created if missing.
    pub fn open(location: &str) -> Result<Lake> {
        if !location.contains("://") {
            std::fs::create_dir_all(location).map_err(|e| {
                IngestError::Config(format!("cannot create lake folder '{location}': {e}"))
            })?;
        }
        let root = edulake_schemas::lake::root_url(location).map_err(IngestError::Config)?;
        Ok(Lake {
            root,
            loaded: TableCache::default(),
            without_batches: VersionsWithout::default(),
            records: RecordCache::default(),
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

    /// Loads a table; `None` if it does not exist yet.
    pub async fn load(&self, name: &str) -> Result<Option<DeltaTable>> {
        let url = self.table_url(name);
        let known = self.loaded.0.lock().ok().and_then(|c| c.get(name).cloned());
        if let Some(mut t) = known {
            // Forward from the version loaded before; a table deleted since is not there.
            let gone = url.scheme() == "file"
                && !url
                    .to_file_path()
                    .map(|p| p.join("_delta_log").is_dir())
                    .unwrap_or(false);
            if !gone && t.update_incremental(None).await.is_ok() {
                self.remember(name, &t);
                return Ok(Some(t));
            }
            if let Ok(mut c) = self.loaded.0.lock() {
                c.remove(name);
            }
        }
        let mut t = DeltaTableBuilder::from_url(url.clone())?.build()?;
        let exists = if url.scheme() == "file" {
            url.to_file_path()
                .map(|p| p.join("_delta_log").is_dir())
                .unwrap_or(false)
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

    fn remember(&self, name: &str, t: &DeltaTable) {
        if let Ok(mut c) = self.loaded.0.lock() {
            c.insert(name.to_string(), t.clone());
        }
    }

    async fn load_or_create(
        &self,
        name: &str,
        schema: &SchemaRef,
        partition_by: &[&str],
        config: &[(&str, &str)],
    ) -> Result<DeltaTable> {
        if let Some(t) = self.load(name).await? {
            return Ok(t);
        }
        let table = DeltaTableBuilder::from_url(self.table_url(name))?.build()?;
        let kernel: StructType = schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| IngestError::Internal(e.to_string()))?;
        let created = table
            .create()
            .with_table_name(name)
            .with_columns(kernel.fields().cloned())
            .with_partition_columns(partition_by.iter().map(|s| s.to_string()))
            .with_configuration(
                config
                    .iter()
                    .map(|(k, v)| (k.to_string(), Some(v.to_string()))),
            )
            .with_raise_if_key_not_exists(false)
            .await;
        match created {
            Ok(t) => Ok(t),
            // Another process may have created it first.
            Err(e) => self
                .load(name)
                .await?
                .ok_or_else(|| IngestError::Lake(format!("cannot create table {name}: {e}"))),
        }
    }

    /// The dataset's table, created on first use; a table written before a column was added
    /// to the dataset (a `local_id`) gains it, null in the files written before.
    pub async fn dataset_table(&self, d: &Dataset) -> Result<DeltaTable> {
        let want = d.lake_schema();
        let table = self
            .load_or_create(d.name, &want, d.partition_by, &[])
            .await?;
        let lacks = |t: &DeltaTable| -> Result<bool> {
            let have = t.snapshot()?.schema();
            Ok(want.fields().iter().any(|f| have.field(f.name()).is_none()))
        };
        if !lacks(&table)? {
            return Ok(table);
        }
        let evolved = table
            .write(vec![RecordBatch::new_empty(want.clone())])
            .with_save_mode(SaveMode::Append)
            .with_schema_mode(SchemaMode::Merge)
            .await;
        match evolved {
            Ok(t) => {
                self.remember(d.name, &t);
                Ok(t)
            }
            Err(e) => {
                // Another process may have evolved it first.
                let again = self.load(d.name).await?;
                match again {
                    Some(t) if !lacks(&t)? => Ok(t),
                    _ => Err(IngestError::Lake(format!(
                        "cannot add the new columns of {} to its table: {e}",
                        d.name
                    ))),
                }
            }
        }
    }

    /// Checks that the lake was pseudonymised under this key (recording it on first use).
    /// [`Lake::check_key`] without creating anything: a lake without a batch index yet has
    /// no key to differ from.
    pub async fn check_key_if_any(&self, fingerprint: &str) -> Result<()> {
        match self.load(BATCHES_TABLE).await? {
            Some(_) => self.check_key(fingerprint).await,
            None => Ok(()),
        }
    }

    pub async fn check_key(&self, fingerprint: &str) -> Result<()> {
        let t = self
            .load_or_create(
                BATCHES_TABLE,
                &batches_schema(),
                &[],
                &[(KEY_PROPERTY, fingerprint)],
            )
            .await?;
        let snapshot = t.snapshot()?;
        match snapshot.metadata().configuration().get(KEY_PROPERTY) {
            Some(fp) if fp == fingerprint => Ok(()),
            Some(_) => Err(IngestError::Config(
                "this lake was pseudonymised under another key: ingesting with this key would give \
                 every person a second pseudonym. Use the lake's key (EDULAKE_KEY or the key file in its \
                 state directory)"
                    .into(),
            )),
            None => Err(IngestError::Config("the lake's batch index has no key fingerprint".into())),
        }
    }

    /// Appends the rows of one or more files to the dataset table in one commit, then records
    /// them in `_batches`.
    ///
    /// "Already ingested" is decided with the commit itself: the caller knows every file
    /// committed up to `seen_version`; the commits made since (by any process) are read for
    /// their files, any of ours among them is dropped, and the commit is made on exactly the
    /// version read. If another commit lands first, the commit fails, and the check is made
    /// again on the new commits. So any number of processes ingesting the same files store
    /// each once.
    pub async fn commit(
        &self,
        d: &Dataset,
        mut files: Vec<FileBatches>,
        seen_version: i64,
        fault: Fault,
    ) -> Result<Committed> {
        let mut done = Committed {
            seen_version,
            ..Default::default()
        };
        let mut written: Option<Vec<deltalake::kernel::Add>> = None;
        let mut attempts = 0;
        loop {
            attempts += 1;
            if attempts > MAX_COMMIT_ATTEMPTS {
                if let (Some(adds), Some(table)) = (&written, self.load(d.name).await?) {
                    self.remove_unreferenced(&table, adds).await;
                }
                return Err(IngestError::Lake(format!(
                    "{MAX_COMMIT_ATTEMPTS} other commits landed first each time this one was \
                     tried; nothing of these files was stored: try again"
                )));
            }
            let table = self.dataset_table(d).await?;
            let latest = table.version().map_or(-1, |v| v as i64);
            if latest > done.seen_version {
                let theirs = self
                    .identities_between(&table, done.seen_version, latest)
                    .await?;
                done.seen_version = latest;
                let before = files.len();
                files.retain(|f| match theirs.get(&f.record.identity()) {
                    Some(id) => {
                        done.already.push((f.record.batch_id.clone(), id.clone()));
                        false
                    }
                    None => true,
                });
                if files.len() != before {
                    // The files written hold rows of a file that is not ours to store.
                    if let Some(adds) = written.take() {
                        self.remove_unreferenced(&table, &adds).await;
                    }
                }
            }
            if files.is_empty() {
                return Ok(done);
            }
            let adds = match written.take() {
                Some(adds) => adds,
                None => self.write_files(d, &table, &files).await?,
            };
            if fault == Fault::BeforeCommit {
                // As a crash would: the files stay, named by no commit, never read.
                return Err(IngestError::Internal(
                    "injected fault: stopped before the commit".into(),
                ));
            }
            let mut records: Vec<BatchRecord> = files.iter().map(|f| f.record.clone()).collect();
            let partition_by = (!d.partition_by.is_empty())
                .then(|| d.partition_by.iter().map(|s| s.to_string()).collect());
            let meta =
                serde_json::to_value(&records).map_err(|e| IngestError::Internal(e.to_string()))?;
            let committed = CommitBuilder::from(
                CommitProperties::default()
                    .with_metadata([(COMMIT_KEY.to_string(), meta)])
                    .with_max_retries(0),
            )
            .with_actions(adds.iter().cloned().map(Action::Add).collect())
            .build(
                Some(table.snapshot()?),
                table.log_store(),
                DeltaOperation::Write {
                    mode: SaveMode::Append,
                    partition_by,
                    predicate: None,
                },
            )
            .await;
            let version = match committed {
                Ok(c) => c.version() as i64,
                Err(e) if is_lost_race(&e) => {
                    // Another commit landed first: read it and try again.
                    written = Some(adds);
                    continue;
                }
                Err(e) => {
                    self.remove_unreferenced(&table, &adds).await;
                    return Err(e.into());
                }
            };
            for r in &mut records {
                r.table_version = version;
            }
            if fault == Fault::AfterCommit {
                // A process that dies here leaves the batch index short; every later open of
                // the lake catches it up from the commit.
                std::process::exit(86);
            }
            self.append_batch_records(&records).await?;
            done.seen_version = version;
            done.stored = records;
            return Ok(done);
        }
    }

    /// Writes the files' rows as Parquet files of the table (not yet committed).
    async fn write_files(
        &self,
        d: &Dataset,
        table: &DeltaTable,
        files: &[FileBatches],
    ) -> Result<Vec<deltalake::kernel::Add>> {
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).expect("valid zstd level"),
            ))
            .set_max_row_group_row_count(Some(1 << 20));
        // A pseudonym is nearly unique within a file (one row per person and day): a
        // dictionary would cost time and save nothing.
        // Nor for the row number, unique within a file.
        let unique = d
            .columns
            .iter()
            .filter(|c| c.is_pseudonymised())
            .map(|c| c.stored_name())
            .chain(["_row"]);
        for name in unique {
            props = props.set_column_dictionary_enabled(ColumnPath::from(name), false);
        }
        // Row numbers rise by one within a file: stored as their differences, a few bits each.
        props = props.set_column_encoding(ColumnPath::from("_row"), Encoding::DELTA_BINARY_PACKED);
        let props = props.build();
        let mut writer = RecordBatchWriter::for_table(table)?
            .with_writer_properties(props)
            .with_target_file_size(512 << 20);
        for f in files {
            for b in &f.batches {
                writer.write(b.clone()).await?;
            }
        }
        Ok(writer.flush().await?)
    }

    /// Deletes data files written for a commit that will not be made (best effort: a file
    /// left behind is never read, as no commit names it).
    async fn remove_unreferenced(&self, table: &DeltaTable, adds: &[deltalake::kernel::Add]) {
        let store = table.object_store();
        for add in adds {
            if let Ok(path) = object_store::path::Path::from_url_path(&add.path) {
                if let Err(e) = object_store::ObjectStoreExt::delete(&store, &path).await {
                    tracing::debug!("removing unreferenced {}: {e}", add.path);
                }
            }
        }
    }

    /// The files committed to a table after version `after` up to `upto`, by identity.
    async fn identities_between(
        &self,
        table: &DeltaTable,
        after: i64,
        upto: i64,
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for v in (after + 1).max(0)..=upto {
            for r in commit_records(table, v).await? {
                out.entry(r.identity()).or_insert(r.batch_id);
            }
        }
        Ok(out)
    }

    async fn append_batch_records(&self, records: &[BatchRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let table = self.load(BATCHES_TABLE).await?.ok_or_else(|| {
            IngestError::Internal(
                "the batch index must exist before a commit (check_key creates it)".into(),
            )
        })?;
        let batch = batch_records_to_arrow(records)?;
        let table = table
            .write(vec![batch])
            .with_save_mode(SaveMode::Append)
            // An index written before a column was added to the record gains it.
            .with_schema_mode(SchemaMode::Merge)
            .await?;
        compact_index(table).await;
        Ok(())
    }

    /// Every batch recorded in `_batches`, oldest first.
    pub async fn batches(&self) -> Result<Vec<BatchRecord>> {
        let Some(table) = self.load(BATCHES_TABLE).await? else {
            return Ok(Vec::new());
        };
        let version = table.version().map_or(-1, |v| v as i64);
        let known = self.records.0.lock().ok().and_then(|c| c.clone());
        let records = match known {
            Some((v, records)) if v == version => return Ok(records.as_ref().clone()),
            Some((v, records)) if v < version => {
                match appended_records(&table, v, version).await? {
                    Some(new) => merge_records(&records, new),
                    None => self.read_batches(&table).await?,
                }
            }
            _ => self.read_batches(&table).await?,
        };
        if let Ok(mut c) = self.records.0.lock() {
            *c = Some((version, Arc::new(records.clone())));
        }
        Ok(records)
    }

    /// Every record of the batch index as it is at `table`'s version.
    async fn read_batches(&self, table: &DeltaTable) -> Result<Vec<BatchRecord>> {
        let ctx = SessionContext::new();
        table.update_datafusion_session(&ctx.state())?;
        let provider = table
            .table_provider()
            .await
            .map_err(|e| IngestError::Lake(e.to_string()))?;
        ctx.register_table("b", provider)
            .map_err(|e| IngestError::Lake(e.to_string()))?;
        let df = ctx
            .sql("SELECT * FROM b ORDER BY ingested_at, batch_id")
            .await
            .map_err(|e| IngestError::Lake(e.to_string()))?;
        let rbs = df
            .collect()
            .await
            .map_err(|e| IngestError::Lake(e.to_string()))?;
        let mut out: Vec<BatchRecord> = Vec::new();
        for rb in rbs {
            out.extend(batch_records_from_arrow(&rb)?);
        }
        // A record appended twice (a catch-up racing a live ingest) is one batch.
        let mut seen = std::collections::HashSet::new();
        out.retain(|r| seen.insert(r.batch_id.clone()));
        Ok(out)
    }

    /// Catches `_batches` up with commits of the dataset table whose records were not indexed
    /// (a process that died between its data commit and its index append). Returns the
    /// records added and the table version up to which `known` and they hold every batch.
    /// Every version not indexed is read (a process may have died between its commit and its
    /// index entry while another process committed after it); a version found to carry no
    /// batch (the table's creation, maintenance) is remembered and not read again.
    pub async fn sync_batches(
        &self,
        d: &Dataset,
        known: &[BatchRecord],
    ) -> Result<(Vec<BatchRecord>, i64)> {
        let indexed: std::collections::HashSet<i64> = known
            .iter()
            .filter(|r| r.dataset == d.name)
            .map(|r| r.table_version)
            .collect();
        let Some(table) = self.load(d.name).await? else {
            return Ok((Vec::new(), -1));
        };
        let Some(current) = table.version() else {
            return Ok((Vec::new(), -1));
        };
        let empty: std::collections::HashSet<i64> = self
            .without_batches
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(d.name).cloned())
            .unwrap_or_default();
        let mut missing = Vec::new();
        let mut found_empty = Vec::new();
        for v in (0..=current as i64).filter(|v| !indexed.contains(v) && !empty.contains(v)) {
            let records = commit_records(&table, v).await?;
            if records.is_empty() {
                found_empty.push(v);
            }
            missing.extend(records);
        }
        if let Ok(mut m) = self.without_batches.0.lock() {
            m.entry(d.name.to_string()).or_default().extend(found_empty);
        }
        self.append_batch_records(&missing).await?;
        Ok((missing, current as i64))
    }
}

/// How many files the batch index may have before they are merged into one: each ingest adds
/// one, and every build and every session of the cockpit reads the index whole (380 small files
/// took 0.75 s to read at city scale, one file a tenth of that).
const INDEX_FILES_BEFORE_COMPACTION: usize = 64;

/// Merges the batch index's files into one once there are [`INDEX_FILES_BEFORE_COMPACTION`].
/// Maintenance: a failure (another process compacting or appending at the same moment) is
/// left for the next ingest, its records are safe either way.
async fn compact_index(table: DeltaTable) {
    let files = table
        .snapshot()
        .map(|s| s.log_data().num_files())
        .unwrap_or(0);
    if files < INDEX_FILES_BEFORE_COMPACTION {
        return;
    }
    let done = table
        .optimize()
        .with_type(deltalake::operations::optimize::OptimizeType::Compact)
        .await;
    match done {
        Ok((_, metrics)) => tracing::debug!(
            "batch index: {} files merged into {}",
            metrics.num_files_removed,
            metrics.num_files_added
        ),
        Err(e) => tracing::warn!("batch index not compacted this time: {e}"),
    }
}

/// Whether a commit failed because another commit took its version first (or changed what
/// it read): trying again is the answer.
pub fn is_lost_race(e: &deltalake::DeltaTableError) -> bool {
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

/// The records the batch index's commits after `from` up to `to` appended, read from the
/// files they added; `None` where a commit did anything but append (a compaction, a schema
/// change) or is gone: then the index is read whole.
async fn appended_records(
    table: &DeltaTable,
    from: i64,
    to: i64,
) -> Result<Option<Vec<BatchRecord>>> {
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
            let fail =
                |e: &dyn std::fmt::Display| IngestError::Lake(format!("_batches file {path}: {e}"));
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

/// The batch records a commit of a dataset table carries, with that version.
async fn commit_records(table: &DeltaTable, version: i64) -> Result<Vec<BatchRecord>> {
    let Some(bytes) = table.log_store().read_commit_entry(version as u64).await? else {
        return Ok(Vec::new());
    };
    Ok(records_in_commit(&bytes, version))
}
