//! Which shape of report each school's days were counted from (REPORTING.md, "Precedence
//! between shapes"): per (school, date), how many class-days came from per-student rows, an
//! exception register, a class report or the school's own report. `edulake batches --shapes`
//! and the Data page show it.

use chrono::NaiveDate;

use crate::indicators::sql_str;

/// Who asks: the schools of one district, or one school, or (neither) every school.
#[derive(Debug, Clone, Default)]
pub struct ShapesOf<'a> {
    pub district: Option<&'a str>,
    pub school: Option<&'a str>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The SQL of the shapes table, newest day first: `district, school_code, school_name, date,
/// rows, register, class_report, school_report` (class-days counted from each shape).
pub fn shapes_sql(of: &ShapesOf) -> String {
    let mut filters = Vec::new();
    if let Some(d) = of.district {
        filters.push(format!("s.district = {}", sql_str(d)));
    }
    if let Some(code) = of.school {
        filters.push(format!("c.school_code = {}", sql_str(code)));
    }
    if let Some(from) = of.from {
        filters.push(format!("c.date >= DATE '{from}'"));
    }
    if let Some(to) = of.to {
        filters.push(format!("c.date <= DATE '{to}'"));
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let count =
        |shape: &str| format!("sum(CASE WHEN c.shape = '{shape}' THEN 1 ELSE 0 END) AS {shape}");
    format!(
        "SELECT s.district, c.school_code, s.school_name, c.date, {}, {}, {}, {} \
         FROM class_days c LEFT JOIN schools s ON s.school_code = c.school_code {filter} \
         GROUP BY s.district, c.school_code, s.school_name, c.date \
         ORDER BY c.date DESC, s.district, c.school_code",
        count("rows"),
        count("register"),
        count("class_report"),
        count("school_report"),
    )
}
