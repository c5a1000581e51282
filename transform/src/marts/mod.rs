//! Marts: the tables `edulake build` keeps in the lake ahead of time, and how they stay fresh.
//!
//! - `current/<dataset>`: a dataset's current view, materialised (attendance and
//!   health_report partitioned by date). In SQL it is the dataset's name.
//!   `current/attendance_exceptions` is every row of the exception registers as sent,
//!   compacted (a register comes as one small file per school and day).
//! - `marts/<helper>` (SQL `<helper>`): the helpers of [`indicators::KEPT`] (`attendance_rows`,
//!   `health_ids`, `class_report_days`, `class_days`), by day: each computed once per build
//!   rather than in every statement, and every place of a statement, that names it.
//! - `marts/<indicator>` (SQL `mart_<indicator>`): an indicator's rows at day grain with
//!   numerators and denominators (or the units or values its aggregate needs), for every
//!   indicator whose day rows add up to each coarser grain (header `mart: day`); partitioned
//!   by `date`.
//! - `marts/alerts` (SQL `mart_alerts`): ill students per class and day, i.e. the alerts at
//!   threshold 1; any threshold filters it.
//! - `marts/follow_up` (SQL `mart_follow_up`): students on sick leave three school days
//!   running, per class and day (因病缺课追踪). A day's rows read the 31 days before it, so a
//!   day that changes recomputes the 31 days after it too.
//!
//! The last commit of a mart records what it was built from: the version of every raw table
//! it reads and a digest of its SQL (`edulake.mart` in the commit info). A mart whose record
//! matches the lake as it is answers for its view; any other is passed over and its rows are
//! computed at query time, so no read ever sees a stale mart.
//!
//! A build recomputes only the days touched since a mart's record: the dates of new
//! attendance and health-report batches, every day from the earliest snapshot date of a new
//! roster batch, and the whole mart if it reads a dataset without dates (schools, notices,
//! notice_reads) that changed. When the new attendance and health-report rows are a few
//! schools' rows on days the lake already had (a clerk's upload or correction), only those
//! schools' rows of those days are recomputed and replaced ([`SchoolScope`]). Days are
//! written in chunks of bounded size, each replacing its
//! days in one Delta commit; only the last commit carries the record, so a build that dies
//! half-way leaves a mart that is stale (never read) and rebuilt in full next time.
//!
//! Layout: `days` (the days a build recomputes, and in what chunks), `dedupe` (the keys sent
//! more than once, found for a current view), `scope` (the schools an upload alone changed),
//! `described` (the marts for the data dictionary and the statements of `--show-sql`); this
//! file builds them, stage by stage.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, AsArray, RecordBatch};
use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use datafusion::prelude::{col, lit};
use datafusion::scalar::ScalarValue;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::SchemaMode;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use edulake_schemas::lake::BatchRecord;
use edulake_schemas::Dataset;

use crate::error::{Result, TransformError};
use crate::lake::Lake;

mod days;
mod dedupe;
mod described;
mod scope;

use crate::indicators::{self, Helpers, Indicator, LocalIds};
use crate::views::{
    current_view_sql, current_view_sql_with, keeps_every_row, raw_rows_sql, row_filter,
    school_list, QueryLayer,
};
use days::{chunk_days, days_and_after, rows_per_day, touched_days};
use dedupe::DUP_FUNCTION;
pub use dedupe::{duplicate_keys, DupKeys};
pub use described::{full_build_sql, tables_markdown};
use scope::batch_id_list;
pub use scope::{school_scope, SchoolScope};

/// The commit-info key of a mart's record.
pub const STATE_KEY: &str = "edulake.mart";
/// The commit-info key of what the session that wrote a mart found in the raw tables
/// ([`Found`]).
const FOUND_KEY: &str = "edulake.found";

/// What a session found by reading the raw tables (which hold rows with only a local id,
/// whether a register holds leave spans) and the versions it read, kept with every mart it
/// writes: the next process takes it instead of reading a city's tables again, and looks only
/// at what was added since.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    pub local_ids: LocalIds,
    pub versions: BTreeMap<String, i64>,
}

/// Rows read per build step, unless `EDULAKE_BUILD_CHUNK_ROWS` says otherwise.
const CHUNK_ROWS: u64 = 20_000_000;

/// One table kept by `edulake build`.
#[derive(Debug, Clone, Copy)]
pub enum Mart {
    /// A dataset's current view.
    Current(&'static Dataset),
    /// A helper kept as a table by day ([`indicators::KEPT`]: `attendance_rows`, every
    /// per-student attendance row the indicators count; `class_days`, ...): computed once per
    /// build instead of in every statement (and every place of a statement) that names it.
    Kept(&'static str),
    /// An indicator's rows at day grain.
    Indicator(&'static Indicator),
    /// Ill students per class and day.
    Alerts,
    /// Students on sick leave three school days running, per class and day.
    FollowUp,
}

/// What a mart was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MartState {
    /// SHA-256 of the SQL that computes it: a changed formula makes every old row stale.
    pub definition: String,
    /// The version of each raw table it reads (−1: the table did not exist).
    pub sources: BTreeMap<String, i64>,
}

impl Mart {
    /// Every mart, in the order of [`Mart::stage`]: each reads the ones before it.
    pub fn all() -> Vec<Mart> {
        let mut marts: Vec<Mart> = edulake_schemas::stored()
            .iter()
            .map(|d| Mart::Current(d))
            .collect();
        marts.extend(indicators::KEPT.iter().map(|(name, _)| Mart::Kept(name)));
        marts.extend(
            indicators::all()
                .iter()
                .filter(|i| i.mart)
                .map(Mart::Indicator),
        );
        marts.push(Mart::Alerts);
        marts.push(Mart::FollowUp);
        marts
    }

    /// When a build makes it: the current views (0), then the kept helpers (1 and 2, see
    /// [`indicators::KEPT`]), which read them, then the indicators (3), which read all.
    pub fn stage(&self) -> u8 {
        match self {
            Mart::Current(_) => 0,
            Mart::Kept(name) => indicators::KEPT
                .iter()
                .find(|(n, _)| n == name)
                .map_or(1, |(_, stage)| *stage),
            Mart::Indicator(_) | Mart::Alerts | Mart::FollowUp => 3,
        }
    }

    /// The last stage of a build.
    pub const LAST_STAGE: u8 = 3;

    /// Its folder under the lake root.
    pub fn table(&self) -> String {
        match self {
            Mart::Current(d) => format!("current/{}", d.name),
            Mart::Kept(name) => format!("marts/{name}"),
            Mart::Indicator(i) => format!("marts/{}", i.name),
            Mart::Alerts => "marts/alerts".into(),
            Mart::FollowUp => "marts/follow_up".into(),
        }
    }

    /// Its name in SQL.
    pub fn sql_name(&self) -> String {
        match self {
            Mart::Current(d) => d.name.to_string(),
            Mart::Kept(name) => name.to_string(),
            Mart::Indicator(i) => format!("mart_{}", i.name),
            Mart::Alerts => "mart_alerts".into(),
            Mart::FollowUp => "mart_follow_up".into(),
        }
    }

    /// The lake tables it reads, found in its SQL and the helpers it names.
    pub fn sources(&self) -> Vec<&'static str> {
        let sql = match self {
            Mart::Current(d) => return vec![d.name],
            Mart::Kept(name) => name,
            Mart::Indicator(i) => i.sql,
            Mart::Alerts => indicators::alerts_source(),
            Mart::FollowUp => indicators::follow_up_source(),
        };
        indicators::tables_read(sql)
    }

    /// How many times [`CHUNK_ROWS`] one build step of it may read. A current view and a kept
    /// helper hold a row per student and day (their joins and dedupes hold what they read);
    /// an indicator or the alerts hold a row per class and day: each step re-reads the rosters
    /// and builds its joins again, so fewer, larger steps cost less.
    fn chunk_scale(&self) -> u64 {
        match self {
            Mart::Current(_) | Mart::Kept(_) => 1,
            Mart::Indicator(_) | Mart::Alerts | Mart::FollowUp => 8,
        }
    }

    /// Whether its rows have a `date` and are replaced day by day.
    pub fn dated(&self) -> bool {
        match self {
            Mart::Current(d) => d.partition_by == ["date"],
            _ => true,
        }
    }

    fn partition_by(&self) -> Vec<String> {
        match self {
            Mart::Current(d) => d.partition_by.iter().map(|s| s.to_string()).collect(),
            _ => vec!["date".into()],
        }
    }

    /// Its rows over these days (every row, for a mart without dates), reading the helpers
    /// as `h` says.
    pub fn sql(&self, days: &[NaiveDate], h: Helpers) -> String {
        match self {
            Mart::Current(d) if self.dated() => current_view_sql(d, Some(days)),
            Mart::Current(d) => current_view_sql(d, None),
            Mart::Kept(name) => indicators::kept_sql(name, days, h),
            Mart::Indicator(i) => indicators::mart_sql(i, days, h),
            Mart::Alerts => indicators::alerts_mart_sql(days, h),
            Mart::FollowUp => indicators::follow_up_mart_sql(days, h),
        }
    }

    /// A digest of the SQL that computes it (in full: a table gaining rows with local ids
    /// changes its version, so the days it touches are recomputed anyway).
    pub fn definition(&self) -> String {
        let day = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
        hex::encode(&Sha256::digest(self.sql(&[day], LocalIds::ALL.into()).as_bytes())[..8])
    }

    fn writer_properties(&self) -> WriterProperties {
        let mut props = WriterProperties::builder().set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("valid zstd level"),
        ));
        if let Mart::Current(d) = self {
            for c in d.columns.iter().filter(|c| c.is_pseudonymised()) {
                props =
                    props.set_column_dictionary_enabled(ColumnPath::from(c.stored_name()), false);
            }
        }
        props.build()
    }
}

/// The record in a mart's last commit, if it has one.
pub async fn state(table: &DeltaTable) -> Result<Option<MartState>> {
    last_commit_info(table, STATE_KEY).await
}

/// What the session that last wrote a mart had found in the raw tables, if it said.
pub(crate) async fn found(table: &DeltaTable) -> Result<Option<Found>> {
    last_commit_info(table, FOUND_KEY).await
}

/// The value under `key` in the commit info of a table's last commit, if it has one.
async fn last_commit_info<T: serde::de::DeserializeOwned>(
    table: &DeltaTable,
    key: &str,
) -> Result<Option<T>> {
    let Some(version) = table.version() else {
        return Ok(None);
    };
    let Some(bytes) = table.log_store().read_commit_entry(version).await? else {
        return Ok(None);
    };
    for line in bytes.split(|b| *b == b'\n') {
        let Ok(action) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(value) = action.get("commitInfo").and_then(|ci| ci.get(key)) {
            return Ok(serde_json::from_value(value.clone()).ok());
        }
    }
    Ok(None)
}

/// Dates as a SQL list of DATE literals.
pub fn date_list(days: &[NaiveDate]) -> String {
    if days.is_empty() {
        return "NULL".into();
    }
    days.iter()
        .map(|d| format!("DATE '{}'", d.format("%Y-%m-%d")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a build did to one mart.
#[derive(Debug, Clone)]
pub struct MartBuilt {
    pub name: String,
    pub work: Work,
    pub seconds: f64,
}

/// The work a build found for a mart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Already up to date.
    Fresh,
    /// Computed in full (first build, a changed formula, or a change without dates).
    Full,
    /// These days recomputed.
    Days(Vec<NaiveDate>),
    /// These schools' rows of these days recomputed: an upload of a few schools' rows on
    /// days the lake already had, where no other school's rows change.
    Schools {
        days: Vec<NaiveDate>,
        schools: Vec<String>,
    },
}

/// Options of a build.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions {
    /// Recompute every mart in full, fresh or not.
    pub full: bool,
}

/// Brings every mart up to date with the lake; `on_mart` hears of each as it is done.
pub async fn build(
    lake: &Lake,
    options: BuildOptions,
    on_mart: impl FnMut(&MartBuilt),
) -> Result<Vec<MartBuilt>> {
    let since_ms = chrono::Utc::now().timestamp_millis();
    let done = build_stages(lake, options, None, on_mart).await?.0;
    remove_replaced(lake, &done, since_ms).await?;
    Ok(done)
}

/// The files a build's commits replaced in the current views and marts, deleted by
/// [`Replaced::delete`] once no reader still reads the tables as they were before the build.
#[derive(Debug)]
#[must_use = "the replaced files stay until deleted"]
pub struct Replaced {
    done: Vec<MartBuilt>,
    since_ms: i64,
}

impl Replaced {
    /// Deletes the replaced files. Call it once every session opened before the build is
    /// dropped: a query still running on one reads those files.
    pub async fn delete(self, lake: &Lake) -> Result<()> {
        remove_replaced(lake, &self.done, self.since_ms).await
    }
}

/// [`build`], then the session it built through, every mart it wrote taken as fresh: what
/// [`QueryLayer::open`] would give now, without opening the lake again (the cockpit, after an
/// upload, shows the new data through it). `previous`: the session in use until now, whose
/// findings still true are taken instead of found again. The files the build replaced are left
/// for the caller to delete ([`Replaced`]) once the previous session's readers are done.
pub async fn build_and_open(
    lake: &Lake,
    options: BuildOptions,
    previous: Option<&QueryLayer>,
    on_mart: impl FnMut(&MartBuilt),
) -> Result<(Vec<MartBuilt>, QueryLayer, Replaced)> {
    let since_ms = chrono::Utc::now().timestamp_millis();
    let (done, mut layer) = build_stages(lake, options, previous, on_mart).await?;
    let last: Vec<Mart> = Mart::all()
        .into_iter()
        .filter(|m| m.stage() == Mart::LAST_STAGE)
        .filter(|m| {
            done.iter()
                .any(|b| b.name == m.sql_name() && b.work != Work::Fresh)
        })
        .collect();
    layer.adopt(&last).await?;
    let replaced = Replaced {
        done: done.clone(),
        since_ms,
    };
    Ok((done, layer, replaced))
}

async fn build_stages(
    lake: &Lake,
    options: BuildOptions,
    previous: Option<&QueryLayer>,
    mut on_mart: impl FnMut(&MartBuilt),
) -> Result<(Vec<MartBuilt>, QueryLayer)> {
    let started = std::time::Instant::now();
    let step = |what: &str| {
        tracing::debug!(
            "build: {what} after {:.2} s",
            started.elapsed().as_secs_f64()
        )
    };
    // Stage by stage, each read through a session that finds the marts of the stages before
    // it fresh (the current views, then the kept helpers).
    let layer = match previous {
        Some(p) => QueryLayer::open_for_build_after(lake, p).await?,
        None => QueryLayer::open_for_build(lake).await?,
    };
    step("opened");
    let batches = layer.batches();
    let per_day = rows_per_day(&batches);
    let mut done = Vec::new();
    let scope = if options.full {
        None
    } else {
        school_scope(&layer, &batches).await?
    };
    step("scope found");
    let scope = scope.as_ref();
    let mut layer = layer;
    for stage in 0..=Mart::LAST_STAGE {
        let mut changed = Vec::new();
        for mart in Mart::all().into_iter().filter(|m| m.stage() == stage) {
            let built =
                build_again_if_busy(&layer, mart, &batches, &per_day, scope, options).await?;
            if built.work != Work::Fresh {
                changed.push(mart);
            }
            on_mart(&built);
            done.push(built);
        }
        // The next stage reads this one's tables as they are now.
        if stage < Mart::LAST_STAGE && !changed.is_empty() {
            layer.adopt(&changed).await?;
        }
    }
    Ok((done, layer))
}

/// [`build_one`], again when another build wrote the same mart at the same time (the cockpit
/// refreshing while `edulake build` runs): its record then says what is left to do, often
/// nothing.
async fn build_again_if_busy(
    layer: &QueryLayer,
    mart: Mart,
    batches: &[BatchRecord],
    per_day: &BTreeMap<NaiveDate, u64>,
    scope: Option<&SchoolScope>,
    options: BuildOptions,
) -> Result<MartBuilt> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match build_one(layer, mart, batches, per_day, scope, options).await {
            Err(TransformError::Busy(_)) if attempt < 5 => {}
            other => return other,
        }
    }
}

async fn build_one(
    layer: &QueryLayer,
    mart: Mart,
    batches: &[BatchRecord],
    per_day: &BTreeMap<NaiveDate, u64>,
    scope: Option<&SchoolScope>,
    options: BuildOptions,
) -> Result<MartBuilt> {
    let started = Instant::now();
    let lake = layer.lake();
    let want = layer.wanted_state(&mart);
    let existing = lake.load(&mart.table()).await?;
    let before = match &existing {
        Some(t) => state(t).await?,
        None => None,
    };
    let touched = if options.full {
        None
    } else if before.as_ref() == Some(&want) {
        return Ok(MartBuilt {
            name: mart.sql_name(),
            work: Work::Fresh,
            seconds: started.elapsed().as_secs_f64(),
        });
    } else {
        touched_days(layer, &mart, before.as_ref(), &want, batches).await?
    };
    // A follow-up alert on a day reads the days before it: a changed day changes the alerts
    // after it too.
    let touched = match (mart, touched) {
        (Mart::FollowUp, Some(days)) => Some(days_and_after(
            layer.data_days(),
            &days,
            indicators::FOLLOW_UP_RUN_DAYS,
        )),
        (_, touched) => touched,
    };
    let work = match (&touched, scope, &before) {
        (Some(days), Some(scope), Some(before))
            if !days.is_empty()
                && keeps_schools(existing.as_ref())
                && scope.covers(before, &want) =>
        {
            Work::Schools {
                days: days.iter().copied().collect(),
                schools: scope.schools.clone(),
            }
        }
        (Some(days), _, _) if !days.is_empty() => Work::Days(days.iter().copied().collect()),
        _ => Work::Full,
    };
    let schools = match &work {
        Work::Schools { schools, .. } => Some(schools.as_slice()),
        _ => None,
    };
    let days: Vec<NaiveDate> = match &work {
        Work::Days(days) | Work::Schools { days, .. } => days.clone(),
        _ if mart.dated() => layer.data_days().to_vec(),
        _ => Vec::new(),
    };
    // Chunks bound the rows read from the dated datasets; a mart that reads none of them
    // would only read its sources again for each chunk.
    let reads_dated = mart
        .sources()
        .iter()
        .any(|s| edulake_schemas::stored_by_name(s).is_some_and(|d| d.partition_by == ["date"]));
    let chunks = if matches!(mart, Mart::FollowUp) {
        // It reads only the sick days (and the days before its first): one pass.
        vec![days.clone()]
    } else if schools.is_some() {
        // A few schools' rows: a month of days at a time is small.
        days.chunks(31).map(<[NaiveDate]>::to_vec).collect()
    } else if mart.dated() && reads_dated {
        chunk_days(&days, per_day, mart.chunk_scale())
    } else if mart.dated() {
        vec![days.clone()]
    } else {
        vec![Vec::new()]
    };
    let mut table = match existing {
        Some(t) => t,
        None => DeltaTableBuilder::from_url(lake.table_url(&mart.table()))?.build()?,
    };
    let scoped = !matches!(mart, Mart::Current(_));
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        if scoped {
            let read = match (mart, chunk.first(), chunk.last()) {
                (Mart::FollowUp, Some(first), Some(last)) => {
                    let (from, to) = indicators::follow_up_window(*first, *last);
                    let data = layer.data_days();
                    data[data.partition_point(|d| *d < from)..data.partition_point(|d| *d <= to)]
                        .to_vec()
                }
                _ => chunk.clone(),
            };
            layer.scope(Some((read.as_slice(), schools)))?;
        }
        let sql = match mart {
            Mart::Current(d) if keeps_every_row(d) => {
                let days = mart.dated().then_some(chunk.as_slice());
                current_view_sql_with(d, &row_filter(days, schools), None)
            }
            Mart::Current(d) => {
                let days = mart.dated().then_some(chunk.as_slice());
                let keys = duplicate_keys(layer.context(), d, days, schools).await?;
                let filter = row_filter(days, schools);
                if keys.rows == 0 {
                    raw_rows_sql(d, &filter)
                } else {
                    layer.context().register_udf(keys.function(DUP_FUNCTION));
                    current_view_sql_with(d, &filter, Some(DUP_FUNCTION))
                }
            }
            _ => mart.sql(chunk, layer.helpers()),
        };
        let plan = layer.context().sql(&sql).await;
        if scoped {
            layer.scope(None)?;
        }
        let plan = plan?.logical_plan().clone();
        let mut commit = CommitProperties::default();
        if last {
            let json = |v: serde_json::Result<serde_json::Value>| {
                v.map_err(|e| TransformError::Internal(e.to_string()))
            };
            commit = commit.with_metadata([
                (STATE_KEY.to_string(), json(serde_json::to_value(&want))?),
                (
                    FOUND_KEY.to_string(),
                    json(serde_json::to_value(layer.found()))?,
                ),
            ]);
        }
        let mut write = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_session_state(Arc::new(layer.context().state()))
            .with_partition_columns(mart.partition_by())
            .with_writer_properties(mart.writer_properties())
            .with_commit_properties(commit);
        let on_days = || {
            col("date").in_list(
                chunk
                    .iter()
                    .map(|d| {
                        lit(ScalarValue::Date32(Some(
                            edulake_schemas::lake::days_since_epoch(*d),
                        )))
                    })
                    .collect(),
                false,
            )
        };
        write = match (&work, i) {
            (Work::Days(_), _) => write
                .with_save_mode(SaveMode::Overwrite)
                .with_replace_where(on_days()),
            (Work::Schools { schools, .. }, _) => write
                .with_save_mode(SaveMode::Overwrite)
                .with_replace_where(
                    on_days().and(
                        col("school_code")
                            .in_list(schools.iter().map(|s| lit(s.as_str())).collect(), false),
                    ),
                ),
            (_, 0) => write
                .with_save_mode(SaveMode::Overwrite)
                .with_schema_mode(SchemaMode::Overwrite),
            _ => write.with_save_mode(SaveMode::Append),
        };
        table = write.await.map_err(|e| {
            if crate::lake::is_lost_race(&e) {
                TransformError::Busy(format!("{}: {e}", mart.sql_name()))
            } else {
                e.into()
            }
        })?;
    }
    Ok(MartBuilt {
        name: mart.sql_name(),
        work,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Deletes the data files that a build's commits (made since `since_ms`) removed from the
/// current views and marts it wrote. These are rebuilt at will, so they keep no history: a
/// plain Parquet reader of a table's folder (a DuckDB glob) then reads exactly the rows a
/// Delta reader does. The raw tables are never rewritten, so they need nothing of this.
async fn remove_replaced(lake: &Lake, done: &[MartBuilt], since_ms: i64) -> Result<()> {
    for mart in Mart::all() {
        if !done
            .iter()
            .any(|b| b.name == mart.sql_name() && b.work != Work::Fresh)
        {
            continue;
        }
        if let Some(table) = lake.load(&mart.table()).await? {
            remove_replaced_files(&table, since_ms).await?;
        }
    }
    Ok(())
}

/// Deletes the files the commits made on `table` since `since_ms` removed from it: only files
/// a commit removed, never one another writer has written and not yet committed.
async fn remove_replaced_files(table: &DeltaTable, since_ms: i64) -> Result<()> {
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;
    let log_store = table.log_store();
    let replaced: Vec<String> = table
        .snapshot()?
        .all_tombstones(log_store.as_ref())
        .try_filter_map(|t| {
            let path =
                (t.deletion_timestamp().unwrap_or(0) >= since_ms).then(|| t.path().to_string());
            futures::future::ready(Ok(path))
        })
        .try_collect()
        .await?;
    let store = table.object_store();
    for path in replaced {
        let at = object_store::path::Path::parse(&path)
            .unwrap_or_else(|_| object_store::path::Path::from(path.as_str()));
        match store.delete(&at).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            // A file left behind is read by no Delta reader; only a glob would see it.
            Err(e) => tracing::warn!("could not remove the replaced file {path}: {e}"),
        }
    }
    Ok(())
}

/// Whether a mart's table has a `school_code` column, so that a build may replace one
/// school's rows.
fn keeps_schools(table: Option<&DeltaTable>) -> bool {
    table
        .and_then(|t| t.snapshot().ok())
        .is_some_and(|s| s.schema().field("school_code").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marts_know_what_they_read() {
        let by_name = |n: &str| Mart::all().into_iter().find(|m| m.sql_name() == n).unwrap();
        // Attendance in every shape: rows, exception registers (derived from the roster) and
        // class reports.
        let every_shape = vec![
            "enrolment",
            "attendance",
            "class_report",
            "attendance_exceptions",
        ];
        assert_eq!(by_name("mart_attendance_rate").sources(), every_shape);
        assert_eq!(
            by_name("mart_attendance_reporting_rate").sources(),
            every_shape
        );
        assert_eq!(
            by_name("mart_health_report_rate").sources(),
            vec!["enrolment", "health_report", "class_report"]
        );
        assert_eq!(
            by_name("mart_notice_read_rate").sources(),
            vec!["notices", "notice_reads", "notice_read_counts"]
        );
        assert_eq!(
            by_name("mart_alerts").sources(),
            vec![
                "enrolment",
                "attendance",
                "health_report",
                "class_report",
                "attendance_exceptions"
            ]
        );
        assert!(Mart::all().iter().all(|m| !m.definition().is_empty()));
    }

    #[test]
    fn chunks_follow_the_rows_per_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let batch = |dates: &[&str], rows: u64| BatchRecord {
            batch_id: "b".into(),
            dataset: "attendance".into(),
            school_code: None,
            as_of_date: None,
            upload: None,
            source_file: "f".into(),
            source_sha256: "h".into(),
            format: "csv".into(),
            rows_read: rows,
            rows_stored: rows,
            rows_rejected: 0,
            ingested_at: 0,
            table_version: 1,
            dates: dates.iter().map(|s| s.to_string()).collect(),
            reject_report: None,
        };
        let days = vec![
            d("2026-09-01"),
            d("2026-09-02"),
            d("2026-09-03"),
            d("2026-09-04"),
        ];
        let batches = vec![
            batch(&["2026-09-01", "2026-09-02"], CHUNK_ROWS * 3 / 2),
            batch(&["2026-09-03"], CHUNK_ROWS / 8),
        ];
        let chunks = chunk_days(&days, &rows_per_day(&batches), 1);
        assert_eq!(
            chunks,
            vec![
                vec![d("2026-09-01")],
                vec![d("2026-09-02"), d("2026-09-03"), d("2026-09-04")]
            ]
        );
        assert_eq!(
            chunk_days(&[], &rows_per_day(&batches), 1),
            vec![Vec::<NaiveDate>::new()]
        );
    }
}
