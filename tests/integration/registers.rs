//! Exception registers (REPORTING.md): absence lists and leave approvals, before and after
//! their roster, dated by `--date` or by the file's name, each hand-worked.

use std::path::Path;

use edulake_ingest::Upload;
use edulake_transform::indicators::{Grain, Level};

use crate::common::*;
use crate::shapes::counts;

/// Ingests a register of school E1 as a clerk's command does (`--class`, and `--date` when
/// given); its output and its warnings.
fn ingest_register(f: &Fixture, class: &str, date: Option<&str>, path: &Path) -> (String, String) {
    let mut args = vec![
        "ingest",
        "--dataset",
        "attendance",
        "--exceptions",
        "--school",
        "E1",
    ];
    if let Some(date) = date {
        args.extend(["--date", date]);
    }
    args.extend(["--class", class, path.to_str().unwrap()]);
    let out = f.cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

const E1_ROSTER: &str = "学籍号,学校代码,年级,班级,性别,快照日期\n";

pub(crate) fn e1_roster() -> String {
    let mut out = E1_ROSTER.to_string();
    for i in 1..=20 {
        out.push_str(&format!("G{i:02},E1,7,7-1,男,2026-09-01\n"));
    }
    for i in 21..=30 {
        out.push_str(&format!("G{i:02},E1,7,7-2,女,2026-09-01\n"));
    }
    out
}

/// An absence register as a clerk keeps it: only the three who were not there.
const REGISTER: &str = "学籍号,姓名,缺勤类型\nG03,张三,病假\nG07,李四,事假\n'G11,王五,旷课\n";

#[tokio::test]
async fn an_exception_register_before_and_after_its_roster() {
    let f = Fixture::new();
    let register = f.write("缺勤登记.csv", REGISTER);
    let (stdout, stderr) = ingest_register(&f, "七年级(1)班", Some("2026-10-12"), &register);
    assert!(stdout.contains("stored 3 of 3 rows"), "{stdout}");
    assert!(stdout.contains("covers 1 class-day"), "{stdout}");
    assert!(
        stderr.contains("no roster in force on 2026-10-12"),
        "{stderr}"
    );
    // No roster yet: the day's attendance is unknown, never 0 % (the three listed alone are
    // not the class).
    assert!(
        counts(&f, "attendance_rate", Level::School, Grain::Total, None)
            .await
            .is_empty()
    );

    // The roster arrives: 17 of the 20 of 7-1 were present.
    let roster = f.write("名册.csv", e1_roster());
    f.ingest("enrolment", Upload::default(), &[roster]).await;
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Total, None).await,
        vec!["E1 7-1 17 20"]
    );
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::Class, Grain::Total, None).await,
        vec!["E1 7-1 1 20"]
    );

    // An empty register for 7-2 with its date and class is that class's zero report; the same
    // empty file for another day is another report, not the same file again.
    let empty = f.write("零报告.csv", "学籍号,姓名,缺勤类型\n");
    ingest_register(&f, "7-2", Some("2026-10-12"), &empty);
    let (stdout, _) = ingest_register(&f, "7-2", Some("2026-10-13"), &empty);
    assert!(
        stdout.contains("1 stored") && !stdout.contains(": already ingested"),
        "{stdout}"
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None).await,
        vec![
            "E1 7-1 2026-10-12 17 20",
            "E1 7-2 2026-10-12 10 10",
            "E1 7-2 2026-10-13 10 10"
        ]
    );
    // Class reporting on the two collection days: 12 October both classes, 13 October 7-2.
    assert_eq!(
        counts(
            &f,
            "class_reporting_rate",
            Level::School,
            Grain::Total,
            None
        )
        .await,
        vec!["E1 3 4"]
    );

    // The clerk re-sends 7-1's register without 王五 (G11 was there after all): 18 of 20.
    let corrected = f.write(
        "缺勤登记2.csv",
        "学籍号,姓名,缺勤类型\nG03,张三,病假\nG07,李四,事假\n",
    );
    ingest_register(&f, "7-1", Some("2026-10-12"), &corrected);
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None).await[0],
        "E1 7-1 2026-10-12 18 20"
    );
    // A per-student row sent later still wins by its key: G03 was in fact present.
    let row = f.write(
        "g03.csv",
        "date,school_code,class_code,student_id,status\n2026-10-12,E1,7-1,G03,present\n",
    );
    f.ingest("attendance", Upload::default(), &[row]).await;
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None).await[0],
        "E1 7-1 2026-10-12 19 20"
    );
    // `edulake sql` sees the rows as the indicators count them, and where they came from.
    assert_eq!(
        f.query("SELECT shape, count(*) FROM class_days GROUP BY shape ORDER BY shape")
            .await,
        vec![vec!["register", "3"]]
    );
    assert_eq!(
        f.query("SELECT source, count(*) FROM attendance_rows GROUP BY source ORDER BY source")
            .await,
        vec![vec!["register", "39"], vec!["rows", "1"]]
    );
    // The lake keeps what was sent: the listed students and the coverage, not derived rows.
    assert_eq!(
        f.query("SELECT count(*) FROM raw_attendance_exceptions WHERE student_id IS NOT NULL")
            .await,
        vec![vec!["5"]]
    );
    // And the build agrees.
    let out = f.cli(&["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Total, None).await,
        vec!["E1 39 40"]
    );
}

/// A clerk's absence list is often the same two days running (the same pupils off sick), and
/// its date is in the file's name only: the second day's file is that day's register, not "the
/// same file again".
#[tokio::test]
async fn a_register_dated_by_its_name_is_not_another_days_file() {
    let f = Fixture::new();
    let roster = f.write("名册.csv", e1_roster());
    f.ingest("enrolment", Upload::default(), &[roster]).await;
    for name in [
        "缺勤登记_2026-10-14.csv",
        "缺勤登记_2026-10-15.csv",
        "缺勤登记_2026-10-15.csv",
    ] {
        let register = f.write(name, REGISTER);
        ingest_register(&f, "7-1", None, &register);
    }
    // The third file is the second sent again: already ingested, counted once.
    assert_eq!(
        f.query("SELECT count(*) FROM batches WHERE dataset = 'attendance_exceptions'")
            .await,
        vec![vec!["2"]]
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None).await,
        vec!["E1 7-1 2026-10-14 17 20", "E1 7-1 2026-10-15 17 20"]
    );
}

/// Leave approvals as the approval system exports them: a span per row, times of day, a status
/// column the lake does not keep. G10's leave is next week.
fn leave_approvals() -> String {
    let today = chrono::Local::now().date_naive();
    let next = |n| (today + chrono::Duration::days(n)).to_string();
    format!(
        "学籍号,姓名,请假类型,请假开始时间,请假结束时间,审批状态
G03,张三,病假,2026-10-12 08:00,2026-10-14 17:30,已通过
G07,李四,事假,2026-10-09 08:00,2026-10-12 12:00,已通过
G09,王五,事假,2026-10-13 08:00,2026-10-12 17:00,已通过
G10,赵六,事假,{} 08:00,{} 17:00,已通过
",
        next(7),
        next(9)
    )
}

#[tokio::test]
async fn leave_approvals_cover_every_school_day_of_their_span() {
    let f = Fixture::new();
    let roster = f.write("名册.csv", e1_roster());
    f.ingest("enrolment", Upload::default(), &[roster]).await;
    let p = f.write("请假审批.csv", leave_approvals());
    let (stdout, _) = ingest_register(&f, "7-1", None, &p);
    // G09's leave ends before it starts; G10's has not begun.
    assert!(stdout.contains("stored 2 of 4 rows"), "{stdout}");
    assert!(stdout.contains("2 leave approval(s)"), "{stdout}");
    let report = only_reject_report(&f, "attendance_exceptions");
    assert!(
        report.contains("leave_end is before leave_start"),
        "{report}"
    );
    assert!(report.contains("has no school day up to today"), "{report}");
    // A span counts on the school's school days only, and E1 has reported nothing else yet:
    // its weekdays may be holidays.
    assert!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None)
            .await
            .is_empty()
    );
    // 7-2's daily reports say E1 had school on 9, 12 and 13 October; 14 October was a holiday
    // (校庆: nobody reported).
    let p = f.write(
        "7-2班日报.csv",
        "日期,班级,应到人数,实到人数\n2026-10-09,7-2,10,10\n2026-10-12,7-2,10,9\n\
         2026-10-13,7-2,10,10\n",
    );
    let school = Upload {
        school: Some("E1".into()),
        ..Default::default()
    };
    f.ingest("class_report", school, &[p]).await;
    // G03: Monday 12 – Wednesday 14 October; G07: Friday 9 and Monday 12 (not the weekend).
    // Every other pupil of 7-1 was present on the school days the leaves cover; 14 October,
    // inside G03's span, is none.
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None).await,
        vec![
            "E1 7-1 2026-10-09 19 20",
            "E1 7-1 2026-10-12 18 20",
            "E1 7-1 2026-10-13 19 20",
            "E1 7-2 2026-10-09 10 10",
            "E1 7-2 2026-10-12 9 10",
            "E1 7-2 2026-10-13 10 10"
        ]
    );
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::Class, Grain::Total, None).await,
        vec!["E1 7-1 2 60"]
    );
    // Nor is it a day the bureau collected attendance on: no class is asked to report it.
    let days: Vec<String> =
        counts(&f, "class_reporting_rate", Level::School, Grain::Day, None).await;
    assert_eq!(
        days,
        vec![
            "E1 2026-10-09 2 2",
            "E1 2026-10-12 2 2",
            "E1 2026-10-13 2 2"
        ]
    );
}
