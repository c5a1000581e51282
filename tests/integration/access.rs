//! Who may see what (issue "Who may see what"): each principal queries through a session of
//! its own that holds only what it may read, filtered to its scope, so no SQL (an alias, a
//! join, a subquery, a CTE, `information_schema`) reaches another school's rows.

use edulake_ingest::Upload;
use edulake_transform::access::{Principal, Role};
use edulake_transform::bounded::Limits;
use edulake_transform::reads::Scope;
use edulake_transform::{QueryLayer, TransformError};

use crate::common::*;

/// Three schools in two districts, each with attendance on one day: S1 2 rows, S2 3, S3 4.
pub(crate) async fn three_schools() -> Fixture {
    let f = Fixture::new();
    let p = f.write(
        "schools.csv",
        "school_code,school_name,district,school_type\nS1,一中,D1,初中\nS2,二中,D1,初中\nS3,三中,D2,初中\n",
    );
    f.ingest("schools", Upload::default(), &[p]).await;
    let mut rows = String::from("date,school_code,class_code,student_id,status\n");
    for (school, n) in [("S1", 2), ("S2", 3), ("S3", 4)] {
        for i in 0..n {
            rows.push_str(&format!("2026-09-01,{school},7-1,{school}G{i},present\n"));
        }
    }
    let p = f.write("attendance.csv", rows);
    f.ingest("attendance", Upload::default(), &[p]).await;
    f
}

async fn answer(
    layer: &QueryLayer,
    who: &Principal,
    sql: &str,
) -> Result<Vec<Vec<String>>, TransformError> {
    let (_, batches) = layer.sql_as(who, sql, &Limits::command_line()).await?;
    Ok(rows(&batches))
}

#[tokio::test]
async fn a_clerk_reads_its_own_school_through_every_form_of_sql() {
    let f = three_schools().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let clerk = Principal::new(Role::SchoolClerk, Scope::School("S1".into())).unwrap();
    // No file is a table: a path or URL names nothing.
    for sql in [
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM 'lake.state/accounts.db'",
        "SELECT * FROM 'https://example.com/x.csv'",
    ] {
        let err = answer(&layer, &clerk, sql).await.unwrap_err().to_string();
        assert!(!err.contains("root:"), "{sql}: {err}");
    }
    let s1 = vec![vec!["S1".to_string()]];
    for sql in [
        "SELECT DISTINCT school_code FROM attendance_rate_school",
        "SELECT DISTINCT a.school_code FROM attendance_rate_class AS a",
        "SELECT DISTINCT a.school_code FROM attendance_rate_class a JOIN attendance_rate_school s ON a.school_code = s.school_code",
        "WITH x AS (SELECT * FROM attendance_rate_class) SELECT DISTINCT school_code FROM x",
        "SELECT DISTINCT school_code FROM (SELECT * FROM attendance_rate_school WHERE school_code <> 'S1' OR true) t",
        "SELECT DISTINCT school_code FROM enrolled_school_by_gender UNION SELECT DISTINCT school_code FROM attendance_rate_school",
    ] {
        assert_eq!(answer(&layer, &clerk, sql).await.unwrap(), s1, "{sql}");
    }
    // Its school has 2 students: every rate's row is a small cell, shown empty.
    assert_eq!(
        answer(
            &layer,
            &clerk,
            "SELECT numerator, denominator, value, suppressed FROM attendance_rate_school"
        )
        .await
        .unwrap(),
        vec![vec![
            String::new(),
            String::new(),
            String::new(),
            "true".into()
        ]]
    );
    // Nor the functions that look into any school's raw rows for keys sent twice (a
    // correction of S3's row makes one).
    let p = f.write(
        "correction.csv",
        "date,school_code,class_code,student_id,status\n2026-09-01,S3,7-1,S3G0,absent\n",
    );
    f.ingest("attendance", Upload::default(), &[p]).await;
    let fresh = QueryLayer::open(&f.reader).await.unwrap();
    let base_has = fresh
        .context()
        .state()
        .scalar_functions()
        .keys()
        .any(|n| n.starts_with("edulake_"));
    assert!(base_has, "the fixture makes no such function");
    let session = fresh.session_for(&clerk).await.unwrap();
    assert!(!session
        .state()
        .scalar_functions()
        .keys()
        .any(|n| n.starts_with("edulake_")));
    // Rows per student, batches and raw tables are not there to name.
    for sql in [
        "SELECT count(*) FROM attendance",
        "SELECT count(*) FROM raw_attendance",
        "SELECT count(*) FROM batches",
        "SELECT count(*) FROM schools",
        "SELECT count(*) FROM mart_attendance_rate",
    ] {
        assert!(answer(&layer, &clerk, sql).await.is_err(), "{sql}");
    }
    // The catalog it sees: the designed views and the calendar, nothing else.
    let names = answer(
        &layer,
        &clerk,
        "SELECT table_name FROM information_schema.tables WHERE table_schema <> 'information_schema'",
    )
    .await
    .unwrap();
    assert!(names.len() > 20, "{names:?}");
    assert!(
        names.iter().all(|n| n[0] == "periods"
            || edulake_transform::indicators::all()
                .iter()
                .any(|i| n[0].starts_with(i.name))),
        "{names:?}"
    );
    for sql in [
        "CREATE TABLE x AS SELECT * FROM attendance_rate_school",
        "INSERT INTO attendance_rate_school SELECT * FROM attendance_rate_school",
        "COPY attendance_rate_school TO '/tmp/x.csv'",
        "SET datafusion.execution.batch_size = 1",
        "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
    ] {
        assert!(
            matches!(
                answer(&layer, &clerk, sql).await,
                Err(TransformError::BadQuery(_))
            ),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn a_district_sees_its_schools_and_a_researcher_no_uploads() {
    let f = three_schools().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let officer = Principal::new(Role::DistrictOfficer, Scope::District("D1".into())).unwrap();
    assert_eq!(
        answer(
            &layer,
            &officer,
            "SELECT school_code, suppressed FROM attendance_rate_school ORDER BY 1"
        )
        .await
        .unwrap(),
        vec![
            vec!["S1".to_string(), "true".into()],
            vec!["S2".into(), "true".into()]
        ]
    );
    let analyst = Principal::new(Role::BureauAnalyst, Scope::Bureau).unwrap();
    assert_eq!(
        answer(&layer, &analyst, "SELECT count(*) FROM attendance")
            .await
            .unwrap(),
        vec![vec!["9".to_string()]]
    );
    // A researcher never sees which files were sent, nor a row per student.
    let researcher = Principal::new(Role::Researcher, Scope::District("D2".into())).unwrap();
    for sql in [
        "SELECT * FROM batches",
        "SELECT * FROM raw_attendance",
        "SELECT * FROM attendance",
    ] {
        assert!(answer(&layer, &researcher, sql).await.is_err(), "{sql}");
    }
    assert_eq!(
        answer(
            &layer,
            &researcher,
            "SELECT district, school_code FROM attendance_rate_school"
        )
        .await
        .unwrap(),
        vec![vec!["D2".to_string(), "S3".into()]]
    );
    // A scope that does not fit the role is refused.
    assert!(Principal::new(Role::SchoolClerk, Scope::Bureau).is_err());
    assert!(Principal::new(Role::BureauAnalyst, Scope::School("S1".into())).is_err());
}

#[tokio::test]
async fn each_role_may_look_at_its_own_scope_only() {
    let f = three_schools().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let school = |s: &str| Scope::School(s.into());
    let district = |d: &str| Scope::District(d.into());
    let officer = Principal::new(Role::DistrictOfficer, district("D1")).unwrap();
    let clerk = Principal::new(Role::SchoolClerk, school("S1")).unwrap();
    let admin = Principal::new(Role::BureauAdmin, Scope::Bureau).unwrap();
    for (who, scope, allowed) in [
        (&admin, Scope::Bureau, true),
        (&admin, school("S3"), true),
        (&officer, district("D1"), true),
        (&officer, school("S2"), true),
        (&officer, school("S3"), false),
        (&officer, district("D2"), false),
        (&officer, Scope::Bureau, false),
        (&clerk, school("S1"), true),
        (&clerk, school("S2"), false),
        (&clerk, district("D1"), false),
        (&clerk, Scope::Bureau, false),
        // A school the registry does not list is no district's.
        (&officer, school("S9"), false),
    ] {
        assert_eq!(
            layer.allows(who, &scope).await.unwrap(),
            allowed,
            "{who:?} {scope:?}"
        );
    }
}

/// `serve` renders; it writes no SQL at all: every read is one of transform's (the accounts
/// database of the state directory included).
#[test]
fn serve_holds_no_sql_over_the_lake() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            seen += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for word in ["SELECT ", " FROM ", "UNION "] {
                assert!(
                    !text.contains(word),
                    "{}: SQL in serve ({word:?})",
                    path.display()
                );
            }
        }
    }
    assert!(seen > 10, "{seen}");
}

/// One school whose classes have 20, 15 and 5 students, all present on one day; a second
/// school of 30 in the same district.
async fn classes_of_20_15_and_5() -> Fixture {
    let f = Fixture::new();
    let p = f.write(
        "schools.csv",
        "school_code,school_name,district,school_type\nS1,一中,D1,初中\nS2,二中,D1,初中\n",
    );
    f.ingest("schools", Upload::default(), &[p]).await;
    let mut rows = String::from("date,school_code,class_code,student_id,status\n");
    for (school, class, n) in [
        ("S1", "7-1", 20),
        ("S1", "7-2", 15),
        ("S1", "7-3", 5),
        ("S2", "7-1", 30),
    ] {
        for i in 0..n {
            let status = if i == 0 { "sick_leave" } else { "present" };
            rows.push_str(&format!(
                "2026-09-01,{school},{class},{school}{class}G{i},{status}\n"
            ));
        }
    }
    let p = f.write("attendance.csv", rows);
    f.ingest("attendance", Upload::default(), &[p]).await;
    f
}

/// (class, numerator, denominator) of each row; empty where suppressed.
fn by_class(batches: &[arrow::record_batch::RecordBatch]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for b in batches {
        let text = |name: &str, r: usize| {
            let c = b.column(b.schema().index_of(name).unwrap());
            if c.is_null(r) {
                String::new()
            } else {
                arrow::util::display::array_value_to_string(c, r).unwrap()
            }
        };
        for r in 0..b.num_rows() {
            out.push((
                text("class_code", r),
                text("numerator", r),
                text("denominator", r),
            ));
        }
    }
    out
}

#[tokio::test]
async fn a_suppressed_class_cannot_be_recovered_from_its_school_total() {
    use edulake_transform::indicators::{Level, Request};
    let f = classes_of_20_15_and_5().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let clerk = Principal::new(Role::SchoolClerk, Scope::School("S1".into())).unwrap();
    let ask = |level: Level, who: &Principal| {
        let mut r = Request::new("attendance_rate");
        r.level = level;
        r.school = Some("S1".into());
        who.asks(&mut r);
        r
    };
    let admin = Principal::new(Role::BureauAdmin, Scope::Bureau).unwrap();
    // The bureau sees every class.
    let (_, all) = layer.export(&ask(Level::Class, &admin)).await.unwrap();
    assert_eq!(
        by_class(&all),
        vec![
            ("7-1".into(), "19".into(), "20".into()),
            ("7-2".into(), "14".into(), "15".into()),
            ("7-3".into(), "4".into(), "5".into()),
        ]
    );
    // The clerk: 7-3 (5 students) is hidden by the rule, and 7-2, the next smallest, with it.
    let (_, shown) = layer.export(&ask(Level::Class, &clerk)).await.unwrap();
    assert_eq!(
        by_class(&shown),
        vec![
            ("7-1".into(), "19".into(), "20".into()),
            ("7-2".into(), String::new(), String::new()),
            ("7-3".into(), String::new(), String::new()),
        ]
    );
    // The differencing attack: the school's total, shown, minus the classes shown.
    let (_, school) = layer.export(&ask(Level::School, &clerk)).await.unwrap();
    let total = rows(&school);
    let cols = school[0].schema();
    let (num_i, den_i) = (
        cols.index_of("numerator").unwrap(),
        cols.index_of("denominator").unwrap(),
    );
    let (num, den): (i64, i64) = (
        total[0][num_i].parse().unwrap(),
        total[0][den_i].parse().unwrap(),
    );
    assert_eq!((num, den), (37, 40));
    let shown_den: i64 = by_class(&shown)
        .iter()
        .filter_map(|r| r.2.parse::<i64>().ok())
        .sum();
    let shown_num: i64 = by_class(&shown)
        .iter()
        .filter_map(|r| r.1.parse::<i64>().ok())
        .sum();
    // What is left is two classes together, never the small one alone.
    assert_ne!(den - shown_den, 5);
    assert_ne!(num - shown_num, 4);
    assert_eq!(den - shown_den, 15 + 5);
    // And its SQL: the designed view hides the same two classes.
    assert_eq!(
        answer(
            &layer,
            &clerk,
            "SELECT class_code, numerator, denominator, suppressed FROM attendance_rate_class ORDER BY class_code"
        )
        .await
        .unwrap(),
        vec![
            vec!["7-1".to_string(), "19".into(), "20".into(), "false".into()],
            vec!["7-2".into(), String::new(), String::new(), "true".into()],
            vec!["7-3".into(), String::new(), String::new(), "true".into()],
        ]
    );

    // The same on the cockpit's download and page for a clerk.
    let state = cockpit(&f).await;
    let accounts = &state.accounts;
    accounts.add("clerk", &clerk, None).unwrap();
    let session = accounts
        .start_session(&accounts.get("clerk").unwrap().unwrap())
        .unwrap();
    let ask_web = |uri: &str| {
        let state = state.clone();
        let cookie = format!("edulake_session={}", session.token);
        let uri = uri.to_string();
        async move {
            use tower::ServiceExt;
            let response = edulake_serve::web::app(state)
                .oneshot(
                    axum::http::Request::builder()
                        .uri(uri)
                        .header("cookie", cookie)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
                .await
                .unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        }
    };
    let csv = ask_web("/download?indicator=attendance_rate&level=class&school=S1&format=csv&from=2026-09-01&to=2026-09-01").await;
    let line = |class: &str| {
        csv.lines()
            .find(|l| l.contains(&format!(",{class},")))
            .unwrap_or_else(|| panic!("{class} in {csv}"))
            .to_string()
    };
    assert!(line("7-1").ends_with(",19,20,0.95,false"), "{csv}");
    for class in ["7-2", "7-3"] {
        assert!(line(class).ends_with(",,,,true"), "{csv}");
    }
    let page = ask_web("/school/S1?from=2026-09-01&to=2026-09-01").await;
    for row in [
        "/class/7-1?lang=zh&amp;from=2026-09-01&amp;to=2026-09-01\">7-1</a></td><td>95.0%</td><td>19</td><td>20</td>",
        "/class/7-2?lang=zh&amp;from=2026-09-01&amp;to=2026-09-01\">7-2</a></td><td>—</td><td></td><td></td>",
        "/class/7-3?lang=zh&amp;from=2026-09-01&amp;to=2026-09-01\">7-3</a></td><td>—</td><td></td><td></td>",
    ] {
        assert!(page.contains(row), "{row} not on the clerk's school page");
    }
}

#[tokio::test]
async fn rows_per_student_only_for_a_researcher_the_bureau_granted_them() {
    let f = three_schools().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let researcher = Principal::new(Role::Researcher, Scope::District("D1".into())).unwrap();
    let sql = "SELECT school_code, count(*) FROM attendance GROUP BY 1 ORDER BY 1";
    assert!(answer(&layer, &researcher, sql).await.is_err());
    let granted = researcher.with_rows(true).unwrap();
    assert_eq!(
        answer(&layer, &granted, sql).await.unwrap(),
        vec![
            vec!["S1".to_string(), "2".into()],
            vec!["S2".into(), "3".into()]
        ]
    );
    // Pseudonymised: no identifier as it was sent.
    let ids = answer(
        &layer,
        &granted,
        "SELECT DISTINCT student_id FROM attendance",
    )
    .await
    .unwrap();
    assert!(
        ids.iter()
            .all(|r| !r[0].starts_with("S1G") && !r[0].starts_with("S2G")),
        "{ids:?}"
    );
    for sql in [
        "SELECT * FROM raw_attendance",
        "SELECT * FROM batches",
        "SELECT * FROM mart_attendance_rate",
    ] {
        assert!(answer(&layer, &granted, sql).await.is_err(), "{sql}");
    }
    // Rows are a researcher's grant only.
    let clerk = Principal::new(Role::SchoolClerk, Scope::School("S1".into())).unwrap();
    assert!(clerk.with_rows(true).is_err());
}
