//! The alerts of INDICATORS.md: cluster alerts (聚集性预警, kept in the alerts mart at
//! threshold one) and follow-up alerts (因病缺课追踪, kept in the follow-up mart; a day's
//! alerts read the [`FOLLOW_UP_RUN_DAYS`] before it).

use chrono::{Duration, NaiveDate};

use super::{day_periods_sql, sql_date, strip_comments, with_helpers, Helpers};
use crate::error::Result;

const ALERTS: &str = include_str!("../../indicators/_alerts.sql");
const FOLLOW_UP: &str = include_str!("../../indicators/_follow_up.sql");

/// The cluster alerts' rows (threshold 1) over these days: what the alerts mart holds.
pub fn alerts_mart_sql(days: &[NaiveDate], h: Helpers) -> String {
    let body = ALERTS.replace("{threshold}", "1");
    format!(
        "{}SELECT school_code, class_code, date, count FROM alerts",
        with_helpers(&day_periods_sql(days), "alerts", &body, h)
    )
}

/// The alerts helper's SQL, to find the tables it reads.
pub fn alerts_source() -> &'static str {
    ALERTS
}

/// The follow-up alerts' SQL, to find the tables it reads.
pub fn follow_up_source() -> &'static str {
    FOLLOW_UP
}

/// The follow-up alerts' definition, for the data dictionary.
pub fn follow_up_definition() -> String {
    super::header_fields(FOLLOW_UP)
        .remove("definition")
        .unwrap_or_default()
        .replace("{run_days}", &FOLLOW_UP_RUN_DAYS.to_string())
}

/// How many days a run of three sick school days may span: a follow-up alert on a day reads
/// the days this far before it, and a day that changes changes the alerts this far after it.
pub const FOLLOW_UP_RUN_DAYS: i64 = 31;

/// The days the follow-up alerts of `from..=to` read.
pub fn follow_up_window(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let before = from.checked_sub_signed(Duration::days(FOLLOW_UP_RUN_DAYS));
    (before.unwrap_or(from), to)
}

/// The follow-up helper for the days of `periods` between `from` and `to`.
fn follow_up_body(from: NaiveDate, to: NaiveDate) -> String {
    let (window_from, to) = follow_up_window(from, to);
    strip_comments(FOLLOW_UP)
        .replace("{window_from}", &sql_date(window_from))
        .replace("{to}", &sql_date(to))
        .replace("{run_days}", &FOLLOW_UP_RUN_DAYS.to_string())
}

/// The follow-up alerts' rows over these days: what the follow-up mart holds.
pub fn follow_up_mart_sql(days: &[NaiveDate], h: Helpers) -> String {
    let (from, to) = match (days.first(), days.last()) {
        (Some(first), Some(last)) => (*first, *last),
        // No days: no rows, whatever it reads.
        _ => (NaiveDate::default(), NaiveDate::default()),
    };
    format!(
        "{}SELECT school_code, class_code, date, count FROM follow_up",
        with_helpers(
            &day_periods_sql(days),
            "follow_up",
            &follow_up_body(from, to),
            h
        )
    )
}

/// Which alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// 聚集性预警: ill students in one class on one day.
    Cluster,
    /// 因病缺课追踪: a student on sick leave three school days running.
    FollowUp,
    All,
}

impl AlertKind {
    pub fn parse(s: &str) -> Option<AlertKind> {
        match s {
            "cluster" => Some(AlertKind::Cluster),
            "follow_up" => Some(AlertKind::FollowUp),
            "all" => Some(AlertKind::All),
            _ => None,
        }
    }
}

/// The SQL of the alerts between two dates (CLI.md `alerts`: kind, district, school_code,
/// school_name, class_code, date, count): each kind from its mart when it is fresh
/// ([`AlertMarts`]), else computed from the current views and helpers. Not
/// sorted: [`crate::QueryLayer::alerts`] sorts the few rows (DataFusion 55 refuses a plan
/// sorting a union by a column that is a different constant in each branch).
pub fn alerts_sql(
    (from, to): (NaiveDate, NaiveDate),
    data_days: &[NaiveDate],
    threshold: u32,
    kind: AlertKind,
    marts: AlertMarts<'_>,
    h: Helpers,
) -> Result<String> {
    // Alerts are on days with data only: a day without data has none.
    let start = data_days.partition_point(|d| *d < from);
    let end = data_days.partition_point(|d| *d <= to);
    let periods = day_periods_sql(&data_days[start..end]);
    let cluster = match marts.cluster {
        Some(table) => format!(
            "SELECT school_code, class_code, date, count FROM {table} \
             WHERE date BETWEEN {} AND {} AND count >= {threshold}",
            sql_date(from),
            sql_date(to)
        ),
        None => strip_comments(&ALERTS.replace("{threshold}", &threshold.to_string())),
    };
    let follow_up = match marts.follow_up {
        Some(table) => format!(
            "SELECT school_code, class_code, date, count FROM {table} \
             WHERE date BETWEEN {} AND {}",
            sql_date(from),
            sql_date(to)
        ),
        None => follow_up_body(from, to),
    };
    let mut parts = Vec::new();
    if kind != AlertKind::FollowUp {
        parts.push("SELECT 'cluster' AS kind, school_code, class_code, date, count FROM cluster");
    }
    if kind != AlertKind::Cluster {
        parts.push(
            "SELECT 'follow_up' AS kind, school_code, class_code, date, count FROM follow_up",
        );
    }
    Ok(format!(
        "{}, cluster AS ({cluster}),\nfollow_up AS ({follow_up})\n\
         SELECT a.kind, s.district, a.school_code, s.school_name, a.class_code, a.date, \
         CAST(a.count AS BIGINT) AS count \
         FROM ({}) a LEFT JOIN schools s ON s.school_code = a.school_code",
        with_helpers(&periods, "unused", "SELECT 1", h).trim_end(),
        parts.join(" UNION ALL "),
    ))
}

/// The marts [`alerts_sql`] reads where they are fresh (their names in SQL), else `None` and
/// the alerts are computed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertMarts<'a> {
    pub cluster: Option<&'a str>,
    pub follow_up: Option<&'a str>,
}
