//! The SQL an indicator runs as: the `periods` relation of a range at a grain, the helpers'
//! CTEs around an indicator's own SQL, the rows a mart keeps, and the export at a level,
//! grain and range with the small-cell rule for anyone but the bureau.

use chrono::{Datelike, Duration, NaiveDate};

use super::helpers::helpers;
use super::{sql_str, Aggregate, Grain, Helpers, Indicator, Request, Role, SMALL};
use crate::error::{Result, TransformError};

pub(crate) fn sql_date(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

/// The most periods one request may ask for (27 years of days).
pub const MAX_PERIODS: usize = 10_000;

/// The `periods` relation as SQL: the days of the range an indicator can have rows on, each
/// with its period. Those are the days with data (`data_days`, sorted: events, roster
/// snapshots, notices) and the last day of each period within the range (the roster in force
/// then is what `enrolled` counts), plus, at day grain, every day of the range. So its size
/// grows with the data and the periods asked for, never with the span of the dates alone, and
/// a request for more than [`MAX_PERIODS`] periods is refused.
pub fn periods_sql(
    grain: Grain,
    from: NaiveDate,
    to: NaiveDate,
    data_days: &[NaiveDate],
) -> Result<String> {
    let periods = period_count(grain, from, to);
    if periods > MAX_PERIODS as i64 {
        return Err(TransformError::TooBig(format!(
            "{from} to {to} at {} grain is {periods} periods; at most {MAX_PERIODS}: narrow the \
             range or choose a coarser grain",
            grain.name()
        )));
    }
    let mut days: Vec<NaiveDate> = Vec::new();
    let mut day = from;
    while day <= to {
        let (_, end) = grain.period(day, from, to);
        let last = end.min(to);
        days.push(last);
        day = last + Duration::days(1);
    }
    if grain == Grain::Day {
        days.clear();
        days.extend(
            std::iter::successors(Some(from), |d| Some(*d + Duration::days(1)))
                .take_while(|d| *d <= to),
        );
    }
    let start = data_days.partition_point(|d| *d < from);
    let end = data_days.partition_point(|d| *d <= to);
    days.extend_from_slice(&data_days[start..end]);
    days.sort_unstable();
    days.dedup();
    Ok(periods_rows(days.into_iter().map(|day| {
        let (s, e) = grain.period(day, from, to);
        (day, s, e)
    })))
}

/// How many periods of a grain a range holds (0 for an empty range).
fn period_count(grain: Grain, from: NaiveDate, to: NaiveDate) -> i64 {
    if from > to {
        return 0;
    }
    match grain {
        Grain::Day => (to - from).num_days() + 1,
        Grain::Week => {
            (grain.period(to, from, to).0 - grain.period(from, from, to).0).num_days() / 7 + 1
        }
        Grain::Month => {
            (to.year() as i64 - from.year() as i64) * 12 + to.month() as i64 - from.month() as i64
                + 1
        }
        Grain::Total => 1,
    }
}

/// The `periods` relation of single days (the day grain of a mart).
pub fn day_periods_sql(days: &[NaiveDate]) -> String {
    periods_rows(days.iter().map(|d| (*d, *d, *d)))
}

fn periods_rows(days: impl Iterator<Item = (NaiveDate, NaiveDate, NaiveDate)>) -> String {
    let rows: Vec<String> = days
        .map(|(d, s, e)| format!("({}, {}, {})", sql_date(d), sql_date(s), sql_date(e)))
        .collect();
    if rows.is_empty() {
        return "SELECT CAST(NULL AS DATE) AS day, CAST(NULL AS DATE) AS period_start, CAST(NULL AS DATE) AS period_end WHERE false".into();
    }
    format!(
        "SELECT day, period_start, period_end FROM (VALUES {}) AS v(day, period_start, period_end)",
        rows.join(", ")
    )
}

/// The common CTEs every indicator may read, then the body under `body_name`.
pub fn with_helpers(periods: &str, body_name: &str, body: &str, h: Helpers) -> String {
    let mut out = format!("WITH periods AS ({periods}),\n");
    for (name, sql) in helpers(h) {
        out.push_str(&format!("{name} AS ({}),\n", strip_comments(&sql)));
    }
    out.push_str(&format!("{body_name} AS ({})\n", strip_comments(body)));
    out
}

/// An indicator's rows at day grain over these days: what its mart holds, with the day in
/// `date` in place of the period.
pub fn mart_sql(ind: &Indicator, days: &[NaiveDate], h: Helpers) -> String {
    format!(
        "{}SELECT * EXCLUDE (period_start, period_end), period_start AS date FROM fact",
        with_helpers(&day_periods_sql(days), "fact", ind.sql, h)
    )
}

/// The words of a SQL text outside its comments (to find the tables it reads).
pub fn sql_words(sql: &str) -> impl Iterator<Item = String> {
    let text = strip_comments(sql);
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>()
        .into_iter()
}

pub(crate) fn strip_comments(sql: &str) -> String {
    sql.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Err` unless the indicator offers what was asked (a level, a grain), naming what it offers.
fn offered<T: Copy + PartialEq>(
    indicator: &str,
    what: &str,
    asked: T,
    offers: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<()> {
    if offers.contains(&asked) {
        return Ok(());
    }
    Err(TransformError::BadQuery(format!(
        "{indicator} has no {} {what}; its {what}s are: {}",
        name(asked),
        offers
            .iter()
            .map(|x| name(*x))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The SQL of an export (INDICATORS.md "Exports"): key columns, extra columns, period,
/// numerator, denominator, value, suppressed; sorted by keys then period.
///
/// With `mart`, the name of the indicator's fresh mart, the day rows are read from it instead
/// of being computed from the current views: the same rows, ahead of time.
pub fn export_sql(
    ind: &Indicator,
    req: &Request,
    (from, to): (NaiveDate, NaiveDate),
    data_days: &[NaiveDate],
    mart: Option<&str>,
    h: Helpers,
) -> Result<String> {
    offered(ind.name, "level", req.level, &ind.levels, |l| l.name())?;
    offered(ind.name, "grain", req.grain, &ind.grains, |g| g.name())?;
    let by_cols: Vec<&str> = match req.by.as_deref() {
        None => Vec::new(),
        Some(b) if ind.by.iter().any(|x| x == b) => match b {
            "notice" => vec!["notice_id", "title"],
            other => vec![other],
        },
        Some(b) => {
            return Err(TransformError::BadQuery(format!(
                "{} cannot be split by {b}{}",
                ind.name,
                if ind.by.is_empty() {
                    String::new()
                } else {
                    format!("; it can be split by: {}", ind.by.join(", "))
                }
            )))
        }
    };
    let fact = match mart {
        Some(table) => format!(
            "SELECT m.*, periods.period_start, periods.period_end FROM {table} m \
             JOIN periods ON m.date = periods.day WHERE m.date BETWEEN {} AND {}",
            sql_date(from),
            sql_date(to)
        ),
        None => ind.sql.to_string(),
    };
    let key_expr = |k: &str| match k {
        "district" | "school_name" => format!("s.{k}"),
        other => format!("f.{other}"),
    };
    let mut group: Vec<String> = req.level.keys().iter().map(|k| key_expr(k)).collect();
    group.extend(ind.columns.iter().map(|c| format!("f.{c}")));
    group.extend(by_cols.iter().map(|c| format!("f.{c}")));
    let mut select: Vec<String> = req
        .level
        .keys()
        .iter()
        .map(|k| format!("{} AS {k}", key_expr(k)))
        .collect();
    select.extend(
        ind.columns
            .iter()
            .chain(
                by_cols
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .map(|c| format!("f.{c} AS {c}")),
    );
    select.push("f.period_start AS period_start".into());
    select.push("f.period_end AS period_end".into());
    let (num, den, value) = match ind.aggregate {
        Aggregate::Sum if ind.is_count() => (
            "CAST(NULL AS BIGINT)".to_string(),
            "CAST(NULL AS BIGINT)".to_string(),
            "CAST(sum(f.numerator) AS BIGINT)".to_string(),
        ),
        Aggregate::Sum => (
            "CAST(sum(f.numerator) AS BIGINT)".to_string(),
            "CAST(sum(f.denominator) AS BIGINT)".to_string(),
            "CASE WHEN sum(f.denominator) > 0 THEN CAST(sum(f.numerator) AS DOUBLE) / CAST(sum(f.denominator) AS DOUBLE) END".to_string(),
        ),
        Aggregate::Distinct => (
            "CAST(NULL AS BIGINT)".to_string(),
            "CAST(NULL AS BIGINT)".to_string(),
            "CAST(count(DISTINCT f.unit) AS BIGINT)".to_string(),
        ),
        Aggregate::Median => (
            "CAST(NULL AS BIGINT)".to_string(),
            "CAST(NULL AS BIGINT)".to_string(),
            "median(f.value)".to_string(),
        ),
        Aggregate::Each => (
            "CAST(NULL AS BIGINT)".to_string(),
            "CAST(NULL AS BIGINT)".to_string(),
            "max(f.value)".to_string(),
        ),
    };
    let mut filters = vec!["true".to_string()];
    if let Some(code) = &req.school {
        filters.push(format!("f.school_code = {}", sql_str(code)));
    }
    if let Some(d) = &req.district {
        filters.push(format!("s.district = {}", sql_str(d)));
    }
    let mut group_all = group.clone();
    group_all.push("f.period_start".into());
    group_all.push("f.period_end".into());
    let aggregated = format!(
        "SELECT {select}, {num} AS numerator, {den} AS denominator, {value} AS value\n\
         FROM fact f LEFT JOIN schools s ON s.school_code = f.school_code\n\
         WHERE {filters}\nGROUP BY {group}",
        select = select.join(", "),
        filters = filters.join(" AND "),
        group = group_all.join(", "),
    );
    // The small-cell rule, for everyone but the bureau.
    let (lo, hi) = SMALL;
    let small = if ind.has_fraction() {
        format!("a.denominator BETWEEN {lo} AND {hi}")
    } else if ind.is_count() || ind.aggregate == Aggregate::Distinct {
        format!("a.value BETWEEN {lo} AND {hi}")
    } else {
        "false".to_string()
    };
    let suppress = match req.role {
        Role::Bureau => "false".to_string(),
        Role::Restricted => format!("coalesce({small}, false)"),
    };
    let mut out_cols: Vec<String> = req.level.keys().iter().map(|k| format!("a.{k}")).collect();
    out_cols.extend(ind.columns.iter().map(|c| format!("a.{c}")));
    out_cols.extend(by_cols.iter().map(|c| format!("a.{c}")));
    let order: Vec<String> = out_cols
        .iter()
        .cloned()
        .chain(["a.period_start".to_string()])
        .collect();
    out_cols.extend([
        "a.period_start".to_string(),
        "a.period_end".to_string(),
        format!("CASE WHEN {suppress} THEN NULL ELSE a.numerator END AS numerator"),
        format!("CASE WHEN {suppress} THEN NULL ELSE a.denominator END AS denominator"),
        format!("CASE WHEN {suppress} THEN NULL ELSE a.value END AS value"),
        format!("{suppress} AS suppressed"),
    ]);
    Ok(format!(
        "{with}, aggregated AS ({aggregated})\nSELECT {cols} FROM aggregated a ORDER BY {order}",
        with = with_helpers(
            &periods_sql(req.grain, from, to, data_days)?,
            "fact",
            &fact,
            h
        )
        .trim_end(),
        cols = out_cols.join(", "),
        order = order.join(", "),
    ))
}
