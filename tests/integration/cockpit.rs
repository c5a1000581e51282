//! The cockpit's router, called without a socket: every page, its links and its downloads.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use edulake_serve::web::{app, AppState};

use crate::common::*;

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, Vec<u8>) {
    let response = app(state.clone())
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20).await.unwrap();
    (status, bytes.to_vec())
}

/// Internal links of a page (`href="/…"`), unescaped.
fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|h| h.starts_with('/'))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn every_page_link_and_download_works() {
    let f = Fixture::new();
    crate::privacy::ingested_messy_district(&f);
    let o = f.cli(&["--quiet", "build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let state = AppState::open(f.lake.clone()).await.unwrap();

    let (status, body) = get(&state, "/").await;
    let overview = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{overview}");
    for word in ["总览", "出勤率", "健康打卡率", "今日未报送学校", "聚集性预警", "学校分布图", "下载 CSV"] {
        assert!(overview.contains(word), "{word} missing from the overview");
    }
    assert!(overview.matches("<svg").count() >= 4, "trend charts, comparison and map");
    assert!(!overview.contains('⟨'), "an untranslated key");

    // Every link of the overview, then every link of each district page, answers.
    let mut seen = std::collections::HashSet::new();
    let mut queue = links(&overview);
    let mut pages = 0;
    while let Some(href) = queue.pop() {
        if !seen.insert(href.clone()) || seen.len() > 60 {
            continue;
        }
        let (status, body) = get(&state, &href).await;
        assert_eq!(status, StatusCode::OK, "{href}: {}", String::from_utf8_lossy(&body));
        if href.starts_with("/district/") {
            pages += 1;
            let page = String::from_utf8(body).unwrap();
            assert!(!page.contains('⟨'), "{href}");
            queue.extend(links(&page));
        } else if href.starts_with("/school/") {
            pages += 1;
            let page = String::from_utf8(body).unwrap();
            for word in ["各班出勤", "在籍学生（按年级）", "生师比", "长期缺勤率", "各通知查阅率"] {
                assert!(page.contains(word), "{word} missing from {href}");
            }
        }
    }
    assert!(pages >= 3, "district and school pages were followed");

    // English, one click away, on every page.
    let en_href = links(&overview)
        .into_iter()
        .find(|h| h.contains("lang=en"))
        .expect("a link to English");
    let (status, body) = get(&state, &en_href).await;
    let english = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK);
    for word in ["Overview", "Attendance rate", "Schools that have not reported today", "Download CSV", "中文"] {
        assert!(english.contains(word), "{word} missing from the English overview");
    }
    assert!(!english.contains("总览") && !english.contains('⟨'));

    // A download's CSV is `edulake export` for the same filters, with a BOM for Excel.
    let (from, to) = ("2026-09-28", "2026-10-09");
    let (status, csv) = get(
        &state,
        &format!("/download?indicator=attendance_rate&level=district&grain=week&from={from}&to={to}&format=csv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let cli = f.cli(&[
        "export", "--indicator", "attendance_rate", "--level", "district", "--grain", "week", "--from", from, "--to", to,
    ]);
    assert_eq!(csv.strip_prefix('\u{feff}').unwrap(), String::from_utf8_lossy(&cli.stdout));
    let (status, xlsx) = get(&state, "/download?indicator=enrolled&by=gender&format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK"), "an xlsx is a zip");
    let (status, alerts) = get(&state, "/download?table=alerts&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(alerts).unwrap().starts_with("\u{feff}school_code,school_name,class_code,date,count"));

    // Wrong requests are said so, in the page's language.
    assert_eq!(get(&state, "/school/NOPE").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&state, "/nowhere?lang=en").await.0, StatusCode::NOT_FOUND);
    let (status, body) = get(&state, "/?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8(body).unwrap().contains("yesterday"));
    assert_eq!(get(&state, "/download?indicator=nope").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&state, "/assets/style.css").await.0, StatusCode::OK);
}
