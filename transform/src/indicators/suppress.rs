//! Complementary suppression: the small-cell rule hides a row whose denominator (or count) is
//! 1–9, but where that row is the only one hidden among rows that add up to a total shown
//! elsewhere (the classes of a school, the schools of a district, the grades of a school, the
//! days of a week), the total minus the shown rows gives it back. So, for anyone but the
//! bureau, wherever a group of rows that add up has exactly one hidden row, the next smallest
//! row of the group is hidden too; repeated until no group has a single hidden row.
//!
//! The groups of an export are, for each dimension rows add up along (the level's finest key
//! — class, school or district — and the `--by` split), the rows equal in every other key and
//! in period; and, along time, the rows of one key in the same calendar week, in the same
//! month, and across the whole range.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{Float64Type, SchemaRef};
use arrow::util::display::array_value_to_string;

use super::{Indicator, Level, Request};
use crate::error::Result;

/// The rows of one key grouped along time: by period (siblings of another dimension), or
/// the periods of one calendar week, month or the whole range.
#[derive(Clone, Copy)]
enum Along {
    Period,
    Week,
    Month,
    Range,
}

/// Columns that only name what another column identifies (a school's name, a notice's
/// title): they follow their key, and never make a group of their own.
fn follows(column: &str) -> Option<&'static str> {
    match column {
        "school_name" => Some("school_code"),
        "title" => Some("notice_id"),
        _ => None,
    }
}

/// Applies complementary suppression to an export's rows (already under the small-cell
/// rule), for an indicator whose rows add up (rates and counts).
pub(crate) fn complementary(
    ind: &Indicator,
    req: &Request,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    let additive = ind.has_fraction() || ind.is_count();
    if !additive || batches.iter().all(|b| b.num_rows() == 0) {
        return Ok(batches);
    }
    let all = arrow::compute::concat_batches(&schema, &batches)?;
    let n = all.num_rows();
    let index = |name: &str| schema.index_of(name);
    let period = index("period_start")?;
    let suppressed_col = index("suppressed")?;
    let measure_col = if ind.has_fraction() {
        index("denominator")?
    } else {
        index("value")?
    };
    // The key columns: everything before the period.
    let keys: Vec<usize> = (0..period).collect();
    let name_of = |i: usize| schema.field(i).name().as_str();
    let mut dims: Vec<&str> = Vec::new();
    if let Some(finest) = match req.level {
        Level::Class => Some("class_code"),
        Level::School => Some("school_code"),
        Level::District => Some("district"),
        Level::Bureau => None,
    } {
        dims.push(finest);
    }
    match req.by.as_deref() {
        Some("notice") => dims.push("notice_id"),
        Some(other) => dims.push(other),
        None => {}
    }
    let text = |col: usize, row: usize| -> String {
        array_value_to_string(all.column(col), row).unwrap_or_default()
    };
    // Every group as a list of rows.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    // Along time, the periods of a row add up to its calendar week, its month and the whole
    // range, each of which another page or download may show.
    let span = |row: usize, along: Along| -> String {
        let start = text(period, row);
        match along {
            Along::Period => start,
            Along::Week => chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")
                .map(|d| {
                    let w = chrono::Datelike::iso_week(&d);
                    format!("{}-W{}", w.year(), w.week())
                })
                .unwrap_or(start),
            Along::Month => start.chars().take(7).collect(),
            Along::Range => String::new(),
        }
    };
    let mut collect = |key_cols: &[usize], along: Along| {
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for row in 0..n {
            let mut key = String::new();
            for &c in key_cols {
                key.push_str(&text(c, row));
                key.push('\u{1}');
            }
            key.push_str(&span(row, along));
            by_key.entry(key).or_default().push(row);
        }
        groups.extend(by_key.into_values().filter(|g| g.len() > 1));
    };
    for dim in &dims {
        let others: Vec<usize> = keys
            .iter()
            .copied()
            .filter(|&c| name_of(c) != *dim && follows(name_of(c)) != Some(dim))
            .collect();
        collect(&others, Along::Period);
    }
    for along in [Along::Week, Along::Month, Along::Range] {
        collect(&keys, along);
    }

    let measure: Vec<Option<f64>> = {
        let col = all.column(measure_col);
        let as_f64 = arrow::compute::cast(col, &arrow::datatypes::DataType::Float64)?;
        let values = as_f64.as_primitive::<Float64Type>();
        (0..n)
            .map(|i| values.is_valid(i).then(|| values.value(i)))
            .collect()
    };
    let was = all.column(suppressed_col).as_boolean().clone();
    let mut hidden: Vec<bool> = (0..n).map(|i| was.is_valid(i) && was.value(i)).collect();
    loop {
        let mut changed = false;
        for g in &groups {
            if g.iter().filter(|&&r| hidden[r]).count() != 1 {
                continue;
            }
            // The next smallest shown row (an empty one is no help to anyone: it is skipped).
            let next = g
                .iter()
                .copied()
                .filter(|&r| !hidden[r] && measure[r].is_some_and(|m| m > 0.0))
                .min_by(|&a, &b| {
                    measure[a]
                        .partial_cmp(&measure[b])
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then(a.cmp(&b))
                });
            if let Some(r) = next {
                hidden[r] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let newly: Vec<bool> = (0..n)
        .map(|i| hidden[i] && !(was.is_valid(i) && was.value(i)))
        .collect();
    if !newly.contains(&true) {
        return Ok(vec![all]);
    }
    let mask = BooleanArray::from(newly);
    let mut columns = all.columns().to_vec();
    for name in ["numerator", "denominator", "value"] {
        let i = index(name)?;
        columns[i] = arrow::compute::nullif(&columns[i], &mask)?;
    }
    columns[suppressed_col] = Arc::new(BooleanArray::from(hidden));
    Ok(vec![RecordBatch::try_new(schema, columns)?])
}
