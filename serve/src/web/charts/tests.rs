//! The charts on tricky data: one value, all equal, zero, 100 %, a count of 1. Each is
//! checked for what a reader needs (every value inside the axis, whole-number ticks for
//! counts, a note when the axis does not start at zero, a value on every point) and against
//! its golden file in `tests/golden/charts/` (`EDULAKE_GOLDEN=update` writes them anew).

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn golden(name: &str, svg: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden/charts")
        .join(format!("{name}.svg"));
    if std::env::var("EDULAKE_GOLDEN").as_deref() == Ok("update") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with EDULAKE_GOLDEN=update",
            path.display()
        )
    });
    assert_eq!(svg, want, "{name} differs from {}", path.display());
}

/// The numbers of `attr="…"` attributes in an SVG.
fn attrs(svg: &str, attr: &str) -> Vec<f64> {
    svg.split(&format!(" {attr}=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

fn tick_labels(svg: &str) -> Vec<String> {
    svg.split("class=\"tick\">")
        .skip(1)
        .chain(svg.split("class=\"tick alt\">").skip(1))
        .filter_map(|s| s.split('<').next().map(String::from))
        .collect()
}

#[test]
fn axes_hold_every_value_and_say_where_they_start() {
    let cases: [(&[f64], Unit); 9] = [
        (&[0.975], Unit::Rate),
        (&[0.975, 0.977, 0.976], Unit::Rate),
        (&[1.0, 1.0], Unit::Rate),
        (&[0.0, 0.0], Unit::Rate),
        (&[0.0, 0.4, 1.0], Unit::Rate),
        (&[1.0], Unit::Number),
        (&[0.0, 0.0, 0.0], Unit::Number),
        (&[3.0, 7.0, 12.0], Unit::Number),
        (&[2.5, 2.5], Unit::Number),
    ];
    for (values, unit) in cases {
        let a = Axis::fit(values, unit);
        assert!(a.lo < a.hi && a.step > 0.0, "{values:?}: {a:?}");
        for v in values {
            assert!(a.lo <= *v && *v <= a.hi, "{values:?}: {v} outside {a:?}");
        }
        let ticks = a.ticks();
        assert!((2..=12).contains(&ticks.len()), "{values:?}: {ticks:?}");
        if unit == Unit::Rate {
            assert!(a.lo >= 0.0 && a.hi <= 1.0 + 1e-9, "{values:?}: {a:?}");
        }
        if unit == Unit::Number && values.iter().all(|v| v.fract() == 0.0) {
            assert!(a.lo == 0.0, "a count starts at zero: {a:?}");
            assert!(
                ticks.iter().all(|t| t.fract() == 0.0),
                "{values:?}: {ticks:?}"
            );
        }
        // Tick labels are distinct: 97.5 % and 97.7 % are told apart.
        let labels: Vec<String> = ticks.iter().map(|t| a.label(*t)).collect();
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(labels, unique, "{values:?}");
    }
    let close = Axis::fit(&[0.975, 0.977], Unit::Rate);
    assert!(close.lo > 0.9 && close.hi - close.lo < 0.05, "{close:?}");
    assert!(
        close.baseline_note(Lang::Zh).unwrap().contains("97"),
        "{close:?}"
    );
    assert_eq!(Axis::fit(&[0.2, 0.9], Unit::Rate).lo, 0.0);
    // Steps of 2.5 points are labelled with their half points, not rounded away.
    let quarter = Axis::fit(&[0.91, 1.0], Unit::Rate);
    let labels: Vec<String> = quarter.ticks().iter().map(|t| quarter.label(*t)).collect();
    assert!(
        labels.contains(&"92.5%".to_string()),
        "{quarter:?} {labels:?}"
    );
    assert_eq!(Axis::fit(&[1.0], Unit::Number).ticks(), vec![0.0, 1.0]);
}

#[test]
fn a_line_draws_the_whole_range_with_its_values_on_hover() {
    let week = (d("2026-11-23"), d("2026-11-29"));
    let points = [
        (d("2026-11-23"), 0.975),
        (d("2026-11-24"), 0.977),
        (d("2026-11-26"), 0.969),
        (d("2026-10-01"), 0.5),
    ];
    let svg = line(&points, week, Unit::Rate, "出勤率", Lang::Zh);
    // The day outside the range is not drawn; the gap on the 25th breaks the line.
    assert_eq!(svg.matches("<title>").count(), 3, "{svg}");
    assert!(svg.contains("<title>2026-11-24: 97.7%</title>"), "{svg}");
    assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
    // A weekend between two school days is no gap; a missing weekday is.
    assert!(!missing_weekday(d("2026-11-27"), d("2026-11-30")));
    assert!(missing_weekday(d("2026-11-24"), d("2026-11-26")));
    // Seven days of labels, every other one hidden on a phone.
    let labels = tick_labels(&svg);
    for day in ["11-23", "11-29"] {
        assert!(labels.iter().any(|l| l == day), "{labels:?}");
    }
    assert!(
        svg.contains("刻度从 96") && svg.contains("日期") && svg.contains("百分比"),
        "{svg}"
    );
    assert!(attrs(&svg, "font-size").iter().all(|s| *s >= 12.0));
    golden("line-week", &svg);

    let one = line(
        &[(d("2026-11-23"), 1.0)],
        (d("2026-11-23"), d("2026-11-23")),
        Unit::Rate,
        "x",
        Lang::En,
    );
    assert!(one.contains("<title>2026-11-23: 100.0%</title>") && !one.contains("<polyline"));
    assert!(attrs(&one, "cx")
        .iter()
        .all(|x| x.is_finite() && *x > 0.0 && *x < W));
    golden("line-one-day-100", &one);

    let counts = line(
        &[
            (d("2026-11-23"), 0.0),
            (d("2026-11-24"), 1.0),
            (d("2026-11-25"), 0.0),
        ],
        (d("2026-11-23"), d("2026-11-25")),
        Unit::Number,
        "fever",
        Lang::En,
    );
    let labels = tick_labels(&counts);
    assert!(
        labels.contains(&"0".to_string()) && labels.contains(&"1".to_string()),
        "{labels:?}"
    );
    assert!(!labels.iter().any(|l| l.contains('.')), "{labels:?}");
    assert!(!counts.contains("not 0"), "{counts}");
    golden("line-count-of-one", &counts);
    assert!(line(&[], week, Unit::Rate, "x", Lang::Zh).is_empty());
}

#[test]
fn bars_keep_their_values_inside_the_drawing() {
    let items = |values: &[(&str, f64)]| -> Vec<Bar> {
        values
            .iter()
            .map(|(n, v)| Bar {
                name: n.to_string(),
                value: *v,
                href: Some(format!("/school/{n}")),
            })
            .collect()
    };
    for (name, values) in [
        (
            "bars-close",
            &[("长安区", 0.975), ("桥西区", 0.977), ("新华区 <A&B>", 1.0)][..],
        ),
        ("bars-all-equal", &[("一小", 0.9), ("二小", 0.9)]),
        ("bars-zero", &[("一小", 0.0), ("二小", 0.0)]),
    ] {
        let svg = bars(&items(values), Unit::Rate, "出勤率", Lang::Zh);
        assert_eq!(svg.matches("class=\"bar\"").count(), values.len(), "{svg}");
        assert_eq!(svg.matches("<title>").count(), values.len());
        // No bar or value runs past the drawing's right edge (its value is written after it).
        for x in attrs(&svg, "x") {
            assert!((0.0..=W - 60.0).contains(&x), "{name}: x={x}");
        }
        for w in attrs(&svg.replace("class=\"hit\" x=\"0\"", ""), "width") {
            assert!(w > 0.0 && (w <= W - 90.0 || w == W), "{name}: width={w}");
        }
        assert!(svg.contains("href=\"/school/长安区\"") || !name.ends_with("close"));
        golden(name, &svg);
    }
    let close = bars(
        &items(&[("a", 0.975), ("b", 0.977)]),
        Unit::Rate,
        "x",
        Lang::En,
    );
    let widths: Vec<f64> = attrs(&close, "width")
        .into_iter()
        .filter(|w| *w < W)
        .collect();
    assert!(
        widths[1] - widths[0] > 10.0,
        "97.5 % and 97.7 % look different: {widths:?}"
    );
    assert!(close.contains("not 0"));
    assert!(close.contains("&lt;") || !close.contains('&'));
}

#[test]
fn the_map_has_a_legend_and_links() {
    let m = map(
        &[
            MapPoint {
                name: "一小 <A&B>".into(),
                href: "/school/S1".into(),
                lat: 38.0,
                lon: 114.5,
                rate: Some(0.9),
            },
            MapPoint {
                name: "二小".into(),
                href: "/school/S2".into(),
                lat: 38.1,
                lon: 114.6,
                rate: None,
            },
        ],
        &[],
        "map",
        Lang::Zh,
    );
    assert!(m.contains("href=\"/school/S1\"") && m.contains("一小 &lt;A&amp;B&gt;: 90.0%"));
    assert!(m.contains("<title>二小: 未上报</title>") && m.contains("linearGradient"));
    golden("map-two-schools", &m);
}

#[test]
fn districts_are_drawn_under_the_schools_shaded_by_their_rate() {
    let square = vec![vec![vec![
        (114.4, 38.0),
        (114.5, 38.0),
        (114.5, 38.1),
        (114.4, 38.1),
        (114.4, 38.0),
    ]]];
    let east = vec![vec![vec![
        (114.5, 38.0),
        (114.6, 38.0),
        (114.6, 38.1),
        (114.5, 38.1),
        (114.5, 38.0),
    ]]];
    let areas = [
        MapArea {
            name: "桥西区".into(),
            href: "/district/桥西区".into(),
            rate: Some(0.9),
            polygons: &square,
        },
        MapArea {
            name: "长安区".into(),
            href: "/district/长安区".into(),
            rate: None,
            polygons: &east,
        },
    ];
    let school = MapPoint {
        name: "一小".into(),
        href: "/school/S1".into(),
        lat: 38.05,
        lon: 114.45,
        rate: Some(0.95),
    };
    let m = map(std::slice::from_ref(&school), &areas, "map", Lang::Zh);
    // Each district a link with its rate, under the school (drawn after it).
    assert!(
        m.contains("<a href=\"/district/桥西区\"><path class=\"area\""),
        "{m}"
    );
    assert!(m.contains("<title>桥西区: 90.0%</title>"), "{m}");
    assert!(m.contains("<title>长安区: 未上报</title>"), "{m}");
    assert!(m.find("class=\"area\"").unwrap() < m.find("<circle").unwrap());
    // The lower district red, the grey of none for the one without a rate.
    assert!(m.contains("fill=\"rgb(220,38,38)\" fill-opacity"), "{m}");
    assert!(m.contains("fill=\"#94a3b8\" fill-opacity"), "{m}");
    // A degree east is drawn shorter than a degree north at 38°: the squares are taller
    // than wide.
    let xs: Vec<f64> = m
        .split("d=\"M")
        .nth(1)
        .unwrap()
        .split('Z')
        .next()
        .unwrap()
        .split(['L', ' '])
        .filter_map(|v| v.parse().ok())
        .collect();
    let (x0, y0, x1, y2) = (xs[0], xs[1], xs[2], xs[5]);
    assert!((y0 - y2).abs() > (x1 - x0).abs() * 1.2, "{xs:?}");
    assert!(m.contains(">桥西区</text>"), "{m}");
    golden("map-districts", &m);
}
