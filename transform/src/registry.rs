//! Registering the lake's tables in a session: each Delta table (or an empty one of its
//! schema, or a view adding a column an older table lacks), the batch index caught up with its
//! commits, and what the open reads once (the days with data, the tables with local ids).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use edulake_schemas::lake::{batch_records_to_arrow, BatchRecord, BATCHES_TABLE};

use crate::error::{Result, TransformError};
use crate::indicators;
use crate::lake::Lake;
use crate::marts::{Found, Mart};

/// A Delta table's provider in this session, reading as the session's settings say: text as
/// compact strings (`Utf8`), not views into the decoded pages, which joins and sorts holding
/// a few rows of many batches would count (and keep) in full.
pub(crate) async fn provider(
    ctx: &SessionContext,
    t: &deltalake::DeltaTable,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    t.update_datafusion_session(&ctx.state())?;
    Ok(t.table_provider()
        .with_session(Arc::new(ctx.state()))
        .await?)
}

/// Registers a Delta table, or an empty table of the same schema if it does not exist yet,
/// so queries over a fresh lake answer with no rows instead of an error. Returns the version
/// registered (−1 for none) and, for a table partitioned by date, the dates of its partitions.
pub(crate) async fn register_table(
    ctx: &SessionContext,
    lake: &Lake,
    table: &str,
    as_name: &str,
    schema: SchemaRef,
) -> Result<(i64, BTreeSet<NaiveDate>)> {
    match lake.load(table).await? {
        Some(t) => {
            let provider = provider(ctx, &t).await?;
            let have = provider.schema();
            let lacking = schema
                .fields()
                .iter()
                .any(|f| have.field_with_name(f.name()).is_err());
            if lacking {
                // A table written before a column was added to its dataset (a lake opened
                // read-only, not yet written by this version): the column reads as empty.
                let stored = format!("{as_name}__stored");
                ctx.register_table(&stored, provider)?;
                let cols: Vec<String> = schema
                    .fields()
                    .iter()
                    .map(|f| match have.field_with_name(f.name()) {
                        Ok(_) => format!("\"{}\"", f.name()),
                        Err(_) => {
                            format!("arrow_cast(NULL, '{}') AS \"{}\"", f.data_type(), f.name())
                        }
                    })
                    .collect();
                ctx.sql(&format!(
                    "CREATE VIEW {as_name} AS SELECT {} FROM {stored}",
                    cols.join(", ")
                ))
                .await?;
            } else {
                ctx.register_table(as_name, provider)?;
            }
            let days = t
                .get_file_uris()?
                .filter_map(|uri| {
                    uri.split('/')
                        .find_map(|part| part.strip_prefix("date="))
                        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                })
                .collect();
            Ok((t.version().map_or(-1, |v| v as i64), days))
        }
        None => {
            let empty = MemTable::try_new(schema, vec![vec![]])?;
            ctx.register_table(as_name, Arc::new(empty))?;
            Ok((-1, BTreeSet::new()))
        }
    }
}

/// Loads every table a session reads (the datasets, the batch index, the marts) at once, each
/// on its own task: a city's big tables take a few tenths of a second each to load, mostly
/// decoding their logs. The lake keeps them; the session's reads take them from there.
pub(crate) async fn preload(lake: &Lake) -> Result<()> {
    let names = edulake_schemas::stored()
        .iter()
        .map(|d| d.name.to_string())
        .chain([BATCHES_TABLE.to_string()])
        .chain(Mart::all().into_iter().map(|m| m.table()));
    let mut loads = tokio::task::JoinSet::new();
    for name in names {
        let lake = lake.clone();
        loads.spawn(async move { lake.load(&name).await.map(|_| ()) });
    }
    while let Some(done) = loads.join_next().await {
        done.map_err(|e| TransformError::Internal(format!("loading a table: {e}")))??;
    }
    Ok(())
}

/// Registers `batches`, the lake's batches as a session read them once ([`Lake::batches`]).
pub(crate) fn register_batches(ctx: &SessionContext, batches: &[BatchRecord]) -> Result<()> {
    let started = std::time::Instant::now();
    let rows = batch_records_to_arrow(batches)?;
    tracing::debug!(
        "batch index: as a table in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let table = MemTable::try_new(rows.schema(), vec![vec![rows]])?;
    let _ = ctx.deregister_table("batches")?;
    ctx.register_table("batches", Arc::new(table))?;
    Ok(())
}

/// What the latest build found in the raw tables (kept with the marts it wrote), if every
/// table has been read by it at a version no later than now's.
pub(crate) async fn found_by_a_build(
    lake: &Lake,
    versions: &BTreeMap<String, i64>,
) -> Result<Option<Found>> {
    let mut latest: Option<Found> = None;
    for mart in Mart::all() {
        let Some(table) = lake.load(&mart.table()).await? else {
            continue;
        };
        let Some(found) = crate::marts::found(&table).await? else {
            continue;
        };
        let usable = found
            .versions
            .iter()
            .all(|(t, v)| versions.get(t).is_some_and(|now| v <= now));
        let later = |f: &Found| f.versions.values().sum::<i64>();
        if usable && latest.as_ref().is_none_or(|l| later(&found) > later(l)) {
            latest = Some(found);
        }
    }
    Ok(latest)
}

/// The tables holding any row sent with only a local id (its `student_id` is the local id's
/// pseudonym), and whether any register row stands for a leave approval's span. Files without
/// such rows are passed over by their statistics.
///
/// `known`: what was found before, and the versions read then (by a session opened before, or
/// the build that wrote the marts). A table never loses such rows, so one that had them still
/// has them; one that had none then is looked at only in the partitions of the batches
/// committed since (a city's tables would otherwise be searched at every build and every
/// refresh of the cockpit).
pub(crate) async fn tables_with_local_ids(
    ctx: &SessionContext,
    versions: &BTreeMap<String, i64>,
    batches: &[BatchRecord],
    known: Option<Found>,
) -> Result<indicators::LocalIds> {
    use indicators::LocalIds;
    // What to look for, in which table: rows with only a local id, and leave spans.
    let checks = LocalIds::TABLES
        .iter()
        .map(|t| (*t, *t, "local_id IS NOT NULL AND student_id = local_id"))
        .chain([(
            LocalIds::LEAVES,
            edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name,
            "leave_start IS NOT NULL",
        )]);
    let mut found = Vec::new();
    for (what, t, predicate) in checks {
        let mut filter = String::new();
        if let Some(k) = &known {
            if k.local_ids.holds(what) {
                found.push(what);
                continue;
            }
            match new_partitions(t, k.versions.get(t), versions.get(t), batches) {
                NewRows::None => continue,
                NewRows::OnDays(days) => {
                    filter = format!(" AND date IN ({})", crate::marts::date_list(&days))
                }
                NewRows::Anywhere => {}
            }
        }
        // Files without such rows are passed over by their statistics.
        let rows = ctx
            .sql(&format!(
                "SELECT 1 FROM raw_{t} WHERE {predicate}{filter} LIMIT 1"
            ))
            .await?
            .collect()
            .await?;
        if rows.iter().any(|b| b.num_rows() > 0) {
            found.push(what);
        }
    }
    Ok(indicators::LocalIds::of(found))
}

/// Where a table's rows committed after version `then` up to `now` may be.
enum NewRows {
    None,
    OnDays(Vec<NaiveDate>),
    Anywhere,
}

fn new_partitions(
    table: &str,
    then: Option<&i64>,
    now: Option<&i64>,
    batches: &[BatchRecord],
) -> NewRows {
    let (Some(&then), Some(&now)) = (then, now) else {
        return NewRows::Anywhere;
    };
    if now == then {
        return NewRows::None;
    }
    if now < then || then < 0 {
        return NewRows::Anywhere;
    }
    let dated = edulake_schemas::by_name(table).is_some_and(|d| d.partition_by == ["date"]);
    let mut days = BTreeSet::new();
    for b in batches
        .iter()
        .filter(|b| b.dataset == table && b.table_version > then && b.table_version <= now)
    {
        if !dated || b.dates.is_empty() {
            return NewRows::Anywhere;
        }
        for d in &b.dates {
            match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => {
                    days.insert(d);
                }
                Err(_) => return NewRows::Anywhere,
            }
        }
    }
    // Versions without a batch (the table's maintenance) add no rows.
    if days.is_empty() {
        NewRows::None
    } else {
        NewRows::OnDays(days.into_iter().collect())
    }
}

/// The dated partitions' days with the roster snapshots' and notices' days, sorted.
pub(crate) async fn other_days(
    ctx: &SessionContext,
    event_days: &BTreeSet<NaiveDate>,
) -> Result<Vec<NaiveDate>> {
    use arrow::array::{Array, AsArray};
    let df = ctx
        .sql(
            "SELECT DISTINCT as_of_date AS d FROM raw_enrolment \
             UNION SELECT DISTINCT local_date(published_at) AS d FROM raw_notices",
        )
        .await?;
    let mut days = event_days.clone();
    for b in df.collect().await? {
        let a = b.column(0).as_primitive::<arrow::datatypes::Date32Type>();
        for i in 0..a.len() {
            if !a.is_null(i) {
                days.insert(edulake_schemas::lake::date_from_days(a.value(i)));
            }
        }
    }
    Ok(days.into_iter().collect())
}
