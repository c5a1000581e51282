//! The lake's promises: a file ingested once, later uploads win, a batch visible completely
//! or not at all.

use edulake_ingest::{Fault, Outcome, Upload};

use crate::common::*;

#[tokio::test]
async fn the_same_file_twice_changes_nothing() {
    let f = Fixture::new();
    let p = f.write("a.csv", to_csv(&attendance_rows(), b','));
    let first = f
        .ingest("attendance", Upload::default(), std::slice::from_ref(&p))
        .await;
    let batch = stored(&first[0]).batch_id.clone();
    let version = f.lake.load("attendance").await.unwrap().unwrap().version();
    // A copy under another name is the same file.
    let copy = f.write("copy/a (1).csv", std::fs::read(&p).unwrap());
    let again = f
        .ingest("attendance", Upload::default(), &[p.clone(), copy])
        .await;
    for fo in &again {
        match &fo.outcome {
            Outcome::AlreadyIngested { batch_id } => assert_eq!(batch_id, &batch),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        f.lake.load("attendance").await.unwrap().unwrap().version(),
        version
    );
    assert_eq!(
        f.query("SELECT count(*) FROM raw_attendance").await,
        vec![vec!["6"]]
    );
    assert_eq!(f.lake.batches().await.unwrap().len(), 1);
    // The same bytes for another school are another upload.
    let other = f
        .ingest(
            "attendance",
            Upload {
                school: Some("S001".into()),
                as_of: None,
                ..Default::default()
            },
            &[p],
        )
        .await;
    assert_eq!(stored(&other[0]).rows_stored, 6);
}

#[tokio::test]
async fn a_later_upload_corrects_earlier_rows() {
    let f = Fixture::new();
    let p = f.write("a.csv", to_csv(&attendance_rows(), b','));
    f.ingest("attendance", Upload::default(), &[p]).await;
    // The clerk corrects G002 on 1 September: absent → present, and repeats a row in a file
    // where the later row wins.
    let fix = "date,school_code,class_code,student_id,status\n2026-09-01,S001,101,G002,late\n2026-09-01,S001,101,G002,present\n";
    let p2 = f.write("fix.csv", fix);
    f.ingest("attendance", Upload::default(), &[p2]).await;
    let g002 = f.key.pseudonym("G002");
    let now = f.query(&format!("SELECT CAST(date AS VARCHAR) AS day, status FROM attendance WHERE student_id = '{g002}' ORDER BY date")).await;
    assert_eq!(
        now,
        vec![vec!["2026-09-01", "present"], vec!["2026-09-02", "present"]]
    );
    assert_eq!(
        f.query("SELECT count(*) FROM attendance").await,
        vec![vec!["6"]]
    );
    assert_eq!(
        f.query("SELECT count(*) FROM raw_attendance").await,
        vec![vec!["8"]]
    );
    // Order inside one call: the later file wins too.
    let a = f.write(
        "b1.csv",
        "date,school_code,class_code,student_id,status\n2026-09-03,S001,101,G009,absent\n",
    );
    let b = f.write(
        "b2.csv",
        "date,school_code,class_code,student_id,status\n2026-09-03,S001,101,G009,sick_leave\n",
    );
    f.ingest("attendance", Upload::default(), &[a, b]).await;
    let g9 = f.key.pseudonym("G009");
    assert_eq!(
        f.query(&format!(
            "SELECT status FROM attendance WHERE student_id = '{g9}'"
        ))
        .await,
        vec![vec!["sick_leave"]]
    );
    // The batch index as this process kept it (read once, then the records each commit
    // appended) is the index as a new process reads it whole.
    let summary = |records: Vec<edulake_ingest::BatchRecord>| -> Vec<String> {
        records
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {:?}",
                    r.batch_id, r.source_file, r.table_version, r.rows_stored, r.dates
                )
            })
            .collect()
    };
    let kept = summary(f.lake.batches().await.unwrap());
    let fresh = edulake_ingest::Lake::open(f.lake_path().to_str().unwrap()).unwrap();
    assert_eq!(kept.len(), 4, "{kept:?}");
    assert_eq!(kept, summary(fresh.batches().await.unwrap()));
}

#[tokio::test]
async fn a_failure_between_writing_and_committing_leaves_nothing_visible() {
    let f = Fixture::new();
    let p = f.write("a.csv", to_csv(&attendance_rows(), b','));
    let mut opts = f.options("attendance");
    opts.fault = Fault::BeforeCommit;
    let err = f
        .ingest_with(&opts, std::slice::from_ref(&p))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected fault"));
    // Data files were written, but no commit references them.
    let parquet_files = walk(&f.lake_path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    assert!(
        parquet_files > 0,
        "the fault must come after data files are written"
    );
    assert_eq!(
        f.query("SELECT count(*) FROM raw_attendance").await,
        vec![vec!["0"]]
    );
    assert_eq!(
        f.query("SELECT count(*) FROM attendance").await,
        vec![vec!["0"]]
    );
    assert!(f.lake.batches().await.unwrap().is_empty());
    // The file is not "already ingested": it goes in whole on the next try.
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    assert_eq!(stored(&out[0]).rows_stored, 6);
    assert_eq!(
        f.query("SELECT count(*) FROM raw_attendance").await,
        vec![vec!["6"]]
    );
}

#[tokio::test]
async fn a_commit_whose_index_entry_was_lost_is_caught_up() {
    let f = Fixture::new();
    let p = f.write("a.csv", to_csv(&attendance_rows(), b','));
    f.ingest("attendance", Upload::default(), std::slice::from_ref(&p))
        .await;
    // Simulate a process that died between the data commit and the index append: remove the
    // index table; the next ingest rebuilds its entry from the Delta log.
    let fp = f.key.fingerprint();
    std::fs::remove_dir_all(f.lake_path().join("_batches")).unwrap();
    f.lake.check_key(&fp).await.unwrap();
    let again = f.ingest("attendance", Upload::default(), &[p]).await;
    assert!(
        matches!(again[0].outcome, Outcome::AlreadyIngested { .. }),
        "{again:?}"
    );
    let batches = f.lake.batches().await.unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].rows_stored, 6);
    assert_eq!(batches[0].dates, vec!["2026-09-01", "2026-09-02"]);
}

#[tokio::test]
async fn every_batch_is_recorded_with_its_counts_and_hash() {
    let f = Fixture::new();
    let text = to_csv(&attendance_rows(), b',') + "2026-09-02,S001,101,G004,??\n";
    let p = f.write("a.csv", &text);
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let rec = stored(&out[0]).clone();
    let batches = f.lake.batches().await.unwrap();
    assert_eq!(batches, vec![rec.clone()]);
    use sha2_check::sha256_hex;
    assert_eq!(rec.source_sha256, sha256_hex(text.as_bytes()));
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (7, 6, 1)
    );
    assert!(rec
        .reject_report
        .as_deref()
        .is_some_and(|r| r.starts_with("rejects/attendance/")));
    assert!(rec.table_version >= 1);
}

#[tokio::test]
async fn another_key_is_refused() {
    let f = Fixture::new();
    let p = f.write("a.csv", to_csv(&attendance_rows(), b','));
    f.ingest("attendance", Upload::default(), std::slice::from_ref(&p))
        .await;
    let other = edulake_ingest::Key::parse("a different bureau secret").unwrap();
    let opts = f.options("attendance");
    let err = edulake_ingest::ingest(&f.lake, &f.state, &other, &opts, &[p], &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another key"), "{err}");
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

mod sha2_check {
    /// SHA-256 by the system's `sha256sum`, an implementation no one here wrote.
    pub fn sha256_hex(bytes: &[u8]) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sha256sum");
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}
