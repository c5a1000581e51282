//! The upload page's preview (REPORTING.md "Profiles"): what each file would become, shown
//! before anything is stored, then confirmed or cancelled by the clerk who sent it.

use axum::http::StatusCode;
use edulake_transform::access::Role;
use edulake_transform::reads::Scope;

use crate::common::*;
use crate::profiles::{sample, with_schools};
use crate::web_client::*;

/// A clerk's decision on a preview (`/upload/confirm` or `/upload/cancel`), with a form token.
async fn decide(
    state: &std::sync::Arc<edulake_serve::web::AppState>,
    who: &Browser,
    path: &str,
    csrf: &str,
    token: &str,
) -> Answer {
    let body = format!("csrf={csrf}&token={token}").into_bytes();
    send(
        state,
        who,
        "POST",
        path,
        Some("application/x-www-form-urlencoded"),
        body,
    )
    .await
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
        "form-checkin（表单平台 健康打卡导出）",
        "第 1 行的表头 今日体温、是否发热",
        "逐人记录",
        "个人信息，不保存",
        "→ <code>temperature</code>",
        "<td>是否发热</td><td>→ <code>symptoms</code>",
        "是否发热, 是否咳嗽, 是否乏力, 健康状况",
        "提交时间列（按时间取当地日期）",
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
    let a = decide(&state, &other, "/upload/confirm", &other.csrf, &token).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = decide(&state, &clerk, "/upload/confirm", "forged", &token).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(version().await, before);
    // The clerk confirms: stored as the upload would have been, once.
    let a = decide(&state, &clerk, "/upload/confirm", &clerk.csrf, &token).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("已入库"), "{}", a.body);
    assert_eq!(
        f.query("SELECT count(*) FROM health_report WHERE school_code = 'P1'")
            .await,
        vec![vec!["5"]]
    );
    let a = decide(&state, &clerk, "/upload/confirm", &clerk.csrf, &token).await;
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
        a.body
            .contains("read-status (Notice read status export): its headers 阅读状态, 阅读时间"),
        "{}",
        a.body
    );
    let token = preview_token(&a.body);
    let a = decide(
        &state,
        &clerk,
        "/upload/cancel?lang=en",
        &clerk.csrf,
        &token,
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
    assert!(
        a.body
            .contains("dingtalk-daily（钉钉考勤 每日统计）：上传时选定"),
        "{}",
        a.body
    );
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
