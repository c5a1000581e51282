//! The marts and `edulake build`: an incremental build equals a build from scratch, a
//! correction changes exactly its day, and a stale mart is never read.

use std::path::{Path, PathBuf};

use edulake_transform::indicators::{Grain, Level, Request};
use edulake_transform::marts::{self, BuildOptions, Mart, Work};
use edulake_transform::QueryLayer;

use crate::common::*;

/// Splits every file of a dated extract folder into the rows before `day` (written back) and
/// the rows of `day` (returned as one file per school under `held`).
pub fn hold_back_day(folder: &Path, day: &str, held: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(held).unwrap();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let (kept, later): (Vec<&str>, Vec<&str>) = lines.partition(|l| !l.starts_with(day));
        std::fs::write(&path, format!("{header}\n{}\n", kept.join("\n"))).unwrap();
        if !later.is_empty() {
            let p = held.join(path.file_name().unwrap());
            std::fs::write(&p, format!("{header}\n{}\n", later.join("\n"))).unwrap();
            out.push(p);
        }
    }
    out
}

fn ingest(f: &Fixture, dataset: &str, path: &Path) {
    let o = f.cli(&[
        "--quiet",
        "ingest",
        "--dataset",
        dataset,
        path.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stored"),
        "{dataset} {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every row of a table, sorted, as text.
async fn table_rows(layer: &QueryLayer, table: &str) -> Vec<Vec<String>> {
    let (schema, _) = layer
        .sql(&format!("SELECT * FROM {table} LIMIT 0"))
        .await
        .unwrap();
    let order: Vec<String> = (1..=schema.fields().len()).map(|i| i.to_string()).collect();
    let (_, batches) = layer
        .sql(&format!(
            "SELECT * FROM {table} ORDER BY {}",
            order.join(", ")
        ))
        .await
        .unwrap();
    rows(&batches)
}

#[tokio::test]
async fn incremental_build_equals_a_full_build() {
    let f = Fixture::new();
    let ex = f.dir.path().join("extracts");
    let mut opts = edulake_ingest::generate::GenerateOptions::new(
        chrono::NaiveDate::from_ymd_opt(2026, 10, 9).unwrap(),
    );
    opts.schools = 4;
    opts.students = 320;
    opts.days = 12;
    edulake_ingest::generate::generate(&ex, &opts).unwrap();
    let held = f.dir.path().join("held");
    let new_attendance = hold_back_day(&ex.join("attendance"), "2026-10-09", &held.join("a"));
    let new_health = hold_back_day(&ex.join("health_report"), "2026-10-09", &held.join("h"));
    assert!(!new_attendance.is_empty() && !new_health.is_empty());
    for d in edulake_schemas::names() {
        let single = ex.join(format!("{d}.csv"));
        let path = if single.exists() { single } else { ex.join(d) };
        if path.exists() {
            ingest(&f, d, &path);
        }
    }
    let first = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(first.iter().all(|m| m.work == Work::Full), "{first:?}");
    let before = QueryLayer::open(&f.reader).await.unwrap();
    assert!(Mart::all().iter().all(|m| before.is_fresh(m)));

    // One more day, and a correction of one row of 30 September, sent later.
    for p in &new_attendance {
        ingest(&f, "attendance", p);
    }
    for p in &new_health {
        ingest(&f, "health_report", p);
    }
    let text = std::fs::read_to_string(ex.join("attendance").join("1301000001.csv")).unwrap();
    let row = text
        .lines()
        .find(|l| l.starts_with("2026-09-30") && l.ends_with(",present"))
        .expect("a present row on 30 September");
    let corrected = row.replace(",present", ",absent");
    let correction = f.write(
        "correction.csv",
        format!("date,school_code,class_code,student_id,status\n{corrected}\n"),
    );
    ingest(&f, "attendance", &correction);

    // Until the build, the attendance marts are stale and exports compute from the views.
    let stale = QueryLayer::open(&f.reader).await.unwrap();
    let attendance_rate =
        Mart::Indicator(edulake_transform::indicators::by_name("attendance_rate").unwrap());
    assert!(!stale.is_fresh(&attendance_rate));
    let notices =
        Mart::Indicator(edulake_transform::indicators::by_name("notice_read_rate").unwrap());
    assert!(stale.is_fresh(&notices));
    let mut stale_exports = Vec::new();
    for ind in edulake_transform::indicators::all()
        .iter()
        .filter(|i| i.mart)
    {
        for grain in [Grain::Day, Grain::Week, Grain::Total] {
            let mut req = Request::new(ind.name);
            req.grain = grain;
            req.level = if ind.levels.contains(&Level::Class) {
                Level::Class
            } else {
                Level::School
            };
            let (_, b) = stale.export(&req).await.unwrap();
            stale_exports.push((req, rows(&b)));
        }
    }
    let (_, b) = stale
        .alerts(None, None, 2, edulake_transform::indicators::AlertKind::All)
        .await
        .unwrap();
    let stale_alerts = rows(&b);

    let second = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let work = |name: &str| {
        second
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.work.clone())
            .unwrap()
    };
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(
        work("mart_attendance_rate"),
        Work::Days(vec![d("2026-09-30"), d("2026-10-09")])
    );
    assert_eq!(work("attendance"), work("mart_attendance_rate"));
    assert_eq!(work("health_report"), Work::Days(vec![d("2026-10-09")]));
    assert_eq!(
        work("mart_alerts"),
        Work::Days(vec![d("2026-09-30"), d("2026-10-09")])
    );
    assert_eq!(work("mart_notice_read_rate"), Work::Fresh);
    assert_eq!(work("enrolment"), Work::Fresh);

    // Exports from the fresh marts are the exports the views gave.
    let built = QueryLayer::open(&f.reader).await.unwrap();
    assert!(Mart::all().iter().all(|m| built.is_fresh(m)));
    for (req, expected) in &stale_exports {
        let (_, b) = built.export(req).await.unwrap();
        assert_eq!(&rows(&b), expected, "{} {:?}", req.indicator, req.grain);
    }
    let (_, b) = built
        .alerts(None, None, 2, edulake_transform::indicators::AlertKind::All)
        .await
        .unwrap();
    assert_eq!(rows(&b), stale_alerts);
    // The correction is in: the corrected student is absent on 30 September.
    let student = corrected.split(',').nth(3).unwrap();
    let id = f.key.pseudonym(student);
    let status = f
        .query(&format!(
            "SELECT status FROM attendance WHERE date = DATE '2026-09-30' AND student_id = '{id}'"
        ))
        .await;
    assert_eq!(status, vec![vec!["absent".to_string()]]);

    // The same lake built from scratch gives the same marts, row for row.
    same_as_from_scratch(&f, &built).await;

    // Nothing new: nothing to do.
    let third = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(third.iter().all(|m| m.work == Work::Fresh));

    // A clerk corrects one school's day the lake already has (attendance and a check-in):
    // only that school's rows of that day are recomputed.
    let school = "1301000002";
    let text =
        std::fs::read_to_string(ex.join("attendance").join(format!("{school}.csv"))).unwrap();
    let day_rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("2026-10-08"))
        .collect();
    assert!(day_rows.len() > 10);
    let absent: Vec<String> = day_rows[..10]
        .iter()
        .map(|l| format!("{},absent", l.rsplit_once(',').unwrap().0))
        .collect();
    let fix = f.write(
        "fix-attendance.csv",
        format!(
            "date,school_code,class_code,student_id,status\n{}\n",
            absent.join("\n")
        ),
    );
    ingest(&f, "attendance", &fix);
    let cols: Vec<&str> = day_rows[0].split(',').collect();
    // ... and a fever is reported for one of its students; another school's check-in of an
    // earlier day is sent again: two schools, and days that differ by dataset.
    let third_school =
        std::fs::read_to_string(ex.join("attendance").join("1301000003.csv")).unwrap();
    let late = third_school
        .lines()
        .find(|l| l.starts_with("2026-10-06"))
        .unwrap();
    let late: Vec<&str> = late.split(',').collect();
    let fever = f.write(
        "fix-health.csv",
        format!(
            "date,school_code,class_code,student_id,temperature\n\
             2026-10-08,{school},{},{},38.6\n2026-10-06,1301000003,{},{},36.5\n",
            cols[2], cols[3], late[2], late[3]
        ),
    );
    ingest(&f, "health_report", &fever);
    let fourth = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let work = |name: &str| {
        fourth
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.work.clone())
            .unwrap()
    };
    let scoped = |days: &[&str]| Work::Schools {
        days: days.iter().map(|s| d(s)).collect(),
        schools: vec![school.to_string(), "1301000003".to_string()],
    };
    for (name, days) in [
        ("attendance", &["2026-10-08"][..]),
        ("mart_attendance_rate", &["2026-10-08"]),
        ("mart_attendance_reporting_rate", &["2026-10-08"]),
        ("health_report", &["2026-10-06", "2026-10-08"]),
        ("mart_health_report_rate", &["2026-10-06", "2026-10-08"]),
        ("mart_fever_rate", &["2026-10-06", "2026-10-08"]),
        ("mart_alerts", &["2026-10-06", "2026-10-08"]),
    ] {
        assert_eq!(work(name), scoped(days), "{name}");
    }
    assert_eq!(work("mart_notice_read_rate"), Work::Fresh);
    assert_eq!(work("enrolment"), Work::Fresh);
    same_as_from_scratch(&f, &QueryLayer::open(&f.reader).await.unwrap()).await;

    // A school sends a row of a student another school also sent that day: the other
    // school's current rows may change too, so the whole day is recomputed.
    let other = std::fs::read_to_string(ex.join("attendance").join("1301000001.csv")).unwrap();
    let row = other.lines().find(|l| l.starts_with("2026-10-07")).unwrap();
    let cols: Vec<&str> = row.split(',').collect();
    let shared = f.write(
        "shared.csv",
        format!(
            "date,school_code,class_code,student_id,status\n2026-10-07,1301000003,{},{},present\n",
            cols[2], cols[3]
        ),
    );
    ingest(&f, "attendance", &shared);
    let fifth = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let attendance = fifth.iter().find(|m| m.name == "attendance").unwrap();
    assert_eq!(attendance.work, Work::Days(vec![d("2026-10-07")]));

    let built = QueryLayer::open(&f.reader).await.unwrap();
    assert!(Mart::all().iter().all(|m| built.is_fresh(m)));
    let status = f
        .query(&format!(
            "SELECT count(*) FROM attendance WHERE date = DATE '2026-10-08' \
             AND school_code = '{school}' AND status = 'absent' AND student_id IN ({})",
            day_rows[..10]
                .iter()
                .map(|l| format!("'{}'", f.key.pseudonym(l.split(',').nth(3).unwrap())))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .await;
    assert_eq!(status, vec![vec!["10".to_string()]]);
    same_as_from_scratch(&f, &built).await;
    // After five builds with corrections, a researcher's plain Parquet glob of any table
    // reads what its Delta reader does.
    glob_reads_what_delta_reads(&f.lake_path()).await;
}

/// For every Delta table under `lake`: the Parquet files a plain glob of its folder finds
/// (its `_delta_log` aside) are exactly the files of its current version, so both read the
/// same rows.
pub async fn glob_reads_what_delta_reads(lake: &Path) {
    fn walk(dir: &Path, tables: &mut Vec<PathBuf>, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == "_delta_log") {
                tables.push(dir.to_path_buf());
            } else if path.is_dir() {
                walk(&path, tables, files);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                files.push(path);
            }
        }
    }
    let rows_in = |files: &[PathBuf]| -> i64 {
        files
            .iter()
            .map(|p| {
                let file = std::fs::File::open(p).unwrap();
                parquet::file::reader::SerializedFileReader::new(file)
                    .map(|r| {
                        use parquet::file::reader::FileReader;
                        r.metadata().file_metadata().num_rows()
                    })
                    .unwrap()
            })
            .sum()
    };
    let (mut tables, mut ignored) = (Vec::new(), Vec::new());
    walk(lake, &mut tables, &mut ignored);
    let mut counts: Vec<(String, i64)> = Vec::new();
    assert!(tables.len() > 20, "{tables:?}");
    for table in tables {
        let (mut nested, mut globbed) = (Vec::new(), Vec::new());
        walk(&table, &mut nested, &mut globbed);
        let root = url::Url::from_directory_path(&table).unwrap();
        let delta = deltalake::open_table(root.clone()).await.unwrap();
        let mut live: Vec<PathBuf> = delta
            .get_file_uris()
            .unwrap()
            .map(|u| root.join(&u).unwrap().to_file_path().unwrap())
            .collect();
        live.sort();
        globbed.sort();
        assert_eq!(
            globbed,
            live,
            "{}: a glob finds other files than Delta reads",
            table.display()
        );
        counts.push((table.display().to_string(), rows_in(&live)));
    }
    // And as a researcher reads them: a DuckDB glob of each folder.
    let script = "import duckdb, json, sys\n\
        for t, n in json.loads(sys.argv[1]):\n\
        \x20   got = duckdb.sql(f\"SELECT count(*) FROM read_parquet('{t}/**/part-*.parquet')\").fetchall()[0][0] if n else 0\n\
        \x20   assert got == n, f'{t}: DuckDB reads {got} rows, Delta {n}'\n\
        print('ok', len(sys.argv[1]))\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, &serde_json::to_string(&counts).unwrap()])
        .output()
        .expect("python3 with duckdb (tests/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds a copy of the lake's raw tables from nothing and checks every mart of `built`
/// equals it, row for row.
pub async fn same_as_from_scratch(f: &Fixture, built: &QueryLayer) {
    same_as_from_scratch_but_empty(f, built, &[]).await
}

/// [`same_as_from_scratch`], where the marts named may be empty in both (a small district
/// with no risk contacts).
pub async fn same_as_from_scratch_but_empty(
    f: &Fixture,
    built: &QueryLayer,
    may_be_empty: &[&str],
) {
    let scratch_dir = tempfile::tempdir().unwrap();
    let scratch_path = scratch_dir.path().join("lake");
    copy_dir(&f.lake_path(), &scratch_path, &["current", "marts"]);
    let scratch = edulake_transform::Lake::open(scratch_path.to_str().unwrap()).unwrap();
    marts::build(&scratch, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let from_scratch = QueryLayer::open(&scratch).await.unwrap();
    assert!(Mart::all().iter().all(|m| from_scratch.is_fresh(m)));
    for mart in Mart::all() {
        let a = table_rows(built, &mart.sql_name()).await;
        let b = table_rows(&from_scratch, &mart.sql_name()).await;
        // A district of per-student rows sends no class reports, no registers and no read
        // statistics (its schools send receipts); a few days
        // of a small one may have no pupil ill three days running (the follow-up alerts'
        // incremental build is checked by `shapes::three_school_days_of_sick_leave_...`).
        let empty_here = [
            "transfers",
            "class_report",
            "attendance_exceptions",
            "notice_read_counts",
            "follow_up",
        ];
        assert!(
            !a.is_empty()
                || empty_here
                    .iter()
                    .chain(may_be_empty)
                    .any(|m| mart.sql_name().contains(m)),
            "{}",
            mart.sql_name()
        );
        assert_eq!(a, b, "{}", mart.sql_name());
    }
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target, &[]);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `edulake build` on the command line: what it did, then nothing to do.
#[test]
fn build_command_reports_its_work() {
    let f = Fixture::new();
    let csv = f.write(
        "a.csv",
        "date,school_code,class_code,student_id,status\n2026-09-01,S1,1,A,present\n2026-09-01,S1,1,B,absent\n",
    );
    ingest(&f, "attendance", &csv);
    let o = f.cli(&["build"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("built mart_attendance_rate"), "{out}");
    let n = Mart::all().len();
    assert!(out.contains(&format!("{n} of {n} marts rebuilt")), "{out}");
    let o = f.cli(&["build"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("0 of {n} marts rebuilt, {n} already up to date")),
        "{out}"
    );
    let o = f.cli(&[
        "sql",
        "--format",
        "csv",
        "SELECT school_code, date, numerator, denominator FROM mart_attendance_rate",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "school_code,date,numerator,denominator\nS1,2026-09-01,1,2\n"
    );
}
