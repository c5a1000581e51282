//! Export profiles (REPORTING.md "Profiles"): each built-in profile's sample file in
//! `tests/samples/`, in the layout its platform writes, read with the meaning it has and
//! checked against indicators worked by hand from the sample (the numbers are in the comments;
//! `tests/samples/README.md` describes each file). Then a bureau's own profile, added as a file
//! and used without a rebuild, and profiles that must be refused.

use std::path::PathBuf;

use edulake_ingest::Upload;
use edulake_transform::indicators::{Grain, Level};

use crate::common::*;
use crate::shapes::counts;

/// A sample file of `tests/samples/`.
fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/samples")
        .join(name)
}

fn school(code: &str) -> Upload {
    Upload {
        school: Some(code.into()),
        ..Default::default()
    }
}

/// The school registry of these tests: the 学籍 sample's school P1, the class report's P2, the
/// registers' P3, two New York schools and an Ed-Fi school.
const SCHOOLS: &str = "school_code,school_name,district,school_type\n\
P1,一中,长安区,初中\nP2,二中,长安区,初中\nP3,三中,桥西区,初中\n\
01M015,P.S. 015 Roberto Clemente,Manhattan,小学\n01M019,P.S. 019 Asher Levy,Manhattan,小学\n\
255901001,Grand Bend Elementary,Grand Bend,小学\n";

/// The profile a stored file was read with, as its outcome says.
fn profile_of(fo: &edulake_ingest::FileOutcome) -> String {
    match &fo.outcome {
        edulake_ingest::Outcome::Stored { header, .. } => {
            header.profile.clone().unwrap_or_default()
        }
        other => panic!("{}: {other:?}", fo.path.display()),
    }
}

async fn with_schools() -> Fixture {
    let f = Fixture::new();
    let p = f.write("schools.csv", SCHOOLS);
    f.ingest("schools", Upload::default(), &[p]).await;
    f
}

#[tokio::test]
async fn a_school_on_dingtalk_its_registry_export_form_checkins_and_read_status() {
    let f = with_schools().await;
    // The 学籍 export: six pupils of 七年级 (1)班, two of them not enrolled (休学, 转出), two
    // girls among the four enrolled; 学籍辅号 is the school's own id, which DingTalk's 工号 is.
    let mut opts = f.options("enrolment");
    opts.upload = Upload {
        as_of: Some(shapes_day("2026-09-01")),
        ..school("P1")
    };
    let out = f
        .ingest_with(&opts, &[sample("xueji-roster.xlsx")])
        .await
        .unwrap();
    assert_eq!(stored(&out[0]).rows_stored, 6, "{out:?}");
    assert!(profile_of(&out[0]).starts_with("xueji-roster"), "{out:?}");
    assert_eq!(
        counts(&f, "enrolled", Level::School, Grain::Total, None).await,
        vec!["P1 4"]
    );
    assert_eq!(
        counts(&f, "female_share", Level::School, Grain::Total, None).await,
        vec!["P1 2 4"]
    );

    // DingTalk 每日统计: a rest day left out; 12 October 正常, 迟到, 请假 (病假 by its approval),
    // 缺卡; 13 October 正常, 严重迟到, 请假 (事假), 正常. Attended 2 + 3 of 8; one sick leave.
    let out = f
        .ingest("attendance", school("P1"), &[sample("dingtalk-daily.xlsx")])
        .await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_read, rec.rows_stored), (8, 8), "{out:?}");
    assert!(
        profile_of(&out[0]).contains("its headers 考勤组, 上班1打卡结果 (row 3)"),
        "{out:?}"
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Day, None).await,
        vec!["P1 2026-10-12 2 4", "P1 2026-10-13 3 4"]
    );
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::School, Grain::Total, None).await,
        vec!["P1 1 8"]
    );
    // Its 工号 are the roster's 学籍辅号: every enrolled pupil reported on both days.
    assert_eq!(
        counts(
            &f,
            "attendance_reporting_rate",
            Level::School,
            Grain::Total,
            None
        )
        .await,
        vec!["P1 8 8"]
    );

    // The form platform's check-ins: 李二 38.2℃ with 发热 and 咳嗽 是; 王三 不适 with no
    // symptom named (other); four on 12 October and one on 13 October (the day of 提交时间).
    let out = f
        .ingest("health_report", school("P1"), &[sample("form-checkin.csv")])
        .await;
    assert_eq!(stored(&out[0]).rows_stored, 5, "{out:?}");
    assert_eq!(
        counts(&f, "fever_rate", Level::School, Grain::Total, None).await,
        vec!["P1 1 5"]
    );
    assert_eq!(
        counts(&f, "symptom_rate", Level::School, Grain::Total, None).await,
        vec!["P1 2 5"]
    );
    assert_eq!(
        counts(&f, "health_report_rate", Level::School, Grain::Day, None).await,
        vec!["P1 2026-10-12 4 4", "P1 2026-10-13 1 4"]
    );

    // The read status of notice N1: three of its four recipients read it.
    let p = f.write(
        "notices.csv",
        "notice_id,issuer,title,category,published_at\nN1,bureau,期中考试安排,考试,2026-10-12 09:00\n",
    );
    f.ingest("notices", Upload::default(), &[p]).await;
    let out = f
        .ingest("notice_reads", school("P1"), &[sample("read-status.csv")])
        .await;
    assert!(profile_of(&out[0]).starts_with("read-status"), "{out:?}");
    assert_eq!(
        counts(&f, "notice_read_rate", Level::School, Grain::Total, None).await,
        vec!["P1 3 4"]
    );
}

fn shapes_day(s: &str) -> chrono::NaiveDate {
    crate::shapes::day(s)
}

#[tokio::test]
async fn class_reports_and_school_daily_figures() {
    let f = with_schools().await;
    // The 晨午检 report of P2, asked for as health check-ins: a class report by its profile,
    // dated by its title; the 午检 row does not count for attendance; 合计 and 填表人 skipped.
    let out = f
        .ingest(
            "health_report",
            school("P2"),
            &[sample("class-morning-check.xlsx")],
        )
        .await;
    assert_eq!(out[0].dataset.name, "class_report", "{out:?}");
    assert_eq!(stored(&out[0]).rows_stored, 3, "{out:?}");
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Total, None).await,
        vec!["P2 7-1 38 40", "P2 7-2 40 40"]
    );
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::School, Grain::Total, None).await,
        vec!["P2 1 80"]
    );
    // New York's daily figures: 01M019 did not submit on 12 October (NS): not reported, never
    // 0 %. 01M015: 153 + 154 of 172 + 171; 01M019: 278 of 298.
    let out = f
        .ingest(
            "attendance",
            Upload::default(),
            &[sample("school-daily-figures.csv")],
        )
        .await;
    assert_eq!(stored(&out[0]).rows_stored, 3, "{out:?}");
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Day, None).await,
        vec![
            "01M015 2026-10-12 153 172",
            "01M015 2026-10-13 154 171",
            "01M019 2026-10-13 278 298",
            "P2 2026-10-12 78 80"
        ]
    );
}

#[tokio::test]
async fn a_register_of_sick_pupils_and_leave_approvals() {
    let f = with_schools().await;
    let mut roster = String::from("学籍号,学校代码,年级,班级,性别,快照日期\n");
    for i in 1..=8 {
        let class = if i <= 4 { "7-1" } else { "7-2" };
        roster.push_str(&format!("H{i:02},P3,7,{class},男,2026-09-01\n"));
    }
    let p = f.write("名册.csv", roster);
    f.ingest("enrolment", Upload::default(), &[p]).await;
    // 因病缺课登记 (GBK, a title row, a sign-off row): H01 of 7-1 on 12 October, H02 on 13
    // October, both sick leave; everyone else of 7-1 was there.
    let out = f
        .ingest(
            "attendance",
            school("P3"),
            &[sample("sick-absence-register.csv")],
        )
        .await;
    assert_eq!(out[0].dataset.name, "attendance_exceptions", "{out:?}");
    assert_eq!(stored(&out[0]).rows_stored, 2, "{out:?}");
    // 7-2's approvals: H07's 事假 on 12 October approved; H08's refused one and withdrawn one
    // left out. 12 October is a school day of P3 (the register covers it).
    let out = f
        .ingest(
            "attendance",
            school("P3"),
            &[sample("leave-approvals.xlsx")],
        )
        .await;
    assert_eq!(stored(&out[0]).rows_stored, 1, "{out:?}");
    assert!(
        format!("{out:?}")
            .contains("2 row(s) left out by the profile (审批结果 not 同意; 审批状态 已撤销)"),
        "{out:?}"
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Day, None).await,
        vec![
            "P3 7-1 2026-10-12 3 4",
            "P3 7-1 2026-10-13 3 4",
            "P3 7-2 2026-10-12 3 4"
        ]
    );
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::School, Grain::Total, None).await,
        vec!["P3 2 12"]
    );
}

#[tokio::test]
async fn ed_fi_attendance_events_of_data_standard_2_and_5() {
    let f = with_schools().await;
    let mut roster = String::from("学籍号,学校代码,年级,班级,性别,快照日期\n");
    for id in 604821..=604824 {
        roster.push_str(&format!("{id},255901001,3,3-1,女,2026-09-01\n"));
    }
    let p = f.write("roster.csv", roster);
    f.ingest("enrolment", Upload::default(), &[p]).await;
    // 12 October (Ed-Fi 5, descriptor URIs): 604822 Excused Absence for "Sick" (sick leave),
    // 604823 Unexcused Absence, 604824 Tardy (attended): 2 of 4 attended. 13 October (Ed-Fi 2,
    // CodeValue): 604821 Excused Absence for a family vacation (personal leave): 3 of 4.
    let out = f
        .ingest(
            "attendance",
            Upload::default(),
            &[
                sample("edfi-attendance-ds5.xml"),
                sample("edfi-attendance-ds2.xml"),
            ],
        )
        .await;
    for fo in &out {
        assert_eq!(fo.dataset.name, "attendance_exceptions", "{out:?}");
        assert!(
            profile_of(fo).starts_with("edfi-attendance-events"),
            "{out:?}"
        );
    }
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Day, None).await,
        vec!["255901001 2026-10-12 2 4", "255901001 2026-10-13 3 4"]
    );
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::School, Grain::Total, None).await,
        vec!["255901001 1 8"]
    );
    let late = f
        .query("SELECT status, count(*) FROM attendance_exceptions WHERE student_id IS NOT NULL GROUP BY status ORDER BY status")
        .await;
    assert_eq!(
        late,
        vec![
            vec!["absent", "1"],
            vec!["late", "1"],
            vec!["personal_leave", "1"],
            vec!["sick_leave", "1"]
        ]
    );
}

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
        stdout.contains("profile xiaoyuan-kaoqin (智慧校园 考勤明细"),
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
        stderr.contains("xiaoyuan.toml: values.status.\"晚到\": 'tardy' is not a known attendance_status (expected one of: present, late, early_leave, absent, sick_leave, personal_leave)"),
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
    assert!(stdout.contains("profile dingtalk-daily (钉钉考勤 每日统计 / DingTalk attendance: daily statistics): --profile"), "{stdout}");
    assert!(
        stdout.contains("| 2026-10-12 | P1          | 7-1"),
        "{stdout}"
    );
    assert!(stdout.contains("absent"), "{stdout}");
}

/// The token of the preview a page offers to confirm.
fn preview_token(page: &str) -> String {
    page.split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no preview token in {page}"))
        .to_string()
}

#[tokio::test]
async fn a_clerk_previews_an_export_then_confirms_or_cancels() {
    use crate::web_client::*;
    use axum::http::StatusCode;
    use edulake_transform::access::Role;
    use edulake_transform::reads::Scope;

    let f = with_schools().await;
    let state = cockpit(&f).await;
    let clerk = signed_in(
        &state,
        "clerk",
        Role::SchoolClerk,
        Scope::School("P1".into()),
    );
    let other = signed_in(
        &state,
        "clerk2",
        Role::SchoolClerk,
        Scope::School("P2".into()),
    );
    let export = std::fs::read_to_string(sample("form-checkin.csv")).unwrap();
    let version = || async { f.query("SELECT count(*) FROM batches").await };
    let before = version().await;
    // The preview: the profile and why, the shape, each column's meaning, the date's source,
    // the first rows as stored (pseudonymised) — and nothing stored.
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "health_report"), ("step", "preview")],
        &export,
    );
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    for said in [
        "入库前预览",
        "form-checkin (表单平台 健康打卡导出",
        "its headers 今日体温, 是否发热 (row 1)",
        "逐人记录",
        "个人信息，不保存",
        "→ <code>temperature</code>",
        "<td>是否发热</td><td>→ <code>symptoms</code>",
        "是否发热, 是否咳嗽, 是否乏力, 健康状况",
        "the column 提交时间",
        "fever, cough",
        "确认入库",
    ] {
        assert!(a.body.contains(said), "{said}: {}", a.body);
    }
    for personal in ["张一", "G110101201301010011", "117.136.1.1"] {
        assert!(
            !a.body.contains(personal),
            "{personal} shown in the preview"
        );
    }
    assert_eq!(version().await, before, "a preview stores nothing");
    let token = preview_token(&a.body);
    // Another clerk cannot confirm it, nor can a form without the session's token.
    let decide = |csrf: &str, token: &str| format!("csrf={csrf}&token={token}").into_bytes();
    let form_ct = Some("application/x-www-form-urlencoded");
    let a = send(
        &state,
        &other,
        "POST",
        "/upload/confirm",
        form_ct,
        decide(&other.csrf, &token),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = send(
        &state,
        &clerk,
        "POST",
        "/upload/confirm",
        form_ct,
        decide("forged", &token),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(version().await, before);
    // The clerk confirms: stored as the upload would have been, once.
    let a = send(
        &state,
        &clerk,
        "POST",
        "/upload/confirm",
        form_ct,
        decide(&clerk.csrf, &token),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("已入库"), "{}", a.body);
    assert_eq!(
        f.query("SELECT count(*) FROM health_report WHERE school_code = 'P1'")
            .await,
        vec![vec!["5"]]
    );
    let a = send(
        &state,
        &clerk,
        "POST",
        "/upload/confirm",
        form_ct,
        decide(&clerk.csrf, &token),
    )
    .await;
    assert!(a.body.contains("这次预览已过期或已处理"), "{}", a.body);
    // A preview cancelled stores nothing and keeps no file.
    let register = std::fs::read_to_string(sample("read-status.csv")).unwrap();
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "notice_reads"), ("step", "preview")],
        &register,
    );
    let a = send(&state, &clerk, "POST", "/upload?lang=en", Some(&ct), body).await;
    assert!(
        a.body.contains("read-status (通知阅读状态导出"),
        "{}",
        a.body
    );
    let token = preview_token(&a.body);
    let a = send(
        &state,
        &clerk,
        "POST",
        "/upload/cancel?lang=en",
        form_ct,
        decide(&clerk.csrf, &token),
    )
    .await;
    assert!(
        a.body.contains("Cancelled: nothing was stored"),
        "{}",
        a.body
    );
    assert!(f.query("SELECT * FROM notice_reads").await.is_empty());
    let pending = f.dir.path().join("lake.state/pending-uploads");
    assert_eq!(std::fs::read_dir(&pending).unwrap().count(), 0);
    // The clerk says which platform wrote a file its headers do not tell (a DingTalk export
    // trimmed to a few columns), or picks one of another dataset and is told so.
    let trimmed = "姓名,部门,工号,workDate,上班1打卡结果\n甲,七年级(1)班,001,1791734400000,缺卡\n";
    let fields = [
        ("dataset", "attendance"),
        ("profile", "dingtalk-daily"),
        ("step", "preview"),
    ];
    let (ct, body) = upload_form(&clerk.csrf, &fields, trimmed);
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert!(a.body.contains("dingtalk-daily (钉钉考勤 每日统计 / DingTalk attendance: daily statistics): 上传时选定"), "{}", a.body);
    assert!(a.body.contains("<td>absent</td>"), "{}", a.body);
    let fields = [
        ("dataset", "health_report"),
        ("profile", "dingtalk-daily"),
        ("step", "preview"),
    ];
    let (ct, body) = upload_form(&clerk.csrf, &fields, trimmed);
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert!(
        a.body.contains("所选导出格式“钉钉考勤 每日统计”属于“考勤”"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn one_roster_bundles_of_1_1_and_1_2_as_schools_and_a_roster() {
    for (bundle, misspelt) in [("oneroster-1.1.zip", false), ("oneroster-1.2.zip", true)] {
        let f = Fixture::new();
        // The orgs as the registry: two schools of 长安区, typed by the grades taught.
        let out = f
            .ingest("schools", Upload::default(), &[sample(bundle)])
            .await;
        assert_eq!(stored(&out[0]).rows_stored, 2, "{bundle}: {out:?}");
        assert!(profile_of(&out[0]).starts_with("oneroster-orgs"), "{out:?}");
        assert_eq!(
            f.query(
                "SELECT school_code, school_name, district, school_type FROM schools ORDER BY 1"
            )
            .await,
            vec![
                vec!["1301000101", "长安一中", "长安区", "junior"],
                vec!["1301000102", "长安实验小学", "长安区", "primary"]
            ],
            "{bundle}"
        );
        // The roster: a row per pupil and school in its homeroom class (not 七年级数学); the
        // teacher and the enrolment to be deleted left out.
        let mut opts = f.options("enrolment");
        opts.upload.as_of = Some(shapes_day("2026-09-01"));
        let out = f.ingest_with(&opts, &[sample(bundle)]).await.unwrap();
        let rec = stored(&out[0]);
        assert_eq!(
            (rec.rows_read, rec.rows_stored),
            (6, 6),
            "{bundle}: {out:?}"
        );
        assert!(
            profile_of(&out[0]).starts_with("oneroster-roster"),
            "{out:?}"
        );
        let said = format!("{out:?}");
        assert_eq!(
            said.contains("users.csv: the header 'dataLastModified' is read as 'dateLastModified'")
                && said.contains("'prefferedGivenName' is read as 'preferredGivenName'"),
            misspelt,
            "{said}"
        );
        assert_eq!(
            counts(&f, "enrolled", Level::Class, Grain::Total, None).await,
            vec!["1301000101 7-1 4", "1301000102 3-2 2"],
            "{bundle}"
        );
        assert_eq!(
            counts(&f, "female_share", Level::School, Grain::Total, None).await,
            vec!["1301000101 2 4", "1301000102 1 2"],
            "{bundle}"
        );
        // Names and usernames are not kept; ids are pseudonyms.
        let kept = f
            .query("SELECT count(*) FROM enrolment WHERE student_id LIKE 'G1301%'")
            .await;
        assert_eq!(kept, vec![vec!["0"]]);
    }
}

#[tokio::test]
async fn an_ed_fi_enrolment_interchange_as_a_roster() {
    let f = with_schools().await;
    let mut opts = f.options("enrolment");
    opts.upload.as_of = Some(shapes_day("2026-09-01"));
    let out = f
        .ingest_with(&opts, &[sample("edfi-enrollment-ds5.xml")])
        .await
        .unwrap();
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_read, rec.rows_stored), (3, 3), "{out:?}");
    assert!(
        rec.format.contains(
            "3 <StudentSchoolAssociation> records (7 other records joined by StudentUniqueId)"
        ),
        "{}",
        rec.format
    );
    assert!(
        profile_of(&out[0]).starts_with("edfi-school-associations"),
        "{out:?}"
    );
    // 604823 transferred out; 604821 (a girl, in her homeroom 7-1, not her maths section) and
    // 604822 are enrolled.
    assert_eq!(
        counts(&f, "enrolled", Level::Class, Grain::Total, None).await,
        vec!["255901001 7-1 2"]
    );
    assert_eq!(
        counts(&f, "female_share", Level::School, Grain::Total, None).await,
        vec!["255901001 1 2"]
    );
    assert_eq!(
        f.query("SELECT status, grade, count(*) FROM enrolment GROUP BY 1, 2 ORDER BY 1")
            .await,
        vec![
            vec!["enrolled", "7", "2"],
            vec!["transferred_out", "7", "1"]
        ]
    );
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
