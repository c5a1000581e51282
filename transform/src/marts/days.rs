//! Which days a build recomputes for a mart (those its new batches touched, and after them
//! where a day's rows read the days before), and in chunks of what size.

use super::*;

/// The days a mart must recompute since `before`, or `None` for all of it.
pub(super) async fn touched_days(
    layer: &QueryLayer,
    mart: &Mart,
    before: Option<&MartState>,
    want: &MartState,
    batches: &[BatchRecord],
) -> Result<Option<BTreeSet<NaiveDate>>> {
    let Some(before) = before else {
        return Ok(None);
    };
    if before.definition != want.definition || !mart.dated() {
        return Ok(None);
    }
    let mut days = BTreeSet::new();
    for (source, &now) in &want.sources {
        let then = before.sources.get(source).copied().unwrap_or(-1);
        if then == now {
            continue;
        }
        if then < 0 || now < then {
            return Ok(None);
        }
        let new: Vec<&BatchRecord> = batches
            .iter()
            .filter(|b| b.dataset == *source && b.table_version > then && b.table_version <= now)
            .collect();
        let versions: HashSet<i64> = new.iter().map(|b| b.table_version).collect();
        // A version without a batch (a maintenance commit): no way to tell what it touched.
        if versions.len() as i64 != now - then {
            return Ok(None);
        }
        let dated =
            edulake_schemas::stored_by_name(source).is_some_and(|d| d.partition_by == ["date"]);
        match source.as_str() {
            _ if dated => {
                for b in &new {
                    for d in &b.dates {
                        let day = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| {
                            TransformError::Internal(format!("batch {} date {d}: {e}", b.batch_id))
                        })?;
                        days.insert(day);
                    }
                }
            }
            "enrolment" => {
                // A new snapshot changes the roster in force from its date on.
                // A roster that links local ids to national ones may resolve rows of any
                // earlier day: then every day is recomputed.
                let (_, rows) = layer
                    .run(&format!(
                        "SELECT CASE WHEN bool_or(local_id IS NOT NULL AND student_id <> local_id) \
                                THEN DATE '0001-01-01' ELSE min(as_of_date) END \
                         FROM raw_enrolment WHERE _batch_id IN ({})",
                        batch_id_list(&new)
                    ))
                    .await?;
                let first = rows.iter().find(|b| b.num_rows() > 0).and_then(|b| {
                    let a = b.column(0).as_primitive::<arrow::datatypes::Date32Type>();
                    (!a.is_null(0)).then(|| edulake_schemas::lake::date_from_days(a.value(0)))
                });
                let Some(first) = first else {
                    return Ok(None);
                };
                // The days with data from then on: a day without data has no rows to change.
                days.extend(layer.data_days().iter().filter(|d| **d >= first));
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(days))
}

/// These days and the days with data up to `after` days after each of them.
pub(super) fn days_and_after(
    data_days: &[NaiveDate],
    days: &BTreeSet<NaiveDate>,
    after: i64,
) -> BTreeSet<NaiveDate> {
    let mut out = days.clone();
    for day in days {
        let last = *day + chrono::Duration::days(after);
        out.extend(data_days.iter().filter(|d| *d > day && **d <= last));
    }
    out
}

/// Rows read per day by the build, estimated from the batch records (read once per build,
/// as a city's batches name hundreds of thousands of days): the rows each batch stored,
/// shared evenly by its days, and for each school and day an exception register covers, the
/// rows its roster implies (the school's latest roster, or an average school's where the
/// rosters came in files of several schools).
pub(super) fn rows_per_day(batches: &[BatchRecord]) -> BTreeMap<NaiveDate, u64> {
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let mut roster: HashMap<&str, (i64, u64)> = HashMap::new();
    let mut unsplit = 0u64;
    let mut schools: HashSet<&str> = HashSet::new();
    let mut registered: HashSet<(&str, NaiveDate)> = HashSet::new();
    for b in batches {
        let school = b.school_code.as_deref();
        schools.extend(school);
        if b.dataset == "enrolment" {
            match school {
                Some(s) => {
                    let latest = roster.entry(s).or_default();
                    *latest = (*latest).max((b.ingested_at, b.rows_stored));
                }
                None => unsplit += b.rows_stored,
            }
        }
        if b.dates.is_empty() {
            continue;
        }
        let share = b.rows_stored / b.dates.len() as u64;
        for day in b
            .dates
            .iter()
            .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            *per_day.entry(day).or_default() += share;
            if b.dataset == edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name {
                registered.insert((school.unwrap_or(""), day));
            }
        }
    }
    let average = unsplit / schools.len().max(1) as u64;
    for (school, day) in registered {
        let implied = roster.get(school).map_or(average, |r| r.1);
        *per_day.entry(day).or_default() += implied;
    }
    per_day
}

/// The days in chunks of at most `scale` × [`CHUNK_ROWS`] rows read (one day may be more).
pub(super) fn chunk_days(
    days: &[NaiveDate],
    per_day: &BTreeMap<NaiveDate, u64>,
    scale: u64,
) -> Vec<Vec<NaiveDate>> {
    let limit = std::env::var("EDULAKE_BUILD_CHUNK_ROWS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(CHUNK_ROWS)
        .max(1)
        .saturating_mul(scale);
    let mut chunks: Vec<Vec<NaiveDate>> = Vec::new();
    let mut rows = 0;
    for day in days {
        let n = per_day.get(day).copied().unwrap_or(0);
        match chunks.last_mut() {
            Some(chunk) if rows + n <= limit => chunk.push(*day),
            _ => {
                chunks.push(vec![*day]);
                rows = 0;
            }
        }
        rows += n;
    }
    if chunks.is_empty() {
        chunks.push(Vec::new());
    }
    chunks
}
