//! Who may talk to the cockpit from a browser.
//!
//! - **Host**: every request must name the cockpit by a name it answers to: the address it is
//!   served on (`localhost` with it, for a loopback address), any IP address when it listens
//!   on all of them, and the names in `EDULAKE_ALLOWED_HOSTS` (comma-separated; the name a
//!   bureau's users type, or a reverse proxy sends). A page on another site whose name is made
//!   to resolve to the cockpit's address (DNS rebinding) sends its own name, and is refused.
//! - **Origin**: a form sent (POST) from a page of another site is refused: its `Origin` (or
//!   `Sec-Fetch-Site`, or `Referer`) must be the cockpit itself.
//! - **Headers** on every answer ([`secure_headers`]): a content security policy that runs
//!   no script at all and lets no other site frame the cockpit, `nosniff`, a referrer policy
//!   that sends no address to other sites, and no caching of pages by anyone but the browser.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::i18n::Lang;
use super::{AppError, AppState};

/// The names the cockpit answers to.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// Host names and addresses, lower case, without a port.
    names: Vec<String>,
    /// Whether any IP address is the cockpit's (it listens on all of them).
    any_ip: bool,
}

impl AllowedHosts {
    /// The names of a cockpit served on `addr`, with those of `EDULAKE_ALLOWED_HOSTS`.
    pub fn for_address(addr: SocketAddr) -> AllowedHosts {
        let mut names: Vec<String> = std::env::var("EDULAKE_ALLOWED_HOSTS")
            .unwrap_or_default()
            .split(',')
            .map(|n| strip_port(n.trim()).to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        let ip = addr.ip();
        names.push(ip.to_string());
        if ip.is_loopback() || ip.is_unspecified() {
            names.extend(["localhost".into(), "127.0.0.1".into(), "::1".into()]);
        }
        AllowedHosts {
            names,
            any_ip: ip.is_unspecified(),
        }
    }

    /// Whether a `Host` header names the cockpit.
    pub fn allows(&self, host: &str) -> bool {
        let name = strip_port(host.trim()).to_ascii_lowercase();
        let name = name.trim_start_matches('[').trim_end_matches(']');
        self.names.iter().any(|n| n == name) || (self.any_ip && name.parse::<IpAddr>().is_ok())
    }
}

/// `host:port` → `host`; `[::1]:8080` → `[::1]`; a bare IPv6 address is kept whole.
fn strip_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The middleware: refuses a request naming another host, and a form from another site.
pub async fn check(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let lang = Lang::parse(
        request
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang="))),
    );
    let headers = request.headers();
    let host = match headers.get(header::HOST) {
        // A name no browser sends (bytes that are not text) names no cockpit.
        Some(h) => match h.to_str() {
            Ok(h) => Some(h.to_string()),
            Err(_) => return AppError::Forbidden(lang, "forbidden_host").into_response(),
        },
        None => request.uri().authority().map(|a| a.to_string()),
    };
    if let Some(host) = &host {
        if !state.allowed_hosts.allows(host) {
            tracing::warn!("refused a request for host {host:?}");
            return AppError::Forbidden(lang, "forbidden_host").into_response();
        }
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        if let Some(host) = &host {
            if !same_origin(headers, host) {
                tracing::warn!("refused a {} from another site", request.method());
                return AppError::Forbidden(lang, "forbidden_origin").into_response();
            }
        }
    }
    next.run(request).await
}

/// The content security policy: nothing but the cockpit's own stylesheet and images; no
/// script, no frames, forms only to the cockpit.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The middleware that puts the security headers on every answer.
pub async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        h.insert(name, axum::http::HeaderValue::from_static(value));
    }
    // What a signed-in user sees is theirs: kept by no proxy (the stylesheet and icons say
    // their own caching).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// Whether a request that changes something comes from the cockpit's own pages.
fn same_origin(headers: &HeaderMap, host: &str) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let ours = |origin: &str| {
        let rest = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        rest.is_some_and(|r| r.trim_end_matches('/').eq_ignore_ascii_case(host))
    };
    if let Some(origin) = text("origin") {
        return ours(origin);
    }
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    if let Some(referer) = text("referer") {
        let origin: String = referer.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        return ours(&origin);
    }
    // No browser sends a form without any of these: a script or a command-line client,
    // which no other site can make a user's browser be.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let local = AllowedHosts::for_address("127.0.0.1:8080".parse().unwrap());
        assert!(local.allows("127.0.0.1:8080"));
        assert!(local.allows("localhost:8080"));
        assert!(local.allows("LOCALHOST"));
        assert!(local.allows("[::1]:8080"));
        assert!(!local.allows("evil.example:8080"));
        assert!(!local.allows("10.0.0.5:8080"));
        let all = AllowedHosts::for_address("0.0.0.0:8080".parse().unwrap());
        assert!(all.allows("10.0.0.5:8080"));
        assert!(all.allows("[fe80::1]:8080"));
        assert!(!all.allows("attacker.example"));
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h, "127.0.0.1:8080"));
        h.insert("origin", "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h, "127.0.0.1:8080"));
        h.insert("origin", "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h, "127.0.0.1:8080"));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h, "127.0.0.1:8080"));
        let mut h = HeaderMap::new();
        h.insert("referer", "http://evil.example/form".parse().unwrap());
        assert!(!same_origin(&h, "127.0.0.1:8080"));
        h.insert(
            "referer",
            "http://127.0.0.1:8080/upload?lang=zh".parse().unwrap(),
        );
        assert!(same_origin(&h, "127.0.0.1:8080"));
    }
}
