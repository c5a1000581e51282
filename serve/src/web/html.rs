//! HTML written on the server: the page frame, tables, tiles and download links. No
//! JavaScript is needed to read or move around the cockpit.

use std::fmt::Write;

use super::i18n::{t, Lang};
use super::View;

/// Escapes text for HTML (and SVG) content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// For a reader outside the bureau, what an empty cell ("—") means: the small-cell rule.
fn small_cells_note(view: &View) -> String {
    if view.who.indicator_role() == edulake_transform::indicators::Role::Bureau {
        return String::new();
    }
    format!(
        "<footer class=\"small-cells\">{}</footer>",
        esc(&t(view.lang, "small_cells_note"))
    )
}

/// The page frame: header with navigation and the language switch, the date-range form, then
/// the body.
pub fn page(view: &View, title: &str, body: &str) -> String {
    let lang = view.lang;
    let home = super::auth::home(&view.who);
    let nav = super::auth::nav(&view.who)
        .into_iter()
        .map(|(href, key)| {
            if key == "nav_overview" {
                (home.clone(), key)
            } else {
                (href.to_string(), key)
            }
        })
        .map(|(href, key)| {
            format!(
                "<a href=\"{}\">{}</a>",
                esc(&view.link(&href)),
                esc(&t(lang, key))
            )
        })
        .collect::<Vec<_>>()
        .join("");
    let other = View {
        lang: lang.other(),
        ..view.clone()
    };
    let presets: String = [(6, "last_7"), (29, "last_30"), (89, "last_90")]
        .iter()
        .map(|(days, key)| {
            let preset = View {
                from: view.to - chrono::Duration::days(*days),
                ..view.clone()
            };
            format!(
                "<a class=\"preset\" href=\"{}\">{}</a>",
                esc(&preset.link(&view.path)),
                esc(&t(lang, key))
            )
        })
        .collect();
    // The form keeps the page's own query (a school, a notice) beside the new dates.
    let own: Vec<(String, String)> = view
        .path
        .split_once('?')
        .and_then(|(_, q)| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let mut hidden = format!(
        "<input type=\"hidden\" name=\"lang\" value=\"{}\">",
        lang.code()
    );
    for (k, v) in own {
        let _ = write!(
            hidden,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(&k),
            esc(&v)
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {brand}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"><link rel=\"icon\" href=\"/assets/icon.svg\"></head>\
         <body><header><a class=\"brand\" href=\"{home}\">{brand}</a><nav>{nav}</nav>\
         <a class=\"lang\" href=\"{switch}\" hreflang=\"{other_code}\">{switch_text}</a></header>\
         <form class=\"range\" method=\"get\">{hidden}<label>{from} <input type=\"date\" name=\"from\" value=\"{from_v}\"></label>\
         <label>{to} <input type=\"date\" name=\"to\" value=\"{to_v}\"></label>{filters}<button type=\"submit\">{apply}</button>{presets}</form>\
         <main><h1>{title}</h1>{filtered}{body}</main>{small}</body></html>\n",
        filters = filter_controls(view),
        filtered = filtered_note(view),
        small = small_cells_note(view),
        html_lang = lang.html(),
        title = esc(title),
        brand = esc(&t(lang, "brand")),
        home = esc(&view.link(&home)),
        switch = esc(&other.link(&view.path)),
        other_code = lang.other().code(),
        switch_text = esc(&t(lang, "switch_lang")),
        from = esc(&t(lang, "from")),
        to = esc(&t(lang, "to")),
        from_v = view.from,
        to_v = view.to,
        apply = esc(&t(lang, "apply")),
    )
}

pub use edulake_schemas::words::grade_word;

/// A school type's word: 小学 in Chinese, `nine year` in English.
pub fn school_type_word(lang: Lang, value: &str) -> String {
    match lang {
        Lang::Zh => {
            edulake_schemas::words::value_word(lang, &edulake_schemas::vocab::SCHOOL_TYPE, value)
        }
        Lang::En => value.replace('_', " "),
    }
}

/// Whether the page shows indicators the filters apply to (the overview, a district's, a
/// school's and a class's pages), not uploads, data received or notices.
fn filters_apply(view: &View) -> bool {
    let path = view.path.split('?').next().unwrap_or_default();
    path == "/" || path.starts_with("/district/") || path.starts_with("/school/")
}

/// The range form's filters: a school type, a grade, a gender, each "all" by default.
fn filter_controls(view: &View) -> String {
    if !filters_apply(view) {
        return String::new();
    }
    let lang = view.lang;
    let f = &view.filters;
    // Each a drop-down whose first choice is "all", under its label.
    let choice =
        |name: &str, label: &str, options: Vec<(String, String)>, chosen: Option<String>| {
            let mut all = vec![(String::new(), t(lang, "filter_all"))];
            all.extend(options);
            format!(
                "<label>{} {}</label>",
                esc(label),
                select(name, &all, chosen.as_deref().unwrap_or(""), false)
            )
        };
    let types = edulake_schemas::vocab::SCHOOL_TYPE
        .canonical()
        .map(|v| (v.to_string(), school_type_word(lang, v)))
        .collect();
    let grades = (1..=12u8)
        .map(|g| (g.to_string(), grade_word(lang, g)))
        .collect();
    let genders = ["M", "F"]
        .iter()
        .map(|g| (g.to_string(), t(lang, &format!("gender_{g}"))))
        .collect();
    [
        choice(
            "school_type",
            &t(lang, "filter_school_type"),
            types,
            f.school_type.clone(),
        ),
        choice(
            "grade",
            &t(lang, "filter_grade"),
            grades,
            f.grade.map(|g| g.to_string()),
        ),
        choice(
            "gender",
            &t(lang, "filter_gender"),
            genders,
            f.gender.clone(),
        ),
    ]
    .concat()
}

/// What the page is filtered by, when it is.
fn filtered_note(view: &View) -> String {
    if !filters_apply(view) {
        return String::new();
    }
    let lang = view.lang;
    let f = &view.filters;
    let mut said: Vec<String> = Vec::new();
    if let Some(v) = &f.school_type {
        said.push(school_type_word(lang, v));
    }
    if let Some(g) = f.grade {
        said.push(grade_word(lang, g));
    }
    if let Some(g) = &f.gender {
        said.push(t(lang, &format!("gender_{g}")));
    }
    if said.is_empty() {
        return String::new();
    }
    format!(
        "<p class=\"hint filtered\">{}</p>",
        esc(&t(lang, "filtered").replace("{filters}", &said.join(" · ")))
    )
}

/// A page without the cockpit's navigation and dates (signing in, the account, errors).
pub fn bare(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {brand}</title><link rel=\"stylesheet\" href=\"/assets/style.css\"><link rel=\"icon\" href=\"/assets/icon.svg\"></head>\
         <body><header><a class=\"brand\" href=\"/?lang={code}\">{brand}</a></header><main><h1>{title}</h1>{body}</main></body></html>\n",
        lang.html(),
        title = esc(title),
        brand = esc(&t(lang, "brand")),
        code = lang.code(),
    )
}

/// A section with a heading, its content and its downloads.
pub fn section(lang: Lang, title: &str, content: &str, download: Option<&str>) -> String {
    let downloads: Vec<(String, String)> = download
        .map(|href| vec![(String::new(), href.to_string())])
        .unwrap_or_default();
    section_with(lang, title, content, &downloads)
}

/// A section whose numbers come from several exports: a pair of download links for each,
/// labelled (the label may be empty when there is one).
pub fn section_with(
    lang: Lang,
    title: &str,
    content: &str,
    downloads: &[(String, String)],
) -> String {
    let mut links = String::new();
    for (label, href) in downloads {
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("<span>{}:</span> ", esc(label))
        };
        let _ = write!(
            links,
            "<p class=\"downloads\">{label}<a href=\"{0}&amp;format=csv\" download>{1}</a> <a href=\"{0}&amp;format=xlsx\" download>{2}</a></p>",
            esc(href),
            esc(&t(lang, "download_csv")),
            esc(&t(lang, "download_xlsx"))
        );
    }
    format!("<section><h2>{}</h2>{content}{links}</section>", esc(title))
}

/// What a section says when it has nothing to show (a text key).
pub fn empty(lang: Lang, key: &str) -> String {
    format!("<p class=\"empty\">{}</p>", esc(&t(lang, key)))
}

/// A table; cells are already HTML.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<div class=\"table\"><table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A link, escaped.
/// The element of a form's drop-down.
const DROP_DOWN: &str = "select";

/// A drop-down of a form: `(value, label)` options (escaped here), the one whose value is
/// `chosen` selected.
pub fn select(name: &str, options: &[(String, String)], chosen: &str, required: bool) -> String {
    let options: String = options
        .iter()
        .map(|(value, label)| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(value),
                if value == chosen { " selected" } else { "" },
                esc(label)
            )
        })
        .collect();
    format!(
        "<{DROP_DOWN} name=\"{}\"{}>{options}</{DROP_DOWN}>",
        esc(name),
        if required { " required" } else { "" }
    )
}

pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// A KPI tile: the value, and its change against the comparison value (good, bad, or no
/// change as shown).
pub fn tile(
    label: &str,
    value: &str,
    change: Option<(String, Option<bool>)>,
    note: &str,
) -> String {
    let change = match change {
        Some((text, good)) => format!(
            "<span class=\"change {}\">{}</span>",
            match good {
                Some(true) => "good",
                Some(false) => "bad",
                None => "same",
            },
            esc(&text)
        ),
        None => String::new(),
    };
    format!(
        "<div class=\"tile\"><div class=\"label\">{}</div><div class=\"value\">{}</div>{change}<div class=\"note\">{}</div></div>",
        esc(label),
        esc(value),
        esc(note)
    )
}

/// The cockpit's icon: three bars on the header's blue.
pub const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#0b3a8c\"/><rect x=\"7\" y=\"16\" width=\"4\" height=\"9\" fill=\"#fff\"/><rect x=\"14\" y=\"10\" width=\"4\" height=\"15\" fill=\"#fff\"/><rect x=\"21\" y=\"6\" width=\"4\" height=\"19\" fill=\"#fff\"/></svg>";

/// The style sheet, embedded in the binary.
pub const STYLE: &str = r#"
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --blue:#2563eb; --bg:#f8fafc; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; flex-wrap:wrap; align-items:center; gap:1rem; padding:.6rem 1rem; background:#0b3a8c; color:#fff; }
header a { color:#fff; text-decoration:none; }
header .brand { font-weight:700; font-size:1.1rem; }
header nav { display:flex; flex-wrap:wrap; gap:.4rem 1rem; flex:1; }
header nav a { white-space:nowrap; }
header .lang { border:1px solid #fff6; padding:.1rem .6rem; border-radius:4px; }
form.range { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; padding:.5rem 1rem; background:#fff; border-bottom:1px solid var(--line); }
main { padding:1rem; max-width:1200px; margin:0 auto; }
footer.small-cells { max-width:1200px; margin:0 auto; padding:0 1rem 1.5rem; color:var(--muted); font-size:.8rem; }
h1 { font-size:1.4rem; margin:.2rem 0 1rem; }
h2 { font-size:1.05rem; margin:0 0 .6rem; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1rem; margin-bottom:1rem; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit, minmax(160px, 1fr)); gap:.8rem; margin-bottom:1rem; }
.tile { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.8rem; }
.tile .label { color:var(--muted); font-size:.85rem; }
.tile .value { font-size:1.6rem; font-weight:700; margin:.2rem 0; }
.tile .note { color:var(--muted); font-size:.75rem; }
.change.good { color:#15803d; } .change.bad { color:#b91c1c; } .change.same { color:var(--muted); }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap:1rem; }
.chart svg, svg.map { width:100%; height:auto; display:block; }
.chart svg { max-width:600px; }
svg.map { max-width:760px; }
.chart .tick, svg.map .tick { fill:#475569; }
svg.map .area-name { font-size:13px; font-weight:600; fill:#1e293b; paint-order:stroke; stroke:#fff; stroke-width:3px; pointer-events:none; }
svg.map a:hover .area { fill-opacity:.7; }
.chart .axis-title { fill:#475569; font-size:13px; }
.chart .note { fill:#b45309; font-size:13px; }
.chart .value { font-weight:600; }
.chart a:hover rect.bar, .chart .point:hover circle:first-child { fill:#1d4ed8; }
.chart a:hover rect.hit { fill:#f1f5f9; }
/* A phone draws the chart at about half its width: larger text, half the date labels. */
@media (max-width: 640px) {
  .chart svg text, svg.map text { font-size:20px; }
  .chart .note, .chart .axis-title { font-size:18px; }
  .chart .alt, .chart .y-title { display:none; }
}
.table { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; padding:.35rem .5rem; border-bottom:1px solid var(--line); white-space:nowrap; }
td.num, th.num { text-align:right; }
form.range .preset { font-size:.9rem; }
.downloads { margin:.6rem 0 0; font-size:.85rem; } .downloads a { margin-right:1rem; }
.empty, .hint, .crumbs { color:var(--muted); }
.stale, .error { color:#b91c1c; } .ok { color:#15803d; } .partly { color:#b45309; } .same { color:var(--muted); }
.outcome { font-weight:600; margin:.3rem 0; padding:.4rem .6rem; border-radius:6px; background:#f8fafc; border-left:4px solid currentColor; }
details > summary { cursor:pointer; margin:.6rem 0; color:var(--muted); }
form.upload { display:grid; gap:.8rem; max-width:640px; }
form.upload label { display:grid; gap:.3rem; }
form.sign-in { display:grid; gap:.9rem; max-width:360px; background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.4rem; }
form.sign-in label { display:grid; gap:.3rem; } form.sign-in input { font-size:1rem; padding:.45rem; }
form.filters { display:flex; flex-wrap:wrap; gap:.6rem; align-items:end; margin-bottom:.8rem; } form.filters label { display:grid; gap:.2rem; }
.note { color:var(--muted); max-width:640px; }
form.sign-in label.check { display:flex; gap:.4rem; align-items:center; }
form.inline { display:inline-block; margin-right:.4rem; } form.inline button { font-size:.85rem; padding:.2rem .6rem; }
code.password { font-size:1.1rem; background:#fff; border:1px solid var(--line); padding:.1rem .4rem; }
form.sql { display:grid; gap:.5rem; max-width:720px; } form.sql select, form.sql button { justify-self:start; } form.sql textarea { font-family:monospace; font-size:.95rem; }
p.tables code { display:inline-block; margin:.1rem .3rem .1rem 0; font-size:.85rem; }
form.upload .drop { border:2px dashed var(--line); border-radius:8px; padding:1.2rem; background:var(--bg); }
button { background:var(--blue); color:#fff; border:0; border-radius:4px; padding:.4rem 1rem; font-size:1rem; }
button.secondary { background:#fff; color:var(--blue); border:1px solid var(--blue); }
form.upload label.check { display:flex; gap:.5rem; align-items:center; }
.buttons, section.confirm { display:flex; flex-wrap:wrap; gap:.6rem; align-items:center; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.25rem 1rem; margin:.2rem 0 .8rem; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
@media (max-width: 600px) { main { padding:.5rem; } .tile .value { font-size:1.3rem; } header nav { order:3; flex-basis:100%; } }
@media (max-width: 600px) { svg.map .area-name { font-size:22px; } svg.map .tick { font-size:20px; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(enc("长安区 a&b"), "%E9%95%BF%E5%AE%89%E5%8C%BA%20a%26b");
    }
}
