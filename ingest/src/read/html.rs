//! HTML tables saved with an `.xls` name, as many platforms export "Excel" (REPORTING.md
//! "Formats added"): the page's first table, a row per `<tr>`, as Excel shows it when it opens
//! such a file. A cell spanning columns or rows (`colspan`, `rowspan`) holds its text in its
//! first place and leaves the others empty, as a merged cell of a workbook does, so a two-row
//! header reads the same from either.

use csv::StringRecord;
use scraper::{ElementRef, Html, Selector};

use edulake_schemas::msg;
use edulake_schemas::words::Msg;

use super::Table;
use crate::limits::{
    column_letters, grouped, MAX_CELL_CHARS, MAX_COLUMNS, MAX_HTML_BYTES, MAX_ROWS,
};

/// The most rows one cell may span (HTML's own limit).
const MAX_ROWSPAN: usize = 65_534;

/// Reads the first table of an HTML page.
pub(super) fn read_html(text: String, encoding: &'static str) -> Result<Table, Msg> {
    if text.len() > MAX_HTML_BYTES {
        return Err(msg!("html_too_big", limit = MAX_HTML_BYTES >> 20));
    }
    let page = Html::parse_document(&text);
    drop(text);
    let tables = Selector::parse("table").map_err(|e| Msg::plain(format!("{e:?}")))?;
    let Some(table) = page.select(&tables).find(|t| rows_of(*t).next().is_some()) else {
        return Err(super::unsupported::rejected(msg!("fmt_html_no_table")));
    };
    // For each column, how many more rows a cell spanning rows from above covers.
    let mut covering: Vec<usize> = Vec::new();
    let mut out: Vec<(u64, StringRecord)> = Vec::new();
    for (i, tr) in rows_of(table).enumerate() {
        let line = i as u64 + 1;
        if line > MAX_ROWS {
            return Err(msg!("too_many_rows", limit = grouped(MAX_ROWS)));
        }
        // The places of this row a span from above takes (it uses one of its rows here).
        let taken: Vec<bool> = covering.iter().map(|n| *n > 0).collect();
        for n in covering.iter_mut() {
            *n = n.saturating_sub(1);
        }
        let is_taken = |col: usize| taken.get(col).copied().unwrap_or(false);
        let mut cells: Vec<String> = Vec::new();
        for cell in tr
            .children()
            .filter_map(ElementRef::wrap)
            .filter(|e| matches!(e.value().name(), "td" | "th"))
        {
            while is_taken(cells.len()) {
                cells.push(String::new());
            }
            let span = |name: &str, most: usize| {
                cell.value()
                    .attr(name)
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, most)
            };
            let (cols, rows) = (
                span("colspan", MAX_COLUMNS + 1),
                span("rowspan", MAX_ROWSPAN),
            );
            let text: String = cell.text().collect::<Vec<_>>().join("");
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.chars().count() > MAX_CELL_CHARS {
                return Err(msg!(
                    "cell_too_long",
                    row = line,
                    column = column_letters(cells.len() as u64),
                    limit = grouped(MAX_CELL_CHARS as u64)
                ));
            }
            if cells.len() + cols > MAX_COLUMNS {
                return Err(msg!("too_many_columns", row = line, limit = MAX_COLUMNS));
            }
            for k in 0..cols {
                let col = cells.len();
                cells.push(if k == 0 { text.clone() } else { String::new() });
                if rows > 1 {
                    if covering.len() <= col {
                        covering.resize(col + 1, 0);
                    }
                    covering[col] = rows - 1;
                }
            }
        }
        // Spans from above reaching past this row's own cells.
        while let Some(last) = (cells.len()..taken.len()).rev().find(|c| taken[*c]) {
            cells.resize(last + 1, String::new());
        }
        // A row of empty cells is a blank line; the cleaning skips it as it skips one in a
        // sheet.
        out.push((line, StringRecord::from(cells)));
    }
    Ok(Table::in_memory("html table", encoding, false, out))
}

/// The rows of a table itself (directly, or in its head, body and foot), not of a table
/// inside one of its cells.
fn rows_of(table: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    table
        .children()
        .filter_map(ElementRef::wrap)
        .flat_map(|e| match e.value().name() {
            "tr" => vec![e],
            "thead" | "tbody" | "tfoot" => e
                .children()
                .filter_map(ElementRef::wrap)
                .filter(|r| r.value().name() == "tr")
                .collect(),
            _ => Vec::new(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Rows;

    fn rows(html: &str) -> Vec<Vec<String>> {
        let mut t = read_html(html.to_string(), "UTF-8").unwrap();
        let Rows::Memory(it) = &mut t.rows else {
            panic!("rows in memory")
        };
        it.map(|(_, r)| r.iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn spans_leave_their_other_places_empty() {
        let got = rows(
            "<table><tr><td colspan=3>2026年11月18日 考勤</td></tr>\
             <tr><th rowspan=2>姓名</th><th colspan=2>上午</th></tr>\
             <tr><th>上班</th><th>下班</th></tr>\
             <tr><td>张&nbsp;三</td><td>正常</td><td>缺卡</td></tr></table>",
        );
        assert_eq!(
            got,
            vec![
                vec!["2026年11月18日 考勤", "", ""],
                vec!["姓名", "上午", ""],
                vec!["", "上班", "下班"],
                vec!["张 三", "正常", "缺卡"],
            ]
        );
    }

    #[test]
    fn a_table_inside_a_cell_is_not_rows_of_its_own() {
        let got = rows(
            "<html><body><table><tbody><tr><td>a<table><tr><td>x</td></tr></table></td>\
             <td>b</td></tr></tbody></table></body></html>",
        );
        assert_eq!(got, vec![vec!["ax", "b"]]);
    }

    #[test]
    fn a_page_without_a_table_is_named() {
        let err = read_html("<html><body><p>登录超时</p></body></html>".into(), "UTF-8")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("format not supported: an HTML page without a table"),
            "{err}"
        );
    }

    #[test]
    fn a_page_over_the_limit_is_refused_before_it_is_parsed() {
        let big = format!(
            "<table><tr><td>{}</td></tr></table>",
            "x".repeat(MAX_HTML_BYTES)
        );
        let err = read_html(big, "UTF-8").err().unwrap().to_string();
        assert!(err.contains("over 32 MiB"), "{err}");
    }
}
