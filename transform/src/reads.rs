//! The typed reads the cockpit's pages, downloads and commands make besides indicators and
//! alerts, each over a [`Scope`] (the bureau, a district, a school): the schools of a scope,
//! the ones that have not reported on a day (催报), how many did, their places on the map, the
//! batches uploaded for them, which shape each school's days were counted from. The SQL is
//! here; the callers only render what comes back.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, SchemaRef};
use chrono::NaiveDate;

use crate::error::Result;
use crate::indicators::sql_str;
use crate::shapes::{shapes_sql, ShapesOf};
use crate::views::QueryLayer;

/// A query to try first (the demo shows it): the five schools with the lowest share of
/// attended rows.
pub const EXAMPLE_QUERY: &str = "SELECT school_code, avg(CASE WHEN status IN ('present','late','early_leave') THEN 1.0 ELSE 0 END) AS attendance FROM attendance GROUP BY school_code ORDER BY attendance LIMIT 5";

/// A query every principal may run (the designed views are everyone's): the schools with
/// the lowest attendance, per day.
pub const VIEW_EXAMPLE: &str =
    "SELECT * FROM attendance_rate_school WHERE NOT suppressed ORDER BY value LIMIT 10";

/// What a pulled source remembers (`edulake pull`), from the state directory; a new one
/// before its first pull.
pub fn pull_cursor(state_root: &std::path::Path, source: &str) -> edulake_schemas::pull::Cursor {
    edulake_schemas::pull::Cursor::read(state_root, source).unwrap_or_default()
}

/// A batch's reject report, kept in the state directory at `rel` (a path inside it), in one
/// language: `headers` as the reader's words for its row, column, value and reason, and each
/// reason in `lang` (a report is kept with both). A report kept before reasons had two
/// languages is given as it is; `None`: no such report.
pub fn reject_report(
    state_root: &std::path::Path,
    rel: &str,
    lang: edulake_schemas::words::Lang,
    headers: &[String; 4],
) -> Result<Option<Vec<u8>>> {
    let rel = std::path::Path::new(rel);
    if rel
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Ok(None);
    }
    let Ok(kept) = std::fs::read(state_root.join(rel)) else {
        return Ok(None);
    };
    Ok(Some(report_in(&kept, lang, headers).unwrap_or(kept)))
}

/// A reject report as kept, in one language; `None` for a report kept before (or unreadable).
fn report_in(
    kept: &[u8],
    lang: edulake_schemas::words::Lang,
    headers: &[String; 4],
) -> Option<Vec<u8>> {
    let body = kept.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(kept);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    let mut rows = r.records();
    let head = rows.next()?.ok()?;
    if !head.iter().eq(edulake_schemas::lake::REJECT_REPORT_HEADER) {
        return None;
    }
    let reason = match lang {
        edulake_schemas::words::Lang::Zh => 3,
        edulake_schemas::words::Lang::En => 4,
    };
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(headers).ok()?;
    for row in rows {
        let row = row.ok()?;
        let cell = |i: usize| row.get(i).unwrap_or_default();
        w.write_record([cell(0), cell(1), cell(2), cell(reason)])
            .ok()?;
    }
    w.into_inner().ok()
}

/// The schools of a scope, of a type when one is given (a value of the registry's vocabulary).
fn of_type(scope: &Scope, school_type: Option<&str>) -> String {
    match school_type {
        None => scope.schools_sql(),
        Some(t) => format!(
            "SELECT school_code FROM schools WHERE school_type = {} AND school_code IN ({})",
            sql_str(t),
            scope.schools_sql()
        ),
    }
}

/// Rows as a read returns them.
pub type Rows = (SchemaRef, Vec<RecordBatch>);

/// Where a read looks: the whole bureau, a district or a school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Bureau,
    District(String),
    School(String),
}

impl Scope {
    /// The SQL of the school codes in this scope.
    fn schools_sql(&self) -> String {
        match self {
            Scope::Bureau => "SELECT school_code FROM schools".to_string(),
            Scope::District(d) => {
                format!(
                    "SELECT school_code FROM schools WHERE district = {}",
                    sql_str(d)
                )
            }
            Scope::School(s) => format!("SELECT {} AS school_code", sql_str(s)),
        }
    }
}

/// The schools that sent attendance in any shape (rows, an exception register, a class or
/// school report) on the days from `from` to `to`: the SQL of their codes and days.
fn reported_sql(from: NaiveDate, to: NaiveDate) -> String {
    let days = format!("date BETWEEN DATE '{from}' AND DATE '{to}'");
    format!(
        "SELECT school_code, date FROM attendance WHERE {days} \
         UNION SELECT school_code, date FROM attendance_exceptions WHERE {days} \
         UNION SELECT school_code, date FROM class_report WHERE {days}"
    )
}

/// The first column's texts.
fn texts(rows: &Rows) -> Vec<String> {
    let mut out = Vec::new();
    for b in &rows.1 {
        let Ok(col) = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8) else {
            continue;
        };
        let col = col.as_string::<i32>();
        out.extend(
            (0..col.len())
                .filter(|i| col.is_valid(*i))
                .map(|i| col.value(i).to_string()),
        );
    }
    out
}

impl QueryLayer {
    /// Whether the registry knows the district or school (the bureau always is).
    pub async fn scope_is_known(&self, scope: &Scope) -> Result<bool> {
        let filter = match scope {
            Scope::Bureau => return Ok(true),
            Scope::District(d) => format!("district = {}", sql_str(d)),
            Scope::School(s) => format!("school_code = {}", sql_str(s)),
        };
        let rows = self
            .run(&format!(
                "SELECT school_code FROM schools WHERE {filter} LIMIT 1"
            ))
            .await?;
        Ok(rows.1.iter().any(|b| b.num_rows() > 0))
    }

    /// A school's name and district, if the registry lists it.
    pub async fn school(&self, code: &str) -> Result<Option<(String, String)>> {
        let rows = self
            .run(&format!(
                "SELECT school_name, district FROM schools WHERE school_code = {}",
                sql_str(code)
            ))
            .await?;
        let names = texts(&rows);
        let districts = texts(&(
            rows.0.clone(),
            rows.1
                .iter()
                .map(|b| b.project(&[1]))
                .collect::<std::result::Result<Vec<_>, _>>()?,
        ));
        Ok(names.into_iter().zip(districts).next())
    }

    /// The districts of the school registry, by name.
    pub async fn districts(&self) -> Result<Vec<String>> {
        Ok(texts(
            &self
                .run("SELECT DISTINCT district FROM schools WHERE district IS NOT NULL ORDER BY 1")
                .await?,
        ))
    }

    /// The district boundaries the bureau imported (`edulake boundaries import`), kept in the
    /// state directory ([`edulake_schemas::geo::BOUNDARIES_FILE`]); `None` before any import.
    pub fn boundaries(
        &self,
        state_root: &std::path::Path,
    ) -> Result<Option<edulake_schemas::geo::Boundaries>> {
        let path = state_root.join(edulake_schemas::geo::BOUNDARIES_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                crate::error::TransformError::Config(format!("{}: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::error::TransformError::Config(format!(
                "{}: {e}",
                path.display()
            ))),
        }
    }

    /// The codes of the schools in a scope (a school: itself, listed or not).
    pub async fn schools_in(&self, scope: &Scope) -> Result<Vec<String>> {
        self.schools_of(scope, None).await
    }

    /// The codes of the schools in a scope of a type, when one is given.
    pub async fn schools_of(
        &self,
        scope: &Scope,
        school_type: Option<&str>,
    ) -> Result<Vec<String>> {
        Ok(texts(&self.run(&of_type(scope, school_type)).await?))
    }

    /// The schools of a scope (of a type, when one is given) with no attendance in any shape
    /// on a day (催报): district, school_code, school_name.
    pub async fn schools_not_reporting(
        &self,
        scope: &Scope,
        school_type: Option<&str>,
        day: NaiveDate,
    ) -> Result<Rows> {
        self.run(&format!(
            "SELECT s.district, s.school_code, s.school_name FROM schools s \
             WHERE s.school_code IN ({}) AND s.school_code NOT IN (SELECT school_code FROM ({}) AS sent) \
             ORDER BY s.district, s.school_code",
            of_type(scope, school_type),
            reported_sql(day, day)
        ))
        .await
    }

    /// How many schools of a scope reported attendance in any shape on each day, and how many
    /// schools the scope has.
    pub async fn schools_reporting(
        &self,
        scope: &Scope,
        school_type: Option<&str>,
        days: &[NaiveDate],
    ) -> Result<(Vec<i64>, i64)> {
        let schools = of_type(scope, school_type);
        let mut columns: Vec<String> = days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(
                    "(SELECT count(DISTINCT school_code) FROM ({}) AS sent \
                     WHERE school_code IN ({schools})) AS d{i}",
                    reported_sql(*d, *d)
                )
            })
            .collect();
        columns.push(format!(
            "(SELECT count(*) FROM ({schools}) AS scope) AS schools"
        ));
        let (_, batches) = self.run(&format!("SELECT {}", columns.join(", "))).await?;
        let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok((vec![0; days.len()], 0));
        };
        let count = |i: usize| -> i64 {
            let c = b.column(i);
            match arrow::compute::cast(c, &arrow::datatypes::DataType::Int64) {
                Ok(c) => c.as_primitive::<Int64Type>().value(0),
                Err(_) => 0,
            }
        };
        Ok(((0..days.len()).map(count).collect(), count(days.len())))
    }

    /// How many schools of a scope reported attendance in any shape on each day from `from`
    /// to `to` that any did: date, schools.
    pub async fn schools_reporting_by_day(
        &self,
        scope: &Scope,
        school_type: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Rows> {
        self.run(&format!(
            "SELECT date, count(DISTINCT school_code) AS schools FROM ({}) AS sent \
             WHERE school_code IN ({}) GROUP BY date ORDER BY date",
            reported_sql(from, to),
            of_type(scope, school_type)
        ))
        .await
    }

    /// Where the schools of a scope (of a type, when one is given) are: school_code,
    /// school_name, latitude, longitude (the ones with both).
    pub async fn school_places(&self, scope: &Scope, school_type: Option<&str>) -> Result<Rows> {
        self.run(&format!(
            "SELECT school_code, school_name, latitude, longitude FROM schools \
             WHERE school_code IN ({}) AND latitude IS NOT NULL AND longitude IS NOT NULL",
            of_type(scope, school_type)
        ))
        .await
    }

    /// The files rejected whole for a scope's schools, newest first, received (in the bureau's
    /// time zone) within `range`: from the log the state directory keeps of them
    /// ([`edulake_schemas::lake::REJECTED_LOG`]); a file naming no school is the bureau's. A
    /// line that cannot be read is passed over.
    pub async fn rejected_files(
        &self,
        state_root: &std::path::Path,
        scope: &Scope,
        range: (NaiveDate, NaiveDate),
    ) -> Result<Vec<edulake_schemas::lake::RejectedFile>> {
        use edulake_schemas::lake::{RejectedFile, REJECTED_LOG};
        let text = match std::fs::read_to_string(state_root.join(REJECTED_LOG)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(crate::error::TransformError::Config(format!(
                    "the state directory's {REJECTED_LOG}: {e}"
                )))
            }
        };
        let schools: Option<std::collections::HashSet<String>> = match scope {
            Scope::Bureau => None,
            Scope::School(s) => Some([s.to_ascii_uppercase()].into()),
            Scope::District(_) => Some(
                self.schools_in(scope)
                    .await?
                    .into_iter()
                    .map(|s| s.to_ascii_uppercase())
                    .collect(),
            ),
        };
        let tz = edulake_schemas::lake::bureau_tz().unwrap_or(chrono_tz::Asia::Shanghai);
        let mut out: Vec<RejectedFile> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<RejectedFile>(l).ok())
            .filter(|f| {
                let day = chrono::DateTime::parse_from_rfc3339(&f.at)
                    .map(|t| t.with_timezone(&tz).date_naive());
                day.is_ok_and(|d| d >= range.0 && d <= range.1)
            })
            .filter(|f| match (&schools, &f.school) {
                (None, _) => true,
                (Some(set), Some(s)) => set.contains(&s.to_ascii_uppercase()),
                (Some(_), None) => false,
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    /// The batches of a scope, newest first. A batch belongs to a school when it was uploaded
    /// for it or holds rows of it (dated data: rows in the range).
    pub async fn batches_in(
        &self,
        scope: &Scope,
        range: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Rows> {
        let filter = match scope {
            Scope::Bureau => String::new(),
            _ => {
                // A school's own code as a literal: its files are then pruned by statistics.
                let of = match scope {
                    Scope::School(s) => format!("= {}", sql_str(s)),
                    _ => format!("IN ({})", scope.schools_sql()),
                };
                let holding = edulake_schemas::stored()
                    .iter()
                    .filter(|d| d.column("school_code").is_some())
                    .map(|d| {
                        let dates = match range {
                            Some((from, to)) if d.partition_by == ["date"] => {
                                format!(" AND date BETWEEN DATE '{from}' AND DATE '{to}'")
                            }
                            _ => String::new(),
                        };
                        format!(
                            "SELECT _batch_id AS id FROM raw_{} WHERE school_code {of}{dates}",
                            d.name
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" UNION ");
                format!(
                    "WHERE school_code {of} OR batch_id IN (SELECT id FROM ({holding}) AS holding)"
                )
            }
        };
        self.run(&format!(
            "SELECT batch_id, dataset, school_code, as_of_date, source_file, format, rows_read, \
             rows_stored, rows_rejected, ingested_at, reject_report IS NOT NULL AS has_reject_report \
             FROM batches {filter} ORDER BY ingested_at DESC, batch_id"
        ))
        .await
    }

    /// Every batch, oldest first, with the shape its rows were sent in, as `edulake batches`
    /// lists them.
    pub async fn batch_list(&self) -> Result<Rows> {
        self.run(
            "SELECT batch_id, dataset, \
             CASE dataset WHEN 'attendance' THEN 'rows' WHEN 'health_report' THEN 'rows' \
             WHEN 'attendance_exceptions' THEN 'exception register' WHEN 'class_report' THEN 'class report' \
             ELSE '' END AS shape, \
             school_code, source_file, source_sha256, rows_read, rows_stored, \
             rows_rejected, ingested_at FROM batches ORDER BY ingested_at, batch_id",
        )
        .await
    }

    /// Which shape of report each school's days were counted from (REPORTING.md's precedence).
    pub async fn shapes(&self, of: &ShapesOf<'_>) -> Result<Rows> {
        self.run(&shapes_sql(of)).await
    }

    /// How many current rows each dataset holds: table, current_rows.
    pub async fn current_rows(&self) -> Result<Rows> {
        let query = edulake_schemas::all()
            .iter()
            .map(|d| {
                format!(
                    "SELECT '{0}' AS \"table\", count(*) AS current_rows FROM {0}",
                    d.name
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        self.run(&query).await
    }
}
