//! The indicators of INDICATORS.md: one SQL file each under `transform/indicators/`, with its
//! definition in the header comment, and the one wrapper that turns any of them into the
//! export shape at a level, grain and date range.
//!
//! An indicator's SQL reads the current views and `periods(day, period_start, period_end)`
//! (every day of the range, mapped to its calendar period), and the helpers `roster_day` and
//! `roster` (the roster in force on each day). It returns rows at its finest grain (class or
//! school × period, or one row per unit) that the wrapper aggregates:
//! - `sum`: Σ numerators / Σ denominators (never an average of rates);
//! - `distinct`: a count of distinct `unit` values;
//! - `median`: the median of `value`.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate};

use crate::error::{Result, TransformError};

mod alerts;
mod filters;
mod helpers;
mod sql;
pub(crate) mod suppress;
pub use alerts::{
    alerts_mart_sql, alerts_source, alerts_sql, follow_up_definition, follow_up_mart_sql,
    follow_up_source, follow_up_window, AlertKind, AlertMarts, FOLLOW_UP_RUN_DAYS,
};
pub use filters::{Filters, FILTERS};
use helpers::helpers;
pub use helpers::{helper_definition, kept_sql, Helpers, Kept, LocalIds, KEPT};
pub use sql::{
    day_periods_sql, export_sql, mart_sql, periods_sql, sql_words, with_helpers, MAX_PERIODS,
};
pub(crate) use sql::{sql_date, strip_comments};

/// The SQL files, embedded so the binary carries them.
static FILES: &[(&str, &str)] = &[
    (
        "attendance_rate",
        include_str!("../../indicators/attendance_rate.sql"),
    ),
    (
        "absence_rate",
        include_str!("../../indicators/absence_rate.sql"),
    ),
    ("late_rate", include_str!("../../indicators/late_rate.sql")),
    (
        "sick_leave_rate",
        include_str!("../../indicators/sick_leave_rate.sql"),
    ),
    (
        "attendance_reporting_rate",
        include_str!("../../indicators/attendance_reporting_rate.sql"),
    ),
    (
        "chronic_absence_rate",
        include_str!("../../indicators/chronic_absence_rate.sql"),
    ),
    (
        "health_report_rate",
        include_str!("../../indicators/health_report_rate.sql"),
    ),
    (
        "fever_rate",
        include_str!("../../indicators/fever_rate.sql"),
    ),
    (
        "symptom_rate",
        include_str!("../../indicators/symptom_rate.sql"),
    ),
    (
        "risk_contact_count",
        include_str!("../../indicators/risk_contact_count.sql"),
    ),
    ("enrolled", include_str!("../../indicators/enrolled.sql")),
    (
        "female_share",
        include_str!("../../indicators/female_share.sql"),
    ),
    (
        "pupil_teacher_ratio",
        include_str!("../../indicators/pupil_teacher_ratio.sql"),
    ),
    (
        "transfers_out",
        include_str!("../../indicators/transfers_out.sql"),
    ),
    (
        "notice_read_rate",
        include_str!("../../indicators/notice_read_rate.sql"),
    ),
    (
        "notice_read_24h_rate",
        include_str!("../../indicators/notice_read_24h_rate.sql"),
    ),
    (
        "notice_median_hours",
        include_str!("../../indicators/notice_median_hours.sql"),
    ),
    (
        "school_count",
        include_str!("../../indicators/school_count.sql"),
    ),
    (
        "data_freshness",
        include_str!("../../indicators/data_freshness.sql"),
    ),
    (
        "class_reporting_rate",
        include_str!("../../indicators/class_reporting_rate.sql"),
    ),
    (
        "symptom_cases",
        include_str!("../../indicators/symptom_cases.sql"),
    ),
];

/// The helpers that read no `periods` (nor the roster by day): `attendance_rows`,
/// `class_report_days` and `class_days`, which `edulake sql` also offers as views.
pub fn helpers_without_periods(h: Helpers) -> impl Iterator<Item = (&'static str, String)> {
    helpers(h).filter_map(|(name, sql)| {
        let words: std::collections::HashSet<String> = sql_words(&sql).collect();
        (!["periods", "roster", "roster_day"]
            .iter()
            .any(|w| words.contains(*w)))
        .then(|| (name, strip_comments(&sql)))
    })
}

/// The lake tables (datasets, and other shapes' tables) a SQL text reads, through the helpers
/// it names.
pub fn tables_read(sql: &str) -> Vec<&'static str> {
    let mut words: std::collections::HashSet<String> = sql_words(sql).collect();
    // Helpers read helpers defined before them: expanding from the last covers every chain.
    let all: Vec<(&str, String)> = helpers(LocalIds::ALL.into()).collect();
    for (name, helper) in all.iter().rev() {
        if words.contains(*name) {
            words.extend(sql_words(helper));
        }
    }
    edulake_schemas::stored()
        .iter()
        .map(|d| d.name)
        .filter(|n| words.contains(*n))
        .collect()
}

/// A level of the drill-down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Class,
    School,
    District,
    Bureau,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "class" => Level::Class,
            "school" => Level::School,
            "district" => Level::District,
            "bureau" => Level::Bureau,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Class => "class",
            Level::School => "school",
            Level::District => "district",
            Level::Bureau => "bureau",
        }
    }

    /// The key columns of an export at this level, in order.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Level::Class => &["district", "school_code", "school_name", "class_code"],
            Level::School => &["district", "school_code", "school_name"],
            Level::District => &["district"],
            Level::Bureau => &[],
        }
    }
}

/// The period rows are grouped into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grain {
    Day,
    Week,
    Month,
    Total,
}

impl Grain {
    pub fn parse(s: &str) -> Option<Grain> {
        Some(match s {
            "day" => Grain::Day,
            "week" => Grain::Week,
            "month" => Grain::Month,
            "total" => Grain::Total,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Total => "total",
        }
    }

    /// The calendar period of a day (for `Total`, the range asked for).
    pub fn period(self, day: NaiveDate, from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Grain::Day => (day, day),
            Grain::Week => {
                let start = day - Duration::days(day.weekday().num_days_from_monday() as i64);
                (start, start + Duration::days(6))
            }
            Grain::Month => {
                let start = day.with_day(1).expect("day 1 exists");
                let next = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
                }
                .expect("valid month");
                (start, next - Duration::days(1))
            }
            Grain::Total => (from, to),
        }
    }
}

/// How the rows of an indicator's SQL combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Distinct,
    Median,
    /// Already one row per key: taken as it is (data freshness).
    Each,
}

/// One indicator, read from its SQL file's header.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub name: &'static str,
    pub name_zh: String,
    /// `rate`, `ratio`, `count`, `hours` or `days`.
    pub unit: String,
    pub aggregate: Aggregate,
    pub levels: Vec<Level>,
    pub grains: Vec<Grain>,
    /// Optional splits (`--by`): `grade`, `gender`, `notice`.
    pub by: Vec<String>,
    /// Extra key columns every row carries (`school_type`, `dataset`).
    pub columns: Vec<String>,
    pub definition: String,
    /// Whether its rows at day grain add up to every coarser grain, so they are kept in the
    /// lake as a mart (header `mart: day`).
    pub mart: bool,
    /// Other indicators whose cells show the same counts as its own (header
    /// `suppressed_with`): wherever theirs are hidden, its are (see [`suppress`]).
    pub suppressed_with: Vec<Link>,
    pub sql: &'static str,
}

/// A header's `suppressed_with` entry: `enrolled` (the cell of the same level, keys, split
/// and period), `enrolled/gender` (its cells split by gender, for an unsplit cell) or
/// `symptom_cases/symptom=fever` (one value of that split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub indicator: String,
    pub split: Option<String>,
    pub value: Option<String>,
}

impl Link {
    fn parse(word: &str) -> Link {
        let (indicator, split) = match word.split_once('/') {
            Some((i, s)) => (i, Some(s)),
            None => (word, None),
        };
        let (split, value) = match split.map(|s| s.split_once('=')) {
            Some(Some((s, v))) => (Some(s.to_string()), Some(v.to_string())),
            Some(None) => (split.map(String::from), None),
            None => (None, None),
        };
        Link {
            indicator: indicator.to_string(),
            split,
            value,
        }
    }
}

impl Indicator {
    /// Whether the value is a count (numerator and denominator stay empty).
    pub fn is_count(&self) -> bool {
        self.unit == "count"
    }

    /// Whether the value is a ratio of the numerator and denominator shown beside it.
    pub fn has_fraction(&self) -> bool {
        self.aggregate == Aggregate::Sum && !self.is_count()
    }
}

/// The `-- key: value` fields of a SQL file's header comment (a line without a key goes on
/// the field before it).
pub(crate) fn header_fields(sql: &str) -> HashMap<&str, String> {
    let mut fields: HashMap<&str, String> = HashMap::new();
    let mut last: Option<&str> = None;
    for line in sql.lines() {
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        match comment.split_once(':') {
            Some((k, v)) if !k.contains(' ') && !k.is_empty() => {
                fields.insert(k, v.trim().to_string());
                last = Some(k);
            }
            _ => {
                if let Some(k) = last {
                    let entry = fields.entry(k).or_default();
                    entry.push(' ');
                    entry.push_str(comment);
                }
            }
        }
    }
    fields
}

fn parse_header(name: &'static str, sql: &'static str) -> Indicator {
    let fields = header_fields(sql);
    let words = |k: &str| -> Vec<String> {
        fields
            .get(k)
            .map(|v| v.split_whitespace().map(String::from).collect())
            .unwrap_or_default()
    };
    let levels = words("levels")
        .iter()
        .filter_map(|l| Level::parse(l))
        .collect();
    let mut grains: Vec<Grain> = words("grains")
        .iter()
        .filter_map(|g| Grain::parse(g))
        .collect();
    if grains.is_empty() {
        grains = vec![Grain::Day, Grain::Week, Grain::Month, Grain::Total];
    }
    let aggregate = match fields.get("aggregate").map(String::as_str) {
        Some("distinct") => Aggregate::Distinct,
        Some("median") => Aggregate::Median,
        Some("each") => Aggregate::Each,
        _ => Aggregate::Sum,
    };
    Indicator {
        name,
        name_zh: fields.get("name_zh").cloned().unwrap_or_default(),
        unit: fields.get("unit").cloned().unwrap_or_else(|| "rate".into()),
        aggregate,
        levels,
        grains,
        by: words("by"),
        columns: words("columns"),
        definition: fields.get("definition").cloned().unwrap_or_default(),
        mart: words("mart").first().map(String::as_str) == Some("day"),
        suppressed_with: words("suppressed_with")
            .iter()
            .map(|w| Link::parse(w))
            .collect(),
        sql,
    }
}

/// Every indicator, in the order of INDICATORS.md.
pub fn all() -> &'static [Indicator] {
    static ALL: OnceLock<Vec<Indicator>> = OnceLock::new();
    ALL.get_or_init(|| FILES.iter().map(|(n, s)| parse_header(n, s)).collect())
}

/// The indicator of that name, or an error listing the valid ones.
pub fn by_name(name: &str) -> Result<&'static Indicator> {
    all().iter().find(|i| i.name == name).ok_or_else(|| {
        let guess = edulake_schemas::text::nearest(name, all().iter().map(|i| i.name))
            .map(|g| format!("did you mean '{g}'? "))
            .unwrap_or_default();
        TransformError::BadQuery(format!(
            "no indicator '{name}'; {guess}the indicators are: {}",
            all().iter().map(|i| i.name).collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The small-cell rule (INDICATORS.md): a denominator, or a count, in this range is hidden
/// from everyone but the bureau.
pub const SMALL: (i64, i64) = (1, 9);

/// Who is asking: the small-cell rule hides counts of 1–9 from everyone but the bureau.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Bureau,
    /// Anyone else (a school clerk, a researcher): small cells are suppressed.
    Restricted,
}

/// An export asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub indicator: String,
    pub level: Level,
    pub grain: Grain,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub school: Option<String>,
    pub district: Option<String>,
    pub by: Option<String>,
    /// Only the rows of a school type, grade or gender ([`Filters`]).
    pub filters: Filters,
    pub role: Role,
    /// For a restricted role, the scope of the one asking (not only of this request): cells
    /// are hidden once for all of that scope, so two requests within it hide alike.
    pub within: Within,
}

/// The schools a restricted reader may see: all (both empty), a district's or one school's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Within {
    pub district: Option<String>,
    pub school: Option<String>,
}

impl Request {
    pub fn new(indicator: &str) -> Request {
        Request {
            indicator: indicator.to_string(),
            level: Level::School,
            grain: Grain::Total,
            from: None,
            to: None,
            school: None,
            district: None,
            by: None,
            filters: Filters::default(),
            role: Role::Bureau,
            within: Within::default(),
        }
    }
}

/// A SQL string literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indicator_file_declares_itself() {
        assert_eq!(all().len(), FILES.len());
        for i in all() {
            assert!(!i.name_zh.is_empty(), "{}", i.name);
            assert!(!i.levels.is_empty(), "{}", i.name);
            assert!(i.definition.len() > 20, "{}", i.name);
            assert!(
                i.sql.contains(&format!("-- indicator: {}", i.name)),
                "{}",
                i.name
            );
        }
        assert!(by_name("nope")
            .unwrap_err()
            .to_string()
            .contains("attendance_rate"));
    }

    #[test]
    fn calendar_periods() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (f, t) = (d("2026-08-20"), d("2026-10-10"));
        assert_eq!(
            Grain::Week.period(d("2026-09-03"), f, t),
            (d("2026-08-31"), d("2026-09-06"))
        );
        assert_eq!(
            Grain::Week.period(d("2026-09-06"), f, t),
            (d("2026-08-31"), d("2026-09-06"))
        );
        assert_eq!(
            Grain::Month.period(d("2026-12-15"), f, t),
            (d("2026-12-01"), d("2026-12-31"))
        );
        assert_eq!(
            Grain::Month.period(d("2026-02-03"), f, t),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(Grain::Total.period(d("2026-09-03"), f, t), (f, t));
    }
}
