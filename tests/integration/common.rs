//! Helpers shared by the tests: a lake in a temporary folder, and ways to fill and read it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use chrono::NaiveDate;
use edulake_ingest::{FileOutcome, IngestOptions, Key, Lake, Outcome, StateDir, Upload};
use edulake_transform::QueryLayer;

/// A fresh lake and state directory in a temporary folder.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// The lake as ingest writes it.
    pub lake: Lake,
    /// The same lake as transform reads it.
    pub reader: edulake_transform::Lake,
    pub state: StateDir,
    pub key: Key,
}

/// The day tests pretend is today (fixtures are in September 2026).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 15).unwrap()
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let lake = Lake::open(dir.path().join("lake").to_str().unwrap()).expect("lake");
        let reader = edulake_transform::Lake::open(dir.path().join("lake").to_str().unwrap())
            .expect("lake to read");
        let state = StateDir::new(dir.path().join("lake.state"));
        let (key, _) = state.key().expect("key");
        Fixture {
            dir,
            lake,
            reader,
            state,
            key,
        }
    }

    pub fn lake_path(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    /// Writes a file under the fixture's input folder.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join("in").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn options(&self, dataset: &str) -> IngestOptions {
        let d = edulake_schemas::by_name(dataset).expect("dataset");
        let mut o = IngestOptions::new(d, "Asia/Shanghai".parse().unwrap());
        o.today = today();
        o
    }

    pub async fn ingest_with(
        &self,
        opts: &IngestOptions,
        paths: &[PathBuf],
    ) -> edulake_ingest::Result<Vec<FileOutcome>> {
        edulake_ingest::ingest(&self.lake, &self.state, &self.key, opts, paths, &mut |_| {}).await
    }

    pub async fn ingest(
        &self,
        dataset: &str,
        upload: Upload,
        paths: &[PathBuf],
    ) -> Vec<FileOutcome> {
        let mut o = self.options(dataset);
        o.upload = upload;
        self.ingest_with(&o, paths).await.expect("ingest")
    }

    /// Rows of a query, every value as text (NULL as "").
    pub async fn query(&self, sql: &str) -> Vec<Vec<String>> {
        let layer = QueryLayer::open(&self.reader).await.expect("query layer");
        let (_, batches) = layer
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows(&batches)
    }

    /// Runs the real `edulake` binary on this lake.
    pub fn cli(&self, args: &[&str]) -> Output {
        cli_in(
            self.dir.path(),
            &self.lake_path(),
            &self.dir.path().join("lake.state"),
            args,
        )
    }
}

/// The text a person reads on a page: its tags and style sheet left out, each tag a space.
pub fn page_text(page: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    let without_style = page
        .split("<style")
        .next()
        .unwrap_or(page)
        .chars()
        .chain(page.split("</style>").nth(1).unwrap_or("").chars());
    for c in without_style {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

pub fn cli_in(cwd: &Path, lake: &Path, state: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edulake"))
        .current_dir(cwd)
        .env_remove("EDULAKE_KEY")
        .env("EDULAKE_LAKE", lake)
        .env("EDULAKE_STATE", state)
        // The tests read what the command says in English (the locale chooses it).
        .env("LC_ALL", "en_US.UTF-8")
        .args(args)
        .output()
        .expect("run edulake")
}

pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        if c.is_null(r) {
                            String::new()
                        } else {
                            array_value_to_string(c, r).unwrap()
                        }
                    })
                    .collect(),
            );
        }
    }
    out
}

/// The stored record of a file, or a panic saying what happened instead.
pub fn stored(fo: &FileOutcome) -> &edulake_ingest::BatchRecord {
    match &fo.outcome {
        Outcome::Stored { record, .. } => record,
        other => panic!("{}: expected stored, got {other:?}", fo.path.display()),
    }
}

/// Why a file was rejected whole, in English.
pub fn rejected(fo: &FileOutcome) -> String {
    match &fo.outcome {
        Outcome::Rejected { problem } => problem.to_string(),
        other => panic!("{}: expected rejected, got {other:?}", fo.path.display()),
    }
}

/// An attendance extract of three students on two days, as rows of text (English header).
pub fn attendance_rows() -> Vec<Vec<&'static str>> {
    vec![
        vec!["date", "school_code", "class_code", "student_id", "status"],
        vec!["2026-09-01", "S001", "101", "G001", "present"],
        vec!["2026-09-01", "S001", "101", "G002", "absent"],
        vec!["2026-09-01", "S001", "102", "G003", "late"],
        vec!["2026-09-02", "S001", "101", "G001", "sick_leave"],
        vec!["2026-09-02", "S001", "101", "G002", "present"],
        vec!["2026-09-02", "S001", "102", "G003", "present"],
    ]
}

/// The same extract with Chinese headers and values, as a clerk's Excel would have it.
pub fn attendance_rows_zh() -> Vec<Vec<&'static str>> {
    vec![
        vec!["日期", "学校代码", "班级", "学籍号", "考勤状态", "姓名"],
        vec!["2026/9/1", "S001", "101", "G001", "出勤", "王浩"],
        vec!["2026年9月1日", "S001", "101", "G002", "缺勤", "李欣"],
        vec!["20260901", "S001", "102", "G003", "迟到", "张子涵"],
        vec!["2026-09-02", "S001", "101", "G001", "病假", "王浩"],
        vec!["2026-09-02", "S001", "101", "G002", "到校", "李欣"],
        vec!["2026-09-02", "S001", "102", "G003", "正常", "张子涵"],
    ]
}

pub fn to_csv(rows: &[Vec<&str>], delimiter: u8) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The current attendance view as (date, school, class, pseudonym, status), sorted.
pub async fn attendance_view(f: &Fixture) -> Vec<Vec<String>> {
    f.query("SELECT CAST(date AS VARCHAR) AS day, school_code, class_code, student_id, status FROM attendance ORDER BY date, class_code, student_id").await
}

/// What the three-student extract must become in the lake.
pub fn expected_attendance(key: &Key) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = attendance_rows()[1..]
        .iter()
        .map(|r| {
            vec![
                r[0].to_string(),
                r[1].to_string(),
                r[2].to_string(),
                key.pseudonym(r[3]),
                r[4].to_string(),
            ]
        })
        .collect();
    rows.sort_by(|a, b| (&a[0], &a[2], &a[3]).cmp(&(&b[0], &b[2], &b[3])));
    rows
}

/// The reject report a stored file got, or a panic if it got none.
pub fn reject_report(fo: &FileOutcome) -> &std::path::Path {
    match &fo.outcome {
        Outcome::Stored {
            reject_report: Some(report),
            ..
        } => report,
        other => panic!(
            "{}: expected a reject report, got {other:?}",
            fo.path.display()
        ),
    }
}

/// The text of the one reject report the fixture's ingests of a dataset wrote.
pub fn only_reject_report(f: &Fixture, dataset: &str) -> String {
    let dir = f.dir.path().join("lake.state/rejects").join(dataset);
    let mut reports: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    std::fs::read_to_string(reports.remove(0)).unwrap()
}

/// The cockpit over the fixture's lake, as served on 127.0.0.1:8080.
pub async fn cockpit(f: &Fixture) -> std::sync::Arc<edulake_serve::web::AppState> {
    edulake_serve::web::AppState::open(
        f.lake.clone(),
        f.state.clone(),
        edulake_serve::web::Serving {
            allowed_hosts: edulake_serve::web::guard::AllowedHosts::for_address(
                "127.0.0.1:8080".parse().unwrap(),
            ),
            query_program: env!("CARGO_BIN_EXE_edulake").into(),
            loopback: true,
            tls: false,
        },
    )
    .await
    .expect("open the cockpit")
}

/// A GET through the cockpit's router, without a socket: the status and the body.
pub async fn cockpit_get(
    state: &std::sync::Arc<edulake_serve::web::AppState>,
    uri: &str,
) -> (axum::http::StatusCode, Vec<u8>) {
    use tower::ServiceExt;
    let response = edulake_serve::web::app(state.clone())
        .oneshot(
            axum::http::Request::builder()
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

/// A BIFF record (Excel 97): its type, length and data.
pub fn biff_record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend_from_slice(&(data.len() as u16).to_le_bytes());
    r.extend_from_slice(data);
    r
}

/// An Excel 97 `.xls`: a compound file whose `Workbook` stream is `stream`.
pub fn excel_97(stream: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    file.create_stream("/Workbook")
        .unwrap()
        .write_all(stream)
        .unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}
