//! One cell: its text read as its column's kind (a code, a class, a vocabulary word, a
//! number in range, a date, a time), or the reason it cannot be.

use std::borrow::Cow;

use chrono::NaiveDate;
use chrono_tz::Tz;

use edulake_schemas::dataset::{Column, Kind, Required, Rule};
use edulake_schemas::msg;
use edulake_schemas::vocab::{ISSUER_BUREAU, LIST_SEPARATORS, NO_SYMPTOM};
use edulake_schemas::words::{Arg, Msg};

use super::ids::MAX_LEAVE_DAYS;
use super::{CleanContext, Val};
use crate::values;

pub(super) enum Parsed<'a> {
    Val(Val<'a>),
    Pseudonymise(&'a str),
    /// A local id: hashed with the row's school code once the whole row is read.
    Local(&'a str),
}

/// What other cells of a row say that a cell's meaning depends on.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowContext {
    /// The row's grade (a class written `1班` beside it).
    pub grade: Option<u32>,
    /// The row's date or roster date (a cohort `初2025级` is a grade on a day).
    pub day: Option<NaiveDate>,
}

pub(super) fn parse_cell<'a>(
    ctx: &CleanContext,
    c: &Column,
    text: Option<&'a str>,
    spreadsheet: bool,
    row: RowContext,
) -> Result<Parsed<'a>, Msg> {
    let Some(t) = text else {
        return if !matches!(c.required, Required::No | Required::Unless(_)) {
            Err(msg!("required_missing"))
        } else {
            Ok(Parsed::Val(Val::Null))
        };
    };
    if c.rule == Rule::Pseudonymised {
        return Ok(Parsed::Pseudonymise(t));
    }
    if c.rule == Rule::LocalId {
        return Ok(Parsed::Local(t));
    }
    let v = match c.kind {
        Kind::Str => {
            match c.rule {
                Rule::SchoolCode => {
                    values::check_school_code(t)?;
                    if let (Some(up), "school_code") = (&ctx.upload.school, c.name) {
                        if !up.eq_ignore_ascii_case(t) {
                            return Err(msg!("not_upload_school", value = t, school = up));
                        }
                    }
                    // School codes are stored in upper case, so `abc01` and `ABC01` are one school.
                    if t.bytes().any(|b| b.is_ascii_lowercase()) {
                        return Ok(Parsed::Val(Val::Str(Cow::Owned(t.to_ascii_uppercase()))));
                    }
                }
                Rule::ClassName => {
                    let class = edulake_schemas::class::normalise(t, row.grade);
                    if let Some(up) = &ctx.upload.class {
                        if *up != class {
                            return Err(msg!("not_upload_class", value = t, class = up));
                        }
                    }
                    if class != t {
                        return Ok(Parsed::Val(Val::Str(Cow::Owned(class))));
                    }
                }
                Rule::Issuer => {
                    if ISSUER_BUREAU.iter().any(|b| b.eq_ignore_ascii_case(t)) {
                        return Ok(Parsed::Val(Val::Str(Cow::Borrowed("bureau"))));
                    }
                    values::check_school_code(t).map_err(|_| msg!("not_an_issuer", value = t))?;
                }
                _ => {}
            }
            Val::Str(Cow::Borrowed(t))
        }
        Kind::Enum(vocab) => match vocab.resolve(t) {
            Some(v) => Val::Str(Cow::Borrowed(v)),
            None => {
                return Err(msg!(
                    "not_in_vocab",
                    value = t,
                    vocab = Arg::Vocab(vocab),
                    expected = vocab
                ))
            }
        },
        Kind::EnumList(vocab) => {
            let mut items: Vec<&'static str> = Vec::new();
            for part in t
                .split(LIST_SEPARATORS)
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                if NO_SYMPTOM.iter().any(|n| n.eq_ignore_ascii_case(part)) {
                    continue;
                }
                match vocab.resolve(part) {
                    Some(v) if !items.contains(&v) => items.push(v),
                    Some(_) => {}
                    None => {
                        return Err(msg!(
                            "not_in_vocab_list",
                            value = part,
                            vocab = Arg::Vocab(vocab),
                            expected = vocab
                        ))
                    }
                }
            }
            Val::List(items)
        }
        Kind::Int => Val::Int(int_in_range(c, values::parse_int(t)?)?),
        Kind::Grade => Val::Int(values::parse_grade_on(t, row.day)? as i32),
        Kind::Float => {
            let f = values::parse_float(t)?;
            if let Rule::Range(lo, hi) = c.rule {
                if !(lo..=hi).contains(&f) {
                    return Err(msg!("out_of_range", value = f, low = lo, high = hi));
                }
            }
            Val::Float(f)
        }
        Kind::Date => {
            // The row's day was read from this very cell (`date`, `as_of_date`).
            let day = match row.day {
                Some(day) if matches!(c.name, "date" | "as_of_date") => day,
                _ => values::parse_date(t, spreadsheet)?,
            };
            if let (Some(up), "as_of_date") = (ctx.upload.as_of, c.name) {
                if day != up {
                    return Err(msg!("not_upload_as_of", value = day, as_of = up));
                }
            }
            if matches!(c.name, "leave_start" | "leave_end") {
                // A leave may run past today (its days up to today count), not past a year.
                if day < ctx.window.earliest || (day - ctx.window.today).num_days() > MAX_LEAVE_DAYS
                {
                    return Err(msg!(
                        "leave_date_out_of_range",
                        value = day,
                        earliest = ctx.window.earliest
                    ));
                }
            } else {
                ctx.window.check(day)?;
            }
            Val::Date(values::days_since_epoch(day))
        }
        Kind::BirthYear => {
            let born = values::parse_date(t, spreadsheet)?;
            let year = values::year_of(born);
            if born > ctx.window.today || year < 1900 {
                return Err(msg!("implausible_birth", value = born));
            }
            Val::Int(year)
        }
        Kind::Timestamp => {
            let micros = values::parse_timestamp(t, ctx.tz, spreadsheet)?;
            let local = chrono::DateTime::from_timestamp_micros(micros)
                .map(|ts| ts.with_timezone(&ctx.tz).date_naive())
                .ok_or_else(|| msg!("implausible_time", value = t))?;
            ctx.window.check(local)?;
            Val::Ts(micros)
        }
        Kind::Bool => Val::Bool(values::parse_bool(t)?),
    };
    Ok(Parsed::Val(v))
}

fn int_in_range(c: &Column, v: i64) -> Result<i32, Msg> {
    match c.rule {
        Rule::Range(lo, hi) if !(lo..=hi).contains(&(v as f64)) => {
            return Err(msg!("out_of_range", value = v, low = lo, high = hi));
        }
        Rule::AtMost(_) | Rule::Remainder { .. } if v < 0 => {
            return Err(msg!("not_a_count", value = v));
        }
        _ => {}
    }
    i32::try_from(v).map_err(|_| msg!("too_large", value = v))
}

pub(super) fn format_ts(micros: i64, tz: Tz) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}
