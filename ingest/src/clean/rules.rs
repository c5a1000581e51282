//! The rules that compare cells of one row: counts derived from others (实到 = 应到 − 缺勤),
//! counts not over their class's, times not before others.

use super::*;

/// Rules that relate two columns of a row; a count given as the rest of two others is
/// derived here (实到 = 应到 − 缺勤).
pub(super) fn check_row_rules(
    ctx: &CleanContext,
    d: &Dataset,
    vals: &mut [Val],
    labels: &[String],
    line: u64,
    rejects: &mut Vec<Reject>,
) {
    let index = |name: &str| d.columns.iter().position(|x| x.name == name);
    let int = |vals: &[Val], j: Option<usize>| match j.map(|j| &vals[j]) {
        Some(Val::Int(v)) => Some(*v),
        _ => None,
    };
    // Derived counts first: the comparisons below may read them.
    for (j, c) in d.columns.iter().enumerate() {
        let Rule::Remainder { total, part } = c.rule else {
            continue;
        };
        let (t, p) = (int(vals, index(total)), int(vals, index(part)));
        let mut reject = |value: String, reason: Msg| {
            rejects.push(Reject {
                row: line,
                column: labels[j].clone(),
                value,
                reason,
            })
        };
        match (&vals[j], t, p) {
            (Val::Int(v), Some(t), Some(p)) if v + p != t => reject(
                v.to_string(),
                msg!(
                    "remainder_wrong",
                    column = Arg::column(c.name),
                    part = Arg::column(part),
                    total = Arg::column(total),
                    value = *v,
                    part_value = p,
                    total_value = t
                ),
            ),
            (Val::Int(v), Some(t), None) if *v > t => reject(
                v.to_string(),
                msg!(
                    "over_total",
                    column = Arg::column(c.name),
                    value = *v,
                    total = Arg::column(total),
                    limit = t
                ),
            ),
            (Val::Null, Some(t), Some(p)) if p > t => reject(
                String::new(),
                msg!(
                    "over_total",
                    column = Arg::column(part),
                    value = p,
                    total = Arg::column(total),
                    limit = t
                ),
            ),
            (Val::Null, Some(t), Some(p)) => vals[j] = Val::Int(t - p),
            (Val::Null, _, None) => reject(
                String::new(),
                msg!(
                    "neither_given",
                    column = Arg::column(c.name),
                    part = Arg::column(part)
                ),
            ),
            _ => {}
        }
    }
    for (j, c) in d.columns.iter().enumerate() {
        if let Rule::AtMost(other) = c.rule {
            if let (Some(v), Some(limit)) = (int(vals, Some(j)), int(vals, index(other))) {
                if v > limit {
                    rejects.push(Reject {
                        row: line,
                        column: labels[j].clone(),
                        value: v.to_string(),
                        reason: msg!(
                            "over_total",
                            column = Arg::column(c.name),
                            value = v,
                            total = Arg::column(other),
                            limit = limit
                        ),
                    });
                }
            }
        }
    }
    for (j, c) in d.columns.iter().enumerate() {
        if let Rule::NotBefore(other) = c.rule {
            let Some(k) = d.columns.iter().position(|x| x.name == other) else {
                continue;
            };
            if let (Val::Date(this), Val::Date(that)) = (&vals[j], &vals[k]) {
                if this < that {
                    rejects.push(Reject {
                        row: line,
                        column: labels[j].clone(),
                        value: values::date_from_days(*this).to_string(),
                        reason: msg!(
                            "before_other",
                            column = Arg::column(c.name),
                            other = Arg::column(other)
                        ),
                    });
                }
            }
            if let (Val::Ts(this), Val::Ts(that)) = (&vals[j], &vals[k]) {
                if this < that {
                    rejects.push(Reject {
                        row: line,
                        column: labels[j].clone(),
                        value: format_ts(*this, ctx.tz),
                        reason: msg!(
                            "before_other",
                            column = Arg::column(c.name),
                            other = Arg::column(other)
                        ),
                    });
                }
            }
        }
    }
}
