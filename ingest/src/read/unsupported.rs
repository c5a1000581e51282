//! Files that are not tables edulake reads, named for what they look like (REPORTING.md
//! "Formats added"): a file in a format edulake does not read is rejected with "format not
//! supported: <what it looks like>", never with a list of missing columns taken from its first
//! line.

use std::io::Cursor;

use edulake_schemas::msg;
use edulake_schemas::words::{Arg, Msg};

/// The sentence a file in a format edulake does not read is rejected with.
pub(super) fn rejected(what: Msg) -> Msg {
    msg!("format_not_supported", what = what)
}

/// What a file's first bytes say it is, where that is a known format edulake does not read.
pub(super) fn by_magic(bytes: &[u8]) -> Option<Msg> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "fmt_pdf"),
        (b"\x89PNG\r\n\x1a\n", "fmt_png"),
        (b"\xFF\xD8\xFF", "fmt_jpeg"),
        (b"GIF87a", "fmt_gif"),
        (b"GIF89a", "fmt_gif"),
        (b"BM", "fmt_bmp"),
        (b"{\\rtf", "fmt_rtf"),
        (b"7z\xBC\xAF\x27\x1C", "fmt_7z"),
        (b"Rar!\x1A\x07", "fmt_rar"),
        (b"\x42\x5A\x68", "fmt_bzip2"),
        (b"\xFD7zXZ\x00", "fmt_xz"),
        (b"SQLite format 3\x00", "fmt_sqlite"),
        (b"PAR1", "fmt_parquet"),
    ];
    // A BMP's "BM" is too short to trust alone: it also needs its header's size field.
    MAGIC
        .iter()
        .find(|(magic, what)| bytes.starts_with(magic) && (*what != "fmt_bmp" || bytes.len() >= 26))
        .map(|(_, what)| Msg::new(what, Vec::new()))
}

/// For a zip that is not an XLSX workbook: what it holds.
pub(super) fn zip_contents(bytes: &[u8]) -> Option<Msg> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    // A name the zip cannot give (not UTF-8 nor its legacy encoding) is left out.
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let has = |p: &str| names.iter().any(|n| n.eq_ignore_ascii_case(p));
    if has("xl/workbook.xml") {
        return None;
    }
    if has("word/document.xml") {
        return Some(msg!("fmt_docx"));
    }
    if has("ppt/presentation.xml") {
        return Some(msg!("fmt_pptx"));
    }
    if has("content.xml") && has("mimetype") {
        return Some(msg!("fmt_odf"));
    }
    let mut listed: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.ends_with('/'))
        .collect();
    listed.sort_unstable();
    let shown: Vec<&str> = listed.iter().copied().take(5).collect();
    let more = listed.len().saturating_sub(shown.len());
    let files = Arg::texts(&shown);
    Some(match (has("manifest.csv"), more) {
        (true, 0) => msg!("zip_bundle_holding", files = files),
        (true, more) => msg!("zip_bundle_holding_more", files = files, more = more),
        (false, 0) => msg!("zip_holding", files = files),
        (false, more) => msg!("zip_holding_more", files = files, more = more),
    })
}

/// Whether a text is an HTML page (which [`super::html`] reads).
pub(super) fn is_html(text: &str) -> bool {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(4096)
        .collect::<String>()
        .to_lowercase();
    head.starts_with('<')
        && !head.contains("urn:schemas-microsoft-com:office:spreadsheet")
        && (head.contains("<html") || head.contains("<table") || head.starts_with("<!doctype html"))
}

/// Whether a text is XML that [`super::xml`] reads as records: any XML document but an
/// Excel 2003 XML spreadsheet (which [`by_text`] names).
pub(super) fn is_record_xml(text: &str) -> bool {
    let first = text.trim_start_matches('\u{feff}').trim_start();
    let head: String = first.chars().take(4096).collect::<String>().to_lowercase();
    first.starts_with('<') && !head.contains("urn:schemas-microsoft-com:office:spreadsheet")
}

/// What a text file looks like where it is markup or JSON rather than delimited text.
pub(super) fn by_text(text: &str) -> Option<Msg> {
    let first = text.trim_start_matches('\u{feff}').trim_start();
    let head: String = first.chars().take(4096).collect::<String>().to_lowercase();
    if head.starts_with('[') {
        return Some(msg!("fmt_json_array"));
    }
    if !head.starts_with('<') {
        return None;
    }
    if head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
        return Some(msg!("fmt_excel_2003_xml"));
    }
    // XML: named by its root element, after the declaration, comments and doctype.
    let mut rest = first;
    loop {
        rest = rest.trim_start();
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|i| i + 1)
        } else {
            break;
        };
        match skip {
            Some(i) => rest = &rest[i..],
            None => return Some(msg!("fmt_xml")),
        }
    }
    let root: String = rest
        .trim_start_matches('<')
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '/'))
        .take(80)
        .collect();
    Some(if root.is_empty() {
        msg!("fmt_xml")
    } else {
        msg!("xml_root", root = root)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_a_file_looks_like() {
        assert_eq!(
            by_magic(b"%PDF-1.7\n...").map(|m| m.to_string()),
            Some("a PDF document".into())
        );
        assert_eq!(by_magic(b"BM"), None);
        assert_eq!(by_magic(b"date,school_code\n"), None);
        assert_eq!(
            by_text("<?xml version=\"1.0\"?>\n<!-- Ed-Fi -->\n<InterchangeStudentAttendance xmlns=\"x\">")
                .map(|m| m.to_string()),
            Some("XML (root element <InterchangeStudentAttendance>)".into())
        );
        assert!(is_html(
            "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><body><table>"
        ));
        assert_eq!(by_text("日期,学校\n2026-11-18,S1\n"), None);
        assert!(by_text("[{\"a\": 1}]")
            .unwrap()
            .to_string()
            .starts_with("a JSON array"));
    }
}
