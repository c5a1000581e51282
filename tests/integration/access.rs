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
    let one = |v: &str| vec![vec![v.to_string()]];
    for sql in [
        "SELECT count(*) FROM attendance",
        "SELECT count(*) FROM raw_attendance",
        "SELECT count(*) FROM attendance AS a JOIN raw_attendance r ON a.student_id = r.student_id",
        "WITH x AS (SELECT * FROM raw_attendance) SELECT count(*) FROM x",
        "SELECT count(*) FROM (SELECT * FROM attendance WHERE school_code <> 'S1' OR true) t",
        "SELECT count(*) FROM attendance_rows",
    ] {
        assert_eq!(
            answer(&layer, &clerk, sql).await.unwrap(),
            one("2"),
            "{sql}"
        );
    }
    for sql in [
        "SELECT count(*) FROM schools",
        "SELECT count(*) FROM schools WHERE school_code IN (SELECT school_code FROM attendance)",
        "SELECT count(DISTINCT school_code) FROM mart_attendance_rate",
    ] {
        assert_eq!(
            answer(&layer, &clerk, sql).await.unwrap(),
            one("1"),
            "{sql}"
        );
    }
    // The catalog it sees holds no other school's tables, and nothing it can write.
    let names = answer(
        &layer,
        &clerk,
        "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_schema <> 'information_schema'",
    )
    .await
    .unwrap();
    assert_eq!(names, vec![vec!["public".to_string()]]);
    for sql in [
        "CREATE TABLE x AS SELECT * FROM attendance",
        "INSERT INTO attendance SELECT * FROM attendance",
        "COPY attendance TO '/tmp/x.csv'",
        "SET datafusion.execution.batch_size = 1",
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
            "SELECT school_code, count(*) FROM attendance GROUP BY school_code ORDER BY 1"
        )
        .await
        .unwrap(),
        vec![
            vec!["S1".to_string(), "2".into()],
            vec!["S2".into(), "3".into()]
        ]
    );
    let analyst = Principal::new(Role::BureauAnalyst, Scope::Bureau).unwrap();
    assert_eq!(
        answer(&layer, &analyst, "SELECT count(*) FROM attendance")
            .await
            .unwrap(),
        vec![vec!["9".to_string()]]
    );
    // A researcher never sees which files were sent: no batches, no raw tables.
    let researcher = Principal::new(Role::Researcher, Scope::District("D2".into())).unwrap();
    for sql in ["SELECT * FROM batches", "SELECT * FROM raw_attendance"] {
        assert!(answer(&layer, &researcher, sql).await.is_err(), "{sql}");
    }
    assert_eq!(
        answer(&layer, &researcher, "SELECT count(*) FROM attendance")
            .await
            .unwrap(),
        vec![vec!["4".to_string()]]
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

/// `serve` renders; it writes no SQL over the lake (the accounts database of the state
/// directory, `accounts.rs`, is its own): every read is one of transform's.
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
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("accounts.rs") {
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
