//! Who a row is about, and which days it stands for: national and local ids (a local id
//! hashed with its school; several national-id columns that must agree) and a leave
//! approval's span.

use super::*;

/// Several national-id columns of one row must name the same person (a row where they differ
/// is rejected, not the file).
pub(super) fn ids_agree(
    rec: &StringRecord,
    columns: &[usize],
    header: &[String],
) -> Result<(), Msg> {
    let filled: Vec<(usize, &str)> = columns
        .iter()
        .filter_map(|i| rec.get(*i).map(|t| (*i, clean_text(t))))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let Some((first, id)) = filled.first() else {
        return Ok(());
    };
    match filled
        .iter()
        .find(|(_, t)| crate::pseudo::normalise_id(t) != crate::pseudo::normalise_id(id))
    {
        Some((other, t)) => Err(msg!(
            "ids_disagree",
            first = &header[*first],
            id = *id,
            other = &header[*other],
            other_id = *t
        )),
        None => Ok(()),
    }
}

/// A row's person: the local id hashed with the school code (a local id is unique only
/// within its school); a row with only a local id stores that pseudonym as its `student_id`,
/// which the roster resolves when reading. Returns whether the row has only a local id;
/// `Err`: the column to blame and why.
pub(super) fn resolve_ids(
    d: &Dataset,
    vals: &mut [Val],
    local_raw: Option<(usize, &str)>,
    more_local: &[&str],
    pseudo: &mut Pseudonymiser,
) -> Result<bool, (usize, Msg)> {
    // The person's column: the pseudonymised one a local id may stand in for (a student's
    // 学籍号, a receipt's recipient).
    let Some(sid) = d
        .columns
        .iter()
        .position(|c| c.rule == Rule::Pseudonymised && matches!(c.required, Required::Unless(_)))
    else {
        return Ok(false);
    };
    if let Some((j, raw)) = local_raw {
        let school = d
            .columns
            .iter()
            .position(|c| c.name == "school_code")
            .and_then(|k| vals[k].text().map(String::from));
        // Without a valid school the row is already rejected for it.
        if let Some(school) = school {
            vals[j] = Val::Shared(pseudo.pseudonym(&local_key(&school, raw)));
            // A roster keeps the row's further local ids (each its own system's name for the
            // same student); another dataset keeps the first.
            let more = d.columns.iter().position(|c| c.rule == Rule::MoreLocalIds);
            if let (Some(k), false) = (more, more_local.is_empty()) {
                let mut seen: Vec<&str> = Vec::new();
                let mut hashed = String::new();
                for raw in more_local {
                    if seen.contains(raw) {
                        continue;
                    }
                    seen.push(raw);
                    if !hashed.is_empty() {
                        hashed.push(' ');
                    }
                    hashed.push_str(&pseudo.pseudonym(&local_key(&school, raw)));
                }
                vals[k] = Val::Str(Cow::Owned(hashed));
            }
        }
    }
    if matches!(vals[sid], Val::Null) {
        match local_raw.map(|(j, _)| &vals[j]) {
            Some(Val::Shared(p)) => {
                vals[sid] = Val::Shared(p.clone());
                return Ok(true);
            }
            Some(_) => {}
            None if d.columns[sid].name == "student_id" => {
                return Err((sid, msg!("student_id_missing")))
            }
            None => return Err((sid, msg!("recipient_missing"))),
        }
    }
    Ok(false)
}

/// The longest leave approval taken: a longer span is a typo, not a leave.
pub(super) const MAX_LEAVE_DAYS: i64 = 366;

/// The weekdays of a leave span within the date window, as days since the epoch: the days it
/// may cover. Which of them are school days of the school (not a holiday) is known only from
/// its other reports, so the build decides (`_attendance_rows.sql`).
pub(super) fn leave_days(
    from: NaiveDate,
    to: NaiveDate,
    window: &values::Window,
) -> Result<Vec<i32>, Msg> {
    use chrono::Datelike;
    if to < from {
        return Err(msg!("leave_ends_before", from = from, to = to));
    }
    if (to - from).num_days() >= MAX_LEAVE_DAYS {
        return Err(msg!(
            "leave_too_long",
            days = MAX_LEAVE_DAYS,
            from = from,
            to = to
        ));
    }
    let first = from.max(window.earliest);
    let last = to.min(window.today);
    let days: Vec<i32> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| d.weekday().number_from_monday() <= 5)
        .map(values::days_since_epoch)
        .collect();
    if days.is_empty() {
        return Err(msg!(
            "leave_not_begun",
            from = from,
            to = to,
            today = window.today
        ));
    }
    Ok(days)
}

/// What a local id is hashed as: with its school, so the same 学号 in two schools is two
/// people, and never equal to a national id's pseudonym.
pub fn local_key(school: &str, local: &str) -> String {
    format!("LOCAL|{}|{}", school.to_ascii_uppercase(), local)
}
