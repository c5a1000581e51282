//! What only a school page has: enrolment by grade and gender, pupil-teacher ratio,
//! chronic absence, the classes that have not reported (催报), symptom cases and the read rate
//! of each notice.

use edulake_transform::indicators::{Grain, Level, Request};
use edulake_transform::QueryLayer;

use super::charts::Unit;
use chrono::NaiveDate;

use super::html::{self, enc, esc, link, section, table, tile};
use super::i18n::t;
use super::pages::{download_href, export, internal, Ask, Rows, Scope, ScopeExt};
use super::{AppError, View};

/// What only a school page has: enrolment, pupil-teacher ratio, chronic absence, notices.
pub(super) async fn school_sections(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
) -> Result<String, AppError> {
    let lang = view.lang;
    let range = (view.from, view.to);
    let mut out = String::new();
    let total = |indicator| {
        export(
            layer,
            view,
            scope,
            Ask {
                indicator,
                level: Level::School,
                grain: Grain::Total,
                range,
                by: None,
            },
        )
    };
    // The school's totals split by one column (enrolment by grade and gender, read rate by
    // notice).
    let split = |indicator: &'static str, by: &'static str| async move {
        let mut req = Request::new(indicator);
        req.level = Level::School;
        req.grain = Grain::Total;
        req.from = Some(view.from);
        req.to = Some(view.to);
        req.by = Some(by.into());
        if let Ok(ind) = edulake_transform::indicators::by_name(indicator) {
            req.filters = view.filters.for_request(ind, Some(by)).0;
        }
        view.who.asks(&mut req);
        scope.apply(&mut req);
        let (schema, batches) = layer.export(&req).await.map_err(internal(lang))?;
        Ok::<_, AppError>(Rows::from(&schema, &batches))
    };
    // Side by side: chronic absence reads a month of per-student rows, the rest are small.
    let (ptr, chronic, missing, symptoms, by_grade, by_gender, by_notice) = tokio::try_join!(
        total("pupil_teacher_ratio"),
        total("chronic_absence_rate"),
        classes_missing(layer, view, scope),
        symptom_cases(layer, view, scope),
        split("enrolled", "grade"),
        split("enrolled", "gender"),
        split("notice_read_rate", "notice"),
    )?;
    out.push_str("<div class=\"tiles\">");
    out.push_str(&tile(
        &t(lang, "pupil_teacher_ratio"),
        &(0..ptr.len())
            .find_map(|r| ptr.num(r, "value"))
            .map(|v| format!("{v:.1}"))
            .unwrap_or_else(|| "—".into()),
        None,
        &format!("{}", view.to),
    ));
    out.push_str(&tile(
        &t(lang, "chronic_absence"),
        &(0..chronic.len())
            .find_map(|r| chronic.num(r, "value"))
            .map(|v| Unit::Rate.show(v))
            .unwrap_or_else(|| "—".into()),
        None,
        &format!("{} – {}", view.from, view.to),
    ));
    out.push_str("</div><div class=\"grid2\">");
    out.push_str(&missing);
    out.push_str(&symptoms);
    out.push_str("</div><div class=\"grid2\">");
    for (by, key, rows) in [
        ("grade", "enrolment_grade", by_grade),
        ("gender", "enrolment_gender", by_gender),
    ] {
        let label = |v: String| match super::i18n::lookup(lang, &format!("gender_{v}")) {
            Some(word) if by == "gender" => word,
            _ => v,
        };
        let body_rows: Vec<Vec<String>> = (0..rows.len())
            .map(|r| vec![esc(&label(rows.text(r, by))), count_cell(&rows, r)])
            .collect();
        let content = if body_rows.is_empty() {
            html::empty(lang, "no_data")
        } else {
            table(&[t(lang, by), t(lang, "count")], &body_rows)
        };
        let href = format!(
            "{}&by={by}",
            download_href(view, scope, "enrolled", Level::School, Grain::Total, range)
        );
        out.push_str(&section(lang, &t(lang, key), &content, Some(&href)));
    }
    out.push_str("</div>");
    let rows = by_notice;
    let body_rows: Vec<Vec<String>> = (0..rows.len())
        .map(|r| {
            vec![
                esc(&rows.text(r, "title")),
                esc(&rows
                    .num(r, "value")
                    .map(|v| Unit::Rate.show(v))
                    .unwrap_or_else(|| "—".into())),
                esc(&rows.text(r, "numerator")),
                esc(&rows.text(r, "denominator")),
            ]
        })
        .collect();
    let content = if body_rows.is_empty() {
        html::empty(lang, "no_data")
    } else {
        table(
            &[
                t(lang, "notice"),
                t(lang, "read_rate"),
                t(lang, "numerator"),
                t(lang, "denominator"),
            ],
            &body_rows,
        )
    };
    let href = format!(
        "{}&by=notice",
        download_href(
            view,
            scope,
            "notice_read_rate",
            Level::School,
            Grain::Total,
            range
        )
    );
    out.push_str(&section(
        lang,
        &t(lang, "notice_reads"),
        &content,
        Some(&href),
    ));
    Ok(out)
}

/// The classes of the school's roster that sent no attendance in any shape on the range's last
/// day (class_reporting_rate 0 of 1 at class level): whom to remind.
async fn classes_missing(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
) -> Result<String, AppError> {
    let lang = view.lang;
    let day = view.to;
    let rows = class_reporting_on(layer, view, scope, day).await?;
    let missing: Vec<Vec<String>> = (0..rows.len())
        .filter(|r| rows.num(*r, "numerator") == Some(0.0))
        .map(|r| vec![esc(&rows.text(r, "class_code"))])
        .collect();
    let content = if rows.len() == 0 {
        html::empty(lang, "no_data")
    } else if missing.is_empty() {
        html::empty(lang, "classes_missing_none")
    } else {
        table(&[t(lang, "class")], &missing)
    };
    Ok(classes_missing_section(view, scope, day, &content))
}

/// The section of the classes not reported on a day, with the download of every class's
/// reporting that day.
pub(super) fn classes_missing_section(
    view: &View,
    scope: &Scope,
    day: chrono::NaiveDate,
    content: &str,
) -> String {
    let href = download_href(
        view,
        scope,
        "class_reporting_rate",
        Level::Class,
        Grain::Day,
        (day, day),
    );
    section(
        view.lang,
        &format!("{} ({day})", t(view.lang, "classes_missing")),
        content,
        Some(&href),
    )
}

/// Whether each class of a scope's rosters reported attendance in any shape on a day
/// (class_reporting_rate at class level: 1 of 1 or 0 of 1).
pub(super) async fn class_reporting_on(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    day: chrono::NaiveDate,
) -> Result<Rows, AppError> {
    export(
        layer,
        view,
        scope,
        Ask {
            indicator: "class_reporting_rate",
            level: Level::Class,
            grain: Grain::Day,
            range: (day, day),
            by: None,
        },
    )
    .await
}

/// Symptom cases in the range by symptom, from check-ins and class reports alike.
/// A count as a table cell: "—" where it is empty (hidden by the small-cell rule).
fn count_cell(rows: &Rows, r: usize) -> String {
    match rows.text(r, "value") {
        v if v.is_empty() => "—".into(),
        v => esc(&v),
    }
}

async fn symptom_cases(layer: &QueryLayer, view: &View, scope: &Scope) -> Result<String, AppError> {
    let lang = view.lang;
    let range = (view.from, view.to);
    let rows = export(
        layer,
        view,
        scope,
        Ask {
            indicator: "symptom_cases",
            level: Level::School,
            grain: Grain::Total,
            range,
            by: Some("symptom"),
        },
    )
    .await?;
    let body: Vec<Vec<String>> = (0..rows.len())
        .map(|r| {
            let symptom = rows.text(r, "symptom");
            vec![
                esc(&super::i18n::lookup(lang, &format!("symptom_{symptom}")).unwrap_or(symptom)),
                count_cell(&rows, r),
            ]
        })
        .collect();
    let content = if body.is_empty() {
        html::empty(lang, "no_data")
    } else {
        table(&[t(lang, "symptom"), t(lang, "count")], &body)
    };
    let href = format!(
        "{}&by=symptom",
        download_href(
            view,
            scope,
            "symptom_cases",
            Level::School,
            Grain::Total,
            range
        )
    );
    Ok(section(
        lang,
        &t(lang, "symptom_cases"),
        &content,
        Some(&href),
    ))
}

/// The schools of a scope with classes that sent no attendance in any shape on `day`
/// (class_reporting_rate 0 of 1 at class level), most such classes first; the download lists
/// every class.
pub(super) async fn classes_missing_by_school(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    day: NaiveDate,
) -> Result<String, AppError> {
    let lang = view.lang;
    let rows = class_reporting_on(layer, view, scope, day).await?;
    // (district, school name, code) → (classes not reported, classes)
    let mut by_school: std::collections::BTreeMap<(String, String, String), (u32, u32)> =
        Default::default();
    for r in 0..rows.len() {
        let key = (
            rows.text(r, "district"),
            rows.text(r, "school_name"),
            rows.text(r, "school_code"),
        );
        let e = by_school.entry(key).or_default();
        e.1 += 1;
        if rows.num(r, "numerator") == Some(0.0) {
            e.0 += 1;
        }
    }
    let mut missing: Vec<_> = by_school.into_iter().filter(|(_, (m, _))| *m > 0).collect();
    missing.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    const SHOWN: usize = 20;
    let content = if rows.len() == 0 {
        html::empty(lang, "no_data")
    } else if missing.is_empty() {
        html::empty(lang, "classes_missing_none")
    } else {
        let body: Vec<Vec<String>> = missing
            .iter()
            .take(SHOWN)
            .map(|((district, name, code), (m, n))| {
                vec![
                    esc(district),
                    link(&view.link(&format!("/school/{}", enc(code))), name),
                    format!("{m} / {n}"),
                ]
            })
            .collect();
        table(
            &[
                t(lang, "district"),
                t(lang, "school"),
                t(lang, "classes_missing"),
            ],
            &body,
        )
    };
    Ok(classes_missing_section(view, scope, day, &content))
}
