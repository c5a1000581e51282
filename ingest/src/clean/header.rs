//! Finding a file's header and what the rows above and among its data say: the columns a
//! header names, a date in a title row or the file's name, and total and sign-off rows.

use super::*;
use crate::profile::Profile;
use edulake_schemas::fold;

/// How many leading rows are searched for the header.
const HEADER_SEARCH_ROWS: usize = 50;

/// A file's header, found.
pub(super) struct Found {
    /// Where each dataset column's value comes from.
    pub sources: Vec<Source>,
    pub report: HeaderReport,
    /// The header's cells in the file; a profile's own columns follow them in each row.
    pub width: usize,
    /// A profile's own columns, after the file's (a copy of its date column, a list built from
    /// yes/no columns).
    pub synthetic: Vec<Synthetic>,
}

/// A column a profile makes from a row's cells.
#[derive(Debug, Clone)]
pub(super) enum Synthetic {
    /// The cell of another column (the date of a timestamp column).
    Copy(usize),
    /// A list of words from yes/no cells `(cell, word)`, and from cells holding a value
    /// `(cell, value, word)` that count only where no yes/no cell said yes.
    Flags {
        yes: Vec<(usize, String)>,
        value: Vec<(usize, String, String)>,
    },
}

/// The names a header row's cells go by: by a profile, its meaning for a cell, or nothing for
/// a cell it drops; then the profile's own columns with the label a clerk reads for each.
struct Named {
    names: Vec<String>,
    labels: Vec<String>,
    synthetic: Vec<Synthetic>,
}

impl Named {
    fn of(profile: Option<&Profile>, d: &Dataset, cells: &[String]) -> Named {
        let Some(p) = profile else {
            return Named {
                names: cells.to_vec(),
                labels: Vec::new(),
                synthetic: Vec::new(),
            };
        };
        let mut names: Vec<String> = cells
            .iter()
            .map(|c| match p.column_for(c) {
                Some(col) => col.to_string(),
                None if p.is_ignored(c) || p.is_personal(c) => String::new(),
                None => c.clone(),
            })
            .collect();
        // A column the profile names is named by it alone: another header the usual aliases
        // take for it is not read (a DingTalk export's 日期 beside its workDate). Ids are the
        // exception: a person has several, each column naming them counts.
        let at = |header: &str| cells.iter().position(|c| fold(c) == fold(header));
        let date_copy = p.date_column.iter().find_map(|h| at(h));
        let mut by_profile: Vec<&'static str> =
            cells.iter().filter_map(|c| p.column_for(c)).collect();
        if date_copy.is_some() {
            by_profile.push("date");
        }
        if let Some((column, flags)) = &p.flags {
            if flags.iter().any(|f| at(&f.header).is_some()) {
                by_profile.push(column);
            }
        }
        for (cell, name) in cells.iter().zip(names.iter_mut()) {
            if p.column_for(cell).is_none()
                && d.column_for_header(cell)
                    .is_some_and(|c| !c.is_pseudonymised() && by_profile.contains(&c.name))
            {
                name.clear();
            }
        }
        let mut labels = Vec::new();
        let mut synthetic = Vec::new();
        if let Some(i) = date_copy {
            names.push("date".into());
            labels.push(cells[i].clone());
            synthetic.push(Synthetic::Copy(i));
        }
        if let Some((column, flags)) = &p.flags {
            let mut yes = Vec::new();
            let mut value = Vec::new();
            let mut used: Vec<usize> = Vec::new();
            for f in flags {
                let Some(i) = at(&f.header) else { continue };
                used.push(i);
                match &f.value {
                    None => yes.push((i, f.word.clone())),
                    Some(v) => value.push((i, v.clone(), f.word.clone())),
                }
            }
            if !yes.is_empty() || !value.is_empty() {
                used.sort_unstable();
                used.dedup();
                names.push(column.to_string());
                labels.push(
                    used.iter()
                        .map(|i| cells[*i].as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                synthetic.push(Synthetic::Flags { yes, value });
            }
        }
        Named {
            names,
            labels,
            synthetic,
        }
    }
}

/// What the upload, or else the profile, gives for a column the file may leave out.
fn given(c: &Column, upload: &Upload, profile: Option<&Profile>) -> Option<String> {
    supplied(c, upload).or_else(|| {
        profile
            .and_then(|p| p.default_for(c.name))
            .filter(|v| !v.is_empty())
            .map(String::from)
    })
}

/// Finds the header: the first row naming every required column (by the profile's names, when
/// a profile reads the file). Returns where each dataset column comes from and the report, or
/// a sentence saying why the file does not fit.
pub(super) fn find_header(
    d: &Dataset,
    upload: &Upload,
    profile: Option<&Profile>,
    file_date: Option<NaiveDate>,
    rows: &mut Rows,
    rec: &mut StringRecord,
) -> Result<Found, Msg> {
    let mut best: Option<(usize, Vec<String>)> = None;
    // The date of the file when no column holds it: `--date`, else a title row, else the
    // file name.
    let mut date = upload.date.map(|day| (day, msg!("date_from_upload")));
    // The row above, for a two-row header (a merged parent over its children).
    let mut above: Option<Vec<String>> = None;
    for _ in 0..HEADER_SEARCH_ROWS {
        let Some(line) = rows.next_into(rec)? else {
            break;
        };
        let own: Vec<String> = rec
            .iter()
            .map(|c| c.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let upload = &Upload {
            date: date.as_ref().map(|(d, _)| *d).or(file_date),
            ..upload.clone()
        };
        // The row as a header on its own; else, read with the row above as its parents.
        let names_all = |named: &Named| {
            d.required_columns()
                .all(|c| named_in(d, c, &named.names) || given(c, upload, profile).is_some())
        };
        let own_named = Named::of(profile, d, &own);
        let (cells, named) = match &above {
            Some(parents) if !names_all(&own_named) => {
                let joined = two_row_header(parents, &own);
                let joined_named = Named::of(profile, d, &joined);
                if names_all(&joined_named) {
                    (joined, joined_named)
                } else {
                    (own.clone(), own_named)
                }
            }
            _ => (own.clone(), own_named),
        };
        let names = &named.names;
        let matched = d
            .columns
            .iter()
            .filter(|c| names.iter().any(|h| c.matches(h)))
            .count();
        let missing = d
            .required_columns()
            .any(|c| !named_in(d, c, names) && given(c, upload, profile).is_none());
        if !missing {
            let shown: Vec<String> = cells.iter().cloned().chain(named.labels.clone()).collect();
            let (sources, mut report) = map_header(d, upload, profile, names, &shown, line)?;
            report.cells = shown;
            report.read_as = vec![None; report.cells.len()];
            for (c, source) in d.columns.iter().zip(&sources) {
                let at: &[usize] = match source {
                    Source::Cell(i) => std::slice::from_ref(i),
                    Source::Cells(many) => many,
                    Source::Fixed(_) => &[],
                };
                for i in at {
                    if let Some(slot) = report.read_as.get_mut(*i) {
                        *slot = Some(c.name);
                    }
                }
            }
            // The cells a profile's list is made from are read as that list.
            for (k, made) in named.synthetic.iter().enumerate() {
                let Synthetic::Flags { yes, value } = made else {
                    continue;
                };
                let list = report.read_as.get(cells.len() + k).copied().flatten();
                for i in yes
                    .iter()
                    .map(|(i, _)| *i)
                    .chain(value.iter().map(|(i, _, _)| *i))
                {
                    if let Some(slot) = report.read_as.get_mut(i) {
                        *slot = list;
                    }
                }
            }
            if let Some(p) = profile {
                for (i, (cell, name)) in cells.iter().zip(names).enumerate() {
                    if !name.is_empty() || cell.is_empty() || report.read_as[i].is_some() {
                        continue;
                    }
                    if p.is_personal(cell) {
                        report.personal_dropped.push(cell.clone());
                    } else {
                        report.ignored.push(cell.clone());
                    }
                }
            }
            let date_idx = d.columns.iter().position(|c| c.name == "date");
            match date_idx.map(|j| &sources[j]) {
                Some(Source::Fixed(Some(_))) if date_idx == Some(0) => {
                    report.date_source = Some(match date {
                        Some((day, from)) => msg!("date_from", date = day, from = from),
                        None => msg!(
                            "date_from_file_name",
                            date = file_date.map(|d| d.to_string()).unwrap_or_default()
                        ),
                    });
                }
                Some(Source::Cell(i)) if *i >= cells.len() => {
                    report.date_source =
                        Some(msg!("date_from_time_column", column = &report.cells[*i]));
                }
                _ => {}
            }
            return Ok(Found {
                sources,
                report,
                width: cells.len(),
                synthetic: named.synthetic,
            });
        }
        if date.is_none() {
            date = title_date(&cells).map(|day| (day, msg!("date_from_title", row = line)));
        }
        above = Some(own);
        let better = match &best {
            None => cells.iter().any(|c| !c.is_empty()),
            Some((m, _)) => matched > *m,
        };
        if better {
            best = Some((matched, cells));
        }
    }
    let found = best.map(|(_, c)| c).unwrap_or_default();
    let found_list: Vec<&str> = found
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let found_names = Named::of(profile, d, &found).names;
    let missing: Vec<Arg> = d
        .required_columns()
        .filter(|c| !named_in(d, c, &found_names) && given(c, upload, profile).is_none())
        .map(|c| {
            let column = Arg::column(c.name);
            match c.required {
                Required::Unless(other) => msg!(
                    "column_or_other",
                    column = column,
                    other = Arg::column(other)
                )
                .into(),
                Required::FromUpload if c.name == "school_code" => {
                    msg!("column_or_upload_school", column = column).into()
                }
                Required::FromUpload if c.name == "date" => {
                    msg!("column_or_upload_date", column = column).into()
                }
                Required::FromUpload => msg!("column_or_upload_as_of", column = column).into(),
                _ => column,
            }
        })
        .collect();
    let mut problem = msg!(
        "required_columns_missing",
        dataset = Arg::Dataset(d.name),
        missing = Arg::List(missing),
        found = Arg::texts(&found_list)
    );
    let fits: Vec<&str> = edulake_schemas::all()
        .iter()
        .filter(|other| other.name != d.name)
        .filter(|other| {
            // An upload may supply a school or a roster date, but a file of events without
            // any date column is not taken for one.
            other.required_columns().all(|c| {
                named_in(other, c, &found)
                    || (c.required == Required::FromUpload && c.name != "date")
            })
        })
        .map(|o| o.name)
        .collect();
    if let Some(p) = profile {
        problem = msg!("with_profile", problem = problem, profile = &p.name);
    }
    if !fits.is_empty() {
        problem = msg!(
            "looks_like",
            problem = problem,
            datasets = Arg::List(fits.into_iter().map(Arg::Dataset).collect())
        );
    }
    Err(problem)
}

/// Words of a parent header cell that name another period than the row's own day (近3日,
/// 本周, 累计): the columns under it are not the day's (REPORTING.md).
const OTHER_PERIOD: &[&str] = &["近", "本周", "上周", "本月", "上月", "本学期", "累计"];

/// A two-row header read as one: each child cell under its parent (a merged cell holds its
/// text in its first place, so a child's parent is the nearest parent text at or left of it);
/// where there is no child, the parent's own cell. A child under a parent naming another
/// period is named `parent/child`, which no column matches: it is an unknown column.
fn two_row_header(parents: &[String], children: &[String]) -> Vec<String> {
    let width = parents.len().max(children.len());
    let mut out = Vec::with_capacity(width);
    let mut parent = "";
    for i in 0..width {
        let p = parents.get(i).map(String::as_str).unwrap_or("");
        let c = children.get(i).map(String::as_str).unwrap_or("");
        if !p.is_empty() {
            parent = p;
        }
        out.push(if c.is_empty() {
            p.to_string()
        } else if OTHER_PERIOD.iter().any(|w| parent.contains(w)) {
            format!("{parent}/{c}")
        } else {
            c.to_string()
        });
    }
    out
}

/// Whether a header names a column, or the column it may stand in for (a local id for a
/// national one).
fn named_in(d: &Dataset, c: &Column, cells: &[String]) -> bool {
    let has = |c: &Column| cells.iter().any(|h| c.matches(h));
    has(c)
        || match c.required {
            Required::Unless(other) => d.column(other).is_some_and(has),
            // A leave approval's span stands for its days.
            Required::FromUpload if c.name == "date" => d.column("leave_start").is_some_and(has),
            _ => false,
        }
}

pub(super) fn supplied(c: &Column, upload: &Upload) -> Option<String> {
    match (c.required, c.name) {
        (Required::FromUpload, "school_code") => upload.school.clone(),
        (Required::FromUpload, "as_of_date") => upload.as_of.map(|d| d.to_string()),
        (Required::FromUpload, "date") => upload.date.map(|d| d.to_string()),
        (_, "class_code") => upload.class.clone(),
        _ => None,
    }
}

/// Words that label a file's date in a title row (`日期：2026-11-18`, `统计日期: 2026/11/18`).
const DATE_LABELS: &[&str] = &[
    "统计日期",
    "填报日期",
    "检查日期",
    "上报日期",
    "日期",
    "date",
];

/// The date a title row names: a cell `日期：2026-11-18`, or a label cell and the date beside it.
pub(super) fn title_date(cells: &[String]) -> Option<NaiveDate> {
    let filled: Vec<&str> = cells
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    for (i, cell) in filled.iter().enumerate() {
        for label in DATE_LABELS {
            let Some(at) = cell.find(label) else { continue };
            let rest = cell[at + label.len()..].trim_start_matches([':', '：', ' ', '\u{3000}']);
            let text = if rest.is_empty() {
                filled.get(i + 1).copied().unwrap_or("")
            } else {
                rest
            };
            // The date runs to the first space after it (`2026-11-18 星期三` included).
            if let Ok(day) = values::parse_date(text, false) {
                return Some(day);
            }
            if let Some(first) = text.split_whitespace().next() {
                if let Ok(day) = values::parse_date(first, false) {
                    return Some(day);
                }
            }
        }
    }
    None
}

/// The date a file's name carries (`晨检_2026-11-18.xlsx`, `20261118缺勤登记.csv`), if exactly
/// one date is in it.
pub fn file_name_date(name: &str) -> Option<NaiveDate> {
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let bytes = stem.as_bytes();
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // The longest run of digits and date separators from here.
        let mut j = i;
        while j < bytes.len()
            && (bytes[j].is_ascii_digit() || matches!(bytes[j], b'-' | b'.' | b'_'))
        {
            j += 1;
        }
        let run = stem[i..j]
            .trim_end_matches(['-', '.', '_'])
            .replace('_', "-");
        if let Ok(day) = values::parse_date(&run, false) {
            if found.is_some_and(|f| f != day) {
                return None;
            }
            found = Some(day);
        }
        i = j.max(i + 1);
    }
    found
}

/// Words that begin a total row or a sign-off or notes line: counted and skipped, not rows.
const SKIPPED_ROW_WORDS: &[&str] = &[
    "合计",
    "总计",
    "小计",
    "总数",
    "填表人",
    "审核人",
    "负责人",
    "制表人",
    "填报人",
    "签字",
    "注:",
    "注：",
    "说明:",
    "说明：",
    "备注:",
    "备注：",
];

/// Whether a row is a total or a sign-off line: its first filled cell begins with one of
/// [`SKIPPED_ROW_WORDS`], or with one of the profile's `skip_rows` words.
pub(super) fn is_skipped_row(rec: &StringRecord, profile: Option<&Profile>) -> bool {
    rec.iter()
        .map(clean_text)
        .find(|c| !c.is_empty())
        .is_some_and(|first| {
            SKIPPED_ROW_WORDS.iter().any(|w| first.starts_with(w))
                || profile.is_some_and(|p| p.skips(first))
        })
}

/// A cell as a value: surrounding spaces and Excel's leading text marker `'` removed.
pub(super) fn clean_text(cell: &str) -> &str {
    // Most cells start and end with a printable ASCII character: nothing to remove.
    if let (Some(&first), Some(&last)) = (cell.as_bytes().first(), cell.as_bytes().last()) {
        if first.is_ascii_graphic() && first != b'\'' && last.is_ascii_graphic() {
            return cell;
        }
    }
    let t = cell.trim();
    t.strip_prefix('\'').map(str::trim).unwrap_or(t)
}

pub(super) fn map_header(
    d: &Dataset,
    upload: &Upload,
    profile: Option<&Profile>,
    cells: &[String],
    shown: &[String],
    line: u64,
) -> Result<(Vec<Source>, HeaderReport), Msg> {
    let mut report = HeaderReport {
        header_row: line,
        cells: cells.to_vec(),
        ..Default::default()
    };
    let mut sources = Vec::with_capacity(d.columns.len());
    for c in d.columns {
        let hits: Vec<usize> = (0..cells.len()).filter(|i| c.matches(&cells[*i])).collect();
        match hits.as_slice() {
            [] => sources.push(Source::Fixed(
                given(c, upload, profile).or(c.default.map(String::from)),
            )),
            [i] => sources.push(Source::Cell(*i)),
            many if c.is_pseudonymised() => {
                let names: Vec<&str> = many.iter().map(|i| shown[*i].as_str()).collect();
                let keeps_more = d.columns.iter().any(|c| c.rule == Rule::MoreLocalIds);
                let (names, column) = (Arg::texts(&names), Arg::column(c.name));
                report.notes.push(if c.rule == Rule::LocalId && keeps_more {
                    msg!("local_ids_all_kept", columns = names, column = column)
                } else if c.rule == Rule::LocalId {
                    msg!("local_ids_first_kept", columns = names, column = column)
                } else {
                    msg!("ids_must_agree", columns = names, column = column)
                });
                sources.push(Source::Cells(many.to_vec()));
            }
            many => {
                let names: Vec<&str> = many.iter().map(|i| shown[*i].as_str()).collect();
                return Err(msg!(
                    "columns_mean_same",
                    count = many.len(),
                    column = Arg::column(c.name),
                    columns = Arg::texts(&names)
                ));
            }
        }
    }
    for h in cells {
        if h.is_empty() || d.column_for_header(h).is_some() {
            continue;
        }
        if is_personal_header(h) {
            report.personal_dropped.push(h.clone());
        } else {
            report.unknown.push(h.clone());
        }
    }
    Ok((sources, report))
}

#[cfg(test)]
mod tests {
    use super::clean_text;

    #[test]
    fn a_cell_loses_its_spaces_and_text_marker_and_nothing_else() {
        assert_eq!(clean_text("1301000001"), "1301000001");
        assert_eq!(clean_text(" 101 "), "101");
        assert_eq!(clean_text("\u{3000}张三\u{3000}"), "张三");
        assert_eq!(clean_text("'0101"), "0101");
        assert_eq!(clean_text(" ' 0101"), "0101");
        assert_eq!(clean_text("病假 "), "病假");
        assert_eq!(clean_text("a'b"), "a'b");
        assert_eq!(clean_text(""), "");
        assert_eq!(clean_text("\t"), "");
    }
}
