//! Charts drawn on the server as SVG, by hand: every point and bar carries its value as a
//! `<title>` (shown on hover, read by screen readers), axes are scaled to the data with a note
//! when they do not start at zero, counts get whole-number ticks, and the style sheet
//! (`html::STYLE`) enlarges the text and drops every other date label on a phone, where the
//! chart is drawn smaller.
//!
//! Layout: [`Unit`] and [`Axis`] (the scale of a value axis), [`line`] (a value over the
//! days of a range), [`bars`] (one bar per name), [`map`] (schools by latitude and longitude,
//! coloured by their rate, with its legend).

use chrono::NaiveDate;

use super::html::esc;
use super::i18n::{t, Lang};

const BLUE: &str = "#2563eb";
const GRID: &str = "#e2e8f0";
const AXIS: &str = "#64748b";
const INK: &str = "#1e293b";
/// The drawing's width in its own units; it is scaled to the page's width.
const W: f64 = 600.0;

/// How a value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share, shown as a percentage.
    Rate,
    /// A count of people or another number.
    Number,
    /// A count of schools.
    Schools,
}

impl Unit {
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Rate => format!("{:.1}%", v * 100.0),
            Unit::Number | Unit::Schools if v.fract() == 0.0 => format!("{v:.0}"),
            Unit::Number | Unit::Schools => format!("{v:.2}"),
        }
    }

    /// The value axis's title.
    fn title(self, lang: Lang) -> String {
        match self {
            Unit::Rate => t(lang, "axis_percent"),
            Unit::Number => t(lang, "axis_people"),
            Unit::Schools => t(lang, "axis_schools"),
        }
    }
}

/// A value axis: from `lo` to `hi` in steps of `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    unit: Unit,
}

impl Axis {
    /// An axis holding every value, with about five round steps. Counts start at zero and
    /// step by whole numbers; a rate starts at zero unless its values lie so far above it that
    /// their differences would not show (then the chart says where it starts); rates stay
    /// within 0–100 %.
    pub fn fit(values: &[f64], unit: Unit) -> Axis {
        let finite = || values.iter().copied().filter(|v| v.is_finite());
        let lo = finite().fold(f64::INFINITY, f64::min);
        let hi = finite().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) };
        let whole = unit != Unit::Rate && finite().all(|v| v.fract() == 0.0);
        let (mut lo, mut hi) = match unit {
            Unit::Number | Unit::Schools => (lo.min(0.0), hi.max(if whole { 1.0 } else { 0.0 })),
            Unit::Rate => (lo.max(0.0), hi.min(1.0)),
        };
        if hi - lo < 1e-9 {
            // All equal: a band around the value (a rate of 100 % is drawn just below it).
            let half = if unit == Unit::Rate {
                0.01
            } else {
                hi.abs().max(1.0) * 0.1
            };
            (lo, hi) = (lo - half, hi + half);
            if unit == Unit::Rate && hi > 1.0 {
                (lo, hi) = (lo - (hi - 1.0), 1.0);
            }
        }
        let mut step = nice((hi - lo) / 4.0);
        if whole {
            step = step.max(1.0).round();
        }
        let mut a = (lo / step).floor() * step;
        let b = (hi / step).ceil() * step;
        // Starting at zero costs little when the values' spread is as large as their distance
        // from it.
        if a > 0.0 && a <= b - a {
            a = 0.0;
            step = nice(b / 4.0);
        }
        let (a, b) = match unit {
            Unit::Rate => (a.max(0.0), ((hi / step).ceil() * step).min(1.0)),
            Unit::Number | Unit::Schools => (a, (hi / step).ceil() * step),
        };
        Axis {
            lo: a,
            hi: b.max(a + step),
            step,
            unit,
        }
    }

    /// The ticks from `lo` to `hi`.
    pub fn ticks(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as usize;
        (0..=n).map(|i| self.lo + i as f64 * self.step).collect()
    }

    /// A tick's label: as many decimals as the step needs.
    pub fn label(&self, v: f64) -> String {
        match self.unit {
            Unit::Rate => {
                // As many decimals as the step has (2.5 points needs one).
                let pts = self.step * 100.0;
                let whole = |x: f64| (x - x.round()).abs() < 1e-6;
                let decimals = if whole(pts) {
                    0
                } else if whole(pts * 10.0) {
                    1
                } else {
                    2
                };
                format!("{:.*}%", decimals, v * 100.0)
            }
            Unit::Number | Unit::Schools if self.step.fract() == 0.0 => format!("{v:.0}"),
            Unit::Number | Unit::Schools => format!("{v:.1}"),
        }
    }

    /// Where a value falls between `from` (the axis's start) and `to` (its end), in drawing
    /// units.
    fn at(&self, v: f64, from: f64, to: f64) -> f64 {
        from + (v.clamp(self.lo, self.hi) - self.lo) / (self.hi - self.lo) * (to - from)
    }

    /// The note a chart carries when its axis does not start at zero.
    fn baseline_note(&self, lang: Lang) -> Option<String> {
        (self.lo > 0.0).then(|| t(lang, "axis_from").replace("{x}", &self.label(self.lo)))
    }
}

/// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
fn nice(raw: f64) -> f64 {
    if raw.is_nan() || raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

fn text(x: f64, y: f64, anchor: &str, class: &str, body: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" class=\"{class}\">{}</text>",
        esc(body)
    )
}

fn open(height: f64, label: &str) -> String {
    format!(
        "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height}\" \
         role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"14\" fill=\"{INK}\">",
        esc(label)
    )
}

/// A line over every day of `range`; days without a value are gaps. An empty series draws
/// nothing.
pub fn line(
    points: &[(NaiveDate, f64)],
    range: (NaiveDate, NaiveDate),
    unit: Unit,
    label: &str,
    lang: Lang,
) -> String {
    let points: Vec<(NaiveDate, f64)> = points
        .iter()
        .copied()
        .filter(|(d, v)| *d >= range.0 && *d <= range.1 && v.is_finite())
        .collect();
    if points.is_empty() {
        return String::new();
    }
    let values: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
    let axis = Axis::fit(&values, unit);
    let (h, left, right, top, bottom) = (300.0, 86.0, 18.0, 30.0, 62.0);
    let days = (range.1 - range.0).num_days().max(0);
    let x = |d: NaiveDate| {
        let i = (d - range.0).num_days() as f64;
        if days == 0 {
            (left + W - right) / 2.0
        } else {
            left + i / days as f64 * (W - right - left)
        }
    };
    let y = |v: f64| axis.at(v, h - bottom, top);
    let mut out = open(h, label);
    for tick in axis.ticks() {
        let ty = y(tick);
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"{GRID}\"/>",
            W - right
        ));
        out.push_str(&text(
            left - 8.0,
            ty + 5.0,
            "end",
            "tick",
            &axis.label(tick),
        ));
    }
    // Date labels: about six, every other one dropped on a phone.
    let every = (days as usize / 6 + 1).max(1);
    for (n, i) in (0..=days as usize).step_by(every).enumerate() {
        let d = range.0 + chrono::Duration::days(i as i64);
        let class = if n % 2 == 1 { "tick alt" } else { "tick" };
        // The labels at the ends stay inside the drawing.
        let anchor = match i {
            0 if days > 0 => "start",
            i if i as i64 == days && days > 0 => "end",
            _ => "middle",
        };
        out.push_str(&text(
            x(d),
            h - bottom + 22.0,
            anchor,
            class,
            &d.format("%m-%d").to_string(),
        ));
    }
    out.push_str(&format!(
        "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{b:.1}\" y2=\"{b:.1}\" stroke=\"{AXIS}\"/>",
        W - right,
        b = h - bottom
    ));
    out.push_str(&text(
        (left + W - right) / 2.0,
        h - 8.0,
        "middle",
        "axis-title",
        &t(lang, "axis_date"),
    ));
    out.push_str(&format!(
        "<text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\" class=\"axis-title y-title\">{}</text>",
        (top + h - bottom) / 2.0,
        esc(&unit.title(lang))
    ));
    if let Some(note) = axis.baseline_note(lang) {
        out.push_str(&text(left, 18.0, "start", "note", &note));
    }
    // The line, broken where a weekday has no value (a weekend between two school days is
    // no gap).
    let mut run: Vec<String> = Vec::new();
    let mut last: Option<NaiveDate> = None;
    let flush = |run: &mut Vec<String>, out: &mut String| {
        if run.len() > 1 {
            out.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{BLUE}\" stroke-width=\"2.5\" points=\"{}\"/>",
                run.join(" ")
            ));
        }
        run.clear();
    };
    for (d, v) in &points {
        if last.is_some_and(|l| missing_weekday(l, *d)) {
            flush(&mut run, &mut out);
        }
        run.push(format!("{:.1},{:.1}", x(*d), y(*v)));
        last = Some(*d);
    }
    flush(&mut run, &mut out);
    for (d, v) in &points {
        out.push_str(&format!(
            "<g class=\"point\"><circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3.5\" fill=\"{BLUE}\"/>\
             <circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"11\" fill=\"transparent\"><title>{}: {}</title></circle></g>",
            d.format("%Y-%m-%d"),
            unit.show(*v),
            cx = x(*d),
            cy = y(*v),
        ));
    }
    out.push_str("</svg></div>");
    out
}

/// Whether a weekday lies strictly between two days.
fn missing_weekday(a: NaiveDate, b: NaiveDate) -> bool {
    use chrono::Datelike;
    a.iter_days()
        .skip(1)
        .take_while(|d| *d < b)
        .any(|d| d.weekday().number_from_monday() <= 5)
}

/// One bar per name, its name above it and its value after it; each bar links where `href`
/// says, if anywhere.
pub struct Bar {
    pub name: String,
    pub value: f64,
    pub href: Option<String>,
}

/// Horizontal bars on an axis fitted to the values (with a note when it does not start at
/// zero), in the order given.
pub fn bars(items: &[Bar], unit: Unit, label: &str, lang: Lang) -> String {
    let items: Vec<&Bar> = items.iter().filter(|b| b.value.is_finite()).collect();
    if items.is_empty() {
        return String::new();
    }
    let values: Vec<f64> = items.iter().map(|b| b.value).collect();
    let axis = Axis::fit(&values, unit);
    let (left, right, top, row) = (8.0, 84.0, 34.0, 44.0);
    let h = top + row * items.len() as f64 + 40.0;
    let x = |v: f64| axis.at(v, left, W - right);
    let mut out = open(h, label);
    let bottom = top + row * items.len() as f64;
    let ticks = axis.ticks();
    for (i, tick) in ticks.iter().enumerate() {
        let tx = x(*tick);
        out.push_str(&format!(
            "<line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{top}\" y2=\"{bottom:.1}\" stroke=\"{GRID}\"/>"
        ));
        let (anchor, class) = match i {
            0 => ("start", "tick"),
            i if i + 1 == ticks.len() => ("end", "tick"),
            i if i % 2 == 1 => ("middle", "tick alt"),
            _ => ("middle", "tick"),
        };
        out.push_str(&text(tx, bottom + 20.0, anchor, class, &axis.label(*tick)));
    }
    if let Some(note) = axis.baseline_note(lang) {
        out.push_str(&text(left, 18.0, "start", "note", &note));
    }
    for (i, b) in items.iter().enumerate() {
        let y0 = top + row * i as f64;
        let end = x(b.value);
        let shown = unit.show(b.value);
        // The whole row answers a click or a hover, not only the ink of the bar and its words.
        let body = format!(
            "<rect class=\"hit\" x=\"0\" y=\"{y0:.1}\" width=\"{W}\" height=\"{row}\" fill=\"transparent\"/>\
             {}<rect class=\"bar\" x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" rx=\"2\" fill=\"{BLUE}\"/>{}\
             <title>{}: {}</title>",
            text(left, y0 + 16.0, "start", "name", &b.name),
            y0 + 22.0,
            (end - left).max(1.5),
            text(end + 6.0, y0 + 35.0, "start", "value", &shown),
            esc(&b.name),
            shown
        );
        match &b.href {
            Some(href) => out.push_str(&format!("<a href=\"{}\"><g>{body}</g></a>", esc(href))),
            None => out.push_str(&format!("<g>{body}</g>")),
        }
    }
    out.push_str("</svg></div>");
    out
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

/// The colour of a rate `t` of the way from the lowest shown (red) to the highest (green).
fn scale_colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a * (1.0 - t) + b * t) as u8;
    format!(
        "rgb({},{},{})",
        mix(220.0, 22.0),
        mix(38.0, 163.0),
        mix(38.0, 74.0)
    )
}

/// A district drawn on the map: its boundary, shaded by its rate, a link to its page.
pub struct MapArea<'a> {
    pub name: String,
    pub href: String,
    /// Its attendance rate, if it reported in the period.
    pub rate: Option<f64>,
    pub polygons: &'a [Vec<edulake_schemas::geo::Ring>],
}

/// The grey of a place that did not report.
const NONE_GREY: &str = "#94a3b8";

/// Districts (when the bureau imported their boundaries) shaded by their rate, and schools on
/// them placed by latitude and longitude, each coloured from red (the lowest rate shown) to
/// green (the highest) and a link to its page; a legend says what the colours are. North is
/// up and a degree of longitude is drawn as long as it is at that latitude.
pub fn map(points: &[MapPoint], areas: &[MapArea], label: &str, lang: Lang) -> String {
    let placed: Vec<&MapPoint> = points
        .iter()
        .filter(|p| p.lat.is_finite() && p.lon.is_finite())
        .collect();
    let corners = areas
        .iter()
        .flat_map(|a| a.polygons.iter().flatten().flatten().copied())
        .chain(placed.iter().map(|p| (p.lon, p.lat)));
    let (mut lon0, mut lon1, mut lat0, mut lat1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (lon, lat) in corners {
        (lon0, lon1) = (lon0.min(lon), lon1.max(lon));
        (lat0, lat1) = (lat0.min(lat), lat1.max(lat));
    }
    if lon0 > lon1 {
        return String::new();
    }
    let (w, h, m, legend) = (640.0, 460.0, 18.0, 40.0);
    let area_h = h - legend;
    // Equirectangular at the middle latitude, one scale for both axes, centred.
    let squash = ((lat0 + lat1) / 2.0).to_radians().cos().max(0.1);
    let span_x = ((lon1 - lon0) * squash).max(1e-6);
    let span_y = (lat1 - lat0).max(1e-6);
    let scale = ((w - 2.0 * m) / span_x).min((area_h - 2.0 * m) / span_y);
    let (dx, dy) = ((w - span_x * scale) / 2.0, (area_h - span_y * scale) / 2.0);
    let at = |lon: f64, lat: f64| {
        (
            dx + (lon - lon0) * squash * scale,
            area_h - dy - (lat - lat0) * scale,
        )
    };
    let rates: Vec<f64> = placed
        .iter()
        .filter_map(|p| p.rate)
        .chain(areas.iter().filter_map(|a| a.rate))
        .collect();
    let (r0, r1) = rates
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(*r), b.max(*r)));
    let colour = |rate: Option<f64>| match rate {
        Some(r) => {
            let t = if r1 > r0 { (r - r0) / (r1 - r0) } else { 1.0 };
            (scale_colour(t), Unit::Rate.show(r))
        }
        None => (NONE_GREY.to_string(), t(lang, "not_reported")),
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" \
         class=\"map\" font-family=\"sans-serif\" font-size=\"14\" fill=\"{INK}\">\
         <rect width=\"{w}\" height=\"{area_h}\" fill=\"#f8fafc\"/>",
        esc(label),
    );
    for a in areas {
        let (fill, shown) = colour(a.rate);
        let mut d = String::new();
        // Points closer than half a pixel to the last one drawn add nothing but bytes.
        for ring in a.polygons.iter().flatten() {
            let mut last: Option<(f64, f64)> = None;
            for (i, (lon, lat)) in ring.iter().enumerate() {
                let (x, y) = at(*lon, *lat);
                if let Some((lx, ly)) = last {
                    if (x - lx).abs() < 0.5 && (y - ly).abs() < 0.5 && i + 1 < ring.len() {
                        continue;
                    }
                }
                d.push_str(&format!(
                    "{}{x:.1} {y:.1}",
                    if last.is_none() { "M" } else { "L" }
                ));
                last = Some((x, y));
            }
            d.push('Z');
        }
        out.push_str(&format!(
            "<a href=\"{}\"><path class=\"area\" d=\"{d}\" fill=\"{fill}\" fill-opacity=\"0.45\" \
             fill-rule=\"evenodd\" stroke=\"#475569\" stroke-width=\"1\"><title>{}: {}</title></path></a>",
            esc(&a.href),
            esc(&a.name),
            esc(&shown)
        ));
    }
    // Each district's name in the middle of its largest ring's box.
    for a in areas {
        let Some(ring) = a
            .polygons
            .iter()
            .filter_map(|p| p.first())
            .max_by_key(|r| r.len())
        else {
            continue;
        };
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (lon, lat) in ring {
            (x0, x1) = (x0.min(*lon), x1.max(*lon));
            (y0, y1) = (y0.min(*lat), y1.max(*lat));
        }
        let (x, y) = at((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        out.push_str(&text(x, y, "middle", "area-name", &a.name));
    }
    for p in placed {
        let (x, y) = at(p.lon, p.lat);
        let (fill, shown) = colour(p.rate);
        out.push_str(&format!(
            "<a href=\"{}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"{fill}\" stroke=\"#fff\"><title>{}: {}</title></circle></a>",
            esc(&p.href),
            esc(&p.name),
            esc(&shown)
        ));
    }
    // The legend: the colour scale from the lowest rate to the highest, and the grey of none.
    let ly = area_h + 14.0;
    out.push_str("<defs><linearGradient id=\"scale\">");
    for stop in [0.0, 0.5, 1.0] {
        out.push_str(&format!(
            "<stop offset=\"{stop}\" stop-color=\"{}\"/>",
            scale_colour(stop)
        ));
    }
    out.push_str("</linearGradient></defs>");
    if !rates.is_empty() {
        out.push_str(&text(m, ly + 13.0, "start", "tick", &Unit::Rate.show(r0)));
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{ly:.1}\" width=\"160\" height=\"16\" fill=\"url(#scale)\"/>",
            m + 62.0
        ));
        out.push_str(&text(
            m + 230.0,
            ly + 13.0,
            "start",
            "tick",
            &Unit::Rate.show(r1),
        ));
    }
    out.push_str(&format!(
        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"{NONE_GREY}\"/>",
        m + 330.0,
        ly + 8.0
    ));
    out.push_str(&text(
        m + 344.0,
        ly + 13.0,
        "start",
        "tick",
        &t(lang, "not_reported"),
    ));
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests;
