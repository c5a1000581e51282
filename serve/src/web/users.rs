//! `/users`: the bureau's administrator manages accounts in the cockpit, as `edulake users`
//! does on the command line: the list, a form to add one (its password shown once, on the
//! answer), and for each account a button to disable it or give it a new password. Every
//! form carries the session's token; every change is in the audit log.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use edulake_transform::access::{Principal, Role};
use edulake_transform::reads::Scope;

use crate::accounts::{scope_text, Account};

use super::auth::{role_name, scope_name, Visitor};
use super::html::{self, esc};
use super::i18n::{t, Lang};
use super::{AppError, AppState};

#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    pub lang: Option<String>,
}

/// What the forms of the page send.
#[derive(Debug, Default, Deserialize)]
pub struct UsersForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub lang: String,
    /// `add`, `disable` or `reset`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub role: String,
    /// A school code or district name, as the role needs.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub rows: Option<String>,
}

const ROLES: [Role; 5] = [
    Role::BureauAdmin,
    Role::BureauAnalyst,
    Role::DistrictOfficer,
    Role::SchoolClerk,
    Role::Researcher,
];

fn page(lang: Lang, visitor: &Visitor, accounts: &[Account], notice: &str) -> String {
    let csrf = visitor
        .signed
        .as_ref()
        .map(|s| s.csrf.clone())
        .unwrap_or_default();
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">",
        esc(&csrf),
        lang.code()
    );
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            let button = |action: &str, key: &str| {
                format!(
                    "<form class=\"inline\" method=\"post\" action=\"/users\">{hidden}\
                     <input type=\"hidden\" name=\"action\" value=\"{action}\">\
                     <input type=\"hidden\" name=\"login\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                    esc(&a.login),
                    esc(&t(lang, key))
                )
            };
            vec![
                esc(&a.login),
                esc(&role_name(lang, a.role)),
                esc(&scope_name(lang, &a.scope)),
                esc(&t(lang, if a.disabled { "users_disabled" } else { "users_active" })),
                format!(
                    "{}{}",
                    if a.disabled {
                        String::new()
                    } else {
                        button("disable", "users_disable")
                    },
                    button("reset", "users_reset")
                ),
            ]
        })
        .collect();
    let roles: Vec<(String, String)> = ROLES
        .iter()
        .map(|r| (r.name().to_string(), role_name(lang, *r)))
        .collect();
    let options = html::select("role", &roles, "", false);
    format!(
        "{notice}{table}<section><h2>{add}</h2><form class=\"sign-in\" method=\"post\" action=\"/users\">{hidden}\
         <input type=\"hidden\" name=\"action\" value=\"add\">\
         <label>{login} <input name=\"login\" required autocomplete=\"off\"></label>\
         <label>{role} {options}</label>\
         <label>{scope} <input name=\"scope\" autocomplete=\"off\" placeholder=\"{scope_hint}\"></label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"rows\" value=\"1\"> {rows}</label>\
         <button type=\"submit\">{add}</button></form></section>",
        table = html::table(
            &[
                t(lang, "login_name"),
                t(lang, "role"),
                t(lang, "scope"),
                t(lang, "users_state"),
                String::new(),
            ],
            &rows
        ),
        add = esc(&t(lang, "users_add")),
        login = esc(&t(lang, "login_name")),
        role = esc(&t(lang, "role")),
        scope = esc(&t(lang, "scope")),
        scope_hint = esc(&t(lang, "users_scope_hint")),
        rows = esc(&t(lang, "users_rows")),
    )
}

fn answer(
    lang: Lang,
    visitor: &Visitor,
    state: &AppState,
    notice: &str,
) -> Result<Response, AppError> {
    let accounts = state
        .accounts
        .list()
        .map_err(|e| AppError::Internal(lang, e.to_string()))?;
    Ok(Html(html::bare(
        lang,
        &t(lang, "users_title"),
        &page(lang, visitor, &accounts, notice),
    ))
    .into_response())
}

/// `GET /users`.
pub async fn users(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(q): Query<UsersQuery>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(q.lang.as_deref());
    answer(lang, &visitor, &state, "")
}

/// `POST /users`: adds, disables or resets an account.
pub async fn change(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Form(form): Form<UsersForm>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(Some(form.lang.as_str()));
    if !visitor.csrf_ok(&form.csrf) {
        return Err(AppError::Forbidden(lang, "forbidden_csrf"));
    }
    let login = form.login.trim().to_string();
    let accounts = state.clone();
    let outcome = match form.action.as_str() {
        "add" => {
            let role = Role::parse(&form.role)
                .ok_or_else(|| AppError::BadRequest(lang, format!("role '{}'", form.role)))?;
            let place = form.scope.trim().to_string();
            let scope = match role {
                Role::BureauAdmin | Role::BureauAnalyst => Scope::Bureau,
                Role::DistrictOfficer => Scope::District(place),
                Role::SchoolClerk => Scope::School(place.to_ascii_uppercase()),
                Role::Researcher if place.is_empty() => Scope::Bureau,
                // A researcher's scope: a school code if the registry knows it as one, else a
                // district.
                Role::Researcher => {
                    let code = place.to_ascii_uppercase();
                    let layer = state.layer().await;
                    match layer.school(&code).await {
                        Ok(Some(_)) => Scope::School(code),
                        _ => Scope::District(place),
                    }
                }
            };
            let known = match &scope {
                Scope::Bureau => true,
                s => state
                    .layer()
                    .await
                    .scope_is_known(s)
                    .await
                    .map_err(|e| AppError::Internal(lang, e.to_string()))?,
            };
            if !known {
                return Err(AppError::BadRequest(
                    lang,
                    format!("{}: {}", t(lang, "scope"), form.scope.trim()),
                ));
            }
            let who = Principal::new(role, scope)
                .and_then(|p| p.with_rows(form.rows.is_some()))
                .map_err(|e| AppError::BadRequest(lang, e.to_string()))?;
            let target = format!("{login} {} {}", role.name(), scope_text(&who.scope));
            let added =
                tokio::task::spawn_blocking(move || accounts.accounts.add(&login, &who, None))
                    .await
                    .map_err(|e| AppError::Internal(lang, e.to_string()))?;
            ("account_add", target, added)
        }
        "disable" => {
            // The administrator does not lock itself out.
            let own = visitor
                .signed
                .as_ref()
                .is_some_and(|s| s.account.login == login);
            let done = if own {
                Err(crate::accounts::AccountError::Invalid(t(
                    lang,
                    "users_not_self",
                )))
            } else {
                state.accounts.disable(&login).map(|_| String::new())
            };
            ("account_disable", login.clone(), done)
        }
        "reset" => {
            let l = login.clone();
            let reset =
                tokio::task::spawn_blocking(move || accounts.accounts.reset_password(&l, None))
                    .await
                    .map_err(|e| AppError::Internal(lang, e.to_string()))?;
            ("account_reset_password", login.clone(), reset)
        }
        other => return Err(AppError::BadRequest(lang, format!("action '{other}'"))),
    };
    let (action, target, result) = outcome;
    let (notice, outcome) = match &result {
        Ok(password) if !password.is_empty() => (
            format!(
                "<p class=\"ok\">{} <code class=\"password\">{}</code></p>",
                esc(&t(lang, "users_password_once").replace("{}", &form.login)),
                esc(password)
            ),
            "ok",
        ),
        Ok(_) => (
            format!("<p class=\"ok\">{}</p>", esc(&t(lang, "users_done"))),
            "ok",
        ),
        Err(e) => (
            format!("<p class=\"error\">{}</p>", esc(&e.to_string())),
            "refused",
        ),
    };
    if let Err(e) = state
        .accounts
        .audit(&visitor.audit(action, &target, "bureau", outcome))
    {
        tracing::error!("audit log: {e}");
    }
    answer(lang, &visitor, &state, &notice)
}
