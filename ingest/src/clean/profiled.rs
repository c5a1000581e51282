//! A profile's meanings applied to each row before its cells are read: the words of its value
//! maps (a reason column deciding where it says so), its date forms and epoch milliseconds, the
//! columns it makes (a copy of a timestamp for the date, a list from yes/no columns), and the
//! rows it keeps.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use csv::StringRecord;

use edulake_schemas::dataset::{Dataset, Kind};
use edulake_schemas::fold;
use edulake_schemas::msg;
use edulake_schemas::words::{Arg, Msg};

use super::header::{clean_text, Synthetic};
use super::Source;
use crate::profile::{Meaning, Profile, ValueMap};

/// A cell, its column's value map, and the reason columns its words may ask (folded header,
/// cell).
type Mapped<'p> = (usize, &'p ValueMap, Vec<(String, Option<usize>)>);

/// What became of a row.
pub(super) enum Applied<'r> {
    /// The row as the profile means it.
    Row(&'r StringRecord),
    /// Left out by the profile's `only` / `skip_when` (counted in [`Rewriter::note`]).
    LeftOut,
    /// A cell the profile cannot read: the row is rejected.
    Bad {
        cell: usize,
        value: String,
        reason: Msg,
    },
}

/// Whether a reason (lower case) says a word: as a whole word where the word is ASCII
/// (`ill` is not in `will`), anywhere in it otherwise (`病` in `病假`).
fn says(reason: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return reason.contains(word);
    }
    reason.match_indices(word).any(|(at, _)| {
        let before = reason[..at].chars().next_back();
        let after = reason[at + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

/// A yes/no cell of a list: `Some(true)` yes, `Some(false)` no, `None` neither.
fn yes_no(cell: &str) -> Option<bool> {
    match cell.trim() {
        "√" | "✓" | "✔" | "有" => Some(true),
        "×" | "✗" | "无" | "没有" => Some(false),
        t => crate::values::parse_bool(t).ok(),
    }
}

/// One file's rows as its profile means them.
pub(super) struct Rewriter<'p> {
    /// The header's cells in the file; the profile's own columns follow.
    width: usize,
    synthetic: Vec<Synthetic>,
    /// A cell and its column's value map, with the cell of the reason column it may ask.
    maps: Vec<Mapped<'p>>,
    /// A date or time cell, and whether it holds epoch milliseconds.
    dates: Vec<(usize, bool)>,
    forms: &'p [String],
    /// Rows kept only where a cell holds one of the values; rows skipped where it does.
    only: Vec<(usize, String, &'p [String])>,
    skip_when: Vec<(usize, String, &'p [String])>,
    tz: Tz,
    out: StringRecord,
    /// For each of `dates`, its last text and what it read as.
    last_dates: Vec<Option<(String, Option<String>)>>,
    /// Rows left out by `only` / `skip_when`, and the cells its maps changed.
    left_out: u64,
}

impl<'p> Rewriter<'p> {
    /// `Ok(None)` when the profile changes nothing in the rows (its header names only); `Err`
    /// when the file lacks a column the profile keeps rows by (its rows cannot be told apart).
    pub fn new(
        profile: Option<&'p Profile>,
        d: &Dataset,
        sources: &[Source],
        cells: &[String],
        width: usize,
        synthetic: Vec<Synthetic>,
        tz: Tz,
    ) -> Result<Option<Rewriter<'p>>, Msg> {
        let Some(p) = profile else { return Ok(None) };
        let at = |header: &str| cells[..width].iter().position(|c| fold(c) == fold(header));
        let mut maps = Vec::new();
        let mut dates = Vec::new();
        for (c, s) in d.columns.iter().zip(sources) {
            let Source::Cell(i) = *s else { continue };
            if let Some(vm) = p.values_for(c.name) {
                let reasons = vm.reasons().map(|r| (fold(r), at(r))).collect::<Vec<_>>();
                maps.push((i, vm, reasons));
            }
            if matches!(c.kind, Kind::Date | Kind::Timestamp | Kind::BirthYear) {
                // A copied cell is the column it copies.
                let header = match synthetic.get(i.wrapping_sub(width)) {
                    Some(Synthetic::Copy(j)) if i >= width => &cells[*j],
                    _ => &cells[i],
                };
                let epoch = p.is_epoch_ms(header);
                if epoch || !p.date_forms.is_empty() {
                    dates.push((i, epoch));
                }
            }
        }
        let filters = |list: &'p [(String, Vec<String>)]| {
            list.iter()
                .filter_map(|(h, vs)| at(h).map(|i| (i, h.clone(), vs.as_slice())))
                .collect::<Vec<_>>()
        };
        let only = filters(p.only());
        // A file without the column the profile keeps rows by is refused: every row would be
        // kept, the refused and withdrawn ones with the approved.
        if let Some((h, vs)) = p.only().iter().find(|(h, _)| at(h).is_none()) {
            return Err(msg!(
                "profile_filter_column_missing",
                profile = &p.name,
                header = h,
                values = vs.join("/")
            ));
        }
        let skip_when = filters(p.skip_when());
        if maps.is_empty()
            && dates.is_empty()
            && synthetic.is_empty()
            && only.is_empty()
            && skip_when.is_empty()
        {
            return Ok(None);
        }
        let last_dates = vec![None; dates.len()];
        Ok(Some(Rewriter {
            width,
            synthetic,
            maps,
            dates,
            forms: &p.date_forms,
            only,
            skip_when,
            tz,
            out: StringRecord::new(),
            last_dates,
            left_out: 0,
        }))
    }

    /// The row as the profile means it, or what else became of it.
    pub fn apply(&mut self, rec: &StringRecord) -> Applied<'_> {
        let cell = |i: usize| rec.get(i).map(clean_text).unwrap_or("");
        let holds = |(i, _, vs): &(usize, String, &[String])| {
            let v = fold(cell(*i));
            vs.contains(&v)
        };
        if !self.only.iter().all(holds) || self.skip_when.iter().any(holds) {
            self.left_out += 1;
            return Applied::LeftOut;
        }
        // A yes/no cell that says neither is the row's mistake, not a "no".
        for s in &self.synthetic {
            let Synthetic::Flags { yes, .. } = s else {
                continue;
            };
            if let Some((i, _)) = yes
                .iter()
                .find(|(i, _)| !cell(*i).is_empty() && yes_no(cell(*i)).is_none())
            {
                return Applied::Bad {
                    cell: *i,
                    value: cell(*i).to_string(),
                    reason: msg!("not_yes_no_mark", value = cell(*i)),
                };
            }
        }
        let mut made: Vec<String> = self
            .synthetic
            .iter()
            .map(|s| match s {
                Synthetic::Copy(i) => cell(*i).to_string(),
                Synthetic::Flags { yes, value } => {
                    let answered = yes
                        .iter()
                        .map(|(i, _)| *i)
                        .chain(value.iter().map(|(i, _, _)| *i))
                        .any(|i| !cell(i).is_empty());
                    let mut words: Vec<&str> = Vec::new();
                    for (i, w) in yes {
                        if yes_no(cell(*i)) == Some(true) && !words.contains(&w.as_str()) {
                            words.push(w);
                        }
                    }
                    if words.is_empty() {
                        words.extend(
                            value
                                .iter()
                                .filter(|(i, v, _)| fold(cell(*i)) == *v)
                                .map(|(_, _, w)| w.as_str()),
                        );
                    }
                    match (answered, words.is_empty()) {
                        (false, _) => String::new(),
                        (true, true) => "none".into(),
                        (true, false) => words.join(","),
                    }
                }
            })
            .collect();
        // Cells changed: (index, new text).
        let mut changed: Vec<(usize, String)> = Vec::new();
        let text = |i: usize, made: &[String], changed: &[(usize, String)]| -> String {
            if let Some((_, t)) = changed.iter().rev().find(|(j, _)| *j == i) {
                return t.clone();
            }
            if i >= self.width {
                return made.get(i - self.width).cloned().unwrap_or_default();
            }
            cell(i).to_string()
        };
        for (i, vm, reasons) in &self.maps {
            let t = text(*i, &made, &changed);
            if t.is_empty() {
                continue;
            }
            let word = match vm.meaning(&t) {
                None => continue,
                Some(Meaning::Word(w)) => w.clone(),
                Some(Meaning::ByReason {
                    reason,
                    when,
                    otherwise,
                }) => {
                    let said = reasons
                        .iter()
                        .find(|(r, _)| *r == fold(reason))
                        .and_then(|(_, at)| *at)
                        .map(|j| cell(j).to_lowercase())
                        .unwrap_or_default();
                    when.iter()
                        .find(|(_, words)| words.iter().any(|w| says(&said, w)))
                        .map(|(w, _)| w.clone())
                        .unwrap_or_else(|| otherwise.clone())
                }
            };
            changed.push((*i, word));
        }
        for (k, &(i, epoch)) in self.dates.iter().enumerate() {
            let t = text(i, &made, &changed);
            // A file's rows share a few days: each date column's last text is read once.
            let iso = match &self.last_dates[k] {
                Some((seen, iso)) if *seen == t => iso.clone(),
                _ => {
                    let iso = self.iso_date(&t, epoch);
                    self.last_dates[k] = Some((t, iso.clone()));
                    iso
                }
            };
            if let Some(iso) = iso {
                changed.push((i, iso));
            }
        }
        for (i, t) in changed.iter().filter(|(i, _)| *i >= self.width) {
            if let Some(m) = made.get_mut(i - self.width) {
                *m = t.clone();
            }
        }
        self.out.clear();
        for i in 0..self.width {
            match changed.iter().rev().find(|(j, _)| *j == i) {
                Some((_, t)) => self.out.push_field(t),
                None => self.out.push_field(rec.get(i).unwrap_or("")),
            }
        }
        for m in &made {
            self.out.push_field(m);
        }
        Applied::Row(&self.out)
    }

    /// A date or time in the profile's forms, or epoch milliseconds, as ISO text in the
    /// bureau's time zone; `None` leaves the cell to the usual forms.
    fn iso_date(&self, t: &str, epoch: bool) -> Option<String> {
        if epoch && t.len() >= 10 && t.bytes().all(|b| b.is_ascii_digit()) {
            let ms: i64 = t.parse().ok()?;
            let at = self.tz.timestamp_millis_opt(ms).single()?;
            return Some(at.format("%Y-%m-%d %H:%M:%S").to_string());
        }
        for form in self.forms {
            if let Ok(at) = NaiveDateTime::parse_from_str(t, form) {
                return Some(at.format("%Y-%m-%d %H:%M:%S").to_string());
            }
            if let Ok(day) = NaiveDate::parse_from_str(t, form) {
                return Some(day.to_string());
            }
        }
        None
    }

    /// What the clerk is told about rows the profile left out.
    pub fn note(&self) -> Option<Msg> {
        if self.left_out == 0 {
            return None;
        }
        let mut said: Vec<Arg> =
            self.only
                .iter()
                .map(|(_, h, vs)| msg!("left_out_unless", header = h, values = vs.join("/")).into())
                .chain(self.skip_when.iter().map(|(_, h, vs)| {
                    msg!("left_out_when", header = h, values = vs.join("/")).into()
                }))
                .collect();
        said.dedup();
        Some(msg!(
            "rows_left_out",
            count = self.left_out,
            why = Arg::List(said)
        ))
    }
}
