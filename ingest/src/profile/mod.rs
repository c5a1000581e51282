//! Profiles: one platform's export described as data, not code (REPORTING.md, "Profiles").
//!
//! A profile is a TOML file: the dataset and shape its rows are, the headers that select it,
//! what its headers mean (aliases, national and local id columns, personal columns, columns it
//! ignores), what its values mean (a map per column, yes/no columns that make a list), how it
//! writes dates and where the date comes from, which rows to skip or keep. The built-in ones
//! (`ingest/profiles/*.toml`) are compiled into the binary; a bureau adds its own as files in
//! the state directory's `profiles/`, read at each ingest, so a new platform needs no release.
//! A profile is checked whole when it is loaded: a value mapped to a word the contract does
//! not know, a column the dataset does not have or an unknown key rejects the profile with a
//! sentence naming it.
//!
//! How a profile acts on a file's rows is in `clean` (its header in `header`, its cells in
//! `profiled`); which profile a file gets is [`Profiles::choose`]. A profile file as written,
//! and the checks it passes before it is used, are in `file`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edulake_schemas::dataset::Dataset;
use edulake_schemas::datasets::{ATTENDANCE, ATTENDANCE_EXCEPTIONS, CLASS_REPORT, HEALTH_REPORT};
use edulake_schemas::fold;
use edulake_schemas::msg;
use edulake_schemas::words::{Arg, Msg};

mod file;
pub use file::checked_value;

/// The built-in profiles, as their files are written (REPORTING.md's list).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "dingtalk-daily.toml",
        include_str!("../../profiles/dingtalk-daily.toml"),
    ),
    (
        "form-checkin.toml",
        include_str!("../../profiles/form-checkin.toml"),
    ),
    (
        "xueji-roster.toml",
        include_str!("../../profiles/xueji-roster.toml"),
    ),
    (
        "class-morning-check.toml",
        include_str!("../../profiles/class-morning-check.toml"),
    ),
    (
        "sick-absence-register.toml",
        include_str!("../../profiles/sick-absence-register.toml"),
    ),
    (
        "leave-approvals.toml",
        include_str!("../../profiles/leave-approvals.toml"),
    ),
    (
        "read-status.toml",
        include_str!("../../profiles/read-status.toml"),
    ),
    (
        "school-daily-figures.toml",
        include_str!("../../profiles/school-daily-figures.toml"),
    ),
    (
        "edfi-attendance-events.toml",
        include_str!("../../profiles/edfi-attendance-events.toml"),
    ),
    (
        "edfi-school-associations.toml",
        include_str!("../../profiles/edfi-school-associations.toml"),
    ),
    (
        "oneroster-orgs.toml",
        include_str!("../../profiles/oneroster-orgs.toml"),
    ),
    (
        "oneroster-roster.toml",
        include_str!("../../profiles/oneroster-roster.toml"),
    ),
];

/// What one row of a file is (REPORTING.md): a student, a student not present, or a class's
/// (or school's) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Rows,
    Exceptions,
    ClassReport,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Rows => "rows",
            Shape::Exceptions => "exceptions",
            Shape::ClassReport => "class_report",
        }
    }

    fn parse(s: &str) -> Result<Shape, Msg> {
        match s {
            "rows" => Ok(Shape::Rows),
            "exceptions" => Ok(Shape::Exceptions),
            "class_report" => Ok(Shape::ClassReport),
            other => Err(msg!("prof_shape", shape = other)),
        }
    }
}

/// Where a profile came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    /// A bureau's file in the state directory's `profiles/`.
    File(PathBuf),
}

/// What a value of a column means: one word of the contract, or — for a word whose meaning
/// depends on a reason written beside it (Ed-Fi's `Excused Absence`) — the word the reason
/// names.
#[derive(Debug, Clone, PartialEq)]
pub enum Meaning {
    Word(String),
    ByReason {
        /// The header of the reason column, as the file writes it.
        reason: String,
        /// `(word, reason words)`: the first whose reason words the reason contains.
        when: Vec<(String, Vec<String>)>,
        otherwise: String,
    },
}

/// A column's value map: exact words (folded), and prefixes (`迟到*`).
#[derive(Debug, Clone, Default)]
pub struct ValueMap {
    exact: HashMap<String, Meaning>,
    prefixes: Vec<(String, Meaning)>,
}

impl ValueMap {
    /// The headers of the reason columns its words may ask.
    pub fn reasons(&self) -> impl Iterator<Item = &str> {
        self.exact
            .values()
            .chain(self.prefixes.iter().map(|(_, m)| m))
            .filter_map(|m| match m {
                Meaning::ByReason { reason, .. } => Some(reason.as_str()),
                Meaning::Word(_) => None,
            })
    }

    /// What a cell means, if the map says: its folded text, else the part after the last `#`
    /// (an Ed-Fi descriptor URI, `uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy`),
    /// else the longest prefix that begins it.
    pub fn meaning(&self, cell: &str) -> Option<&Meaning> {
        if self.exact.is_empty() && self.prefixes.is_empty() {
            return None;
        }
        // Most cells are already as a map keeps its words (正常, 迟到): no copy for them.
        let plain = !cell.is_empty()
            && !cell.starts_with(|c: char| c.is_whitespace() || c == '\u{feff}')
            && !cell.ends_with(|c: char| c.is_whitespace())
            && !cell
                .chars()
                .any(|c| c.is_ascii_uppercase() || matches!(c, '（' | '）' | '\u{3000}'));
        let folded: std::borrow::Cow<str> = if plain {
            std::borrow::Cow::Borrowed(cell)
        } else {
            std::borrow::Cow::Owned(fold(cell))
        };
        if let Some(m) = self.exact.get(folded.as_ref()) {
            return Some(m);
        }
        if let Some((_, fragment)) = folded.rsplit_once('#') {
            if let Some(m) = self.exact.get(fragment.trim()) {
                return Some(m);
            }
        }
        self.prefixes
            .iter()
            .filter(|(p, _)| folded.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, m)| m)
    }
}

/// One yes/no column of a list (`是否发热` → `fever`), or one value of a column
/// (`健康状况=不适` → `other`) that counts only where no yes/no column said anything.
#[derive(Debug, Clone)]
pub struct Flag {
    /// The header, folded.
    pub header: String,
    pub value: Option<String>,
    pub word: String,
}

/// One platform's export.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// Its name for people, in Chinese and English.
    pub title: String,
    pub title_en: String,
    /// What it is and where a clerk finds it, for `edulake profiles`.
    pub about: String,
    /// The dataset of DATA.md its rows belong to (`attendance`).
    pub dataset: &'static Dataset,
    pub shape: Shape,
    /// The table its rows are stored in (an exception register's, a class report's).
    pub stored: &'static Dataset,
    pub origin: Origin,
    /// Headers that select it: every one must be in the file's header.
    pub detect: Vec<String>,
    /// Header (folded) → dataset column.
    headers: HashMap<String, &'static str>,
    ignore: HashSet<String>,
    personal: HashSet<String>,
    skip_rows: Vec<String>,
    /// Rows kept only where a column holds one of these values (`审批结果` = `同意`).
    only: Vec<(String, Vec<String>)>,
    /// Rows skipped where a column holds one of these values (`班次` = `休息`).
    skip_when: Vec<(String, Vec<String>)>,
    /// The headers whose value gives the row's date (a timestamp gives its local date): the
    /// first the file has.
    pub date_column: Vec<String>,
    pub date_forms: Vec<String>,
    epoch_ms: HashSet<String>,
    defaults: HashMap<&'static str, String>,
    values: HashMap<&'static str, ValueMap>,
    /// A list column built from yes/no columns.
    pub flags: Option<(&'static str, Vec<Flag>)>,
}

impl Profile {
    /// The dataset column a header names by this profile, if it says.
    pub fn column_for(&self, header: &str) -> Option<&'static str> {
        self.headers.get(&fold(header)).copied()
    }

    /// Whether the profile drops a header unread: personal data, or a column it knows and does
    /// not store.
    pub fn is_personal(&self, header: &str) -> bool {
        self.personal.contains(&fold(header))
    }

    pub fn is_ignored(&self, header: &str) -> bool {
        self.ignore.contains(&fold(header))
    }

    /// Whether a row is one the profile skips: its first filled cell begins with one of its
    /// `skip_rows` words.
    pub fn skips(&self, first_filled: &str) -> bool {
        self.skip_rows
            .iter()
            .any(|w| first_filled.starts_with(w.as_str()))
    }

    /// The rows kept only where a header's cell holds one of the listed values.
    pub fn only(&self) -> &[(String, Vec<String>)] {
        &self.only
    }

    /// The rows skipped where a header's cell holds one of the listed values.
    pub fn skip_when(&self) -> &[(String, Vec<String>)] {
        &self.skip_when
    }

    pub fn default_for(&self, column: &str) -> Option<&str> {
        self.defaults.get(column).map(String::as_str)
    }

    pub fn values_for(&self, column: &str) -> Option<&ValueMap> {
        self.values.get(column)
    }

    /// Whether a header holds epoch milliseconds.
    pub fn is_epoch_ms(&self, header: &str) -> bool {
        self.epoch_ms.contains(&fold(header))
    }

    /// Whether every header that selects this profile is among `names` (folded).
    fn detected_in(&self, names: &HashSet<String>) -> bool {
        self.detect.iter().all(|h| names.contains(&fold(h)))
    }

    /// Whether a file asked to be `requested` may be read with this profile: the same table, or
    /// another shape of the same data (an exception register or a class report of
    /// attendance; a class 晨午检 report of health check-ins).
    pub fn serves(&self, requested: &Dataset) -> bool {
        let is = |a: &Dataset, b: &Dataset| std::ptr::eq(a, b);
        is(self.stored, requested)
            || (is(requested, &ATTENDANCE) && is(self.stored, &ATTENDANCE_EXCEPTIONS))
            || ((is(requested, &ATTENDANCE) || is(requested, &HEALTH_REPORT))
                && is(self.stored, &CLASS_REPORT))
    }
}

/// The profile chosen for a file, and why.
#[derive(Debug, Clone)]
pub struct Choice {
    pub profile: Arc<Profile>,
    /// `its headers 考勤组, 上班1打卡结果 (row 3)`, or `--profile`.
    pub why: Msg,
}

/// Every profile: the built-in ones, then the bureau's (a bureau's profile of the same name
/// replaces the built-in one).
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    list: Vec<Arc<Profile>>,
    /// Profile files that could not be used, each with why.
    pub problems: Vec<Msg>,
}

/// How many leading rows are searched for the headers that select a profile.
const DETECT_ROWS: usize = 50;

impl Profiles {
    /// The built-in profiles.
    pub fn built_in() -> Profiles {
        let mut out = Profiles::default();
        for (file, text) in BUILT_IN {
            match Profile::parse(text, Origin::BuiltIn) {
                Ok(p) => out.list.push(Arc::new(p)),
                // A test keeps every built-in profile valid.
                Err(e) => out
                    .problems
                    .push(msg!("prof_problem", file = *file, problem = e)),
            }
        }
        out
    }

    /// The built-in profiles and the bureau's from `dir` (`*.toml`, in name order). A file
    /// that cannot be used is left out and named in [`Profiles::problems`].
    pub fn load(dir: &Path) -> Profiles {
        let mut out = Profiles::built_in();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for path in files {
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| msg!("prof_unreadable", detail = e.to_string()))
                .and_then(|text| Profile::parse(&text, Origin::File(path.clone())));
            match parsed {
                Ok(p) => {
                    out.list.retain(|q| q.name != p.name);
                    out.list.push(Arc::new(p));
                }
                Err(e) => out.problems.push(msg!(
                    "prof_problem",
                    file = path.display().to_string(),
                    problem = e
                )),
            }
        }
        out
    }

    pub fn all(&self) -> &[Arc<Profile>] {
        &self.list
    }

    pub fn get(&self, name: &str) -> Option<Arc<Profile>> {
        self.list.iter().find(|p| p.name == name).cloned()
    }

    /// The profile whose selecting headers a file's first rows hold, among those that serve
    /// `requested`: the one naming the most headers, on the first row where any is found. A
    /// row is read with the row above it (a two-row header names its columns on both).
    pub fn choose(
        &self,
        requested: &Dataset,
        rows: &mut crate::read::Rows,
    ) -> Result<Option<Choice>, Msg> {
        let candidates: Vec<&Arc<Profile>> =
            self.list.iter().filter(|p| p.serves(requested)).collect();
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut rec = csv::StringRecord::new();
        let mut above: HashSet<String> = HashSet::new();
        for _ in 0..DETECT_ROWS {
            let Some(line) = rows.next_into(&mut rec)? else {
                break;
            };
            let own: HashSet<String> = rec.iter().map(fold).filter(|c| !c.is_empty()).collect();
            let names: HashSet<String> = own.union(&above).cloned().collect();
            let best = candidates
                .iter()
                .filter(|p| p.detected_in(&names))
                .max_by_key(|p| p.detect.len());
            if let Some(p) = best {
                return Ok(Some(Choice {
                    profile: Arc::clone(p),
                    why: msg!(
                        "chosen_by_headers",
                        headers = Arg::texts(&p.detect),
                        row = line
                    ),
                }));
            }
            above = own;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_is_valid() {
        let p = Profiles::built_in();
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.all().len(), BUILT_IN.len());
        let mut names: Vec<&str> = p.all().iter().map(|p| p.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), BUILT_IN.len(), "names are unique");
    }
}
