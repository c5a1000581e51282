//! Student identifiers (REPORTING.md, "the roster is the crosswalk"): platform exports keyed by
//! school-local ids (学号, 校内学号), resolved to the national id (学籍号) through a roster that
//! carries both — one that arrives after the rows included — and id columns that agree or
//! disagree. Every number is worked by hand below.

use edulake_ingest::Upload;
use edulake_transform::indicators::{Grain, Level};

use crate::common::*;
use crate::shapes::counts;

const SCHOOLS: &str = "school_code,school_name,district,school_type\nL1,实验中学,D1,初中\n";

/// The 学籍 roster as first sent: national ids only, ten pupils of 七年级(1)班.
fn national_roster() -> String {
    let mut out = String::from("学籍号,学校代码,年级,班级,性别,快照日期\n");
    for i in 1..=10 {
        out.push_str(&format!("N{i:02},L1,7,七年级(1)班,男,2026-09-01\n"));
    }
    out
}

/// The attendance system's daily export (DingTalk style): a title row with the date, its own
/// headers and values, and the school's own 学号 (1001…) instead of the 学籍号. 1011 is a pupil
/// no roster names yet.
const DAILY_EXPORT: &str = "考勤日报 日期：2026-10-12\n\
学号,姓名,班级,考勤状态\n\
1001,甲,七年级(1)班,正常\n1002,乙,七年级(1)班,正常\n1003,丙,七年级(1)班,正常\n\
1004,丁,七年级(1)班,正常\n1005,戊,七年级(1)班,正常\n1006,己,七年级(1)班,正常\n\
1007,庚,七年级(1)班,正常\n1008,辛,七年级(1)班,正常\n1009,壬,七年级(1)班,病假\n\
1010,癸,七年级(1)班,迟到\n1011,子,七年级(1)班,正常\n";

/// The parents' check-in export: the check-in app's own id (学籍辅号, not the attendance
/// system's 学号), temperatures with their unit. Only the roster's second local-id column
/// links these.
const CHECK_INS: &str = "打卡日期,学籍辅号,班级,体温\n\
2026-10-12,F1,7-1,36.5℃\n2026-10-12,F2,7-1,36.6℃\n2026-10-12,F3,7-1,38.1℃\n\
2026-10-12,F4,7-1,36.4℃\n2026-10-12,F5,7-1,36.7℃\n";

/// The 学籍 system's export a month later: 学籍号 and 全国学籍号 (the same id twice, one with
/// Excel's text marker), 学号 and 学籍辅号 (two local ids). N12's two national ids differ: that
/// row is rejected, not the file.
fn crosswalk_roster() -> String {
    let mut out =
        String::from("学籍号,全国学籍号,学号,学籍辅号,学校代码,年级,班级,性别,学生状态,快照日期\n");
    for i in 1..=10 {
        out.push_str(&format!(
            "'N{i:02},N{i:02},{},F{i},L1,7,七年级(1)班,男,在读,2026-10-14\n",
            1000 + i
        ));
    }
    out.push_str("N12,N99,1012,F12,L1,7,七年级(1)班,女,在读,2026-10-14\n");
    out
}

/// An upload for school L1 (its files carry no school code).
fn school() -> Upload {
    Upload {
        school: Some("L1".into()),
        ..Default::default()
    }
}

/// L1 in the registry, with its 学籍 roster as first sent (national ids only).
async fn school_with_national_roster() -> Fixture {
    let f = Fixture::new();
    let p = f.write("schools.csv", SCHOOLS);
    f.ingest("schools", Upload::default(), &[p]).await;
    let p = f.write("名册.csv", national_roster());
    f.ingest("enrolment", Upload::default(), &[p]).await;
    f
}

#[tokio::test]
async fn local_ids_resolve_through_a_roster_that_arrives_later() {
    let f = school_with_national_roster().await;
    let p = f.write("考勤日报.csv", DAILY_EXPORT);
    let out = f.ingest("attendance", school(), &[p]).await;
    assert_eq!(stored(&out[0]).rows_stored, 11, "{out:?}");
    // The clerk is told what the lake will do with them.
    assert!(
        format!("{out:?}").contains("11 row(s) name the student by a school-local id only"),
        "{out:?}"
    );
    let p = f.write("晨检打卡.csv", CHECK_INS);
    let out = f.ingest("health_report", school(), &[p]).await;
    assert_eq!(stored(&out[0]).rows_stored, 5, "{out:?}");

    // Before the crosswalk: each local id is a person of L1 (11 rows, 10 attended: 8 正常,
    // 1 迟到, and 1011), but none of them is on the roster, so nobody on it has reported.
    let total = |ind: &'static str| counts(&f, ind, Level::School, Grain::Total, None);
    assert_eq!(total("attendance_rate").await, vec!["L1 10 11"]);
    assert_eq!(total("attendance_reporting_rate").await, vec!["L1 0 10"]);
    assert_eq!(total("health_report_rate").await, vec!["L1 0 10"]);

    // The roster with both ids arrives (dated after the day it resolves).
    let p = f.write("学籍导出.csv", crosswalk_roster());
    let out = f.ingest("enrolment", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_stored, rec.rows_rejected), (10, 1), "{out:?}");
    assert!(
        format!("{out:?}").contains("the others as `other_local_ids`"),
        "{out:?}"
    );
    let report = std::fs::read_to_string(reject_report(&out[0])).unwrap();
    assert!(
        report.contains("'N12' and 全国学籍号 'N99' name different students"),
        "{report}"
    );
    // 1001–1010 (学号) and F1–F10 (学籍辅号) are now N01–N10 of the roster in force on 12
    // October; 1011 still counts as a person of L1, not on its roster.
    assert_eq!(total("attendance_rate").await, vec!["L1 10 11"]);
    assert_eq!(total("attendance_reporting_rate").await, vec!["L1 10 10"]);
    assert_eq!(total("health_report_rate").await, vec!["L1 5 10"]);
    assert_eq!(total("sick_leave_rate").await, vec!["L1 1 11"]);
    assert_eq!(total("fever_rate").await, vec!["L1 1 5"]);

    // A correction sent later by the national id replaces the row sent by the local id: N09
    // came in after all. Still 11 pupils, now all attended.
    let p = f.write(
        "更正.csv",
        "日期,学籍号,班级,考勤状态\n2026-10-12,N09,七年级(1)班,出勤\n",
    );
    f.ingest("attendance", school(), &[p]).await;
    assert_eq!(total("attendance_rate").await, vec!["L1 11 11"]);
    assert_eq!(total("sick_leave_rate").await, vec!["L1 0 11"]);
    // The lake holds pseudonyms only: a local id is hashed with its school, never kept raw.
    let raw = f
        .query("SELECT count(*) FROM raw_attendance WHERE local_id IN ('1001', 'L1|1001')")
        .await;
    assert_eq!(raw, vec![vec!["0"]]);
}

#[tokio::test]
async fn national_id_columns_must_agree() {
    let f = Fixture::new();
    let p = f.write(
        "a.csv",
        "date,school_code,class_code,学籍号,全国学籍号,status\n\
         2026-09-01,S001,101,G1,'G1,present\n\
         2026-09-01,S001,101,G2,G3,present\n\
         2026-09-01,S001,101,G4,,absent\n",
    );
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    // G1 twice is one id; G2/G3 is rejected alone; a row with one of them filled is kept.
    assert_eq!((rec.rows_stored, rec.rows_rejected), (2, 1), "{out:?}");
    // A row with no id of either kind is rejected, naming what was needed.
    let p = f.write(
        "b.csv",
        "date,school_code,class_code,学籍号,学号,status\n2026-09-01,S001,101,,,present\n",
    );
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    assert_eq!(stored(&out[0]).rows_rejected, 1);
    let report = std::fs::read_to_string(reject_report(&out[0])).unwrap();
    assert!(
        report.contains("a national id (学籍号) or a local id"),
        "{report}"
    );
}

/// A build keeps what it found in the raw tables (here: no row sent by a local id yet) with the
/// marts it writes, and the next build looks only at the partitions sent since: it must still
/// find the rows sent by local id after the first build, and resolve them.
#[tokio::test]
async fn a_build_finds_local_ids_sent_after_the_last_build() {
    use edulake_transform::marts::{self, BuildOptions};
    let f = school_with_national_roster().await;
    let mut friday = String::from("日期,学籍号,班级,考勤状态\n");
    for i in 1..=10 {
        friday.push_str(&format!("2026-10-09,N{i:02},七年级(1)班,出勤\n"));
    }
    let p = f.write("周五.csv", friday);
    f.ingest("attendance", school(), &[p]).await;
    marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let layer = edulake_transform::QueryLayer::open(&f.reader)
        .await
        .unwrap();
    assert!(!layer.local_ids().resolves("attendance"));

    // Monday's export by 学号, and the roster linking them, sent after that build.
    let p = f.write("学籍导出.csv", crosswalk_roster());
    f.ingest("enrolment", Upload::default(), &[p]).await;
    let p = f.write("考勤日报.csv", DAILY_EXPORT);
    f.ingest("attendance", school(), &[p]).await;
    marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let layer = edulake_transform::QueryLayer::open(&f.reader)
        .await
        .unwrap();
    assert!(layer.local_ids().resolves("attendance"));
    // Friday 10 of 10; Monday 1001–1010 are N01–N10 (9 attended) and 1011 is a person of L1
    // not on the roster (attended): 20 of 21 attended, and every rostered pupil reported.
    let total = |ind: &'static str| counts(&f, ind, Level::School, Grain::Total, None);
    assert_eq!(total("attendance_rate").await, vec!["L1 20 21"]);
    assert_eq!(total("attendance_reporting_rate").await, vec!["L1 20 20"]);
}
