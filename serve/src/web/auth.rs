//! Who is asking, and whether they may: sessions from cookies, the rule of each route, the
//! sign-in and sign-out forms, the account page, and the audit of every request a rule lets
//! through or refuses.
//!
//! Every route is declared with its [`Rule`] in one table ([`super::routes`]); a route
//! cannot be added without one. The rule says which roles may use the route at all; what
//! lies inside a role's scope (its district, its school) is checked by the handler, through
//! the query layer's [`allows`](edulake_transform::QueryLayer::allows).
//!
//! Until the first account is made, a cockpit served on a loopback address answers the
//! computer's own user as the bureau's administrator (nobody else can reach it; the server
//! refuses any other address without an administrator account). Once an account exists,
//! everyone signs in.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use edulake_transform::access::{Principal, Role};
use edulake_transform::reads::Scope;

use crate::accounts::{scope_text, Account, AuditEntry, SignIn};

use super::html::{self, esc};
use super::i18n::{t, Lang};
use super::{AppError, AppState};

/// Sign-ins checked at once (each hashes a password with argon2id: 19 MiB and tens of
/// milliseconds).
static SIGNING_IN: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "edulake_session";
/// The cookie the sign-in form's token is checked against (before there is a session).
const SIGN_IN_COOKIE: &str = "edulake_sign_in";

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Anyone, signed in or not (the sign-in page, the stylesheet).
    Anyone,
    /// Anyone signed in, whatever the role (the handler narrows to the role's scope).
    SignedIn,
    /// These roles only.
    Roles(&'static [Role]),
}

/// The bureau's roles.
pub const BUREAU: &[Role] = &[Role::BureauAdmin, Role::BureauAnalyst];
/// Those who look at districts: the bureau's roles and district officers.
pub const OFFICIALS: &[Role] = &[
    Role::BureauAdmin,
    Role::BureauAnalyst,
    Role::DistrictOfficer,
];
/// Those who look at schools' pages and what they sent.
pub const SCHOOL_VIEWERS: &[Role] = &[
    Role::BureauAdmin,
    Role::BureauAnalyst,
    Role::DistrictOfficer,
    Role::SchoolClerk,
];
/// Those who upload files.
pub const UPLOADERS: &[Role] = &[Role::BureauAdmin, Role::BureauAnalyst, Role::SchoolClerk];
/// Accounts and the audit log.
pub const ADMIN: &[Role] = &[Role::BureauAdmin];

/// A route's rule: its method and path (as the router has it), who may use it, and the
/// audit log's name of what it does (empty: not logged, for the stylesheet and icons).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub who: Who,
    pub action: &'static str,
}

impl Rule {
    /// Whether a role passes this rule.
    pub fn admits(&self, role: Option<Role>) -> bool {
        match (self.who, role) {
            (Who::Anyone, _) => true,
            (_, None) => false,
            (Who::SignedIn, Some(_)) => true,
            (Who::Roles(roles), Some(r)) => roles.contains(&r),
        }
    }
}

/// The one asking, as the middleware found them.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The address the request came from.
    pub address: String,
    pub signed: Option<Signed>,
}

/// A signed-in visitor (or the computer's own user of a cockpit without accounts).
#[derive(Debug, Clone)]
pub struct Signed {
    pub account: Account,
    /// The token the session's forms carry.
    pub csrf: String,
    /// The session's cookie token (empty for the computer's own user).
    pub token: String,
}

impl Visitor {
    /// Who reads: the signed-in account's principal.
    pub fn principal(&self) -> Option<Principal> {
        self.signed.as_ref().map(|s| s.account.principal())
    }

    fn role(&self) -> Option<Role> {
        self.signed.as_ref().map(|s| s.account.role)
    }

    /// The principal, or the refusal a handler gives to someone not signed in (the route
    /// rules send them to sign in first, so this is a second lock).
    pub fn require(&self, lang: Lang) -> Result<Principal, AppError> {
        self.principal()
            .ok_or(AppError::Forbidden(lang, "sign_in_needed"))
    }

    /// Whether a form's token is this session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        self.signed.as_ref().is_some_and(|s| {
            !s.csrf.is_empty() && constant_time_eq(s.csrf.as_bytes(), given.as_bytes())
        })
    }

    /// A line of the audit log by this visitor.
    pub fn audit(&self, action: &str, target: &str, scope: &str, outcome: &str) -> AuditEntry {
        let (login, role) = match &self.signed {
            Some(s) => (s.account.login.clone(), s.account.role.name().to_string()),
            None => (String::new(), String::new()),
        };
        AuditEntry {
            at: String::new(),
            login,
            role,
            action: action.into(),
            target: target.into(),
            scope: scope.into(),
            address: self.address.clone(),
            outcome: outcome.into(),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request's headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn lang_of(request: &Request) -> Lang {
    Lang::parse(
        request
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang="))),
    )
}

/// The middleware before every route: finds the visitor's session (or the computer's own
/// user of a cockpit without accounts) and puts the [`Visitor`] in the request.
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".to_string());
    let signed = match cookie(request.headers(), SESSION_COOKIE) {
        Some(token) => match state.accounts.session(&token) {
            Ok(found) => found.map(|s| Signed {
                account: s.account,
                csrf: s.csrf,
                token,
            }),
            Err(e) => return AppError::Internal(lang_of(&request), e.to_string()).into_response(),
        },
        None => None,
    };
    // A request a proxy passed on comes from someone else than this computer's user.
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip", "via"]
        .iter()
        .any(|h| request.headers().contains_key(*h));
    let signed = match signed {
        Some(s) => Some(s),
        None if proxied => None,
        None => match state.open_without_accounts() {
            Ok(true) => Some(Signed {
                account: local_owner(),
                csrf: state.local_csrf.clone(),
                token: String::new(),
            }),
            Ok(false) => None,
            Err(e) => return AppError::Internal(lang_of(&request), e.to_string()).into_response(),
        },
    };
    request.extensions_mut().insert(Visitor { address, signed });
    next.run(request).await
}

/// The computer's own user of a cockpit without accounts.
fn local_owner() -> Account {
    Account {
        id: 0,
        login: "(local)".into(),
        role: Role::BureauAdmin,
        scope: Scope::Bureau,
        disabled: false,
        created: String::new(),
        rows: false,
    }
}

/// The middleware of one route: lets through whom its rule admits, sends someone not signed
/// in to the sign-in page (or refuses a form), refuses the other roles, and logs what was
/// asked and how it ended.
pub async fn require(rule: Rule, state: Arc<AppState>, request: Request, next: Next) -> Response {
    let lang = lang_of(&request);
    let visitor = request
        .extensions()
        .get::<Visitor>()
        .cloned()
        .unwrap_or(Visitor {
            address: "local".into(),
            signed: None,
        });
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let scope = visitor
        .principal()
        .map(|p| scope_text(&p.scope))
        .unwrap_or_default();
    let log = |outcome: &str| {
        if rule.action.is_empty() {
            return;
        }
        if let Err(e) = state
            .accounts
            .audit(&visitor.audit(rule.action, &target, &scope, outcome))
        {
            tracing::error!("audit log: {e}");
        }
    };
    if !rule.admits(visitor.role()) {
        if visitor.signed.is_none() {
            // Sent to sign in (not logged: anyone can ask that of any page, endlessly); a
            // form from someone not signed in is refused and logged.
            if request.method() == Method::GET {
                let next = super::html::enc(&target);
                return Redirect::to(&format!("/login?lang={}&next={next}", lang.code()))
                    .into_response();
            }
            log("refused");
            return AppError::Forbidden(lang, "sign_in_needed").into_response();
        }
        log("refused");
        return AppError::Forbidden(lang, "forbidden_role").into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    log(if status.is_success() || status.is_redirection() {
        "ok"
    } else if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
        "refused"
    } else {
        "failed"
    });
    response
}

/// What the sign-in form sends.
#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub next: String,
    #[serde(default)]
    pub lang: String,
}

/// What the sign-in page is asked.
#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    pub next: Option<String>,
    pub lang: Option<String>,
}

/// Where to go after signing in: a path of the cockpit, never another site.
fn safe_next(next: &str) -> String {
    // A path of the cockpit in the characters its own links use (percent-encoded otherwise):
    // no tab, space or backslash a browser would drop or turn into another site's address.
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_.~%?&=-+".contains(&b))
        && !next.starts_with("/login");
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn random_token() -> String {
    use rand::Rng;
    let mut b = [0u8; 32];
    rand::rng().fill(&mut b[..]);
    hex::encode(b)
}

/// The cookie attributes of this cockpit (`Secure` when it is served over TLS).
fn cookie_attributes(state: &AppState) -> &'static str {
    if state.tls {
        "; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax"
    }
}

fn sign_in_page(state: &AppState, lang: Lang, next: &str, problem: Option<&str>) -> Response {
    let token = random_token();
    let body = format!(
        "{problem}<form class=\"sign-in\" method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <label>{login} <input name=\"login\" autocomplete=\"username\" required autofocus></label>\
         <label>{password} <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">{sign_in}</button></form>",
        problem = problem
            .map(|p| format!("<p class=\"error\">{}</p>", esc(p)))
            .unwrap_or_default(),
        next = esc(&safe_next(next)),
        code = lang.code(),
        login = esc(&t(lang, "login_name")),
        password = esc(&t(lang, "password")),
        sign_in = esc(&t(lang, "sign_in")),
    );
    let mut response = Html(html::bare(lang, &t(lang, "sign_in"), &body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SIGN_IN_COOKIE}={token}{}; Max-Age=3600",
        cookie_attributes(state).replace("SameSite=Lax", "SameSite=Strict")
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The sign-in page saying to try again after `seconds` (HTTP 429, `Retry-After`).
fn throttled(state: &AppState, lang: Lang, next: &str, seconds: u64) -> Response {
    let minutes = seconds.div_ceil(60).to_string();
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        sign_in_page(
            state,
            lang,
            next,
            Some(&t(lang, "sign_in_throttled").replace("{}", &minutes)),
        ),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// `GET /login`: the sign-in form (someone signed in goes on).
pub async fn sign_in_form(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<Visitor>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let lang = Lang::parse(q.lang.as_deref());
    let next = q.next.unwrap_or_default();
    if visitor.signed.as_ref().is_some_and(|s| !s.token.is_empty()) {
        return Redirect::to(&safe_next(&next)).into_response();
    }
    sign_in_page(&state, lang, &next, None)
}

/// `POST /login`: checks the form's token, the throttle and the password; a new session
/// (never the one the browser came with) and on to where the visitor was going.
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<Visitor>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::parse(Some(form.lang.as_str()));
    let audit = |outcome: &str| {
        let mut entry = visitor.audit("sign_in", &form.login, "", outcome);
        entry.login = form.login.chars().take(64).collect();
        if let Err(e) = state.accounts.audit(&entry) {
            tracing::error!("audit log: {e}");
        }
    };
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        audit("refused");
        return (
            StatusCode::FORBIDDEN,
            sign_in_page(&state, lang, &form.next, Some(&t(lang, "forbidden_csrf"))),
        )
            .into_response();
    }
    // A session the browser came with ends: the new one never reuses its token.
    if let Some(s) = &visitor.signed {
        if !s.token.is_empty() {
            let _ = state.accounts.sign_out(&s.token);
        }
    }
    // Password hashing takes time and memory (argon2id): a few at a time, the rest told to
    // try again.
    let Ok(_hashing) = SIGNING_IN.try_acquire() else {
        audit("throttled");
        return throttled(&state, lang, &form.next, 5);
    };
    let accounts = state.clone();
    let (login, password, address) = (
        form.login.clone(),
        form.password.clone(),
        visitor.address.clone(),
    );
    let outcome =
        tokio::task::spawn_blocking(move || accounts.accounts.sign_in(&login, &password, &address))
            .await;
    match outcome {
        Ok(Ok(SignIn::Started(account, session))) => {
            let mut entry =
                visitor.audit("sign_in", &account.login, &scope_text(&account.scope), "ok");
            entry.login = account.login.clone();
            entry.role = account.role.name().into();
            if let Err(e) = state.accounts.audit(&entry) {
                tracing::error!("audit log: {e}");
            }
            let mut response = Redirect::to(&safe_next(&form.next)).into_response();
            let max_age = crate::accounts::LIFETIME.as_secs();
            for c in [
                format!(
                    "{SESSION_COOKIE}={}{}; Max-Age={max_age}",
                    session.token,
                    cookie_attributes(&state)
                ),
                format!("{SIGN_IN_COOKIE}=; Path=/; Max-Age=0"),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Ok(Ok(SignIn::Refused)) => {
            audit("refused");
            (
                StatusCode::UNAUTHORIZED,
                sign_in_page(&state, lang, &form.next, Some(&t(lang, "sign_in_refused"))),
            )
                .into_response()
        }
        Ok(Ok(SignIn::Throttled(seconds))) => {
            audit("throttled");
            throttled(&state, lang, &form.next, seconds)
        }
        Ok(Err(e)) => AppError::Internal(lang, e.to_string()).into_response(),
        Err(e) => AppError::Internal(lang, e.to_string()).into_response(),
    }
}

/// What the sign-out form sends.
#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub lang: String,
}

/// `POST /logout`: ends the session.
pub async fn sign_out(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<Visitor>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(Some(form.lang.as_str()));
    if !visitor.csrf_ok(&form.csrf) {
        return Err(AppError::Forbidden(lang, "forbidden_csrf"));
    }
    if let Some(s) = &visitor.signed {
        if !s.token.is_empty() {
            state
                .accounts
                .sign_out(&s.token)
                .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        }
    }
    let mut response = Redirect::to(&format!("/login?lang={}", lang.code())).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{SESSION_COOKIE}=; Path=/; Max-Age=0")) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Where a principal's cockpit starts: the bureau's overview, its district's or school's
/// page, or (a researcher) its account page with what it may query.
pub fn home(who: &Principal) -> String {
    match (&who.role, &who.scope) {
        (Role::Researcher, _) => "/account".into(),
        (_, Scope::Bureau) => "/".into(),
        (_, Scope::District(d)) => format!("/district/{}", html::enc(d)),
        (_, Scope::School(s)) => format!("/school/{}", html::enc(s)),
    }
}

/// The navigation a principal sees: the pages of the table its role may open.
pub fn nav(who: &Principal) -> Vec<(&'static str, &'static str)> {
    [
        ("/", "nav_overview"),
        ("/reporting", "nav_reporting"),
        ("/notices", "nav_notices"),
        ("/data", "nav_data"),
        ("/upload", "nav_upload"),
        ("/account", "nav_account"),
    ]
    .into_iter()
    .filter(|(path, _)| {
        super::route_table()
            .iter()
            .any(|r| r.method == "GET" && r.path == *path && r.admits(Some(who.role)))
    })
    .collect()
}

/// Refuses a principal a scope outside its own (a district officer another district, a
/// clerk another school); what is refused is not said to exist or not.
pub async fn check_scope(
    state: &AppState,
    who: &Principal,
    scope: &Scope,
    lang: Lang,
) -> Result<(), AppError> {
    let layer = state.layer().await;
    match layer.allows(who, scope).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::Forbidden(lang, "forbidden_scope")),
        Err(e) => Err(AppError::Internal(lang, e.to_string())),
    }
}

/// The words of a role.
pub fn role_name(lang: Lang, role: Role) -> String {
    t(lang, &format!("role_{}", role.name()))
}

/// The words of a scope.
pub fn scope_name(lang: Lang, scope: &Scope) -> String {
    match scope {
        Scope::Bureau => t(lang, "scope_bureau"),
        Scope::District(d) => d.clone(),
        Scope::School(s) => s.clone(),
    }
}

/// `GET /account`: who is signed in, the sign-out form, and (for the administrator) the
/// audit log.
pub async fn account(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<Visitor>,
    Query(q): Query<SignInQuery>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(q.lang.as_deref());
    let Some(signed) = &visitor.signed else {
        return Err(AppError::Forbidden(lang, "sign_in_needed"));
    };
    let a = &signed.account;
    let mut body = html::table(
        &[t(lang, "login_name"), t(lang, "role"), t(lang, "scope")],
        &[vec![
            esc(&a.login),
            esc(&role_name(lang, a.role)),
            esc(&scope_name(lang, &a.scope)),
        ]],
    );
    if signed.token.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>",
            esc(&t(lang, "local_mode"))
        ));
    } else {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"lang\" value=\"{}\"><button type=\"submit\">{}</button></form>",
            esc(&signed.csrf),
            lang.code(),
            esc(&t(lang, "sign_out"))
        ));
    }
    if a.role == Role::BureauAdmin {
        body.push_str(&format!(
            "<p>{} · {}</p>",
            html::link(
                &format!("/audit?lang={}", lang.code()),
                &t(lang, "nav_audit")
            ),
            html::link(
                &format!("/users?lang={}", lang.code()),
                &t(lang, "users_title")
            )
        ));
    }
    // Its SQL: a form for the query endpoint, and the tables it may name.
    let tables = state
        .layer()
        .await
        .tables_for(&a.principal())
        .await
        .map_err(|e| AppError::Internal(lang, e.to_string()))?;
    let list: String = tables
        .iter()
        .map(|n| format!("<code>{}</code> ", esc(n)))
        .collect();
    body.push_str(&format!(
        "<section><h2>{title}</h2><form class=\"sql\" method=\"get\" action=\"/sql\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <textarea name=\"q\" rows=\"4\" required>{example}</textarea>\
         {formats}\
         <button type=\"submit\">{run}</button></form><p class=\"hint\">{hint}</p><p class=\"tables\">{list}</p></section>",
        title = esc(&t(lang, "sql_title")),
        code = lang.code(),
        run = esc(&t(lang, "sql_run")),
        hint = esc(&t(lang, "sql_hint")),
        example = esc(edulake_transform::reads::VIEW_EXAMPLE),
        formats = super::html::select(
            "format",
            &[("csv".into(), "CSV".into()), ("json".into(), "JSON".into())],
            "csv",
            false
        ),
    ));
    Ok(Html(html::bare(lang, &t(lang, "account_title"), &body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_the_cockpit_are_gone_on_to() {
        assert_eq!(safe_next("/school/S001?lang=en"), "/school/S001?lang=en");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "",
            "/login?next=/",
            "/\t/evil.example",
            "/ /evil.example",
            "/%0d%0aSet-Cookie:x",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }

    #[test]
    fn rules() {
        let r = Rule {
            method: "GET",
            path: "/x",
            who: Who::Roles(OFFICIALS),
            action: "page",
        };
        assert!(r.admits(Some(Role::DistrictOfficer)));
        assert!(!r.admits(Some(Role::SchoolClerk)));
        assert!(!r.admits(None));
    }
}
