//! The datasets of `shared/contract/DATA.md`, as code.
//!
//! This crate is the bottom of edulake: it knows the datasets and the lake's layout, not the
//! engines. Everything that reads an extract, writes or reads the lake or documents it asks
//! this crate what a dataset is.
//!
//! # Layout
//! - [`vocab`]: enum vocabularies (canonical English value and the Chinese and code aliases
//!   clerks write), and the header words for personal data that is never stored.
//! - [`dataset`]: the types that describe a dataset: [`Dataset`], [`Column`], [`Kind`],
//!   [`Rule`], and the Arrow schema of a dataset's raw lake table.
//! - [`datasets`]: the datasets themselves (`schools`, `enrolment`, `attendance`,
//!   `health_report`, `notices`, `notice_reads`, `class_report`), and the table that keeps
//!   attendance sent as exception registers (`attendance_exceptions`); [`stored`] lists every
//!   raw table.
//! - [`lake`]: the lake's layout: the batch index (`_batches`) and the batch record each
//!   ingested file leaves in it and in the commit that stored it, dates as Arrow stores them,
//!   the bureau's time zone.
//! - [`pull`]: what a pulled source remembers between pulls (its cursor), in the state
//!   directory.
//! - [`class`]: class names as schools write them (`七年级(1)班`, `初一1班`) to one code (`7-1`).
//! - [`geo`]: district boundaries (a bureau's GeoJSON) as the cockpit's map draws them.
//! - [`dictionary`]: the Markdown data dictionary printed by `edulake schema`.
//! - [`text`]: text as written for people (a CSV cell made safe for a spreadsheet).
//! - [`words`]: every word edulake says to a person, in Chinese and English, and the messages
//!   (a key and its arguments) that ingest gives about files and rows.

pub mod class;
pub mod dataset;
pub mod datasets;
pub mod dictionary;
pub mod geo;
pub mod lake;
pub mod pull;
pub mod text;
pub mod vocab;
pub mod words;

pub use dataset::{Column, Dataset, Kind, Required, Rule, META_COLUMNS};
pub use datasets::{all, by_name, names, stored, stored_by_name};
pub use vocab::{Vocabulary, PERSONAL_HEADERS};

/// Normalises a header or an enum word for matching: trims spaces (ASCII and full-width) and
/// a byte-order mark, drops a questionnaire's question number (`3、今日体温`, as 问卷星 heads
/// its columns), folds full-width brackets to ASCII, and lower-cases ASCII letters.
pub fn fold(word: &str) -> String {
    let trimmed =
        word.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\u{3000}');
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let trimmed = match trimmed[digits..].strip_prefix('、') {
        Some(rest) if (1..=3).contains(&digits) && !rest.trim().is_empty() => rest.trim(),
        _ => trimmed,
    };
    trimmed
        .chars()
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn headers_fold_to_one_form() {
        assert_eq!(fold("\u{feff} 体温（℃） "), "体温(℃)");
        assert_eq!(fold("Student_ID"), "student_id");
        // A questionnaire's question number is not part of the question.
        assert_eq!(fold("3、今日体温"), "今日体温");
        assert_eq!(fold("12、 是否发热"), "是否发热");
        // A number alone, or one that is the whole word, stays.
        assert_eq!(fold("1、"), "1、");
        assert_eq!(fold("2026、年"), "2026、年");
        assert_eq!(fold("7-1"), "7-1");
    }
}
