//! Profiles as a bureau writes them (REPORTING.md "Profiles"): a file added to the state
//! directory and used without a rebuild, a profile named on the command line, profiles that
//! say what the contract does not know refused whole, and cells or files a profile cannot
//! read rejected rather than guessed.

use edulake_ingest::Upload;

use crate::common::*;
use crate::profiles::{profile_of, school};

/// A platform the built-in profiles do not know: a bureau describes it in a file.
const BUREAU_PROFILE: &str = r#"
name = "xiaoyuan-kaoqin"
title = "智慧校园 考勤明细"
title_en = "Smart campus attendance detail"
dataset = "attendance"
detect = ["刷卡结果", "考勤日期"]
local_ids = ["卡号"]
personal = ["学生姓名"]
ignore = ["刷卡时间", "设备"]

[columns]
"所在班级" = "class_code"
"刷卡结果" = "status"

[values.status]
"已到" = "present"
"晚到" = "late"
"未到" = "absent"
"#;

const CAMPUS_EXPORT: &str = "考勤日期,学生姓名,卡号,所在班级,刷卡时间,设备,刷卡结果\n\
2026-10-12,甲,C01,7-1,07:20,东门,已到\n2026-10-12,乙,C02,7-1,07:50,东门,晚到\n\
2026-10-12,丙,C03,7-1,,,未到\n";

/// `edulake ingest --dry-run` of an attendance file of school P1.
fn dry_run_for_p1(f: &Fixture, file: &std::path::Path) -> std::process::Output {
    f.cli(&[
        "ingest",
        "--dataset",
        "attendance",
        "--school",
        "P1",
        "--dry-run",
        file.to_str().unwrap(),
    ])
}

#[test]
fn a_bureau_profile_file_is_used_without_a_rebuild() {
    let f = Fixture::new();
    let export = f.write("考勤明细.csv", CAMPUS_EXPORT);
    // Without the profile its headers are not the contract's: the file is rejected whole.
    let out = dry_run_for_p1(&f, &export);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("required column(s) missing"), "{stdout}");
    // The bureau adds its file; the same binary now lists it and reads the export with it.
    std::fs::create_dir_all(f.dir.path().join("lake.state/profiles")).unwrap();
    std::fs::write(
        f.dir.path().join("lake.state/profiles/xiaoyuan.toml"),
        BUREAU_PROFILE,
    )
    .unwrap();
    let out = f.cli(&["profiles"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listed}");
    assert!(
        listed.contains("xiaoyuan-kaoqin — 智慧校园 考勤明细"),
        "{listed}"
    );
    assert!(
        listed.contains("selected by the headers: 刷卡结果, 考勤日期"),
        "{listed}"
    );
    assert!(listed.contains("dingtalk-daily"), "{listed}");
    let out = f.cli(&[
        "ingest",
        "--dataset",
        "attendance",
        "--school",
        "P1",
        export.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("stored 3 of 3 rows"), "{stdout}");
    assert!(
        stdout.contains("profile xiaoyuan-kaoqin (Smart campus attendance detail)"),
        "{stdout}"
    );
    let out = f.cli(&[
        "sql",
        "SELECT status, count(*) AS n FROM attendance GROUP BY status ORDER BY status",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    for (status, n) in [("absent", 1), ("late", 1), ("present", 1)] {
        assert!(
            table
                .lines()
                .any(|l| l.contains(status) && l.contains(&format!(" {n} "))),
            "{table}"
        );
    }
}

#[test]
fn profiles_that_say_what_the_contract_does_not_know_are_refused() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.dir.path().join("lake.state/profiles")).unwrap();
    let bad = BUREAU_PROFILE.replace("\"晚到\" = \"late\"", "\"晚到\" = \"tardy\"");
    std::fs::write(f.dir.path().join("lake.state/profiles/xiaoyuan.toml"), bad).unwrap();
    let out = f.cli(&["profiles"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("xiaoyuan.toml: values.status.\"晚到\": 'tardy' is not a known attendance status (expected one of: present (出勤), late (迟到), early_leave (早退), absent (缺勤), sick_leave (病假), personal_leave (事假))"),
        "{stderr}"
    );
    // An ingest says the file is not used, and reads the export without it.
    let export = f.write("考勤明细.csv", CAMPUS_EXPORT);
    let out = dry_run_for_p1(&f, &export);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("xiaoyuan.toml") && stderr.contains("it is not used"),
        "{stderr}"
    );
    // Asked for by name, a profile of another dataset is refused before any file is read.
    let out = f.cli(&[
        "ingest",
        "--dataset",
        "enrolment",
        "--profile",
        "dingtalk-daily",
        export.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--profile dingtalk-daily reads attendance files"),
        "{stderr}"
    );
    let out = f.cli(&["ingest", "--profile", "no-such", export.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--profile no-such: no such profile"),
        "{stderr}"
    );
}

#[test]
fn a_profile_named_reads_a_file_its_headers_would_not_select() {
    let f = Fixture::new();
    // A DingTalk export someone trimmed to a few columns: 考勤组 is gone, so no profile is
    // chosen by the headers; named, the profile still gives its meanings.
    let p = f.write(
        "钉钉.csv",
        "姓名,部门,工号,workDate,上班1打卡结果\n甲,七年级(1)班,001,1791734400000,缺卡\n",
    );
    let out = f.cli(&[
        "ingest",
        "--profile",
        "dingtalk-daily",
        "--school",
        "P1",
        "--dry-run",
        p.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout
            .contains("profile dingtalk-daily (DingTalk attendance: daily statistics): --profile"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| 2026-10-12 | P1          | 7-1"),
        "{stdout}"
    );
    assert!(stdout.contains("absent"), "{stdout}");
}

#[tokio::test]
async fn what_a_profile_cannot_read_is_rejected_not_guessed() {
    let f = Fixture::new();
    // Leave approvals without 审批结果: refused and approved ones cannot be told apart, so the
    // file is refused whole rather than every approval stored.
    let p = f.write(
        "请假.csv",
        "审批编号,审批状态,学籍号,班级,请假类型,开始时间,结束时间\n\
         1,已完成,H01,7-1,事假,2026-10-12 08:00,2026-10-12 17:00\n",
    );
    let out = f.ingest("attendance", school("P3"), &[p]).await;
    assert!(
        rejected(&out[0]).contains(
            "keeps only rows whose 审批结果 is 同意, and the file has no 审批结果 column"
        ),
        "{out:?}"
    );
    // A check-in whose yes/no cell says neither is rejected by row; 有 and √ are yes.
    let p = f.write(
        "打卡.csv",
        "提交时间,学籍号,班级,今日体温,是否发热,是否咳嗽\n\
         2026-10-12 07:30:00,G1,7-1,36.5,无,√\n\
         2026-10-12 07:31:00,G2,7-1,36.6,有,否\n\
         2026-10-12 07:32:00,G3,7-1,36.6,可能,否\n",
    );
    let out = f.ingest("health_report", school("P1"), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_stored, rec.rows_rejected), (2, 1), "{out:?}");
    let report = std::fs::read_to_string(reject_report(&out[0])).unwrap();
    assert!(
        report.contains("4,是否发热,可能,") && report.contains("'可能' is neither yes nor no"),
        "{report}"
    );
    let mut got = f
        .query("SELECT array_to_string(symptoms, ',') FROM health_report ORDER BY reported_at")
        .await;
    got.sort();
    assert_eq!(got, vec![vec!["cough"], vec!["fever"]]);
    // Ed-Fi reasons are read as whole words, in the profile's order: "Sick" wins over "family",
    // and "will" does not say "ill".
    let event = |id: &str, reason: &str| {
        format!(
            "<StudentSchoolAttendanceEvent><AttendanceEvent><EventDate>2026-10-12</EventDate>\
             <AttendanceEventCategory>Excused Absence</AttendanceEventCategory>\
             <AttendanceEventReason>{reason}</AttendanceEventReason></AttendanceEvent>\
             <StudentReference><StudentIdentity><StudentUniqueId>{id}</StudentUniqueId>\
             </StudentIdentity></StudentReference><SchoolReference><SchoolIdentity>\
             <SchoolId>255901001</SchoolId></SchoolIdentity></SchoolReference>\
             </StudentSchoolAttendanceEvent>"
        )
    };
    let p = f.write(
        "events.xml",
        format!(
            "<InterchangeStudentAttendance>{}{}</InterchangeStudentAttendance>",
            event("1", "Sick - family doctor's note"),
            event("2", "Parent will call")
        ),
    );
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    assert_eq!(stored(&out[0]).rows_stored, 2, "{out:?}");
    let got = f
        .query(
            "SELECT status FROM attendance_exceptions WHERE student_id IS NOT NULL ORDER BY _row",
        )
        .await;
    assert_eq!(got, vec![vec!["sick_leave"], vec!["absent"]]);
}

#[tokio::test]
async fn a_questionnaire_export_numbers_its_questions_and_names_its_time_otherwise() {
    let f = Fixture::new();
    // 问卷星's "按文本下载": its own columns first, each question headed `N、题目`, the time of
    // the answer in 提交答卷时间 (slashes, no leading zero).
    let p = f.write(
        "晨检问卷.csv",
        "序号,提交答卷时间,所用时间,来源,来源详情,来自IP,1、学籍号,2、班级,3、今日体温,4、是否发热,5、是否咳嗽\n\
         1,2026/10/12 7:32:10,35秒,微信,N/A,117.136.1.1(河北-石家庄),G1,7-1,36.5,否,否\n\
         2,2026/10/13 7:35:02,41秒,微信,N/A,117.136.1.2(河北-石家庄),G2,7-1,38.3,是,否\n",
    );
    let out = f.ingest("health_report", school("P1"), &[p]).await;
    assert!(profile_of(&out[0]).starts_with("form-checkin"), "{out:?}");
    assert_eq!(stored(&out[0]).rows_stored, 2, "{out:?}");
    assert_eq!(
        f.query("SELECT CAST(date AS VARCHAR) AS d, temperature, array_to_string(symptoms, ',') AS s FROM health_report ORDER BY d")
            .await,
        vec![vec!["2026-10-12", "36.5", ""], vec!["2026-10-13", "38.3", "fever"]]
    );
}
