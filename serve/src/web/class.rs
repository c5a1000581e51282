//! A class's page (`/school/{code}/class/{class}`): its attendance, reporting, health
//! check-ins and fever reports day by day over the page's range, and its alerts. Who may see
//! the school may see its classes.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;

use edulake_transform::access::Principal;
use edulake_transform::indicators::{AlertKind, Grain, Level};
use edulake_transform::reads::Scope as ReadScope;

use super::auth::Visitor;
use super::cache::cached_page;
use super::charts::{self, Unit};
use super::html::{self, enc, esc, link, section, table};
use super::i18n::t;
use super::pages::{allowed, download_href, export, internal, view_of, Ask, Params, Rows, Scope};
use super::{AppError, AppState};

/// The class page.
pub async fn class(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Path((code, class)): Path<(String, String)>,
    Query(params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let who = allowed(&state, &visitor, &params, &ReadScope::School(code.clone())).await?;
    let path = format!("/school/{}/class/{}", enc(&code), enc(&class));
    cached_page(&state, &who, &uri, &params, &headers, || {
        class_page(&state, &who, &params, &path, &code, &class)
    })
    .await
}

/// The day-by-day values of one class in an export at class level.
fn of_class(rows: &Rows, class: &str, field: &str) -> Vec<(chrono::NaiveDate, f64)> {
    (0..rows.len())
        .filter(|r| rows.text(*r, "class_code") == class)
        .filter_map(|r| Some((rows.date(r, "period_start")?, rows.num(r, field)?)))
        .collect()
}

async fn class_page(
    state: &AppState,
    who: &Principal,
    params: &Params,
    path: &str,
    code: &str,
    class: &str,
) -> Result<String, AppError> {
    let layer = state.layer().await;
    let (view, latest) = view_of(&layer, who, params, path).await?;
    let lang = view.lang;
    let Some((name, district)) = layer.school(code).await.map_err(internal(lang))? else {
        return Err(AppError::NotFound(lang));
    };
    let title = format!("{district} · {name} · {class}");
    let crumbs = format!(
        "<p class=\"crumbs\">{} › {} › {}</p>",
        link(
            &view.link(&format!("/district/{}", enc(&district))),
            &district
        ),
        link(&view.link(&format!("/school/{}", enc(code))), &name),
        esc(class)
    );
    if latest.is_none() {
        return Ok(html::page(&view, &title, &html::empty(lang, "empty_lake")));
    }
    let scope = Scope::School(code.to_string());
    let range = (view.from, view.to);
    let daily = |indicator| {
        export(
            &layer,
            &view,
            &scope,
            Ask {
                indicator,
                level: Level::Class,
                grain: Grain::Day,
                range,
                by: None,
            },
        )
    };
    let (attendance, reporting, health, fever) = tokio::try_join!(
        daily("attendance_rate"),
        daily("class_reporting_rate"),
        daily("health_report_rate"),
        daily("fever_rate"),
    )?;
    let mut body = crumbs;
    body.push_str("<div class=\"grid2\">");
    for (key, indicator, rows, field, unit) in [
        (
            "trend_attendance",
            "attendance_rate",
            &attendance,
            "value",
            Unit::Rate,
        ),
        (
            "trend_class_reporting",
            "class_reporting_rate",
            &reporting,
            "value",
            Unit::Rate,
        ),
        (
            "trend_health",
            "health_report_rate",
            &health,
            "value",
            Unit::Rate,
        ),
        (
            "trend_fever",
            "fever_rate",
            &fever,
            "numerator",
            Unit::Number,
        ),
    ] {
        let points = of_class(rows, class, field);
        let chart = if points.is_empty() {
            html::empty(lang, "no_data")
        } else {
            charts::line(&points, range, unit, &t(lang, key), lang)
        };
        let href = download_href(&view, &scope, indicator, Level::Class, Grain::Day, range);
        body.push_str(&section(lang, &t(lang, key), &chart, Some(&href)));
    }
    body.push_str("</div>");

    // The class's alerts in the range.
    let (schema, batches) = layer
        .alerts_as(who, Some(view.from), Some(view.to), 3, AlertKind::All)
        .await
        .map_err(internal(lang))?;
    let alerts = Rows::from(&schema, &batches);
    let rows: Vec<Vec<String>> = (0..alerts.len())
        .filter(|r| {
            alerts.text(*r, "school_code") == code && alerts.text(*r, "class_code") == class
        })
        .map(|r| {
            vec![
                esc(&t(lang, &format!("alert_{}", alerts.text(r, "kind")))),
                esc(&alerts.text(r, "date")),
                esc(&alerts.text(r, "count")),
            ]
        })
        .collect();
    let content = if rows.is_empty() {
        html::empty(lang, "alerts_none")
    } else {
        table(
            &[t(lang, "alert_kind"), t(lang, "date"), t(lang, "count")],
            &rows,
        )
    };
    body.push_str(&section(lang, &t(lang, "alerts"), &content, None));
    Ok(html::page(&view, &title, &body))
}
