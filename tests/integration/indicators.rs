//! Hand-worked fixtures: a tiny district whose every indicator was computed by hand (the
//! numbers in the comments), including a school with an unknown roster, a zero denominator,
//! a correction re-ingested later, a student with too few rows, a collection day on which a
//! school sent nothing, an unread receipt, and classes with exactly 3 and 2 ill students.

use edulake_ingest::Upload;
use edulake_transform::indicators::{AlertKind, Grain, Level, Request, Role};
use edulake_transform::QueryLayer;

use crate::common::*;

const SCHOOLS: &str = "school_code,school_name,district,school_type,teacher_count
S1,一小,D1,小学,2
S2,二中,D1,初中,
S3,三小,D2,小学,1
S4,四小,D2,小学,3
";
// S1 has snapshots on 09-01 (A B C D) and 09-03 (D transferred out); S2 from 09-02 only
// (unknown on 09-01); S3 and S4 have none.
const ROSTERS: &str = "student_id,school_code,grade,class_code,gender,status,as_of_date
A,S1,1,1,M,enrolled,2026-09-01
B,S1,1,1,F,enrolled,2026-09-01
C,S1,2,2,F,enrolled,2026-09-01
D,S1,2,2,M,enrolled,2026-09-01
A,S1,1,1,M,enrolled,2026-09-03
B,S1,1,1,F,enrolled,2026-09-03
C,S1,2,2,F,enrolled,2026-09-03
D,S1,2,2,M,transferred_out,2026-09-03
E,S2,7,7,M,enrolled,2026-09-02
F,S2,7,7,F,enrolled,2026-09-02
";
const ATTENDANCE: &str = "date,school_code,class_code,student_id,status
2026-09-01,S1,1,A,present
2026-09-01,S1,1,B,absent
2026-09-01,S1,2,C,late
2026-09-01,S1,2,D,sick_leave
2026-09-02,S1,1,A,present
2026-09-02,S1,1,B,present
2026-09-02,S1,2,C,early_leave
2026-09-02,S1,2,D,sick_leave
2026-09-03,S1,1,A,present
2026-09-03,S1,1,B,sick_leave
2026-09-03,S1,2,C,present
2026-09-01,S2,7,E,present
2026-09-01,S2,7,F,absent
2026-09-02,S2,7,E,present
2026-09-02,S3,9,X,present
";
/// The clerk's correction, sent later: B was present on 1 September.
const CORRECTION: &str = "date,school_code,class_code,student_id,status
2026-09-01,S1,1,B,present
";
/// S4: P has 10 rows with 1 absence (10 %: chronic), Q 9 rows (too few), R 10 rows, none absent.
fn s4_attendance() -> String {
    let days = ["01", "02", "03", "04", "07", "08", "09", "10", "11", "14"];
    let mut out = String::from("date,school_code,class_code,student_id,status\n");
    for (i, d) in days.iter().enumerate() {
        let p = if *d == "07" { "absent" } else { "present" };
        out.push_str(&format!(
            "2026-09-{d},S4,4A,P,{p}\n2026-09-{d},S4,4A,R,present\n"
        ));
        if i < 9 {
            let q = if ["01", "02", "03", "04", "09"].contains(d) {
                "sick_leave"
            } else {
                "present"
            };
            out.push_str(&format!("2026-09-{d},S4,4A,Q,{q}\n"));
        }
    }
    out
}
const HEALTH: &str = "date,school_code,class_code,student_id,temperature,symptoms,risk_contact
2026-09-01,S1,1,A,36.5,无,是
2026-09-01,S1,1,B,38.0,无,否
2026-09-01,S1,2,C,37.5,无,否
2026-09-02,S1,1,A,36.6,咳嗽,是
2026-09-02,S1,2,D,36.4,,否
2026-09-02,S2,7,E,36.8,发热,否
2026-09-03,S2,7,E,36.5,,否
2026-09-09,S4,,P,38.5,,否
2026-09-09,S4,,R,37.3,,否
";
const NOTICES: &str = "notice_id,issuer,title,published_at
N1,bureau,开学通知,2026-09-01 08:30
N2,S1,家长会,2026-09-02 00:30
";
const READS: &str = "notice_id,school_code,recipient_id,delivered_at,read_at
N1,S1,r1,2026-09-01 08:31,2026-09-01 09:31
N1,S1,r2,2026-09-01 08:31,2026-09-02 10:31
N1,S1,r3,2026-09-01 08:31,
N2,S1,r1,2026-09-02 00:31,2026-09-02 06:31
";

pub async fn district() -> Fixture {
    let f = Fixture::new();
    for (d, text) in [
        ("schools", SCHOOLS.to_string()),
        ("enrolment", ROSTERS.to_string()),
        ("attendance", ATTENDANCE.to_string()),
        ("attendance", s4_attendance()),
        ("health_report", HEALTH.to_string()),
        ("notices", NOTICES.to_string()),
        ("notice_reads", READS.to_string()),
        ("attendance", CORRECTION.to_string()),
    ] {
        let p = f.write(&format!("{d}-{}.csv", text.len()), text);
        let out = f.ingest(d, Upload::default(), &[p]).await;
        assert_eq!(stored(&out[0]).rows_rejected, 0, "{d}");
    }
    f
}

async fn export(
    f: &Fixture,
    indicator: &str,
    level: Level,
    grain: Grain,
    by: Option<&str>,
) -> Vec<Vec<String>> {
    let mut req = Request::new(indicator);
    req.level = level;
    req.grain = grain;
    req.by = by.map(String::from);
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let (_, batches) = layer
        .export(&req)
        .await
        .unwrap_or_else(|e| panic!("{indicator}: {e}"));
    rows(&batches)
}

/// The (keys..., numerator, denominator, value) of each row, dropping the period columns and
/// `suppressed`; `value` rounded to 9 places.
fn nums(rows: Vec<Vec<String>>, keys: usize) -> Vec<String> {
    rows.into_iter()
        .map(|r| {
            let mut v: Vec<String> = r[..keys].to_vec();
            let n = r.len();
            v.push(r[n - 4].clone());
            v.push(r[n - 3].clone());
            v.push(match r[n - 2].parse::<f64>() {
                Ok(x) if r[n - 2].contains(['.', 'e']) => format!("{:.9}", x),
                _ => r[n - 2].clone(),
            });
            v.join(" ")
        })
        .collect()
}

fn r(n: f64, d: f64) -> String {
    format!("{:.9}", n / d)
}

#[tokio::test]
async fn attendance_indicators_by_hand() {
    let f = district().await;
    // S1: 09-01 A B(corrected) C attend of 4; 09-02 3 of 4; 09-03 2 of 3 → 8/11.
    // S2: 1/2 + 1/1 → 2/3. S3: 1/1. S4: P 9/10, Q 4/9, R 10/10 → 23/29.
    let got = nums(
        export(&f, "attendance_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(
        got,
        vec![
            format!("D1 S1 8 11 {}", r(8.0, 11.0)),
            format!("D1 S2 2 3 {}", r(2.0, 3.0)),
            format!("D2 S3 1 1 {}", r(1.0, 1.0)),
            format!("D2 S4 23 29 {}", r(23.0, 29.0)),
        ]
    );
    let got = nums(
        export(&f, "attendance_rate", Level::District, Grain::Total, None).await,
        1,
    );
    assert_eq!(
        got,
        vec![
            format!("D1 10 14 {}", r(10.0, 14.0)),
            format!("D2 24 30 {}", r(24.0, 30.0))
        ]
    );
    let got = nums(
        export(&f, "attendance_rate", Level::Bureau, Grain::Total, None).await,
        0,
    );
    assert_eq!(got, vec![format!("34 44 {}", r(34.0, 44.0))]);
    // Class 1 of S1 by day: 09-01 A, B(corrected) 2/2; 09-02 2/2; 09-03 A 1/2.
    let got = export(&f, "attendance_rate", Level::Class, Grain::Day, None).await;
    let class1: Vec<String> = got
        .iter()
        .filter(|r| r[1] == "S1" && r[3] == "1")
        .map(|r| format!("{} {} {}", r[4], r[6], r[7]))
        .collect();
    assert_eq!(
        class1,
        vec!["2026-09-01 2 2", "2026-09-02 2 2", "2026-09-03 1 2"]
    );
    // sick leave, S1: D 09-01, D 09-02, B 09-03 → 3/11; absence adds nothing else → 3/11.
    let got = nums(
        export(&f, "sick_leave_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got[0], format!("D1 S1 3 11 {}", r(3.0, 11.0)));
    let got = nums(
        export(&f, "absence_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got[0], format!("D1 S1 3 11 {}", r(3.0, 11.0)));
    assert_eq!(got[1], format!("D1 S2 1 3 {}", r(1.0, 3.0)));
    let got = nums(
        export(&f, "late_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got[0], format!("D1 S1 1 11 {}", r(1.0, 11.0)));
    // Weeks are calendar weeks, clipped to the range: S4 rows in the week of 31 Aug and 7 Sep
    // and on 14 Sep.
    let got = export(&f, "attendance_rate", Level::School, Grain::Week, None).await;
    let s4: Vec<String> = got
        .iter()
        .filter(|r| r[1] == "S4")
        .map(|r| format!("{}..{} {}/{}", r[3], r[4], r[5], r[6]))
        .collect();
    assert_eq!(
        s4,
        vec![
            "2026-08-31..2026-09-06 8/12",
            "2026-09-07..2026-09-13 13/15",
            "2026-09-14..2026-09-20 2/2"
        ]
    );
}

#[tokio::test]
async fn reporting_and_chronic_absence_by_hand() {
    let f = district().await;
    // S1: 4/4 + 4/4 + 3/3 = 11/11. S2: 09-01 unknown roster (left out); 09-02 E of {E, F} = 1/2.
    // S3 and S4 have no roster: no row.
    let got = nums(
        export(
            &f,
            "attendance_reporting_rate",
            Level::School,
            Grain::Total,
            None,
        )
        .await,
        2,
    );
    assert_eq!(
        got,
        vec![
            format!("D1 S1 11 11 {}", r(11.0, 11.0)),
            format!("D1 S2 1 2 {}", r(1.0, 2.0))
        ]
    );
    // Chronic absence: S4 P (1 of 10 absent = 10 %) of P and R; Q has 9 rows. S1..S3 have no
    // student with 10 rows: a zero denominator, an empty value.
    let got = nums(
        export(
            &f,
            "chronic_absence_rate",
            Level::School,
            Grain::Total,
            None,
        )
        .await,
        2,
    );
    assert_eq!(
        got,
        vec![
            "D1 S1 0 0 ",
            "D1 S2 0 0 ",
            "D2 S3 0 0 ",
            &format!("D2 S4 1 2 {}", r(1.0, 2.0))
        ]
    );
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let mut req = Request::new("chronic_absence_rate");
    req.grain = Grain::Week;
    assert!(layer
        .export(&req)
        .await
        .unwrap_err()
        .to_string()
        .contains("grains are: total"));
}

#[tokio::test]
async fn health_indicators_by_hand() {
    let f = district().await;
    // Collection days: 09-01, 09-02, 09-03, 09-09. S1 (roster 4, 4, 3, 3): 3 + 2 + 0 + 0 = 5/14;
    // S1 sent nothing on 09-03 and 09-09 and scores 0 for them. S2: 09-01 unknown roster; 1/2,
    // 1/2, 0/2 = 2/6. S3, S4: no roster.
    let got = nums(
        export(&f, "health_report_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(
        got,
        vec![
            format!("D1 S1 5 14 {}", r(5.0, 14.0)),
            format!("D1 S2 2 6 {}", r(2.0, 6.0))
        ]
    );
    // Fever: B 38.0 and C 37.5 of S1's 5 reports; E (发热) of S2's 2; P and R (37.3) of S4's 2.
    let got = nums(
        export(&f, "fever_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(
        got,
        vec![
            format!("D1 S1 2 5 {}", r(2.0, 5.0)),
            format!("D1 S2 1 2 {}", r(1.0, 2.0)),
            format!("D2 S4 2 2 {}", r(2.0, 2.0))
        ]
    );
    // Symptoms: S1 adds A's cough on 09-02 → 3/5.
    let got = nums(
        export(&f, "symptom_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got[0], format!("D1 S1 3 5 {}", r(3.0, 5.0)));
    // Risk contact: A on two days is one student.
    let got = nums(
        export(&f, "risk_contact_count", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got, vec!["D1 S1   1"]);
    let got = nums(
        export(&f, "risk_contact_count", Level::Bureau, Grain::Day, None).await,
        0,
    );
    assert_eq!(got, vec!["  1", "  1"]);
}

#[tokio::test]
async fn cluster_alerts_by_hand() {
    let f = district().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    // S4 class 4A on 09-09: Q on sick leave, P and R with fever (their reports have no class:
    // it comes from that day's attendance) → exactly 3. S1 class 2 on 09-01 has 2 (C fever,
    // D sick leave): no alert.
    let (_, b) = layer
        .alerts(None, None, 3, AlertKind::Cluster)
        .await
        .unwrap();
    assert_eq!(
        rows(&b),
        vec![vec!["cluster", "D2", "S4", "四小", "4A", "2026-09-09", "3"]]
    );
    let (_, b) = layer
        .alerts(None, None, 2, AlertKind::Cluster)
        .await
        .unwrap();
    let two: Vec<String> = rows(&b)
        .iter()
        .map(|r| format!("{} {} {} {}", r[2], r[4], r[5], r[6]))
        .collect();
    assert!(two.contains(&"S1 2 2026-09-01 2".to_string()), "{two:?}");
    let (_, b) = layer
        .alerts(
            Some(chrono::NaiveDate::from_ymd_opt(2026, 9, 10).unwrap()),
            None,
            3,
            AlertKind::Cluster,
        )
        .await
        .unwrap();
    assert!(rows(&b).is_empty());
}

#[tokio::test]
async fn enrolment_indicators_by_hand() {
    let f = district().await;
    // The range ends 2026-09-14: S1's roster in force is the 09-03 snapshot (A B C), S2's has E F.
    let got = nums(
        export(&f, "enrolled", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got, vec!["D1 S1   3", "D1 S2   2"]);
    // By day: on 09-01 S1 has 4 (D still enrolled) and S2's roster is unknown (no row).
    let got = export(&f, "enrolled", Level::School, Grain::Day, None).await;
    let first: Vec<String> = got
        .iter()
        .filter(|r| r[3] == "2026-09-01")
        .map(|r| format!("{} {}", r[1], r[7]))
        .collect();
    assert_eq!(first, vec!["S1 4"]);
    let got = nums(
        export(&f, "enrolled", Level::Bureau, Grain::Total, Some("gender")).await,
        1,
    );
    assert_eq!(got, vec!["F   3", "M   2"]);
    let got = nums(
        export(&f, "female_share", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got[0], format!("D1 S1 2 3 {}", r(2.0, 3.0)));
    // Pupils per teacher: S1 3/2; S2 has no teacher_count, S3 and S4 no roster: left out.
    let got = nums(
        export(&f, "pupil_teacher_ratio", Level::Bureau, Grain::Total, None).await,
        0,
    );
    assert_eq!(got, vec![format!("3 2 {}", r(3.0, 2.0))]);
    // D was enrolled on 09-01 and transferred out in the 09-03 snapshot.
    let got = export(&f, "transfers_out", Level::School, Grain::Day, None).await;
    let t: Vec<String> = got
        .iter()
        .map(|r| format!("{} {} {}", r[1], r[3], r[7]))
        .collect();
    assert_eq!(t, vec!["S1 2026-09-03 1"]);
}

#[tokio::test]
async fn notice_indicators_by_hand() {
    let f = district().await;
    // S1: 3 of 4 receipts read; within 24 h: r1 (1 h) of N1 and r1 (6 h) of N2 → 2/4.
    let got = nums(
        export(&f, "notice_read_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got, vec![format!("D1 S1 3 4 {}", r(3.0, 4.0))]);
    let got = nums(
        export(
            &f,
            "notice_read_24h_rate",
            Level::School,
            Grain::Total,
            None,
        )
        .await,
        2,
    );
    assert_eq!(got, vec![format!("D1 S1 2 4 {}", r(2.0, 4.0))]);
    // By notice: N1 2 of 3 (r3 unread), N2 1 of 1. N2 was published at 00:30 on 2 September in
    // Shanghai (16:30 UTC on 1 September): it belongs to 2 September.
    let got = export(
        &f,
        "notice_read_rate",
        Level::School,
        Grain::Day,
        Some("notice"),
    )
    .await;
    let by: Vec<String> = got
        .iter()
        .map(|r| format!("{} {} {} {}/{}", r[3], r[4], r[5], r[7], r[8]))
        .collect();
    assert_eq!(
        by,
        vec!["N1 开学通知 2026-09-01 2/3", "N2 家长会 2026-09-02 1/1"]
    );
    // Median hours to read over read receipts: 1, 26, 6 → 6; by notice N1 (1, 26) → 13.5.
    let got = nums(
        export(&f, "notice_median_hours", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got, vec!["D1 S1   6.000000000"]);
    let got = nums(
        export(
            &f,
            "notice_median_hours",
            Level::School,
            Grain::Total,
            Some("notice"),
        )
        .await,
        4,
    );
    assert_eq!(
        got,
        vec![
            "D1 S1 一小 N1   13.500000000",
            "D1 S1 一小 N2   6.000000000"
        ]
    );
    // A messaging platform's read-status export says when r4 read N2, not when it reached
    // them: delivered at N2's publication (00:30 on 2 September), read 23.5 h later.
    let p = f.write(
        "阅读情况.csv",
        "通知编号,学校代码,接收人,阅读时间\nN2,S1,r4,2026-09-03 00:00\n",
    );
    let out = f.ingest("notice_reads", Upload::default(), &[p]).await;
    assert_eq!(stored(&out[0]).rows_stored, 1, "{out:?}");
    let got = nums(
        export(
            &f,
            "notice_read_24h_rate",
            Level::School,
            Grain::Total,
            None,
        )
        .await,
        2,
    );
    assert_eq!(got, vec![format!("D1 S1 3 5 {}", r(3.0, 5.0))]);
    // Read after 1, 26, 6 and 23.5 hours: the median is 14.75.
    let got = nums(
        export(&f, "notice_median_hours", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got, vec!["D1 S1   14.750000000"]);
    // r3 read N1 after all: the platform's export of the next day says so, and the receipt
    // sent again replaces the first (one receipt per notice and recipient, the later upload).
    let p = f.write(
        "阅读情况_0902.csv",
        "通知编号,学校代码,接收人,阅读时间\nN1,S1,r3,2026-09-02 08:00\n",
    );
    f.ingest("notice_reads", Upload::default(), &[p]).await;
    assert_eq!(
        f.query("SELECT count(*) FROM notice_reads").await,
        vec![vec!["5"]]
    );
    let got = nums(
        export(&f, "notice_read_rate", Level::School, Grain::Total, None).await,
        2,
    );
    assert_eq!(got, vec![format!("D1 S1 5 5 {}", r(5.0, 5.0))]);
}

/// `notice_read_rate` over the whole range at a level, its first `keys` columns and counts.
async fn read_rates(f: &Fixture, level: Level, keys: usize) -> Vec<String> {
    nums(
        export(f, "notice_read_rate", level, Grain::Total, None).await,
        keys,
    )
}

/// Read statistics per notice (a messaging platform's 阅读统计 page, exported): they count in
/// `notice_read_rate` for a school with no receipt of the notice, by class where the school
/// sent classes, and rows whose counts disagree are rejected alone.
#[tokio::test]
async fn notice_read_statistics_by_hand() {
    let f = district().await;
    let p = f.write(
        "阅读统计.csv",
        "通知编号,学校代码,班级,应读人数,已读人数,未读人数\n\
         N1,S1,,100,40,60\n\
         N1,S2,七年级(1)班,30,27,\n\
         N1,S2,7-2,20,,5\n\
         N1,S2,,50,10,40\n\
         N2,S3,,40,30,10\n\
         N2,S4,,40,45,\n\
         N2,S4,1-1,40,30,5\n\
         合计,,,280,152,\n",
    );
    let out = f
        .ingest("notice_read_counts", Upload::default(), &[p])
        .await;
    let rec = stored(&out[0]);
    // 5 stored; S4's two rows rejected (45 read of 40; 30 + 5 ≠ 40); the total row skipped.
    assert_eq!((rec.rows_stored, rec.rows_rejected), (5, 2), "{out:?}");
    let report = std::fs::read_to_string(reject_report(&out[0])).unwrap();
    assert!(report.contains("45") && report.contains("≠"), "{report}");
    // S1 has receipts of N1 (3 of 4 read, with N2's): its statistics are not added. S2: its
    // classes, 27 + 15 of 30 + 20, not its whole-school row. S3: 30 of 40.
    let got = read_rates(&f, Level::School, 2).await;
    assert_eq!(
        got,
        vec![
            format!("D1 S1 3 4 {}", r(3.0, 4.0)),
            format!("D1 S2 42 50 {}", r(42.0, 50.0)),
            format!("D2 S3 30 40 {}", r(30.0, 40.0)),
        ]
    );
    let got = read_rates(&f, Level::District, 1).await;
    assert_eq!(
        got,
        vec![
            format!("D1 45 54 {}", r(45.0, 54.0)),
            format!("D2 30 40 {}", r(30.0, 40.0)),
        ]
    );
    // Receipts sent later for S2 replace its statistics of N1.
    let p = f.write(
        "回执.csv",
        "通知编号,学校代码,接收人,送达时间,阅读时间\nN1,S2,p1,2026-09-01 08:31,\n",
    );
    f.ingest("notice_reads", Upload::default(), &[p]).await;
    let got = read_rates(&f, Level::School, 2).await;
    assert_eq!(got[1], format!("D1 S2 0 1 {}", r(0.0, 1.0)));
}

/// A messaging platform names parents by their account (用户ID), unique only within a school:
/// the same account at two schools is two recipients, not one receipt sent twice.
#[tokio::test]
async fn messaging_accounts_are_local_to_their_school() {
    let f = district().await;
    let p = f.write(
        "阅读情况.csv",
        "通知编号,学校代码,用户ID,阅读时间\nN1,S3,u1,2026-09-01 10:00\nN1,S4,u1,\nN1,S4,,\n",
    );
    let out = f.ingest("notice_reads", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_stored, rec.rows_rejected), (2, 1), "{out:?}");
    assert!(
        format!("{out:?}").contains("2 receipt(s) name the recipient by a messaging account"),
        "{out:?}"
    );
    let report = std::fs::read_to_string(reject_report(&out[0])).unwrap();
    assert!(report.contains("messaging account"), "{report}");
    let got = read_rates(&f, Level::School, 2).await;
    assert_eq!(
        got,
        vec![
            format!("D1 S1 3 4 {}", r(3.0, 4.0)),
            format!("D2 S3 1 1 {}", r(1.0, 1.0)),
            format!("D2 S4 0 1 {}", r(0.0, 1.0)),
        ]
    );
    // S4's parent u1 read it after all: the export sent again replaces S4's receipt only.
    let p = f.write(
        "阅读情况2.csv",
        "通知编号,学校代码,用户ID,阅读时间\nN1,S4,u1,2026-09-01 11:00\n",
    );
    f.ingest("notice_reads", Upload::default(), &[p]).await;
    let got = read_rates(&f, Level::District, 1).await;
    assert_eq!(got[1], format!("D2 2 2 {}", r(2.0, 2.0)));
}

#[tokio::test]
async fn schools_and_freshness_by_hand() {
    let f = district().await;
    let got = nums(
        export(&f, "school_count", Level::District, Grain::Total, None).await,
        2,
    );
    assert_eq!(
        got,
        vec!["D1 junior   1", "D1 primary   1", "D2 primary   2"]
    );
    let got = export(&f, "data_freshness", Level::School, Grain::Total, None).await;
    let s1: Vec<String> = got
        .iter()
        .filter(|r| r[1] == "S1")
        .map(|r| format!("{} {}", r[3], r[4]))
        .collect();
    assert_eq!(
        s1,
        vec![
            "attendance 2026-09-03",
            "enrolment 2026-09-03",
            "health_report 2026-09-02",
            "notice_reads 2026-09-02"
        ]
    );
    let days: i64 = got[0][8].parse().unwrap();
    assert!(days > 60, "days since September: {days}");
}

#[tokio::test]
async fn small_cells_are_hidden_from_everyone_but_the_bureau() {
    let f = district().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let mut req = Request::new("attendance_rate");
    req.role = Role::Restricted;
    let (_, b) = layer.export(&req).await.unwrap();
    let got = rows(&b);
    // Every school has fewer than 10 rows except S1 (11) and S4 (29): S2 and S3 are small
    // cells. S1 is its district's only other school (D1 = S1 + S2), as S4 is S3's: each
    // district's total less the one shown would give the hidden school back, so both are
    // hidden too (complementary suppression).
    let shown: Vec<String> = got
        .iter()
        .map(|r| format!("{} {} {} {}", r[1], r[5], r[6], r[8]))
        .collect();
    assert_eq!(
        shown,
        vec!["S1   true", "S2   true", "S3   true", "S4   true"]
    );
    req.role = Role::Bureau;
    let (_, b) = layer.export(&req).await.unwrap();
    assert!(rows(&b).iter().all(|r| r[8] == "false"));
}

#[tokio::test]
async fn bad_requests_name_the_choices() {
    let f = district().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let err = layer
        .export(&Request::new("attendence_rate"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("attendance_rate") && err.contains("fever_rate"),
        "{err}"
    );
    let mut req = Request::new("notice_read_rate");
    req.level = Level::Class;
    assert!(layer
        .export(&req)
        .await
        .unwrap_err()
        .to_string()
        .contains("levels are: school"));
    let mut req = Request::new("attendance_rate");
    req.by = Some("gender".into());
    assert!(layer
        .export(&req)
        .await
        .unwrap_err()
        .to_string()
        .contains("cannot be split by gender"));
    // An empty range is a header and no rows.
    let mut req = Request::new("attendance_rate");
    req.from = chrono::NaiveDate::from_ymd_opt(2027, 1, 1);
    req.to = chrono::NaiveDate::from_ymd_opt(2027, 1, 31);
    let (schema, b) = layer.export(&req).await.unwrap();
    assert!(rows(&b).is_empty());
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "district",
            "school_code",
            "school_name",
            "period_start",
            "period_end",
            "numerator",
            "denominator",
            "value",
            "suppressed"
        ]
    );
}

/// Every indicator at several levels and grains, over a generated messy district, against
/// DuckDB computing it again from the lake's raw tables (tests/python/oracle.py). The lake is
/// built, so exports read the marts; the incremental test (marts.rs) checks that the views
/// give the same exports as the marts.
#[tokio::test]
async fn oracle_duckdb_agrees_on_every_indicator() {
    let f = Fixture::new();
    crate::privacy::ingested_messy_district(&f);
    let o = f.cli(&["--quiet", "build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python/oracle.py");
    let out = std::process::Command::new("python3")
        .args([
            script,
            f.lake_path().to_str().unwrap(),
            env!("CARGO_BIN_EXE_edulake"),
            f.dir.path().join("lake.state").to_str().unwrap(),
        ])
        .output()
        .expect("python3 (tests/setup.sh installs duckdb and deltalake)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("oracle agrees on"), "{stdout}");
    // The filtered exports (a school type, a grade, both) were checked on rows.
    let filtered: Vec<&str> = stdout.lines().filter(|l| l.contains("{'")).collect();
    assert_eq!(filtered.len(), 6, "{stdout}");
    assert!(
        filtered.iter().all(|l| !l.ends_with(": 0 rows")),
        "{filtered:?}"
    );
    // The district has a school on a platform keyed by local ids, linked by its roster.
    assert!(
        stdout.contains("local ids linked by rosters:")
            && !stdout.contains("local ids linked by rosters: 0\n"),
        "{stdout}"
    );
    // ... whose check-in app names pupils by the roster's second local id (学籍辅号) ...
    assert!(
        stdout.contains("check-ins resolved through a roster's further local id:")
            && !stdout.contains("check-ins resolved through a roster's further local id: 0\n"),
        "{stdout}"
    );
    // ... and a school whose messaging platform gives read statistics, not receipts.
    assert!(
        stdout.contains("schools with read statistics:")
            && !stdout.contains("schools with read statistics: 0\n"),
        "{stdout}"
    );
}
