//! What an upload says of its files besides their bytes: the school, class, day or roster
//! date they are for.

use chrono::NaiveDate;

use super::header::file_name_date;

/// What the upload itself says, for columns a file may leave out.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    /// The school the upload is for (`--school`): fills a missing `school_code`, and a row
    /// naming another school is rejected.
    pub school: Option<String>,
    /// The snapshot date of a roster (`--as-of`).
    pub as_of: Option<NaiveDate>,
    /// The day the file is for (`--date`): fills a missing `date`; for an exception register
    /// it also covers that day when the file lists nobody on it.
    pub date: Option<NaiveDate>,
    /// The class the file is for (`--class`): fills a missing `class_code`, and a row naming
    /// another class is rejected.
    pub class: Option<String>,
}

impl Upload {
    /// What the upload said besides its school and roster date, as the batch records it (part
    /// of what makes two uploads of the same bytes the same upload).
    pub fn described(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(d) = self.date {
            parts.push(format!("date={d}"));
        }
        if let Some(c) = &self.class {
            parts.push(format!("class={c}"));
        }
        (!parts.is_empty()).then(|| parts.join(";"))
    }

    /// [`Upload::described`] for one file: with the date its name carries when the upload gave
    /// none (`缺勤登记_2026-11-17.csv`), so that one day's file is not "already ingested" as
    /// another day's whose bytes are the same (an absence list naming the same students, an
    /// empty zero report).
    pub fn described_for(&self, file: &std::path::Path) -> Option<String> {
        let name_date = self
            .date
            .is_none()
            .then(|| {
                file.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(file_name_date)
            })
            .flatten();
        match (self.described(), name_date) {
            (d, None) => d,
            (None, Some(day)) => Some(format!("name_date={day}")),
            (Some(d), Some(day)) => Some(format!("{d};name_date={day}")),
        }
    }
}
