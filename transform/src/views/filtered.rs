//! A filtered export ([`crate::indicators::Filters`]): the indicator's cells at the level the
//! filters need (a school's type: schools; a grade without a grade split: classes), split by
//! the dimension filtered when the indicator splits by it, kept where they match and added up
//! to the level asked. For a restricted reader the cells carry their fate from the
//! indicator's family (the complementary suppression every export takes), and a filtered row
//! is hidden wherever one of its cells is: a shown filtered row is a sum of shown cells, so
//! neither it nor its difference from any total (whose hidden cells are never one alone) gives
//! a hidden cell back.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::SessionContext;

use super::QueryLayer;
use crate::bounded::Limits;
use crate::error::{Result, TransformError};
use crate::indicators::{self, sql_str, Level, Request, Role};

/// Finer levels first.
fn rank(l: Level) -> u8 {
    match l {
        Level::Class => 0,
        Level::School => 1,
        Level::District => 2,
        Level::Bureau => 3,
    }
}

impl QueryLayer {
    pub(super) async fn export_filtered(
        &self,
        req: &Request,
        limits: &Limits,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let ind = indicators::by_name(&req.indicator)?;
        let takes = ind.filters();
        if let Some(f) = req.filters.set().into_iter().find(|f| !takes.contains(f)) {
            return Err(TransformError::BadQuery(format!(
                "{} cannot be filtered by {f}{}",
                ind.name,
                if takes.is_empty() {
                    String::new()
                } else {
                    format!("; it can be filtered by: {}", takes.join(", "))
                }
            )));
        }
        let f = &req.filters;
        let grade_split = f.grade.is_some() && ind.by.iter().any(|b| b == "grade");
        // The split the cells are read with: the gender filtered, else the grade (when the
        // indicator splits by it), else the one asked for.
        let split = if f.gender.is_some() {
            Some("gender")
        } else if grade_split && f.gender.is_none() {
            Some("grade")
        } else {
            None
        };
        if let (Some(asked), Some(s)) = (req.by.as_deref(), split) {
            if asked != s {
                return Err(TransformError::BadQuery(format!(
                    "{} split by {asked} cannot be filtered by {s}",
                    ind.name
                )));
            }
        }
        let grade_by_class = f.grade.is_some() && split != Some("grade");
        let needed = if grade_by_class {
            Level::Class
        } else if f.school_type.is_some() {
            Level::School
        } else {
            req.level
        };
        if grade_by_class && !ind.levels.contains(&Level::Class) {
            return Err(TransformError::BadQuery(format!(
                "{} cannot be filtered by grade and gender at once",
                ind.name
            )));
        }
        let mut parts = req.clone();
        parts.filters = Default::default();
        parts.level = if rank(needed) < rank(req.level) {
            needed
        } else {
            req.level
        };
        parts.by = req.by.clone().or(split.map(String::from));
        // The numbers, whole; and, for a restricted reader, which cells are hidden.
        let mut whole = parts.clone();
        whole.role = Role::Bureau;
        let (schema, numbers) = self.export_cells(&whole, limits).await?;
        let hidden: Vec<bool> = match parts.role {
            Role::Bureau => vec![false; numbers.iter().map(RecordBatch::num_rows).sum()],
            Role::Restricted => {
                let (_, fated) = self.export_cells(&parts, limits).await?;
                let mut out = Vec::new();
                for b in &fated {
                    let col = b
                        .column_by_name("suppressed")
                        .and_then(|c| c.as_boolean_opt())
                        .ok_or_else(|| TransformError::Internal("no suppressed column".into()))?;
                    out.extend((0..col.len()).map(|i| col.is_valid(i) && col.value(i)));
                }
                out
            }
        };
        if hidden.len() != numbers.iter().map(RecordBatch::num_rows).sum::<usize>() {
            return Err(TransformError::Internal(
                "a filtered export's cells and their fates differ".into(),
            ));
        }
        // The cells with their fate, added up in a session of their own.
        let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new("hidden", DataType::Boolean, false)));
        let with_fate = Arc::new(Schema::new(fields));
        let mut at = 0;
        let mut cells = Vec::with_capacity(numbers.len());
        for b in &numbers {
            let mut cols = b.columns().to_vec();
            cols.push(Arc::new(BooleanArray::from(
                hidden[at..at + b.num_rows()].to_vec(),
            )));
            at += b.num_rows();
            cells.push(RecordBatch::try_new(with_fate.clone(), cols)?);
        }
        let ctx = SessionContext::new();
        let table = datafusion::datasource::MemTable::try_new(with_fate, vec![cells])?;
        ctx.register_table("cells", Arc::new(table))?;
        let mut keep = vec!["true".to_string()];
        if let Some(t) = &f.school_type {
            let codes = self
                .schools_of(&crate::reads::Scope::Bureau, Some(t))
                .await?
                .iter()
                .map(|c| sql_str(c))
                .collect::<Vec<_>>();
            keep.push(if codes.is_empty() {
                "false".into()
            } else {
                format!("c.school_code IN ({})", codes.join(", "))
            });
        }
        // A class's grade: its roster's, else the one its code is written with (`7-1`).
        let mut from = "cells c".to_string();
        if let Some(g) = f.grade {
            keep.push(if grade_by_class {
                let by_code = format!("try_cast(split_part(c.class_code, '-', 1) AS BIGINT) = {g}");
                // A lake without rosters has only the codes.
                match self
                    .run(
                        "SELECT school_code, class_code, max(grade) AS grade FROM enrolment \
                         GROUP BY school_code, class_code",
                    )
                    .await
                {
                    Ok((schema, grades)) => {
                        let grades =
                            datafusion::datasource::MemTable::try_new(schema, vec![grades])?;
                        ctx.register_table("grades", Arc::new(grades))?;
                        from.push_str(
                            " LEFT JOIN grades g ON g.school_code = c.school_code \
                             AND g.class_code = c.class_code",
                        );
                        format!("coalesce(CAST(g.grade AS BIGINT) = {g}, {by_code}, false)")
                    }
                    Err(_) => format!("coalesce({by_code}, false)"),
                }
            } else {
                format!("CAST(c.grade AS BIGINT) = {g}")
            });
        }
        if let Some(g) = &f.gender {
            keep.push(format!("c.gender = {}", sql_str(g)));
        }
        let keys: Vec<String> = req
            .level
            .keys()
            .iter()
            .map(|k| k.to_string())
            .chain(ind.columns.iter().cloned())
            .chain(match req.by.as_deref() {
                Some("notice") => vec!["notice_id".to_string(), "title".to_string()],
                Some(b) => vec![b.to_string()],
                None => Vec::new(),
            })
            .chain(["period_start".to_string(), "period_end".to_string()])
            .collect();
        let (num, den, value) = if ind.has_fraction() {
            (
                "sum(c.numerator)",
                "sum(c.denominator)",
                "CAST(sum(c.numerator) AS DOUBLE) / CAST(nullif(sum(c.denominator), 0) AS DOUBLE)",
            )
        } else {
            (
                "CAST(NULL AS BIGINT)",
                "CAST(NULL AS BIGINT)",
                "CAST(sum(c.value) AS BIGINT)",
            )
        };
        let shown = |e: &str, name: &str| {
            format!("CASE WHEN bool_or(c.hidden) THEN NULL ELSE {e} END AS {name}")
        };
        let cols: Vec<String> = keys.iter().map(|k| format!("c.{k}")).collect();
        let sql = format!(
            "SELECT {named}, {n}, {d}, {v}, bool_or(c.hidden) AS suppressed FROM {from} \
             WHERE {keep} GROUP BY {cols} ORDER BY {cols}",
            named = keys
                .iter()
                .map(|k| format!("c.{k} AS {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            cols = cols.join(", "),
            n = shown(num, "numerator"),
            d = shown(den, "denominator"),
            v = shown(value, "value"),
            keep = keep.join(" AND "),
        );
        let df = ctx.sql(&sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok((schema, batches))
    }
}
