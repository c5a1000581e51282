//! Spreadsheets (XLSX, Excel 97 XLS) read within the limits of [`crate::limits`].
//!
//! A workbook says how big it is, and a reader that believes it allocates what it says: one
//! cell at A1 and one at XFD1048576 make a dense reader ask for 17 billion cells. So:
//! - XLSX: every part of the zip is unpacked once into nothing, counting, before calamine
//!   opens it (a zip bomb is caught before any part is held in memory); the first sheet is then
//!   read cell by cell (never as a grid), each cell checked against the row, column, cell and
//!   length limits as it comes.
//! - XLS: calamine reads every sheet of an XLS as a grid when it opens the file, sized by the
//!   sheet's own DIMENSIONS record and its cells. The BIFF records are scanned first (their
//!   framing only: type, length, and the row and column of cell records) and a workbook whose
//!   grids would exceed [`MAX_XLS_GRID`] is rejected before calamine sees it.

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Reader};
use csv::StringRecord;

use edulake_schemas::msg;
use edulake_schemas::words::Msg;

use super::Table;
use crate::limits::{
    check_unpacked, column_letters, grouped, MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES, MAX_SHEET_CELLS, MAX_SHEET_TEXT_BYTES, MAX_XLS_GRID,
};

pub(super) fn read_xlsx(bytes: Vec<u8>) -> Result<Table, Msg> {
    check_zip(&bytes)?;
    damaged_if_it_panics("XLSX", || xlsx_cells(bytes))
}

pub(super) fn read_xls(bytes: Vec<u8>) -> Result<Table, Msg> {
    check_biff(&bytes)?;
    damaged_if_it_panics("XLS", || xls_cells(bytes))
}

/// A workbook the reader fails on in a way it did not foresee (a panic, say on arithmetic
/// that overflows) is a damaged file, said as such, not a failure of the ingest.
fn damaged_if_it_panics(
    kind: &str,
    read: impl FnOnce() -> Result<Table, Msg>,
) -> Result<Table, Msg> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .unwrap_or_else(|_| Err(msg!("workbook_damaged", kind = kind, detail = "panic")))
}

fn xlsx_cells(bytes: Vec<u8>) -> Result<Table, Msg> {
    let mut wb = calamine::Xlsx::new(Cursor::new(bytes))
        .map_err(|e| msg!("workbook_unreadable", kind = "XLSX", detail = e.to_string()))?;
    let name = wb
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(msg!("workbook_no_sheet"))?;
    let mut reader = wb
        .worksheet_cells_reader(&name)
        .map_err(|e| msg!("sheet_unreadable", detail = e.to_string()))?;
    let mut cells = Cells::default();
    loop {
        let cell = match reader.next_cell() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(msg!("sheet_unreadable", detail = e.to_string())),
        };
        let (row, col) = cell.get_position();
        let value = Data::from(cell.get_value().clone());
        cells.push(row, col, &value)?;
    }
    Ok(cells.into_table("xlsx"))
}

fn xls_cells(bytes: Vec<u8>) -> Result<Table, Msg> {
    let mut wb = calamine::Xls::new(Cursor::new(bytes))
        .map_err(|e| msg!("workbook_unreadable", kind = "XLS", detail = e.to_string()))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or(msg!("workbook_no_sheet"))?
        .map_err(|e| msg!("sheet_unreadable", detail = e.to_string()))?;
    let mut cells = Cells::default();
    for (row, col, value) in range.used_cells() {
        let (r0, c0) = range.start().unwrap_or((0, 0));
        cells.push(r0 + row as u32, c0 + col as u32, value)?;
    }
    Ok(cells.into_table("xls"))
}

/// Unpacks every part of a zip into nothing, counting, so that a part which unpacks to far
/// more than it says (or than any real workbook) is caught before anything keeps it.
fn check_zip(bytes: &[u8]) -> Result<(), Msg> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| msg!("workbook_unreadable", kind = "XLSX", detail = e.to_string()))?;
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let mut part = zip
            .by_index(i)
            .map_err(|e| msg!("workbook_unreadable", kind = "XLSX", detail = e.to_string()))?;
        // A part is read from at most its compressed size of the file.
        let compressed = part.compressed_size();
        let name = part.name().map(|n| n.to_string()).unwrap_or_default();
        let sheet = name.starts_with("xl/worksheets/");
        let strings = name.eq_ignore_ascii_case("xl/sharedStrings.xml");
        let mut unpacked = 0u64;
        // The end of the previous chunk, so a reference cut by a chunk's end is seen whole.
        let mut carry: Vec<u8> = Vec::new();
        // The start of the shared strings, where they say how many they are.
        let mut head: Vec<u8> = Vec::new();
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    return Err(msg!(
                        "workbook_damaged",
                        kind = "XLSX",
                        detail = e.to_string()
                    ))
                }
            };
            unpacked += n as u64;
            total += n as u64;
            check_unpacked(msg!("the_xlsx_workbook"), unpacked, compressed)?;
            check_unpacked(msg!("the_xlsx_workbook"), total, bytes.len() as u64)?;
            if strings && unpacked > MAX_SHARED_STRINGS_BYTES {
                return Err(msg!(
                    "shared_strings_too_big",
                    limit = MAX_SHARED_STRINGS_BYTES >> 20
                ));
            }
            if sheet {
                carry.extend_from_slice(&buf[..n]);
                check_references(&carry)?;
                let keep = carry.len().saturating_sub(64);
                carry.drain(..keep);
            }
            if strings && head.len() < 4096 {
                head.extend_from_slice(&buf[..n.min(4096 - head.len())]);
            }
        }
        // The reader makes room for as many strings as the part says it holds: no more than
        // its text can hold (each takes at least `<si/>`).
        if strings {
            let said = find(&head, b"uniqueCount=").and_then(|at| {
                let digits: Vec<u8> = head[at + 12..]
                    .iter()
                    .copied()
                    .skip_while(|b| matches!(b, b'"' | b'\'' | b' '))
                    .take_while(u8::is_ascii_digit)
                    .collect();
                std::str::from_utf8(&digits).ok()?.parse::<u64>().ok()
            });
            if let Some(count) = said {
                if count > unpacked / 5 + 1 || count > MAX_SHEET_CELLS {
                    return Err(msg!(
                        "workbook_damaged",
                        kind = "XLSX",
                        detail = format!(
                            "it says it has {} shared strings, which its {} bytes of strings cannot hold",
                            grouped(count),
                            grouped(unpacked)
                        )
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Refuses a sheet naming a cell no sheet can have: Excel's last cell is XFD1048576, and a
/// reference past it (`ZZZZZZZ1`) overflows a reader's arithmetic. Looks at every `r="…"` and
/// `ref="…"` attribute of the sheet's XML.
fn check_references(xml: &[u8]) -> Result<(), Msg> {
    for pattern in [&b" r=\""[..], &b" ref=\""[..]] {
        let mut from = 0;
        while let Some(at) = find(&xml[from..], pattern) {
            let start = from + at + pattern.len();
            from = start;
            let Some(len) = xml[start..].iter().take(64).position(|b| *b == b'"') else {
                continue;
            };
            for cell in xml[start..start + len].split(|b| *b == b':' || *b == b' ') {
                let letters: Vec<u8> = cell
                    .iter()
                    .copied()
                    .filter(u8::is_ascii_alphabetic)
                    .collect();
                let digits: Vec<u8> = cell.iter().copied().filter(u8::is_ascii_digit).collect();
                let col = letters.iter().fold(0u64, |c, l| {
                    (c * 26 + (l.to_ascii_uppercase() - b'A') as u64 + 1).min(1 << 40)
                });
                let row = digits
                    .iter()
                    .fold(0u64, |r, d| (r * 10 + (d - b'0') as u64).min(1 << 40));
                if letters.len() > 3 || col > 16_384 || digits.len() > 7 || row > 1_048_576 {
                    return Err(msg!(
                        "workbook_damaged",
                        kind = "XLSX",
                        detail = format!(
                            "the sheet names a cell {} that no sheet can have (Excel's last is XFD1048576)",
                            String::from_utf8_lossy(cell)
                        )
                    ));
                }
            }
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Scans an XLS workbook the way calamine opens it, before it does: the workbook's global
/// records up to their end, each sheet they name (`BoundSheet`: a sheet at an offset of the
/// stream, as many times as it is named), and in each sheet its `DIMENSIONS` (for which
/// calamine reserves rows × columns cells) and its cells (whose span calamine then allocates
/// as one grid, for every sheet). A workbook whose grids would exceed [`MAX_XLS_GRID`] cells,
/// or that has a cell beyond the column limit, is refused.
fn check_biff(bytes: &[u8]) -> Result<(), Msg> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| msg!("workbook_unreadable", kind = "XLS", detail = e.to_string()))?;
    let mut stream = Vec::new();
    let opened = file
        .open_stream("/Workbook")
        .or_else(|_| file.open_stream("/Book"));
    match opened {
        Ok(s) => s
            .take(crate::limits::MAX_UNPACKED_BYTES + 1)
            .read_to_end(&mut stream)
            .map_err(|e| msg!("workbook_damaged", kind = "XLS", detail = e.to_string()))?,
        Err(_) => {
            return Err(msg!(
                "workbook_unreadable",
                kind = "XLS",
                detail = "no Workbook stream"
            ))
        }
    };
    // The globals: where each sheet starts, and the shared strings (with the records that
    // continue them).
    let mut sheets = Vec::new();
    let mut sst: Vec<&[u8]> = Vec::new();
    let mut in_sst = false;
    for (typ, data) in Records::at(&stream, 0) {
        in_sst = match typ {
            0x00FC => {
                sst = vec![data];
                true
            }
            0x003C if in_sst => {
                sst.push(data);
                true
            }
            _ => false,
        };
        match typ {
            0x0085 => sheets.extend(u32_at(data, 0)),
            0x000A => break,
            _ => {}
        }
    }
    // calamine copies a shared string into every cell that shows it: the text of all sheets
    // is counted so, before it does.
    let strings = sst_text_lengths(&sst)?;
    let mut text = 0u64;
    let too_big = |what: Msg| msg!("xls_too_big", what = what, limit = grouped(MAX_XLS_GRID));
    let mut grid = 0u64;
    for start in sheets {
        if start as usize > stream.len() {
            return Err(msg!(
                "workbook_damaged",
                kind = "XLS",
                detail = "a sheet starts past its end"
            ));
        }
        let mut span: Option<(u64, u64, u64, u64)> = None;
        let mut bof_seen = false;
        let mut nested = 0usize;
        for (typ, data) in Records::at(&stream, start as usize) {
            // Charts and other sheets nested in this one are passed over, as calamine does.
            if nested > 0 {
                match typ {
                    0x0809 => nested += 1,
                    0x000A => nested -= 1,
                    _ => {}
                }
                continue;
            }
            let mut cover = |row: u64, col: u64| -> Result<(), Msg> {
                check_column(row, col)?;
                span = Some(match span {
                    None => (row, row, col, col),
                    Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
                });
                Ok(())
            };
            match typ {
                0x0809 if bof_seen => nested += 1,
                0x0809 => bof_seen = true,
                0x000A => break,
                // DIMENSIONS: calamine reserves rows × columns cells for it.
                0x0200 => {
                    let (r0, r1, c0, c1) = if data.len() >= 14 {
                        (
                            u32_at(data, 0),
                            u32_at(data, 4),
                            u16_at(data, 8),
                            u16_at(data, 10),
                        )
                    } else {
                        (
                            u16_at(data, 0).map(u32::from),
                            u16_at(data, 2).map(u32::from),
                            u16_at(data, 4),
                            u16_at(data, 6),
                        )
                    };
                    let (Some(r0), Some(r1), Some(c0), Some(c1)) = (r0, r1, c0, c1) else {
                        return Err(msg!(
                            "workbook_damaged",
                            kind = "XLS",
                            detail = "a short DIMENSIONS record"
                        ));
                    };
                    // As calamine reads it: the last row and column are one past the end,
                    // and a first column past 255 or after the last counts from 0.
                    if r1 >= 1 && c1 >= 1 && r1 <= r0 {
                        return Err(msg!(
                            "workbook_damaged",
                            kind = "XLS",
                            detail = "a sheet ends before it begins"
                        ));
                    }
                    let c0 = if c0 > 0xFF || c1 < c0 { 0 } else { c0 };
                    let rows = (r1 as u64).saturating_sub(r0 as u64).max(1);
                    let cols = (c1 as u64).saturating_sub(c0 as u64).max(1);
                    if rows.saturating_mul(cols) > MAX_XLS_GRID {
                        return Err(too_big(msg!(
                            "xls_sheet_spans",
                            rows = grouped(rows),
                            cols = grouped(cols)
                        )));
                    }
                }
                // Cells with their row and column first: Number, Label, RString, BoolErr,
                // Rk, LabelSst, Formula, Blank.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 | 0x0201 => {
                    if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                        cover(row as u64, col as u64)?;
                    }
                    text += match typ {
                        0x00FD => u32_at(data, 6)
                            .and_then(|i| strings.get(i as usize))
                            .copied()
                            .unwrap_or(0),
                        0x0204 | 0x00D6 => data.len() as u64 * 2,
                        _ => 0,
                    };
                }
                // The text of a formula's value.
                0x0207 => text += data.len() as u64 * 2,
                // MulRk, MulBlank: a row, a first column, and the last column at the end.
                0x00BD | 0x00BE => {
                    let last = data.len().checked_sub(2).and_then(|i| u16_at(data, i));
                    if let (Some(row), Some(first), Some(last)) =
                        (u16_at(data, 0), u16_at(data, 2), last)
                    {
                        cover(row as u64, first as u64)?;
                        cover(row as u64, last as u64)?;
                    }
                }
                _ => {}
            }
        }
        if let Some((r0, r1, c0, c1)) = span {
            grid += (r1 - r0 + 1) * (c1 - c0 + 1);
        }
        if text > MAX_SHEET_TEXT_BYTES {
            return Err(msg!(
                "sheet_text_too_big",
                limit = MAX_SHEET_TEXT_BYTES >> 20
            ));
        }
        if grid > MAX_XLS_GRID {
            return Err(too_big(msg!("xls_sheets_span", cells = grouped(grid))));
        }
    }
    Ok(())
}

/// The bytes each shared string of an XLS workbook takes once read (as UTF-8, at most),
/// walking the SST record and the records that continue it (a string's characters may go on
/// in the next record, which then starts with a byte saying how wide they are).
fn sst_text_lengths(parts: &[&[u8]]) -> Result<Vec<u64>, Msg> {
    let mut buf = Vec::new();
    let mut bounds = Vec::new();
    for p in parts {
        bounds.push(buf.len());
        buf.extend_from_slice(p);
    }
    let next_bound = |pos: usize| {
        bounds
            .iter()
            .copied()
            .find(|b| *b > pos)
            .unwrap_or(buf.len())
    };
    let damaged = || {
        msg!(
            "workbook_damaged",
            kind = "XLS",
            detail = "its shared strings do not add up"
        )
    };
    let Some(unique) = u32_at(&buf, 4) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut pos = 8usize;
    for _ in 0..unique {
        if out.len() as u64 >= MAX_SHEET_CELLS {
            return Err(msg!("too_many_cells", limit = grouped(MAX_SHEET_CELLS)));
        }
        let (Some(chars), Some(&flags)) = (u16_at(&buf, pos), buf.get(pos + 2)) else {
            break;
        };
        pos += 3;
        let mut wide = flags & 0x01 != 0;
        let runs = if flags & 0x08 != 0 {
            let r = u16_at(&buf, pos).ok_or_else(damaged)? as usize;
            pos += 2;
            r
        } else {
            0
        };
        let ext = if flags & 0x04 != 0 {
            let e = u32_at(&buf, pos).ok_or_else(damaged)? as usize;
            pos += 4;
            e
        } else {
            0
        };
        let mut left = chars as usize;
        let mut bytes = 0u64;
        while left > 0 {
            let width = if wide { 2 } else { 1 };
            let end = next_bound(pos);
            let take = (end.saturating_sub(pos) / width).min(left);
            bytes += take as u64 * if wide { 3 } else { 2 };
            pos += take * width;
            left -= take;
            if left > 0 {
                if pos != end || pos >= buf.len() {
                    return Err(damaged());
                }
                wide = buf[pos] & 0x01 != 0;
                pos += 1;
            }
        }
        pos = pos.saturating_add(4 * runs).saturating_add(ext);
        out.push(bytes);
    }
    Ok(out)
}

/// The BIFF records of a stream from an offset: (type, data), framed as calamine frames them.
struct Records<'a> {
    stream: &'a [u8],
    at: usize,
}

impl<'a> Records<'a> {
    fn at(stream: &'a [u8], at: usize) -> Records<'a> {
        Records { stream, at }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let head = self.stream.get(self.at..self.at + 4)?;
        let typ = u16::from_le_bytes([head[0], head[1]]);
        let len = u16::from_le_bytes([head[2], head[3]]) as usize;
        let data = self.stream.get(self.at + 4..self.at + 4 + len)?;
        self.at += 4 + len;
        Some((typ, data))
    }
}

fn u16_at(data: &[u8], i: usize) -> Option<u16> {
    data.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(data: &[u8], i: usize) -> Option<u32> {
    data.get(i..i + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn check_column(row: u64, col: u64) -> Result<(), Msg> {
    if col >= MAX_COLUMNS as u64 {
        return Err(msg!(
            "cell_past_columns",
            row = row + 1,
            column = column_letters(col),
            limit = MAX_COLUMNS
        ));
    }
    Ok(())
}

/// The cells of a sheet with a value, gathered row by row within the limits.
#[derive(Default)]
struct Cells {
    /// (row, column, text), in the order read.
    cells: Vec<(u32, u32, String)>,
    min_col: Option<u32>,
    /// Bytes of text gathered.
    text: u64,
}

impl Cells {
    fn push(&mut self, row: u32, col: u32, value: &Data) -> Result<(), Msg> {
        if value.is_empty() {
            return Ok(());
        }
        if row as u64 >= MAX_ROWS {
            return Err(msg!("too_many_rows", limit = grouped(MAX_ROWS)));
        }
        check_column(row as u64, col as u64)?;
        if self.cells.len() as u64 >= MAX_SHEET_CELLS {
            return Err(msg!("too_many_cells", limit = grouped(MAX_SHEET_CELLS)));
        }
        let text = cell_text(value);
        let chars = text.chars().count();
        if chars > MAX_CELL_CHARS {
            return Err(msg!(
                "cell_too_long",
                row = row + 1,
                column = column_letters(col as u64),
                limit = grouped(MAX_CELL_CHARS as u64)
            ));
        }
        self.text += text.len() as u64;
        if self.text > MAX_SHEET_TEXT_BYTES {
            return Err(msg!(
                "sheet_text_too_big",
                limit = MAX_SHEET_TEXT_BYTES >> 20
            ));
        }
        self.min_col = Some(self.min_col.map_or(col, |m| m.min(col)));
        self.cells.push((row, col, text));
        Ok(())
    }

    /// The rows that have a value, each from the first column any row uses (so columns line
    /// up as in the sheet), numbered as Excel shows them.
    fn into_table(mut self, format: &'static str) -> Table {
        self.cells.sort_by_key(|(r, c, _)| (*r, *c));
        let first = self.min_col.unwrap_or(0);
        let mut rows: Vec<(u64, StringRecord)> = Vec::new();
        let mut current: Option<(u32, Vec<String>)> = None;
        for (r, c, text) in self.cells {
            if current.as_ref().is_some_and(|(row, _)| *row != r) {
                let (row, cells) = current.take().expect("checked");
                rows.push((row as u64 + 1, StringRecord::from(cells)));
            }
            let (_, cells) = current.get_or_insert_with(|| (r, Vec::new()));
            let at = (c - first) as usize;
            if cells.len() < at {
                cells.resize(at, String::new());
            }
            cells.push(text);
        }
        if let Some((row, cells)) = current {
            rows.push((row as u64 + 1, StringRecord::from(cells)));
        }
        Table::in_memory(format, "", true, rows)
    }
}

/// A spreadsheet cell as text: whole numbers without `.0`, dates and times in ISO form.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let serial = dt.as_f64();
            match crate::values::excel_serial_date(serial) {
                Some(d) if serial.fract() == 0.0 => d.format("%Y-%m-%d").to_string(),
                Some(d) => {
                    let secs = ((serial.fract()) * 86_400.0).round() as u32;
                    let t =
                        chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0)
                            .unwrap_or(chrono::NaiveTime::MIN);
                    format!("{} {}", d.format("%Y-%m-%d"), t.format("%H:%M:%S"))
                }
                None => serial.to_string(),
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}
