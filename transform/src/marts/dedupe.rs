//! The keys of a dataset sent more than once: the only rows its current view must rank.

use datafusion::logical_expr::ScalarUDF;

use super::*;

/// The name of the function the build registers for the keys sent more than once.
pub(super) const DUP_FUNCTION: &str = "edulake_build_dup_key";

/// The keys of a dataset sent more than once: the rows a current view must rank. They are
/// held in a hash set in memory (a few bytes per key sent twice) and asked as a SQL function
/// (`name(key columns…)`, true for a key sent more than once), so the view is two filters
/// over the raw rows as they stream past: no join holds the raw rows, or even the keys, in
/// the query's memory.
pub struct DupKeys {
    pub rows: usize,
    keys: HashSet<Box<[u8]>>,
    types: Vec<arrow::datatypes::DataType>,
}

impl DupKeys {
    fn new(batch: RecordBatch) -> Result<DupKeys> {
        let columns = batch
            .columns()
            .iter()
            .map(comparable)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let types: Vec<_> = columns.iter().map(|c| c.data_type().clone()).collect();
        let converter = converter(&types)?;
        let rows = converter.convert_columns(&columns)?;
        Ok(DupKeys {
            rows: batch.num_rows(),
            keys: rows.iter().map(|r| Box::from(r.as_ref())).collect(),
            types,
        })
    }

    /// The SQL function `name(key columns…)`: whether a row's key is one of these.
    pub fn function(self, name: &str) -> ScalarUDF {
        ScalarUDF::new_from_impl(IsDupKey {
            id: NEXT_KEY_SET.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            name: name.to_string(),
            signature: datafusion::logical_expr::Signature::any(
                self.types.len(),
                datafusion::logical_expr::Volatility::Immutable,
            ),
            keys: Arc::new(self),
        })
    }
}

static NEXT_KEY_SET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A column as the key set compares it: text as views (a scan's own type; the row encoding
/// of text is the same whatever array holds it).
fn comparable(
    c: &arrow::array::ArrayRef,
) -> std::result::Result<arrow::array::ArrayRef, arrow::error::ArrowError> {
    use arrow::datatypes::DataType;
    match c.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 => arrow::compute::cast(c, &DataType::Utf8View),
        _ => Ok(c.clone()),
    }
}

fn converter(types: &[arrow::datatypes::DataType]) -> Result<arrow::row::RowConverter> {
    Ok(arrow::row::RowConverter::new(
        types
            .iter()
            .map(|t| arrow::row::SortField::new(t.clone()))
            .collect(),
    )?)
}

#[derive(Debug)]
struct IsDupKey {
    id: u64,
    name: String,
    signature: datafusion::logical_expr::Signature,
    keys: Arc<DupKeys>,
}

impl std::fmt::Debug for DupKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DupKeys({} keys)", self.rows)
    }
}

impl PartialEq for IsDupKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for IsDupKey {}

impl std::hash::Hash for IsDupKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state)
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for IsDupKey {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(
        &self,
        _: &[arrow::datatypes::DataType],
    ) -> datafusion::error::Result<arrow::datatypes::DataType> {
        Ok(arrow::datatypes::DataType::Boolean)
    }

    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> datafusion::error::Result<datafusion::logical_expr::ColumnarValue> {
        let rows = args.number_rows;
        let columns = args
            .args
            .iter()
            .map(|a| a.to_array(rows).and_then(|c| Ok(comparable(&c)?)))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let types: Vec<_> = columns.iter().map(|c| c.data_type().clone()).collect();
        if types != self.keys.types {
            return Err(datafusion::error::DataFusionError::Internal(format!(
                "{}: key of types {types:?}, the keys are {:?}",
                self.name, self.keys.types
            )));
        }
        let encoded = converter(&types)
            .map_err(|e| datafusion::error::DataFusionError::Internal(e.to_string()))?
            .convert_columns(&columns)?;
        let found: arrow::array::BooleanArray = encoded
            .iter()
            .map(|r| Some(self.keys.keys.contains(r.as_ref())))
            .collect();
        Ok(datafusion::logical_expr::ColumnarValue::Array(Arc::new(
            found,
        )))
    }
}

/// The keys of a dataset sent more than once (on these days): the `dup` of
/// [`current_view_sql`]. For a dated dataset keyed by `(date, student_id)` they are found a
/// month at a time with a hash set of the 128-bit pseudonyms of each day, far faster than a
/// SQL aggregate over every key; otherwise (or if an id is not a pseudonym) by the SQL.
pub async fn duplicate_keys(
    ctx: &SessionContext,
    d: &Dataset,
    days: Option<&[NaiveDate]>,
    schools: Option<&[String]>,
) -> Result<DupKeys> {
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
            return DupKeys::new(RecordBatch::try_new(
                schema,
                vec![Arc::new(day_col), Arc::new(id_col)],
            )?);
        }
    }
    if let Some(keys) = duplicate_pseudonyms_by_text(ctx, d, days, schools).await? {
        return DupKeys::new(keys);
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
    DupKeys::new(arrow::compute::concat_batches(&schema, &batches)?)
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

/// For a dataset keyed by a text and a pseudonym (a read receipt: the notice and its
/// recipient), the keys sent more than once, found as [`duplicate_pseudonyms`] finds a day's:
/// a hash set of 128-bit pseudonyms per text (a city's 38M receipts: a few seconds, where the
/// SQL aggregate over every key took a minute). `None` for any other key, or if an id is not
/// a pseudonym.
async fn duplicate_pseudonyms_by_text(
    ctx: &SessionContext,
    d: &Dataset,
    days: Option<&[NaiveDate]>,
    schools: Option<&[String]>,
) -> Result<Option<RecordBatch>> {
    use futures::StreamExt;
    let [text, id] = d.key else {
        return Ok(None);
    };
    let (Some(text), Some(id)) = (d.column(text), d.column(id)) else {
        return Ok(None);
    };
    if !matches!(text.kind, edulake_schemas::Kind::Str)
        || text.is_pseudonymised()
        || !id.is_pseudonymised()
    {
        return Ok(None);
    }
    let df = ctx
        .sql(&format!(
            "SELECT CAST(\"{}\" AS VARCHAR), \"{}\" FROM raw_{}{}",
            text.stored_name(),
            id.stored_name(),
            d.name,
            row_filter(days, schools)
        ))
        .await?;
    let mut seen: HashMap<String, HashSet<u128, BuildHasherDefault<PseudonymHasher>>> =
        HashMap::new();
    let mut dups: BTreeSet<(String, String)> = BTreeSet::new();
    let mut stream = df.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let texts = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let ids = arrow::compute::cast(batch.column(1), &arrow::datatypes::DataType::Utf8)?;
        let ids = ids.as_string::<i32>();
        for row in 0..batch.num_rows() {
            if texts.is_null(row) || ids.is_null(row) {
                return Ok(None);
            }
            let (key, pseudonym) = (texts.value(row), ids.value(row));
            let Some(bits) = (pseudonym.len() == 32)
                .then(|| u128::from_str_radix(pseudonym, 16).ok())
                .flatten()
            else {
                return Ok(None);
            };
            let set = match seen.get_mut(key) {
                Some(set) => set,
                None => seen.entry(key.to_string()).or_default(),
            };
            if !set.insert(bits) {
                dups.insert((key.to_string(), pseudonym.to_string()));
            }
        }
    }
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new(text.stored_name(), arrow::datatypes::DataType::Utf8, false),
        arrow::datatypes::Field::new(id.stored_name(), arrow::datatypes::DataType::Utf8, false),
    ]));
    let text_col =
        arrow::array::StringArray::from_iter_values(dups.iter().map(|(t, _)| t.as_str()));
    let id_col = arrow::array::StringArray::from_iter_values(dups.iter().map(|(_, i)| i.as_str()));
    Ok(Some(RecordBatch::try_new(
        schema,
        vec![Arc::new(text_col), Arc::new(id_col)],
    )?))
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
