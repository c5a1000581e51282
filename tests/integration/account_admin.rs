//! Accounts and the audit log: `edulake users` on the command line, `/users` and `/audit`
//! for the bureau's administrator.

use axum::http::StatusCode;

use edulake_serve::accounts::AuditFilter;
use edulake_transform::access::Role;
use edulake_transform::reads::Scope;

use crate::common::*;
use crate::web_client::*;

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
