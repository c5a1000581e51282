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
//! `profiled`); which profile a file gets is [`Profiles::choose`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use edulake_schemas::dataset::{Column, Dataset, Kind, Rule};
use edulake_schemas::datasets::{ATTENDANCE, ATTENDANCE_EXCEPTIONS, CLASS_REPORT, HEALTH_REPORT};
use edulake_schemas::fold;
use edulake_schemas::vocab::{LIST_SEPARATORS, NO_SYMPTOM};

use crate::values;

/// The built-in profiles, as their files are written (REPORTING.md's list).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "dingtalk-daily.toml",
        include_str!("../profiles/dingtalk-daily.toml"),
    ),
    (
        "form-checkin.toml",
        include_str!("../profiles/form-checkin.toml"),
    ),
    (
        "xueji-roster.toml",
        include_str!("../profiles/xueji-roster.toml"),
    ),
    (
        "class-morning-check.toml",
        include_str!("../profiles/class-morning-check.toml"),
    ),
    (
        "sick-absence-register.toml",
        include_str!("../profiles/sick-absence-register.toml"),
    ),
    (
        "leave-approvals.toml",
        include_str!("../profiles/leave-approvals.toml"),
    ),
    (
        "read-status.toml",
        include_str!("../profiles/read-status.toml"),
    ),
    (
        "school-daily-figures.toml",
        include_str!("../profiles/school-daily-figures.toml"),
    ),
    (
        "edfi-attendance-events.toml",
        include_str!("../profiles/edfi-attendance-events.toml"),
    ),
    (
        "edfi-school-associations.toml",
        include_str!("../profiles/edfi-school-associations.toml"),
    ),
    (
        "oneroster-orgs.toml",
        include_str!("../profiles/oneroster-orgs.toml"),
    ),
    (
        "oneroster-roster.toml",
        include_str!("../profiles/oneroster-roster.toml"),
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

    fn parse(s: &str) -> Result<Shape, String> {
        match s {
            "rows" => Ok(Shape::Rows),
            "exceptions" => Ok(Shape::Exceptions),
            "class_report" => Ok(Shape::ClassReport),
            other => Err(format!(
                "shape '{other}' is not one of rows, exceptions, class_report"
            )),
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

/// A profile file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    title: String,
    #[serde(default)]
    title_en: Option<String>,
    #[serde(default)]
    about: Option<String>,
    dataset: String,
    #[serde(default)]
    shape: Option<String>,
    #[serde(default)]
    detect: Vec<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    national_ids: Vec<String>,
    #[serde(default)]
    local_ids: Vec<String>,
    #[serde(default)]
    personal: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    skip_rows: Vec<String>,
    #[serde(default)]
    only: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    skip_when: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    date_column: OneOrMany,
    #[serde(default)]
    date_forms: Vec<String>,
    #[serde(default)]
    epoch_ms: Vec<String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, MeaningFile>>,
    #[serde(default)]
    flags: BTreeMap<String, BTreeMap<String, String>>,
}

/// A header, or several (the first a file has counts).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(h) => vec![h],
            OneOrMany::Many(hs) => hs,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MeaningFile {
    Word(String),
    ByReason(ByReasonFile),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ByReasonFile {
    reason: String,
    otherwise: String,
    /// Word → reason words, tried in the file's order.
    #[serde(default)]
    when: toml::Table,
}

/// Row filters with their headers and values folded for matching.
fn folded_filters(list: BTreeMap<String, Vec<String>>) -> Vec<(String, Vec<String>)> {
    list.into_iter()
        .map(|(h, vs)| (fold(&h), vs.iter().map(|v| fold(v)).collect()))
        .collect()
}

/// Where a profile's rows are stored: the dataset's table, or its shape's.
fn stored_for(d: &'static Dataset, shape: Shape) -> Result<&'static Dataset, String> {
    match shape {
        Shape::Rows => Ok(d),
        Shape::Exceptions if std::ptr::eq(d, &ATTENDANCE) => Ok(&ATTENDANCE_EXCEPTIONS),
        Shape::Exceptions => Err(format!(
            "shape 'exceptions' is a shape of attendance, not of {}",
            d.name
        )),
        Shape::ClassReport
            if [&ATTENDANCE, &HEALTH_REPORT, &CLASS_REPORT]
                .iter()
                .any(|x| std::ptr::eq(d, *x)) =>
        {
            Ok(&CLASS_REPORT)
        }
        Shape::ClassReport => Err(format!(
            "shape 'class_report' is a shape of attendance and health_report, not of {}",
            d.name
        )),
    }
}

/// What a value written in a profile means for a column, in the contract's words: the
/// canonical word of a vocabulary, a number, a date, yes/no, or empty. `Err` names what the
/// column accepts.
pub fn checked_value(c: &Column, v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    match c.kind {
        Kind::Enum(vocab) => vocab.resolve(v).map(String::from).ok_or_else(|| {
            format!(
                "'{v}' is not a known {} (expected one of: {})",
                vocab.name,
                vocab.canonical().collect::<Vec<_>>().join(", ")
            )
        }),
        Kind::EnumList(vocab) => {
            let mut out = Vec::new();
            for w in v.split(LIST_SEPARATORS).map(str::trim) {
                if w.is_empty() || NO_SYMPTOM.iter().any(|n| n.eq_ignore_ascii_case(w)) {
                    continue;
                }
                out.push(vocab.resolve(w).ok_or_else(|| {
                    format!(
                        "'{w}' is not a known {} (expected one of: {})",
                        vocab.name,
                        vocab.canonical().collect::<Vec<_>>().join(", ")
                    )
                })?);
            }
            Ok(if out.is_empty() {
                "none".into()
            } else {
                out.join(",")
            })
        }
        Kind::Bool => values::parse_bool(v).map(|b| b.to_string()),
        Kind::Int => values::parse_int(v).map(|i| i.to_string()),
        Kind::Float => values::parse_float(v).map(|f| f.to_string()),
        Kind::Grade => values::parse_grade(v).map(|g| g.to_string()),
        Kind::Date | Kind::BirthYear => values::parse_date(v, false).map(|d| d.to_string()),
        Kind::Timestamp => values::parse_date(v, false)
            .map(|d| d.to_string())
            .or_else(|_| Ok(v.to_string())),
        Kind::Str => Ok(v.to_string()),
    }
}

impl Profile {
    /// Reads and checks a profile file. `Err` is a sentence naming what is wrong.
    pub fn parse(text: &str, origin: Origin) -> Result<Profile, String> {
        let mut f: ProfileFile =
            toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        let name = f.name.trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "name '{name}': a profile's name is letters, digits, '-' and '_'"
            ));
        }
        let dataset = edulake_schemas::by_name(&f.dataset).ok_or_else(|| {
            format!(
                "dataset '{}' is not one of {}",
                f.dataset,
                edulake_schemas::names().join(", ")
            )
        })?;
        let shape = Shape::parse(f.shape.as_deref().unwrap_or("rows"))?;
        let stored = stored_for(dataset, shape)?;
        let column = |name: &str, key: &str| -> Result<&'static Column, String> {
            stored
                .columns
                .iter()
                .find(|c| c.name == name && c.rule != Rule::MoreLocalIds)
                .ok_or_else(|| {
                    format!(
                        "{key}: '{name}' is not a column of {} (its columns: {})",
                        stored.name,
                        stored
                            .columns
                            .iter()
                            .filter(|c| c.rule != Rule::MoreLocalIds)
                            .map(|c| c.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        };
        let mut headers = HashMap::new();
        for (header, target) in &f.columns {
            let c = column(target, &format!("columns.\"{header}\""))?;
            headers.insert(fold(header), c.name);
        }
        // National ids name the person (the recipient of a receipt); local ids are unique
        // only within a school.
        let national = stored
            .columns
            .iter()
            .find(|c| c.rule == Rule::Pseudonymised)
            .map(|c| c.name);
        let local = stored
            .columns
            .iter()
            .find(|c| c.rule == Rule::LocalId)
            .map(|c| c.name);
        for (list, target, key) in [
            (&f.national_ids, national, "national_ids"),
            (&f.local_ids, local, "local_ids"),
        ] {
            if list.is_empty() {
                continue;
            }
            let target =
                target.ok_or_else(|| format!("{key}: {} names no person by an id", stored.name))?;
            for h in list {
                headers.insert(fold(h), target);
            }
        }
        let mut defaults = HashMap::new();
        for (name, v) in &f.defaults {
            let key = format!("defaults.{name}");
            let c = column(name, &key)?;
            if c.is_pseudonymised()
                || c.name == "school_code"
                || matches!(c.kind, Kind::Date | Kind::Timestamp | Kind::BirthYear)
            {
                return Err(format!(
                    "{key}: a default cannot stand for a person, a school or a date"
                ));
            }
            defaults.insert(
                c.name,
                checked_value(c, v).map_err(|e| format!("{key}: {e}"))?,
            );
        }
        let mut value_maps = HashMap::new();
        for (name, map) in &f.values {
            let c = column(name, &format!("values.{name}"))?;
            let mut vm = ValueMap::default();
            for (word, meaning) in map {
                let key = format!("values.{name}.\"{word}\"");
                let check = |v: &str| checked_value(c, v).map_err(|e| format!("{key}: {e}"));
                let m = match meaning {
                    MeaningFile::Word(w) => Meaning::Word(check(w)?),
                    MeaningFile::ByReason(r) => Meaning::ByReason {
                        reason: r.reason.clone(),
                        when: r
                            .when
                            .iter()
                            .map(|(w, words)| {
                                let words: Vec<String> = words
                                    .as_array()
                                    .map(|a| {
                                        a.iter()
                                            .filter_map(|x| x.as_str())
                                            .map(|x| x.trim().to_lowercase())
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                if words.is_empty() || words.iter().any(String::is_empty) {
                                    return Err(format!(
                                        "{key}: when.{w} is a list of the words a reason says"
                                    ));
                                }
                                Ok((check(w)?, words))
                            })
                            .collect::<Result<_, String>>()?,
                        otherwise: check(&r.otherwise)?,
                    },
                };
                match word.strip_suffix('*') {
                    Some(prefix) if !prefix.is_empty() => vm.prefixes.push((fold(prefix), m)),
                    _ => {
                        vm.exact.insert(fold(word), m);
                    }
                }
            }
            value_maps.insert(c.name, vm);
        }
        let mut flags = None;
        for (name, entries) in &f.flags {
            let c = column(name, &format!("flags.{name}"))?;
            let Kind::EnumList(vocab) = c.kind else {
                return Err(format!(
                    "flags.{name}: only a list column (symptoms) is built from yes/no columns"
                ));
            };
            if flags.is_some() {
                return Err("flags: one list column per profile".into());
            }
            let mut list = Vec::new();
            for (header, word) in entries {
                let word = vocab.resolve(word).ok_or_else(|| {
                    format!(
                        "flags.{name}.\"{header}\": '{word}' is not a known {} (expected one of: {})",
                        vocab.name,
                        vocab.canonical().collect::<Vec<_>>().join(", ")
                    )
                })?;
                let (header, value) = match header.split_once('=') {
                    Some((h, v)) => (h, Some(fold(v))),
                    None => (header.as_str(), None),
                };
                list.push(Flag {
                    header: fold(header),
                    value,
                    word: word.to_string(),
                });
            }
            flags = Some((c.name, list));
        }
        for form in &f.date_forms {
            // A form that formats a known moment and reads it back is a form chrono knows.
            let moment = chrono::NaiveDate::from_ymd_opt(2026, 11, 16)
                .and_then(|d| d.and_hms_opt(7, 32, 10))
                .expect("a valid moment");
            let mut written = String::new();
            use std::fmt::Write;
            if write!(written, "{}", moment.format(form)).is_err()
                || (chrono::NaiveDateTime::parse_from_str(&written, form).is_err()
                    && chrono::NaiveDate::parse_from_str(&written, form).is_err())
            {
                return Err(format!(
                    "date_forms: '{form}' is not a date form (chrono's, e.g. %Y%m%d or %d/%m/%Y)"
                ));
            }
        }
        if f.skip_rows.iter().any(|w| w.trim().is_empty()) {
            return Err("skip_rows: an empty word would skip every row".into());
        }
        for (key, list) in [("only", &f.only), ("skip_when", &f.skip_when)] {
            if let Some((h, _)) = list.iter().find(|(_, vs)| vs.is_empty()) {
                return Err(format!("{key}.\"{h}\": name at least one value"));
            }
        }
        let date_column = std::mem::take(&mut f.date_column).into_vec();
        if let Some(h) = date_column.first() {
            if stored.column("date").is_none() {
                return Err(format!("date_column: {} has no date column", stored.name));
            }
            if f.columns.values().any(|c| c == "date") {
                return Err(format!(
                    "date_column \"{h}\" and a header mapped to date in [columns]: keep one"
                ));
            }
        }
        if let Some(list) = f.flags.keys().find(|k| f.columns.values().any(|c| c == *k)) {
            return Err(format!(
                "flags.{list} and a header mapped to {list} in [columns]: keep one"
            ));
        }
        if f.detect.is_empty() {
            return Err("detect: name the headers that select this profile (at least one)".into());
        }
        Ok(Profile {
            title_en: f.title_en.unwrap_or_else(|| f.title.clone()),
            title: f.title,
            about: f.about.unwrap_or_default(),
            name,
            dataset,
            shape,
            stored,
            origin,
            detect: f.detect,
            headers,
            ignore: f.ignore.iter().map(|h| fold(h)).collect(),
            personal: f.personal.iter().map(|h| fold(h)).collect(),
            skip_rows: f.skip_rows,
            only: folded_filters(f.only),
            skip_when: folded_filters(f.skip_when),
            date_column,
            date_forms: f.date_forms,
            epoch_ms: f.epoch_ms.iter().map(|h| fold(h)).collect(),
            defaults,
            values: value_maps,
            flags,
        })
    }

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

    /// Where it came from, for people.
    pub fn origin_text(&self) -> String {
        match &self.origin {
            Origin::BuiltIn => "built in".into(),
            Origin::File(p) => p.display().to_string(),
        }
    }
}

/// The profile chosen for a file, and why.
#[derive(Debug, Clone)]
pub struct Choice {
    pub profile: Arc<Profile>,
    /// `its headers 考勤组, 上班1打卡结果 (row 3)`, or `--profile`.
    pub why: String,
}

/// Every profile: the built-in ones, then the bureau's (a bureau's profile of the same name
/// replaces the built-in one).
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    list: Vec<Arc<Profile>>,
    /// Profile files that could not be used, each with why.
    pub problems: Vec<String>,
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
                Err(e) => out.problems.push(format!("built-in profile {file}: {e}")),
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
                .map_err(|e| format!("cannot read it: {e}"))
                .and_then(|text| Profile::parse(&text, Origin::File(path.clone())));
            match parsed {
                Ok(p) => {
                    out.list.retain(|q| q.name != p.name);
                    out.list.push(Arc::new(p));
                }
                Err(e) => out
                    .problems
                    .push(format!("profile {}: {e}", path.display())),
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
    ) -> Result<Option<Choice>, String> {
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
                    why: format!("its headers {} (row {line})", p.detect.join(", ")),
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

    #[test]
    fn a_value_the_contract_does_not_know_rejects_the_profile() {
        let text =
            "name = \"x\"\ntitle = \"X\"\ndataset = \"attendance\"\ndetect = [\"打卡结果\"]\n\
                    [columns]\n\"打卡结果\" = \"status\"\n\
                    [values.status]\n\"请假\" = \"vacation\"\n";
        let e = Profile::parse(text, Origin::BuiltIn).unwrap_err();
        assert!(
            e.contains("values.status.\"请假\": 'vacation' is not a known attendance_status"),
            "{e}"
        );
        assert!(e.contains("present, late"), "{e}");
        let e = Profile::parse(
            &text.replace("\"status\"\n[values", "\"mood\"\n[values"),
            Origin::BuiltIn,
        )
        .unwrap_err();
        assert!(e.contains("'mood' is not a column of attendance"), "{e}");
        let e = Profile::parse(&format!("colour = \"red\"\n{text}"), Origin::BuiltIn).unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
        let e = Profile::parse(
            &text
                .replace("attendance", "health_report")
                .replace("\"status\"", "\"temperature\"")
                .replace("[values.status]\n\"请假\" = \"vacation\"\n", ""),
            Origin::BuiltIn,
        )
        .map(|p| p.name)
        .unwrap();
        assert_eq!(e, "x");
    }

    #[test]
    fn values_match_words_descriptors_and_prefixes() {
        let text = "name = \"x\"\ntitle = \"X\"\ndataset = \"attendance\"\ndetect = [\"a\"]\n\
                    [values.status]\n\"正常\" = \"present\"\n\"迟到*\" = \"late\"\n\
                    \"Tardy\" = \"late\"\n";
        let p = Profile::parse(text, Origin::BuiltIn).unwrap();
        let m = p.values_for("status").unwrap();
        let word = |c: &str| match m.meaning(c) {
            Some(Meaning::Word(w)) => Some(w.clone()),
            _ => None,
        };
        assert_eq!(word(" 正常 ").as_deref(), Some("present"));
        assert_eq!(word("迟到12分钟").as_deref(), Some("late"));
        assert_eq!(
            word("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy").as_deref(),
            Some("late")
        );
        assert_eq!(word("缺卡"), None);
    }
}
