//! Signing in and out of the cockpit: throttling, forged forms, session fixation, a cockpit
//! for the network (an administrator first, TLS with Secure cookies), proxied requests.
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use edulake_serve::accounts::AuditFilter;
use edulake_serve::web::{app, AppState};
use edulake_transform::access::{Principal, Role};
use edulake_transform::reads::Scope;

use crate::common::*;
use crate::web_client::*;

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
