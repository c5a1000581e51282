//! Charts drawn on the server as SVG: trends and comparisons with plotters, the school map by
//! hand (its points are links, which plotters does not make).

use chrono::NaiveDate;
use plotters::prelude::*;

use super::html::esc;

const BLUE: RGBColor = RGBColor(37, 99, 235);
const GRID: RGBColor = RGBColor(226, 232, 240);

/// How a value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share, shown as a percentage.
    Rate,
    /// A count or other number.
    Number,
}

impl Unit {
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Rate => format!("{:.1}%", v * 100.0),
            Unit::Number if v.fract() == 0.0 => format!("{v:.0}"),
            Unit::Number => format!("{v:.2}"),
        }
    }
}

fn svg_error(e: impl std::fmt::Display) -> String {
    format!(
        "<p class=\"chart-error\">chart: {}</p>",
        esc(&e.to_string())
    )
}

/// A line over days; gaps (days without a value) are left out. An empty series draws nothing.
pub fn line(points: &[(NaiveDate, f64)], unit: Unit, label: &str) -> String {
    if points.is_empty() {
        return String::new();
    }
    let first = points[0].0;
    let x = |d: NaiveDate| (d - first).num_days() as i32;
    let last = x(points[points.len() - 1].0).max(1);
    let (lo, hi) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), (_, v)| {
            (lo.min(*v), hi.max(*v))
        });
    let pad = ((hi - lo) * 0.15).max(if unit == Unit::Rate { 0.01 } else { 1.0 });
    let (y0, y1) = match unit {
        Unit::Rate => ((lo - pad).max(0.0), (hi + pad).min(1.0)),
        Unit::Number => ((lo - pad).max(0.0), hi + pad),
    };
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (480, 240)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .build_cartesian_2d(0..last, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style(("sans-serif", 14))
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|v| {
                (first + chrono::Duration::days(*v as i64))
                    .format("%m-%d")
                    .to_string()
            })
            .y_label_formatter(&|v| unit.show(*v))
            .draw()?;
        let series: Vec<(i32, f64)> = points.iter().map(|(d, v)| (x(*d), *v)).collect();
        chart.draw_series(LineSeries::new(series.clone(), BLUE.stroke_width(2)))?;
        chart.draw_series(series.iter().map(|p| Circle::new(*p, 2, BLUE.filled())))?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => wrap(svg, label),
        Err(e) => svg_error(e),
    }
}

/// Horizontal bars, one per label, largest value scale from zero.
pub fn bars(items: &[(String, f64)], unit: Unit, label: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let n = items.len();
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    let x1 = match unit {
        Unit::Rate => 1.0,
        Unit::Number => (max * 1.1).max(1.0),
    };
    let height = (40 + 22 * n as u32).min(900);
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..x1, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .label_style(("sans-serif", 14))
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => {
                    items.get(*i).map(|(l, _)| l.clone()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_label_formatter(&|v| unit.show(*v))
            .draw()?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (*v, SegmentValue::Exact(i + 1)),
                ],
                BLUE.filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        }))?;
        // Each bar's value written on it (inside a long bar, after a short one).
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let inside = *v > x1 * 0.75;
            let (at, colour) = if inside {
                (x1 * 0.01, WHITE)
            } else {
                (*v, BLACK)
            };
            EmptyElement::at((at, SegmentValue::CenterOf(i)))
                + Text::new(
                    unit.show(*v),
                    (4, -8),
                    ("sans-serif", 13).into_font().color(&colour),
                )
        }))?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => wrap(svg, label),
        Err(e) => svg_error(e),
    }
}

/// One school on the map.
pub struct MapPoint {
    pub name: String,
    pub href: String,
    pub lat: f64,
    pub lon: f64,
    /// Its attendance rate, if it reported in the period.
    pub rate: Option<f64>,
}

/// Schools placed by latitude and longitude, coloured from red (low attendance) to green,
/// each a link to its page.
pub fn map(points: &[MapPoint], label: &str) -> String {
    let placed: Vec<&MapPoint> = points
        .iter()
        .filter(|p| p.lat.is_finite() && p.lon.is_finite())
        .collect();
    if placed.is_empty() {
        return String::new();
    }
    let (w, h, m) = (640.0, 420.0, 16.0);
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &placed {
        lat0 = lat0.min(p.lat);
        lat1 = lat1.max(p.lat);
        lon0 = lon0.min(p.lon);
        lon1 = lon1.max(p.lon);
    }
    let span_lat = (lat1 - lat0).max(1e-6);
    let span_lon = (lon1 - lon0).max(1e-6);
    let rates: Vec<f64> = placed.iter().filter_map(|p| p.rate).collect();
    let (r0, r1) = rates
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(*r), b.max(*r)));
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" class=\"map\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#f8fafc\"/>",
        esc(label)
    );
    for p in placed {
        let x = m + (p.lon - lon0) / span_lon * (w - 2.0 * m);
        let y = h - m - (p.lat - lat0) / span_lat * (h - 2.0 * m);
        let (fill, shown) = match p.rate {
            Some(r) => {
                let t = if r1 > r0 { (r - r0) / (r1 - r0) } else { 1.0 };
                let red = (220.0 * (1.0 - t) + 22.0 * t) as u8;
                let green = (38.0 * (1.0 - t) + 163.0 * t) as u8;
                let blue = (38.0 * (1.0 - t) + 74.0 * t) as u8;
                (format!("rgb({red},{green},{blue})"), Unit::Rate.show(r))
            }
            None => ("#94a3b8".to_string(), "—".to_string()),
        };
        out.push_str(&format!(
            "<a href=\"{}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"{fill}\" stroke=\"#fff\"><title>{} {}</title></circle></a>",
            esc(&p.href),
            esc(&p.name),
            shown
        ));
    }
    out.push_str("</svg>");
    out
}

fn wrap(svg: String, label: &str) -> String {
    // plotters writes a fixed size; a viewBox lets the chart shrink to a phone's width.
    let svg = svg.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMinYMin meet\" ",
            esc(label)
        ),
        1,
    );
    format!("<div class=\"chart\">{svg}</div>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let l = line(
            &[(d("2026-09-01"), 0.95), (d("2026-09-02"), 0.97)],
            Unit::Rate,
            "出勤率",
        );
        assert!(
            l.contains("<svg") && l.contains("aria-label=\"出勤率\""),
            "{l}"
        );
        assert!(l.contains("09-01"));
        let b = bars(
            &[("长安区".into(), 0.9), ("桥西区".into(), 0.8)],
            Unit::Rate,
            "by district",
        );
        assert!(b.contains("长安区") && b.contains("<rect"));
        let m = map(
            &[MapPoint {
                name: "一小 <A&B>".into(),
                href: "/school/S1".into(),
                lat: 38.0,
                lon: 114.5,
                rate: Some(0.9),
            }],
            "map",
        );
        assert!(m.contains("href=\"/school/S1\"") && m.contains("一小 &lt;A&amp;B&gt;"));
        assert!(line(&[], Unit::Rate, "x").is_empty());
    }
}
