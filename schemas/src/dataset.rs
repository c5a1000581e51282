//! What a dataset is: its columns, their kinds, aliases and rules, and its lake table schema.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::fold;
use crate::vocab::Vocabulary;

/// The kind of value a column holds, as written in DATA.md.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    Int,
    Float,
    Date,
    /// A local timestamp in the bureau's time zone, stored in UTC.
    Timestamp,
    Bool,
    Enum(&'static Vocabulary),
    /// A list of enum values separated by `,` `，` `;` `、` `/`, with "none" words for empty.
    EnumList(&'static Vocabulary),
    /// A school grade 1–12, also written `一年级`…`高三`.
    Grade,
    /// A date of which only the year is stored.
    BirthYear,
}

impl Kind {
    /// The type name used in the data dictionary.
    pub fn label(&self) -> String {
        match self {
            Kind::Str => "str".into(),
            Kind::Int => "int".into(),
            Kind::Float => "float".into(),
            Kind::Date => "date".into(),
            Kind::Timestamp => "timestamp (UTC)".into(),
            Kind::Bool => "bool".into(),
            Kind::Enum(v) => format!("enum `{}`", v.name),
            Kind::EnumList(v) => format!("list of enum `{}`", v.name),
            Kind::Grade => "int (grade)".into(),
            Kind::BirthYear => "date → int (year)".into(),
        }
    }

    /// The Arrow type of the stored column.
    pub fn arrow_type(&self) -> DataType {
        match self {
            Kind::Str | Kind::Enum(_) => DataType::Utf8,
            Kind::Int | Kind::Grade | Kind::BirthYear => DataType::Int32,
            Kind::Float => DataType::Float64,
            Kind::Date => DataType::Date32,
            Kind::Timestamp => timestamp_type(),
            Kind::Bool => DataType::Boolean,
            Kind::EnumList(_) => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        }
    }
}

/// The lake's timestamp type: microseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Whether a column must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    Yes,
    No,
    /// Required, but an upload may supply it instead (`--school`, `--as-of`).
    FromUpload,
    /// Required unless the file has the named column instead (a national id, or a local id
    /// that the roster resolves).
    Unless(&'static str),
}

/// A validation rule beyond the kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    None,
    /// 1–20 ASCII letters or digits.
    SchoolCode,
    /// Inclusive numeric range.
    Range(f64, f64),
    /// `bureau` (教育局) or a school code.
    Issuer,
    /// A timestamp not before the named column of the same row.
    NotBefore(&'static str),
    /// A person's identifier, replaced by its keyed hash at ingest.
    Pseudonymised,
    /// A person's school-local identifier (校内学号, UserId): unique only within a school, so
    /// hashed together with the row's school code.
    LocalId,
    /// The further local ids of a row with several (a roster's 学籍辅号 beside its 校内学号):
    /// never named by a header, filled from the local-id columns after the first filled one,
    /// each hashed like a [`Rule::LocalId`], separated by spaces.
    MoreLocalIds,
    /// A count of people (≥ 0) not more than the named count of the same row.
    AtMost(&'static str),
    /// A count of people (≥ 0): `total` minus `part` when the cell is empty, and
    /// `self + part = total` when all three are given (实到 + 缺勤 = 应到).
    Remainder {
        total: &'static str,
        part: &'static str,
    },
    /// A class name, normalised to `grade-class` where it names both (`七年级(1)班` → `7-1`),
    /// with the row's `grade` for a bare class number (`1班`).
    ClassName,
}

/// One column of a dataset.
#[derive(Debug)]
pub struct Column {
    /// The canonical English name, as stored (unless `stored_as` renames it).
    pub name: &'static str,
    pub kind: Kind,
    pub required: Required,
    /// Header words that mean this column, besides its name.
    pub aliases: &'static [&'static str],
    pub rule: Rule,
    /// The value used when the column is absent or a cell is empty.
    pub default: Option<&'static str>,
    /// The stored column's name when it differs (`birth_date` is stored as `birth_year`).
    pub stored_as: Option<&'static str>,
    pub doc: &'static str,
}

impl Column {
    /// The name of the column in the lake.
    pub fn stored_name(&self) -> &'static str {
        self.stored_as.unwrap_or(self.name)
    }

    /// Whether a header names this column (case-insensitive, trimmed).
    pub fn matches(&self, header: &str) -> bool {
        let h = fold(header);
        h == self.name || self.aliases.iter().any(|a| fold(a) == h)
    }

    /// Whether the stored value is a pseudonym of a person.
    pub fn is_pseudonymised(&self) -> bool {
        matches!(
            self.rule,
            Rule::Pseudonymised | Rule::LocalId | Rule::MoreLocalIds
        )
    }
}

/// One dataset of DATA.md.
#[derive(Debug)]
pub struct Dataset {
    pub name: &'static str,
    pub chinese: &'static str,
    pub sent_by: &'static str,
    /// What one row is.
    pub row_is: &'static str,
    /// The key: a later upload of a row with the same key replaces the earlier one.
    pub key: &'static [&'static str],
    /// Hive-style partition columns of the raw lake table.
    pub partition_by: &'static [&'static str],
    pub columns: &'static [Column],
    /// Rows without a person mark what an upload covers (an exception register's classes and
    /// days), so every column but `date` and `school_code` may be empty in the lake.
    pub coverage_rows: bool,
}

/// Columns every raw table carries besides the dataset's own: the batch a row came from, when
/// it was ingested (later upload wins) and its row number in the source file.
pub const META_COLUMNS: &[&str] = &["_batch_id", "_ingested_at", "_row"];

impl Dataset {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column a header names, if any.
    pub fn column_for_header(&self, header: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.matches(header))
    }

    /// Columns that must be present in a file (those an upload may supply count as present
    /// when supplied).
    pub fn required_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.required != Required::No)
    }

    /// The Arrow schema of the raw lake table: the stored columns, then the meta columns.
    pub fn lake_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c.stored_name(), c.kind.arrow_type(), !self.is_not_null(c)))
            .collect();
        fields.push(Field::new("_batch_id", DataType::Utf8, false));
        fields.push(Field::new("_ingested_at", timestamp_type(), false));
        fields.push(Field::new("_row", DataType::Int64, false));
        Arc::new(Schema::new(fields))
    }

    /// Stored columns that are never null: required ones and those with a default.
    pub fn is_not_null(&self, c: &Column) -> bool {
        if self.coverage_rows && !matches!(c.name, "date" | "school_code") {
            return false;
        }
        c.required != Required::No || c.default.is_some()
    }

    /// The stored names of the key columns.
    pub fn key_stored(&self) -> Vec<&'static str> {
        self.key
            .iter()
            .map(|k| self.column(k).map(|c| c.stored_name()).unwrap_or(k))
            .collect()
    }
}
