//! The map over the bureau's own district boundaries (`edulake boundaries import`): districts
//! shaded by their attendance rate under the schools, each a link; without a file, schools
//! alone.

use axum::http::StatusCode;

use crate::common::*;

async fn page(state: &std::sync::Arc<edulake_serve::web::AppState>, uri: &str) -> String {
    let (status, body) = cockpit_get(state, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    String::from_utf8(body).unwrap()
}

/// The districts a page's map draws: each area's link and the title it shows on hover.
fn areas(page: &str) -> Vec<(String, String)> {
    page.split("<a href=\"")
        .skip(1)
        .filter(|a| a.contains("><path class=\"area\""))
        .map(|a| {
            let href = a
                .split('"')
                .next()
                .unwrap_or_default()
                .replace("&amp;", "&");
            let title = a
                .split("<title>")
                .nth(1)
                .and_then(|t| t.split("</title>").next())
                .unwrap_or_default()
                .to_string();
            (href, title)
        })
        .collect()
}

#[tokio::test]
async fn the_bureaus_boundaries_shade_its_districts_under_the_schools() {
    let f = Fixture::new();
    crate::privacy::ingested_messy_district(&f);
    let o = f.cli(&["--quiet", "build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let registry = f
        .query("SELECT DISTINCT district FROM schools ORDER BY 1")
        .await;
    let districts: Vec<String> = registry.into_iter().map(|r| r[0].clone()).collect();
    assert!(districts.len() >= 2, "{districts:?}");

    // Before any file: the schools alone.
    let state = cockpit(&f).await;
    let overview = page(&state, "/").await;
    assert!(areas(&overview).is_empty());
    assert!(overview.contains("<circle"), "the schools are on the map");

    // A file that is not district polygons is refused, saying why in the language asked.
    let point = f.write(
        "points.geojson",
        r#"{"type":"Feature","properties":{"name":"长安区"},"geometry":{"type":"Point","coordinates":[114.5,38.0]}}"#,
    );
    let o = f.cli(&[
        "--lang",
        "zh",
        "boundaries",
        "import",
        point.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains("第 1 个要素不是多边形（Polygon 或 MultiPolygon），而是 Point"),
        "{said}"
    );
    assert!(!f.dir.path().join("lake.state/boundaries.json").exists());

    // The generated district's own boundaries (each district the cell its schools are in).
    let file = f.write(
        "districts.geojson",
        edulake_ingest::generate::boundaries_geojson(),
    );
    let o = f.cli(&["boundaries", "import", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        said.contains("boundaries of 8 district(s) imported: 长安区, 桥西区"),
        "{said}"
    );

    let state = cockpit(&f).await;
    let overview = page(&state, "/").await;
    let drawn = areas(&overview);
    assert_eq!(drawn.len(), 8, "{drawn:?}");
    // Each district of the registry is shaded by its rate and links to its page, which
    // answers; the schools are drawn over the districts.
    for d in &districts {
        let (href, title) = drawn
            .iter()
            .find(|(_, t)| t.starts_with(&format!("{d}: ")))
            .unwrap_or_else(|| panic!("{d} not drawn: {drawn:?}"));
        assert!(title.ends_with('%'), "{title}");
        assert!(href.starts_with("/district/"), "{href}");
        let (status, _) = cockpit_get(&state, href).await;
        assert_eq!(status, StatusCode::OK, "{href}");
    }
    let map = overview
        .split("class=\"map\"")
        .nth(1)
        .and_then(|m| m.split("</svg>").next())
        .expect("the map");
    assert!(
        map.rfind("class=\"area\"").unwrap() < map.find("<circle").unwrap(),
        "districts under the schools"
    );
    // A district not in the registry is drawn, grey.
    assert!(
        drawn.iter().any(|(_, t)| t.ends_with(": 未上报")),
        "{drawn:?}"
    );
    // A district's page draws its own boundary alone.
    let first = &districts[0];
    let own = page(
        &state,
        &format!("/district/{}", crate::web_client::pct(first)),
    )
    .await;
    let drawn = areas(&own);
    assert_eq!(drawn.len(), 1, "{drawn:?}");
    assert!(drawn[0].1.starts_with(&format!("{first}: ")), "{drawn:?}");
}
