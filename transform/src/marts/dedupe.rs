//! The keys of a dataset sent more than once: the only rows its current view must rank.

use super::*;

/// The table the build registers the keys sent more than once in.
pub(super) const DUP_TABLE: &str = "edulake_build_dup_keys";

/// The keys of a dataset sent more than once (on these days): the `dup` of
/// [`current_view_sql`]. For a dated dataset keyed by `(date, student_id)` they are found a
/// month at a time with a hash set of the 128-bit pseudonyms of each day, far faster than a
/// SQL aggregate over every key; otherwise (or if an id is not a pseudonym) by the SQL.
pub async fn duplicate_keys(
    ctx: &SessionContext,
    d: &Dataset,
    days: Option<&[NaiveDate]>,
    schools: Option<&[String]>,
) -> Result<RecordBatch> {
    if let (Some(days), ["date", "student_id"]) = (days, d.key_stored().as_slice()) {
        let mut found = Vec::new();
        let mut pseudonyms = true;
        for month in days.chunks(31) {
            match duplicate_pseudonyms(ctx, d, month, schools).await? {
                Some(keys) => found.extend(keys),
                None => {
                    pseudonyms = false;
                    break;
                }
            }
        }
        if pseudonyms {
            let schema = Arc::new(arrow::datatypes::Schema::new(vec![
                arrow::datatypes::Field::new("date", arrow::datatypes::DataType::Date32, false),
                arrow::datatypes::Field::new("student_id", arrow::datatypes::DataType::Utf8, false),
            ]));
            let day_col =
                arrow::array::Date32Array::from_iter_values(found.iter().map(|(d, _)| *d));
            let id_col =
                arrow::array::StringArray::from_iter_values(found.iter().map(|(_, s)| s.as_str()));
            return Ok(RecordBatch::try_new(
                schema,
                vec![Arc::new(day_col), Arc::new(id_col)],
            )?);
        }
    }
    let key: Vec<String> = d.key_stored().iter().map(|k| format!("\"{k}\"")).collect();
    let filter = row_filter(days, schools);
    let df = ctx
        .sql(&format!(
            "SELECT {key} FROM raw_{name}{filter} GROUP BY {key} HAVING count(*) > 1",
            key = key.join(", "),
            name = d.name
        ))
        .await?;
    let schema: arrow::datatypes::SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok(arrow::compute::concat_batches(&schema, &batches)?)
}

/// The `(date, student_id)` sent more than once on these days, or `None` if a student id is
/// not a pseudonym.
async fn duplicate_pseudonyms(
    ctx: &SessionContext,
    d: &Dataset,
    days: &[NaiveDate],
    schools: Option<&[String]>,
) -> Result<Option<Vec<(i32, String)>>> {
    use futures::StreamExt;
    let df = ctx
        .sql(&format!(
            "SELECT date, student_id FROM raw_{}{}",
            d.name,
            row_filter(Some(days), schools)
        ))
        .await?;
    let mut seen: HashMap<i32, HashSet<u128, BuildHasherDefault<PseudonymHasher>>> = HashMap::new();
    let mut dups: BTreeSet<(i32, String)> = BTreeSet::new();
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let dates = batch
            .column(0)
            .as_primitive::<arrow::datatypes::Date32Type>();
        let ids = batch.column(1);
        for row in 0..batch.num_rows() {
            let id = if let Some(a) = ids.as_string_view_opt() {
                a.value(row)
            } else if let Some(a) = ids.as_string_opt::<i32>() {
                a.value(row)
            } else {
                return Ok(None);
            };
            let Some(bits) = (id.len() == 32)
                .then(|| u128::from_str_radix(id, 16).ok())
                .flatten()
            else {
                return Ok(None);
            };
            let day = dates.value(row);
            if !seen.entry(day).or_default().insert(bits) {
                dups.insert((day, id.to_string()));
            }
        }
    }
    Ok(Some(dups.into_iter().collect()))
}

/// Hashes a pseudonym by its own low bits: they are an HMAC's output, already uniform.
#[derive(Default)]
struct PseudonymHasher(u64);

impl std::hash::Hasher for PseudonymHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}
