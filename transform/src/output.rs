//! Query results written for people (an aligned table) and for programs (CSV, JSON lines).

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;

use crate::error::Result;

/// How to print a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Writes record batches in a format.
pub fn write(schema: &Schema, batches: &[RecordBatch], format: Format, out: &mut dyn std::io::Write) -> Result<()> {
    let io = |e: std::io::Error| crate::TransformError::Internal(e.to_string());
    match format {
        Format::Table => {
            if batches.iter().all(|b| b.num_rows() == 0) {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                writeln!(out, "{}\n(no rows)", names.join(" | ")).map_err(io)?;
                return Ok(());
            }
            let text = arrow::util::pretty::pretty_format_batches(batches)?;
            writeln!(out, "{text}").map_err(io)?;
        }
        Format::Csv => {
            if batches.iter().all(|b| b.num_rows() == 0) {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                writeln!(out, "{}", names.join(",")).map_err(io)?;
                return Ok(());
            }
            let mut w = arrow::csv::WriterBuilder::new().with_header(true).build(out);
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
    }
    Ok(())
}
