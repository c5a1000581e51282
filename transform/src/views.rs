//! The tables a user sees, registered in one DataFusion session.
//!
//! - `<dataset>`: the current view of a dataset: for each key, the row of the latest upload
//!   ("later upload wins"; within one file, the later row).
//! - `raw_<dataset>`: every row ever ingested, with the batch it came from.
//! - `attendance_exceptions`: exception registers as sent (listed students, covered class-days).
//! - `attendance_rows`, `class_report_days`, `class_days`: attendance as the indicators count
//!   it (the helpers of the same names, see [`crate::indicators`]).
//! - `batches`: one row per ingested file (see `edulake batches`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{col, lit, SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;
use deltalake::delta_datafusion::planner::DeltaPlanner;

use chrono::NaiveDate;
use edulake_schemas::lake::BatchRecord;
use edulake_schemas::Dataset;

mod asked;
mod families;
mod filtered;

pub(crate) use asked::read_only_stream;

use crate::bounded::{self, Limits};
use crate::error::{Result, TransformError};
use crate::indicators::{self, Request};
use crate::lake::{bureau_tz, Lake};
use crate::marts::{self, Mart};
use crate::registry::{
    found_by_a_build, other_days, preload, register_batches, register_table, tables_with_local_ids,
};

/// The one place user reads go through. Clones share the session and what was read.
#[derive(Clone)]
pub struct QueryLayer {
    ctx: SessionContext,
    lake: Lake,
    /// The Delta version of each dataset's raw table as loaded (−1: not created yet).
    versions: BTreeMap<String, i64>,
    /// The marts found fresh, by table name: their rows are what the views would give now.
    fresh: HashMap<String, bool>,
    /// The current views a build scopes, unscoped, and whether each is dated (see
    /// [`QueryLayer::scope`]).
    scopable: HashMap<&'static str, (Arc<dyn TableProvider>, bool)>,
    /// The dates of the dated raw tables' partitions (attendance, health reports), read from
    /// their file lists, sorted.
    event_days: Vec<NaiveDate>,
    /// Every date with data, sorted: the partitions, roster snapshots and notices' days. What
    /// a read or a build spans is these days, never every day between the first and last.
    data_days: Vec<NaiveDate>,
    /// The tables holding rows sent with only a local id, whose ids the helpers resolve.
    local_ids: indicators::LocalIds,
    /// Every batch of the lake as this session reads it (its `batches` table).
    batches: Arc<Vec<BatchRecord>>,
    /// The hidden cells decided for restricted readers, by indicator, scope and periods
    /// ([`indicators::suppress`]): decided once for the lake as this session reads it.
    families: Arc<std::sync::Mutex<HashMap<String, Arc<families::FamilyCell>>>>,
}

/// The SQL of a dataset's current view; with `days`, only the rows of those days (for a
/// dataset whose key holds its date, the current rows of those days are exact).
///
/// Most keys have one row, so the rows whose key is unique pass as they are, and only the
/// keys sent more than once (`dup`) are ranked: later upload, then later row, wins.
pub fn current_view_sql(d: &Dataset, days: Option<&[NaiveDate]>) -> String {
    current_view_sql_with(d, &day_filter(days), None)
}

/// [`current_view_sql`] of the raw rows passing `filter` (a [`row_filter`]); with
/// `dup_function`, the keys sent more than once already known, as a SQL function of the key
/// columns (the build finds them faster than a SQL aggregate does, see
/// [`marts::DupKeys`]). A filter on schools is exact only where no key of those schools' rows
/// is shared with another school's row (the build checks).
///
/// Without the function, the view is plain SQL that any engine runs (`edulake build
/// --show-sql`): the duplicated keys by an aggregate, joined.
pub fn current_view_sql_with(d: &Dataset, filter: &str, dup_function: Option<&str>) -> String {
    if keeps_every_row(d) {
        return format!("SELECT * FROM raw_{}{filter}", d.name);
    }
    let cols = current_columns(d);
    let key: Vec<String> = d.key_stored().iter().map(|k| format!("\"{k}\"")).collect();
    let Some(f) = dup_function else {
        let same_key = d
            .key_stored()
            .iter()
            .map(|k| format!("dup.\"{k}\" = r.\"{k}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        return format!(
            "WITH r AS (SELECT * FROM raw_{name}{filter}), dup AS (SELECT {key} FROM r GROUP BY {key} HAVING count(*) > 1) \
             SELECT {cols} FROM r WHERE NOT EXISTS (SELECT 1 FROM dup WHERE {same_key}) \
             UNION ALL \
             SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _ingested_at DESC, _row DESC) AS _rn \
               FROM r WHERE EXISTS (SELECT 1 FROM dup WHERE {same_key})) WHERE _rn = 1",
            cols = cols.join(", "),
            key = key.join(", "),
            name = d.name
        );
    };
    let call = format!("{f}({})", key.join(", "));
    format!(
        "WITH r AS (SELECT * FROM raw_{name}{filter}) \
         SELECT {cols} FROM r WHERE NOT {call} \
         UNION ALL \
         SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _ingested_at DESC, _row DESC) AS _rn \
           FROM r WHERE {call}) WHERE _rn = 1",
        cols = cols.join(", "),
        key = key.join(", "),
        name = d.name
    )
}

/// Whether a raw table's current view is every row as sent: the tables of other shapes (an
/// exception register's rows and coverage), where the helpers decide which row wins. Their
/// current table is the rows compacted (a register comes as one small file a school a day).
pub fn keeps_every_row(d: &Dataset) -> bool {
    edulake_schemas::by_name(d.name).is_none()
}

/// The columns of a current view: the dataset's, and the batch each row came from.
fn current_columns(d: &Dataset) -> Vec<String> {
    d.columns
        .iter()
        .map(|c| format!("\"{}\"", c.stored_name()))
        .chain(["_batch_id".to_string(), "_ingested_at".to_string()])
        .collect()
}

/// ` WHERE date IN (…)` for these days, or nothing.
pub fn day_filter(days: Option<&[NaiveDate]>) -> String {
    row_filter(days, None)
}

/// ` WHERE date IN (…) AND school_code IN (…)` for these days and schools, or what of it
/// applies.
pub fn row_filter(days: Option<&[NaiveDate]>, schools: Option<&[String]>) -> String {
    let mut terms = Vec::new();
    if let Some(days) = days {
        terms.push(format!("date IN ({})", marts::date_list(days)));
    }
    if let Some(schools) = schools {
        terms.push(format!("school_code IN ({})", school_list(schools)));
    }
    if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    }
}

/// School codes as a SQL list of string literals.
pub fn school_list(schools: &[String]) -> String {
    if schools.is_empty() {
        return "NULL".into();
    }
    schools
        .iter()
        .map(|s| crate::indicators::sql_str(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of a dataset passing `filter` (a [`row_filter`]) as they are: its current rows
/// when no key was sent twice.
pub fn raw_rows_sql(d: &Dataset, filter: &str) -> String {
    let cols = current_columns(d);
    format!("SELECT {} FROM raw_{}{filter}", cols.join(", "), d.name)
}

/// The memory DataFusion may hold before it spills to disk: `EDULAKE_MEMORY_MB`, else 4 GiB.
fn memory_limit() -> usize {
    std::env::var("EDULAKE_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(4096)
        << 20
}

/// The name a build scopes a mart's table by (to the days and schools it recomputes), and
/// whether by date: the current views of the dated datasets and the roster, and the kept
/// helpers. The indicator marts read them and are not read by other marts.
fn scoped_as(mart: &Mart) -> Option<(&'static str, bool)> {
    match mart {
        Mart::Current(d) if d.partition_by == ["date"] || d.name == "enrolment" => {
            Some((d.name, d.partition_by == ["date"]))
        }
        Mart::Kept(name) => Some((name, true)),
        _ => None,
    }
}

impl QueryLayer {
    /// A session over the lake as it is now: each mart that is fresh answers for its view,
    /// every other one is computed from the raw tables at query time.
    pub async fn open(lake: &Lake) -> Result<QueryLayer> {
        Self::open_with(lake, false, None).await
    }

    /// A session for the build: a stale current view is left as its plain SQL instead of
    /// finding its duplicate keys first (the build reads the raw tables for those), and a
    /// stale indicator mart has no view (the build computes it from its SQL, and takes it as
    /// a table once written: [`QueryLayer::adopt`]).
    pub async fn open_for_build(lake: &Lake) -> Result<QueryLayer> {
        Self::open_with(lake, true, None).await
    }

    /// [`QueryLayer::open_for_build`], taking what a session opened before over the same lake
    /// knew and still holds (the tables with local ids), instead of finding it again.
    pub async fn open_for_build_after(lake: &Lake, previous: &QueryLayer) -> Result<QueryLayer> {
        Self::open_with(lake, true, Some(previous)).await
    }

    async fn open_with(
        lake: &Lake,
        for_build: bool,
        previous: Option<&QueryLayer>,
    ) -> Result<QueryLayer> {
        let started = std::time::Instant::now();
        let step = |what: &str| {
            tracing::debug!(
                "open: {what} after {:.2} s",
                started.elapsed().as_secs_f64()
            )
        };
        // Text as compact strings (`Utf8`), from the scans and from `CAST(x AS VARCHAR)`: a
        // scan's string views point into its whole decoded pages, and a join or sort holding
        // a few rows of many batches was counted (and kept) every page in full (2.6 GB
        // counted for 335 MiB held; at 2,000 schools the build ran out of its pool).
        // DataFusion's own settings from `DATAFUSION_*` variables first (an operator tuning a
        // machine: `DATAFUSION_EXECUTION_BATCH_SIZE=16384`); the ones below are ours.
        let mut config = SessionConfig::from_env()?
            .with_information_schema(true)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        config.options_mut().sql_parser.map_string_types_to_utf8view = false;
        config
            .options_mut()
            .execution
            .parquet
            .schema_force_view_types = false;
        // Filters evaluated while decoding: a school's rows of a month of per-student rows
        // are found without decoding every other school's (its page is 3x faster; a full
        // build is no slower).
        config.options_mut().execution.parquet.pushdown_filters = true;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(memory_limit())))
            .build_arc()?;
        // Delta's planner too: the build writes marts through this session.
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_query_planner(DeltaPlanner::new())
            .build();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_udf(crate::udf::local_date(bureau_tz()?));
        crate::bounded::register_bounded_functions(&ctx);
        preload(lake).await?;
        step("tables loaded");
        let mut versions = BTreeMap::new();
        let mut event_days: BTreeSet<NaiveDate> = BTreeSet::new();
        for d in edulake_schemas::stored() {
            let (v, days) = register_table(
                &ctx,
                lake,
                d.name,
                &format!("raw_{}", d.name),
                d.lake_schema(),
            )
            .await?;
            versions.insert(d.name.to_string(), v);
            event_days.extend(days);
        }
        step("raw tables");
        let batches = lake.batches().await?;
        register_batches(&ctx, &batches)?;
        step("batches");
        let data_days = other_days(&ctx, &event_days).await?;
        step("data days");
        let known = match previous {
            Some(p) => Some(p.found()),
            None => found_by_a_build(lake, &versions).await?,
        };
        let local_ids = tables_with_local_ids(&ctx, &versions, &batches, known).await?;
        step("local ids");
        let mut layer = QueryLayer {
            ctx,
            lake: lake.clone(),
            versions,
            fresh: HashMap::new(),
            scopable: HashMap::new(),
            event_days: event_days.into_iter().collect(),
            data_days,
            local_ids,
            batches,
            families: Default::default(),
        };
        let mut stale_indicators = Vec::new();
        for mart in Mart::all() {
            let table = match lake.load(&mart.table()).await? {
                Some(t) if marts::state(&t).await? == Some(layer.wanted_state(&mart)) => Some(t),
                _ => None,
            };
            layer.fresh.insert(mart.table(), table.is_some());
            match (table, mart) {
                (Some(t), _) => {
                    let provider = crate::registry::provider(&layer.ctx, &t).await?;
                    layer.ctx.register_table(mart.sql_name(), provider)?;
                }
                (None, Mart::Current(d)) if for_build || keeps_every_row(d) => {
                    layer
                        .ctx
                        .sql(&format!(
                            "CREATE VIEW {} AS {}",
                            d.name,
                            current_view_sql(d, None)
                        ))
                        .await?;
                }
                (None, Mart::Current(d)) => {
                    // The keys sent more than once, found now; then the view ranks only them.
                    let days = (d.partition_by == ["date"]).then(|| layer.event_days.clone());
                    let dups = marts::duplicate_keys(&layer.ctx, d, days.as_deref(), None).await?;
                    let view = if dups.rows == 0 {
                        raw_rows_sql(d, "")
                    } else {
                        let function = format!("edulake_dup_key_{}", d.name);
                        layer.ctx.register_udf(dups.function(&function));
                        current_view_sql_with(d, "", Some(&function))
                    };
                    layer
                        .ctx
                        .sql(&format!("CREATE VIEW {} AS {view}", d.name))
                        .await?;
                }
                // Stale, the helper is computed where it is named (its view below).
                (None, Mart::Kept(_)) => {}
                // A build computes a stale mart's rows from its SQL, not from its name.
                (None, _) if for_build => {}
                (None, other) => stale_indicators.push(other),
            }
            // A stale kept helper is computed where it is named: nothing to scope.
            let stale_helper = matches!(mart, Mart::Kept(_)) && !layer.is_fresh(&mart);
            if let (Some((name, dated)), false) = (scoped_as(&mart), stale_helper) {
                let provider = layer.ctx.table_provider(name).await?;
                layer.scopable.insert(name, (provider, dated));
            }
        }
        step("marts");
        // Attendance as the indicators count it, for `sql`: every per-student row (sent or
        // from a register) and each class-day's numbers with the shape they came from.
        for (name, sql) in indicators::helpers_without_periods(layer.helpers()) {
            layer
                .ctx
                .sql(&format!("CREATE VIEW {name} AS {sql}"))
                .await?;
        }
        // A stale mart is still a table for `sql`: the same rows, computed now.
        for mart in stale_indicators {
            layer
                .ctx
                .sql(&format!(
                    "CREATE VIEW {} AS {}",
                    mart.sql_name(),
                    mart.sql(&layer.data_days, layer.helpers())
                ))
                .await?;
        }
        step("views");
        Ok(layer)
    }

    /// Takes the marts a build has just written as fresh, as opening the session again would
    /// find them (at city scale an open reads every table's log and every mart's record: about
    /// two seconds, once per stage of an incremental build): each name now reads its table, a
    /// build scopes it like the other tables, and the helpers' views for `sql` follow.
    pub async fn adopt(&mut self, built: &[Mart]) -> Result<()> {
        for mart in built {
            let Some(table) = self.lake.load(&mart.table()).await? else {
                continue;
            };
            if marts::state(&table).await?.as_ref() != Some(&self.wanted_state(mart)) {
                continue;
            }
            let provider = crate::registry::provider(&self.ctx, &table).await?;
            self.ctx.deregister_table(mart.sql_name())?;
            self.ctx.register_table(mart.sql_name(), provider.clone())?;
            self.fresh.insert(mart.table(), true);
            if let Some((name, dated)) = scoped_as(mart) {
                self.scopable.insert(name, (provider, dated));
            }
        }
        for (name, sql) in indicators::helpers_without_periods(self.helpers()) {
            self.ctx
                .sql(&format!("CREATE OR REPLACE VIEW {name} AS {sql}"))
                .await?;
        }
        Ok(())
    }

    /// What this session found in the raw tables, and their versions it read.
    pub fn found(&self) -> marts::Found {
        marts::Found {
            local_ids: self.local_ids,
            versions: self.versions.clone(),
        }
    }

    /// Every batch of the lake as this session reads it, oldest first.
    pub fn batches(&self) -> Arc<Vec<BatchRecord>> {
        self.batches.clone()
    }

    /// The tables holding rows sent with only a local id (see [`indicators::LocalIds`]).
    pub fn local_ids(&self) -> indicators::LocalIds {
        self.local_ids
    }

    /// How this session reads the helpers: its local ids, and each kept helper from its
    /// table where that is fresh.
    pub fn helpers(&self) -> indicators::Helpers {
        let kept = indicators::KEPT
            .iter()
            .filter(|(name, _)| self.is_fresh(&Mart::Kept(name)))
            .fold(indicators::Kept::NONE, |k, (name, _)| k.with(name));
        indicators::Helpers {
            ids: self.local_ids,
            kept,
        }
    }

    /// The lake this session reads.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// The raw tables' versions a mart depends on, as they are in this session.
    pub fn sources_of(&self, mart: &Mart) -> BTreeMap<String, i64> {
        mart.sources()
            .into_iter()
            .map(|s| (s.to_string(), self.versions.get(s).copied().unwrap_or(-1)))
            .collect()
    }

    /// What a mart must have been built from to be fresh in this session.
    pub fn wanted_state(&self, mart: &Mart) -> marts::MartState {
        marts::MartState {
            definition: mart.definition(),
            sources: self.sources_of(mart),
        }
    }

    /// Whether a mart was found fresh when this session opened.
    pub fn is_fresh(&self, mart: &Mart) -> bool {
        self.fresh.get(&mart.table()).copied().unwrap_or(false)
    }

    /// Restricts the current views a day's indicator rows read to these days (attendance,
    /// health_report) and, with `schools`, to these schools (those two and the roster), or
    /// lifts the restriction (`None`). Used by the build, whose day rows only read their day,
    /// and whose rows of a school only read that school.
    pub fn scope(&self, scope: Option<(&[NaiveDate], Option<&[String]>)>) -> Result<()> {
        for (name, (base, dated)) in &self.scopable {
            self.ctx.deregister_table(*name)?;
            let Some((days, schools)) = scope else {
                self.ctx.register_table(*name, base.clone())?;
                continue;
            };
            let mut view = self.ctx.read_table(base.clone())?;
            if *dated {
                let list = days
                    .iter()
                    .map(|d| {
                        lit(ScalarValue::Date32(Some(
                            edulake_schemas::lake::days_since_epoch(*d),
                        )))
                    })
                    .collect();
                view = view.filter(col("date").in_list(list, false))?;
            }
            if let Some(schools) = schools {
                let list = schools.iter().map(|s| lit(s.as_str())).collect();
                view = view.filter(col("school_code").in_list(list, false))?;
            }
            self.ctx.register_table(*name, view.into_view())?;
        }
        Ok(())
    }

    /// Runs a read-only query someone typed (no DDL, no DML, no `SET`), within the command
    /// line's [`Limits`], and collects its result.
    pub async fn sql(&self, query: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        self.sql_within(query, &Limits::command_line()).await
    }

    /// [`QueryLayer::sql`] within these limits.
    pub async fn sql_within(
        &self,
        query: &str,
        limits: &Limits,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let (schema, stream) = self.sql_stream(query).await?;
        let pool = self.ctx.runtime_env().memory_pool.clone();
        Ok((schema, bounded::collect(stream, &pool, limits).await?))
    }

    /// A read-only query someone typed, checked against the command line's text limits, as
    /// a stream of batches (for writing out as they come; bound it in time with
    /// [`bounded::with_deadline`]).
    pub async fn sql_stream(
        &self,
        query: &str,
    ) -> Result<(SchemaRef, datafusion::execution::SendableRecordBatchStream)> {
        read_only_stream(&self.ctx, query).await
    }

    /// The session, for the indicators built on it.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Runs edulake's own SQL, its result within the command line's [`Limits`].
    pub(crate) async fn run(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        self.run_within(sql, &Limits::command_line()).await
    }

    /// Runs edulake's own SQL, its result drawn from the memory pool and within `limits`.
    async fn run_within(
        &self,
        sql: &str,
        limits: &Limits,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let df = self.ctx.sql(sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let pool = self.ctx.runtime_env().memory_pool.clone();
        let stream = df.execute_stream().await?;
        Ok((schema, bounded::collect(stream, &pool, limits).await?))
    }

    /// Of these (school, first day) pairs, those with no roster in force on that day: an
    /// exception register there has no one to count as present until a roster arrives.
    pub async fn without_roster(
        &self,
        covered: &[(String, NaiveDate)],
    ) -> Result<Vec<(String, NaiveDate)>> {
        use arrow::array::{Array, AsArray};
        if covered.is_empty() {
            return Ok(Vec::new());
        }
        let (_, batches) = self
            .run("SELECT school_code, min(as_of_date) AS first FROM enrolment GROUP BY school_code")
            .await?;
        let mut first: HashMap<String, NaiveDate> = HashMap::new();
        for b in &batches {
            let schools = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
            let schools = schools.as_string::<i32>();
            let days = b.column(1).as_primitive::<arrow::datatypes::Date32Type>();
            for i in 0..b.num_rows() {
                if !days.is_null(i) {
                    first.insert(
                        schools.value(i).to_string(),
                        edulake_schemas::lake::date_from_days(days.value(i)),
                    );
                }
            }
        }
        Ok(covered
            .iter()
            .filter(|(school, day)| first.get(school).is_none_or(|f| f > day))
            .cloned()
            .collect())
    }

    /// The first and last date with data in the lake (events, roster snapshots, notices).
    pub async fn data_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        Ok(self
            .data_days
            .first()
            .copied()
            .zip(self.data_days.last().copied()))
    }

    /// Every date with data in the lake, sorted (events, roster snapshots, notices' days).
    pub fn data_days(&self) -> &[NaiveDate] {
        &self.data_days
    }

    /// The range a request covers: what it asks, completed with the data's range. With no
    /// data and no range asked, an empty range (from after to), which gives no rows.
    async fn range(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<(NaiveDate, NaiveDate)> {
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(TransformError::BadQuery(format!(
                    "--from {f} is after --to {t}"
                )));
            }
        }
        let data = self.data_range().await?;
        match (from.or(data.map(|d| d.0)), to.or(data.map(|d| d.1))) {
            (Some(f), Some(t)) if f <= t => Ok((f, t)),
            _ => {
                let today = chrono::Utc::now().with_timezone(&bureau_tz()?).date_naive();
                Ok((today + chrono::Duration::days(1), today))
            }
        }
    }

    /// An indicator in the export format of INDICATORS.md.
    pub async fn export(&self, req: &Request) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        self.export_within(req, &Limits::command_line()).await
    }

    /// [`QueryLayer::export`] with its result within `limits` (a download). For anyone but
    /// the bureau, small cells are suppressed, and the cells that would give them back
    /// (complementary suppression, [`indicators::suppress`]).
    pub async fn export_within(
        &self,
        req: &Request,
        limits: &Limits,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        // A restricted reader's request never reaches past its scope.
        let mut req = req.clone();
        if req.role == indicators::Role::Restricted {
            if let Some(s) = &req.within.school {
                req.school = Some(s.clone());
            }
            if let Some(d) = &req.within.district {
                req.district = Some(d.clone());
            }
        }
        if !req.filters.is_empty() {
            // Boxed: its session's futures are large, and every export's caller would carry
            // them on its stack.
            return Box::pin(self.export_filtered(&req, limits)).await;
        }
        self.export_cells(&req, limits).await
    }

    /// An unfiltered export, its request within the reader's scope.
    async fn export_cells(
        &self,
        req: &Request,
        limits: &Limits,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let (schema, batches) = self
            .run_within(&self.export_sql(req).await?, limits)
            .await?;
        if req.role == indicators::Role::Bureau {
            return Ok((schema, batches));
        }
        let ind = indicators::by_name(&req.indicator)?;
        if !indicators::suppress::applies(ind) {
            return Ok((schema, batches));
        }
        let family = self.family(ind, req).await?;
        let range = self.range(req.from, req.to).await?;
        let batches = indicators::suppress::apply(
            ind,
            req,
            range,
            &self.data_days,
            &family,
            schema.clone(),
            batches,
        )?;
        Ok((schema, batches))
    }

    /// The SQL an export runs: from the indicator's mart when it is fresh, else from the
    /// current views.
    pub async fn export_sql(&self, req: &Request) -> Result<String> {
        let ind = indicators::by_name(&req.indicator)?;
        let (from, to) = self.range(req.from, req.to).await?;
        let mart = Mart::Indicator(ind);
        let from_mart = (ind.mart && self.is_fresh(&mart)).then(|| mart.sql_name());
        indicators::export_sql(
            ind,
            req,
            (from, to),
            &self.data_days,
            from_mart.as_deref(),
            self.helpers(),
        )
    }

    /// The alerts (kind, district, school, class, date, count) between two dates.
    pub async fn alerts(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        threshold: u32,
        kind: indicators::AlertKind,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let (from, to) = self.range(from, to).await?;
        let fresh = |mart: Mart| self.is_fresh(&mart).then(|| mart.sql_name());
        let (cluster, follow_up) = (fresh(Mart::Alerts), fresh(Mart::FollowUp));
        let (schema, batches) = self
            .run(&indicators::alerts_sql(
                (from, to),
                &self.data_days,
                threshold,
                kind,
                indicators::AlertMarts {
                    cluster: cluster.as_deref(),
                    follow_up: follow_up.as_deref(),
                },
                self.helpers(),
            )?)
            .await?;
        // By date, school, class, then kind. (A mart's text comes as views: the batches'
        // own schema, not the plan's, says so.)
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            return Ok((schema, Vec::new()));
        };
        let all = arrow::compute::concat_batches(&schema, &batches)?;
        let column = |name: &str| -> Result<arrow::array::ArrayRef> {
            let i = schema.index_of(name)?;
            Ok(arrow::compute::cast(
                all.column(i),
                &arrow::datatypes::DataType::Utf8,
            )?)
        };
        let keys = ["date", "school_code", "class_code", "kind"]
            .iter()
            .map(|name| {
                Ok(arrow::compute::SortColumn {
                    values: column(name)?,
                    options: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let order = arrow::compute::lexsort_to_indices(&keys, None)?;
        let sorted = arrow::compute::take_record_batch(&all, &order)?;
        Ok((schema, vec![sorted]))
    }
}

/// The SQL tables, for the data dictionary.
pub fn tables_markdown() -> String {
    let mut out =
        String::from("## Tables for `edulake sql`\n\n| table | what it holds |\n|---|---|\n");
    for d in edulake_schemas::all() {
        out.push_str(&format!(
            "| `{0}` | current view of {0}: one row per key ({1}), the latest upload winning; pseudonymised |\n| `raw_{0}` | every row ever ingested into {0}, with `_batch_id`, `_ingested_at`, `_row` |\n",
            d.name,
            d.key.join(", ")
        ));
    }
    out.push_str(
        "| `attendance_rows` | attendance as the indicators count it: one row per (date, student), sent or \
         listed in or derived from an exception register (`source`: rows or register), with `attended` and `absence` |\n\
         | `class_days` | each (school, class, date)'s attendance from the finest shape held (`shape`: rows, register, \
         class_report or school_report): expected, present, late, sick_absent, personal_absent |\n\
         | `class_report_days` | class reports per (school, class, date), sessions merged (attendance of the first \
         session, each symptom the largest) |\n",
    );
    out.push_str(
        "| `attendance_exceptions` | attendance sent as exception registers (`ingest --exceptions`), as sent: \
         the students listed, and a row without a student for each (school, class, date) a register covers \
         (no class: the whole school) |\n",
    );
    out.push_str("| `batches` | one row per ingested file: ");
    let names: Vec<String> = edulake_schemas::lake::batches_schema()
        .fields()
        .iter()
        .map(|f| format!("`{}`", f.name()))
        .collect();
    out.push_str(&names.join(", "));
    out.push_str(" |\n");
    out
}
