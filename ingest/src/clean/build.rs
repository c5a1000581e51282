//! A cleaned row's typed values, a column's memo of its last cell, and the Arrow builders the
//! values go to, a record batch every [`CHUNK_ROWS`] rows.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use edulake_schemas::dataset::Kind;

use super::CleanContext;

/// Rows per record batch handed to the lake writer.
pub(super) const CHUNK_ROWS: usize = 64 * 1024;

/// A typed cell value.
pub(super) enum Val<'a> {
    Null,
    Str(Cow<'a, str>),
    /// A pseudonym, shared by every row of the same person.
    Shared(Arc<str>),
    Int(i32),
    Float(f64),
    Date(i32),
    Ts(i64),
    Bool(bool),
    List(Vec<&'static str>),
}

impl Val<'_> {
    /// The value's text, for a text column.
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Shared(s) => Some(s),
            _ => None,
        }
    }

    /// The value for a memo: its text shared (a replay copies no text).
    pub(super) fn kept(&self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Str(s) => Val::Shared(Arc::from(&**s)),
            Val::Shared(s) => Val::Shared(s.clone()),
            Val::Int(i) => Val::Int(*i),
            Val::Float(f) => Val::Float(*f),
            Val::Date(d) => Val::Date(*d),
            Val::Ts(t) => Val::Ts(*t),
            Val::Bool(b) => Val::Bool(*b),
            Val::List(l) => Val::List(l.clone()),
        }
    }
}

/// A column's last cell and what it read as: a file's rows repeat their school, class, status
/// and day, so a run of equal cells is read once. The row's grade and day are part of what a
/// cell means (a class `1班`, a cohort).
pub(super) struct Memo {
    pub text: String,
    pub grade: Option<u32>,
    pub day: Option<NaiveDate>,
    pub val: Val<'static>,
    /// The value was the cell's own text (it is lent again, not copied).
    pub as_is: bool,
}

impl Memo {
    pub(super) fn replay<'a>(&self, text: &'a str) -> Val<'a> {
        if self.as_is {
            return Val::Str(Cow::Borrowed(text));
        }
        self.val.kept()
    }
}

pub(super) enum Builder {
    Str(StringBuilder),
    Int(Int32Builder),
    Float(Float64Builder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
    List(ListBuilder<StringBuilder>),
}

impl Builder {
    pub(super) fn for_kind(kind: Kind) -> Builder {
        match kind {
            Kind::Str | Kind::Enum(_) => Builder::Str(StringBuilder::new()),
            Kind::Int | Kind::Grade | Kind::BirthYear => Builder::Int(Int32Builder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Date => Builder::Date(Date32Builder::new()),
            Kind::Timestamp => Builder::Ts(TimestampMicrosecondBuilder::new()),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
            Kind::EnumList(_) => Builder::List(ListBuilder::new(StringBuilder::new())),
        }
    }

    pub(super) fn push(&mut self, v: &Val) {
        match (self, v) {
            (Builder::Str(b), Val::Str(s)) => b.append_value(s),
            (Builder::Str(b), Val::Shared(s)) => b.append_value(&**s),
            (Builder::Str(b), _) => b.append_null(),
            (Builder::Int(b), Val::Int(i)) => b.append_value(*i),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Float(b), Val::Float(f)) => b.append_value(*f),
            (Builder::Float(b), _) => b.append_null(),
            (Builder::Date(b), Val::Date(d)) => b.append_value(*d),
            (Builder::Date(b), _) => b.append_null(),
            (Builder::Ts(b), Val::Ts(t)) => b.append_value(*t),
            (Builder::Ts(b), _) => b.append_null(),
            (Builder::Bool(b), Val::Bool(x)) => b.append_value(*x),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::List(b), Val::List(items)) => {
                for i in items {
                    b.values().append_value(i);
                }
                b.append(true);
            }
            (Builder::List(b), _) => b.append(false),
        }
    }

    pub(super) fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::List(b) => Arc::new(b.finish()),
        }
    }
}

/// An emptied vector of values, its allocation reused for rows that borrow another record.
pub(super) fn recycle<'a, 'b>(mut v: Vec<Val<'a>>) -> Vec<Val<'b>> {
    v.clear();
    v.into_iter().map(|_| Val::Null).collect()
}

pub(super) fn finish_chunk(
    ctx: &CleanContext,
    schema: &arrow::datatypes::SchemaRef,
    builders: &mut [Builder],
    row_numbers: &mut Int64Builder,
    n: usize,
) -> Result<RecordBatch, edulake_schemas::words::Msg> {
    let mut cols: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
    let mut batch_ids = StringBuilder::with_capacity(n, n * ctx.batch_id.len());
    let mut ingested = TimestampMicrosecondBuilder::with_capacity(n);
    for _ in 0..n {
        batch_ids.append_value(ctx.batch_id);
        ingested.append_value(ctx.ingested_at);
    }
    cols.push(Arc::new(batch_ids.finish()));
    cols.push(Arc::new(ingested.finish().with_timezone("UTC")));
    cols.push(Arc::new(row_numbers.finish()));
    RecordBatch::try_new(schema.clone(), cols)
        .map_err(|e| edulake_schemas::msg!("internal_columns", detail = e.to_string()))
}
