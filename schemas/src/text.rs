//! Text as edulake writes it for people: a cell of a CSV file opened in Excel or WPS, and the
//! name a person most likely meant when they mistyped one.

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

/// Of `known`, the name `typed` most likely meant: the closest by edit distance, if it is
/// close enough to be a slip (`raw_attendence` → `raw_attendance`), ignoring case.
pub fn nearest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&typed, &k.to_lowercase()), k))
        .filter(|(d, k)| *d > 0 && *d <= (k.chars().count() / 3).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod nearest_tests {
    use super::nearest;

    #[test]
    fn a_slip_finds_its_name_and_a_different_word_finds_none() {
        let known = [
            "raw_attendance",
            "raw_health",
            "attendance_rate",
            "absence_rate",
        ];
        assert_eq!(nearest("raw_attendence", known), Some("raw_attendance"));
        assert_eq!(nearest("RAW_HEALHT", known), Some("raw_health"));
        assert_eq!(nearest("attendance_rat", known), Some("attendance_rate"));
        assert_eq!(nearest("students", known), None);
        assert_eq!(nearest("raw_attendance", known), None);
    }
}
