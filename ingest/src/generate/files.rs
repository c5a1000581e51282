//! Writing a generated table as a school would send it: CSV (UTF-8, with BOM, GBK), XLSX
//! with title rows and date cells, UTF-16 tab-separated text, JSON lines, gzip.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use super::Generated;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Format {
    Csv,
    CsvBom,
    CsvGbk,
    Xlsx,
    Utf16Tsv,
    JsonLines,
    CsvGz,
}

impl Format {
    pub(super) fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::CsvBom | Format::CsvGbk => "csv",
            Format::Xlsx => "xlsx",
            Format::Utf16Tsv => "txt",
            Format::JsonLines => "jsonl",
            Format::CsvGz => "csv.gz",
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum DateStyle {
    Iso,
    Slash,
    Compact,
    Chinese,
}

pub(super) fn fmt_date(d: NaiveDate, s: DateStyle) -> String {
    match s {
        DateStyle::Iso => d.format("%Y-%m-%d").to_string(),
        DateStyle::Slash => format!("{}/{}/{}", d.year(), d.month(), d.day()),
        DateStyle::Compact => d.format("%Y%m%d").to_string(),
        DateStyle::Chinese => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

/// A cell of a generated table.
#[derive(Clone)]
pub(super) enum Cell {
    Text(String),
    Date(NaiveDate),
}

/// How one file is written.
#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) format: Format,
    pub(super) chinese: bool,
    pub(super) dates: DateStyle,
    pub(super) title_rows: bool,
    pub(super) personal: bool,
}

pub(super) fn date_cell(d: NaiveDate, st: Style) -> Cell {
    if st.format == Format::Xlsx {
        Cell::Date(d)
    } else {
        Cell::Text(fmt_date(d, st.dates))
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn write_table(
    out: &Path,
    name: &str,
    title_zh: &str,
    header_en: &[&str],
    header_zh: &[&str],
    rows: Vec<Vec<Cell>>,
    st: Style,
    g: &mut Generated,
) -> std::io::Result<()> {
    let header: Vec<&str> = if st.chinese {
        header_zh.to_vec()
    } else {
        header_en.to_vec()
    };
    let path = out.join(format!("{name}.{}", st.format.extension()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    g.rows += rows.len() as u64;
    let text = |c: &Cell| match c {
        Cell::Text(s) => s.clone(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
    };
    match st.format {
        Format::Csv | Format::CsvBom | Format::CsvGbk | Format::CsvGz | Format::Utf16Tsv => {
            let delim = if st.format == Format::Utf16Tsv {
                b'\t'
            } else {
                b','
            };
            let mut w = csv::WriterBuilder::new()
                .delimiter(delim)
                .from_writer(Vec::with_capacity(rows.len() * 64));
            w.write_record(&header)?;
            for r in &rows {
                w.write_record(r.iter().map(text))?;
            }
            let body = w
                .into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let bytes = match st.format {
                Format::CsvBom => [&[0xEF, 0xBB, 0xBF][..], &body].concat(),
                Format::CsvGbk => {
                    let s = String::from_utf8(body).map_err(std::io::Error::other)?;
                    encoding_rs::GBK.encode(&s).0.into_owned()
                }
                Format::Utf16Tsv => {
                    let s = String::from_utf8(body).map_err(std::io::Error::other)?;
                    let mut v = vec![0xFF, 0xFE];
                    for u in s.replace('\n', "\r\n").encode_utf16() {
                        v.extend_from_slice(&u.to_le_bytes());
                    }
                    v
                }
                Format::CsvGz => {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(&body)?;
                    e.finish()?
                }
                _ => body,
            };
            std::fs::write(&path, bytes)?;
        }
        Format::JsonLines => {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
            for r in &rows {
                let obj: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(r)
                    .map(|(h, c)| (h.to_string(), serde_json::Value::String(text(c))))
                    .collect();
                serde_json::to_writer(&mut f, &obj)?;
                f.write_all(b"\n")?;
            }
            f.flush()?;
        }
        Format::Xlsx => {
            use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};
            let xerr = |e: rust_xlsxwriter::XlsxError| std::io::Error::other(e.to_string());
            let mut wb = Workbook::new();
            let ws = wb.add_worksheet();
            let date_fmt = XFormat::new().set_num_format("yyyy-mm-dd");
            let mut r0 = 0u32;
            if st.title_rows {
                ws.write_string(
                    0,
                    0,
                    format!("{title_zh}（{}）", name.rsplit('/').next().unwrap_or(name)),
                )
                .map_err(xerr)?;
                ws.write_string(1, 0, "制表人：教务处").map_err(xerr)?;
                r0 = 3;
            }
            for (c, h) in header.iter().enumerate() {
                ws.write_string(r0, c as u16, *h).map_err(xerr)?;
            }
            for (i, r) in rows.iter().enumerate() {
                let row = r0 + 1 + i as u32;
                for (c, cell) in r.iter().enumerate() {
                    match cell {
                        Cell::Text(s) => ws.write_string(row, c as u16, s).map_err(xerr)?,
                        Cell::Date(d) => {
                            let x = ExcelDateTime::from_ymd(
                                d.year() as u16,
                                d.month() as u8,
                                d.day() as u8,
                            )
                            .map_err(xerr)?;
                            ws.write_date_with_format(row, c as u16, &x, &date_fmt)
                                .map_err(xerr)?
                        }
                    };
                }
            }
            std::fs::write(&path, wb.save_to_buffer().map_err(xerr)?)?;
        }
    }
    g.files.push(path);
    Ok(())
}
