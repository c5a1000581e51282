//! Complementary suppression, decided once per indicator and reader's scope.
//!
//! The small-cell rule hides a cell whose denominator (or count) is 1–9. But a hidden cell
//! comes back by subtraction wherever it is the only one hidden among cells that add up to a
//! cell shown somewhere: the classes of a school (or of a grade), the schools of a district,
//! the values of a split, the days of a month. So, for anyone but the bureau, the cells that
//! may be shown are decided on one **family** holding every cell any page, download or view
//! could show of that indicator within the reader's scope — each level × each split (none,
//! and each `by`) × each period — with one relation per published sum:
//!
//! - a level's cells add up to the next level's cell (classes → school → district → bureau;
//!   split cells with their split value, so classes by grade add up to the school's grade);
//! - a split's cells add up to the unsplit cell;
//! - for an indicator whose day rows add up over time (a `mart: day` sum), a month's days
//!   add up to the month.
//!
//! A family is read whole (the rule applied here, to days and to the months they add up
//! to) at the levels the scope has: a school's "district" row is the school's own cell.
//! Wherever a relation holds exactly one hidden cell, the smallest other non-empty cell of it
//! is hidden too (the sum itself where no part is left), smaller relations first (a grade's
//! other class rather than some class of another grade), until no relation does. Every export
//! then takes its cells' fate from the family, so two downloads, a page and a SQL view
//! agree, and their shown cells never differ by a single hidden one.
//!
//! Time is fixed periods that nest: days within months. A row over any other span (a week, a
//! whole range, a part of a month) is the sum of the whole months and the days it covers,
//! and is hidden wherever one of those is: a shown total is then a sum of shown cells only,
//! so two overlapping ranges never differ by a hidden day. (Weeks cross months, so they are
//! not cells of their own.) An indicator whose periods do not add up (a roster on a period's
//! last day, a count of distinct people) has its family at the periods asked for: each
//! period's cells are decided alone, the same way whatever else is asked.
//!
//! Where an indicator's cells show another's counts (female share shows enrolment by gender
//! as its numerator), its header names that one (`suppressed_with`), and its cells are hidden
//! wherever the other's are: a count hidden in one is never a numerator in the other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Float64Type, SchemaRef};
use arrow::util::display::array_value_to_string;
use chrono::{Datelike, Duration, NaiveDate};

use super::{Aggregate, Grain, Indicator, Level, Link, Request};
use crate::error::Result;

/// Which cell: the export it is a row of (level, split), the unit it counts (identity key
/// columns and extra columns), the split value and the period.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CellKey {
    level: u8,
    split: Option<String>,
    keys: Vec<String>,
    value: Option<String>,
    grain: u8,
    start: NaiveDate,
}

/// One cell of a family.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    key: CellKey,
    /// The district and school it lies in (to find its parents).
    district: String,
    school: String,
    /// What the rule looks at: the denominator of a rate, the value of a count.
    measure: f64,
    /// Hidden by the small-cell rule itself.
    primary: bool,
}

/// The hidden cells of one indicator within one scope.
#[derive(Debug, Default)]
pub(crate) struct Family {
    /// Whether its cells are days and months that add up (else: the periods asked for).
    pub additive: bool,
    hidden: HashSet<CellKey>,
    /// The hidden split cells, with their value left out (for links to a whole split).
    hidden_split: HashSet<CellKey>,
}

/// Whether an indicator's day cells add up to its months (and every span).
pub(crate) fn additive(ind: &Indicator) -> bool {
    ind.mart
        && ind.aggregate == Aggregate::Sum
        && ind.grains.contains(&Grain::Day)
        && ind.grains.contains(&Grain::Month)
}

/// Whether complementary suppression applies: sums and distinct counts add up along their
/// levels; a median or a value taken as it is does not.
pub(crate) fn applies(ind: &Indicator) -> bool {
    matches!(ind.aggregate, Aggregate::Sum | Aggregate::Distinct)
}

/// The grain a family's cells are read at: days (their months are added up from them,
/// [`with_months`]), or the grain asked for.
pub(crate) fn family_grain(ind: &Indicator, asked: Grain) -> Grain {
    if additive(ind) {
        Grain::Day
    } else {
        asked
    }
}

/// The levels a family is read at within a scope: a school's "district" or "bureau" row is
/// the school's own (a request within it is narrowed to it), so its family stops at the
/// school; a district's at the district.
pub(crate) fn family_levels(ind: &Indicator, within: &super::Within) -> Vec<Level> {
    let top = if within.school.is_some() {
        Level::School
    } else if within.district.is_some() {
        Level::District
    } else {
        Level::Bureau
    };
    let mut levels: Vec<Level> = ind
        .levels
        .iter()
        .copied()
        .filter(|l| level_rank(*l) <= level_rank(top))
        .collect();
    levels.sort_by_key(|l| level_rank(*l));
    levels
}

/// Whether a family's coarser levels are added up from its finest level's cells rather than
/// read again: sums add up along the levels (a count of distinct people need not).
pub(crate) fn adds_up_levels(ind: &Indicator) -> bool {
    ind.aggregate == Aggregate::Sum
}

/// The cell a cell adds up into at a coarser `level` (measure and rule left for the sum).
fn parent_at(c: &Cell, level: Level) -> Cell {
    let (district, school) = match level {
        Level::School => (c.district.clone(), c.school.clone()),
        Level::District => (c.district.clone(), String::new()),
        _ => (String::new(), String::new()),
    };
    let mut keys: Vec<String> = identity(level)
        .iter()
        .map(|col| match *col {
            "district" => district.clone(),
            _ => school.clone(),
        })
        .collect();
    keys.extend(c.key.keys[identity_len(c.key.level)..].iter().cloned());
    Cell {
        key: CellKey {
            level: level_rank(level),
            keys,
            ..c.key.clone()
        },
        district,
        school,
        measure: 0.0,
        primary: false,
    }
}

/// The key of the month a day cell adds up into.
fn month_of(key: &CellKey) -> CellKey {
    CellKey {
        grain: grain_rank(Grain::Month),
        start: key.start.with_day(1).unwrap_or(key.start),
        ..key.clone()
    }
}

/// Cells with the sums `into` says each adds up into: a sum's measure is its parts', and the
/// small-cell rule looks at it as an export does.
fn add_up(mut cells: Vec<Cell>, into: impl Fn(&Cell) -> Vec<Cell>) -> Vec<Cell> {
    let mut sums: BTreeMap<CellKey, Cell> = BTreeMap::new();
    for c in &cells {
        for sum in into(c) {
            sums.entry(sum.key.clone()).or_insert(sum).measure += c.measure;
        }
    }
    cells.extend(sums.into_values().map(|mut m| {
        m.primary = small(m.measure);
        m
    }));
    cells
}

/// Cells of the finest of `levels` with the cells of each coarser one they add up to.
pub(crate) fn with_levels(cells: Vec<Cell>, levels: &[Level]) -> Vec<Cell> {
    let mut levels: Vec<Level> = levels.to_vec();
    levels.sort_by_key(|l| level_rank(*l));
    let coarser = levels.get(1..).unwrap_or_default().to_vec();
    add_up(cells, |c| {
        coarser.iter().map(|l| parent_at(c, *l)).collect()
    })
}

/// Day cells with the months they add up to.
pub(crate) fn with_months(cells: Vec<Cell>) -> Vec<Cell> {
    add_up(cells, |c| {
        vec![Cell {
            key: month_of(&c.key),
            measure: 0.0,
            primary: false,
            ..c.clone()
        }]
    })
}

/// The splits a family is made of: none, then each `by`.
pub(crate) fn family_splits(ind: &Indicator) -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(ind.by.iter().cloned().map(Some))
        .collect()
}

fn level_rank(level: Level) -> u8 {
    match level {
        Level::Class => 0,
        Level::School => 1,
        Level::District => 2,
        Level::Bureau => 3,
    }
}

fn grain_rank(grain: Grain) -> u8 {
    match grain {
        Grain::Day => 0,
        Grain::Week => 1,
        Grain::Month => 2,
        Grain::Total => 3,
    }
}

/// The columns that identify a unit of a level (a school's name follows its code).
fn identity(level: Level) -> &'static [&'static str] {
    match level {
        Level::Class => &["school_code", "class_code"],
        Level::School => &["school_code"],
        Level::District => &["district"],
        Level::Bureau => &[],
    }
}

/// The column holding a split's value.
fn split_column(split: &str) -> &str {
    match split {
        "notice" => "notice_id",
        other => other,
    }
}

/// Whether the small-cell rule hides a cell of this measure.
fn small(measure: f64) -> bool {
    let (lo, hi) = super::SMALL;
    (lo as f64..=hi as f64).contains(&measure)
}

/// The rows of one export, given whole (the bureau's), as cells under the small-cell rule.
pub(crate) fn cells(
    ind: &Indicator,
    level: Level,
    split: Option<&str>,
    grain: Grain,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<Cell>> {
    let mut out = Vec::new();
    for b in batches {
        let rows = Rows::new(ind, schema, b)?;
        for r in 0..b.num_rows() {
            let key = rows.key(level, split, grain, r);
            out.push(Cell {
                key,
                district: rows.text("district", r),
                school: rows.text("school_code", r),
                measure: rows.measure(r),
                primary: small(rows.measure(r)),
            });
        }
    }
    Ok(out)
}

/// Reads the columns of an export's batch.
struct Rows<'a> {
    ind: &'a Indicator,
    batch: &'a RecordBatch,
    schema: &'a SchemaRef,
    measure: arrow::array::ArrayRef,
    start: arrow::array::ArrayRef,
    end: arrow::array::ArrayRef,
    suppressed: BooleanArray,
}

impl<'a> Rows<'a> {
    fn new(ind: &'a Indicator, schema: &'a SchemaRef, batch: &'a RecordBatch) -> Result<Self> {
        let measure = if ind.has_fraction() {
            "denominator"
        } else {
            "value"
        };
        let cast = |name: &str, to: &DataType| -> Result<arrow::array::ArrayRef> {
            Ok(arrow::compute::cast(
                batch.column(schema.index_of(name)?),
                to,
            )?)
        };
        Ok(Rows {
            ind,
            batch,
            schema,
            measure: cast(measure, &DataType::Float64)?,
            start: cast("period_start", &DataType::Date32)?,
            end: cast("period_end", &DataType::Date32)?,
            suppressed: cast("suppressed", &DataType::Boolean)?.as_boolean().clone(),
        })
    }

    fn text(&self, name: &str, row: usize) -> String {
        match self.schema.index_of(name) {
            Ok(i) => {
                let c = self.batch.column(i);
                if c.is_null(row) {
                    String::new()
                } else {
                    array_value_to_string(c, row).unwrap_or_default()
                }
            }
            Err(_) => String::new(),
        }
    }

    fn date(array: &arrow::array::ArrayRef, row: usize) -> NaiveDate {
        let days = array.as_primitive::<Date32Type>();
        if days.is_null(row) {
            return NaiveDate::MIN;
        }
        edulake_schemas::lake::date_from_days(days.value(row))
    }

    fn start(&self, row: usize) -> NaiveDate {
        Self::date(&self.start, row)
    }

    fn end(&self, row: usize) -> NaiveDate {
        Self::date(&self.end, row)
    }

    fn measure(&self, row: usize) -> f64 {
        let m = self.measure.as_primitive::<Float64Type>();
        if m.is_null(row) {
            0.0
        } else {
            m.value(row)
        }
    }

    fn suppressed(&self, row: usize) -> bool {
        self.suppressed.is_valid(row) && self.suppressed.value(row)
    }

    /// The key of a row read as a cell of this level (its own keys, or, for a row coarser
    /// than the one unit it was narrowed to, that unit's: see [`cell_level`]).
    fn key(&self, level: Level, split: Option<&str>, grain: Grain, row: usize) -> CellKey {
        self.key_at(level, split, grain, self.start(row), row, None)
    }

    fn key_at(
        &self,
        level: Level,
        split: Option<&str>,
        grain: Grain,
        start: NaiveDate,
        row: usize,
        unit: Option<(Level, &str)>,
    ) -> CellKey {
        let (level, mut keys) = match unit {
            Some((l, code)) => (l, vec![code.to_string()]),
            None => (
                level,
                identity(level)
                    .iter()
                    .map(|c| self.text(c, row))
                    .collect::<Vec<_>>(),
            ),
        };
        keys.extend(self.ind.columns.iter().map(|c| self.text(c, row)));
        CellKey {
            level: level_rank(level),
            split: split.map(String::from),
            keys,
            value: split.map(|s| self.text(split_column(s), row)),
            grain: grain_rank(grain),
            start,
        }
    }
}

/// For a request narrowed to one school (or district) at a coarser level, the unit its rows
/// really are: a "district" row of one school is that school's cell.
fn cell_level(req: &Request) -> Option<(Level, &str)> {
    match (&req.school, &req.district, req.level) {
        (Some(s), _, Level::District | Level::Bureau) => Some((Level::School, s.as_str())),
        (None, Some(d), Level::Bureau) => Some((Level::District, d.as_str())),
        _ => None,
    }
}

/// The relations of a family: each published sum (a cell of the family) with its parts, in
/// a fixed order (the order of the family's cells). A sum no export within the scope shows
/// (the district above a school's family) is no relation.
fn relations(
    ind: &Indicator,
    cells: &[Cell],
    index: &HashMap<&CellKey, usize>,
) -> Vec<(usize, Vec<usize>)> {
    let mut levels: Vec<Level> = ind.levels.clone();
    levels.sort_by_key(|l| level_rank(*l));
    // Keyed by the kind of sum and the split it is along (a class's grades and its genders
    // are two sums of the same cell), then the sum's place among the cells.
    let mut sums: HashMap<(u8, usize, usize), Vec<usize>> = HashMap::new();
    let mut add = |kind: u8, split: usize, sum: CellKey, part: usize| {
        if let Some(&s) = index.get(&sum) {
            sums.entry((kind, split, s)).or_default().push(part);
        }
    };
    for (i, c) in cells.iter().enumerate() {
        let k = &c.key;
        // Along the levels: the next coarser level the indicator has.
        if let Some(parent) = levels.iter().find(|l| level_rank(**l) > k.level) {
            add(0, 0, parent_at(c, *parent).key, i);
        }
        // Along a split: its values add up to the unsplit cell.
        if let Some(split) = k.split.as_deref() {
            let sum = CellKey {
                split: None,
                value: None,
                ..k.clone()
            };
            let which = ind
                .by
                .iter()
                .position(|b| b == split)
                .unwrap_or(ind.by.len());
            add(1, which, sum, i);
        }
        // Along time: a month's days.
        if k.grain == grain_rank(Grain::Day) {
            add(2, 0, month_of(k), i);
        }
    }
    let mut out: Vec<((u8, usize, usize), Vec<usize>)> = sums.into_iter().collect();
    out.sort_unstable_by_key(|r| r.0);
    out.into_iter()
        .map(|((_, _, sum), parts)| (sum, parts))
        .collect()
}

fn identity_len(level: u8) -> usize {
    match level {
        0 => 2,
        1 | 2 => 1,
        _ => 0,
    }
}

/// Decides the hidden cells of a family: the rule's, those `forced` (another indicator's
/// hidden counts), and their complements until no relation holds a single hidden cell.
pub(crate) fn protect(
    ind: &Indicator,
    additive: bool,
    cells: Vec<Cell>,
    forced: impl Fn(&CellKey) -> bool,
) -> Family {
    let index: HashMap<&CellKey, usize> =
        cells.iter().enumerate().map(|(i, c)| (&c.key, i)).collect();
    let relations = relations(ind, &cells, &index);
    drop(index);
    let mut hidden: Vec<bool> = cells.iter().map(|c| c.primary || forced(&c.key)).collect();
    // The relations each cell is in, to look at again when it is hidden.
    let mut member_of: Vec<Vec<usize>> = vec![Vec::new(); cells.len()];
    for (r, (sum, parts)) in relations.iter().enumerate() {
        for &i in std::iter::once(sum).chain(parts.iter()) {
            member_of[i].push(r);
        }
    }
    // Smaller relations first: their choice is narrower, and a cell hidden for a grade's
    // two classes often already protects the school's classes as well.
    let mut queue: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>> = relations
        .iter()
        .enumerate()
        .map(|(r, (_, parts))| std::cmp::Reverse((parts.len(), r)))
        .collect();
    while let Some(std::cmp::Reverse((_, r))) = queue.pop() {
        let (sum, parts) = &relations[r];
        if std::iter::once(sum)
            .chain(parts.iter())
            .filter(|&&i| hidden[i])
            .count()
            != 1
        {
            continue;
        }
        // The smallest part still shown (an empty one protects nothing), else the sum.
        let next = parts
            .iter()
            .copied()
            .filter(|&i| !hidden[i] && cells[i].measure > 0.0)
            .min_by(|&a, &b| {
                cells[a]
                    .measure
                    .total_cmp(&cells[b].measure)
                    .then_with(|| cells[a].key.cmp(&cells[b].key))
            })
            .or((!hidden[*sum]).then_some(*sum));
        if let Some(i) = next {
            hidden[i] = true;
            for &other in &member_of[i] {
                queue.push(std::cmp::Reverse((relations[other].1.len(), other)));
            }
        }
    }
    let hidden: HashSet<CellKey> = cells
        .into_iter()
        .zip(hidden)
        .filter_map(|(c, h)| h.then_some(c.key))
        .collect();
    let hidden_split = hidden
        .iter()
        .filter(|k| k.split.is_some())
        .map(|k| CellKey {
            value: None,
            ..k.clone()
        })
        .collect();
    Family {
        additive,
        hidden,
        hidden_split,
    }
}

/// Whether a cell is hidden because a linked indicator hides what it shows.
pub(crate) fn forced_by(links: &[(Link, Arc<Family>)], key: &CellKey) -> bool {
    links
        .iter()
        .any(|(link, other)| match (&link.split, &link.value) {
            (None, _) => other.hidden.contains(key),
            (Some(split), value) if key.split.is_none() => {
                let k = CellKey {
                    split: Some(split.clone()),
                    value: value.clone(),
                    ..key.clone()
                };
                match value {
                    Some(_) => other.hidden.contains(&k),
                    None => other.hidden_split.contains(&k),
                }
            }
            _ => false,
        })
}

/// The days and whole months a span of one row adds up from: a month is whole where the
/// span covers every day of it with data (`data_days`, sorted).
fn units(from: NaiveDate, to: NaiveDate, data_days: &[NaiveDate]) -> Vec<(Grain, NaiveDate)> {
    let mut out = Vec::new();
    let mut month = from.with_day(1).unwrap_or(from);
    while month <= to {
        let last = Grain::Month.period(month, month, month).1;
        let with_data = |a: NaiveDate, b: NaiveDate| {
            a <= b
                && data_days[data_days.partition_point(|d| *d < a)..]
                    .first()
                    .is_some_and(|d| *d <= b)
        };
        let outside =
            with_data(month, from - Duration::days(1)) || with_data(to + Duration::days(1), last);
        if !outside {
            out.push((Grain::Month, month));
        } else {
            let mut day = month.max(from);
            while day <= last.min(to) {
                out.push((Grain::Day, day));
                day += Duration::days(1);
            }
        }
        month = last + Duration::days(1);
    }
    out
}

/// An export's rows (already under the small-cell rule) with the family's hidden cells
/// hidden too. `range` is the range the export covers; `data_days` every day with data.
pub(crate) fn apply(
    ind: &Indicator,
    req: &Request,
    (from, to): (NaiveDate, NaiveDate),
    data_days: &[NaiveDate],
    family: &Family,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    let unit = cell_level(req);
    let split = req.by.as_deref();
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let rows = Rows::new(ind, &schema, &batch)?;
        let hidden: Vec<bool> = (0..batch.num_rows())
            .map(|r| {
                if rows.suppressed(r) {
                    return true;
                }
                let at = |grain: Grain, start: NaiveDate| {
                    family
                        .hidden
                        .contains(&rows.key_at(req.level, split, grain, start, r, unit))
                };
                if !family.additive {
                    return at(req.grain, rows.start(r));
                }
                if req.grain == Grain::Day {
                    return at(Grain::Day, rows.start(r));
                }
                let (start, end) = (rows.start(r).max(from), rows.end(r).min(to));
                units(start, end, data_days)
                    .into_iter()
                    .any(|(g, d)| at(g, d))
            })
            .collect();
        if !hidden.contains(&true) {
            out.push(batch);
            continue;
        }
        let mask = BooleanArray::from(hidden.clone());
        let mut columns = batch.columns().to_vec();
        for name in ["numerator", "denominator", "value"] {
            let i = schema.index_of(name)?;
            columns[i] = arrow::compute::nullif(&columns[i], &mask)?;
        }
        columns[schema.index_of("suppressed")?] = Arc::new(BooleanArray::from(hidden));
        // The batch's own schema: a mart's text columns come as views, unlike the plan's.
        out.push(RecordBatch::try_new(batch.schema(), columns)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_span_is_its_whole_months_and_its_other_days() {
        let data = [d("2026-09-02"), d("2026-10-05"), d("2026-11-20")];
        assert_eq!(
            units(d("2026-09-29"), d("2026-11-02"), &data),
            vec![
                (Grain::Day, d("2026-09-29")),
                (Grain::Day, d("2026-09-30")),
                (Grain::Month, d("2026-10-01")),
                (Grain::Day, d("2026-11-01")),
                (Grain::Day, d("2026-11-02")),
            ]
        );
        assert_eq!(
            units(d("2026-12-01"), d("2026-12-31"), &data),
            vec![(Grain::Month, d("2026-12-01"))]
        );
        // A part of a month holding all its days with data is the month.
        assert_eq!(
            units(d("2026-09-02"), d("2026-09-03"), &data),
            vec![(Grain::Month, d("2026-09-01"))]
        );
    }

    #[test]
    fn links_name_indicators_whose_family_has_the_same_periods() {
        for ind in super::super::all() {
            for link in &ind.suppressed_with {
                let other = super::super::by_name(&link.indicator).unwrap();
                assert_eq!(
                    additive(ind),
                    additive(other),
                    "{} {}",
                    ind.name,
                    other.name
                );
                assert!(other.suppressed_with.is_empty(), "{}: one step", other.name);
                if let Some(split) = &link.split {
                    assert!(other.by.contains(split), "{} {split}", other.name);
                }
            }
        }
    }

    /// Three classes of one school on one day, and the school: a lone hidden class takes the
    /// next smallest with it.
    #[test]
    fn a_lone_hidden_cell_takes_the_next_smallest_with_it() {
        let ind = super::super::by_name("attendance_rate").unwrap();
        let cell = |level: Level, keys: &[&str], measure: f64| Cell {
            key: CellKey {
                level: level_rank(level),
                split: None,
                keys: keys.iter().map(|s| s.to_string()).collect(),
                value: None,
                grain: grain_rank(Grain::Total),
                start: d("2026-09-01"),
            },
            district: "D1".into(),
            school: "S1".into(),
            measure,
            primary: small(measure),
        };
        let cells = vec![
            cell(Level::Class, &["S1", "a"], 20.0),
            cell(Level::Class, &["S1", "b"], 15.0),
            cell(Level::Class, &["S1", "c"], 5.0),
            cell(Level::School, &["S1"], 40.0),
        ];
        let f = protect(ind, false, cells.clone(), |_| false);
        let hidden: Vec<bool> = cells.iter().map(|c| f.hidden.contains(&c.key)).collect();
        assert_eq!(hidden, vec![false, true, true, false]);
        // Forced from elsewhere: the school hidden alone takes its smallest class.
        let school = cells[3].key.clone();
        let cells = vec![
            cell(Level::Class, &["S1", "a"], 20.0),
            cell(Level::Class, &["S1", "b"], 20.0),
            cell(Level::School, &["S1"], 40.0),
        ];
        let f = protect(ind, false, cells.clone(), |k| *k == school);
        assert!(
            f.hidden.contains(&school) && f.hidden.contains(&cells[0].key),
            "{f:?}"
        );
        assert_eq!(f.hidden.len(), 2, "{f:?}");
    }
}
