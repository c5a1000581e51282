//! The helpers every indicator reads (`_*.sql`), in order, and which of the `<table>_ids`
//! helpers resolve local ids for a lake.

/// Which tables hold rows sent with only a local id (REPORTING.md): only their `<table>_ids`
/// helper resolves ids through the roster; every other one is the table itself (the same
/// rows, from a much smaller plan). A table never loses such rows once it has them. Likewise
/// whether any register row stands for a leave approval's span ([`LocalIds::LEAVES`]): only
/// then does `attendance_rows` look for the school days of the spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalIds(u8);

impl LocalIds {
    /// The tables whose rows may carry only a local id.
    pub const TABLES: [&'static str; 4] = [
        "enrolment",
        "attendance",
        "health_report",
        "attendance_exceptions",
    ];
    /// The name [`LocalIds::of`] takes for "a register holds leave spans".
    pub const LEAVES: &'static str = "leave spans";
    /// Every table resolves, and leave spans are looked for: the SQL in full, as a definition
    /// and for other engines.
    pub const ALL: LocalIds = LocalIds(0b1_1111);
    pub const NONE: LocalIds = LocalIds(0);

    /// These tables resolve (and, with [`LocalIds::LEAVES`] among them, leave spans count).
    pub fn of<'a>(tables: impl IntoIterator<Item = &'a str>) -> LocalIds {
        let mut mask = 0;
        for t in tables {
            if let Some(i) = Self::TABLES.iter().position(|x| *x == t) {
                mask |= 1 << i;
            }
            if t == Self::LEAVES {
                mask |= 1 << Self::TABLES.len();
            }
        }
        LocalIds(mask)
    }

    /// Whether `what` (a table of [`LocalIds::TABLES`], or [`LocalIds::LEAVES`]) was found.
    pub fn holds(&self, what: &str) -> bool {
        if what == Self::LEAVES {
            self.leaves()
        } else {
            self.resolves(what)
        }
    }

    /// Whether some register row stands for a day of a leave approval's span.
    pub fn leaves(&self) -> bool {
        self.0 & (1 << Self::TABLES.len()) != 0
    }

    pub fn resolves(&self, table: &str) -> bool {
        Self::TABLES
            .iter()
            .position(|x| *x == table)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }
}

/// The helpers a build keeps as tables of their own (`marts/<name>`, by day), in the order
/// it builds them, each with its stage: every indicator reading one then scans a table instead
/// of computing the helper again in each query (DataFusion inlines a CTE wherever it is
/// named, so a helper named in three places of a statement was computed three times).
/// `attendance_rows`, `health_ids` and `class_report_days` read only the current views;
/// `class_days` reads the first and the last.
pub const KEPT: &[(&str, u8)] = &[
    ("attendance_rows", 1),
    ("health_ids", 1),
    ("class_report_days", 1),
    ("class_days", 2),
];

/// Which of the [`KEPT`] helpers a session reads as tables (fresh ones), the rest computed
/// where they are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Kept(u8);

impl Kept {
    pub const NONE: Kept = Kept(0);
    pub const ALL: Kept = Kept((1 << KEPT.len()) - 1);

    fn bit(name: &str) -> u8 {
        KEPT.iter()
            .position(|(n, _)| *n == name)
            .map_or(0, |i| 1 << i)
    }

    /// These and `name`.
    pub fn with(self, name: &str) -> Kept {
        Kept(self.0 | Self::bit(name))
    }

    /// These but `name`.
    pub fn without(self, name: &str) -> Kept {
        Kept(self.0 & !Self::bit(name))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0 & Self::bit(name) != 0
    }
}

/// How one session reads the helpers: which `<table>_ids` resolve local ids, and which of the
/// [`KEPT`] helpers are tables (built before the indicators and fresh) rather than computed in
/// each query that names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Helpers {
    pub ids: LocalIds,
    pub kept: Kept,
}

impl From<LocalIds> for Helpers {
    fn from(ids: LocalIds) -> Self {
        Helpers {
            ids,
            kept: Kept::NONE,
        }
    }
}

/// The helpers every indicator may read, in the order they are defined (each reads only the
/// current views, `periods` and the helpers before it). A rule several indicators share (what
/// counts as attended, which shape of a report wins, whose id a local id is) is written once,
/// in its helper. `<table>_ids` (`None` here) is the table with local ids resolved, see
/// [`person_ids`].
static HELPERS: &[(&str, Option<&str>)] = &[
    (
        "id_links",
        Some(include_str!("../../indicators/_id_links.sql")),
    ),
    ("enrolment_ids", None),
    ("attendance_ids", None),
    ("health_ids", None),
    ("exception_ids", None),
    (
        "roster_day",
        Some(include_str!("../../indicators/_roster_day.sql")),
    ),
    ("roster", Some(include_str!("../../indicators/_roster.sql"))),
    (
        "attendance_rows",
        Some(include_str!("../../indicators/_attendance_rows.sql")),
    ),
    (
        "class_report_days",
        Some(include_str!("../../indicators/_class_report_days.sql")),
    ),
    (
        "class_days",
        Some(include_str!("../../indicators/_class_days.sql")),
    ),
];

/// The table, key and groups of each `<table>_ids` helper: a group (a school's day, roster
/// snapshot or register) is where one person's key can be sent under both kinds of id.
fn ids_helper(
    name: &str,
) -> (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
) {
    match name {
        "enrolment_ids" => (
            "enrolment",
            &["school_code", "as_of_date", "student_id"],
            &["school_code", "as_of_date"],
        ),
        "attendance_ids" => (
            "attendance",
            &["date", "student_id"],
            &["school_code", "date"],
        ),
        "health_ids" => (
            "health_report",
            &["date", "student_id"],
            &["school_code", "date"],
        ),
        _ => (
            "attendance_exceptions",
            &["_batch_id", "date", "student_id"],
            &["school_code", "_batch_id", "date"],
        ),
    }
}

/// A helper's definition, from its SQL file's header (for the data dictionary).
pub fn helper_definition(name: &str) -> String {
    let Some((_, sql)) = HELPERS.iter().find(|(n, _)| *n == name) else {
        return String::new();
    };
    match sql {
        Some(sql) => super::header_fields(sql)
            .remove("definition")
            .unwrap_or_default(),
        None => format!(
            "`{}` — {}",
            ids_helper(name).0,
            super::header_fields(include_str!("../../indicators/_person_ids.sql"))
                .remove("definition")
                .unwrap_or_default()
        ),
    }
}

/// The helpers' SQL, each `<table>_ids` resolving where `h.ids` says; without the helpers
/// that are kept tables (their names then read the tables).
pub(super) fn helpers(h: Helpers) -> impl Iterator<Item = (&'static str, String)> {
    HELPERS
        .iter()
        .filter(move |(name, _)| !h.kept.contains(name))
        .map(move |(name, sql)| match sql {
            Some(sql) if *name == "attendance_rows" && !h.ids.leaves() => {
                (*name, without_leaves(sql))
            }
            Some(sql) => (*name, sql.to_string()),
            None => {
                let (table, key, group) = ids_helper(name);
                (*name, person_ids(table, key, group, h.ids.resolves(table)))
            }
        })
}

/// `attendance_rows` for a lake whose registers hold no leave span: the block that finds the
/// spans' school days (between its `-- leaves:` markers) is every register row.
fn without_leaves(sql: &str) -> String {
    const BEGIN: &str = "-- leaves: begin\n";
    const END: &str = "-- leaves: end\n";
    match (sql.find(BEGIN), sql.find(END)) {
        (Some(a), Some(b)) if a < b => format!(
            "{}registered_rows AS (\n    -- no register of the lake has a leave span\n    \
             SELECT * FROM exception_ids\n),\n{}",
            &sql[..a],
            &sql[b + END.len()..]
        ),
        _ => sql.to_string(),
    }
}

/// The SQL of a kept helper's table over these days, reading the helpers as `h` says (never
/// the table itself).
pub fn kept_sql(name: &str, days: &[chrono::NaiveDate], h: Helpers) -> String {
    let h = Helpers {
        kept: h.kept.without(name),
        ..h
    };
    format!(
        "{}SELECT * FROM kept",
        super::with_helpers(
            &super::day_periods_sql(days),
            "kept",
            &format!(
                "SELECT * FROM {name} WHERE date IN ({})",
                crate::marts::date_list(days)
            ),
            h,
        )
    )
}

/// `<table>_ids`: a table's rows with local ids resolved through the roster, from the one
/// template `_person_ids.sql` (the rule is written once; only the table and its columns vary);
/// without `resolve`, the table's rows as they are.
fn person_ids(table: &str, key: &[&str], group: &[&str], resolve: bool) -> String {
    let d = edulake_schemas::stored_by_name(table).expect("a stored table");
    let mut columns: Vec<&str> = d.columns.iter().map(|c| c.stored_name()).collect();
    columns.extend(["_batch_id", "_ingested_at"]);
    if d.coverage_rows {
        // Read as sent (every row, with its row number), not through a current view.
        columns.push("_row");
    }
    if !resolve {
        return format!("SELECT {} FROM {table}", columns.join(", "));
    }
    let list = |f: &dyn Fn(usize, &str) -> String, items: &[&str], sep: &str| {
        items
            .iter()
            .enumerate()
            .map(|(i, c)| f(i, c))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let resolved = list(
        &|_, c| match c {
            "student_id" => "coalesce(l._ln, t.student_id) AS student_id".to_string(),
            c => format!("t.{c}"),
        },
        &columns,
        ", ",
    );
    include_str!("../../indicators/_person_ids.sql")
        .replace("{table}", table)
        .replace("{resolved_columns}", &resolved)
        .replace(
            "{r_columns}",
            &list(&|_, c| format!("r.{c}"), &columns, ", "),
        )
        .replace("{columns}", &columns.join(", "))
        .replace(
            "{group_as}",
            &list(&|i, c| format!("{c} AS _g{i}"), group, ", "),
        )
        .replace("{group}", &group.join(", "))
        .replace(
            "{m_r_group}",
            &list(&|i, c| format!("m._g{i} = r.{c}"), group, " AND "),
        )
        .replace("{r_key}", &list(&|_, c| format!("r.{c}"), key, ", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendance_rows_looks_for_leave_spans_only_where_a_register_has_them() {
        let sql = |ids: LocalIds| {
            helpers(ids.into())
                .find(|(n, _)| *n == "attendance_rows")
                .map(|(_, s)| s)
                .unwrap()
        };
        let full = sql(LocalIds::ALL);
        assert!(full.contains("leave_school_days") && full.contains("registered_rows AS ("));
        let plain = sql(LocalIds::of(["attendance"]));
        assert!(!plain.contains("leave_") && plain.contains("registered_rows AS ("));
        assert!(!plain.contains("-- leaves:"));
        let with = sql(LocalIds::of([LocalIds::LEAVES]));
        assert_eq!(with, full);
    }
}
