//! The batch record: what the lake keeps of each ingested file (in the commit that stored it,
//! and in the `_batches` index), and its rows in Arrow.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{
    DataType, Date32Type, Field, Int64Type, Schema, SchemaRef, TimestampMicrosecondType,
};
use serde::{Deserialize, Serialize};

use edulake_schemas::dataset::timestamp_type;

use crate::error::{IngestError, Result};
use crate::values;

/// The record of one ingested file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchRecord {
    pub batch_id: String,
    pub dataset: String,
    pub school_code: Option<String>,
    pub as_of_date: Option<String>,
    /// What else the upload said (`date=2026-11-16;class=7-1` for an exception register).
    #[serde(default)]
    pub upload: Option<String>,
    pub source_file: String,
    pub source_sha256: String,
    pub format: String,
    pub rows_read: u64,
    pub rows_stored: u64,
    pub rows_rejected: u64,
    /// Microseconds since the epoch, UTC.
    pub ingested_at: i64,
    /// The dataset table's version that holds the batch.
    #[serde(default)]
    pub table_version: i64,
    /// Partition dates the batch wrote (for date-partitioned datasets).
    #[serde(default)]
    pub dates: Vec<String>,
    /// The reject report's path relative to the state directory, if any row was rejected.
    pub reject_report: Option<String>,
}

impl BatchRecord {
    /// What makes two uploads "the same file ingested twice": the same bytes, sent for the
    /// same school and roster date.
    pub fn identity(&self) -> String {
        identity(
            &self.source_sha256,
            self.school_code.as_deref(),
            self.as_of_date.as_deref(),
            self.upload.as_deref(),
        )
    }
}

/// [`BatchRecord::identity`] of a file's hash and what its upload said.
pub fn identity(
    sha256: &str,
    school: Option<&str>,
    as_of: Option<&str>,
    upload: Option<&str>,
) -> String {
    let mut id = format!("{sha256}|{}|{}", school.unwrap_or(""), as_of.unwrap_or(""));
    if let Some(u) = upload {
        id.push('|');
        id.push_str(u);
    }
    id
}

/// The schema of `_batches`.
pub fn batches_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("batch_id", DataType::Utf8, false),
        Field::new("dataset", DataType::Utf8, false),
        Field::new("school_code", DataType::Utf8, true),
        Field::new("as_of_date", DataType::Date32, true),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_sha256", DataType::Utf8, false),
        Field::new("format", DataType::Utf8, false),
        Field::new("rows_read", DataType::Int64, false),
        Field::new("rows_stored", DataType::Int64, false),
        Field::new("rows_rejected", DataType::Int64, false),
        Field::new("ingested_at", timestamp_type(), false),
        Field::new("table_version", DataType::Int64, false),
        Field::new(
            "dates",
            DataType::List(Arc::new(Field::new("item", DataType::Date32, true))),
            true,
        ),
        Field::new("reject_report", DataType::Utf8, true),
        Field::new("upload", DataType::Utf8, true),
    ]))
}

fn parse_day(s: &str) -> Option<i32> {
    values::parse_date(s, false)
        .ok()
        .map(values::days_since_epoch)
}

pub fn batch_records_to_arrow(records: &[BatchRecord]) -> Result<RecordBatch> {
    let s = |f: &dyn Fn(&BatchRecord) -> Option<String>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in records {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    };
    let batch_id = s(&|r| Some(r.batch_id.clone()));
    let dataset = s(&|r| Some(r.dataset.clone()));
    let school = s(&|r| r.school_code.clone());
    let source = s(&|r| Some(r.source_file.clone()));
    let sha = s(&|r| Some(r.source_sha256.clone()));
    let format = s(&|r| Some(r.format.clone()));
    let report = s(&|r| r.reject_report.clone());
    let upload = s(&|r| r.upload.clone());
    let int = |f: &dyn Fn(&BatchRecord) -> i64| -> ArrayRef {
        let mut b = Int64Builder::new();
        for r in records {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    };
    let mut as_of = Date32Builder::new();
    let mut at = TimestampMicrosecondBuilder::new();
    let mut dates = ListBuilder::new(Date32Builder::new());
    for r in records {
        as_of.append_option(r.as_of_date.as_deref().and_then(parse_day));
        at.append_value(r.ingested_at);
        for d in &r.dates {
            dates.values().append_option(parse_day(d));
        }
        dates.append(true);
    }
    let cols: Vec<ArrayRef> = vec![
        batch_id,
        dataset,
        school,
        Arc::new(as_of.finish()),
        source,
        sha,
        format,
        int(&|r| r.rows_read as i64),
        int(&|r| r.rows_stored as i64),
        int(&|r| r.rows_rejected as i64),
        Arc::new(at.finish().with_timezone("UTC")),
        int(&|r| r.table_version),
        Arc::new(dates.finish()),
        report,
        upload,
    ];
    Ok(RecordBatch::try_new(batches_schema(), cols)?)
}

pub(super) fn batch_records_from_arrow(rb: &RecordBatch) -> Result<Vec<BatchRecord>> {
    let col = |name: &str| -> Result<&ArrayRef> {
        rb.column_by_name(name)
            .ok_or_else(|| IngestError::Lake(format!("_batches has no column {name}")))
    };
    // Each text column cast once (Utf8View or Utf8 in, Utf8 out), not once per row.
    let mut texts: std::collections::HashMap<&str, ArrayRef> = std::collections::HashMap::new();
    for name in [
        "batch_id",
        "dataset",
        "school_code",
        "as_of_date",
        "source_file",
        "source_sha256",
        "format",
        "reject_report",
    ] {
        texts.insert(name, arrow::compute::cast(col(name)?, &DataType::Utf8)?);
    }
    // A lake indexed before uploads were described has no `upload` column: none said more.
    if let Some(upload) = rb.column_by_name("upload") {
        texts.insert("upload", arrow::compute::cast(upload, &DataType::Utf8)?);
    }
    let text = |name: &str, i: usize| -> Result<Option<String>> {
        let a = texts
            .get(name)
            .ok_or_else(|| IngestError::Internal(format!("_batches column {name} not read")))?
            .as_string::<i32>();
        Ok((!a.is_null(i)).then(|| a.value(i).to_string()))
    };
    let int = |name: &str, i: usize| -> Result<i64> {
        Ok(col(name)?.as_primitive::<Int64Type>().value(i))
    };
    let mut out = Vec::with_capacity(rb.num_rows());
    for i in 0..rb.num_rows() {
        let dates_col = col("dates")?.as_list::<i32>();
        let dates = if dates_col.is_null(i) {
            Vec::new()
        } else {
            let v = dates_col.value(i);
            let v = v.as_primitive::<Date32Type>();
            v.iter()
                .flatten()
                .map(|d| values::date_from_days(d).to_string())
                .collect()
        };
        let at = col("ingested_at")?
            .as_primitive::<TimestampMicrosecondType>()
            .value(i);
        out.push(BatchRecord {
            batch_id: text("batch_id", i)?.unwrap_or_default(),
            dataset: text("dataset", i)?.unwrap_or_default(),
            school_code: text("school_code", i)?,
            as_of_date: text("as_of_date", i)?,
            upload: match texts.contains_key("upload") {
                true => text("upload", i)?,
                false => None,
            },
            source_file: text("source_file", i)?.unwrap_or_default(),
            source_sha256: text("source_sha256", i)?.unwrap_or_default(),
            format: text("format", i)?.unwrap_or_default(),
            rows_read: int("rows_read", i)? as u64,
            rows_stored: int("rows_stored", i)? as u64,
            rows_rejected: int("rows_rejected", i)? as u64,
            ingested_at: at,
            table_version: int("table_version", i)?,
            dates,
            reject_report: text("reject_report", i)?,
        });
    }
    Ok(out)
}
