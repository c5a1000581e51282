//! The lake's layout, shared by the crate that writes it (ingest) and the one that reads it
//! (transform): the batch index's name and schema, the batch record (what the lake keeps of
//! each ingested file, in the commit that stored it and in the `_batches` index) and its rows
//! in Arrow, and how a commit of a dataset table carries its records.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{
    DataType, Date32Type, Field, Int64Type, Schema, SchemaRef, TimestampMicrosecondType,
};
use arrow::error::ArrowError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::dataset::timestamp_type;

type Result<T> = std::result::Result<T, ArrowError>;

/// Name of the batch index table under the lake root.
pub const BATCHES_TABLE: &str = "_batches";
/// Commit-info key under which a data commit carries its batch records.
pub const COMMIT_KEY: &str = "edulake.batches";

/// The log of files rejected whole, in the state directory: one JSON object a line
/// ([`RejectedFile`]). Nothing of such a file reaches the lake, so only this says it came.
pub const REJECTED_LOG: &str = "rejected.jsonl";

/// A file rejected whole, as [`REJECTED_LOG`] keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedFile {
    /// When, RFC 3339 in UTC.
    pub at: String,
    /// The dataset it was sent as.
    pub dataset: String,
    /// The school the upload named, if any.
    pub school: Option<String>,
    /// The file's name as sent (no folder).
    pub file: String,
    /// Why, in Chinese and in English.
    pub reason_zh: String,
    pub reason_en: String,
}

/// The columns of a reject report as the state directory keeps it: the row, the column and
/// the value as the file wrote them, and the reason in Chinese and in English.
pub const REJECT_REPORT_HEADER: [&str; 5] = ["row", "column", "value", "reason_zh", "reason_en"];

/// Days since 1970-01-01: an Arrow `Date32` value.
pub fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

/// The date of an Arrow `Date32` value.
pub fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch") + chrono::Duration::days(days as i64)
}

/// The bureau's time zone (`EDULAKE_TZ`, else Asia/Shanghai): what "today" and a timestamp's
/// day are. Err: the name given, which is not a time zone.
pub fn bureau_tz() -> std::result::Result<chrono_tz::Tz, String> {
    let name = std::env::var("EDULAKE_TZ").unwrap_or_else(|_| "Asia/Shanghai".into());
    name.parse().map_err(|_| name)
}

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
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(days_since_epoch)
}

/// The rows of `_batches` for these records.
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
    RecordBatch::try_new(batches_schema(), cols)
}

/// The records of rows of `_batches`.
pub fn batch_records_from_arrow(rb: &RecordBatch) -> Result<Vec<BatchRecord>> {
    let col = |name: &str| -> Result<&ArrayRef> {
        rb.column_by_name(name)
            .ok_or_else(|| ArrowError::SchemaError(format!("_batches has no column {name}")))
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
            .ok_or_else(|| ArrowError::SchemaError(format!("_batches column {name} not read")))?
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
                .map(|d| date_from_days(d).to_string())
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

/// The batch records a commit of a dataset table carries (its commit file's bytes), with that
/// version.
pub fn records_in_commit(commit: &[u8], version: i64) -> Vec<BatchRecord> {
    let mut out = Vec::new();
    for line in commit.split(|b| *b == b'\n') {
        let Ok(action) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        let Some(records) = action.get("commitInfo").and_then(|ci| ci.get(COMMIT_KEY)) else {
            continue;
        };
        let Ok(records) = serde_json::from_value::<Vec<BatchRecord>>(records.clone()) else {
            continue;
        };
        out.extend(records.into_iter().map(|mut r| {
            r.table_version = version;
            r
        }));
    }
    out
}

/// The files a commit of `_batches` added (paths relative to the table), or `None` where it
/// did anything but append (a compaction, a schema change): then the index is read whole.
pub fn appended_files(commit: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for line in commit.split(|b| *b == b'\n') {
        let Ok(action) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if ["remove", "metaData", "protocol", "cdc"]
            .iter()
            .any(|k| action.get(k).is_some())
        {
            return None;
        }
        if let Some(path) = action
            .get("add")
            .and_then(|a| a.get("path"))
            .and_then(|p| p.as_str())
        {
            out.push(path.to_string());
        }
    }
    Some(out)
}

/// `records` with `new` ones added: a record appended twice (a catch-up racing a live ingest)
/// is one batch; oldest first, as a whole read of the index gives them.
pub fn merge_records(records: &[BatchRecord], new: Vec<BatchRecord>) -> Vec<BatchRecord> {
    let mut seen: std::collections::HashSet<String> =
        records.iter().map(|r| r.batch_id.clone()).collect();
    let mut out = records.to_vec();
    out.extend(new.into_iter().filter(|r| seen.insert(r.batch_id.clone())));
    out.sort_by(|a, b| (a.ingested_at, &a.batch_id).cmp(&(b.ingested_at, &b.batch_id)));
    out
}

/// The records of one file of `_batches` (its bytes).
pub fn records_in_parquet(file: bytes::Bytes) -> Result<Vec<BatchRecord>> {
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| ArrowError::ParquetError(e.to_string()))?;
    let mut out = Vec::new();
    for rb in reader {
        out.extend(batch_records_from_arrow(&rb?)?);
    }
    Ok(out)
}

/// The lake's root as a URL: an object-store URL (`s3://bucket/prefix`) as given, with a
/// trailing `/`; a local folder, which must exist, as an absolute `file://` URL. Err: why not,
/// in a sentence naming the location.
pub fn root_url(location: &str) -> std::result::Result<url::Url, String> {
    if location.contains("://") {
        let mut u = url::Url::parse(location).map_err(|e| format!("lake URL '{location}': {e}"))?;
        if !u.path().ends_with('/') {
            let p = format!("{}/", u.path());
            u.set_path(&p);
        }
        return Ok(u);
    }
    let abs =
        std::fs::canonicalize(location).map_err(|e| format!("no lake at '{location}': {e}"))?;
    url::Url::from_directory_path(&abs)
        .map_err(|_| format!("lake folder '{}' is not absolute", abs.display()))
}
