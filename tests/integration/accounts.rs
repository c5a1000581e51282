//! Who may use which route of the cockpit (issue "Who may see what"): the authorization
//! matrix of every route of the route table against every role and someone not signed in,
//! each action in the audit log; a clerk kept to its school by every route, parameter and
//! SQL. (Signing in: `sessions`; accounts and the audit log: `account_admin`; hostile
//! values and queries: `web_hardening`.)

use axum::http::StatusCode;

use edulake_ingest::Upload;
use edulake_serve::accounts::AuditFilter;
use edulake_serve::web::auth::Who;
use edulake_serve::web::route_table;
use edulake_transform::access::Role;
use edulake_transform::reads::Scope;

use crate::common::*;
use crate::web_client::*;

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
        ("GET", "/school/{code}/class/{class}") => vec![
            ("own", "/school/S1/class/1A".into()),
            ("other", "/school/S3/class/1A".into()),
        ],
        ("GET", "/notices") => vec![("", "/notices".into())],
        ("GET", "/reporting") => vec![
            ("", "/reporting".into()),
            ("own", "/reporting?school=S1".into()),
            ("other", "/reporting?school=S3".into()),
        ],
        ("GET", "/data") => vec![("", "/data".into()), ("own", "/data?school=S1".into()), ("other", "/data?school=S3".into())],
        ("GET", "/upload") => vec![("", "/upload".into())],
        ("GET", "/template") => vec![("", "/template?name=attendance&format=csv".into())],
        ("POST", "/upload") => vec![("own", "/upload".into()), ("other", "/upload".into())],
        // (No preview of theirs is pending: the page says it has expired.)
        ("POST", "/upload/confirm") => vec![("", "/upload/confirm".into())],
        ("POST", "/upload/cancel") => vec![("", "/upload/cancel".into())],
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
        | ("GET", "/school/{code}/class/{class}")
        | ("GET", "/data")
        | ("GET", "/reporting")
        | ("GET", "/download")
        | ("GET", "/rejects/{batch_id}")
            if bureau =>
        {
            Ok
        }
        ("GET", "/school/{code}")
        | ("GET", "/school/{code}/class/{class}")
        | ("GET", "/data")
        | ("GET", "/reporting")
        | ("GET", "/download")
        | ("GET", "/rejects/{batch_id}")
            if matches!(role, DistrictOfficer | SchoolClerk) && tried != "other" =>
        {
            Ok
        }
        ("GET", "/upload") | ("GET", "/template") if bureau || role == SchoolClerk => Ok,
        ("POST", "/upload") if bureau => Ok,
        ("POST", "/upload") if role == SchoolClerk && tried == "own" => Ok,
        ("POST", "/upload/confirm") | ("POST", "/upload/cancel")
            if bureau || role == SchoolClerk =>
        {
            Ok
        }
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
                        answer.body.chars().take(300).collect::<String>()
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
