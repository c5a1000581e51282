//! The pages of the cockpit and their downloads. Every number on a page comes from
//! [`QueryLayer::export`] (or `alerts`), so a page, its download and `edulake export` agree.

use futures::FutureExt;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

use edulake_transform::access::{Principal, Role as AccessRole};

use super::auth::{check_scope, Visitor};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use edulake_transform::indicators::{Grain, Level, Request};
use edulake_transform::reads::{Rows as ReadRows, Scope as ReadScope};
use edulake_transform::QueryLayer;

use super::charts::{self, Unit};
use super::html::{self, enc, esc, link, section, table};
use super::i18n::{t, Lang};
use super::{AppError, AppState, View};

pub(super) use super::cache::cached_page;
pub use super::cache::Rendered;

/// The query every page takes.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub lang: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The notices page: one notice by school.
    pub notice: Option<String>,
    /// The data page: one district or one school.
    pub district: Option<String>,
    pub school: Option<String>,
    /// The data page: which page of its batches (from 1).
    pub page: Option<String>,
    /// Only the rows of a school type (`junior`), a grade (`7`), a gender (`F`).
    pub school_type: Option<String>,
    pub grade: Option<String>,
    pub gender: Option<String>,
}

/// The filters a query asks for, each checked: a school type of the registry's vocabulary, a
/// grade 1–12, a gender M or F.
pub(super) fn filters_of(
    lang: Lang,
    school_type: &Option<String>,
    grade: &Option<String>,
    gender: &Option<String>,
) -> Result<edulake_transform::indicators::Filters, AppError> {
    edulake_transform::indicators::Filters::from_words(
        school_type.as_deref(),
        grade.as_deref(),
        gender.as_deref(),
    )
    .map_err(|(what, v)| AppError::BadRequest(lang, format!("{what} '{v}'")))
}

/// Rows of a result as text, by column name.
pub(super) struct Rows {
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    pub(super) fn from(schema: &arrow::datatypes::Schema, batches: &[RecordBatch]) -> Rows {
        let columns = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut rows = Vec::new();
        for b in batches {
            for r in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .map(|c| {
                            (!c.is_null(r)).then(|| array_value_to_string(c, r).unwrap_or_default())
                        })
                        .collect(),
                );
            }
        }
        Rows { columns, rows }
    }

    pub(super) fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    pub(super) fn text(&self, row: usize, name: &str) -> String {
        self.col(name)
            .and_then(|i| self.rows[row][i].clone())
            .unwrap_or_default()
    }

    pub(super) fn num(&self, row: usize, name: &str) -> Option<f64> {
        self.col(name)
            .and_then(|i| self.rows[row][i].as_deref())
            .and_then(|v| v.parse().ok())
    }

    pub(super) fn date(&self, row: usize, name: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.text(row, name), "%Y-%m-%d").ok()
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }
}

pub(super) fn internal(lang: Lang) -> impl Fn(edulake_transform::TransformError) -> AppError {
    move |e| match e {
        edulake_transform::TransformError::BadQuery(msg)
        | edulake_transform::TransformError::TooBig(msg) => AppError::BadRequest(lang, msg),
        edulake_transform::TransformError::Busy(msg) => AppError::Busy(lang, msg),
        other => AppError::Internal(lang, other.to_string()),
    }
}

/// Where a page looks: the whole bureau, a district or a school (the query layer's scope).
pub(super) use edulake_transform::reads::Scope;

/// What a page does with its scope.
pub(super) trait ScopeExt {
    /// Narrows an indicator request to the scope.
    fn apply(&self, req: &mut Request);
    /// The level one row of this scope is at.
    fn level(&self) -> Level;
    /// The scope as a link's parameters (`&district=…`).
    fn query(&self) -> String;
}

impl ScopeExt for Scope {
    fn apply(&self, req: &mut Request) {
        match self {
            Scope::Bureau => {}
            Scope::District(d) => req.district = Some(d.clone()),
            Scope::School(s) => req.school = Some(s.clone()),
        }
    }

    fn level(&self) -> Level {
        match self {
            Scope::Bureau => Level::Bureau,
            Scope::District(_) => Level::District,
            Scope::School(_) => Level::School,
        }
    }

    fn query(&self) -> String {
        match self {
            Scope::Bureau => String::new(),
            Scope::District(d) => format!("&district={}", enc(d)),
            Scope::School(s) => format!("&school={}", enc(s)),
        }
    }
}

/// What a page asks of an indicator (the scope aside).
pub(super) struct Ask<'a> {
    pub indicator: &'a str,
    pub level: Level,
    pub grain: Grain,
    pub range: (NaiveDate, NaiveDate),
    pub by: Option<&'a str>,
}

/// One export, as rows.
pub(super) async fn export(
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    ask: Ask<'_>,
) -> Result<Rows, AppError> {
    let lang = view.lang;
    let mut req = Request::new(ask.indicator);
    req.level = ask.level;
    req.grain = ask.grain;
    req.from = Some(ask.range.0);
    req.to = Some(ask.range.1);
    req.by = ask.by.map(str::to_string);
    if let Ok(ind) = edulake_transform::indicators::by_name(ask.indicator) {
        req.filters = view.filters.for_request(ind, ask.by).0;
    }
    view.who.asks(&mut req);
    scope.apply(&mut req);
    let started = std::time::Instant::now();
    let (schema, batches) = layer.export(&req).await.map_err(internal(lang))?;
    tracing::debug!(
        "export {} {} {} {scope:?}: {:.3} s",
        req.indicator,
        req.level.name(),
        req.grain.name(),
        started.elapsed().as_secs_f64()
    );
    Ok(Rows::from(&schema, &batches))
}

/// The download link of an export (format added by the section).
pub(super) fn download_href(
    view: &View,
    scope: &Scope,
    indicator: &str,
    level: Level,
    grain: Grain,
    range: (NaiveDate, NaiveDate),
) -> String {
    format!(
        "/download?indicator={indicator}&level={}&grain={}&from={}&to={}{}{}&lang={}",
        level.name(),
        grain.name(),
        range.0,
        range.1,
        scope.query(),
        view.filters_query(),
        view.lang.code()
    )
}

pub(super) async fn read_rows(
    lang: Lang,
    read: impl std::future::Future<Output = edulake_transform::Result<ReadRows>>,
) -> Result<Rows, AppError> {
    let (schema, batches) = read.await.map_err(internal(lang))?;
    Ok(Rows::from(&schema, &batches))
}

/// A day a request names (`from`, `to`, `day`): `YYYY-MM-DD` with a year of four digits
/// (a range past the data is clamped to it; date arithmetic stays far from its limits).
pub(super) fn parse_day(s: &str, what: &str, lang: Lang) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| {
            AppError::BadRequest(lang, format!("{what}: '{s}' is not a date (YYYY-MM-DD)"))
        })
}

/// The view a request asks for; the range defaults to the 30 days up to the latest data.
pub(super) async fn view_of(
    layer: &QueryLayer,
    who: &Principal,
    params: &Params,
    path: &str,
) -> Result<(View, Option<NaiveDate>), AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let parse = |s: &Option<String>, what: &str| -> Result<Option<NaiveDate>, AppError> {
        match s.as_deref().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => parse_day(s, what, lang).map(Some),
        }
    };
    let (from, to) = (parse(&params.from, "from")?, parse(&params.to, "to")?);
    let data = layer.data_range().await.map_err(internal(lang))?;
    let today = edulake_ingest::values::today(
        edulake_ingest::bureau_tz().map_err(|e| AppError::Internal(lang, e.to_string()))?,
    );
    let to = to.or(data.map(|d| d.1)).unwrap_or(today);
    let from = from.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(AppError::BadRequest(
            lang,
            format!("from {from} is after to {to}"),
        ));
    }
    let (from, to) = clamp_to_data(data, today, from, to);
    Ok((
        View {
            who: who.clone(),
            lang,
            from,
            to,
            path: path.to_string(),
            filters: filters_of(lang, &params.school_type, &params.grade, &params.gender)?,
        },
        data.map(|d| d.1),
    ))
}

/// A district or school that is not in the registry is not a page (nor a place in the
/// cache).
pub(super) async fn ensure_known(
    layer: &QueryLayer,
    lang: Lang,
    scope: &Scope,
) -> Result<(), AppError> {
    match layer.scope_is_known(scope).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::NotFound(lang)),
        Err(e) => Err(internal(lang)(e)),
    }
}

/// A range reaching past the data shows nothing more than the data, and must cost no more:
/// it is clamped to the first day with data and to today (or the last day with data, if
/// later). `from` must not be after `to`.
pub(super) fn clamp_to_data(
    data: Option<(NaiveDate, NaiveDate)>,
    today: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    match data {
        Some((lo, hi)) => {
            let to = to.min(hi.max(today)).max(lo);
            (from.max(lo).min(to), to)
        }
        None => (from.max(to - Duration::days(365)), to),
    }
}

/// The overview, a district or a school: tiles, trends, comparison, schools not reporting,
/// alerts and the map.
pub(super) async fn scope_page(
    state: &AppState,
    who: &Principal,
    params: &Params,
    path: &str,
    scope: Scope,
) -> Result<String, AppError> {
    let layer = state.layer().await;
    let started = std::time::Instant::now();
    let (view, latest) = view_of(&layer, who, params, path).await?;
    tracing::debug!(
        "page {path}: view in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let lang = view.lang;
    let title = match &scope {
        Scope::Bureau => t(lang, "page_overview"),
        Scope::District(d) => {
            ensure_known(&layer, lang, &scope).await?;
            format!("{} · {d}", t(lang, "page_district"))
        }
        Scope::School(code) => {
            let Some((name, district)) = layer.school(code).await.map_err(internal(lang))? else {
                return Err(AppError::NotFound(lang));
            };
            format!("{district} · {name} ({code})")
        }
    };
    if latest.is_none() {
        return Ok(html::page(&view, &title, &html::empty(lang, "empty_lake")));
    }
    // The latest school day in the range: the day the tiles describe.
    // Read from the day-grain attendance of the last 60 days (a mart when built), not by
    // scanning every attendance row ever sent.
    let recent = export(
        &layer,
        &view,
        &scope,
        Ask {
            indicator: "attendance_rate",
            level: scope.level(),
            grain: Grain::Day,
            range: (view.to - Duration::days(59), view.to),
            by: None,
        },
    )
    .await?;
    tracing::debug!(
        "page {path}: latest day read after {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let day = (0..recent.len())
        .filter(|r| recent.num(*r, "denominator").is_some_and(|d| d > 0.0))
        .filter_map(|r| recent.date(r, "period_start"))
        .max()
        .unwrap_or(view.to);
    let mut body = String::new();
    // A school system that stopped sending is news for the bureau: first.
    if matches!(scope, Scope::Bureau) {
        body.push_str(&super::sources::quiet_section(state, &view));
    }
    // One level down: districts of the bureau, schools of a district, classes of a school.
    let (down, key, label_col) = match &scope {
        Scope::Bureau => (Level::District, "by_district", "district"),
        Scope::District(_) => (Level::School, "by_school", "school_name"),
        Scope::School(_) => (Level::Class, "classes", "class_code"),
    };
    let range = (view.from, view.to);
    // The page's parts that do not depend on one another are read side by side: a cold page
    // (the first after an upload) is many small queries, each waiting on its own reads.
    fn logged<'a, T>(
        path: &'a str,
        part: &'static str,
        started: std::time::Instant,
    ) -> impl FnOnce(T) -> T + 'a {
        move |r| {
            tracing::debug!(
                "page {path}: {part} after {:.2} s",
                started.elapsed().as_secs_f64()
            );
            r
        }
    }
    let ((tiles, alerts), trends, rows, school_part) = futures::try_join!(
        super::tiles::tiles(&layer, &view, &scope, day).map(logged(path, "tiles", started)),
        super::tiles::trends(&layer, &view, &scope, day).map(logged(path, "trends", started)),
        export(
            &layer,
            &view,
            &scope,
            Ask {
                indicator: "attendance_rate",
                level: down,
                grain: Grain::Total,
                range,
                by: None,
            },
        )
        .map(logged(path, "level below", started)),
        async {
            match scope {
                Scope::School(_) => super::school::school_sections(&layer, &view, &scope)
                    .await
                    .map(Some),
                _ => Ok(None),
            }
        }
        .map(logged(path, "school sections", started)),
    )?;
    body.push_str(&tiles);
    body.push_str(&trends);
    // Lowest attendance first: the table from the top, the chart from the top.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (rows.num(*a, "value"), rows.num(*b, "value"));
        x.unwrap_or(f64::INFINITY)
            .total_cmp(&y.unwrap_or(f64::INFINITY))
    });
    let href = |r: usize| match down {
        Level::District => Some(view.link(&format!("/district/{}", enc(&rows.text(r, label_col))))),
        Level::School => Some(view.link(&format!("/school/{}", enc(&rows.text(r, "school_code"))))),
        Level::Class => match &scope {
            Scope::School(code) => Some(view.link(&format!(
                "/school/{}/class/{}",
                enc(code),
                enc(&rows.text(r, label_col))
            ))),
            _ => None,
        },
        _ => None,
    };
    let items: Vec<charts::Bar> = order
        .iter()
        .filter_map(|r| {
            Some(charts::Bar {
                name: rows.text(*r, label_col),
                value: rows.num(*r, "value")?,
                href: href(*r),
            })
        })
        .collect();
    let mut table_rows = Vec::new();
    for r in order {
        let name = rows.text(r, label_col);
        let cell = match href(r) {
            Some(h) => link(&h, &name),
            None => esc(&name),
        };
        table_rows.push(vec![
            cell,
            esc(&rows
                .num(r, "value")
                .map(|v| Unit::Rate.show(v))
                .unwrap_or_else(|| "—".into())),
            esc(&rows.text(r, "numerator")),
            esc(&rows.text(r, "denominator")),
        ]);
    }
    let head_key = match down {
        Level::District => "district",
        Level::School => "school",
        _ => "class",
    };
    let content = if items.is_empty() {
        html::empty(lang, "no_data")
    } else {
        format!(
            "{}{}",
            charts::bars(&items, Unit::Rate, &t(lang, key), lang),
            table(
                &[
                    t(lang, head_key),
                    t(lang, "kpi_attendance"),
                    t(lang, "numerator"),
                    t(lang, "denominator")
                ],
                &table_rows
            )
        )
    };
    let href = download_href(&view, &scope, "attendance_rate", down, Grain::Total, range);
    body.push_str(&section(
        lang,
        &format!("{} ({} – {})", t(lang, key), view.from, view.to),
        &content,
        Some(&href),
    ));

    if let Some(part) = school_part {
        body.push_str(&part);
    } else {
        // Schools that have not reported on the latest day.
        body.push_str(
            &super::reporting::missing_schools_section(&layer, &view, &scope, day).await?,
        );
        body.push_str(&super::school::classes_missing_by_school(&layer, &view, &scope, day).await?);
    }

    // Alerts in the range.
    let alerts_all = &alerts.all;
    let in_range: Vec<usize> = alerts
        .rows
        .iter()
        .copied()
        .filter(|r| {
            alerts_all
                .date(*r, "date")
                .is_some_and(|d| d >= view.from && d <= view.to)
        })
        .collect();
    let content = if in_range.is_empty() {
        html::empty(lang, "alerts_none")
    } else {
        let rows: Vec<Vec<String>> = in_range
            .iter()
            .rev()
            .map(|r| {
                let code = alerts_all.text(*r, "school_code");
                let kind = alerts_all.text(*r, "kind");
                let district = alerts_all.text(*r, "district");
                let class = alerts_all.text(*r, "class_code");
                vec![
                    esc(&t(lang, &format!("alert_{kind}"))),
                    esc(&alerts_all.text(*r, "date")),
                    link(
                        &view.link(&format!("/district/{}", enc(&district))),
                        &district,
                    ),
                    link(
                        &view.link(&format!("/school/{}", enc(&code))),
                        &alerts_all.text(*r, "school_name"),
                    ),
                    link(
                        &view.link(&format!("/school/{}/class/{}", enc(&code), enc(&class))),
                        &class,
                    ),
                    esc(&alerts_all.text(*r, "count")),
                ]
            })
            .collect();
        table(
            &[
                t(lang, "alert_kind"),
                t(lang, "date"),
                t(lang, "district"),
                t(lang, "school"),
                t(lang, "class"),
                t(lang, "count"),
            ],
            &rows,
        )
    };
    let href = format!(
        "/download?table=alerts&from={}&to={}{}&lang={}",
        view.from,
        view.to,
        scope.query(),
        lang.code()
    );
    body.push_str(&section(lang, &t(lang, "alerts"), &content, Some(&href)));

    // The schools with the lowest attendance, and the map of the schools in scope.
    if !matches!(scope, Scope::School(_)) {
        let rates = export(
            &layer,
            &view,
            &scope,
            Ask {
                indicator: "attendance_rate",
                level: Level::School,
                grain: Grain::Total,
                range,
                by: None,
            },
        )
        .await?;
        let by_code: HashMap<String, f64> = (0..rates.len())
            .filter_map(|r| Some((rates.text(r, "school_code"), rates.num(r, "value")?)))
            .collect();
        let mut lowest: Vec<usize> = (0..rates.len())
            .filter(|r| rates.num(*r, "value").is_some())
            .collect();
        lowest.sort_by(|a, b| {
            rates
                .num(*a, "value")
                .unwrap_or(0.0)
                .total_cmp(&rates.num(*b, "value").unwrap_or(0.0))
        });
        lowest.truncate(10);
        let cells: Vec<Vec<String>> = lowest
            .iter()
            .map(|r| {
                let code = rates.text(*r, "school_code");
                let district = rates.text(*r, "district");
                vec![
                    link(
                        &view.link(&format!("/district/{}", enc(&district))),
                        &district,
                    ),
                    link(
                        &view.link(&format!("/school/{}", enc(&code))),
                        &rates.text(*r, "school_name"),
                    ),
                    esc(&rates
                        .num(*r, "value")
                        .map(|v| Unit::Rate.show(v))
                        .unwrap_or_default()),
                    esc(&rates.text(*r, "numerator")),
                    esc(&rates.text(*r, "denominator")),
                ]
            })
            .collect();
        let content = if cells.is_empty() {
            html::empty(lang, "no_data")
        } else {
            table(
                &[
                    t(lang, "district"),
                    t(lang, "school"),
                    t(lang, "kpi_attendance"),
                    t(lang, "numerator"),
                    t(lang, "denominator"),
                ],
                &cells,
            )
        };
        // Exactly the rows of the list: the ten lowest.
        let href = download_href(
            &view,
            &scope,
            "attendance_rate",
            Level::School,
            Grain::Total,
            range,
        ) + "&lowest=10";
        body.push_str(&section(
            lang,
            &format!(
                "{} ({} – {})",
                t(lang, "lowest_schools"),
                view.from,
                view.to
            ),
            &content,
            Some(&href),
        ));
        body.push_str(
            &super::map::section_of(state, &layer, &view, &scope, range, &by_code).await?,
        );
    }
    Ok(html::page(&view, &title, &body))
}

pub(super) trait NoticeLevel {
    /// Notices have no class level: a school scope reads them at school level.
    fn max_notice(self) -> Level;
}

impl NoticeLevel for Level {
    fn max_notice(self) -> Level {
        if self == Level::Class {
            Level::School
        } else {
            self
        }
    }
}

/// The visitor a page of `scope` is for, refused when signed out or when the scope is not
/// theirs to see.
pub(super) async fn allowed(
    state: &AppState,
    visitor: &Visitor,
    params: &Params,
    scope: &ReadScope,
) -> Result<Principal, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let who = visitor.require(lang)?;
    check_scope(state, &who, scope, lang).await?;
    Ok(who)
}

/// 总览: the whole bureau.
pub async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let who = visitor.require(lang)?;
    if who.scope != ReadScope::Bureau || who.role == AccessRole::Researcher {
        // Each starts where its scope does.
        let home = super::auth::home(&who);
        let sep = if home.contains('?') { '&' } else { '?' };
        return Ok(Redirect::to(&format!("{home}{sep}lang={}", lang.code())).into_response());
    }
    cached_page(&state, &who, &uri, &params, &headers, || {
        scope_page(&state, &who, &params, "/", Scope::Bureau)
    })
    .await
}

/// One district.
pub async fn district(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Path(name): Path<String>,
    Query(params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let who = allowed(
        &state,
        &visitor,
        &params,
        &ReadScope::District(name.clone()),
    )
    .await?;
    let path = format!("/district/{}", enc(&name));
    cached_page(&state, &who, &uri, &params, &headers, || {
        scope_page(&state, &who, &params, &path, Scope::District(name.clone()))
    })
    .await
}

/// One school.
pub async fn school(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Path(code): Path<String>,
    Query(params): Query<Params>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let who = allowed(&state, &visitor, &params, &ReadScope::School(code.clone())).await?;
    let path = format!("/school/{}", enc(&code));
    cached_page(&state, &who, &uri, &params, &headers, || {
        scope_page(&state, &who, &params, &path, Scope::School(code.clone()))
    })
    .await
}
