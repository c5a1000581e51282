//! Export profiles (REPORTING.md "Profiles"): each built-in profile's sample file in
//! `tests/samples/`, in the layout its platform writes, read with the meaning it has and
//! checked against indicators worked by hand from the sample (the numbers are in the comments;
//! `tests/samples/README.md` describes each file). A bureau's own profiles and what a profile
//! refuses: `profile_files`; the upload page's preview: `upload_preview`.

use std::path::PathBuf;

use edulake_ingest::Upload;
use edulake_transform::indicators::{Grain, Level};

use crate::common::*;
use crate::shapes::{counts, day};

/// A sample file of `tests/samples/`.
pub(crate) fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/samples")
        .join(name)
}

pub(crate) fn school(code: &str) -> Upload {
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
pub(crate) fn profile_of(fo: &edulake_ingest::FileOutcome) -> String {
    match &fo.outcome {
        edulake_ingest::Outcome::Stored { header, .. } => header
            .profile
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default(),
        other => panic!("{}: {other:?}", fo.path.display()),
    }
}

pub(crate) async fn with_schools() -> Fixture {
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
        as_of: Some(day("2026-09-01")),
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
            .contains("2 row(s) left out by the profile (审批结果 not 同意, 审批状态 已撤销)"),
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
        opts.upload.as_of = Some(day("2026-09-01"));
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
    opts.upload.as_of = Some(day("2026-09-01"));
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
