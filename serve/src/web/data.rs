//! 数据报送: what each school sent and when, the batches received and their reject reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};

use edulake_transform::indicators::{Grain, Level};

use super::html::{self, enc, esc, link, section, table};
use super::i18n::{lookup, t, Lang};
use edulake_transform::shapes::ShapesOf;

use super::auth::{check_scope, Visitor};
use super::pages::{
    cached_page, download_href, export, read_rows, view_of, Ask, Params, Scope, ScopeExt,
};
use super::{AppError, AppState};
use axum::Extension;
use edulake_transform::access::Principal;

/// The dated datasets whose freshness the data page shows, with their label keys.
const FRESHNESS: [(&str, &str); 6] = [
    ("attendance", "ds_attendance_any"),
    ("class_report", "ds_class_report"),
    ("attendance_exceptions", "ds_attendance_exceptions"),
    ("health_report", "ds_health_report"),
    ("enrolment", "ds_enrolment"),
    ("notice_reads", "ds_notice_reads"),
];

/// At most this many school-days of shapes are listed (`edulake batches --shapes` has them all).
const SHAPES_SHOWN: usize = 60;

/// Batches listed on one page of the data page (`?page=`).
const BATCHES_PER_PAGE: usize = 50;

/// The shapes of report a class-day may be counted from, finest first.
const SHAPES: [&str; 4] = ["rows", "register", "class_report", "school_report"];

/// The data page: freshness by school and dataset, and the batches received.
pub async fn data(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(mut params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let who = visitor.require(lang)?;
    own_scope(&state, &who, &mut params.district, &mut params.school, lang).await?;
    cached_page(&state, &who, &uri, &params, &headers, || {
        render_data(&state, &who, &params)
    })
    .await
}

/// The scope a page or download asks for by its `district` and `school` parameters, made
/// the asker's own when it asks for none, and refused when it is not the asker's to see.
pub(super) async fn own_scope(
    state: &AppState,
    who: &Principal,
    district: &mut Option<String>,
    school: &mut Option<String>,
    lang: Lang,
) -> Result<(), AppError> {
    if scope_of(district, school) == Scope::Bureau {
        match &who.scope {
            Scope::Bureau => {}
            Scope::District(d) => *district = Some(d.clone()),
            Scope::School(s) => *school = Some(s.clone()),
        }
    }
    check_scope(state, who, &scope_of(district, school), lang).await
}

/// The scope a data page or download asks for.
pub(super) fn scope_of(district: &Option<String>, school: &Option<String>) -> Scope {
    match (district.as_deref(), school.as_deref()) {
        (_, Some(s)) if !s.is_empty() => Scope::School(s.to_string()),
        (Some(d), _) if !d.is_empty() => Scope::District(d.to_string()),
        _ => Scope::Bureau,
    }
}

async fn render_data(
    state: &AppState,
    who: &Principal,
    params: &Params,
) -> Result<String, AppError> {
    let layer = state.layer().await;
    let (mut view, _) = view_of(&layer, who, params, "/data").await?;
    let lang = view.lang;
    let scope = scope_of(&params.district, &params.school);
    match &scope {
        // A school may send data before the registry lists it: its code is all that is asked.
        Scope::School(code) if edulake_ingest::values::check_school_code(code).is_err() => {
            return Err(AppError::NotFound(lang));
        }
        Scope::School(_) => {}
        _ => super::pages::ensure_known(&layer, lang, &scope).await?,
    }
    view.path = match &scope {
        Scope::Bureau => "/data".into(),
        Scope::District(d) => format!("/data?district={}", enc(d)),
        Scope::School(s) => format!("/data?school={}", enc(s)),
    };
    let range = (view.from, view.to);
    let mut body = String::new();

    // Freshness: the latest date of each dataset per school, stalest first.
    let rows = export(
        &layer,
        &view,
        &scope,
        Ask {
            indicator: "data_freshness",
            level: Level::School,
            grain: Grain::Total,
            range,
            by: None,
        },
    )
    .await?;
    let mut schools: BTreeMap<String, (String, String, HashMap<String, NaiveDate>)> =
        BTreeMap::new();
    for r in 0..rows.len() {
        let entry = schools
            .entry(rows.text(r, "school_code"))
            .or_insert_with(|| {
                (
                    rows.text(r, "district"),
                    rows.text(r, "school_name"),
                    HashMap::new(),
                )
            });
        if let Some(d) = rows.date(r, "period_start") {
            entry.2.insert(rows.text(r, "dataset"), d);
        }
    }
    let mut order: Vec<&String> = schools.keys().collect();
    order.sort_by_key(|code| (schools[*code].2.get("attendance").copied(), *code));
    let stale_before = view.to - Duration::days(1);
    let cells: Vec<Vec<String>> = order
        .iter()
        .map(|code| {
            let (district, name, latest) = &schools[*code];
            let mut row = vec![
                link(
                    &view.link(&format!("/data?district={}", enc(district))),
                    district,
                ),
                link(&view.link(&format!("/data?school={}", enc(code))), name),
                esc(code),
            ];
            for (dataset, _) in FRESHNESS {
                row.push(match latest.get(dataset) {
                    // Rosters and notices are not daily: only daily data can be late.
                    Some(d)
                        if *d < stale_before
                            && ["attendance", "health_report"].contains(&dataset) =>
                    {
                        format!("<span class=\"stale\">{d}</span>")
                    }
                    Some(d) => d.to_string(),
                    None => "—".into(),
                });
            }
            row
        })
        .collect();
    let mut heads = vec![
        t(lang, "district"),
        t(lang, "school"),
        t(lang, "school_code"),
    ];
    heads.extend(FRESHNESS.iter().map(|(_, key)| t(lang, key)));
    let content = if cells.is_empty() {
        html::empty(lang, "no_data")
    } else {
        format!(
            "<p class=\"hint\">{}</p>{}",
            esc(&t(lang, "freshness_hint")),
            table(&heads, &cells)
        )
    };
    let href = download_href(
        &view,
        &scope,
        "data_freshness",
        Level::School,
        Grain::Total,
        range,
    );
    body.push_str(&section(
        lang,
        &format!(
            "{} ({} {})",
            t(lang, "freshness"),
            t(lang, "up_to"),
            view.to
        ),
        &content,
        Some(&href),
    ));

    // Which shape each school's days were counted from (REPORTING.md's precedence).
    let shapes = read_rows(
        lang,
        layer.shapes(&ShapesOf {
            district: match &scope {
                Scope::District(d) => Some(d.as_str()),
                _ => None,
            },
            school: match &scope {
                Scope::School(s) => Some(s.as_str()),
                _ => None,
            },
            from: Some(view.from),
            to: Some(view.to),
        }),
    )
    .await?;
    let one_school = matches!(scope, Scope::School(_));
    let cells: Vec<Vec<String>> = (0..shapes.len().min(SHAPES_SHOWN))
        .map(|r| {
            // One school's page needs no school columns.
            let mut row = if one_school {
                Vec::new()
            } else {
                vec![
                    esc(&shapes.text(r, "district")),
                    link(
                        &view.link(&format!(
                            "/data?school={}",
                            enc(&shapes.text(r, "school_code"))
                        )),
                        &shapes.text(r, "school_name"),
                    ),
                ]
            };
            row.push(shapes.text(r, "date"));
            for shape in SHAPES {
                row.push(match shapes.text(r, shape).as_str() {
                    "0" => String::new(),
                    n => n.to_string(),
                });
            }
            row
        })
        .collect();
    let content = if cells.is_empty() {
        html::empty(lang, "shapes_none")
    } else {
        let more = shown_of(lang, shapes.len());
        let mut heads = if one_school {
            vec![t(lang, "date")]
        } else {
            vec![t(lang, "district"), t(lang, "school"), t(lang, "date")]
        };
        heads.extend(SHAPES.iter().map(|s| t(lang, &format!("shape_{s}"))));
        format!(
            "<p class=\"hint\">{}</p>{more}{}",
            esc(&t(lang, "shapes_hint")),
            table(&heads, &cells)
        )
    };
    body.push_str(&section(lang, &t(lang, "shapes"), &content, None));

    // The sources pulled beside the cockpit, for the bureau: before what they brought.
    body.push_str(&super::sources::status_section(state, &view));

    // The batches received, newest first, a page of them at a time.
    let batches = read_rows(lang, layer.batches_in(&scope, Some(range))).await?;
    let pages = batches.len().div_ceil(BATCHES_PER_PAGE).max(1);
    let page = params
        .page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let first = (page - 1) * BATCHES_PER_PAGE;
    let tz = edulake_ingest::bureau_tz().map_err(|e| AppError::Internal(lang, e.to_string()))?;
    let cells: Vec<Vec<String>> = (first..batches.len().min(first + BATCHES_PER_PAGE))
        .map(|r| batch_cells(&batches, r, lang, tz))
        .collect();
    let content = if cells.is_empty() {
        html::empty(lang, "batches_none")
    } else {
        let at = |p: usize| view.link(&format!("/data?page={p}{}", scope.query()));
        let mut nav = format!(
            "<p class=\"pager\">{}",
            esc(&t(lang, "page_of")
                .replace("{page}", &page.to_string())
                .replace("{pages}", &pages.to_string())
                .replace("{n}", &batches.len().to_string()))
        );
        if page > 1 {
            nav.push_str(&format!(
                " {}",
                link(&at(page - 1), &t(lang, "page_previous"))
            ));
        }
        if page < pages {
            nav.push_str(&format!(" {}", link(&at(page + 1), &t(lang, "page_next"))));
        }
        nav.push_str("</p>");
        format!("{nav}{}", table(&batch_heads(lang), &cells))
    };
    let href = format!(
        "/download?table=batches&from={}&to={}{}&lang={}",
        view.from,
        view.to,
        scope.query(),
        lang.code()
    );
    body.push_str(&section(lang, &t(lang, "batches"), &content, Some(&href)));

    // Files rejected whole: nothing of them is a batch, so only the state's log says they came.
    let rejected = layer
        .rejected_files(state.state.root(), &scope, range)
        .await
        .map_err(|e| AppError::Internal(lang, e.to_string()))?;
    if !rejected.is_empty() {
        let cells: Vec<Vec<String>> = rejected
            .iter()
            .take(BATCHES_PER_PAGE)
            .map(|f| {
                let at = chrono::DateTime::parse_from_rfc3339(&f.at)
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|_| f.at.clone());
                vec![
                    esc(&at),
                    esc(&lookup(lang, &format!("ds_{}", f.dataset)).unwrap_or(f.dataset.clone())),
                    esc(f.school.as_deref().unwrap_or("")),
                    esc(&f.file),
                    esc(match lang {
                        Lang::Zh => &f.reason_zh,
                        Lang::En => &f.reason_en,
                    }),
                ]
            })
            .collect();
        let heads = [
            t(lang, "received_at"),
            t(lang, "dataset"),
            t(lang, "school_code"),
            t(lang, "source_file"),
            t(lang, "preview_reason"),
        ];
        let content = format!(
            "<p class=\"hint\">{}</p>{}{}",
            esc(&t(lang, "rejected_files_hint")),
            if rejected.len() > BATCHES_PER_PAGE {
                format!(
                    "<p class=\"hint\">{} {BATCHES_PER_PAGE} / {}</p>",
                    esc(&t(lang, "batches_shown")),
                    rejected.len()
                )
            } else {
                String::new()
            },
            table(&heads, &cells)
        );
        body.push_str(&section(lang, &t(lang, "rejected_files"), &content, None));
    }

    let title = match &scope {
        Scope::Bureau => t(lang, "nav_data"),
        Scope::District(d) => format!("{} · {d}", t(lang, "nav_data")),
        Scope::School(s) => {
            let name = schools.get(s).map(|e| e.1.clone()).unwrap_or_default();
            format!("{} · {name} ({s})", t(lang, "nav_data"))
        }
    };
    Ok(html::page(&view, &title, &body))
}

/// "Showing the first N of M", when a table holds more rows than a page shows.
fn shown_of(lang: Lang, total: usize) -> String {
    if total > SHAPES_SHOWN {
        format!(
            "<p class=\"hint\">{} {SHAPES_SHOWN} / {total}</p>",
            esc(&t(lang, "batches_shown"))
        )
    } else {
        String::new()
    }
}

fn batch_heads(lang: Lang) -> Vec<String> {
    [
        "ingested_at",
        "dataset",
        "school_code",
        "source_file",
        "rows_read",
        "rows_stored",
        "rows_rejected",
        "reject_report",
    ]
    .iter()
    .map(|k| t(lang, k))
    .collect()
}

/// When a batch was received, in the bureau's time zone (the lake keeps UTC).
fn local_time(utc: &str, tz: chrono_tz::Tz) -> String {
    let parsed = chrono::DateTime::parse_from_rfc3339(utc.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(
                utc.trim().trim_end_matches(" UTC"),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .map(|t| t.and_utc())
        });
    match parsed {
        Ok(t) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => utc.get(..16).unwrap_or(utc).to_string(),
    }
}

/// A file's name as sent, without the folder it was read from (a server's paths are no
/// reader's business).
fn file_name(source: &str) -> &str {
    source.rsplit(['/', '\\']).next().unwrap_or(source)
}

fn batch_cells(
    batches: &super::pages::Rows,
    r: usize,
    lang: Lang,
    tz: chrono_tz::Tz,
) -> Vec<String> {
    let id = batches.text(r, "batch_id");
    let report = if batches.text(r, "has_reject_report") == "true" {
        link(
            &format!("/rejects/{}?lang={}", enc(&id), lang.code()),
            &t(lang, "download_csv"),
        )
    } else {
        String::new()
    };
    let dataset = batches.text(r, "dataset");
    vec![
        esc(&local_time(&batches.text(r, "ingested_at"), tz)),
        esc(&super::i18n::lookup(lang, &format!("ds_{dataset}")).unwrap_or(dataset)),
        esc(&batches.text(r, "school_code")),
        esc(file_name(&batches.text(r, "source_file"))),
        esc(&batches.text(r, "rows_read")),
        esc(&batches.text(r, "rows_stored")),
        esc(&batches.text(r, "rows_rejected")),
        report,
    ]
}

/// A batch's reject report: the rows that were not stored and why, as the clerk sent them
/// (personal data: it is read from the state directory, never from the lake).
pub async fn reject_report(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Path(batch_id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let who = visitor.require(lang)?;
    // From the lake itself, not the layer: a report is there as soon as its upload is.
    let batches = state
        .reader
        .batches()
        .await
        .map_err(|e| AppError::Internal(lang, e.to_string()))?;
    let batch = batches
        .iter()
        .find(|b| b.batch_id == batch_id)
        .ok_or(AppError::NotFound(lang))?;
    // A report is the school's that sent it (a file of many schools: the bureau's).
    let of = match &batch.school_code {
        Some(code) => Scope::School(code.clone()),
        None => Scope::Bureau,
    };
    check_scope(&state, &who, &of, lang).await?;
    let rel = batch
        .reject_report
        .clone()
        .ok_or(AppError::NotFound(lang))?;
    let words = [
        t(lang, "preview_row"),
        t(lang, "report_column"),
        t(lang, "report_value"),
        t(lang, "preview_reason"),
    ];
    let bytes = edulake_transform::reads::reject_report(state.state.root(), &rel, lang, &words)
        .map_err(|e| AppError::Internal(lang, e.to_string()))?
        .ok_or(AppError::NotFound(lang))?;
    let name: String = batch_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"rejects-{name}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_shows_its_local_time_and_its_file_name_alone() {
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        assert_eq!(
            local_time("2026-12-04T23:49:48.527551Z", tz),
            "2026-12-05 07:49"
        );
        assert_eq!(
            local_time("2026-12-04 23:49:48.5 UTC", tz),
            "2026-12-05 07:49"
        );
        assert_eq!(file_name("/srv/edulake/uploads/x/考勤.csv"), "考勤.csv");
        assert_eq!(file_name("C:\\Users\\clerk\\考勤.xlsx"), "考勤.xlsx");
        assert_eq!(file_name("考勤.csv"), "考勤.csv");
    }
}
