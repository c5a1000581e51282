//! 通知查阅: for each notice published in the range, its read rate, 24-hour read rate and
//! median hours to read; for one notice, the same by school, lowest read rate first (the
//! schools to remind).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use edulake_transform::indicators::{Grain, Level};

use super::charts::{self, Unit};
use super::html::{self, enc, esc, link, section_with, table};
use super::i18n::{indicator_name, t};
use super::pages::{cached_page, download_href, export, view_of, Ask, Params, Rows, Scope};
use super::{AppError, AppState, View};

/// The three notice indicators, in the order of the table's columns.
const INDICATORS: [&str; 3] = [
    "notice_read_rate",
    "notice_read_24h_rate",
    "notice_median_hours",
];

/// The notices page.
pub async fn notices(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<super::auth::Visitor>,
    Query(params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let who = visitor.require(super::i18n::Lang::parse(params.lang.as_deref()))?;
    cached_page(&state, &who, &uri, &params, &headers, || {
        render(&state, &who, &params)
    })
    .await
}

/// One row per key (a notice, or a school) with the three indicators side by side.
struct Joined {
    keys: Vec<String>,
    rows: HashMap<String, JoinedRow>,
}

/// A key's labels, its three values and its receipts.
type JoinedRow = (Vec<String>, [Option<f64>; 3], Option<f64>);

/// Reads the three indicators at a level, by notice, and joins them on `key_of`.
async fn joined(
    state: &AppState,
    view: &View,
    level: Level,
    keep: impl Fn(&Rows, usize) -> bool,
    key_of: impl Fn(&Rows, usize) -> (String, Vec<String>),
) -> Result<(Joined, Vec<(String, String)>), AppError> {
    let layer = state.layer().await;
    let range = (view.from, view.to);
    let mut joined = Joined {
        keys: Vec::new(),
        rows: HashMap::new(),
    };
    let mut downloads = Vec::new();
    for (i, indicator) in INDICATORS.iter().enumerate() {
        let rows = export(
            &layer,
            view,
            &Scope::Bureau,
            Ask {
                indicator,
                level,
                grain: Grain::Total,
                range,
                by: Some("notice"),
            },
        )
        .await?;
        for r in (0..rows.len()).filter(|r| keep(&rows, *r)) {
            let (key, labels) = key_of(&rows, r);
            let entry = joined.rows.entry(key.clone()).or_insert_with(|| {
                joined.keys.push(key.clone());
                (labels, [None; 3], None)
            });
            entry.1[i] = rows.num(r, "value");
            if i == 0 {
                entry.2 = rows.num(r, "denominator");
            }
        }
        downloads.push((
            indicator_name(view.lang, indicator),
            format!(
                "{}&by=notice",
                download_href(view, &Scope::Bureau, indicator, level, Grain::Total, range)
            ),
        ));
    }
    Ok((joined, downloads))
}

fn rate(v: Option<f64>) -> String {
    v.map(|v| Unit::Rate.show(v)).unwrap_or_else(|| "—".into())
}

fn hours(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

async fn render(
    state: &AppState,
    who: &edulake_transform::access::Principal,
    params: &Params,
) -> Result<String, AppError> {
    let layer = state.layer().await;
    let (mut view, _) = view_of(&layer, who, params, "/notices").await?;
    if let Some(notice) = params.notice.as_deref().filter(|n| !n.is_empty()) {
        // The language switch and the date presets stay on this notice.
        view.path = format!("/notices?notice={}", enc(notice));
    }
    let lang = view.lang;
    let heads = |first: &[&str]| -> Vec<String> {
        first
            .iter()
            .map(|k| t(lang, k))
            .chain([
                t(lang, "read_rate"),
                t(lang, "read_24h_rate"),
                t(lang, "median_hours"),
                t(lang, "receipts"),
            ])
            .collect()
    };
    let period = format!("{} – {}", view.from, view.to);
    let mut body = String::new();
    match params.notice.as_deref().filter(|n| !n.is_empty()) {
        None => {
            let (joined, downloads) = joined(
                state,
                &view,
                Level::Bureau,
                |_, _| true,
                |rows, r| {
                    (
                        rows.text(r, "notice_id"),
                        vec![rows.text(r, "notice_id"), rows.text(r, "title")],
                    )
                },
            )
            .await?;
            let mut items = Vec::new();
            let mut cells = Vec::new();
            for key in &joined.keys {
                let (labels, values, receipts) = &joined.rows[key];
                if let Some(v) = values[0] {
                    items.push(charts::Bar {
                        name: labels[1].clone(),
                        value: v,
                        href: Some(view.link(&format!("/notices?notice={}", enc(&labels[0])))),
                    });
                }
                cells.push(vec![
                    link(
                        &view.link(&format!("/notices?notice={}", enc(&labels[0]))),
                        &labels[1],
                    ),
                    esc(&rate(values[0])),
                    esc(&rate(values[1])),
                    esc(&hours(values[2])),
                    esc(&receipts.map(|v| format!("{v:.0}")).unwrap_or_default()),
                ]);
            }
            let content = if cells.is_empty() {
                html::empty(lang, "no_data")
            } else {
                format!(
                    "{}<p class=\"hint\">{}</p>{}",
                    charts::bars(&items, Unit::Rate, &t(lang, "read_rate"), lang),
                    esc(&t(lang, "notices_hint")),
                    table(&heads(&["notice"]), &cells)
                )
            };
            body.push_str(&section_with(
                lang,
                &format!("{} ({period})", t(lang, "notices_all")),
                &content,
                &downloads,
            ));
            Ok(html::page(&view, &t(lang, "nav_notices"), &body))
        }
        Some(notice) => {
            let wanted = notice.to_string();
            let (joined, downloads) = joined(
                state,
                &view,
                Level::School,
                |rows, r| rows.text(r, "notice_id") == wanted,
                |rows, r| {
                    (
                        rows.text(r, "school_code"),
                        vec![
                            rows.text(r, "district"),
                            rows.text(r, "school_code"),
                            rows.text(r, "school_name"),
                            rows.text(r, "title"),
                        ],
                    )
                },
            )
            .await?;
            let title = joined
                .rows
                .values()
                .next()
                .map(|r| r.0[3].clone())
                .unwrap_or_else(|| notice.to_string());
            let mut order: Vec<&String> = joined.keys.iter().collect();
            // Lowest read rate first: the schools to remind.
            order.sort_by(|a, b| {
                let (x, y) = (joined.rows[*a].1[0], joined.rows[*b].1[0]);
                x.unwrap_or(f64::INFINITY)
                    .total_cmp(&y.unwrap_or(f64::INFINITY))
                    .then(a.cmp(b))
            });
            let mut cells = Vec::new();
            let mut items = Vec::new();
            for key in order {
                let (labels, values, receipts) = &joined.rows[key];
                if let Some(v) = values[0] {
                    items.push(charts::Bar {
                        name: labels[2].clone(),
                        value: v,
                        href: None,
                    });
                }
                cells.push(vec![
                    esc(&labels[0]),
                    link(
                        &view.link(&format!("/school/{}", enc(&labels[1]))),
                        &labels[2],
                    ),
                    esc(&rate(values[0])),
                    esc(&rate(values[1])),
                    esc(&hours(values[2])),
                    esc(&receipts.map(|v| format!("{v:.0}")).unwrap_or_default()),
                ]);
            }
            let content = if cells.is_empty() {
                html::empty(lang, "no_data")
            } else {
                items.truncate(30);
                format!(
                    "{}{}",
                    charts::bars(&items, Unit::Rate, &t(lang, "read_rate"), lang),
                    table(&heads(&["district", "school"]), &cells)
                )
            };
            // The downloads hold every notice by school; the page shows one of them.
            let downloads: Vec<(String, String)> = downloads
                .into_iter()
                .map(|(label, href)| (label, format!("{href}&notice={}", enc(notice))))
                .collect();
            body.push_str(&format!(
                "<p>{}</p>",
                link(&view.link("/notices"), &t(lang, "notices_back"))
            ));
            body.push_str(&section_with(
                lang,
                &format!("{} ({period})", t(lang, "notice_by_school")),
                &content,
                &downloads,
            ));
            Ok(html::page(
                &view,
                &format!("{} · {title}", t(lang, "nav_notices")),
                &body,
            ))
        }
    }
}
