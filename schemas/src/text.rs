//! Text as edulake writes it for people: a cell of a CSV file opened in Excel or WPS.

use std::borrow::Cow;

/// A cell made safe for a spreadsheet: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is read by Excel, WPS and LibreOffice as a formula, which can run commands
/// or send data away when the file is opened (CSV injection). Such a cell gets a leading
/// apostrophe, which the spreadsheet shows as text and does not evaluate. Every CSV that
/// edulake writes (exports, downloads, `sql`, reject reports) passes its text cells through
/// this; numbers written as numbers are not text and keep their sign.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text() {
        for bad in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
        ] {
            assert_eq!(spreadsheet_safe(bad), format!("'{bad}"));
        }
        for fine in ["第一小学", "2026-09-01", "", "a=b", "'quoted"] {
            assert_eq!(spreadsheet_safe(fine), fine);
        }
    }
}
