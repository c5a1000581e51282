//! A browser for the cockpit's tests, without a socket: a session (cookie and form token),
//! requests through the router, the upload form as a browser sends it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use tower::ServiceExt;

use edulake_serve::web::{app, AppState};
use edulake_transform::access::{Principal, Role};
use edulake_transform::reads::Scope;

/// A signed-in browser: its session cookie and its forms' token.
#[derive(Clone)]
pub(crate) struct Browser {
    pub(crate) cookie: Option<String>,
    pub(crate) csrf: String,
}

impl Browser {
    pub(crate) fn anonymous() -> Browser {
        Browser {
            cookie: None,
            csrf: String::new(),
        }
    }
}

/// An account of the role and scope, signed in (its session started as a sign-in would).
pub(crate) fn signed_in(state: &AppState, login: &str, role: Role, scope: Scope) -> Browser {
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

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

pub(crate) async fn send(
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

pub(crate) async fn get(state: &Arc<AppState>, browser: &Browser, uri: &str) -> Answer {
    send(state, browser, "GET", uri, None, Vec::new()).await
}

/// The upload form of a browser: its token first, then the fields, then one file.
pub(crate) fn upload_form(csrf: &str, fields: &[(&str, &str)], file: &str) -> (String, Vec<u8>) {
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

pub(crate) fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Stops a server when the test ends, passed or not.
pub(crate) struct Server(pub(crate) std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
