//! The alerts of INDICATORS.md: cluster alerts (聚集性预警, kept in the alerts mart at threshold
//! 1) and follow-up alerts (因病缺课追踪, computed when read: they look back past a build's days).

use chrono::{Duration, NaiveDate};

use super::{day_periods_sql, sql_date, strip_comments, with_helpers, Helpers};
use crate::error::Result;

const ALERTS: &str = include_str!("../../indicators/_alerts.sql");
const FOLLOW_UP: &str = include_str!("../../indicators/_follow_up.sql");

/// The cluster alerts' rows (threshold 1) over these days: what the alerts mart holds (the
/// follow-up alerts look back past a build's days, so they are computed when read).
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

/// How far before a range the follow-up alerts look for the start of a run of sick days.
const FOLLOW_UP_LOOKBACK_DAYS: i64 = 31;

/// The SQL of the alerts between two dates (CLI.md `alerts`: kind, district, school_code,
/// school_name, class_code, date, count): the cluster alerts from the alerts mart when it is
/// fresh (`mart`), else computed from the current views; the follow-up alerts computed. Not
/// sorted: [`crate::QueryLayer::alerts`] sorts the few rows (DataFusion 55 refuses a plan
/// sorting a union by a column that is a different constant in each branch).
pub fn alerts_sql(
    (from, to): (NaiveDate, NaiveDate),
    data_days: &[NaiveDate],
    threshold: u32,
    kind: AlertKind,
    mart: Option<&str>,
    h: Helpers,
) -> Result<String> {
    // Alerts are on days with data only: a day without data has none.
    let start = data_days.partition_point(|d| *d < from);
    let end = data_days.partition_point(|d| *d <= to);
    let periods = day_periods_sql(&data_days[start..end]);
    let back = data_days.partition_point(|d| *d < from - Duration::days(FOLLOW_UP_LOOKBACK_DAYS));
    let lookback = day_periods_sql(&data_days[back..end]);
    let cluster = match mart {
        Some(table) => format!(
            "SELECT school_code, class_code, date, count FROM {table} \
             WHERE date BETWEEN {} AND {} AND count >= {threshold}",
            sql_date(from),
            sql_date(to)
        ),
        None => strip_comments(&ALERTS.replace("{threshold}", &threshold.to_string())),
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
        "{}, cluster AS ({cluster}),\nlookback AS ({lookback}),\nfollow_up AS ({})\n\
         SELECT a.kind, s.district, a.school_code, s.school_name, a.class_code, a.date, \
         CAST(a.count AS BIGINT) AS count \
         FROM ({}) a LEFT JOIN schools s ON s.school_code = a.school_code",
        with_helpers(&periods, "unused", "SELECT 1", h).trim_end(),
        strip_comments(FOLLOW_UP)
            .replace(
                "{lookback_from}",
                &sql_date(from - Duration::days(FOLLOW_UP_LOOKBACK_DAYS))
            )
            .replace("{to}", &sql_date(to)),
        parts.join(" UNION ALL "),
    ))
}
