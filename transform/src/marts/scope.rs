//! Which schools' rows alone a build may recompute after an upload (see
//! [`Work::Schools`](super::Work::Schools)).

use super::*;

/// The most schools whose rows a build recomputes alone on a day; an upload touching more
/// recomputes its whole days.
const SCOPE_SCHOOLS: usize = 32;

/// The schools whose rows alone a build may recompute (see [`Work::Schools`]): the schools
/// of the attendance and health-report rows ingested since the current views were built,
/// when those rows fall on days the lake already had (a new day is a new collection day for
/// every school), they come from at most [`SCOPE_SCHOOLS`] schools, and no student's key on
/// those days is held by both one of these schools and another (then the current view of the
/// other school could change too).
#[derive(Debug, Clone)]
pub struct SchoolScope {
    pub schools: Vec<String>,
    /// Per dated dataset with new rows: the versions the scope was found between.
    between: BTreeMap<String, (i64, i64)>,
}

impl SchoolScope {
    /// Whether a mart's changes since `before` are exactly what the scope was found for.
    pub(super) fn covers(&self, before: &MartState, want: &MartState) -> bool {
        want.sources.iter().all(|(source, &now)| {
            let then = before.sources.get(source).copied().unwrap_or(-1);
            then == now || self.between.get(source) == Some(&(then, now))
        })
    }
}

/// Finds the [`SchoolScope`] of the rows ingested since the current views were built, if
/// they have one.
pub async fn school_scope(
    layer: &QueryLayer,
    batches: &[BatchRecord],
) -> Result<Option<SchoolScope>> {
    let lake = layer.lake();
    let mut schools: BTreeSet<String> = BTreeSet::new();
    let mut new_days: Vec<(&'static Dataset, Vec<NaiveDate>)> = Vec::new();
    let mut between = BTreeMap::new();
    for d in edulake_schemas::all()
        .iter()
        .filter(|d| d.key_stored() == ["date", "student_id"])
    {
        let mart = Mart::Current(d);
        let Some(table) = lake.load(&mart.table()).await? else {
            return Ok(None);
        };
        let (Some(before), want) = (state(&table).await?, layer.wanted_state(&mart)) else {
            return Ok(None);
        };
        let then = before.sources.get(d.name).copied().unwrap_or(-1);
        let now = want.sources.get(d.name).copied().unwrap_or(-1);
        if before.definition != want.definition || then < 0 || now < then {
            return Ok(None);
        }
        if then == now {
            continue;
        }
        let new: Vec<&BatchRecord> = batches
            .iter()
            .filter(|b| b.dataset == d.name && b.table_version > then && b.table_version <= now)
            .collect();
        let versions: HashSet<i64> = new.iter().map(|b| b.table_version).collect();
        if versions.len() as i64 != now - then {
            return Ok(None);
        }
        let old_days: HashSet<&str> = batches
            .iter()
            .filter(|b| b.dataset == d.name && b.table_version <= then)
            .flat_map(|b| b.dates.iter().map(String::as_str))
            .collect();
        let mut days = BTreeSet::new();
        for day in new.iter().flat_map(|b| &b.dates) {
            if !old_days.contains(day.as_str()) {
                return Ok(None);
            }
            days.insert(parse_day(day)?);
        }
        let days: Vec<NaiveDate> = days.into_iter().collect();
        let (_, rows) = layer
            .run(&format!(
                "SELECT DISTINCT school_code FROM raw_{}{} AND _batch_id IN ({}) LIMIT {}",
                d.name,
                row_filter(Some(&days), None),
                batch_id_list(&new),
                SCOPE_SCHOOLS + 1
            ))
            .await?;
        for b in &rows {
            let codes = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
            let codes = codes.as_string::<i32>();
            schools.extend(codes.iter().flatten().map(str::to_string));
        }
        if schools.len() > SCOPE_SCHOOLS {
            return Ok(None);
        }
        between.insert(d.name.to_string(), (then, now));
        new_days.push((d, days));
    }
    if schools.is_empty() {
        return Ok(None);
    }
    let schools: Vec<String> = schools.into_iter().collect();
    for (d, days) in &new_days {
        let (_, shared) = layer
            .run(&format!(
                "SELECT 1 FROM raw_{name} WHERE date IN ({days}) AND school_code NOT IN ({list}) \
                 AND student_id IN (SELECT student_id FROM raw_{name}{filter}) LIMIT 1",
                name = d.name,
                days = date_list(days),
                list = school_list(&schools),
                filter = row_filter(Some(days), Some(&schools)),
            ))
            .await?;
        if shared.iter().any(|b| b.num_rows() > 0) {
            return Ok(None);
        }
    }
    Ok(Some(SchoolScope { schools, between }))
}

/// The batches' ids as a SQL list of string literals.
pub(super) fn batch_id_list(batches: &[&BatchRecord]) -> String {
    batches
        .iter()
        .map(|b| indicators::sql_str(&b.batch_id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_day(d: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map_err(|e| TransformError::Internal(format!("batch date {d}: {e}")))
}
