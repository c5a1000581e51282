//! Registering the lake's tables in a session: each Delta table (or an empty one of its
//! schema, or a view adding a column an older table lacks), the batch index caught up with its
//! commits, and what the open reads once (the days with data, the tables with local ids).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use edulake_ingest::lake::{batches_schema, BATCHES_TABLE};
use edulake_ingest::Lake;

use crate::error::Result;
use crate::indicators;

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

/// Registers `batches`: the batch index, a record appended twice (two processes catching the
/// index up at once) counted once.
pub(crate) async fn register_batches(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    let _ = ctx.deregister_table("_batches_index")?;
    let _ = ctx.deregister_table("batches")?;
    register_table(ctx, lake, BATCHES_TABLE, "_batches_index", batches_schema()).await?;
    ctx.sql("CREATE VIEW batches AS SELECT DISTINCT ON (batch_id) * FROM _batches_index ORDER BY batch_id, table_version")
        .await?;
    Ok(())
}

/// Catches the batch index up with data commits it does not list (a process that died
/// between its data commit and its index entry). Returns whether it added any.
pub(crate) async fn catch_up_batches(lake: &Lake) -> Result<bool> {
    let mut indexed: HashMap<String, HashSet<i64>> = HashMap::new();
    for r in lake.batches().await? {
        indexed
            .entry(r.dataset)
            .or_default()
            .insert(r.table_version);
    }
    let mut added = false;
    let none = HashSet::new();
    for d in edulake_schemas::stored() {
        let (missing, _) = lake
            .catch_up(d, indexed.get(d.name).unwrap_or(&none))
            .await?;
        added |= !missing.is_empty();
    }
    Ok(added)
}

/// The tables holding any row sent with only a local id (its `student_id` is the local id's
/// pseudonym), and whether any register row stands for a leave approval's span. Files without
/// such rows are passed over by their statistics.
///
/// `known`: what a session opened before found, and the versions it read. A table never loses
/// such rows, so one that had them still has them, and one that had none at the same version
/// has none (a city's rosters would otherwise be read whole at every refresh of the cockpit).
pub(crate) async fn tables_with_local_ids(
    ctx: &SessionContext,
    versions: &BTreeMap<String, i64>,
    known: Option<(indicators::LocalIds, &BTreeMap<String, i64>)>,
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
        if let Some((ids, then)) = known {
            if ids.holds(what) {
                found.push(what);
                continue;
            }
            if then.get(t).is_some() && then.get(t) == versions.get(t) {
                continue;
            }
        }
        // Files without such rows are passed over by their statistics.
        let rows = ctx
            .sql(&format!("SELECT 1 FROM raw_{t} WHERE {predicate} LIMIT 1"))
            .await?
            .collect()
            .await?;
        if rows.iter().any(|b| b.num_rows() > 0) {
            found.push(what);
        }
    }
    Ok(indicators::LocalIds::of(found))
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
                days.insert(edulake_ingest::values::date_from_days(a.value(i)));
            }
        }
    }
    Ok(days.into_iter().collect())
}
