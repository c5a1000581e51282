//! A query someone typed (the command line's `sql`, the cockpit's SQL page, a role's
//! session): read-only, within the text limits, and a table mistyped answered with the one
//! most likely meant.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::SessionContext;

use crate::bounded::{self, Limits};
use crate::error::{Result, TransformError};

/// A read-only query someone typed, run in `ctx`: checked against the command line's text
/// limits, no DDL, DML, COPY or SET; a stream of batches.
pub(crate) async fn read_only_stream(
    ctx: &SessionContext,
    query: &str,
) -> Result<(SchemaRef, datafusion::execution::SendableRecordBatchStream)> {
    bounded::check_text(query, &Limits::command_line())?;
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let df = ctx
        .sql_with_options(query, options)
        .await
        .map_err(|e| match e {
            datafusion::error::DataFusionError::Plan(msg)
                if msg.contains("not supported") || msg.contains("DDL") || msg.contains("DML") =>
            {
                TransformError::BadQuery(format!("only read-only queries are allowed: {msg}"))
            }
            other => with_guess(ctx, other.into()),
        })?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    Ok((schema, df.execute_stream().await?))
}

/// A query naming a table that is not there gets the table it most likely meant.
fn with_guess(ctx: &SessionContext, e: TransformError) -> TransformError {
    let TransformError::BadQuery(msg) = &e else {
        return e;
    };
    let Some(typed) = msg
        .split_once("table '")
        .and_then(|(_, rest)| rest.split_once("' not found"))
        .map(|(name, _)| name.rsplit('.').next().unwrap_or(name))
    else {
        return e;
    };
    let tables: Vec<String> = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    let guess = edulake_schemas::text::nearest(typed, tables.iter().map(String::as_str))
        .map(|g| format!(": did you mean '{g}'?"))
        .unwrap_or_default();
    TransformError::BadQuery(format!(
        "no table '{typed}'{guess} (`edulake schema` lists the tables)"
    ))
}
