//! Reading an extract as rows of text cells, whatever produced it.
//!
//! The format and encoding are sniffed from the bytes, never from a flag or the file name:
//! gzip (by its magic number, then sniffed again), XLSX and XLS (first sheet, via calamine),
//! UTF-16 text (Excel's "Unicode text", tab-separated), JSON lines, HTML tables (a platform's
//! "Excel" export that is a web page, [`html`]), XML record lists and Ed-Fi interchanges
//! ([`xml`]), OneRoster bulk bundles ([`oneroster`]), and delimited text in UTF-8 (with or without
//! BOM) or GB18030/GBK. Anything else recognisable (an Excel 2003 XML sheet, a PDF,
//! an image, a zip of other files) is refused as "format not supported: <what it looks
//! like>" ([`unsupported`]), never read as text with its first line for a header.
//!
//! Every reader keeps within [`crate::limits`]: what a file says about its own size is never
//! believed before it is checked, and a file over a limit is rejected whole with the limit
//! named. Spreadsheets are read in [`sheet`].

mod html;
mod oneroster;
mod sheet;
mod unsupported;
mod xml;

use std::io::{Cursor, Read};

use csv::StringRecord;
use edulake_schemas::msg;
use edulake_schemas::words::Msg;

use crate::limits::{
    check_unpacked, column_letters, grouped, MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS,
};

/// What the sniffing found, for the ingest report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub format: std::borrow::Cow<'static, str>,
    pub encoding: &'static str,
    pub gzip: bool,
}

impl std::fmt::Display for Sniffed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", if self.gzip { "gzip " } else { "" }, self.format)?;
        if !self.encoding.is_empty() {
            write!(f, ", {}", self.encoding)?;
        }
        Ok(())
    }
}

/// The rows of a table. Each row comes with the row number a person sees when opening the
/// file (1-based, counting title rows, the header and, for text, physical lines).
pub enum Rows {
    Delimited(Box<LineCounting>),
    Memory(std::vec::IntoIter<(u64, StringRecord)>),
    Json(Box<JsonRows>),
}

/// A CSV reader that numbers records by the physical line they start on. The csv crate's own
/// line count lags behind after CRLF line ends and blank lines, so lines are counted here from
/// each record's byte offset.
pub struct LineCounting {
    reader: csv::Reader<Cursor<Vec<u8>>>,
    /// Byte offset up to which newlines have been counted, and the line number there.
    counted_to: usize,
    line: u64,
    /// Records read so far.
    records: u64,
}

impl LineCounting {
    fn new(reader: csv::Reader<Cursor<Vec<u8>>>) -> Self {
        LineCounting {
            reader,
            counted_to: 0,
            line: 1,
            records: 0,
        }
    }

    /// The line on which the record starting at byte `start` begins.
    fn line_at(&mut self, start: usize) -> u64 {
        let text = self.reader.get_ref().get_ref();
        let mut start = start.min(text.len());
        // A record's position may point at the line end that precedes it.
        while start < text.len() && (text[start] == b'\r' || text[start] == b'\n') {
            start += 1;
        }
        if start > self.counted_to {
            self.line += memchr::memchr_iter(b'\n', &text[self.counted_to..start]).count() as u64;
            self.counted_to = start;
        }
        self.line
    }
}

impl Rows {
    /// How much of the table's text the rows read so far cover (0 to 1), where that is
    /// known (a delimited text; a table held in memory was read whole before).
    pub fn fraction_read(&self) -> Option<f64> {
        match self {
            Rows::Delimited(r) => {
                let len = r.reader.get_ref().get_ref().len().max(1);
                Some(r.counted_to as f64 / len as f64)
            }
            Rows::Memory(_) | Rows::Json(_) => None,
        }
    }

    /// The next row into `rec`, with its row number; `Ok(None)` at the end.
    pub fn next_into(&mut self, rec: &mut StringRecord) -> Result<Option<u64>, Msg> {
        match self {
            Rows::Delimited(r) => match r.reader.read_record(rec) {
                Ok(true) => {
                    let start = rec
                        .position()
                        .map(|p| p.byte() as usize)
                        .unwrap_or(r.counted_to);
                    let line = r.line_at(start);
                    r.records += 1;
                    if r.records > MAX_ROWS {
                        return Err(msg!("too_many_rows", limit = grouped(MAX_ROWS)));
                    }
                    within_limits(line, rec)?;
                    Ok(Some(line))
                }
                Ok(false) => Ok(None),
                Err(e) => Err(csv_error(&e)),
            },
            Rows::Memory(it) => Ok(it.next().map(|(n, r)| {
                *rec = r;
                n
            })),
            Rows::Json(j) => j.next_into(rec),
        }
    }
}

/// Checks a delimited text's rows against the column and cell limits before a CSV reader
/// sees it: a reader keeps a row's cells and their bounds until the row ends, so one row of
/// 400 million commas, or one field as long as the file, would be held whole before any check
/// on its cells. One pass, from one quote, delimiter or line end to the next.
fn within_shape(text: &[u8], delimiter: u8) -> Result<(), Msg> {
    // A field whose bytes are more than this holds more characters than a cell may (a
    // character takes at most four bytes, doubled if it is a quote).
    let longest = MAX_CELL_CHARS * 8 + 2;
    // Most files pass on their lines alone: without quotes a cell ends on its line, and a
    // line shorter than the column limit has fewer delimiters than that.
    if memchr::memchr(b'"', text).is_none() {
        let mut from = 0;
        let short = memchr::memchr_iter(b'\n', text)
            .chain([text.len()])
            .all(|end| std::mem::replace(&mut from, end + 1) + MAX_COLUMNS > end);
        if short {
            return Ok(());
        }
    }
    let mut line = 1u64;
    let mut column = 0usize;
    let mut field_start = 0usize;
    let mut quoted = false;
    let too_long = |line: u64, column: usize| {
        msg!(
            "cell_too_long",
            row = line,
            column = column_letters(column as u64),
            limit = grouped(MAX_CELL_CHARS as u64)
        )
    };
    for at in memchr::memchr3_iter(b'"', delimiter, b'\n', text) {
        if at - field_start > longest {
            return Err(too_long(line, column));
        }
        match text[at] {
            b'"' => quoted = !quoted,
            b'\n' if quoted => line += 1,
            b'\n' => {
                line += 1;
                column = 0;
                field_start = at + 1;
            }
            _ if quoted => {}
            _ => {
                column += 1;
                field_start = at + 1;
                if column >= MAX_COLUMNS {
                    return Err(msg!("too_many_columns", row = line, limit = MAX_COLUMNS));
                }
            }
        }
    }
    if text.len() - field_start > longest {
        return Err(too_long(line, column));
    }
    Ok(())
}

/// Checks one row against the column and cell limits.
fn within_limits(line: u64, rec: &StringRecord) -> Result<(), Msg> {
    if rec.len() > MAX_COLUMNS {
        return Err(msg!("too_many_columns", row = line, limit = MAX_COLUMNS));
    }
    // A cell of more bytes than the limit's characters may still be within it (Chinese
    // takes three bytes a character): count characters only then.
    if rec.as_slice().len() > MAX_CELL_CHARS {
        for (i, cell) in rec.iter().enumerate() {
            if cell.len() > MAX_CELL_CHARS {
                let chars = cell.chars().count();
                if chars > MAX_CELL_CHARS {
                    return Err(msg!(
                        "cell_too_long",
                        row = line,
                        column = column_letters(i as u64),
                        limit = grouped(MAX_CELL_CHARS as u64)
                    ));
                }
            }
        }
    }
    Ok(())
}

fn csv_error(e: &csv::Error) -> Msg {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => msg!(
            "not_in_encoding",
            row = pos.as_ref().map(|p| p.line()).unwrap_or(0)
        ),
        _ => msg!("malformed_text", problem = e.to_string()),
    }
}

/// A table read from one file.
pub struct Table {
    pub sniffed: Sniffed,
    /// Whether the source was a spreadsheet (where bare numbers in date columns are serials).
    pub spreadsheet: bool,
    pub rows: Rows,
    /// What the clerk should know about how the file was read (a bundle's misspelt header).
    pub notes: Vec<Msg>,
}

impl Table {
    /// A table read whole into memory (a page, an XML document, a bundle, a sheet): its rows
    /// numbered as a person sees them in the file.
    fn in_memory(
        format: impl Into<std::borrow::Cow<'static, str>>,
        encoding: &'static str,
        spreadsheet: bool,
        rows: Vec<(u64, StringRecord)>,
    ) -> Table {
        Table {
            sniffed: Sniffed {
                format: format.into(),
                encoding,
                gzip: false,
            },
            spreadsheet,
            rows: Rows::Memory(rows.into_iter()),
            notes: Vec::new(),
        }
    }
}

/// Reads `bytes` as a table. `Err` says why the file is not a table.
pub fn read_table(bytes: Vec<u8>) -> Result<Table, Msg> {
    read_table_for(bytes, None)
}

/// [`read_table`] for a dataset: a bundle of several tables (OneRoster) is read as the one the
/// dataset takes (its orgs for `schools`, else its roster).
pub fn read_table_for(bytes: Vec<u8>, dataset: Option<&str>) -> Result<Table, Msg> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let consumed = std::cell::Cell::new(0u64);
        let mut gz = flate2::read::MultiGzDecoder::new(Counting {
            inner: &bytes[..],
            read: &consumed,
        });
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = gz
                .read(&mut chunk)
                .map_err(|e| msg!("gzip_damaged", problem = e.to_string()))?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
            check_unpacked(msg!("the_gzip_file"), out.len() as u64, consumed.get())?;
        }
        drop(gz);
        drop(bytes);
        if out.starts_with(&[0x1f, 0x8b]) {
            return Err(msg!("gzip_in_gzip"));
        }
        let mut t = read_table_for(out, dataset)?;
        t.sniffed.gzip = true;
        return Ok(t);
    }
    if let Some(what) = unsupported::by_magic(&bytes) {
        return Err(unsupported::rejected(what));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        if oneroster::is_oneroster(&bytes) {
            let want = match dataset {
                Some("schools") => oneroster::Want::Schools,
                None | Some("enrolment") => oneroster::Want::Roster,
                Some(_) => return Err(unsupported::rejected(msg!("oneroster_for_other"))),
            };
            return oneroster::read_oneroster(bytes, want);
        }
        if let Some(what) = unsupported::zip_contents(&bytes) {
            return Err(unsupported::rejected(what));
        }
        return sheet::read_xlsx(bytes);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return sheet::read_xls(bytes);
    }
    let (text, encoding) = decode_text(bytes)?;
    if text.contains('\0') {
        return Err(msg!("binary_data"));
    }
    let first = text.trim_start();
    if first.starts_with('{') {
        return read_json_lines(text, encoding);
    }
    if unsupported::is_html(first) {
        return html::read_html(text, encoding);
    }
    if unsupported::is_record_xml(first) {
        return xml::read_xml(text, encoding);
    }
    if let Some(what) = unsupported::by_text(first) {
        return Err(unsupported::rejected(what));
    }
    if first.is_empty() {
        return Err(msg!("file_empty"));
    }
    let delimiter = sniff_delimiter(&text);
    within_shape(text.as_bytes(), delimiter)?;
    let format = match (encoding, delimiter) {
        ("UTF-16LE" | "UTF-16BE", b'\t') => "unicode text (tab-separated)",
        (_, b'\t') => "tab-separated text",
        _ => "csv",
    };
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(Cursor::new(text.into_bytes()));
    Ok(Table {
        sniffed: Sniffed {
            format: format.into(),
            encoding,
            gzip: false,
        },
        spreadsheet: false,
        rows: Rows::Delimited(Box::new(LineCounting::new(reader))),
        notes: Vec::new(),
    })
}

/// A reader that counts the bytes read from it (the compressed side of an unpacking).
struct Counting<'a> {
    inner: &'a [u8],
    read: &'a std::cell::Cell<u64>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Decodes text in UTF-16 (by BOM, or by its zero bytes), UTF-8 (BOM or not) or GB18030.
fn decode_text(bytes: Vec<u8>) -> Result<(String, &'static str), Msg> {
    let utf16 = |le: bool, body: &[u8]| -> Result<String, Msg> {
        let enc = if le {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (s, had_errors) = enc.decode_without_bom_handling(body);
        if had_errors {
            Err(msg!("utf16_damaged"))
        } else {
            Ok(s.into_owned())
        }
    };
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Ok((utf16(true, &bytes[2..])?, "UTF-16LE"));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Ok((utf16(false, &bytes[2..])?, "UTF-16BE"));
    }
    // UTF-16 without a BOM: ASCII text leaves every other byte zero.
    let probe = &bytes[..bytes.len().min(512)];
    if probe.len() >= 4 {
        let odd_zero = probe.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let even_zero = probe.iter().step_by(2).filter(|b| **b == 0).count();
        let half = probe.len() / 2;
        if odd_zero * 10 >= half * 6 && even_zero * 10 < half {
            return Ok((utf16(true, &bytes)?, "UTF-16LE"));
        }
        if even_zero * 10 >= half * 6 && odd_zero * 10 < half {
            return Ok((utf16(false, &bytes)?, "UTF-16BE"));
        }
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        let body = bytes[3..].to_vec();
        return String::from_utf8(body)
            .map(|s| (s, "UTF-8 with BOM"))
            .map_err(|e| msg!("utf8_broken", byte = e.utf8_error().valid_up_to() + 3));
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok((s, "UTF-8")),
        Err(e) => {
            let bytes = e.into_bytes();
            let (s, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            if had_errors {
                Err(msg!("unknown_encoding"))
            } else {
                Ok((s.into_owned(), "GB18030"))
            }
        }
    }
}

/// The delimiter of a text table: among tab, comma, semicolon and `|`, the one found most
/// often outside quoted cells on the first lines (a quoted `"发热;咳嗽"` does not count).
fn sniff_delimiter(text: &str) -> u8 {
    // The start of the first lines is enough to tell (a line may be as long as the file).
    let mut end = text.len().min(1 << 20);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let lines: Vec<&str> = head
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .map(|l| l.get(..l.len().min(64 << 10)).unwrap_or(l))
        .collect();
    let mut best = (b',', 0usize);
    for d in [b'\t', b',', b';', b'|'] {
        let max = lines
            .iter()
            .map(|l| count_outside_quotes(l, d))
            .max()
            .unwrap_or(0);
        if max > best.1 {
            best = (d, max);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for b in line.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == d && !quoted {
            n += 1;
        }
    }
    n
}

/// The longest line of a JSON-lines file: its cells at their limits, and room for keys.
const MAX_JSON_LINE_BYTES: usize = 4 << 20;

/// JSON lines: read twice, so that only the text is held: once to find every key (the
/// header) and check each line, then line by line as rows.
fn read_json_lines(text: String, encoding: &'static str) -> Result<Table, Msg> {
    let mut header: Vec<String> = Vec::new();
    let mut lines: Vec<(u64, usize, usize)> = Vec::new();
    let mut at = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start = at;
        at += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let number = i as u64 + 1;
        if lines.len() as u64 >= MAX_ROWS {
            return Err(msg!("too_many_rows", limit = grouped(MAX_ROWS)));
        }
        if line.len() > MAX_JSON_LINE_BYTES {
            return Err(msg!(
                "line_too_long",
                row = number,
                size = line.len() >> 20,
                limit = MAX_JSON_LINE_BYTES >> 20
            ));
        }
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(line)
        {
            for k in map.keys() {
                if !header.iter().any(|h| h == k) {
                    if header.len() == MAX_COLUMNS {
                        return Err(msg!(
                            "too_many_json_keys",
                            row = number,
                            limit = MAX_COLUMNS
                        ));
                    }
                    header.push(k.clone());
                }
            }
        }
        lines.push((number, start, start + line.len()));
    }
    if header.is_empty() {
        return Err(msg!("no_json_object"));
    }
    Ok(Table {
        sniffed: Sniffed {
            format: "json lines".into(),
            encoding,
            gzip: false,
        },
        spreadsheet: false,
        rows: Rows::Json(Box::new(JsonRows {
            text,
            header: Some(header.clone()),
            keys: header,
            lines: lines.into_iter(),
        })),
        notes: Vec::new(),
    })
}

/// The rows of a JSON-lines file, parsed one at a time.
pub struct JsonRows {
    text: String,
    /// The header row, until it is read.
    header: Option<Vec<String>>,
    keys: Vec<String>,
    /// Each line's number and where it is in the text.
    lines: std::vec::IntoIter<(u64, usize, usize)>,
}

impl JsonRows {
    fn next_into(&mut self, rec: &mut StringRecord) -> Result<Option<u64>, Msg> {
        if let Some(header) = self.header.take() {
            *rec = StringRecord::from(header);
            return Ok(Some(0));
        }
        let Some((number, start, end)) = self.lines.next() else {
            return Ok(None);
        };
        *rec = match serde_json::from_str::<serde_json::Value>(&self.text[start..end]) {
            Ok(serde_json::Value::Object(map)) => {
                let row = StringRecord::from(
                    self.keys
                        .iter()
                        .map(|h| match map.get(h) {
                            None | Some(serde_json::Value::Null) => String::new(),
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                        })
                        .collect::<Vec<_>>(),
                );
                within_limits(number, &row)?;
                row
            }
            // A bad line is one bad row, not a bad file: a row with a marker the cleaner
            // rejects.
            Ok(_) => StringRecord::from(vec![UNREADABLE_ROW.to_string()]),
            Err(e) => StringRecord::from(vec![format!("{UNREADABLE_ROW}{e}")]),
        };
        Ok(Some(number))
    }
}

/// Prefix of the single cell of a row the reader could not parse (a malformed JSON line),
/// before the parser's words (none for a line that is JSON but not an object).
pub const UNREADABLE_ROW: &str = "\u{0}unreadable:";

#[cfg(test)]
mod tests {
    use super::*;

    fn all_rows(t: &mut Table) -> Vec<(u64, Vec<String>)> {
        let mut rec = StringRecord::new();
        let mut out = Vec::new();
        while let Some(n) = t.rows.next_into(&mut rec).unwrap() {
            out.push((n, rec.iter().map(String::from).collect()));
        }
        out
    }

    #[test]
    fn sniffs_encodings() {
        let text = "日期,学号\n2026-09-01,G1\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let mut t = read_table(gbk.into_owned()).unwrap();
        assert_eq!(t.sniffed.encoding, "GB18030");
        assert_eq!(all_rows(&mut t)[0].1, vec!["日期", "学号"]);

        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        let mut t = read_table(bom).unwrap();
        assert_eq!(t.sniffed.encoding, "UTF-8 with BOM");
        assert_eq!(
            all_rows(&mut t)[1],
            (2, vec!["2026-09-01".to_string(), "G1".to_string()])
        );

        let mut u16 = vec![0xFF, 0xFE];
        for unit in "日期\t学号\r\n2026-09-01\tG1\r\n".encode_utf16() {
            u16.extend_from_slice(&unit.to_le_bytes());
        }
        let mut t = read_table(u16).unwrap();
        assert_eq!(t.sniffed.format, "unicode text (tab-separated)");
        assert_eq!(all_rows(&mut t)[1].1, vec!["2026-09-01", "G1"]);
    }

    #[test]
    fn row_numbers_are_physical_lines_with_crlf_and_blank_lines() {
        let text = "title\r\n\r\ndate,id\r\n2026-09-01,a\r\n\r\n2026-09-02,\"multi\nline\"\r\n2026-09-03,c\r\n";
        let mut t = read_table(text.as_bytes().to_vec()).unwrap();
        let numbers: Vec<u64> = all_rows(&mut t).iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![1, 3, 4, 6, 8]);
        let mut t = read_table(b"a;b\n1;\"x,y,z\"\n".to_vec()).unwrap();
        assert_eq!(all_rows(&mut t)[1].1, vec!["1", "x,y,z"]);
        let mut t = read_table(b"a,b,symptoms\n1,2,\"x;y;z;w\"\n".to_vec()).unwrap();
        assert_eq!(all_rows(&mut t)[1].1, vec!["1", "2", "x;y;z;w"]);
    }

    #[test]
    fn rejects_what_is_not_a_table() {
        assert!(read_table(vec![]).is_err());
        assert!(read_table(vec![0x1f, 0x8b, 1, 2, 3]).is_err());
        assert!(read_table(b"PK\x03\x04garbage".to_vec()).is_err());
        assert!(read_table(vec![0, 1, 2, 0, 0, 0, 0xff, 0x00]).is_err());
    }
}
