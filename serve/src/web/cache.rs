//! The cockpit's page cache: a page is rendered once for what it shows and kept, gzipped once;
//! after a refresh, the pages clerks and officials look at first are rendered ahead.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, Uri};
use axum::response::{IntoResponse, Response};

use super::html::enc;
use super::pages::{scope_page, view_of, Params, Scope};
use super::{AppError, AppState, View};

use edulake_transform::access::Principal;
use edulake_transform::reads::Scope as ReadScope;

/// A rendered page from the cache, or rendered now and kept. Pages are kept by what they
/// show: the path and the parameters a page reads, the range as resolved (clamped to the
/// data); a parameter no page reads does not make another page.
pub(super) async fn cached_page<F, Fut>(
    state: &AppState,
    who: &Principal,
    uri: &Uri,
    params: &Params,
    headers: &HeaderMap,
    render: F,
) -> Result<Response, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<String, AppError>>,
{
    let layer = state.layer().await;
    let (view, _) = view_of(&layer, who, params, uri.path()).await?;
    drop(layer);
    let key = page_key(uri.path(), &view, params) + &super::sources::quiet_key(state, uri.path());
    let cell = state.page_cell(&key).await;
    let page = cell
        .get_or_try_init(|| async { Ok::<_, AppError>(Rendered::new(render().await?)) })
        .await;
    match page {
        Ok(page) => Ok(page.respond(headers)),
        Err(e) => {
            // A page that could not be made (an unknown district, say) takes no place.
            state.forget_page(&key).await;
            Err(e)
        }
    }
}

/// The cache's key of a page: its path, language and range, and the parameters that page
/// reads (the notices page its notice, the data and reporting pages their district or
/// school).
pub(super) fn page_key(path: &str, view: &View, params: &Params) -> String {
    let given = |v: &Option<String>, reads: bool| {
        if reads {
            v.as_deref().unwrap_or("").trim().to_string()
        } else {
            String::new()
        }
    };
    // Pages differ by who they are for (their navigation, and what a role may see).
    format!(
        "{}|{}|{path}|{}|{}|{}|{}|{}|{}|{}|{}",
        match view.who.role {
            edulake_transform::access::Role::BureauAdmin
            | edulake_transform::access::Role::BureauAnalyst => "bureau",
            other => other.name(),
        },
        crate::accounts::scope_text(&view.who.scope),
        view.lang.code(),
        view.from,
        view.to,
        given(&params.notice, path == "/notices"),
        given(&params.district, matches!(path, "/data" | "/reporting")),
        given(&params.school, matches!(path, "/data" | "/reporting")),
        given(&params.page, path == "/data"),
        view.filters_query()
    )
}

/// A page as rendered, and gzipped once for the browsers that take it (every browser does;
/// a slow government network notices).
#[derive(Clone)]
pub struct Rendered {
    plain: Bytes,
    gzip: Bytes,
}

impl Rendered {
    pub fn new(page: String) -> Rendered {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let gzip = gz
            .write_all(page.as_bytes())
            .and_then(|_| gz.finish())
            .unwrap_or_default();
        Rendered {
            plain: Bytes::from(page),
            gzip: Bytes::from(gzip),
        }
    }

    pub fn size(&self) -> usize {
        self.plain.len() + self.gzip.len()
    }

    fn respond(&self, headers: &HeaderMap) -> Response {
        let gzip_ok = !self.gzip.is_empty()
            && headers
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        let html = (header::CONTENT_TYPE, "text/html; charset=utf-8");
        let vary = (header::VARY, "accept-encoding");
        if gzip_ok {
            (
                [html, vary, (header::CONTENT_ENCODING, "gzip")],
                self.gzip.clone(),
            )
                .into_response()
        } else {
            ([html, vary], self.plain.clone()).into_response()
        }
    }
}

/// Renders these schools' pages, then the overview (Chinese, default range) into the cache,
/// as requests for them would: the schools first, side by side, for the clerks who just
/// uploaded and are looking; the overview after them, with both cores to itself.
pub(super) async fn prerender(state: &AppState, schools: &[String]) {
    let pages: Vec<(String, Scope)> = schools
        .iter()
        .map(|code| {
            (
                format!("/school/{}", enc(code)),
                Scope::School(code.clone()),
            )
        })
        .collect();
    render_all(state, pages).await;
    render_all(state, vec![("/".to_string(), Scope::Bureau)]).await;
}

/// Renders pages into the cache side by side.
async fn render_all(state: &AppState, pages: Vec<(String, Scope)>) {
    if pages.is_empty() {
        return;
    }
    let layer = state.layer().await;
    // Rendered for the bureau's roles (the same pages for both).
    let Ok(who) = Principal::new(
        edulake_transform::access::Role::BureauAnalyst,
        ReadScope::Bureau,
    ) else {
        return;
    };
    let Ok((view, _)) = view_of(&layer, &who, &Params::default(), "/").await else {
        return;
    };
    drop(layer);
    let (view, who) = (&view, &who);
    let renders = pages.into_iter().map(|(path, scope)| async move {
        let cell = state
            .page_cell(
                &(page_key(&path, view, &Params::default())
                    + &super::sources::quiet_key(state, &path)),
            )
            .await;
        let rendered = cell
            .get_or_try_init(|| async {
                let page = scope_page(state, who, &Params::default(), &path, scope).await?;
                Ok::<_, AppError>(Rendered::new(page))
            })
            .await;
        if let Err(e) = rendered {
            tracing::warn!("cockpit: rendering {path}: {e:?}");
        }
    });
    futures::future::join_all(renders).await;
}
