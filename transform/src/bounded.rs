//! What a query someone typed may cost, and the checks that hold it to that.
//!
//! A query from a user (the SQL endpoint, `edulake sql`) is bounded before and while it runs:
//! - its text: at most [`Limits::max_chars`] characters, and expressions and subqueries nested
//!   at most [`Limits::max_depth`] deep. The depth is measured on a thread with a stack of its
//!   own, large enough for any text within the length limit, so a query such as
//!   `SELECT 1+1+…+1` with thousands of terms is refused instead of overflowing a worker's stack
//!   in the planner;
//! - its memory: every operator that holds rows (sorts, joins, aggregates) draws from the
//!   session's memory pool and spills or fails when the pool is spent, and a result collected
//!   for a page or a download draws from the same pool, batch by batch;
//! - joins, unions and tables: at most [`MAX_TABLES`] tables and [`MAX_SET_OPERATIONS`] set
//!   operations, which are planned as trees as deep as they are many;
//! - the functions that make big values from small arguments (`repeat`, `lpad`, `rpad`,
//!   `array_repeat`, `range`, `generate_series`, `replace`, `concat`) refuse a value over
//!   [`MAX_VALUE_BYTES`] / [`MAX_LIST_ITEMS`] before making it, and `levenshtein` two texts
//!   whose comparison would take minutes. Values can still be made big by other means (the
//!   `||` operator doubling a value in nested subqueries, say): the SQL endpoint therefore
//!   runs each query in a process of its own, with an address-space limit the system enforces
//!   (`serve`'s web query module);
//! - its time: a query still running after [`Limits::time`] is cancelled (its stream dropped,
//!   which stops every task it started).

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Query, Visit, Visitor};
use futures::{Stream, StreamExt};

use crate::error::{Result, TransformError};

/// The largest string or binary value the bounded functions make (16 MiB).
pub const MAX_VALUE_BYTES: u64 = 16 << 20;
/// The longest list the bounded functions make.
pub const MAX_LIST_ITEMS: u64 = 1_000_000;

/// What one query may cost.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Characters of its text.
    pub max_chars: usize,
    /// Expressions and subqueries nested in one another.
    pub max_depth: usize,
    /// How long it may run; `None`: as long as it takes (the command line).
    pub time: Option<Duration>,
    /// The most a result collected in memory may hold.
    pub max_result_bytes: usize,
}

impl Limits {
    /// For queries asked over the web: `EDULAKE_QUERY_SECONDS` (default 30) of time.
    pub fn web() -> Limits {
        let seconds = std::env::var("EDULAKE_QUERY_SECONDS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(30)
            .max(1);
        Limits {
            time: Some(Duration::from_secs(seconds)),
            ..Limits::command_line()
        }
    }

    /// For the command line: no time limit (the operator can stop it).
    pub fn command_line() -> Limits {
        Limits {
            max_chars: 100_000,
            max_depth: 200,
            time: None,
            max_result_bytes: 512 << 20,
        }
    }
}

/// Refuses a query whose text is longer or more deeply nested than `limits` allow. Parsing
/// and measuring run on a thread with a 64 MiB stack (reserved, not used, unless a query is
/// that deep), so no text within the length limit can overflow it.
pub fn check_text(sql: &str, limits: &Limits) -> Result<()> {
    let chars = sql.chars().count();
    if chars > limits.max_chars {
        return Err(TransformError::BadQuery(format!(
            "the query is {chars} characters long; at most {} are accepted",
            limits.max_chars
        )));
    }
    let text = sql.to_string();
    let max = limits.max_depth;
    let measured = std::thread::Builder::new()
        .name("edulake-sql-check".into())
        .stack_size(64 << 20)
        .spawn(move || -> Result<()> {
            let statements = datafusion::sql::parser::DFParser::parse_sql(&text)
                .map_err(|e| TransformError::BadQuery(e.to_string()))?;
            let mut depth = Depth::default();
            for s in &statements {
                if let datafusion::sql::parser::Statement::Statement(s) = s {
                    let _ = s.visit(&mut depth);
                }
            }
            // The tree is dropped here, on this thread's stack, too.
            drop(statements);
            if depth.max > max {
                return Err(TransformError::BadQuery(format!(
                    "the query nests expressions {} deep; at most {max} levels are accepted",
                    depth.max
                )));
            }
            // Joins and set operations are planned as trees as deep as they are many.
            if depth.tables > MAX_TABLES {
                return Err(TransformError::BadQuery(format!(
                    "the query reads {} tables; at most {MAX_TABLES} are accepted in one query",
                    depth.tables
                )));
            }
            let set_operations = set_operations(&text);
            if set_operations > MAX_SET_OPERATIONS {
                return Err(TransformError::BadQuery(format!(
                    "the query has {set_operations} UNION, INTERSECT or EXCEPT; at most \
                     {MAX_SET_OPERATIONS} are accepted in one query"
                )));
            }
            Ok(())
        })
        .map_err(|e| TransformError::Internal(format!("cannot start the SQL check: {e}")))?;
    measured
        .join()
        .map_err(|_| TransformError::Internal("the SQL check failed".into()))?
}

/// Tables (and table functions, subqueries in FROM) one query may read.
pub const MAX_TABLES: usize = 64;
/// UNION, INTERSECT and EXCEPT in one query.
pub const MAX_SET_OPERATIONS: usize = 64;

/// How many UNION, INTERSECT and EXCEPT a text has (its words, outside strings and quoted
/// names).
fn set_operations(sql: &str) -> usize {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let dialect = GenericDialect {};
    Tokenizer::new(&dialect, sql)
        .tokenize()
        .map(|tokens| {
            tokens
                .iter()
                .filter(|t| {
                    matches!(t, Token::Word(w)
                        if matches!(w.keyword, Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT | Keyword::MINUS))
                })
                .count()
        })
        .unwrap_or(0)
}

/// The deepest nesting of expressions and queries in a statement, and the tables it reads.
#[derive(Default)]
struct Depth {
    now: usize,
    max: usize,
    tables: usize,
}

impl Depth {
    fn enter(&mut self) {
        self.now += 1;
        self.max = self.max.max(self.now);
    }
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _: &SqlExpr) -> std::ops::ControlFlow<()> {
        self.enter();
        std::ops::ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _: &SqlExpr) -> std::ops::ControlFlow<()> {
        self.now -= 1;
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, _: &Query) -> std::ops::ControlFlow<()> {
        self.enter();
        std::ops::ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> std::ops::ControlFlow<()> {
        self.now -= 1;
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(
        &mut self,
        _: &datafusion::sql::sqlparser::ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        self.tables += 1;
        std::ops::ControlFlow::Continue(())
    }
}

/// Collects a query's result, each batch drawing from the memory pool (so a result too big
/// for it fails instead of exhausting the machine), within the time limit.
pub async fn collect(
    stream: SendableRecordBatchStream,
    pool: &Arc<dyn MemoryPool>,
    limits: &Limits,
) -> Result<Vec<RecordBatch>> {
    let reservation = MemoryConsumer::new("query result").register(pool);
    let mut stream = Box::pin(with_deadline(stream, limits.time));
    let mut out = Vec::new();
    let mut bytes = 0usize;
    // Batches of one result often share buffers: each counted once.
    let mut counter = datafusion::common::utils::memory::RecordBatchMemoryCounter::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let size = counter.count_batch(&batch);
        bytes += size;
        if bytes > limits.max_result_bytes {
            return Err(TransformError::TooBig(format!(
                "the result is over {} MiB; add a LIMIT, filter or aggregate",
                limits.max_result_bytes >> 20
            )));
        }
        reservation.try_grow(size).map_err(|_| {
            TransformError::TooBig(format!(
                "the result does not fit in the memory edulake may use ({} MiB so far); add a \
                 LIMIT, filter or aggregate",
                bytes >> 20
            ))
        })?;
        out.push(batch);
    }
    Ok(out)
}

/// A query's batches, ended with an error once `time` has passed (the query is cancelled:
/// its stream, and every task it runs, dropped).
pub fn with_deadline(
    stream: SendableRecordBatchStream,
    time: Option<Duration>,
) -> impl Stream<Item = Result<RecordBatch>> + Send {
    let deadline = time.map(|t| (tokio::time::Instant::now() + t, t));
    futures::stream::unfold(Some(stream), move |state| async move {
        let mut s = state?;
        let next = match deadline {
            Some((at, t)) => match tokio::time::timeout_at(at, s.next()).await {
                Ok(next) => next,
                Err(_) => {
                    drop(s);
                    return Some((
                        Err(TransformError::TooBig(format!(
                            "the query ran longer than {} s and was stopped; narrow it",
                            t.as_secs()
                        ))),
                        None,
                    ));
                }
            },
            None => s.next().await,
        };
        next.map(|item| (item.map_err(TransformError::from), Some(s)))
    })
}

/// Replaces the session's value-making functions with bounded ones.
pub fn register_bounded_functions(ctx: &SessionContext) {
    for (name, check) in [
        ("repeat", check_repeat as Check),
        ("lpad", check_pad),
        ("rpad", check_pad),
        ("array_repeat", check_array_repeat),
        ("range", check_series),
        ("generate_series", check_series),
        ("replace", check_replace),
        ("concat", check_concat),
        ("concat_ws", check_concat),
        ("levenshtein", check_levenshtein),
    ] {
        if let Some(inner) = ctx.state().scalar_functions().get(name).cloned() {
            ctx.register_udf(ScalarUDF::new_from_impl(Bounded { inner, check }));
        }
    }
}

type Check = fn(&[ColumnarValue], usize) -> DfResult<()>;

/// A function that checks its arguments before it makes its value.
#[derive(Debug)]
struct Bounded {
    inner: Arc<ScalarUDF>,
    check: Check,
}

impl PartialEq for Bounded {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for Bounded {}

impl std::hash::Hash for Bounded {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.hash(state)
    }
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        (self.check)(&args.args, args.number_rows)?;
        self.inner.invoke_with_args(args)
    }
}

fn too_big(what: String) -> DataFusionError {
    DataFusionError::ResourcesExhausted(what)
}

/// The largest whole number an argument holds (over every row).
fn max_int(arg: &ColumnarValue) -> Option<i64> {
    match arg {
        ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Int64).ok()? {
            ScalarValue::Int64(v) => v,
            _ => None,
        },
        ColumnarValue::Array(a) => {
            let a = arrow::compute::cast(a, &DataType::Int64).ok()?;
            arrow::compute::max(a.as_primitive::<Int64Type>())
        }
    }
}

/// The longest string an argument holds, in bytes.
fn max_len(arg: &ColumnarValue) -> u64 {
    let array: ArrayRef = match arg {
        ColumnarValue::Scalar(s) => match s.to_array() {
            Ok(a) => a,
            Err(_) => return 0,
        },
        ColumnarValue::Array(a) => a.clone(),
    };
    match arrow::compute::cast(&array, &DataType::Utf8) {
        Ok(a) => a
            .as_string::<i32>()
            .iter()
            .flatten()
            .map(|s| s.len() as u64)
            .max()
            .unwrap_or(0),
        Err(_) => 0,
    }
}

fn check_repeat(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let (Some(text), Some(times)) = (args.first(), args.get(1)) else {
        return Ok(());
    };
    let n = max_int(times).unwrap_or(0).max(0) as u64;
    if max_len(text).saturating_mul(n) > MAX_VALUE_BYTES {
        return Err(too_big(format!(
            "repeat would make a value over {} MiB",
            MAX_VALUE_BYTES >> 20
        )));
    }
    Ok(())
}

fn check_pad(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let n = args.get(1).and_then(max_int).unwrap_or(0).max(0) as u64;
    // Each character may take four bytes.
    if n.saturating_mul(4) > MAX_VALUE_BYTES {
        return Err(too_big(format!(
            "padding to {n} characters would make a value over {} MiB",
            MAX_VALUE_BYTES >> 20
        )));
    }
    Ok(())
}

fn check_array_repeat(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let n = args.get(1).and_then(max_int).unwrap_or(0).max(0) as u64;
    if n > MAX_LIST_ITEMS {
        return Err(too_big(format!(
            "array_repeat of {n} items; at most {MAX_LIST_ITEMS}"
        )));
    }
    let item = args.first().map(max_len).unwrap_or(0).max(8);
    if item.saturating_mul(n) > MAX_VALUE_BYTES {
        return Err(too_big(format!(
            "array_repeat would make a value over {} MiB",
            MAX_VALUE_BYTES >> 20
        )));
    }
    Ok(())
}

/// `replace(text, from, to)` makes at most `len(text) / len(from)` copies of `to`.
fn check_replace(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let [text, from, to] = args else {
        return Ok(());
    };
    let (text, from, to) = (max_len(text), max_len(from).max(1), max_len(to));
    if (text / from + 1).saturating_mul(to).saturating_add(text) > MAX_VALUE_BYTES {
        return Err(too_big(format!(
            "replace could make a value over {} MiB",
            MAX_VALUE_BYTES >> 20
        )));
    }
    Ok(())
}

/// `concat` makes a value as long as its arguments together.
fn check_concat(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let total = args
        .iter()
        .map(max_len)
        .fold(0u64, |a, b| a.saturating_add(b));
    if total > MAX_VALUE_BYTES {
        return Err(too_big(format!(
            "concat would make a value over {} MiB",
            MAX_VALUE_BYTES >> 20
        )));
    }
    Ok(())
}

/// `levenshtein(a, b)` takes time as `len(a) × len(b)`: at most 100 million steps a row.
fn check_levenshtein(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return Ok(());
    };
    if max_len(a).saturating_mul(max_len(b)) > 100_000_000 {
        return Err(too_big(
            "levenshtein of texts this long would run for minutes; compare shorter texts".into(),
        ));
    }
    Ok(())
}

/// `range`/`generate_series` as a value: the number of items from the bounds and step. Whole
/// numbers are counted exactly; dates and times are counted in days (a step under a day is
/// counted as one second).
fn check_series(args: &[ColumnarValue], _rows: usize) -> DfResult<()> {
    let (lo, hi, step) = match args.len() {
        1 => (Some(0), max_int(&args[0]), Some(1)),
        2 | 3 => {
            let numbers = args[..2].iter().all(|a| a.data_type().is_integer());
            if !numbers {
                return check_time_series(args);
            }
            let step = args.get(2).map_or(Some(1), max_int);
            (min_int(&args[0]), max_int(&args[1]), step)
        }
        _ => return Ok(()),
    };
    let (Some(lo), Some(hi), Some(step)) = (lo, hi, step) else {
        return Ok(());
    };
    let span = (hi as i128 - lo as i128).unsigned_abs();
    let items = span / (step as i128).unsigned_abs().max(1);
    if items > MAX_LIST_ITEMS as u128 {
        return Err(too_big(format!(
            "a series of {items} items; at most {MAX_LIST_ITEMS}"
        )));
    }
    Ok(())
}

fn min_int(arg: &ColumnarValue) -> Option<i64> {
    match arg {
        ColumnarValue::Scalar(_) => max_int(arg),
        ColumnarValue::Array(a) => {
            let a = arrow::compute::cast(a, &DataType::Int64).ok()?;
            arrow::compute::min(a.as_primitive::<Int64Type>())
        }
    }
}

fn check_time_series(args: &[ColumnarValue]) -> DfResult<()> {
    // The first and last bound over every row, as seconds since the epoch.
    let seconds = |arg: &ColumnarValue| -> Option<(i64, i64)> {
        let a = match arg {
            ColumnarValue::Scalar(s) => s.to_array().ok()?,
            ColumnarValue::Array(a) => a.clone(),
        };
        let (as_int, unit) = match a.data_type() {
            DataType::Date32 | DataType::Date64 => {
                let days = arrow::compute::cast(&a, &DataType::Date32).ok()?;
                (
                    arrow::compute::cast(&days, &DataType::Int32).ok()?,
                    86_400i64,
                )
            }
            DataType::Timestamp(..) => {
                let second = DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None);
                (arrow::compute::cast(&a, &second).ok()?, 1i64)
            }
            _ => return None,
        };
        let values = arrow::compute::cast(&as_int, &DataType::Int64).ok()?;
        let v = values.as_primitive::<Int64Type>();
        Some((
            arrow::compute::min(v)?.saturating_mul(unit),
            arrow::compute::max(v)?.saturating_mul(unit),
        ))
    };
    let (Some((lo, _)), Some((_, hi))) = (seconds(&args[0]), seconds(&args[1])) else {
        return Ok(());
    };
    let step = match args.get(2) {
        Some(ColumnarValue::Scalar(ScalarValue::IntervalMonthDayNano(Some(i)))) => {
            (i.months as i64 * 30 * 86_400 + i.days as i64 * 86_400 + i.nanoseconds / 1_000_000_000)
                .abs()
                .max(1)
        }
        Some(ColumnarValue::Scalar(ScalarValue::IntervalDayTime(Some(i)))) => {
            (i.days as i64 * 86_400 + i.milliseconds as i64 / 1000)
                .abs()
                .max(1)
        }
        Some(ColumnarValue::Scalar(ScalarValue::IntervalYearMonth(Some(m)))) => {
            (*m as i64 * 30 * 86_400).abs().max(1)
        }
        _ => 86_400,
    };
    let items = (hi as i128 - lo as i128).unsigned_abs() / step as u128;
    if items > MAX_LIST_ITEMS as u128 {
        return Err(too_big(format!(
            "a series of {items} items; at most {MAX_LIST_ITEMS}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_and_deepest_texts_are_measured_not_overflowed() {
        let limits = Limits::command_line();
        // As many terms as the length limit allows, each a level deeper.
        let terms = vec!["1"; (limits.max_chars - 7) / 2].join("+");
        let err = check_text(&format!("SELECT {terms}"), &limits).unwrap_err();
        assert!(err.to_string().contains("nests expressions"), "{err}");
        let ands = vec!["a = 1"; 20_000].join(" AND ");
        let err = check_text(&format!("SELECT 1 FROM t WHERE {ands}"), &limits).unwrap_err();
        assert!(err.to_string().contains("characters long"), "{err}");
        let ands = vec!["a=1"; 14_000].join(" OR ");
        let err = check_text(&format!("SELECT 1 FROM t WHERE {ands}"), &limits).unwrap_err();
        assert!(err.to_string().contains("nests expressions"), "{err}");
        // Parentheses: the parser's own recursion limit.
        let parens = format!("SELECT {}1{}", "(".repeat(5_000), ")".repeat(5_000));
        assert!(check_text(&parens, &limits).is_err());
        assert!(check_text("SELECT 1 + 2 * 3", &limits).is_ok());
        // Set operations and joins, planned as trees as deep as they are many.
        let unions = vec!["SELECT 1"; 3_000].join(" UNION ");
        let err = check_text(&unions, &limits).unwrap_err();
        assert!(err.to_string().contains("2999 UNION"), "{err}");
        let joins: String = (1..1_000)
            .map(|i| format!(" JOIN t t{i} ON true"))
            .collect();
        let err = check_text(&format!("SELECT 1 FROM t t0{joins}"), &limits).unwrap_err();
        assert!(err.to_string().contains("reads 1000 tables"), "{err}");
        let commas: Vec<String> = (0..100).map(|i| format!("t t{i}")).collect();
        let err = check_text(&format!("SELECT 1 FROM {}", commas.join(", ")), &limits).unwrap_err();
        assert!(err.to_string().contains("reads 100 tables"), "{err}");
        assert!(check_text("SELECT 'union union' FROM t a JOIN t b ON true", &limits).is_ok());
    }
}
