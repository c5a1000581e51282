//! 模板下载 (`/template?name=…&format=csv|xlsx`): for every dataset and shape a clerk may
//! upload, a file with the header edulake reads (each column's first Chinese word from the
//! data dictionary, so the template and the reader cannot disagree) and one example row that
//! ingests as it is.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use edulake_schemas::Dataset;

use super::auth::Visitor;
use super::html::{esc, link};
use super::i18n::{t, Lang};
use super::{AppError, AppState};

/// One template: its name, the dataset it is of, whether it is an absence-only register, and
/// its columns with the example row's cells.
pub struct Template {
    pub name: &'static str,
    pub dataset: &'static str,
    pub exceptions: bool,
    pub cells: &'static [(&'static str, &'static str)],
}

/// Every template, in the order the upload page lists them.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "attendance",
        dataset: "attendance",
        exceptions: false,
        cells: &[
            ("date", "2026-09-01"),
            ("school_code", "1301000001"),
            ("class_code", "七年级(1)班"),
            ("student_id", "G130102201301010011"),
            ("status", "出勤"),
        ],
    },
    Template {
        name: "attendance_absences",
        dataset: "attendance",
        exceptions: true,
        cells: &[
            ("date", "2026-09-01"),
            ("school_code", "1301000001"),
            ("class_code", "七年级(1)班"),
            ("student_id", "G130102201301010011"),
            ("status", "病假"),
        ],
    },
    Template {
        name: "class_report",
        dataset: "class_report",
        exceptions: false,
        cells: &[
            ("date", "2026-09-01"),
            ("school_code", "1301000001"),
            ("class_code", "七年级(1)班"),
            ("session", "晨检"),
            ("expected", "45"),
            ("present", "44"),
            ("absent", "1"),
            ("sick_absent", "1"),
            ("personal_absent", "0"),
            ("fever", "1"),
            ("cough", "0"),
        ],
    },
    Template {
        name: "health_report",
        dataset: "health_report",
        exceptions: false,
        cells: &[
            ("date", "2026-09-01"),
            ("school_code", "1301000001"),
            ("class_code", "七年级(1)班"),
            ("student_id", "G130102201301010011"),
            ("temperature", "36.5"),
            ("symptoms", "无"),
        ],
    },
    Template {
        name: "enrolment",
        dataset: "enrolment",
        exceptions: false,
        cells: &[
            ("student_id", "G130102201301010011"),
            ("local_id", "20250101"),
            ("school_code", "1301000001"),
            ("grade", "七年级"),
            ("class_code", "七年级(1)班"),
            ("gender", "女"),
            ("birth_date", "2013-01-01"),
            ("as_of_date", "2026-09-01"),
        ],
    },
    Template {
        name: "notice_reads",
        dataset: "notice_reads",
        exceptions: false,
        cells: &[
            ("notice_id", "N20260901"),
            ("school_code", "1301000001"),
            ("recipient_id", "13800000000"),
            ("delivered_at", "2026-09-01 08:00"),
            ("read_at", "2026-09-01 09:30"),
        ],
    },
    Template {
        name: "notice_read_counts",
        dataset: "notice_read_counts",
        exceptions: false,
        cells: &[
            ("notice_id", "N20260901"),
            ("school_code", "1301000001"),
            ("class_code", "七年级(1)班"),
            ("recipients", "45"),
            ("read_count", "40"),
        ],
    },
];

/// The header word of a column: its first Chinese word in the data dictionary.
fn header_word(d: &Dataset, column: &str) -> String {
    d.columns
        .iter()
        .find(|c| c.name == column)
        .and_then(|c| c.aliases.iter().find(|a| !a.is_ascii()))
        .map_or_else(|| column.to_string(), |a| a.to_string())
}

impl Template {
    /// The dataset its files are stored as (an absence register as `attendance_exceptions`).
    pub fn stored_as(&self) -> &'static Dataset {
        if self.exceptions {
            &edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS
        } else {
            edulake_schemas::by_name(self.dataset).expect("a template names a dataset")
        }
    }

    /// The header row and the example row, the example in `school` if given (a clerk's own).
    pub fn rows(&self, school: Option<&str>) -> (Vec<String>, Vec<String>) {
        let d = edulake_schemas::by_name(self.dataset).expect("a template names a dataset");
        self.cells
            .iter()
            .map(|(c, v)| {
                let v = match (*c, school) {
                    ("school_code", Some(s)) => s,
                    _ => v,
                };
                (header_word(d, c), v.to_string())
            })
            .unzip()
    }

    /// The template as a CSV file (UTF-8 with a BOM, for Excel).
    pub fn csv(&self, school: Option<&str>) -> Vec<u8> {
        let (head, example) = self.rows(school);
        format!("\u{feff}{}\n{}\n", head.join(","), example.join(",")).into_bytes()
    }

    /// The template as an Excel workbook (transform's writer, as every download), every cell
    /// text: a code keeps its leading zeros.
    pub fn xlsx(
        &self,
        sheet: &str,
        school: Option<&str>,
    ) -> Result<Vec<u8>, edulake_transform::TransformError> {
        use arrow::array::{ArrayRef, StringArray};
        use arrow::datatypes::{DataType, Field, Schema};
        let (head, example) = self.rows(school);
        let schema = Schema::new(
            self.cells
                .iter()
                .map(|(c, _)| Field::new(*c, DataType::Utf8, false))
                .collect::<Vec<_>>(),
        );
        let columns: Vec<ArrayRef> = example
            .iter()
            .map(|v| std::sync::Arc::new(StringArray::from(vec![v.as_str()])) as ArrayRef)
            .collect();
        let batch = arrow::record_batch::RecordBatch::try_new(
            std::sync::Arc::new(schema.clone()),
            columns,
        )?;
        let mut bytes = Vec::new();
        edulake_transform::output::write_xlsx(
            &schema,
            &[batch],
            &edulake_transform::output::Sheet {
                name: sheet.to_string(),
                title: None,
                headers: head,
                percent: Vec::new(),
            },
            &mut bytes,
        )?;
        Ok(bytes)
    }
}

/// What a template download asks for.
#[derive(Debug, Deserialize)]
pub struct TemplateParams {
    pub name: String,
    pub format: Option<String>,
    pub lang: Option<String>,
}

/// A template file.
pub async fn template(
    State(_state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(p): Query<TemplateParams>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(p.lang.as_deref());
    let who = visitor.require(lang)?;
    // A clerk's example row is of the clerk's own school, so it uploads as it is.
    let school = match &who.scope {
        edulake_transform::reads::Scope::School(code) => Some(code.as_str()),
        _ => None,
    };
    let Some(tpl) = TEMPLATES.iter().find(|tpl| tpl.name == p.name) else {
        return Err(AppError::NotFound(lang));
    };
    let title = t(lang, &format!("template_{}", tpl.name));
    let (bytes, mime, ext) = match p.format.as_deref().unwrap_or("csv") {
        "xlsx" => (
            tpl.xlsx(&title, school)
                .map_err(|e| AppError::Internal(lang, e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "csv" => (tpl.csv(school), "text/csv; charset=utf-8", "csv"),
        other => {
            return Err(AppError::BadRequest(
                lang,
                format!("format '{other}': csv or xlsx"),
            ))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"template_{}.{ext}\"", tpl.name),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The upload page's list of templates, those of the datasets the uploader may send.
pub fn list(lang: Lang, may: impl Fn(&str) -> bool) -> String {
    let items: String = TEMPLATES
        .iter()
        .filter(|tpl| may(tpl.dataset))
        .map(|tpl| {
            let href = |format: &str| {
                format!(
                    "/template?name={}&format={format}&lang={}",
                    tpl.name,
                    lang.code()
                )
            };
            format!(
                "<li>{} {} {}</li>",
                esc(&t(lang, &format!("template_{}", tpl.name))),
                link(&href("csv"), "CSV"),
                link(&href("xlsx"), "Excel")
            )
        })
        .collect();
    format!(
        "<section><h2>{}</h2><p class=\"hint\">{}</p><ul class=\"templates\">{items}</ul></section>",
        esc(&t(lang, "templates")),
        esc(&t(lang, "templates_hint"))
    )
}
