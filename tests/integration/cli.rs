//! The `edulake` command as a user runs it: exit codes, messages, the data dictionary.

use crate::common::*;

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn ingest_prints_a_line_per_file_and_exits_1_only_for_whole_rejections() {
    let f = Fixture::new();
    let good = f.write("good.csv", to_csv(&attendance_rows(), b','));
    let bad_rows = f.write("bad_rows.csv", "日期,学校代码,班级,学籍号,考勤状态,姓名,座号\n2026-09-01,S001,101,G1,出勤,王浩,3\n2026-09-31,S001,101,G2,出勤,李欣,4\n");
    let o = f.cli(&[
        "ingest",
        "--dataset",
        "attendance",
        good.to_str().unwrap(),
        bad_rows.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("good.csv: stored 6 of 6 rows"), "{out}");
    assert!(out.contains("bad_rows.csv: stored 1 of 2 rows"), "{out}");
    assert!(out.contains("reject report:"), "{out}");
    assert!(out.contains("personal data not stored: 姓名"), "{out}");
    assert!(out.contains("unknown columns not stored: 座号"), "{out}");

    let wrong = f.write("roster.csv", "学籍号,年级,班级,性别\nG1,一年级,101,男\n");
    let o = f.cli(&[
        "ingest",
        "--dataset",
        "attendance",
        good.to_str().unwrap(),
        wrong.to_str().unwrap(),
    ]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("good.csv: already ingested"), "{out}");
    assert!(out.contains("roster.csv: REJECTED"), "{out}");
}

/// `--dry-run` says what a file would become and stores nothing: on a new lake it creates no
/// table (not even the batch index) and writes no reject report; after a real ingest the
/// lake's versions are unchanged by it.
#[test]
fn a_dry_run_shows_what_would_be_stored_and_stores_nothing() {
    let f = Fixture::new();
    let file = f.write(
        "考勤.csv",
        "2026年9月1日 一中考勤,,,,,,\n日期,学校代码,班级,学籍号,考勤状态,姓名,座号\n\
         2026-09-01,S001,101,G1,出勤,王浩,3\n2026-09-31,S001,101,G2,出勤,李欣,4\n\
         2026-09-01,S001,102,G3,迟到,张子涵,5\n",
    );
    let lake_files = |f: &Fixture| -> Vec<String> {
        let mut found: Vec<String> = walk(&f.lake_path());
        found.sort();
        found
    };
    let before = lake_files(&f);
    let dry = |f: &Fixture| {
        f.cli(&[
            "ingest",
            "--dataset",
            "attendance",
            "--dry-run",
            file.to_str().unwrap(),
        ])
    };
    let o = dry(&f);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("考勤.csv: DRY RUN, nothing stored: would store 2 of 3 rows, reject 1 (csv, UTF-8; header on row 2)"),
        "{out}"
    );
    for line in [
        "日期 → date",
        "学校代码 → school_code",
        "学籍号 → student_id",
        "考勤状态 → status",
        "姓名 personal data, not stored",
        "座号 unknown, not stored",
        "row 4, 日期: \"2026-09-31\"",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    // The rows as stored: the student pseudonymised, the status in the contract's words.
    assert!(out.contains(&f.key.pseudonym("G1")), "{out}");
    assert!(!out.contains("| G1 "), "{out}");
    assert!(out.contains("| late "), "{out}");
    assert_eq!(
        lake_files(&f),
        before,
        "a dry run on a new lake wrote to it"
    );
    assert!(!f.dir.path().join("lake.state").join("rejects").exists());

    // After a real ingest, a dry run changes no version of any table.
    let o = f.cli(&["ingest", "--dataset", "attendance", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let before = lake_files(&f);
    let o = dry(&f);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(lake_files(&f), before, "a dry run wrote to the lake");
}

/// Every file under a folder, relative to it.
fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out
}

#[test]
fn usage_errors_exit_2_and_list_the_choices() {
    let f = Fixture::new();
    let o = f.cli(&["ingest", "--dataset", "grades", "x.csv"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("attendance"), "{err}");
    let o = f.cli(&["sql", "DROP TABLE attendance"]);
    assert_eq!(o.status.code(), Some(1));
    let o = f.cli(&["sql", "SELEC nonsense"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("query"), "{err}");
}

#[test]
fn the_key_is_created_once_outside_the_lake_with_owner_only_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let state = dir.path().join("lake.state");
    let csv = dir.path().join("a.csv");
    std::fs::write(&csv, to_csv(&attendance_rows(), b',')).unwrap();
    let o = cli_in(
        dir.path(),
        &lake,
        &state,
        &[
            "--quiet",
            "ingest",
            "--dataset",
            "attendance",
            csv.to_str().unwrap(),
        ],
    );
    let (_, err) = text(&o);
    assert!(o.status.success());
    assert!(
        err.contains("created the pseudonymisation key") && err.contains("Back it up"),
        "{err}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(state.join("key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "key file must be owner-only");
    assert!(!crate::lake::walk(&lake).iter().any(|p| p.ends_with("key")));
    let o = cli_in(
        dir.path(),
        &lake,
        &state,
        &[
            "--quiet",
            "sql",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM attendance",
        ],
    );
    assert_eq!(text(&o).0.trim(), "n\n6");
}

#[test]
fn schema_prints_the_dictionary_from_the_code() {
    let f = Fixture::new();
    let (out, _) = text(&f.cli(&["schema"]));
    for d in edulake_schemas::all() {
        assert!(
            out.contains(&format!("## `{}` {}", d.name, d.chinese)),
            "{}",
            d.name
        );
        for c in d.columns {
            assert!(
                out.contains(&format!("| `{}` |", c.name)),
                "{}.{}",
                d.name,
                c.name
            );
        }
    }
    assert!(out.contains("`raw_attendance`") && out.contains("`batches`"));
    let (one, _) = text(&f.cli(&["schema", "health_report"]));
    assert!(one.contains("是否接触风险人员") && !one.contains("## `schools`"));
}

#[test]
fn generate_messy_then_ingest_every_dataset() {
    let f = Fixture::new();
    let out = f.dir.path().join("messy");
    let o = f.cli(&[
        "generate",
        "--out",
        out.to_str().unwrap(),
        "--schools",
        "5",
        "--students",
        "150",
        "--days",
        "6",
        "--messy",
        "--end",
        "2026-10-09",
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = f.cli(&[
        "--quiet",
        "ingest",
        "--dataset",
        "attendance",
        out.join("attendance").to_str().unwrap(),
    ]);
    let (stdout, _) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the misfiled roster is rejected whole: {stdout}"
    );
    assert!(
        stdout.contains("花名册") && stdout.contains("looks like a `enrolment` file"),
        "{stdout}"
    );
    // Of five schools, three send class reports, one exception registers, one rows.
    assert!(stdout.contains("1 stored"), "{stdout}");
    let o = f.cli(&[
        "--quiet",
        "ingest",
        "--dataset",
        "class_report",
        out.join("class_report").to_str().unwrap(),
    ]);
    let (stdout, _) = text(&o);
    assert!(
        stdout.contains("3 stored") && !stdout.contains("REJECTED"),
        "{stdout}"
    );
    let o = f.cli(&[
        "--quiet",
        "ingest",
        "--dataset",
        "attendance",
        "--exceptions",
        "--school",
        "1301000004",
        out.join("attendance_exceptions/1301000004")
            .to_str()
            .unwrap(),
    ]);
    let (stdout, _) = text(&o);
    assert!(stdout.contains("6 stored"), "{stdout}");
    let o = f.cli(&["--quiet", "batches", "--format", "csv"]);
    assert_eq!(text(&o).0.lines().count(), 1 + 1 + 3 + 6);
}

#[tokio::test]
async fn export_writes_every_format_and_alerts_and_indicators_list() {
    let f = crate::indicators::district().await;
    let dir = f.dir.path();
    let run = |args: &[&str]| {
        let o = f.cli(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    };
    let csv = String::from_utf8(run(&[
        "export",
        "--indicator",
        "attendance_rate",
        "--level",
        "district",
    ]))
    .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "district,period_start,period_end,numerator,denominator,value,suppressed"
    );
    assert_eq!(
        lines[1],
        format!("D1,2026-09-01,2026-09-14,10,14,{},false", 10.0f64 / 14.0)
    );
    let json: serde_json::Value = serde_json::from_slice(&run(&[
        "export",
        "--indicator",
        "enrolled",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json[0]["school_code"], "S1");
    assert_eq!(json[0]["value"], 3);
    assert!(json[0]["numerator"].is_null());
    let pq = dir.join("e.parquet");
    run(&[
        "export",
        "--indicator",
        "fever_rate",
        "--format",
        "parquet",
        "--out",
        pq.to_str().unwrap(),
    ]);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&pq).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    assert_eq!(rows(&batches).len(), 3);
    let xlsx = dir.join("e.xlsx");
    run(&[
        "export",
        "--indicator",
        "health_report_rate",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let sheet = wb.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get((0, 5)).unwrap().to_string(), "numerator");
    assert_eq!(sheet.get((1, 5)).unwrap().to_string(), "5");
    // An unknown indicator lists the valid ones and exits 1.
    let o = f.cli(&["export", "--indicator", "attendence"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("attendance_rate"));
    let alerts = String::from_utf8(run(&["alerts"])).unwrap();
    assert_eq!(
        alerts,
        "kind,district,school_code,school_name,class_code,date,count\ncluster,D2,S4,四小,4A,2026-09-09,3\n"
    );
    let empty = String::from_utf8(run(&[
        "alerts",
        "--from",
        "2027-01-01",
        "--to",
        "2027-01-02",
    ]))
    .unwrap();
    assert_eq!(
        empty,
        "kind,district,school_code,school_name,class_code,date,count\n"
    );
    let list = String::from_utf8(run(&["indicators"])).unwrap();
    for i in edulake_transform::indicators::all() {
        assert!(
            list.contains(&format!("{} {}", i.name, i.name_zh)),
            "{}",
            i.name
        );
    }
}

/// Every command's output into a pipe whose reader has gone (`edulake … | head -1`): no panic,
/// exit 0, and the work is still done (the ingest stores its file).
#[test]
fn a_reader_that_goes_away_fails_no_command() {
    let f = Fixture::new();
    let good = f.write("good.csv", to_csv(&attendance_rows(), b','));
    let extracts = f.dir.path().join("generated");
    let closed = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_edulake"))
            .current_dir(f.dir.path())
            .env_remove("EDULAKE_KEY")
            .env("EDULAKE_LAKE", f.lake_path())
            .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run edulake");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    };
    closed(&["ingest", "--dataset", "attendance", good.to_str().unwrap()]);
    let o = f.cli(&["batches"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("good.csv"),
        "the ingest stored nothing"
    );
    for args in [
        &["batches"][..],
        &["sql", "SELECT * FROM raw_attendance"],
        &["sql", "--format", "csv", "SELECT * FROM raw_attendance"],
        &["build"],
        &["build", "--show-sql"],
        &["export", "--indicator", "attendance_rate", "--grain", "day"],
        &["export", "--indicator", "attendance_rate", "--show-sql"],
        &["alerts"],
        &["indicators"],
        &["profiles"],
        &["schema"],
        &["users", "list"],
        &[
            "ingest",
            "--dataset",
            "attendance",
            "--dry-run",
            good.to_str().unwrap(),
        ],
        &[
            "generate",
            "--out",
            extracts.to_str().unwrap(),
            "--schools",
            "1",
            "--students",
            "20",
            "--days",
            "1",
        ],
    ] {
        closed(args);
    }
}

/// A mistyped table or indicator is the user's slip, answered with the name they most likely
/// meant; a mistyped lake is an error that creates nothing.
#[test]
fn near_misses_are_named_and_a_missing_lake_creates_nothing() {
    let f = Fixture::new();
    let good = f.write("good.csv", to_csv(&attendance_rows(), b','));
    f.cli(&["ingest", "--dataset", "attendance", good.to_str().unwrap()]);
    let o = f.cli(&["sql", "SELECT count(*) FROM raw_attendence"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("query: no table 'raw_attendence': did you mean 'raw_attendance'?"),
        "{err}"
    );
    let o = f.cli(&[
        "sql",
        "SELECT count(*) FROM raw_attendance WHERE statuss = 'x'",
    ]);
    let (_, err) = text(&o);
    assert!(
        err.contains("query:") && err.contains("Did you mean 'raw_attendance.status'?"),
        "{err}"
    );
    let o = f.cli(&["export", "--indicator", "attendence_rate"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("did you mean 'attendance_rate'?"), "{err}");

    let typo = f.dir.path().join("lkae");
    for args in [
        &["export", "--indicator", "attendance_rate"][..],
        &["sql", "SELECT 1"],
        &["batches"],
        &["alerts"],
        &["build"],
    ] {
        let o = cli_in(f.dir.path(), &typo, &f.dir.path().join("lkae.state"), args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("no lake at"), "{args:?}: {err}");
        assert!(
            !typo.exists() && !f.dir.path().join("lkae.state").exists(),
            "{args:?} made a folder"
        );
    }
}
