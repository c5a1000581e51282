//! The tables a user sees, registered in one DataFusion session.
//!
//! - `<dataset>`: the current view of a dataset: for each key, the row of the latest upload
//!   ("later upload wins"; within one file, the later row).
//! - `raw_<dataset>`: every row ever ingested, with the batch it came from.
//! - `batches`: one row per ingested file (see `edulake batches`).

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext};

use chrono::NaiveDate;
use edulake_ingest::lake::{batches_schema, BATCHES_TABLE};
use edulake_ingest::Lake;
use edulake_schemas::Dataset;

use crate::error::{Result, TransformError};
use crate::indicators::{self, Request};

/// The one place user reads go through.
pub struct QueryLayer {
    ctx: SessionContext,
}

/// The SQL of a dataset's current view.
pub fn current_view_sql(d: &Dataset) -> String {
    let cols: Vec<String> = d
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.stored_name()))
        .collect();
    let key: Vec<String> = d.key_stored().iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        "SELECT {cols}, _batch_id, _ingested_at FROM (\
           SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _ingested_at DESC, _row DESC) AS _rn \
           FROM raw_{name}) WHERE _rn = 1",
        cols = cols.join(", "),
        key = key.join(", "),
        name = d.name
    )
}

impl QueryLayer {
    /// A session over the lake as it is now.
    pub async fn open(lake: &Lake) -> Result<QueryLayer> {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        ctx.register_udf(crate::udf::local_date(edulake_ingest::bureau_tz()?));
        for d in edulake_schemas::all() {
            register_table(
                &ctx,
                lake,
                d.name,
                &format!("raw_{}", d.name),
                d.lake_schema(),
            )
            .await?;
            ctx.sql(&format!(
                "CREATE VIEW {} AS {}",
                d.name,
                current_view_sql(d)
            ))
            .await?;
        }
        register_table(&ctx, lake, BATCHES_TABLE, "batches", batches_schema()).await?;
        Ok(QueryLayer { ctx })
    }

    /// Runs a read-only query: no DDL, no DML, no `SET`.
    pub async fn sql(&self, query: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = self
            .ctx
            .sql_with_options(query, options)
            .await
            .map_err(|e| match e {
                datafusion::error::DataFusionError::Plan(msg)
                    if msg.contains("not supported")
                        || msg.contains("DDL")
                        || msg.contains("DML") =>
                {
                    TransformError::BadQuery(format!("only read-only queries are allowed: {msg}"))
                }
                other => other.into(),
            })?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok((schema, batches))
    }

    /// The session, for the indicators built on it.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    async fn run(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let df = self.ctx.sql(sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        Ok((schema, df.collect().await?))
    }

    /// The first and last date with data in the lake (events, roster snapshots, notices).
    pub async fn data_range(&self) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let sql = "SELECT min(d) AS lo, max(d) AS hi FROM (\
            SELECT min(date) AS d FROM raw_attendance UNION ALL SELECT max(date) FROM raw_attendance \
            UNION ALL SELECT min(date) FROM raw_health_report UNION ALL SELECT max(date) FROM raw_health_report \
            UNION ALL SELECT min(as_of_date) FROM raw_enrolment UNION ALL SELECT max(as_of_date) FROM raw_enrolment \
            UNION ALL SELECT min(local_date(published_at)) FROM raw_notices \
            UNION ALL SELECT max(local_date(published_at)) FROM raw_notices)";
        let (_, batches) = self.run(sql).await?;
        let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(None);
        };
        let day = |i: usize| -> Option<NaiveDate> {
            use arrow::array::{Array, AsArray};
            let a = b.column(i).as_primitive::<arrow::datatypes::Date32Type>();
            (!a.is_null(0)).then(|| edulake_ingest::values::date_from_days(a.value(0)))
        };
        Ok(day(0).zip(day(1)))
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
                let today = edulake_ingest::values::today(edulake_ingest::bureau_tz()?);
                Ok((today + chrono::Duration::days(1), today))
            }
        }
    }

    /// An indicator in the export format of INDICATORS.md.
    pub async fn export(&self, req: &Request) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let ind = indicators::by_name(&req.indicator)?;
        let (from, to) = self.range(req.from, req.to).await?;
        self.run(&indicators::export_sql(ind, req, from, to)?).await
    }

    /// The cluster alerts (school, class, date, count) between two dates.
    pub async fn alerts(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        threshold: u32,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let (from, to) = self.range(from, to).await?;
        self.run(&indicators::alerts_sql(from, to, threshold)).await
    }
}

/// Registers a Delta table, or an empty table of the same schema if it does not exist yet,
/// so queries over a fresh lake answer with no rows instead of an error.
async fn register_table(
    ctx: &SessionContext,
    lake: &Lake,
    table: &str,
    as_name: &str,
    schema: SchemaRef,
) -> Result<()> {
    match lake.load(table).await? {
        Some(t) => {
            t.update_datafusion_session(&ctx.state())?;
            let provider = t.table_provider().await?;
            ctx.register_table(as_name, provider)?;
        }
        None => {
            let empty = MemTable::try_new(schema, vec![vec![]])?;
            ctx.register_table(as_name, Arc::new(empty))?;
        }
    }
    Ok(())
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
    out.push_str("| `batches` | one row per ingested file: ");
    let names: Vec<String> = batches_schema()
        .fields()
        .iter()
        .map(|f| format!("`{}`", f.name()))
        .collect();
    out.push_str(&names.join(", "));
    out.push_str(" |\n");
    out
}
