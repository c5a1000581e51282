//! 上报情况 (`/reporting`): how completely the reader's scope reports over the page's range
//! (classes reporting attendance, students in the reports, health check-ins, day by day), each
//! district or school of it compared, and whom to remind (催报) on the range's last day.
//! A bureau reader may narrow it with `?district=` or `?school=`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;

use edulake_transform::access::Principal;
use edulake_transform::indicators::{Grain, Level};

use super::auth::{check_scope, Visitor};
use super::cache::cached_page;
use super::charts::{self, Bar, Unit};
use super::html::{self, enc, esc, link, section, table};
use super::i18n::{t, Lang};
use super::pages::{download_href, export, read_rows, view_of, Ask, Params, Scope, ScopeExt};
use super::{AppError, AppState, View};
use chrono::NaiveDate;
use edulake_transform::QueryLayer;

/// The reporting page.
pub async fn reporting(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let who = visitor.require(lang)?;
    // A narrower scope than the reader's own, if asked for (the cache keys its page by it).
    let scope = match (&params.school, &params.district) {
        (Some(s), _) if !s.is_empty() => Scope::School(s.clone()),
        (_, Some(d)) if !d.is_empty() => Scope::District(d.clone()),
        _ => who.scope.clone(),
    };
    check_scope(&state, &who, &scope, lang).await?;
    let path = match scope.query() {
        q if q.is_empty() => "/reporting".to_string(),
        q => format!("/reporting?{}", q.trim_start_matches('&')),
    };
    cached_page(&state, &who, &uri, &params, &headers, || {
        reporting_page(&state, &who, &params, &path, scope.clone())
    })
    .await
}

async fn reporting_page(
    state: &AppState,
    who: &Principal,
    params: &Params,
    path: &str,
    scope: Scope,
) -> Result<String, AppError> {
    let layer = state.layer().await;
    let (view, latest) = view_of(&layer, who, params, path).await?;
    let lang = view.lang;
    let title = match &scope {
        Scope::Bureau => t(lang, "page_reporting"),
        Scope::District(d) => format!("{} · {d}", t(lang, "page_reporting")),
        Scope::School(code) => format!("{} · {code}", t(lang, "page_reporting")),
    };
    if latest.is_none() {
        return Ok(html::page(&view, &title, &html::empty(lang, "empty_lake")));
    }
    let range = (view.from, view.to);
    let ask = |indicator, level, grain| {
        export(
            &layer,
            &view,
            &scope,
            Ask {
                indicator,
                level,
                grain,
                range,
                by: None,
            },
        )
    };
    let level = scope.level();
    let (down, label_col) = match &scope {
        Scope::Bureau => (Level::District, "district"),
        Scope::District(_) => (Level::School, "school_name"),
        Scope::School(_) => (Level::Class, "class_code"),
    };
    let (classes, students, health, compared) = tokio::try_join!(
        ask("class_reporting_rate", level, Grain::Day),
        ask("attendance_reporting_rate", level, Grain::Day),
        ask("health_report_rate", level, Grain::Day),
        ask("class_reporting_rate", down, Grain::Total),
    )?;
    let schools = read_rows(
        lang,
        layer.schools_reporting_by_day(
            &scope,
            view.filters.school_type.as_deref(),
            view.from,
            view.to,
        ),
    )
    .await?;
    let mut body = format!(
        "<p class=\"hint\">{}</p><div class=\"grid2\">",
        t(lang, "reporting_hint")
    );
    // Schools that sent anything, day by day (a school's own page needs no count of one).
    if !matches!(scope, Scope::School(_)) {
        let points: Vec<(NaiveDate, f64)> = (0..schools.len())
            .filter_map(|r| Some((schools.date(r, "date")?, schools.num(r, "schools")?)))
            .collect();
        let key = "trend_schools_reporting";
        let chart = if points.is_empty() {
            html::empty(lang, "no_data")
        } else {
            charts::line(&points, range, Unit::Schools, &t(lang, key), lang)
        };
        body.push_str(&section(lang, &t(lang, key), &chart, None));
    }
    for (key, indicator, rows) in [
        ("trend_class_reporting", "class_reporting_rate", &classes),
        (
            "trend_student_reporting",
            "attendance_reporting_rate",
            &students,
        ),
        ("trend_health", "health_report_rate", &health),
    ] {
        let points: Vec<(chrono::NaiveDate, f64)> = (0..rows.len())
            .filter_map(|r| Some((rows.date(r, "period_start")?, rows.num(r, "value")?)))
            .collect();
        let chart = if points.is_empty() {
            html::empty(lang, "no_data")
        } else {
            charts::line(&points, range, Unit::Rate, &t(lang, key), lang)
        };
        let href = download_href(&view, &scope, indicator, level, Grain::Day, range);
        body.push_str(&section(lang, &t(lang, key), &chart, Some(&href)));
    }
    body.push_str("</div>");

    // Each district, school or class of the scope, the least complete first.
    let mut order: Vec<usize> = (0..compared.len())
        .filter(|r| compared.num(*r, "value").is_some())
        .collect();
    order.sort_by(|a, b| {
        let v = |r: &usize| compared.num(*r, "value").unwrap_or(0.0);
        v(a).total_cmp(&v(b))
    });
    let bars: Vec<Bar> = order
        .iter()
        .filter_map(|r| {
            let name = compared.text(*r, label_col);
            let href = match down {
                Level::District => view.link(&format!("/reporting?district={}", enc(&name))),
                Level::School => view.link(&format!(
                    "/reporting?school={}",
                    enc(&compared.text(*r, "school_code"))
                )),
                _ => match &scope {
                    Scope::School(code) => {
                        view.link(&format!("/school/{}/class/{}", enc(code), enc(&name)))
                    }
                    _ => return None,
                },
            };
            Some(Bar {
                value: compared.num(*r, "value")?,
                name,
                href: Some(href),
            })
        })
        .collect();
    let key = "reporting_compared";
    let chart = if bars.is_empty() {
        html::empty(lang, "no_data")
    } else {
        charts::bars(&bars, Unit::Rate, &t(lang, key), lang)
    };
    let href = download_href(
        &view,
        &scope,
        "class_reporting_rate",
        down,
        Grain::Total,
        range,
    );
    body.push_str(&section(lang, &t(lang, key), &chart, Some(&href)));

    // Whom to remind on the range's last day: schools with nothing, then classes.
    let day = view.to;
    body.push_str(&missing_schools_section(&layer, &view, &scope, day).await?);
    body.push_str(&super::school::classes_missing_by_school(&layer, &view, &scope, day).await?);
    Ok(html::page(&view, &title, &body))
}

/// The schools of a scope that sent no attendance in any shape on `day` (催报), with the
/// download of the list.
pub(super) async fn missing_schools_section(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    day: NaiveDate,
) -> Result<String, AppError> {
    let lang = view.lang;
    let missing = read_rows(
        lang,
        layer.schools_not_reporting(scope, view.filters.school_type.as_deref(), day),
    )
    .await?;
    let content = if missing.len() == 0 {
        html::empty(lang, "missing_none")
    } else {
        let rows: Vec<Vec<String>> = (0..missing.len())
            .map(|r| {
                let code = missing.text(r, "school_code");
                vec![
                    esc(&missing.text(r, "district")),
                    link(
                        &view.link(&format!("/school/{}", enc(&code))),
                        &missing.text(r, "school_name"),
                    ),
                    esc(&code),
                ]
            })
            .collect();
        table(
            &[
                t(lang, "district"),
                t(lang, "school"),
                t(lang, "school_code"),
            ],
            &rows,
        )
    };
    let href = format!(
        "/download?table=missing&day={day}{}{}&lang={}",
        scope.query(),
        view.filters_query(),
        lang.code()
    );
    Ok(section(
        lang,
        &format!("{} ({day})", t(lang, "missing")),
        &content,
        Some(&href),
    ))
}
