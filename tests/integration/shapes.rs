//! How schools really report (REPORTING.md): class daily reports, exception registers, school
//! reports and per-student rows, alone and on the same class-day, each hand-worked. Every file
//! is written the way the form or platform writes it (title rows, dates in the title, total
//! and sign-off rows, units, class names as schools write them).

use chrono::NaiveDate;
use edulake_ingest::Upload;
use edulake_transform::indicators::{AlertKind, Grain, Level, Request};
use edulake_transform::QueryLayer;

use crate::common::*;
use crate::registers::e1_roster;

pub(crate) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// (keys…, day, numerator, denominator) of an export (the day at day grain only), fractional
/// values dropped (they are n/d), counts kept.
pub async fn counts(
    f: &Fixture,
    indicator: &str,
    level: Level,
    grain: Grain,
    by: Option<&str>,
) -> Vec<String> {
    let mut req = Request::new(indicator);
    req.level = level;
    req.grain = grain;
    req.by = by.map(String::from);
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let (schema, batches) = layer
        .export(&req)
        .await
        .unwrap_or_else(|e| panic!("{indicator}: {e}"));
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    rows(&batches)
        .into_iter()
        .map(|r| {
            let keep: Vec<&str> = names
                .iter()
                .zip(&r)
                .filter(|(n, _)| {
                    let dropped = matches!(
                        n.as_str(),
                        "school_name" | "district" | "period_end" | "suppressed"
                    );
                    let undated = grain == Grain::Total && n.as_str() == "period_start";
                    !(dropped || undated)
                })
                .map(|(n, v)| match n.as_str() {
                    "value" if v.contains('.') => "",
                    _ => v.as_str(),
                })
                .filter(|v| !v.is_empty())
                .collect();
            keep.join(" ")
        })
        .collect()
}

const SCHOOLS: &str = "school_code,school_name,district,school_type
K1,一中,D1,初中
K2,二中,D1,初中
K3,三小,D2,小学
";

/// K1's roster as the 学籍 system exports it: 学生状态, with a suspended and a transferred pupil
/// who are not enrolled; class names as written. K2: one class of 5. K3: one class of 8.
fn rosters() -> String {
    let mut out = String::from("学籍号,学校代码,年级,班级,性别,学生状态,快照日期\n");
    for i in 1..=20 {
        out.push_str(&format!("A{i:02},K1,7,七年级(1)班,男,在读,2026-09-01\n"));
    }
    out.push_str(
        "A21,K1,7,七年级(1)班,女,休学,2026-09-01\nA22,K1,7,七年级(1)班,女,转出,2026-09-01\n",
    );
    for i in 1..=10 {
        out.push_str(&format!("B{i:02},K1,7,1班,女,在读,2026-09-01\n"));
    }
    // Class 2 written as `(2)班` beside its grade, given as its cohort (entered in 2026: grade 7
    // in the school year from 1 September 2026): class 7-2.
    out = out.replace(",7,1班,", ",初2026级,(2)班,");
    for i in 1..=5 {
        out.push_str(&format!("C{i:02},K2,7,7-1,男,在读,2026-09-01\n"));
    }
    for i in 1..=8 {
        out.push_str(&format!("D{i:02},K3,1,一年级1班,男,在读,2026-09-01\n"));
    }
    out
}

/// K1's 晨午检日报 for Monday 12 October as the form exports it: a title, the date in a title
/// row with its weekday, morning and noon sessions, a zero report, a total row and a sign-off.
fn k1_class_report() -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "一中晨午检日报表").unwrap();
    ws.write_string(1, 0, "日期：26-10-12 星期一").unwrap();
    let header = [
        "班级",
        "检查时段",
        "应到人数",
        "实到人数",
        "缺勤人数",
        "因病缺课人数",
        "事假人数",
        "发热",
        "咳嗽",
        "腹泻",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    let rows: [(&str, &str, [f64; 8]); 3] = [
        (
            "七年级(1)班",
            "晨检",
            [20.0, 18.0, 2.0, 1.0, 1.0, 1.0, 2.0, 0.0],
        ),
        (
            "'七年级(2)班",
            "晨检",
            [10.0, 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ),
        (
            "七年级(1)班",
            "午检",
            [20.0, 17.0, 3.0, 2.0, 1.0, 3.0, 1.0, 0.0],
        ),
    ];
    for (r, (class, session, nums)) in rows.iter().enumerate() {
        let row = 3 + r as u32;
        ws.write_string(row, 0, *class).unwrap();
        ws.write_string(row, 1, *session).unwrap();
        for (c, n) in nums.iter().enumerate() {
            ws.write_number(row, 2 + c as u16, *n).unwrap();
        }
    }
    ws.write_string(6, 0, "合计").unwrap();
    ws.write_number(6, 2, 30.0).unwrap();
    ws.write_number(6, 3, 28.0).unwrap();
    ws.write_string(7, 0, "填表人：王老师    审核人：李主任")
        .unwrap();
    wb.save_to_buffer().unwrap()
}

/// K3's school daily figure (one row for the whole school), counts with units.
const K3_SCHOOL_REPORT: &str =
    "日期,学校代码,应到人数,实到人数,缺勤人数\n2026-10-12,K3,8人,7人,1人\n";

async fn district_of_class_reports() -> Fixture {
    let f = Fixture::new();
    let schools = f.write("schools.csv", SCHOOLS);
    assert_eq!(
        stored(&f.ingest("schools", Upload::default(), &[schools]).await[0]).rows_rejected,
        0
    );
    let roster = f.write("学籍.csv", rosters());
    let out = f.ingest("enrolment", Upload::default(), &[roster]).await;
    assert_eq!(stored(&out[0]).rows_rejected, 0);
    let report = f.write("一中晨午检.xlsx", k1_class_report());
    let upload = Upload {
        school: Some("K1".into()),
        ..Default::default()
    };
    let out = f.ingest("class_report", upload, &[report]).await;
    let rec = stored(&out[0]);
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (3, 3, 0)
    );
    match &out[0].outcome {
        edulake_ingest::Outcome::Stored { header, .. } => {
            assert_eq!(header.rows_skipped, 2, "the total and the sign-off");
            assert_eq!(
                header
                    .date_source
                    .as_ref()
                    .map(|m| m.to_string())
                    .as_deref(),
                Some("2026-10-12 from the title on row 2")
            );
        }
        other => panic!("{other:?}"),
    }
    let k3 = f.write("k3.csv", K3_SCHOOL_REPORT);
    let out = f.ingest("class_report", Upload::default(), &[k3]).await;
    assert_eq!(stored(&out[0]).rows_stored, 1);
    f
}

#[tokio::test]
async fn class_and_school_reports_by_hand() {
    let f = district_of_class_reports().await;
    // The roster: 休学 and 转出 are not enrolled; `(2)班` beside grade 7 is class 7-2.
    assert_eq!(
        counts(&f, "enrolled", Level::Class, Grain::Total, None).await,
        vec!["K1 7-1 20", "K1 7-2 10", "K2 7-1 5", "K3 1-1 8"]
    );
    // The classes as stored: normalised, the school report with no class.
    assert_eq!(
        f.query("SELECT school_code, class_code, session, expected, present, absent, fever FROM class_report ORDER BY school_code, class_code, session").await,
        vec![
            vec!["K1", "7-1", "morning", "20", "18", "2", "1"],
            vec!["K1", "7-1", "noon", "20", "17", "3", "3"],
            vec!["K1", "7-2", "morning", "10", "10", "0", "0"],
            vec!["K3", "", "day", "8", "7", "1", ""],
        ]
    );
    // Attendance from the morning session: K1 18 + 10 of 30; K3 7 of 8 (its school report).
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Total, None).await,
        vec!["K1 28 30", "K3 7 8"]
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::Bureau, Grain::Total, None).await,
        vec!["35 38"]
    );
    assert_eq!(
        counts(&f, "absence_rate", Level::School, Grain::Total, None).await,
        vec!["K1 2 30", "K3 1 8"]
    );
    // Sick: K1's morning 1 of 30; K3's report has no sick count, so it is left out.
    assert_eq!(
        counts(&f, "sick_leave_rate", Level::School, Grain::Total, None).await,
        vec!["K1 1 30"]
    );
    // No report has a late count: no late rate at all, never 0.
    assert!(counts(&f, "late_rate", Level::School, Grain::Total, None)
        .await
        .is_empty());
    // Class reporting on the one collection day: K1 both classes (a zero report counts), K2
    // none (it sent nothing), K3 its one class through the school report.
    assert_eq!(
        counts(&f, "class_reporting_rate", Level::Class, Grain::Total, None).await,
        vec!["K1 7-1 1 1", "K1 7-2 1 1", "K2 7-1 0 1", "K3 1-1 1 1"]
    );
    assert_eq!(
        counts(
            &f,
            "class_reporting_rate",
            Level::Bureau,
            Grain::Total,
            None
        )
        .await,
        vec!["3 4"]
    );
    // Health: a class report is present checked of expected (K3's too); fever is the largest
    // over the sessions (3 at noon) of the morning's present: (3 + 0) / (18 + 10).
    assert_eq!(
        counts(&f, "health_report_rate", Level::School, Grain::Total, None).await,
        vec!["K1 28 30", "K2 0 5", "K3 7 8"]
    );
    assert_eq!(
        counts(&f, "fever_rate", Level::School, Grain::Total, None).await,
        vec!["K1 3 28"]
    );
    // Symptom cases: fever 3 and cough 2 (each the day's largest) in 7-1.
    assert_eq!(
        counts(
            &f,
            "symptom_cases",
            Level::School,
            Grain::Total,
            Some("symptom")
        )
        .await,
        vec!["K1 cough 2", "K1 fever 3"]
    );
    // A class report with 3 with fever raises a cluster alert for its class.
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let (_, b) = layer.alerts(None, None, 3, AlertKind::All).await.unwrap();
    assert_eq!(
        rows(&b),
        vec![vec![
            "cluster",
            "D1",
            "K1",
            "一中",
            "7-1",
            "2026-10-12",
            "3"
        ]]
    );
    // The build keeps the same numbers.
    let out = f.cli(&["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Total, None).await,
        vec!["K1 28 30", "K3 7 8"]
    );
    assert_eq!(
        counts(
            &f,
            "class_reporting_rate",
            Level::Bureau,
            Grain::Total,
            None
        )
        .await,
        vec!["3 4"]
    );
}

#[tokio::test]
async fn a_class_report_whose_counts_disagree_is_rejected_by_row() {
    let f = Fixture::new();
    let p = f.write(
        "report.csv",
        "日期,学校代码,班级,应到,实到,缺勤,因病缺课\n\
         2026-10-12,K1,7-1,20,18,3,1\n\
         2026-10-12,K1,7-2,10,,2,3\n\
         2026-10-12,K1,7-3,10,,,\n\
         2026-10-12,K1,7-4,10,,1,\n",
    );
    let out = f.ingest("class_report", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_stored, rec.rows_rejected), (1, 3));
    let report = only_reject_report(&f, "class_report");
    assert!(report.contains("18 + 3 ≠ 20"), "{report}");
    assert!(
        report.contains("sick_absent 3 is more than absent 2"),
        "{report}"
    );
    assert!(report.contains("neither present nor absent"), "{report}");
    // Present derived from the rest: 10 − 1.
    assert_eq!(
        f.query("SELECT class_code, present FROM class_report")
            .await,
        vec![vec!["7-4", "9"]]
    );
}

#[tokio::test]
async fn the_finest_shape_wins_on_a_class_day() {
    let f = Fixture::new();
    let roster = f.write("名册.csv", e1_roster().replace("E1", "M1"));
    f.ingest("enrolment", Upload::default(), &[roster]).await;
    // 7-1: three per-student rows (2 attended) and a class report (19 of 20); 7-2: a class
    // report only (10 of 10); the whole school: a school report (30 of 40).
    let rows_file = f.write(
        "rows.csv",
        "date,school_code,class_code,student_id,status\n\
         2026-10-12,M1,7-1,G01,present\n2026-10-12,M1,7-1,G02,late\n2026-10-12,M1,7-1,G03,absent\n",
    );
    f.ingest("attendance", Upload::default(), &[rows_file])
        .await;
    let reports = f.write(
        "reports.csv",
        "日期,学校代码,班级,应到,实到\n2026-10-12,M1,7-1,20,19\n2026-10-12,M1,7-2,10,10\n2026-10-12,M1,,40,30\n",
    );
    let out = f
        .ingest("class_report", Upload::default(), &[reports])
        .await;
    assert_eq!(stored(&out[0]).rows_stored, 3);
    assert_eq!(
        counts(&f, "attendance_rate", Level::Class, Grain::Total, None).await,
        vec!["M1 7-1 2 3", "M1 7-2 10 10"]
    );
    assert_eq!(
        f.query("SELECT class_code, shape FROM class_days ORDER BY class_code")
            .await,
        vec![vec!["7-1", "rows"], vec!["7-2", "class_report"]]
    );
    // Late comes from the rows (1 of 3); 7-2's report has no late count.
    assert_eq!(
        counts(&f, "late_rate", Level::School, Grain::Total, None).await,
        vec!["M1 1 3"]
    );
}

#[tokio::test]
async fn three_school_days_of_sick_leave_raise_a_follow_up() {
    use edulake_transform::marts::{self, BuildOptions};
    let f = Fixture::new();
    let schools = f.write(
        "schools.csv",
        "school_code,school_name,district,school_type\nF1,五小,D3,小学\nF2,六小,D3,小学\n",
    );
    f.ingest("schools", Upload::default(), &[schools]).await;
    // G05 is on sick leave on three school days running (Friday, then Monday and Tuesday: the
    // weekend is not a school day); G06 on two, with a day present between. At F2, whose
    // school days are 10 July, then 1, 2 and 3 September, H01 is ill on all four: the summer
    // between is longer than a run may span, so the run starts again on 1 September.
    let mut text = String::from("date,school_code,class_code,student_id,status\n");
    for (d, g05, g06) in [
        ("2026-10-09", "sick_leave", "sick_leave"),
        ("2026-10-12", "sick_leave", "present"),
        ("2026-10-13", "sick_leave", "sick_leave"),
        ("2026-10-14", "present", "present"),
    ] {
        text.push_str(&format!("{d},F1,3-1,G05,{g05}\n{d},F1,3-1,G06,{g06}\n"));
    }
    for d in ["2026-07-10", "2026-09-01", "2026-09-02", "2026-09-03"] {
        text.push_str(&format!("{d},F2,1-1,H01,sick_leave\n"));
    }
    let p = f.write("att.csv", text);
    f.ingest("attendance", Upload::default(), &[p]).await;
    let follow_ups = |layer: QueryLayer| async move {
        let (_, b) = layer
            .alerts(None, None, 3, AlertKind::FollowUp)
            .await
            .unwrap();
        rows(&b)
            .into_iter()
            .map(|r| format!("{} {} {} {}", r[2], r[4], r[5], r[6]))
            .collect::<Vec<_>>()
    };
    let expected = vec!["F2 1-1 2026-09-03 1", "F1 3-1 2026-10-13 1"];
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let (_, b) = layer
        .alerts(Some(day("2026-10-13")), None, 3, AlertKind::FollowUp)
        .await
        .unwrap();
    assert_eq!(
        rows(&b),
        vec![vec![
            "follow_up",
            "D3",
            "F1",
            "五小",
            "3-1",
            "2026-10-13",
            "1"
        ]],
        "a range starting after the run began still sees it"
    );
    assert_eq!(follow_ups(layer).await, expected, "computed when read");
    // From the command line too, and not among the cluster alerts (the default kind).
    let out = f.cli(&["alerts", "--kind", "follow_up"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("kind,district,school_code,school_name,class_code,date,count"),
        "{text}"
    );
    assert!(
        text.contains("follow_up,D3,F1,五小,3-1,2026-10-13,1"),
        "{text}"
    );
    let out = f.cli(&["alerts"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("follow_up"));

    // Built, the alerts are read from their mart, the same.
    marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        f.query("SELECT school_code, date FROM mart_follow_up ORDER BY date")
            .await,
        vec![vec!["F2", "2026-09-03"], vec!["F1", "2026-10-13"]]
    );
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    assert_eq!(follow_ups(layer).await, expected, "from the mart");
    // G05 was present on Monday after all: the correction of Monday ends the run that
    // Tuesday's alert counted, and the build recomputes the days after the one it changed.
    let p = f.write(
        "correction.csv",
        "date,school_code,class_code,student_id,status\n2026-10-12,F1,3-1,G05,present\n",
    );
    f.ingest("attendance", Upload::default(), &[p]).await;
    let built = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let follow_up = built
        .iter()
        .find(|b| b.name == "mart_follow_up")
        .expect("the follow-up mart");
    assert_ne!(follow_up.work, marts::Work::Full, "{follow_up:?}");
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    assert_eq!(follow_ups(layer).await, vec!["F2 1-1 2026-09-03 1"]);
}

/// A district reporting in every shape, built, then one more day of class reports, registers
/// and rows, and a roster that changes the present rows a register implies: the build
/// recomputes those days only, and every mart equals a build from scratch.
#[tokio::test]
async fn the_build_keeps_every_shape_up_to_date() {
    use edulake_transform::marts::{self, BuildOptions, Work};
    let f = Fixture::new();
    let ex = f.dir.path().join("extracts");
    let mut opts = edulake_ingest::generate::GenerateOptions::new(day("2026-10-09"));
    // Schools 1–3 send class reports, 4 exception registers, 5 rows.
    opts.schools = 5;
    opts.students = 250;
    opts.days = 6;
    opts.real_shapes = true;
    edulake_ingest::generate::generate(&ex, &opts).unwrap();
    let held = f.dir.path().join("held");
    let hold = |d: &str| crate::marts::hold_back_day(&ex.join(d), "2026-10-09", &held.join(d));
    let (rows_day, health_day, reports_day) = (
        hold("attendance"),
        hold("health_report"),
        hold("class_report"),
    );
    let registers = ex.join("attendance_exceptions/1301000004");
    let register_day = held.join("2026-10-09.csv");
    std::fs::rename(registers.join("2026-10-09.csv"), &register_day).unwrap();
    let ingest = |dataset: &str, path: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["--quiet", "ingest", "--dataset", dataset];
        args.extend_from_slice(extra);
        args.push(path.to_str().unwrap());
        let o = f.cli(&args);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("stored"),
            "{dataset}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let register = ["--exceptions", "--school", "1301000004"];
    for d in edulake_schemas::names() {
        let single = ex.join(format!("{d}.csv"));
        ingest(d, &if single.exists() { single } else { ex.join(d) }, &[]);
    }
    ingest("attendance", &registers, &register);
    marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();

    for p in rows_day.iter().chain(&health_day) {
        let d = if p.starts_with(held.join("attendance")) {
            "attendance"
        } else {
            "health_report"
        };
        ingest(d, p, &[]);
    }
    for p in &reports_day {
        ingest("class_report", p, &[]);
    }
    ingest("attendance", &register_day, &register);
    let built = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let work = |name: &str| built.iter().find(|m| m.name == name).unwrap().work.clone();
    for name in [
        "mart_attendance_rate",
        "mart_class_reporting_rate",
        "mart_attendance_reporting_rate",
        "mart_health_report_rate",
        "mart_fever_rate",
        "mart_symptom_cases",
        "mart_alerts",
    ] {
        assert_eq!(work(name), Work::Days(vec![day("2026-10-09")]), "{name}");
    }
    crate::marts::same_as_from_scratch_but_empty(
        &f,
        &QueryLayer::open(&f.reader).await.unwrap(),
        &["risk_contact"],
    )
    .await;

    // A new roster of the register's school from 8 October, without one of its students: the
    // present rows the register implies change from that day on.
    let roster = std::fs::read_to_string(
        std::fs::read_dir(ex.join("enrolment"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("1301000004"))
            .unwrap(),
    )
    .unwrap();
    let mut lines = roster.lines();
    let header = lines.next().unwrap();
    let kept: Vec<String> = lines
        .skip(1)
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            let last = cells.len() - 1;
            cells[last] = "2026-10-08";
            cells.join(",")
        })
        .collect();
    let newer = f.write(
        "roster-1008.csv",
        format!("{header}\n{}\n", kept.join("\n")),
    );
    ingest("enrolment", &newer, &[]);
    let before = counts(&f, "attendance_rate", Level::School, Grain::Day, None).await;
    let built = marts::build(&f.reader, BuildOptions::default(), |_| {})
        .await
        .unwrap();
    let work = |name: &str| built.iter().find(|m| m.name == name).unwrap().work.clone();
    assert_eq!(
        work("mart_attendance_rate"),
        Work::Days(vec![day("2026-10-08"), day("2026-10-09")])
    );
    assert_eq!(
        counts(&f, "attendance_rate", Level::School, Grain::Day, None).await,
        before
    );
    crate::marts::same_as_from_scratch_but_empty(
        &f,
        &QueryLayer::open(&f.reader).await.unwrap(),
        &["risk_contact"],
    )
    .await;
}

/// A school's daily figures where some schools did not submit (`NS`, `-1`, 未上报): those are
/// not reported that day, never 0 % attendance, and not rejected either.
#[tokio::test]
async fn daily_figures_marked_not_submitted_are_not_reported() {
    let f = Fixture::new();
    let p = f.write(
        "各校日报.csv",
        "日期,学校代码,应到,实到\n2026-09-01,S1,300,290\n2026-09-01,S2,NS,NS\n\
         2026-09-01,S3,-1,-1\n2026-09-01,S4,未上报,\n",
    );
    let out = f.ingest("class_report", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (1, 1, 0)
    );
    match &out[0].outcome {
        edulake_ingest::Outcome::Stored { header, .. } => assert!(
            header
                .notes
                .iter()
                .any(|n| n.to_string().starts_with("3 row(s) marked not submitted")),
            "{:?}",
            header.notes
        ),
        other => panic!("{other:?}"),
    }
    // Only S1 has an attendance rate that day: 290 of 300.
    let got = counts(&f, "attendance_rate", Level::School, Grain::Day, None).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("S1") && got[0].contains("290") && got[0].contains("300"),
        "{got:?}"
    );
}
