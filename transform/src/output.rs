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

fn io(e: impl std::fmt::Display) -> TransformError {
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
                writeln!(out, "{}", names.join(",")).map_err(io)?;
                return Ok(());
            }
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            for b in batches {
                w.write(b)?;
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
            .map_err(io)?;
            for b in batches {
                w.write(b).map_err(io)?;
            }
            w.close().map_err(io)?;
            out.write_all(&buf).map_err(io)?;
        }
        Format::Xlsx => out.write_all(&xlsx(schema, batches)?).map_err(io)?,
    }
    Ok(())
}

/// An Excel workbook of one sheet: a header row, numbers as numbers, dates as text.
fn xlsx(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, f) in schema.fields().iter().enumerate() {
        ws.write_string_with_format(0, c as u16, f.name(), &bold)
            .map_err(io)?;
    }
    let mut row = 1u32;
    for b in batches {
        for r in 0..b.num_rows() {
            for (c, col) in b.columns().iter().enumerate() {
                if col.is_null(r) {
                    continue;
                }
                let c = c as u16;
                match col.data_type() {
                    DataType::Float64 => ws.write_number(
                        row,
                        c,
                        col.as_primitive::<arrow::datatypes::Float64Type>().value(r),
                    ),
                    DataType::Int64 => ws.write_number(
                        row,
                        c,
                        col.as_primitive::<arrow::datatypes::Int64Type>().value(r) as f64,
                    ),
                    DataType::Int32 => ws.write_number(
                        row,
                        c,
                        col.as_primitive::<arrow::datatypes::Int32Type>().value(r) as f64,
                    ),
                    DataType::Boolean => ws.write_boolean(row, c, col.as_boolean().value(r)),
                    _ => ws.write_string(row, c, array_value_to_string(col, r)?),
                }
                .map_err(io)?;
            }
            row += 1;
        }
    }
    wb.save_to_buffer().map_err(io)
}
