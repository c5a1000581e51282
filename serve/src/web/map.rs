//! The map of a scope's schools, over its districts' boundaries when the bureau imported them
//! (`edulake boundaries import`): districts shaded by their attendance rate, schools coloured
//! by theirs, each a link to its page.

use std::collections::HashMap;

use chrono::NaiveDate;
use edulake_transform::indicators::{Grain, Level};
use edulake_transform::QueryLayer;

use super::charts::{self, MapArea, MapPoint};
use super::html::{self, enc, esc, section};
use super::i18n::t;
use super::pages::{download_href, export, read_rows, Ask, Scope};
use super::{AppError, AppState, View};

/// The map's section: `by_code` holds the schools' rates over `range`.
pub(super) async fn section_of(
    state: &AppState,
    layer: &QueryLayer,
    view: &View,
    scope: &Scope,
    range: (NaiveDate, NaiveDate),
    by_code: &HashMap<String, f64>,
) -> Result<String, AppError> {
    let lang = view.lang;
    let places = read_rows(
        lang,
        layer.school_places(scope, view.filters.school_type.as_deref()),
    )
    .await?;
    // A school without the grade filtered has no rate for a reason other than not reporting:
    // it is left off the map rather than drawn as one that did not report.
    let without_grade = view.filters.grade.is_some();
    let points: Vec<MapPoint> = (0..places.len())
        .filter(|r| !without_grade || by_code.contains_key(&places.text(*r, "school_code")))
        .filter_map(|r| {
            let code = places.text(r, "school_code");
            Some(MapPoint {
                name: places.text(r, "school_name"),
                href: view.link(&format!("/school/{}", enc(&code))),
                lat: places.num(r, "latitude")?,
                lon: places.num(r, "longitude")?,
                rate: by_code.get(&code).copied(),
            })
        })
        .collect();
    // The districts drawn: every one on the bureau's map, its own on a district's.
    let boundaries = layer
        .boundaries(state.state.root())
        .map_err(|e| AppError::Internal(lang, e.to_string()))?
        .unwrap_or_default();
    let shown: Vec<&edulake_schemas::geo::District> = match scope {
        Scope::Bureau => boundaries.districts.iter().collect(),
        Scope::District(d) => boundaries.district(d).into_iter().collect(),
        Scope::School(_) => Vec::new(),
    };
    let mut district_rate: HashMap<String, f64> = HashMap::new();
    if !shown.is_empty() {
        let rows = export(
            layer,
            view,
            scope,
            Ask {
                indicator: "attendance_rate",
                level: Level::District,
                grain: Grain::Total,
                range,
                by: None,
            },
        )
        .await?;
        district_rate = (0..rows.len())
            .filter_map(|r| Some((rows.text(r, "district"), rows.num(r, "value")?)))
            .collect();
    }
    let areas: Vec<MapArea> = shown
        .iter()
        .map(|d| MapArea {
            name: d.name.clone(),
            href: view.link(&format!("/district/{}", enc(&d.name))),
            rate: district_rate.get(&d.name).copied(),
            polygons: &d.polygons,
        })
        .collect();
    let content = if points.is_empty() && areas.is_empty() {
        html::empty(lang, "map_none")
    } else {
        format!(
            "{}<p class=\"hint\">{}</p>",
            charts::map(&points, &areas, &t(lang, "map"), lang),
            esc(&t(
                lang,
                if areas.is_empty() {
                    "map_grey"
                } else {
                    "map_districts"
                }
            ))
        )
    };
    let href = download_href(
        view,
        scope,
        "attendance_rate",
        Level::School,
        Grain::Total,
        range,
    );
    Ok(section(lang, &t(lang, "map"), &content, Some(&href)))
}
