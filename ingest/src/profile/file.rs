//! A profile file as written (TOML) and the checks it passes to become a [`Profile`]: every
//! column it names is its dataset's, every value it maps is a word of the contract.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use edulake_schemas::dataset::{Column, Dataset, Kind, Rule};
use edulake_schemas::datasets::{ATTENDANCE, ATTENDANCE_EXCEPTIONS, CLASS_REPORT, HEALTH_REPORT};
use edulake_schemas::fold;
use edulake_schemas::msg;
use edulake_schemas::vocab::{LIST_SEPARATORS, NO_SYMPTOM};
use edulake_schemas::words::{Arg, Msg};

use super::{Flag, Meaning, Origin, Profile, Shape, ValueMap};
use crate::values;

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
fn stored_for(d: &'static Dataset, shape: Shape) -> Result<&'static Dataset, Msg> {
    match shape {
        Shape::Rows => Ok(d),
        Shape::Exceptions if std::ptr::eq(d, &ATTENDANCE) => Ok(&ATTENDANCE_EXCEPTIONS),
        Shape::Exceptions => Err(msg!("prof_shape_exceptions", dataset = d.name)),
        Shape::ClassReport
            if [&ATTENDANCE, &HEALTH_REPORT, &CLASS_REPORT]
                .iter()
                .any(|x| std::ptr::eq(d, *x)) =>
        {
            Ok(&CLASS_REPORT)
        }
        Shape::ClassReport => Err(msg!("prof_shape_class_report", dataset = d.name)),
    }
}

/// What a value written in a profile means for a column, in the contract's words: the
/// canonical word of a vocabulary, a number, a date, yes/no, or empty. `Err` names what the
/// column accepts.
pub fn checked_value(c: &Column, v: &str) -> Result<String, Msg> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    match c.kind {
        Kind::Enum(vocab) => vocab.resolve(v).map(String::from).ok_or_else(|| {
            msg!(
                "not_in_vocab",
                value = v,
                vocab = Arg::Vocab(vocab),
                expected = vocab
            )
        }),
        Kind::EnumList(vocab) => {
            let mut out = Vec::new();
            for w in v.split(LIST_SEPARATORS).map(str::trim) {
                if w.is_empty() || NO_SYMPTOM.iter().any(|n| n.eq_ignore_ascii_case(w)) {
                    continue;
                }
                out.push(vocab.resolve(w).ok_or_else(|| {
                    msg!(
                        "not_in_vocab",
                        value = w,
                        vocab = Arg::Vocab(vocab),
                        expected = vocab
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
    pub fn parse(text: &str, origin: Origin) -> Result<Profile, Msg> {
        let mut f: ProfileFile = toml::from_str(text)
            .map_err(|e| msg!("prof_toml", detail = e.to_string().trim().to_string()))?;
        let name = f.name.trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(msg!("prof_name", name = name));
        }
        let dataset = edulake_schemas::by_name(&f.dataset).ok_or_else(|| {
            msg!(
                "prof_dataset",
                dataset = &f.dataset,
                datasets = edulake_schemas::names().join(", ")
            )
        })?;
        let shape = Shape::parse(f.shape.as_deref().unwrap_or("rows"))?;
        let stored = stored_for(dataset, shape)?;
        let column = |name: &str, key: &str| -> Result<&'static Column, Msg> {
            stored
                .columns
                .iter()
                .find(|c| c.name == name && c.rule != Rule::MoreLocalIds)
                .ok_or_else(|| {
                    msg!(
                        "prof_not_column",
                        key = key,
                        name = name,
                        table = stored.name,
                        columns = stored
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
                target.ok_or_else(|| msg!("prof_no_id", key = key, table = stored.name))?;
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
                return Err(msg!("prof_default_kind", key = &key));
            }
            defaults.insert(
                c.name,
                checked_value(c, v).map_err(|e| msg!("prof_value", key = &key, problem = e))?,
            );
        }
        let mut value_maps = HashMap::new();
        for (name, map) in &f.values {
            let c = column(name, &format!("values.{name}"))?;
            let mut vm = ValueMap::default();
            for (word, meaning) in map {
                let key = format!("values.{name}.\"{word}\"");
                let check = |v: &str| {
                    checked_value(c, v).map_err(|e| msg!("prof_value", key = &key, problem = e))
                };
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
                                    return Err(msg!("prof_reason_words", key = &key, word = w));
                                }
                                Ok((check(w)?, words))
                            })
                            .collect::<Result<_, Msg>>()?,
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
                return Err(msg!("prof_flags_list", name = name));
            };
            if flags.is_some() {
                return Err(msg!("prof_flags_one"));
            }
            let mut list = Vec::new();
            for (header, word) in entries {
                let word = vocab.resolve(word).ok_or_else(|| {
                    msg!(
                        "prof_value",
                        key = format!("flags.{name}.\"{header}\""),
                        problem = msg!(
                            "not_in_vocab",
                            value = word,
                            vocab = Arg::Vocab(vocab),
                            expected = vocab
                        )
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
                return Err(msg!("prof_date_form", form = form));
            }
        }
        if f.skip_rows.iter().any(|w| w.trim().is_empty()) {
            return Err(msg!("prof_skip_empty"));
        }
        for (key, list) in [("only", &f.only), ("skip_when", &f.skip_when)] {
            if let Some((h, _)) = list.iter().find(|(_, vs)| vs.is_empty()) {
                return Err(msg!("prof_filter_empty", key = key, header = h));
            }
        }
        let date_column = std::mem::take(&mut f.date_column).into_vec();
        if let Some(h) = date_column.first() {
            if stored.column("date").is_none() {
                return Err(msg!("prof_no_date_column", table = stored.name));
            }
            if f.columns.values().any(|c| c == "date") {
                return Err(msg!("prof_date_twice", header = h));
            }
        }
        if let Some(list) = f.flags.keys().find(|k| f.columns.values().any(|c| c == *k)) {
            return Err(msg!("prof_flags_twice", list = list));
        }
        if f.detect.is_empty() {
            return Err(msg!("prof_detect"));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_the_contract_does_not_know_rejects_the_profile() {
        let text =
            "name = \"x\"\ntitle = \"X\"\ndataset = \"attendance\"\ndetect = [\"打卡结果\"]\n\
                    [columns]\n\"打卡结果\" = \"status\"\n\
                    [values.status]\n\"请假\" = \"vacation\"\n";
        let e = Profile::parse(text, Origin::BuiltIn)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("values.status.\"请假\": 'vacation' is not a known attendance status"),
            "{e}"
        );
        assert!(e.contains("present (出勤), late (迟到)"), "{e}");
        let e = Profile::parse(
            &text.replace("\"status\"\n[values", "\"mood\"\n[values"),
            Origin::BuiltIn,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("'mood' is not a column of attendance"), "{e}");
        let e = Profile::parse(&format!("colour = \"red\"\n{text}"), Origin::BuiltIn)
            .unwrap_err()
            .to_string();
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
