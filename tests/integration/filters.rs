//! Filters by school type, grade and gender, on a district worked by hand: a filtered row is
//! the sum of the matching cells, and for a restricted reader it is hidden wherever one of
//! its cells is.

use edulake_ingest::Upload;
use edulake_transform::indicators::{Filters, Grain, Level, Request, Role};
use edulake_transform::QueryLayer;

use crate::common::*;

const SCHOOLS: &str = "school_code,school_name,district,school_type
P1,一小,D1,小学
J1,一中,D1,初中
";

/// P1's class 1-1: 12 pupils, 10 present (no roster: its grade is read from its code). J1's
/// classes 7A (grade 7 on the roster): 12 pupils, all present; 8A (grade 8): 3 pupils, 1
/// present.
fn district_files() -> Vec<(&'static str, String)> {
    let mut attendance = String::from("date,school_code,class_code,student_id,status\n");
    let mut roster =
        String::from("student_id,school_code,grade,class_code,gender,status,as_of_date\n");
    for i in 0..12 {
        let s = if i < 10 { "present" } else { "absent" };
        attendance.push_str(&format!("2026-09-01,P1,1-1,P{i},{s}\n"));
        attendance.push_str(&format!("2026-09-01,J1,7A,S{i},present\n"));
        roster.push_str(&format!("S{i},J1,7,7A,F,enrolled,2026-09-01\n"));
    }
    for i in 0..3 {
        let s = if i < 1 { "present" } else { "absent" };
        attendance.push_str(&format!("2026-09-01,J1,8A,E{i},{s}\n"));
        roster.push_str(&format!("E{i},J1,8,8A,M,enrolled,2026-09-01\n"));
    }
    vec![
        ("schools", SCHOOLS.to_string()),
        ("enrolment", roster),
        ("attendance", attendance),
    ]
}

async fn filtered(
    f: &Fixture,
    level: Level,
    filters: Filters,
    restricted: bool,
) -> Vec<(String, Option<f64>, bool)> {
    let mut req = Request::new("attendance_rate");
    req.level = level;
    req.grain = Grain::Total;
    req.filters = filters;
    if restricted {
        req.role = Role::Restricted;
        req.within.district = Some("D1".into());
    }
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let (schema, batches) = layer.export(&req).await.unwrap();
    let key = match level {
        Level::District => "district",
        _ => "school_code",
    };
    let at = |n: &str| schema.index_of(n).unwrap();
    rows(&batches)
        .into_iter()
        .map(|r| {
            (
                r[at(key)].clone(),
                r[at("value")].parse().ok(),
                r[at("suppressed")] == "true",
            )
        })
        .collect()
}

fn close(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() < 1e-9)
}

#[tokio::test]
async fn filtered_rows_add_up_the_matching_cells_and_hide_with_them() {
    let f = Fixture::new();
    for (d, text) in district_files() {
        let p = f.write(&format!("{d}.csv"), text);
        let out = f.ingest(d, Upload::default(), &[p]).await;
        assert_eq!(stored(&out[0]).rows_rejected, 0, "{d}: {out:?}");
    }
    let of_type = |t: &str| Filters {
        school_type: Some(t.into()),
        ..Default::default()
    };
    let of_grade = |g: u8| Filters {
        grade: Some(g),
        ..Default::default()
    };
    // The bureau: every number. Junior schools: (12 + 1) / (12 + 3); primary: 10 / 12.
    let junior = filtered(&f, Level::District, of_type("junior"), false).await;
    assert!(close(junior[0].1, 13.0 / 15.0), "{junior:?}");
    let primary = filtered(&f, Level::District, of_type("primary"), false).await;
    assert!(close(primary[0].1, 10.0 / 12.0), "{primary:?}");
    // Grade 7 from the roster (class 7A): 12 / 12; grade 1 from the class's code: 10 / 12;
    // grade 8 of J1: 1 / 3.
    let seventh = filtered(&f, Level::District, of_grade(7), false).await;
    assert!(close(seventh[0].1, 1.0), "{seventh:?}");
    let first = filtered(&f, Level::District, of_grade(1), false).await;
    assert!(close(first[0].1, 10.0 / 12.0), "{first:?}");
    let eighth = filtered(&f, Level::School, of_grade(8), false).await;
    assert_eq!(eighth.len(), 1, "only J1 has a grade 8: {eighth:?}");
    assert!(close(eighth[0].1, 1.0 / 3.0), "{eighth:?}");
    // Both: junior schools' grade 7.
    let both = Filters {
        school_type: Some("junior".into()),
        grade: Some(7),
        ..Default::default()
    };
    let got = filtered(&f, Level::District, both, false).await;
    assert!(close(got[0].1, 1.0), "{got:?}");

    // A restricted reader: class 8A (3 pupils) is hidden, and so is 7A beside it (else J1's
    // total would give 8A back). J1's and P1's school cells are shown.
    let junior = filtered(&f, Level::District, of_type("junior"), true).await;
    assert!(
        close(junior[0].1, 13.0 / 15.0) && !junior[0].2,
        "{junior:?}"
    );
    // Grade 7 is class 7A alone, hidden: hidden too.
    let seventh = filtered(&f, Level::District, of_grade(7), true).await;
    assert_eq!((seventh[0].1, seventh[0].2), (None, true), "{seventh:?}");
    let first = filtered(&f, Level::District, of_grade(1), true).await;
    assert!(close(first[0].1, 10.0 / 12.0) && !first[0].2, "{first:?}");

    // Attendance is reported by class, not by pupil's gender: it is not filtered by it.
    let mut req = Request::new("attendance_rate");
    req.filters.gender = Some("F".into());
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let e = layer.export(&req).await.unwrap_err().to_string();
    assert!(e.contains("cannot be filtered by gender"), "{e}");
    // Enrolment is: J1 has 12 girls.
    let mut req = Request::new("enrolled");
    req.filters.gender = Some("F".into());
    req.level = Level::School;
    let (schema, batches) = layer.export(&req).await.unwrap();
    let got = rows(&batches);
    let at = |n: &str| schema.index_of(n).unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (
            got[0][at("school_code")].as_str(),
            got[0][at("value")].as_str()
        ),
        ("J1", "12")
    );
}

#[tokio::test]
async fn a_filter_is_kept_in_every_link_and_download_of_the_page() {
    let f = Fixture::new();
    for (d, text) in district_files() {
        let p = f.write(&format!("{d}.csv"), text);
        f.ingest(d, Upload::default(), &[p]).await;
    }
    let state = cockpit(&f).await;
    let range = "from=2026-09-01&to=2026-09-01";
    let (status, body) = cockpit_get(
        &state,
        &format!("/district/D1?{range}&school_type=初中&grade=7"),
    )
    .await;
    let page = String::from_utf8(body).unwrap();
    assert_eq!(status, axum::http::StatusCode::OK, "{page}");
    // Said on the page, chosen in its form (the Chinese word read as the vocabulary's value).
    assert!(page.contains("已筛选：初中 · 七年级"), "{page}");
    assert!(
        page.contains("<option value=\"junior\" selected>初中</option>"),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"7\" selected>七年级</option>"),
        "{page}"
    );
    // The schools counted are the junior ones: J1 alone reported, of one.
    assert!(page.contains(">1 / 1<"), "{page}");
    // Every link within the cockpit keeps it, and so does every indicator's download.
    let links = crate::cockpit::links(&page);
    let inner: Vec<&String> = links
        .iter()
        .filter(|l| l.starts_with("/school/") || l.starts_with("/district/"))
        .collect();
    assert!(!inner.is_empty());
    for l in &inner {
        assert!(l.contains("school_type=junior&grade=7"), "{l}");
    }
    let downloads: Vec<&String> = links
        .iter()
        .filter(|l| l.starts_with("/download?indicator="))
        .collect();
    assert!(!downloads.is_empty());
    for l in &downloads {
        assert!(l.contains("school_type=junior&grade=7"), "{l}");
    }
    // The download holds the filtered rows: junior schools' grade 7 of D1, 12 of 12.
    let (status, body) = cockpit_get(
        &state,
        &format!(
            "/download?indicator=attendance_rate&level=district&grain=total&{range}\
             &school_type=junior&grade=7&headers=machine"
        ),
    )
    .await;
    let csv = String::from_utf8(body).unwrap();
    assert_eq!(status, axum::http::StatusCode::OK, "{csv}");
    let row = csv.lines().nth(1).unwrap_or_default();
    assert!(row.starts_with("D1,") && row.contains(",12,12,1"), "{csv}");
    // A filter that is none is refused.
    let (status, _) = cockpit_get(&state, &format!("/?{range}&grade=13")).await;
    assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
}
