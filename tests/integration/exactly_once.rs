//! Each file is stored once, whatever runs at the same time and wherever a process dies.

use std::process::{Command, Stdio};

use crate::common::*;

fn edulake(f: &Fixture) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_edulake"));
    c.current_dir(f.dir.path())
        .env_remove("EDULAKE_KEY")
        .env("EDULAKE_LAKE", f.lake_path())
        .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
        .env("LC_ALL", "en_US.UTF-8");
    c
}

fn count(f: &Fixture, sql: &str) -> u64 {
    let o = f.cli(&["sql", "--format", "csv", sql]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    out.lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("{sql}: {out}{}", String::from_utf8_lossy(&o.stderr)))
}

/// Three `edulake ingest` of the same 30 files at once, three times over: every file is stored
/// by exactly one of them and already ingested for the others; every row is in the lake once.
#[test]
fn processes_ingesting_the_same_files_at_once_store_each_once() {
    for round in 0..3 {
        let f = Fixture::new();
        for i in 0..30 {
            let mut text = String::from("date,school_code,class_code,student_id,status\n");
            for s in 0..20 {
                text.push_str(&format!(
                    "2026-09-{:02},S{i:03},101,G{i:03}{s:03},present\n",
                    1 + i % 20
                ));
            }
            f.write(&format!("f{i:02}.csv"), text);
        }
        let dir = f.dir.path().join("in");
        let spawn = || {
            edulake(&f)
                .args(["ingest", "--dataset", "attendance", dir.to_str().unwrap()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let children: Vec<_> = (0..3).map(|_| spawn()).collect();
        let mut out = String::new();
        for child in children {
            let o = child.wait_with_output().unwrap();
            out.push_str(&String::from_utf8_lossy(&o.stdout));
            assert!(
                o.status.success(),
                "round {round}:\n{out}\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        for i in 0..30 {
            let name = format!("f{i:02}.csv");
            let lines: Vec<&str> = out.lines().filter(|l| l.contains(&name)).collect();
            let stored = lines.iter().filter(|l| l.contains(": stored")).count();
            let already = lines
                .iter()
                .filter(|l| l.contains("already ingested"))
                .count();
            assert_eq!((stored, already), (1, 2), "round {round}, {name}:\n{out}");
        }
        assert_eq!(
            count(&f, "SELECT count(*) FROM batches"),
            30,
            "round {round}"
        );
        assert_eq!(
            count(&f, "SELECT count(*) FROM raw_attendance"),
            600,
            "round {round}"
        );
        assert_eq!(
            count(&f, "SELECT count(*) FROM attendance"),
            600,
            "round {round}"
        );
    }
}

/// A process killed right after its data commit, before its batch record: the next open of
/// the lake (any command, the cockpit) catches the index up, so `edulake batches` and the Data
/// page show the file and its rows.
#[tokio::test]
async fn a_crash_between_the_commit_and_the_batch_record_is_caught_up() {
    let f = Fixture::new();
    let file = f.write(
        "断电前.csv",
        "date,school_code,class_code,student_id,status\n2026-09-01,S001,101,G001,present\n2026-09-01,S001,101,G002,absent\n",
    );
    let o = edulake(&f)
        .env("EDULAKE_FAULT", "after-commit")
        .args(["ingest", "--dataset", "attendance", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(86), "the injected crash");
    // The index was not written: the batch is only in the commit.
    let indexed = || async {
        let lake = edulake_ingest::Lake::open(f.lake_path().to_str().unwrap()).unwrap();
        let index = lake
            .load(edulake_ingest::lake::BATCHES_TABLE)
            .await
            .unwrap();
        index.map_or(0, |t| t.get_file_uris().unwrap().count())
    };
    assert_eq!(indexed().await, 0, "nothing indexed before the catch-up");

    let o = f.cli(&["batches", "--format", "csv"]);
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(listed.contains("断电前.csv"), "{listed}");
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains(",2,2,0,"),
        "rows read, stored, rejected: {listed}"
    );
    // Reads (the listing, a build) never write the lake's index: the next ingest does.
    let o = f.cli(&["--quiet", "build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(indexed().await, 0, "a read wrote the batch index");
    let other = f.write(
        "来电后.csv",
        "date,school_code,class_code,student_id,status\n2026-09-02,S001,101,G001,present\n",
    );
    let o = f.cli(&[
        "--quiet",
        "ingest",
        "--dataset",
        "attendance",
        other.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lake = edulake_ingest::Lake::open(f.lake_path().to_str().unwrap()).unwrap();
    let names: Vec<String> = lake
        .batches()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.source_file)
        .collect();
    assert!(names.iter().any(|n| n.ends_with("断电前.csv")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("来电后.csv")), "{names:?}");

    // The cockpit's Data page, opened on the lake as it was left.
    let f2 = Fixture::new();
    let file2 = f2.write(
        "断电前.csv",
        "date,school_code,class_code,student_id,status\n2026-09-01,S001,101,G001,present\n",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_edulake"))
        .env("LC_ALL", "en_US.UTF-8")
        .current_dir(f2.dir.path())
        .env("EDULAKE_LAKE", f2.lake_path())
        .env("EDULAKE_STATE", f2.dir.path().join("lake.state"))
        .env("EDULAKE_FAULT", "after-commit")
        .args(["ingest", "--dataset", "attendance", file2.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(86));
    let state = cockpit(&f2).await;
    let (status, page) = cockpit_get(&state, "/data?from=2026-09-01&to=2026-09-01").await;
    assert_eq!(status, axum::http::StatusCode::OK);
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("断电前.csv"), "{page}");
}

/// Corrections of every row of many files (the same keys sent again) are answered and built
/// within a small memory pool: the rows of keys sent twice are ranked in the memory they
/// really take, and the raw rows stream past the keys.
#[test]
fn corrections_of_many_files_fit_in_a_small_memory_pool() {
    let f = Fixture::new();
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    for (seed, dir) in [(1, "base"), (2, "fix")] {
        let mut opts = edulake_ingest::generate::GenerateOptions::new(end);
        opts.schools = 30;
        opts.students = 60_000;
        opts.days = 1;
        opts.seed = seed;
        opts.datasets = vec!["attendance".into()];
        edulake_ingest::generate::generate(&f.dir.path().join(dir), &opts).unwrap();
        let files = f.dir.path().join(dir).join("attendance");
        let o = f.cli(&[
            "--quiet",
            "ingest",
            "--dataset",
            "attendance",
            files.to_str().unwrap(),
        ]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("30 stored (60000 rows"),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    // What the corrections say, read from their files.
    let mut present = 0;
    for e in std::fs::read_dir(f.dir.path().join("fix/attendance")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        present += text.lines().filter(|l| l.ends_with(",present")).count();
    }
    let small = [("EDULAKE_MEMORY_MB", "48")];
    let sql = "SELECT count(*) AS n, sum(CASE WHEN status = 'present' THEN 1 ELSE 0 END) AS p FROM attendance";
    let o = crate::hostile::limited(&f, &small, &["sql", "--format", "csv", sql]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("n,p\n60000,{present}\n"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = crate::hostile::limited(&f, &small, &["--quiet", "build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = crate::hostile::limited(&f, &small, &["sql", "--format", "csv", sql]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("n,p\n60000,{present}\n")
    );
}

/// What an upload left in the state directory when its server died (raw files, 学籍号 and
/// all) is deleted when the cockpit starts again, whatever its age.
#[tokio::test]
async fn uploads_a_dead_server_left_are_deleted_when_the_cockpit_starts() {
    let f = Fixture::new();
    let left = f
        .dir
        .path()
        .join("lake.state/uploads/20261202T080000.000000-999999999-0");
    std::fs::create_dir_all(&left).unwrap();
    std::fs::write(left.join("kids.csv"), "学籍号\nG001\n").unwrap();
    let _state = cockpit(&f).await;
    assert!(!left.exists(), "the dead server's upload is still there");
}
