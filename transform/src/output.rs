//! Results written for people (an aligned table, an Excel workbook) and for programs (CSV,
//! JSON, Parquet).

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Schema};
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;

use crate::error::{Result, TransformError};

/// How to write a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    /// JSON lines for `sql`, one object per row.
    Json,
    /// A JSON array of objects, for exports.
    JsonArray,
    Parquet,
    Xlsx,
}

/// The output would not take what was written (its reader went away, its disk is full).
fn io(e: std::io::Error) -> TransformError {
    TransformError::Output(e)
}

/// A format's encoder failed.
fn encoding(e: impl std::fmt::Display) -> TransformError {
    TransformError::Internal(format!("writing output: {e}"))
}

/// Writes record batches in a format.
pub fn write(
    schema: &Schema,
    batches: &[RecordBatch],
    format: Format,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let empty = batches.iter().all(|b| b.num_rows() == 0);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    match format {
        Format::Table => {
            if empty {
                writeln!(out, "{}\n(no rows)", names.join(" | ")).map_err(io)?;
                return Ok(());
            }
            let text = arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{text}").map_err(io)?;
        }
        Format::Csv => {
            if empty {
                writeln!(out, "{}", csv_header(schema)).map_err(io)?;
                return Ok(());
            }
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for b in batches {
                w.write(&spreadsheet_safe_batch(b)?)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
        Format::JsonArray => {
            if empty {
                writeln!(out, "[]").map_err(io)?;
                return Ok(());
            }
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
        Format::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(
                    parquet::basic::ZstdLevel::default(),
                ))
                .build();
            let mut buf = Vec::new();
            let mut w = parquet::arrow::ArrowWriter::try_new(
                &mut buf,
                Arc::new(schema.clone()),
                Some(props),
            )
            .map_err(encoding)?;
            for b in batches {
                w.write(b).map_err(encoding)?;
            }
            w.close().map_err(encoding)?;
            out.write_all(&buf).map_err(io)?;
        }
        Format::Xlsx => out
            .write_all(&xlsx(schema, batches, &Sheet::default())?)
            .map_err(io)?,
    }
    Ok(())
}

/// Writes a result as it comes, batch by batch, so that its size never has to fit in memory:
/// CSV and JSON lines are streamed; the other formats need the whole result and collect it
/// first (within `limits`).
pub async fn write_stream(
    schema: &Schema,
    stream: impl futures::Stream<Item = Result<RecordBatch>>,
    format: Format,
    limits: &crate::bounded::Limits,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    use futures::StreamExt;
    let mut stream = std::pin::pin!(stream);
    match format {
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            let mut wrote = false;
            while let Some(b) = stream.next().await {
                w.write(&spreadsheet_safe_batch(&b?)?)?;
                wrote = true;
            }
            drop(w);
            if !wrote {
                writeln!(out, "{}", csv_header(schema)).map_err(io)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut *out);
            while let Some(b) = stream.next().await {
                w.write(&b?)?;
            }
            w.finish()?;
        }
        _ => {
            let mut batches = Vec::new();
            let mut bytes = 0usize;
            let mut counter = datafusion::common::utils::memory::RecordBatchMemoryCounter::new();
            while let Some(b) = stream.next().await {
                let b = b?;
                bytes += counter.count_batch(&b);
                if bytes > limits.max_result_bytes {
                    return Err(TransformError::TooBig(format!(
                        "the result is over {} MiB; write it as CSV or JSON (streamed), or add a LIMIT",
                        limits.max_result_bytes >> 20
                    )));
                }
                batches.push(b);
            }
            write(schema, &batches, format, out)?;
        }
    }
    Ok(())
}

/// A batch whose text cells are safe to open in a spreadsheet (see
/// [`edulake_schemas::text::spreadsheet_safe`]); a batch with no such cell is returned as is.
pub fn spreadsheet_safe_batch(b: &RecordBatch) -> Result<RecordBatch> {
    use edulake_schemas::text::spreadsheet_safe;
    let mut columns = b.columns().to_vec();
    let mut changed = false;
    for col in columns.iter_mut() {
        let text_like = match col.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
            DataType::Dictionary(_, values) => matches!(
                values.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ),
            _ => false,
        };
        if !text_like {
            continue;
        }
        let text = arrow::compute::cast(col, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let risky = text
            .iter()
            .flatten()
            .any(|v| matches!(spreadsheet_safe(v), std::borrow::Cow::Owned(_)));
        if !risky {
            continue;
        }
        let safe: arrow::array::StringArray = text
            .iter()
            .map(|v| v.map(|v| spreadsheet_safe(v).into_owned()))
            .collect();
        *col = Arc::new(safe);
        changed = true;
    }
    // The header's names are cells too.
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| spreadsheet_safe(f.name()).into_owned())
        .collect();
    changed |= names
        .iter()
        .zip(b.schema().fields())
        .any(|(n, f)| n != f.name());
    if !changed {
        return Ok(b.clone());
    }
    let fields: Vec<arrow::datatypes::Field> = b
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .zip(names)
        .map(|((f, c), name)| {
            f.as_ref()
                .clone()
                .with_name(name)
                .with_data_type(c.data_type().clone())
        })
        .collect();
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// The header line of an empty CSV result: each name made safe and quoted where CSV needs.
fn csv_header(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| {
            let name = edulake_schemas::text::spreadsheet_safe(f.name());
            if name.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", name.replace('"', "\"\""))
            } else {
                name.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// How a workbook is laid out for people: the sheet's name, a title row above the header
/// (what the numbers are: indicator, level, range, filters), the header's words, and the
/// columns shown as percentages (their cells keep the fraction).
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub title: Option<String>,
    /// One word per column; the column's name where missing.
    pub headers: Vec<String>,
    pub percent: Vec<String>,
}

/// Writes record batches as an Excel workbook laid out as `sheet` says.
pub fn write_xlsx(
    schema: &Schema,
    batches: &[RecordBatch],
    sheet: &Sheet,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    out.write_all(&xlsx(schema, batches, sheet)?).map_err(io)
}

/// How wide a text is in Excel's units (a Chinese character takes two).
fn text_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// A name Excel takes for a sheet: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "edulake".into()
    } else {
        clean
    }
}

/// An Excel workbook of one sheet: a title row if any, a header row, numbers as numbers,
/// dates as dates, percentages as percentages, columns as wide as their text.
fn xlsx(schema: &Schema, batches: &[RecordBatch], sheet: &Sheet) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{ExcelDateTime, Format as Cell};
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(&sheet.name)).map_err(encoding)?;
    let bold = Cell::new().set_bold();
    let day = Cell::new().set_num_format("yyyy-mm-dd");
    let percent = Cell::new().set_num_format("0.0%");
    let mut row = 0u32;
    if let Some(title) = &sheet.title {
        ws.write_string_with_format(row, 0, title, &Cell::new().set_bold().set_font_size(13))
            .map_err(encoding)?;
        row += 1;
    }
    let mut widths: Vec<usize> = Vec::with_capacity(schema.fields().len());
    for (c, f) in schema.fields().iter().enumerate() {
        let word = sheet
            .headers
            .get(c)
            .map_or(f.name().as_str(), |h| h.as_str());
        ws.write_string_with_format(row, c as u16, word, &bold)
            .map_err(encoding)?;
        widths.push(text_width(word));
    }
    ws.set_freeze_panes(row + 1, 0).map_err(encoding)?;
    row += 1;
    let percents: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| sheet.percent.iter().any(|p| p == f.name()))
        .collect();
    for b in batches {
        for r in 0..b.num_rows() {
            for (c, col) in b.columns().iter().enumerate() {
                if col.is_null(r) {
                    continue;
                }
                let (cc, shown) = (c as u16, array_value_to_string(col, r)?);
                widths[c] = widths[c].max(text_width(&shown));
                match col.data_type() {
                    DataType::Float64 => {
                        let v = col.as_primitive::<arrow::datatypes::Float64Type>().value(r);
                        if percents[c] {
                            ws.write_number_with_format(row, cc, v, &percent)
                        } else {
                            ws.write_number(row, cc, v)
                        }
                    }
                    DataType::Int64 => ws.write_number(
                        row,
                        cc,
                        col.as_primitive::<arrow::datatypes::Int64Type>().value(r) as f64,
                    ),
                    DataType::Int32 => ws.write_number(
                        row,
                        cc,
                        col.as_primitive::<arrow::datatypes::Int32Type>().value(r) as f64,
                    ),
                    DataType::Boolean => ws.write_boolean(row, cc, col.as_boolean().value(r)),
                    DataType::Date32 => {
                        let d = col
                            .as_primitive::<arrow::datatypes::Date32Type>()
                            .value_as_date(r);
                        match d.and_then(|d| {
                            use chrono::Datelike;
                            ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                                .ok()
                        }) {
                            Some(d) => ws.write_datetime_with_format(row, cc, &d, &day),
                            None => ws.write_string(row, cc, shown),
                        }
                    }
                    _ => ws.write_string(row, cc, shown),
                }
                .map_err(encoding)?;
            }
            row += 1;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w as f64 + 2.0).clamp(8.0, 50.0))
            .map_err(encoding)?;
    }
    wb.save_to_buffer().map_err(encoding)
}
