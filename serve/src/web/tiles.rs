//! The top of the overview, district and school pages: tiles for the latest school day
//! against the same day a week before, and the 30-day trends.

use chrono::{Duration, NaiveDate};

use edulake_transform::indicators::Grain;
use edulake_transform::QueryLayer;

use super::charts::{self, Unit};
use super::html::{self, section, tile};
use super::i18n::{t, Lang};
use super::pages::{download_href, export, internal, Ask, NoticeLevel, Rows, Scope, ScopeExt};
use super::{AppError, View};

/// The cluster alerts (threshold 3) around the range, and which of them are in the scope.
pub(super) struct ScopeAlerts {
    pub all: Rows,
    pub rows: Vec<usize>,
}

/// The tiles of `day`, the latest school day; and the alerts read for them.
pub(super) async fn tiles(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    day: NaiveDate,
) -> Result<(String, ScopeAlerts), AppError> {
    let lang = view.lang;
    let week_before = day - Duration::days(7);
    let mut body = String::new();

    // Tiles: their queries run together; each daily one covers the week before to the day.
    let daily = |indicator| {
        export(
            layer,
            view,
            scope,
            Ask {
                indicator,
                level: scope.level(),
                grain: Grain::Day,
                range: (week_before, day),
                by: None,
            },
        )
    };
    let att = daily("attendance_rate");
    let health = daily("health_report_rate");
    let fever = daily("fever_rate");
    let class_reporting = daily("class_reporting_rate");
    // A school reported when it sent attendance in any shape: rows, a register, a report.
    let read_scope = scope.clone();
    let reporting = async {
        layer
            .schools_reporting(
                &read_scope,
                view.filters.school_type.as_deref(),
                &[day, week_before],
            )
            .await
            .map_err(internal(lang))
    };
    let notices_now = export(
        layer,
        view,
        scope,
        Ask {
            indicator: "notice_read_rate",
            level: scope.level().max_notice(),
            grain: Grain::Total,
            range: (day - Duration::days(6), day),
            by: None,
        },
    );
    let notices_before = export(
        layer,
        view,
        scope,
        Ask {
            indicator: "notice_read_rate",
            level: scope.level().max_notice(),
            grain: Grain::Total,
            range: (day - Duration::days(13), week_before),
            by: None,
        },
    );
    let alerts = async {
        layer
            .alerts_as(
                &view.who,
                Some(view.from.min(week_before)),
                Some(view.to.max(day)),
                3,
                edulake_transform::indicators::AlertKind::All,
            )
            .await
            .map_err(internal(lang))
    };
    let in_scope = async { layer.schools_in(&read_scope).await.map_err(internal(lang)) };
    let (
        att,
        health,
        fever,
        reporting,
        class_reporting,
        notices_now,
        notices_before,
        (alert_schema, alert_batches),
        in_scope,
    ) = tokio::try_join!(
        att,
        health,
        fever,
        reporting,
        class_reporting,
        notices_now,
        notices_before,
        alerts,
        in_scope
    )?;
    let alerts_all = Rows::from(&alert_schema, &alert_batches);
    let alert_rows: Vec<usize> = (0..alerts_all.len())
        .filter(|r| in_scope.contains(&alerts_all.text(*r, "school_code")))
        .collect();
    let alerts_on = |d: NaiveDate| {
        alert_rows
            .iter()
            .filter(|r| alerts_all.date(**r, "date") == Some(d))
            .count() as f64
    };
    let total_rate = |rows: &Rows| -> Option<f64> {
        let (n, d) = (0..rows.len()).fold((0.0, 0.0), |(n, d), r| {
            (
                n + rows.num(r, "numerator").unwrap_or(0.0),
                d + rows.num(r, "denominator").unwrap_or(0.0),
            )
        });
        (d > 0.0).then(|| n / d)
    };
    let note = format!("{} {day}", t(lang, "latest_day"));
    let show = |v: Option<f64>, unit: Unit| v.map(|v| unit.show(v)).unwrap_or_else(|| "—".into());
    let (rep_today, rep_before, schools) = (
        reporting.0.first().map(|n| *n as f64),
        reporting.0.get(1).map(|n| *n as f64),
        reporting.1 as f64,
    );
    body.push_str("<div class=\"tiles\">");
    body.push_str(&tile(
        &t(lang, "kpi_reporting"),
        &format!("{} / {schools:.0}", show(rep_today, Unit::Number)),
        change(rep_today, rep_before, Unit::Number, true, lang),
        &note,
    ));
    for (key, rows, field, unit, good) in [
        ("kpi_attendance", &att, "value", Unit::Rate, true),
        (
            "kpi_class_reporting",
            &class_reporting,
            "value",
            Unit::Rate,
            true,
        ),
        ("kpi_health", &health, "value", Unit::Rate, true),
        ("kpi_fever", &fever, "numerator", Unit::Number, false),
    ] {
        let (now, before) = (on_day(rows, day, field), on_day(rows, week_before, field));
        body.push_str(&tile(
            &t(lang, key),
            &show(now, unit),
            change(now, before, unit, good, lang),
            &note,
        ));
    }
    body.push_str(&tile(
        &t(lang, "kpi_alerts"),
        &show(Some(alerts_on(day)), Unit::Number),
        change(
            Some(alerts_on(day)),
            Some(alerts_on(week_before)),
            Unit::Number,
            false,
            lang,
        ),
        &note,
    ));
    let (nr_now, nr_before) = (total_rate(&notices_now), total_rate(&notices_before));
    body.push_str(&tile(
        &t(lang, "kpi_notices"),
        &show(nr_now, Unit::Rate),
        change(nr_now, nr_before, Unit::Rate, true, lang),
        &format!("{} – {day}", day - Duration::days(6)),
    ));
    body.push_str("</div>");
    Ok((
        body,
        ScopeAlerts {
            all: alerts_all,
            rows: alert_rows,
        },
    ))
}

/// The trends of attendance, check-ins and fever over the page's range, up to `day` (its
/// latest day with data).
pub(super) async fn trends(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    day: NaiveDate,
) -> Result<String, AppError> {
    let lang = view.lang;
    let mut body = String::new();
    // The page's range, up to its latest day with data.
    let trend_range = (view.from.min(day), day);
    body.push_str("<div class=\"grid2\">");
    let trend = |indicator| {
        export(
            layer,
            view,
            scope,
            Ask {
                indicator,
                level: scope.level(),
                grain: Grain::Day,
                range: trend_range,
                by: None,
            },
        )
    };
    let (att_trend, health_trend, fever_trend) = tokio::try_join!(
        trend("attendance_rate"),
        trend("health_report_rate"),
        trend("fever_rate")
    )?;
    for (key, indicator, field, unit, rows) in [
        (
            "trend_attendance",
            "attendance_rate",
            "value",
            Unit::Rate,
            att_trend,
        ),
        (
            "trend_health",
            "health_report_rate",
            "value",
            Unit::Rate,
            health_trend,
        ),
        (
            "trend_fever",
            "fever_rate",
            "numerator",
            Unit::Number,
            fever_trend,
        ),
    ] {
        let points = series(&rows, field);
        let chart = if points.is_empty() {
            html::empty(lang, "no_data")
        } else {
            charts::line(&points, trend_range, unit, &t(lang, key), lang)
        };
        let href = download_href(
            view,
            scope,
            indicator,
            scope.level(),
            Grain::Day,
            trend_range,
        );
        body.push_str(&section(lang, &t(lang, key), &chart, Some(&href)));
    }
    body.push_str("</div>");
    Ok(body)
}

fn change(
    now: Option<f64>,
    before: Option<f64>,
    unit: Unit,
    higher_is_good: bool,
    lang: Lang,
) -> Option<(String, Option<bool>)> {
    let (now, before) = (now?, before?);
    let delta = now - before;
    let (text, same) = match unit {
        Unit::Rate => (
            format!("{:+.1} pt", delta * 100.0),
            (delta * 100.0).abs() < 0.05,
        ),
        Unit::Number | Unit::Schools => (format!("{delta:+.0}"), delta.abs() < 0.5),
    };
    // No change as shown is neither good nor bad.
    let good = (!same).then_some((delta > 0.0) == higher_is_good);
    Some((format!("{text} {}", t(lang, "vs_week_before")), good))
}

/// The value of an export's row for a day.
fn on_day(rows: &Rows, day: NaiveDate, field: &str) -> Option<f64> {
    (0..rows.len())
        .find(|r| rows.date(*r, "period_start") == Some(day))
        .and_then(|r| rows.num(r, field))
}

fn series(rows: &Rows, field: &str) -> Vec<(NaiveDate, f64)> {
    (0..rows.len())
        .filter_map(|r| Some((rows.date(r, "period_start")?, rows.num(r, field)?)))
        .collect()
}
