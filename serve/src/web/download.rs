//! The downloads: the numbers of every chart and table in the export format of
//! INDICATORS.md (CSV with a BOM, or Excel), and the alerts, batches and 催报 lists.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::NaiveDate;
use serde::Deserialize;

use edulake_transform::indicators::{Grain, Level, Request};
use edulake_transform::output::{self, Format};
use edulake_transform::reads::Scope as ReadScope;

use super::auth::Visitor;
use super::i18n::{t, Lang};
use super::pages::internal;
use super::{AppError, AppState};

/// What a download asks for: an indicator export (as `edulake export`) or the alerts.
#[derive(Debug, Default, Deserialize)]
pub struct DownloadParams {
    pub lang: Option<String>,
    pub indicator: Option<String>,
    pub table: Option<String>,
    pub level: Option<String>,
    pub grain: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub district: Option<String>,
    pub school: Option<String>,
    pub by: Option<String>,
    /// With `by=notice`: only this notice's rows (the download of a notice's page).
    pub notice: Option<String>,
    /// With `table=missing`: the day of the 催报 list.
    pub day: Option<String>,
    pub format: Option<String>,
    /// `machine`: the columns' machine names (as `edulake export` writes them) instead of
    /// the page language's words.
    pub headers: Option<String>,
    /// Only the rows of the N lowest values (the page's "the 10 lowest" list).
    pub lowest: Option<usize>,
    /// Only the rows of a school type, a grade, a gender (where the indicator takes it).
    pub school_type: Option<String>,
    pub grade: Option<String>,
    pub gender: Option<String>,
}

/// The `n` rows of the lowest `value` (rows without one left out), lowest first.
fn lowest_rows(
    schema: &arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
    n: usize,
) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
    let all = arrow::compute::concat_batches(schema, batches)?;
    let value = all.column(schema.index_of("value")?);
    let order = arrow::compute::sort_to_indices(
        value,
        Some(arrow::compute::SortOptions {
            descending: false,
            nulls_first: false,
        }),
        None,
    )?;
    let keep: Vec<u32> = order
        .values()
        .iter()
        .copied()
        .filter(|i| !value.is_null(*i as usize))
        .take(n)
        .collect();
    Ok(vec![arrow::compute::take_record_batch(
        &all,
        &arrow::array::UInt32Array::from(keep),
    )?])
}

/// Keeps the rows whose `column` is one of `keep`.
fn keep_rows(
    schema: &arrow::datatypes::Schema,
    batches: Vec<RecordBatch>,
    column: &str,
    keep: &[String],
) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
    let i = schema.index_of(column)?;
    batches
        .iter()
        .map(|b| {
            let col = b.column(i);
            let mask: arrow::array::BooleanArray = (0..b.num_rows())
                .map(|r| {
                    Some(
                        !col.is_null(r)
                            && keep.contains(&array_value_to_string(col, r).unwrap_or_default()),
                    )
                })
                .collect();
            arrow::compute::filter_record_batch(b, &mask)
        })
        .collect()
}

/// The most numbers a download holds before it is written (`edulake export` writes any size).
const DOWNLOAD_LIMIT: usize = 128 << 20;

/// The numbers of a chart or table, in the export format of INDICATORS.md: CSV with a UTF-8
/// BOM (so Excel reads the Chinese), or an Excel workbook.
pub async fn download(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(mut p): Query<DownloadParams>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(p.lang.as_deref());
    let who = visitor.require(lang)?;
    super::data::own_scope(&state, &who, &mut p.district, &mut p.school, lang).await?;
    let bad = |msg: String| AppError::BadRequest(lang, msg);
    let date = |s: &Option<String>, what: &str| -> Result<Option<NaiveDate>, AppError> {
        s.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| super::pages::parse_day(s, what, lang))
            .transpose()
    };
    let (from, to) = (date(&p.from, "from")?, date(&p.to, "to")?);
    let format = match p.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        other => return Err(bad(format!("format '{other}': csv or xlsx"))),
    };
    let layer = state.layer().await;
    // A range past the data costs no more than the data: clamped as a page's is, whichever
    // of its ends are given.
    let data = layer.data_range().await.map_err(internal(lang))?;
    let (from, to) = match (data, from, to) {
        (_, Some(f), Some(t)) if f > t => (Some(f), Some(t)),
        (Some((lo, hi)), f, t) => {
            let today = edulake_ingest::values::today(
                edulake_ingest::bureau_tz().map_err(|e| AppError::Internal(lang, e.to_string()))?,
            );
            let (f, t) = super::pages::clamp_to_data(data, today, f.unwrap_or(lo), t.unwrap_or(hi));
            (Some(f), Some(t))
        }
        (None, f, t) => (f, t),
    };
    let mut layout: Layout;
    let (name, schema, batches) = match (p.indicator.as_deref(), p.table.as_deref()) {
        (Some(indicator), None) => {
            let mut req = Request::new(indicator);
            req.level = match p.level.as_deref() {
                None => Level::School,
                Some(l) => Level::parse(l).ok_or_else(|| bad(format!("level '{l}'")))?,
            };
            req.grain = match p.grain.as_deref() {
                None => Grain::Total,
                Some(g) => Grain::parse(g).ok_or_else(|| bad(format!("grain '{g}'")))?,
            };
            req.from = from;
            req.to = to;
            req.district = p.district.clone().filter(|s| !s.is_empty());
            req.school = p.school.clone().filter(|s| !s.is_empty());
            req.by = p.by.clone().filter(|s| !s.is_empty());
            let asked = super::pages::filters_of(lang, &p.school_type, &p.grade, &p.gender)?;
            if let Ok(ind) = edulake_transform::indicators::by_name(indicator) {
                req.filters = asked.for_request(ind, req.by.as_deref()).0;
            }
            who.asks(&mut req);
            let limits = edulake_transform::bounded::Limits {
                max_result_bytes: DOWNLOAD_LIMIT,
                ..edulake_transform::bounded::Limits::web()
            };
            let (schema, batches) =
                layer
                    .export_within(&req, &limits)
                    .await
                    .map_err(|e| match e {
                        edulake_transform::TransformError::TooBig(_) => bad(format!(
                            "{} ({} MiB)",
                            t(lang, "download_too_big"),
                            DOWNLOAD_LIMIT >> 20
                        )),
                        other => internal(lang)(other),
                    })?;
            let batches = match p.notice.as_deref().filter(|n| !n.is_empty()) {
                None => batches,
                Some(n) => keep_rows(&schema, batches, "notice_id", &[n.to_string()])
                    .map_err(|e| bad(format!("notice: {e}")))?,
            };
            let batches = match p.lowest {
                Some(n) => lowest_rows(&schema, &batches, n)
                    .map_err(|e| AppError::Internal(lang, e.to_string()))?,
                None => batches,
            };
            let unit = edulake_transform::indicators::by_name(indicator)
                .map(|i| i.unit.clone())
                .unwrap_or_default();
            let mut title = vec![
                super::i18n::indicator_name(lang, indicator),
                t(lang, &format!("level_{}", req.level.name())),
                t(lang, &format!("grain_{}", req.grain.name())),
            ];
            if let Some(n) = p.lowest {
                title.push(t(lang, "lowest_n").replace("{n}", &n.to_string()));
            }
            // The filters the rows were kept by.
            if let Some(v) = &req.filters.school_type {
                title.push(super::html::school_type_word(lang, v));
            }
            if let Some(g) = req.filters.grade {
                title.push(super::html::grade_word(lang, g));
            }
            if let Some(g) = &req.filters.gender {
                title.push(t(lang, &format!("gender_{g}")));
            }
            layout = Layout {
                sheet: super::i18n::indicator_name(lang, indicator),
                title,
                percent: if unit == "rate" {
                    vec!["value".into()]
                } else {
                    Vec::new()
                },
            };
            (
                format!("{indicator}_{}_{}", req.level.name(), req.grain.name()),
                schema,
                batches,
            )
        }
        (None, Some("alerts")) => {
            let (schema, batches) = layer
                .alerts_as(
                    &who,
                    from,
                    to,
                    3,
                    edulake_transform::indicators::AlertKind::All,
                )
                .await
                .map_err(internal(lang))?;
            // Only the alerts of the district or school asked for.
            let keep: Option<Vec<String>> = match (&p.district, &p.school) {
                (_, Some(s)) if !s.is_empty() => Some(vec![s.clone()]),
                (Some(d), _) if !d.is_empty() => Some(
                    layer
                        .schools_in(&ReadScope::District(d.clone()))
                        .await
                        .map_err(internal(lang))?,
                ),
                _ => None,
            };
            let batches = match keep {
                None => batches,
                Some(codes) => keep_rows(&schema, batches, "school_code", &codes)
                    .map_err(|e| AppError::Internal(lang, e.to_string()))?,
            };
            layout = Layout::named(t(lang, "kpi_alerts"));
            ("alerts".to_string(), schema, batches)
        }
        (None, Some("missing")) => {
            let day = date(&p.day, "day")?.ok_or_else(|| bad("day: the day is needed".into()))?;
            let scope = super::data::scope_of(&p.district, &p.school);
            let of_type =
                super::pages::filters_of(lang, &p.school_type, &p.grade, &p.gender)?.school_type;
            let (schema, batches) = layer
                .schools_not_reporting(&scope, of_type.as_deref(), day)
                .await
                .map_err(internal(lang))?;
            layout = Layout::named(t(lang, "sheet_missing"));
            layout.title.push(day.to_string());
            (format!("missing_{day}"), schema, batches)
        }
        (None, Some("batches")) => {
            let scope = super::data::scope_of(&p.district, &p.school);
            let (schema, batches) = layer
                .batches_in(&scope, from.zip(to))
                .await
                .map_err(internal(lang))?;
            layout = Layout::named(t(lang, "sheet_batches"));
            ("batches".to_string(), schema, batches)
        }
        _ => {
            return Err(bad(
                "ask for an indicator= or table=alerts|batches|missing".into()
            ))
        }
    };
    // What the file holds, said in its title row: the range and the filters too.
    if let (Some(f), Some(t)) = (from, to) {
        layout.title.push(format!("{f} – {t}"));
    }
    for (key, v) in [("district", &p.district), ("school", &p.school)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            layout.title.push(format!("{}: {v}", t(lang, key)));
        }
    }
    let machine = p.headers.as_deref() == Some("machine");
    let words: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| match machine {
            true => f.name().clone(),
            false => super::i18n::column_word(lang, f.name()),
        })
        .collect();
    let mut bytes = Vec::new();
    match format {
        Format::Xlsx => output::write_xlsx(
            &schema,
            &batches,
            &output::Sheet {
                name: layout.sheet.clone(),
                title: Some(layout.title.join(" · ")),
                headers: words,
                percent: layout.percent.clone(),
            },
            &mut bytes,
        ),
        _ => {
            bytes.extend_from_slice("\u{feff}".as_bytes());
            let renamed = renamed(&schema, &batches, &words)
                .map_err(|e| AppError::Internal(lang, e.to_string()))?;
            output::write(&renamed.0, &renamed.1, Format::Csv, &mut bytes)
        }
    }
    .map_err(internal(lang))?;
    let name = match (from, to) {
        (Some(f), Some(t)) if p.table.as_deref() != Some("missing") => format!("{name}_{f}_{t}"),
        _ => name,
    };
    let (mime, ext) = match format {
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => ("text/csv; charset=utf-8", "csv"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// What a workbook says of itself beside its numbers.
#[derive(Default)]
struct Layout {
    sheet: String,
    /// The parts of its title row.
    title: Vec<String>,
    /// The columns shown as percentages.
    percent: Vec<String>,
}

impl Layout {
    fn named(sheet: String) -> Layout {
        Layout {
            title: vec![sheet.clone()],
            sheet,
            percent: Vec::new(),
        }
    }
}

/// The batches under a schema whose columns carry `words` as their names.
fn renamed(
    schema: &arrow::datatypes::Schema,
    batches: &[RecordBatch],
    words: &[String],
) -> Result<(arrow::datatypes::Schema, Vec<RecordBatch>), arrow::error::ArrowError> {
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .zip(words)
        .map(|(f, w)| f.as_ref().clone().with_name(w))
        .collect();
    let renamed = std::sync::Arc::new(arrow::datatypes::Schema::new(fields));
    let batches = batches
        .iter()
        .map(|b| RecordBatch::try_new(renamed.clone(), b.columns().to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((renamed.as_ref().clone(), batches))
}
