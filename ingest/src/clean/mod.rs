//! Cleaning: from rows of text cells to the typed, validated, pseudonymised columns of a
//! dataset's lake table, with every bad row rejected alone and reported.
//!
//! Layout: `header` (the header row, read by a profile's names when one reads the file; title
//! and file-name dates; skipped rows), `profiled` (a profile's meanings applied to each row:
//! value maps, date forms, its own columns, the rows it keeps), `cells` (one cell read as its
//! column's kind), `ids` (national and local ids, leave spans), `rules` (rules across the
//! cells of a row), `build` (typed values, a column's memo of its last cell, the Arrow
//! builders), `upload` (what an upload says of its files); this file walks the rows and builds
//! the columns, each column's run of equal cells read once.

use std::borrow::Cow;

use arrow::array::Int64Builder;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use chrono_tz::Tz;
use csv::StringRecord;

use edulake_schemas::dataset::{Column, Dataset, Required, Rule};
use edulake_schemas::msg;
use edulake_schemas::vocab::is_personal_header;
use edulake_schemas::words::{Arg, Msg};

use crate::limits::{MAX_REJECTS_LISTED, MAX_REJECT_VALUE_CHARS};
use crate::pseudo::{Key, Pseudonymiser};
use crate::read::{Rows, UNREADABLE_ROW};
use crate::values;

mod build;
mod cells;
mod header;
mod ids;
mod profiled;
mod rules;
mod upload;
use build::{finish_chunk, recycle, Builder, Memo, Val, CHUNK_ROWS};
use cells::{format_ts, parse_cell, Parsed, RowContext};
pub use header::file_name_date;
use header::{clean_text, find_header, is_skipped_row, supplied, Found};
pub use ids::local_key;
use ids::{ids_agree, leave_days, resolve_ids};
use rules::check_row_rules;
pub use upload::Upload;

/// One rejected cell (or row, when `column` is empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: Msg,
}

/// How the file's header maps to the dataset.
#[derive(Debug, Clone, Default)]
pub struct HeaderReport {
    /// The row number of the header (title rows above it were skipped).
    pub header_row: u64,
    /// Columns of personal data that were dropped unread.
    pub personal_dropped: Vec<String>,
    /// Columns the dataset does not know, not stored.
    pub unknown: Vec<String>,
    /// Columns the profile knows and does not store (考勤组, 班次).
    pub ignored: Vec<String>,
    /// The profile that read the file and why it was chosen (`dingtalk-daily (钉钉考勤 每日统计):
    /// its headers 考勤组, 上班1打卡结果 (row 3)`).
    pub profile: Option<Msg>,
    /// The header cells as the file wrote them, then a profile's own columns (labelled by the
    /// cells they are made from).
    pub cells: Vec<String>,
    /// For each of [`HeaderReport::cells`], the dataset column read from it, if any.
    pub read_as: Vec<Option<&'static str>>,
    /// Where the rows' date came from when no column holds it: `--date`, a title row or the
    /// file name (as a phrase for the report).
    pub date_source: Option<Msg>,
    /// Total and sign-off rows (合计, 填表人, 注:) skipped, not rejected.
    pub rows_skipped: u64,
    /// Other things the clerk should know about how the file was read.
    pub notes: Vec<Msg>,
    /// For an exception register: each school it covers and the first day it covers.
    pub covered: Vec<(String, NaiveDate)>,
}

/// What one header cell is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    /// A column of the dataset (or a profile's own column made from it).
    Column(&'static str),
    /// Personal data, dropped unread.
    Personal,
    /// A column the profile knows and does not store.
    Ignored,
    /// A column nobody knows, not stored.
    Unknown,
}

impl HeaderReport {
    /// The header cells as the file wrote them (empty ones left out), each with what it is
    /// read as.
    pub fn read_as(&self) -> impl Iterator<Item = (&str, ReadAs)> {
        self.cells
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .map(|(i, cell)| {
                let as_what = match self.read_as.get(i).copied().flatten() {
                    Some(c) => ReadAs::Column(c),
                    None if self.personal_dropped.contains(cell) => ReadAs::Personal,
                    None if self.ignored.contains(cell) => ReadAs::Ignored,
                    None => ReadAs::Unknown,
                };
                (cell.as_str(), as_what)
            })
    }
}

/// A cleaned file: record batches for the lake, and the rejects.
#[derive(Debug)]
pub struct Cleaned {
    pub header: HeaderReport,
    pub batches: Vec<RecordBatch>,
    pub rows_read: u64,
    pub rows_stored: u64,
    pub rejects: Vec<Reject>,
    /// Rows rejected (a row may have several rejected cells).
    pub rows_rejected: u64,
    /// Distinct values of the first partition column (for instance the dates touched).
    pub partitions: Vec<String>,
    /// Rejected cells counted but not listed (past [`MAX_REJECTS_LISTED`]).
    pub unlisted: u64,
    /// For an exception register: the (school, class, date) it covers.
    pub covered: u64,
}

/// Where a stored column's value comes from.
#[derive(Debug, Clone)]
enum Source {
    Cell(usize),
    /// Several columns naming the same person's id (学籍号 and 全国学籍号; 校内学号 and
    /// 学籍辅号): national ids must agree; of local ids the first filled one is kept.
    Cells(Vec<usize>),
    /// Absent from the file: the upload's value, the column's default, or null.
    Fixed(Option<String>),
}

/// Everything a clean needs besides the rows.
pub struct CleanContext<'a> {
    pub dataset: &'static Dataset,
    pub upload: &'a Upload,
    pub key: &'a Key,
    pub tz: Tz,
    /// The dates accepted: every date and timestamp must fall within it.
    pub window: values::Window,
    pub batch_id: &'a str,
    /// Microseconds since the epoch, UTC: orders uploads for "later upload wins".
    pub ingested_at: i64,
    /// The date the file's name carries, the last place a missing `date` is taken from.
    pub file_date: Option<NaiveDate>,
    /// The profile that reads the file, and why it was chosen.
    pub profile: Option<&'a crate::profile::Choice>,
    /// Where to say how far the file's rows are read.
    pub progress: Option<&'a crate::progress::FileProgress>,
}

/// Cleans a whole table. `Err` is a whole-file rejection (no header, a broken text table).
pub fn clean(ctx: &CleanContext, mut rows: Rows, spreadsheet: bool) -> Result<Cleaned, Msg> {
    let d = ctx.dataset;
    let mut raw = StringRecord::new();
    let profile = ctx.profile.map(|c| &*c.profile);
    let Found {
        sources,
        report: mut header,
        width,
        synthetic,
    } = find_header(d, ctx.upload, profile, ctx.file_date, &mut rows, &mut raw)?;
    if let Some(c) = ctx.profile {
        header.profile = Some(msg!(
            "read_with_profile",
            name = &c.profile.name,
            title = Arg::Both {
                zh: c.profile.title.clone(),
                en: c.profile.title_en.clone()
            },
            why = c.why.clone()
        ));
    }
    let mut rewriter = profiled::Rewriter::new(
        profile,
        d,
        &sources,
        &header.cells,
        width,
        synthetic,
        ctx.tz,
    )?;
    let schema = d.lake_schema();
    let labels = column_labels(d, &sources, &header);
    let mut pseudo = Pseudonymiser::new(ctx.key);
    let mut builders: Vec<Builder> = d
        .columns
        .iter()
        .map(|c| Builder::for_kind(c.kind))
        .collect();
    let mut row_numbers = Int64Builder::new();
    let mut out = Cleaned {
        header,
        batches: Vec::new(),
        rows_read: 0,
        rows_stored: 0,
        rejects: Vec::new(),
        rows_rejected: 0,
        partitions: Vec::new(),
        unlisted: 0,
        covered: 0,
    };
    let partition_idx = d
        .partition_by
        .first()
        .and_then(|p| d.columns.iter().position(|c| c.name == *p));
    let mut partition_days = std::collections::BTreeSet::new();
    let grade_idx = d.columns.iter().position(|c| c.name == "grade");
    let day_idx = d
        .columns
        .iter()
        .position(|c| matches!(c.name, "date" | "as_of_date"));
    // An exception register's coverage: (school, class or "" for the whole school, day).
    let mut coverage: std::collections::BTreeSet<(String, String, i32)> = Default::default();
    let covers = |vals: &[Val], coverage: &mut std::collections::BTreeSet<_>| {
        let text = |name: &str| match d.columns.iter().position(|c| c.name == name) {
            Some(j) => vals[j].text().unwrap_or_default().to_string(),
            None => String::new(),
        };
        let day = d
            .columns
            .iter()
            .position(|c| c.name == "date")
            .and_then(|j| match vals[j] {
                Val::Date(day) => Some(day),
                _ => None,
            });
        if let Some(day) = day {
            coverage.insert((text("school_code"), text("class_code"), day));
        }
    };
    let date_idx = d.columns.iter().position(|c| c.name == "date");
    // The columns of a leave approval's span, when the file has both.
    let span_idx = match (
        d.columns.iter().position(|c| c.name == "leave_start"),
        d.columns.iter().position(|c| c.name == "leave_end"),
    ) {
        (Some(a), Some(b))
            if matches!(sources[a], Source::Cell(_)) && matches!(sources[b], Source::Cell(_)) =>
        {
            Some((a, b))
        }
        _ => None,
    };
    let mut spans = 0u64;
    // A school's daily figures: the count cells where a marker says the school did not
    // submit (REPORTING.md: not reported, never 0 %).
    let count_cells: Vec<usize> = if d.name == "class_report" {
        d.columns
            .iter()
            .zip(&sources)
            .filter(|(c, _)| matches!(c.name, "expected" | "present" | "absent"))
            .filter_map(|(_, s)| match s {
                Source::Cell(i) => Some(*i),
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut not_submitted = 0u64;
    // The day column's last text and what it read as.
    let mut last_day_text: Option<String> = None;
    let mut last_day_parsed: Option<NaiveDate> = None;
    let mut after_header = true;
    // Rows naming their person by a local id alone (学号, UserId): resolved through the
    // roster when read.
    let mut only_local = 0u64;
    let mut last_day = None;
    let mut in_chunk = 0usize;
    let mut storage: Vec<Val<'static>> = Vec::with_capacity(d.columns.len());
    let mut memo: Vec<Option<Memo>> = d.columns.iter().map(|_| None).collect();
    // Ids are pseudonymised with their own cache; every other column's cells are memoised.
    let memoable: Vec<bool> = d.columns.iter().map(|c| !c.is_pseudonymised()).collect();
    let mut row_rejects: Vec<Reject> = Vec::new();
    // What an empty cell or an absent column stands for: the upload's value or the default.
    let fallback: Vec<Option<String>> = d
        .columns
        .iter()
        .zip(&sources)
        .map(|(c, s)| match s {
            Source::Fixed(v) => v.clone(),
            Source::Cell(_) | Source::Cells(_) => supplied(c, ctx.upload)
                .or_else(|| {
                    profile
                        .and_then(|p| p.default_for(c.name))
                        .filter(|v| !v.is_empty())
                        .map(String::from)
                })
                .or(c.default.map(String::from)),
        })
        .collect();
    let mut since_report = 0u64;
    loop {
        let line = match rows.next_into(&mut raw) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(e),
        };
        since_report += 1;
        if since_report == crate::progress::REPORT_EVERY_ROWS {
            if let Some(p) = ctx.progress {
                p.advance(since_report, rows.fraction_read());
            }
            since_report = 0;
        }
        if raw.iter().all(|c| clean_text(c).is_empty()) {
            continue;
        }
        // Right under the header, a row with nothing in any column read and only names (no
        // digits) elsewhere is the header's second row (names under a merged parent, as
        // DingTalk writes its 请假 columns).
        if std::mem::take(&mut after_header)
            && !raw.get(0).is_some_and(|c| c.starts_with(UNREADABLE_ROW))
            && !sources.iter().any(|s| has_cell(s, &raw, width))
            && !raw.iter().any(|c| c.bytes().any(|b| b.is_ascii_digit()))
        {
            out.header.notes.push(msg!("second_header_row", row = line));
            continue;
        }
        if is_skipped_row(&raw, profile) {
            out.header.rows_skipped += 1;
            continue;
        }
        if count_cells
            .iter()
            .any(|&i| raw.get(i).is_some_and(|c| is_not_submitted(clean_text(c))))
        {
            not_submitted += 1;
            continue;
        }
        if let Some(reason) = raw.get(0).and_then(|c| c.strip_prefix(UNREADABLE_ROW)) {
            out.rows_read += 1;
            out.rows_rejected += 1;
            out.list(Reject {
                row: line,
                column: String::new(),
                value: String::new(),
                reason: if reason.is_empty() {
                    msg!("not_json_object")
                } else {
                    msg!("bad_json_line", problem = reason)
                },
            });
            continue;
        }
        // A profile's meanings: its value maps, date forms and own columns.
        let rec = match rewriter.as_mut() {
            None => &raw,
            Some(rw) => match rw.apply(&raw) {
                profiled::Applied::Row(rec) => rec,
                profiled::Applied::LeftOut => continue,
                profiled::Applied::Bad {
                    cell,
                    value,
                    reason,
                } => {
                    out.rows_read += 1;
                    out.rows_rejected += 1;
                    let column = out.header.cells.get(cell).cloned().unwrap_or_default();
                    out.list(Reject {
                        row: line,
                        column,
                        value,
                        reason,
                    });
                    continue;
                }
            },
        };
        out.rows_read += 1;
        let mut vals: Vec<Val> = recycle(std::mem::take(&mut storage));
        row_rejects.clear();
        let cell_of = |j: usize| match &sources[j] {
            Source::Cell(i) => rec.get(*i).map(clean_text).filter(|s| !s.is_empty()),
            Source::Cells(many) => many
                .iter()
                .filter_map(|i| rec.get(*i).map(clean_text))
                .find(|s| !s.is_empty()),
            Source::Fixed(_) => None,
        };
        // The row's day (a cohort's grade depends on it) and grade (a class written as a bare
        // number beside it, `1班`).
        // A file's rows share a few days: the last day's text is read once.
        let day = day_idx
            .and_then(|j| cell_of(j).or(fallback[j].as_deref()))
            .and_then(|t| {
                if last_day_text.as_deref() != Some(t) {
                    last_day_text = Some(t.to_string());
                    last_day_parsed = values::parse_date(t, spreadsheet).ok();
                }
                last_day_parsed
            });
        let grade = grade_idx
            .and_then(|j| cell_of(j).or(fallback[j].as_deref()))
            .and_then(|t| values::parse_grade_on(t, day).ok())
            .map(|g| g as u32);
        let row = RowContext { grade, day };
        let mut local_raw = None;
        let mut more_local: Vec<&str> = Vec::new();
        // A leave approval's span (请假开始时间 / 请假结束时间) stands for its days.
        let span = span_idx.and_then(|(a, b)| {
            let at = |j| cell_of(j).and_then(|t| values::parse_date(t, spreadsheet).ok());
            at(a).zip(at(b))
        });
        for (j, c) in d.columns.iter().enumerate() {
            if span.is_some() && Some(j) == date_idx {
                vals.push(Val::Null);
                continue;
            }
            let text = cell_of(j).or(fallback[j].as_deref());
            if let (true, Some(t), Some(m)) = (memoable[j], text, &memo[j]) {
                if m.text == t && m.grade == row.grade && m.day == row.day {
                    vals.push(m.replay(t));
                    continue;
                }
            }
            let parsed = match &sources[j] {
                Source::Cells(many) if c.rule == Rule::Pseudonymised => {
                    ids_agree(rec, many, &out.header.cells)
                        .and_then(|_| parse_cell(ctx, c, text, spreadsheet, row))
                }
                _ => parse_cell(ctx, c, text, spreadsheet, row),
            };
            match parsed {
                Ok(Parsed::Val(v)) => {
                    if let (true, Some(t)) = (memoable[j], text) {
                        let as_is = matches!(&v, Val::Str(Cow::Borrowed(s)) if std::ptr::eq(*s, t));
                        let val = if as_is { Val::Null } else { v.kept() };
                        match &mut memo[j] {
                            Some(m) => {
                                m.text.clear();
                                m.text.push_str(t);
                                (m.grade, m.day, m.as_is, m.val) = (row.grade, row.day, as_is, val);
                            }
                            slot => {
                                *slot = Some(Memo {
                                    text: t.to_string(),
                                    grade: row.grade,
                                    day: row.day,
                                    as_is,
                                    val,
                                })
                            }
                        }
                    }
                    vals.push(v)
                }
                Ok(Parsed::Pseudonymise(raw)) => vals.push(Val::Shared(pseudo.pseudonym(raw))),
                Ok(Parsed::Local(raw)) => {
                    local_raw = Some((j, raw));
                    if let Source::Cells(many) = &sources[j] {
                        // The row's further local ids, each naming the same person.
                        more_local.extend(
                            many.iter()
                                .filter_map(|i| rec.get(*i).map(clean_text))
                                .filter(|t| !t.is_empty() && *t != raw),
                        );
                    }
                    vals.push(Val::Null);
                }
                Err(reason) => {
                    row_rejects.push(Reject {
                        row: line,
                        column: labels[j].clone(),
                        value: text.unwrap_or_default().to_string(),
                        reason,
                    });
                    vals.push(Val::Null);
                }
            }
        }
        match resolve_ids(d, &mut vals, local_raw, &more_local, &mut pseudo) {
            Ok(true) => only_local += 1,
            Ok(false) => {}
            Err(r) => row_rejects.push(Reject {
                row: line,
                column: labels[r.0].clone(),
                value: String::new(),
                reason: r.1,
            }),
        }
        check_row_rules(ctx, d, &mut vals, &labels, line, &mut row_rejects);
        if !row_rejects.is_empty() {
            out.rows_rejected += 1;
            for r in row_rejects.drain(..) {
                out.list(r);
            }
            storage = recycle(vals);
            continue;
        }
        // The days the row stands for: its date, or each school day of its leave span.
        let days: Vec<Option<i32>> = match (span, date_idx) {
            (Some((from, to)), Some(_)) => match leave_days(from, to, &ctx.window) {
                Ok(days) => {
                    spans += 1;
                    days.into_iter().map(Some).collect()
                }
                Err(reason) => {
                    out.rows_rejected += 1;
                    out.list(Reject {
                        row: line,
                        column: "leave_start, leave_end".into(),
                        value: format!("{from} – {to}"),
                        reason,
                    });
                    storage = recycle(vals);
                    continue;
                }
            },
            _ => vec![None],
        };
        for on in days {
            if let (Some(day), Some(j)) = (on, date_idx) {
                vals[j] = Val::Date(day);
            }
            if d.coverage_rows {
                covers(&vals, &mut coverage);
            }
            if let Some(p) = partition_idx {
                if let Val::Date(day) = vals[p] {
                    if last_day != Some(day) {
                        partition_days.insert(day);
                        last_day = Some(day);
                    }
                }
            }
            for (b, v) in builders.iter_mut().zip(vals.iter()) {
                b.push(v);
            }
            row_numbers.append_value(line as i64);
            in_chunk += 1;
            if in_chunk == CHUNK_ROWS {
                out.batches.push(finish_chunk(
                    ctx,
                    &schema,
                    &mut builders,
                    &mut row_numbers,
                    in_chunk,
                )?);
                in_chunk = 0;
            }
        }
        storage = recycle(vals);
        out.rows_stored += 1;
    }
    if let Some(p) = ctx.progress {
        p.advance(since_report, None);
    }
    if only_local > 0 && d.name == "notice_reads" {
        out.header
            .notes
            .push(msg!("receipts_by_account", count = only_local));
    } else if only_local > 0 && d.name != "enrolment" {
        out.header
            .notes
            .push(msg!("rows_by_local_id", count = only_local));
    }
    if let Some(note) = rewriter.as_ref().and_then(|rw| rw.note()) {
        out.header.notes.push(note);
    }
    if not_submitted > 0 {
        out.header
            .notes
            .push(msg!("rows_not_submitted", count = not_submitted));
    }
    if spans > 0 {
        out.header.notes.push(msg!("leave_spans", count = spans));
    }
    if d.coverage_rows {
        // The file's day — `--date`, or its title's or name's when no column holds it —
        // covers it (and `--class` its class) even when nobody is listed on it. A file of
        // leave approvals covers the days of its spans, and `--date` only when given.
        let file_day = date_idx
            .filter(|_| span_idx.is_none())
            .and_then(|j| match &sources[j] {
                Source::Fixed(Some(text)) => values::parse_date(text, false).ok(),
                _ => None,
            })
            .or(ctx.upload.date);
        if let (Some(school), Some(day)) = (&ctx.upload.school, file_day) {
            let class = ctx.upload.class.clone().unwrap_or_default();
            coverage.insert((school.clone(), class, values::days_since_epoch(day)));
        }
        for (school, class, day) in &coverage {
            // In a file of leave approvals, a day other than `--date` is covered as a day of a
            // span, and marked as one (`leave_start` and `leave_end` are that day): it counts on
            // the school's school days only, which the build knows from the school's other
            // reports (a span runs over holidays).
            let of_span =
                span_idx.is_some() && file_day.map(values::days_since_epoch) != Some(*day);
            for (b, c) in builders.iter_mut().zip(d.columns) {
                b.push(&match c.name {
                    "date" => Val::Date(*day),
                    "school_code" => Val::Str(Cow::Borrowed(school.as_str())),
                    "class_code" if !class.is_empty() => Val::Str(Cow::Borrowed(class.as_str())),
                    "leave_start" | "leave_end" if of_span => Val::Date(*day),
                    _ => Val::Null,
                });
            }
            partition_days.insert(*day);
            // Row 0: not a row of the file.
            row_numbers.append_value(0);
            in_chunk += 1;
        }
        out.covered = coverage.len() as u64;
        let mut first: std::collections::BTreeMap<&str, i32> = Default::default();
        for (school, _, day) in &coverage {
            let e = first.entry(school.as_str()).or_insert(*day);
            *e = (*e).min(*day);
        }
        out.header.covered = first
            .into_iter()
            .map(|(s, d)| (s.to_string(), values::date_from_days(d)))
            .collect();
        let classes = coverage.iter().filter(|(_, c, _)| !c.is_empty()).count();
        out.header.notes.push(msg!(
            "exception_register_covers",
            classes = classes,
            schools = coverage.len() - classes
        ));
    }
    if in_chunk > 0 {
        out.batches.push(finish_chunk(
            ctx,
            &schema,
            &mut builders,
            &mut row_numbers,
            in_chunk,
        )?);
    }
    out.partitions = partition_days
        .into_iter()
        .map(|d| values::date_from_days(d).to_string())
        .collect();
    if out.unlisted > 0 {
        out.rejects.push(Reject {
            row: 0,
            column: String::new(),
            value: String::new(),
            reason: msg!(
                "rejects_unlisted",
                count = out.unlisted,
                limit = MAX_REJECTS_LISTED
            ),
        });
    }
    Ok(out)
}

impl Cleaned {
    /// Lists a rejected cell in the report, within its limits: at most
    /// [`MAX_REJECTS_LISTED`] cells, each value quoted to [`MAX_REJECT_VALUE_CHARS`]
    /// characters (the report is kept, and a file of rejected rows must not make it as big as
    /// the file).
    fn list(&mut self, mut r: Reject) {
        if self.rejects.len() >= MAX_REJECTS_LISTED {
            self.unlisted += 1;
            return;
        }
        r.value = shortened(&r.value, MAX_REJECT_VALUE_CHARS);
        r.reason.clip(MAX_REJECT_VALUE_CHARS, shortened);
        self.rejects.push(r);
    }
}

/// At most `chars` characters of `text`, an ellipsis saying where it was cut.
fn shortened(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The name a clerk recognises for a rejected column: its header as the file writes it
/// (`考勤状态`), or the dataset's name for a column the file does not have.
fn column_labels(d: &Dataset, sources: &[Source], header: &HeaderReport) -> Vec<String> {
    d.columns
        .iter()
        .zip(sources)
        .map(|(c, s)| match s {
            Source::Cell(i) if !header.cells[*i].is_empty() => header.cells[*i].clone(),
            _ => c.name.to_string(),
        })
        .collect()
}

/// Whether a row fills the file's cell a dataset column is read from.
fn has_cell(s: &Source, rec: &StringRecord, width: usize) -> bool {
    let filled = |i: &usize| *i < width && rec.get(*i).is_some_and(|c| !clean_text(c).is_empty());
    match s {
        Source::Cell(i) => filled(i),
        Source::Cells(many) => many.iter().any(filled),
        Source::Fixed(_) => false,
    }
}

/// Whether a count cell says its school did not submit that day's figures.
fn is_not_submitted(cell: &str) -> bool {
    const MARKERS: &[&str] = &["NS", "N/S", "-1", "未上报", "未填报", "未提交", "未报"];
    MARKERS.iter().any(|m| cell.eq_ignore_ascii_case(m))
}
