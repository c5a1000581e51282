//! `GET /audit`: the audit log for the bureau's administrator, newest first, filtered by
//! login, action and days; `format=csv` downloads what the filter shows.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::AuditFilter;

use super::html::{self, esc};
use super::i18n::{t, Lang};
use super::{AppError, AppState};

/// The most lines a page or a download shows.
const MOST: usize = 5_000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditParams {
    pub login: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
    pub lang: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// A CSV cell: quoted, and made safe to open in a spreadsheet (a text taken for a formula is
/// kept as text).
fn csv_cell(text: &str) -> String {
    let text = edulake_schemas::text::spreadsheet_safe(text);
    format!("\"{}\"", text.replace('"', "\"\""))
}

pub async fn audit(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<super::auth::Visitor>,
    Query(p): Query<AuditParams>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(p.lang.as_deref());
    let who = visitor.require(lang)?;
    for (what, day) in [("from", &p.from), ("to", &p.to)] {
        if let Some(d) = given(day) {
            if chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_err() {
                return Err(AppError::BadRequest(
                    lang,
                    format!("{what}: '{d}' is not a date (YYYY-MM-DD)"),
                ));
            }
        }
    }
    let filter = AuditFilter {
        login: given(&p.login),
        action: given(&p.action),
        from: given(&p.from),
        to: given(&p.to),
        limit: MOST,
    };
    let lines = state
        .accounts
        .audit_log_as(&who, &filter)
        .map_err(|e| match e {
            crate::accounts::AccountError::Invalid(_) => {
                AppError::Forbidden(lang, "forbidden_role")
            }
            other => AppError::Internal(lang, other.to_string()),
        })?;
    let headers = [
        t(lang, "audit_at"),
        t(lang, "audit_login"),
        t(lang, "role"),
        t(lang, "audit_action"),
        t(lang, "audit_target"),
        t(lang, "scope"),
        t(lang, "audit_address"),
        t(lang, "audit_outcome"),
    ];
    let cells = |e: &crate::accounts::AuditEntry| {
        [
            e.at.clone(),
            e.login.clone(),
            e.role.clone(),
            e.action.clone(),
            e.target.clone(),
            e.scope.clone(),
            e.address.clone(),
            e.outcome.clone(),
        ]
    };
    if p.format.as_deref() == Some("csv") {
        let mut out = String::from("\u{feff}");
        out.push_str(
            &headers
                .iter()
                .map(|h| csv_cell(h))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
        for e in &lines {
            out.push_str(
                &cells(e)
                    .iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"audit.csv\"".to_string(),
                ),
            ],
            out,
        )
            .into_response());
    }
    let value = |v: &Option<String>| esc(&given(v).unwrap_or_default());
    let form = format!(
        "<form class=\"filters\" method=\"get\"><input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <label>{login} <input name=\"login\" value=\"{lv}\"></label>\
         <label>{action} <input name=\"action\" value=\"{av}\"></label>\
         <label>{from} <input type=\"date\" name=\"from\" value=\"{fv}\"></label>\
         <label>{to} <input type=\"date\" name=\"to\" value=\"{tv}\"></label>\
         <button type=\"submit\">{filter}</button></form>",
        code = lang.code(),
        login = esc(&t(lang, "audit_login")),
        action = esc(&t(lang, "audit_action")),
        from = esc(&t(lang, "from")),
        to = esc(&t(lang, "to")),
        filter = esc(&t(lang, "filter")),
        lv = value(&p.login),
        av = value(&p.action),
        fv = value(&p.from),
        tv = value(&p.to),
    );
    let query = serde_urlencoded::to_string([
        ("lang", lang.code().to_string()),
        ("login", given(&p.login).unwrap_or_default()),
        ("action", given(&p.action).unwrap_or_default()),
        ("from", given(&p.from).unwrap_or_default()),
        ("to", given(&p.to).unwrap_or_default()),
        ("format", "csv".into()),
    ])
    .unwrap_or_default();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|e| cells(e).iter().map(|c| esc(c)).collect())
        .collect();
    let body = format!(
        "{form}<p class=\"downloads\"><a href=\"/audit?{}\" download>{}</a></p>{}",
        esc(&query),
        esc(&t(lang, "download_csv")),
        html::table(&headers, &rows)
    );
    Ok(Html(html::bare(lang, &t(lang, "nav_audit"), &body)).into_response())
}
