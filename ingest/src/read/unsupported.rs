//! Files that are not tables edulake reads, named for what they look like (REPORTING.md
//! "Formats added"): a file in a format edulake does not read is rejected with "format not
//! supported: <what it looks like>", never with a list of missing columns taken from its first
//! line.

use std::io::Cursor;

/// The sentence a file in a format edulake does not read is rejected with.
pub(super) fn rejected(what: &str) -> String {
    format!("format not supported: {what}")
}

/// What a file's first bytes say it is, where that is a known format edulake does not read.
pub(super) fn by_magic(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"{\\rtf", "an RTF document"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (b"\x42\x5A\x68", "a bzip2 file"),
        (b"\xFD7zXZ\x00", "an xz file"),
        (b"SQLite format 3\x00", "an SQLite database"),
        (b"PAR1", "a Parquet file"),
    ];
    // A BMP's "BM" is too short to trust alone: it also needs its header's size field.
    MAGIC
        .iter()
        .find(|(magic, what)| {
            bytes.starts_with(magic) && (*what != "a BMP image" || bytes.len() >= 26)
        })
        .map(|(_, what)| *what)
}

/// For a zip that is not an XLSX workbook: what it holds.
pub(super) fn zip_contents(bytes: &[u8]) -> Option<String> {
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
        return Some("a Word document (.docx)".into());
    }
    if has("ppt/presentation.xml") {
        return Some("a PowerPoint presentation (.pptx)".into());
    }
    if has("content.xml") && has("mimetype") {
        return Some("an OpenDocument file".into());
    }
    let mut listed: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.ends_with('/'))
        .collect();
    listed.sort_unstable();
    let shown: Vec<&str> = listed.iter().copied().take(5).collect();
    let more = listed.len().saturating_sub(shown.len());
    let what = if has("manifest.csv") {
        "a zip bundle with manifest.csv (a OneRoster export?)"
    } else {
        "a zip archive"
    };
    Some(format!(
        "{what} holding {}{}",
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
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
pub(super) fn by_text(text: &str) -> Option<String> {
    let first = text.trim_start_matches('\u{feff}').trim_start();
    let head: String = first.chars().take(4096).collect::<String>().to_lowercase();
    if head.starts_with('[') {
        return Some("a JSON array (edulake reads JSON lines: one object per line)".into());
    }
    if !head.starts_with('<') {
        return None;
    }
    if head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
        return Some("an Excel 2003 XML spreadsheet".into());
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
            None => return Some("XML".into()),
        }
    }
    let root: String = rest
        .trim_start_matches('<')
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '/'))
        .take(80)
        .collect();
    Some(if root.is_empty() {
        "XML".into()
    } else {
        format!("XML (root element <{root}>)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_a_file_looks_like() {
        assert_eq!(by_magic(b"%PDF-1.7\n..."), Some("a PDF document"));
        assert_eq!(by_magic(b"BM"), None);
        assert_eq!(by_magic(b"date,school_code\n"), None);
        assert_eq!(
            by_text("<?xml version=\"1.0\"?>\n<!-- Ed-Fi -->\n<InterchangeStudentAttendance xmlns=\"x\">"),
            Some("XML (root element <InterchangeStudentAttendance>)".into())
        );
        assert!(is_html(
            "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><body><table>"
        ));
        assert_eq!(by_text("日期,学校\n2026-11-18,S1\n"), None);
        assert!(by_text("[{\"a\": 1}]").unwrap().starts_with("a JSON array"));
    }
}
