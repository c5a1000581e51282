//! District boundaries a bureau supplies once (GeoJSON), as the cockpit's map draws them:
//! each district's name and its polygons, kept in the state directory ([`BOUNDARIES_FILE`]).

use serde::{Deserialize, Serialize};

use crate::msg;
use crate::words::Msg;

/// Where the state directory keeps the boundaries imported.
pub const BOUNDARIES_FILE: &str = "boundaries.json";

/// The most points the boundaries of a bureau may hold (a county-level map is a few thousand;
/// a file of millions is a survey's, to simplify first).
pub const MAX_POINTS: usize = 200_000;

/// The properties a district's name is looked for in, in order, when none is named.
pub const NAME_PROPERTIES: &[&str] = &["district", "区县", "name", "NAME", "名称", "区县名称"];

/// A ring: (longitude, latitude) points, the last joined to the first.
pub type Ring = Vec<(f64, f64)>;

/// One district: its name as the school registry writes it, and its polygons (each an outer
/// ring, then its holes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub name: String,
    pub polygons: Vec<Vec<Ring>>,
}

/// Every district's boundary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Boundaries {
    pub districts: Vec<District>,
}

impl Boundaries {
    /// Reads a GeoJSON FeatureCollection (or one Feature) of Polygons and MultiPolygons, each
    /// named by the property `name_property`, else the first of [`NAME_PROPERTIES`] it has.
    /// Features of the same name are one district.
    pub fn from_geojson(text: &str, name_property: Option<&str>) -> Result<Boundaries, Msg> {
        let doc: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| msg!("geo_not_json", detail = e.to_string()))?;
        let features: Vec<&serde_json::Value> = match doc.get("type").and_then(|t| t.as_str()) {
            Some("FeatureCollection") => doc
                .get("features")
                .and_then(|f| f.as_array())
                .map(|f| f.iter().collect())
                .unwrap_or_default(),
            Some("Feature") => vec![&doc],
            other => {
                return Err(msg!(
                    "geo_not_features",
                    found = other.unwrap_or("?").to_string()
                ))
            }
        };
        let mut out = Boundaries::default();
        let mut points = 0usize;
        for (i, f) in features.iter().enumerate() {
            let number = i + 1;
            let props = f.get("properties");
            let name = match name_property {
                Some(p) => props.and_then(|x| x.get(p)),
                None => NAME_PROPERTIES
                    .iter()
                    .find_map(|p| props.and_then(|x| x.get(*p))),
            };
            let name = match name {
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(msg!(
                        "geo_no_name",
                        feature = number,
                        properties = name_property
                            .map(String::from)
                            .unwrap_or_else(|| NAME_PROPERTIES.join(", "))
                    ))
                }
            };
            let geometry = f.get("geometry").unwrap_or(&serde_json::Value::Null);
            let coords = geometry.get("coordinates");
            let polygons: Vec<Vec<Ring>> = match geometry.get("type").and_then(|t| t.as_str()) {
                Some("Polygon") => vec![polygon(coords, number)?],
                Some("MultiPolygon") => coords
                    .and_then(|c| c.as_array())
                    .ok_or_else(|| msg!("geo_bad_coordinates", feature = number))?
                    .iter()
                    .map(|p| polygon(Some(p), number))
                    .collect::<Result<_, _>>()?,
                other => {
                    return Err(msg!(
                        "geo_not_polygon",
                        feature = number,
                        found = other.unwrap_or("?").to_string()
                    ))
                }
            };
            points += polygons.iter().flatten().map(Vec::len).sum::<usize>();
            if points > MAX_POINTS {
                return Err(msg!("geo_too_many_points", limit = MAX_POINTS));
            }
            match out.districts.iter_mut().find(|d| d.name == name) {
                Some(d) => d.polygons.extend(polygons),
                None => out.districts.push(District { name, polygons }),
            }
        }
        if out.districts.is_empty() {
            return Err(msg!("geo_empty"));
        }
        Ok(out)
    }

    /// The district of a name, if it has a boundary.
    pub fn district(&self, name: &str) -> Option<&District> {
        self.districts.iter().find(|d| d.name == name)
    }
}

/// A polygon's rings, each of at least three points within longitude −180…180 and latitude
/// −90…90.
fn polygon(coords: Option<&serde_json::Value>, feature: usize) -> Result<Vec<Ring>, Msg> {
    let bad = || msg!("geo_bad_coordinates", feature = feature);
    let rings = coords.and_then(|c| c.as_array()).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(rings.len());
    for ring in rings {
        let pts = ring.as_array().ok_or_else(bad)?;
        let mut r: Ring = Vec::with_capacity(pts.len());
        for p in pts {
            let xy = p.as_array().ok_or_else(bad)?;
            let (lon, lat) = match (
                xy.first().and_then(|v| v.as_f64()),
                xy.get(1).and_then(|v| v.as_f64()),
            ) {
                (Some(lon), Some(lat)) => (lon, lat),
                _ => return Err(bad()),
            };
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(msg!(
                    "geo_out_of_range",
                    feature = feature,
                    point = format!("[{lon}, {lat}]")
                ));
            }
            r.push((lon, lat));
        }
        if r.len() < 3 {
            return Err(bad());
        }
        out.push(r);
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"name":"长安区","adcode":130102},
         "geometry":{"type":"Polygon","coordinates":[[[114.5,38.0],[114.6,38.0],[114.6,38.1],[114.5,38.0]]]}},
        {"type":"Feature","properties":{"name":"桥西区"},
         "geometry":{"type":"MultiPolygon","coordinates":[[[[114.4,38.0],[114.5,38.0],[114.5,38.1],[114.4,38.0]]],
                                                          [[[114.3,38.0],[114.35,38.0],[114.35,38.05],[114.3,38.0]]]]}}]}"#;

    #[test]
    fn districts_are_read_by_name_with_their_polygons() {
        let b = Boundaries::from_geojson(TWO, None).unwrap();
        assert_eq!(b.districts.len(), 2);
        assert_eq!(b.district("长安区").unwrap().polygons.len(), 1);
        assert_eq!(b.district("桥西区").unwrap().polygons.len(), 2);
        // A property named by the bureau.
        let b = Boundaries::from_geojson(TWO, Some("adcode")).unwrap_err();
        assert!(b.to_string().contains("feature 2"), "{b}");
    }

    #[test]
    fn what_is_not_a_boundary_is_refused_with_where() {
        let e = Boundaries::from_geojson("[1,2]", None).unwrap_err();
        assert!(e.to_string().contains("FeatureCollection"), "{e}");
        let e = Boundaries::from_geojson(
            r#"{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Point","coordinates":[1,2]}}"#,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("Point"), "{e}");
        let e = Boundaries::from_geojson(
            r#"{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[500,1],[1,1],[1,2]]]}}"#,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("[500, 1]"), "{e}");
    }
}
