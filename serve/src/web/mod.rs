//! The cockpit (数字驾驶舱): server-rendered pages over the query layer.
//!
//! # Layout
//! - [`app`]: the router; tests call it without a socket.
//! - [`AppState`]: the lake, the query layer in use and the pages already rendered; a
//!   watcher ([`watch`]) builds the marts and swaps in a fresh layer when the lake changes.
//! - [`pages`]: the overview, district and school pages and the downloads; [`class`]: a
//!   class's page.
//! - [`tiles`]: the tiles and trends at the top of the overview, district and school pages.
//! - [`download`]: the CSV and Excel downloads of every chart and table.
//! - [`notices`]: 通知查阅, read rates of each notice by school.
//! - [`reporting`]: 上报情况, how completely a scope reports over time, and whom to remind
//!   (the 催报 list of schools the overview shows too).
//! - [`data`]: 数据报送 (what each school sent and when) and reject reports; [`sources`]: the
//!   sources pulled beside the cockpit, and the ones gone quiet.
//! - [`templates`]: a file to fill in for every dataset and shape a clerk may upload.
//! - [`upload`]: the clerks' upload page (which platform's export a file is, or told from its
//!   headers); [`preview`]: its files read and shown before anything is stored, then
//!   confirmed or cancelled by the account that sent them.
//! - [`cache`]: pages rendered once for what they show, gzipped once; the pages rendered ahead
//!   after a refresh (the uploaded schools', then the overview).
//! - [`query`]: the SQL endpoint, each query in a process of its own.
//! - [`html`], [`charts`], [`i18n`]: the page frame, its filters and tables, SVG charts, and
//!   the words (from the one catalogue, `edulake_schemas::words`).
//! - [`map`]: the map of a scope's schools over its districts' boundaries.
//! - [`guard`]: the hosts the cockpit answers to, and forms only from its own pages.
//! - [`auth`]: sessions, the rule of each route ([`routes`] is the one table of routes and
//!   rules), signing in and out; [`audit`]: the audit log's page; [`users`]: accounts.
//! - [`tls`]: serving over TLS (rustls) with a certificate and key given by flags.
//! - [`AppError`]: the one error type of the handlers, turned into a page in one place.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod charts;
pub mod class;
pub mod data;
pub mod download;
pub mod guard;
pub mod html;
pub mod i18n;
pub mod map;
pub mod notices;
pub mod pages;
pub mod preview;
pub mod query;
pub mod reporting;
pub mod school;
pub mod sources;
pub mod templates;
pub mod tiles;
pub mod tls;
pub mod upload;
pub mod users;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use chrono::NaiveDate;
use tokio::sync::{Mutex, OnceCell, RwLock};

use edulake_ingest::{Lake, StateDir};

use crate::accounts::Accounts;
use edulake_transform::QueryLayer;

use i18n::{t, Lang};

/// What every handler shares.
pub struct AppState {
    /// The lake uploads are written to.
    pub lake: Lake,
    /// The same lake as every read sees it (transform's handle).
    pub reader: edulake_transform::Lake,
    /// Keys, reject reports and uploads in progress: never served as they are.
    pub state: StateDir,
    layer: RwLock<Arc<QueryLayer>>,
    /// Pages rendered (or being rendered) since the lake last changed, by their URI: a page
    /// asked for by many at once is rendered once, the others wait for it.
    rendered: Mutex<HashMap<String, Arc<OnceCell<pages::Rendered>>>>,
    /// The raw tables' versions the layer was opened at; held while refreshing, so that
    /// one refresh runs at a time.
    versions: Mutex<Vec<i64>>,
    /// One upload ingested at a time.
    uploading: Mutex<()>,
    /// Uploads being received (written to disk) at once.
    receiving: Arc<tokio::sync::Semaphore>,
    /// The names a request may call the cockpit by.
    pub allowed_hosts: guard::AllowedHosts,
    /// The program a query typed over the web runs in (`edulake` itself), and how many may
    /// run at once.
    query_program: std::path::PathBuf,
    queries: Arc<tokio::sync::Semaphore>,
    /// Accounts, sessions and the audit log.
    pub accounts: Accounts,
    /// Whether the cockpit is served on a loopback address only.
    loopback: bool,
    /// Whether it is served over TLS (cookies are then `Secure`).
    pub tls: bool,
    /// The forms' token of the computer's own user while there are no accounts.
    local_csrf: String,
    /// Whether an account was seen to exist.
    accounts_exist: std::sync::atomic::AtomicBool,
    /// The sources pulled beside the cockpit (`edulake serve --sources`).
    sources: std::sync::OnceLock<Vec<edulake_ingest::pull::Source>>,
}

/// How the cockpit is served: the names it answers to and the program queries run in.
pub struct Serving {
    pub allowed_hosts: guard::AllowedHosts,
    /// `edulake` (this binary, when serving).
    pub query_program: std::path::PathBuf,
    /// Served on a loopback address only.
    pub loopback: bool,
    pub tls: bool,
}

impl Serving {
    /// A cockpit served on `addr` by this binary.
    pub fn at(addr: std::net::SocketAddr) -> anyhow::Result<Serving> {
        Ok(Serving {
            allowed_hosts: guard::AllowedHosts::for_address(addr),
            query_program: std::env::current_exe()?,
            loopback: addr.ip().is_loopback(),
            tls: false,
        })
    }
}

impl AppState {
    /// Opens the lake for serving.
    pub async fn open(
        lake: Lake,
        state: StateDir,
        serving: Serving,
    ) -> anyhow::Result<Arc<AppState>> {
        upload::remove_stale_uploads(&state);
        preview::remove_stale(&state);
        let accounts = Accounts::open(state.root())?;
        if !serving.loopback && !accounts.has_admin()? {
            anyhow::bail!(
                "the cockpit serves another address than this computer's only with an administrator account: create one with `edulake users add LOGIN --role bureau_admin`"
            );
        }
        let reader = edulake_transform::Lake::open(lake.root().as_str())?;
        let layer = QueryLayer::open(&reader).await?;
        let versions = raw_versions(&reader).await?;
        Ok(Arc::new(AppState {
            lake,
            reader,
            state,
            layer: RwLock::new(Arc::new(layer)),
            rendered: Mutex::new(HashMap::new()),
            versions: Mutex::new(versions),
            uploading: Mutex::new(()),
            receiving: Arc::new(tokio::sync::Semaphore::new(upload::RECEIVING_AT_ONCE)),
            allowed_hosts: serving.allowed_hosts,
            query_program: serving.query_program,
            queries: Arc::new(tokio::sync::Semaphore::new(query::AT_ONCE)),
            accounts,
            loopback: serving.loopback,
            tls: serving.tls,
            local_csrf: crate::accounts::generate_password(),
            accounts_exist: std::sync::atomic::AtomicBool::new(false),
            sources: Default::default(),
        }))
    }

    /// Whether the cockpit answers without signing in: no account exists yet and it is
    /// served on a loopback address (its computer's own user).
    pub fn open_without_accounts(&self) -> Result<bool, crate::accounts::AccountError> {
        use std::sync::atomic::Ordering;
        // Accounts are disabled, never deleted: once there is one, there always is.
        if !self.loopback || self.accounts_exist.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let any = self.accounts.any()?;
        self.accounts_exist.store(any, Ordering::Relaxed);
        Ok(!any)
    }

    /// The query layer in use.
    pub async fn layer(&self) -> Arc<QueryLayer> {
        self.layer.read().await.clone()
    }

    /// If the lake changed since the layer was opened: builds the marts, reads through the
    /// session that built them (each mart fresh) and forgets the rendered pages. Returns whether it changed.
    pub async fn refresh(&self) -> anyhow::Result<bool> {
        let mut versions = self.versions.lock().await;
        let now = raw_versions(&self.reader).await?;
        if *versions == now {
            return Ok(false);
        }
        let started = std::time::Instant::now();
        tracing::debug!("cockpit refresh: the lake changed");
        let previous = self.layer().await;
        let (built, layer, replaced) = edulake_transform::marts::build_and_open(
            &self.reader,
            Default::default(),
            Some(&previous),
            |b| {
                if b.work != edulake_transform::marts::Work::Fresh {
                    tracing::debug!("cockpit refresh: built {} in {:.2} s", b.name, b.seconds);
                }
            },
        )
        .await?;
        let build_s = started.elapsed().as_secs_f64();
        // The schools whose rows alone changed (an upload): their pages are rendered at once,
        // beside the overview, for the clerk who is looking.
        let mut schools: Vec<String> = Vec::new();
        for b in &built {
            if let edulake_transform::marts::Work::Schools { schools: s, .. } = &b.work {
                for code in s {
                    if !schools.contains(code) {
                        schools.push(code.clone());
                    }
                }
            }
        }
        schools.truncate(4);
        *self.layer.write().await = Arc::new(layer);
        self.rendered.lock().await.clear();
        *versions = now;
        drop(versions);
        let shown_s = started.elapsed().as_secs_f64();
        // The page every official opens first is ready before anyone asks for it.
        cache::prerender(self, &schools).await;
        // The files the build replaced go once no page still being answered from the session
        // before reads them (or after a minute, when a reader is stuck).
        let waited = std::time::Instant::now();
        while Arc::strong_count(&previous) > 1 && waited.elapsed().as_secs() < 60 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        drop(previous);
        replaced.delete(&self.reader).await?;
        tracing::info!(
            "cockpit refreshed: {} marts rebuilt in {build_s:.2} s, new data shown after {shown_s:.2} s, overview ready after {:.2} s",
            built.iter().filter(|b| !matches!(b.work, edulake_transform::marts::Work::Fresh)).count(),
            started.elapsed().as_secs_f64()
        );
        Ok(true)
    }

    /// The sources pulled beside the cockpit, for the pages that show them.
    pub fn sources(&self) -> &[edulake_ingest::pull::Source] {
        self.sources.get().map(Vec::as_slice).unwrap_or_default()
    }

    /// Sets the sources pulled beside the cockpit (once).
    pub fn set_sources(&self, list: Vec<edulake_ingest::pull::Source>) {
        let _ = self.sources.set(list);
    }

    /// Forgets a page's place in the cache if it holds no page (its render failed).
    async fn forget_page(&self, key: &str) {
        let mut rendered = self.rendered.lock().await;
        if rendered.get(key).is_some_and(|c| c.get().is_none()) {
            rendered.remove(key);
        }
    }

    /// How many pages are kept rendered (or being rendered).
    pub async fn cached_pages(&self) -> usize {
        self.rendered.lock().await.len()
    }

    /// The cache's place for a page: filled already, being filled, or empty.
    async fn page_cell(&self, key: &str) -> Arc<OnceCell<pages::Rendered>> {
        let mut rendered = self.rendered.lock().await;
        if let Some(cell) = rendered.get(key) {
            return cell.clone();
        }
        // A bound on memory: pages of every school in every range would not fit.
        let bytes: usize = rendered
            .values()
            .filter_map(|c| c.get().map(pages::Rendered::size))
            .sum();
        if rendered.len() >= 5_000 || bytes > 512 << 20 {
            rendered.clear();
        }
        let cell = Arc::new(OnceCell::new());
        rendered.insert(key.to_string(), cell.clone());
        cell
    }
}

async fn raw_versions(lake: &edulake_transform::Lake) -> anyhow::Result<Vec<i64>> {
    let mut out = Vec::new();
    // Every raw table: the datasets and the exception registers' (an uploaded register
    // changes the numbers as much as a file of rows).
    for d in edulake_schemas::stored() {
        let v = match lake.load(d.name).await? {
            Some(t) => t.version().map_or(-1, |v| v as i64),
            None => -1,
        };
        out.push(v);
    }
    Ok(out)
}

/// Checks the lake every `every` and refreshes the cockpit when it changed (an upload, an
/// ingest from the command line, a pull).
pub async fn watch(state: Arc<AppState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = state.refresh().await {
            tracing::warn!("cockpit refresh: {e:#}");
        }
    }
}

/// Every route of the cockpit with its rule: who may use it and what the audit log calls
/// it. The router is made from this table, so no route is without a rule.
pub fn routes() -> Vec<(auth::Rule, MethodRouter<Arc<AppState>>)> {
    use auth::{Rule, Who, ADMIN, BUREAU, OFFICIALS, SCHOOL_VIEWERS, UPLOADERS};
    let rule = |method, path, who, action| Rule {
        method,
        path,
        who,
        action,
    };
    vec![
        (
            rule("GET", "/", Who::SignedIn, "page"),
            get(pages::overview),
        ),
        (
            rule("GET", "/district/{name}", Who::Roles(OFFICIALS), "page"),
            get(pages::district),
        ),
        (
            rule("GET", "/school/{code}", Who::Roles(SCHOOL_VIEWERS), "page"),
            get(pages::school),
        ),
        (
            rule(
                "GET",
                "/school/{code}/class/{class}",
                Who::Roles(SCHOOL_VIEWERS),
                "page",
            ),
            get(class::class),
        ),
        (
            rule("GET", "/reporting", Who::Roles(SCHOOL_VIEWERS), "page"),
            get(reporting::reporting),
        ),
        (
            rule("GET", "/notices", Who::Roles(BUREAU), "page"),
            get(notices::notices),
        ),
        (
            rule("GET", "/data", Who::Roles(SCHOOL_VIEWERS), "page"),
            get(data::data),
        ),
        (
            rule("GET", "/template", Who::Roles(UPLOADERS), "download"),
            get(templates::template),
        ),
        (
            rule("GET", "/upload", Who::Roles(UPLOADERS), "page"),
            get(upload::upload_form),
        ),
        (
            rule("POST", "/upload", Who::Roles(UPLOADERS), "upload"),
            post(upload::upload).layer(DefaultBodyLimit::max(upload::UPLOAD_LIMIT)),
        ),
        (
            rule("POST", "/upload/confirm", Who::Roles(UPLOADERS), "upload"),
            post(preview::confirm),
        ),
        (
            rule(
                "POST",
                "/upload/cancel",
                Who::Roles(UPLOADERS),
                "upload_cancel",
            ),
            post(preview::cancel),
        ),
        (
            rule(
                "GET",
                "/rejects/{batch_id}",
                Who::Roles(SCHOOL_VIEWERS),
                "reject_report",
            ),
            get(data::reject_report),
        ),
        (rule("GET", "/sql", Who::SignedIn, "sql"), get(query::sql)),
        (
            rule("GET", "/download", Who::Roles(SCHOOL_VIEWERS), "download"),
            get(download::download),
        ),
        (
            rule("GET", "/audit", Who::Roles(ADMIN), "audit"),
            get(audit::audit),
        ),
        (
            rule("GET", "/users", Who::Roles(ADMIN), "users"),
            get(users::users),
        ),
        (
            rule("POST", "/users", Who::Roles(ADMIN), "account_change"),
            post(users::change),
        ),
        (
            rule("GET", "/account", Who::SignedIn, ""),
            get(auth::account),
        ),
        (
            rule("GET", "/login", Who::Anyone, ""),
            get(auth::sign_in_form),
        ),
        (rule("POST", "/login", Who::Anyone, ""), post(auth::sign_in)),
        (
            rule("POST", "/logout", Who::SignedIn, "sign_out"),
            post(auth::sign_out),
        ),
        (
            rule("GET", "/assets/style.css", Who::Anyone, ""),
            get(style),
        ),
        (rule("GET", "/assets/icon.svg", Who::Anyone, ""), get(icon)),
        (rule("GET", "/favicon.ico", Who::Anyone, ""), get(icon)),
    ]
}

/// The largest body of a request other than an upload (a sign-in form).
pub const FORM_LIMIT: usize = 64 << 10;

/// The rules of [`routes`].
pub fn route_table() -> &'static [auth::Rule] {
    // Read for every page's navigation: made once.
    static RULES: std::sync::OnceLock<Vec<auth::Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| routes().into_iter().map(|(rule, _)| rule).collect())
}

/// The cockpit's routes.
pub fn app(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for (rule, handler) in routes() {
        let checked = handler.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            move |State(state): State<Arc<AppState>>,
                  request: axum::extract::Request,
                  next: axum::middleware::Next| {
                auth::require(rule, state, request, next)
            },
        ));
        router = router.route(rule.path, checked);
    }
    router
        .fallback(not_found)
        // A form other than an upload is a few words.
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .layer(axum::middleware::from_fn(guard::secure_headers))
        .with_state(state)
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::STYLE,
    )
        .into_response()
}

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        html::ICON,
    )
        .into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let lang = Lang::parse(
        uri.query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang="))),
    );
    AppError::NotFound(lang).into_response()
}

/// The date range and language every page honours, and the path it is for.
#[derive(Debug, Clone)]
pub struct View {
    /// Who the page is for (its navigation and links are theirs).
    pub who: edulake_transform::access::Principal,
    pub lang: Lang,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub path: String,
    /// The rows the page keeps: a school type, a grade, a gender.
    pub filters: edulake_transform::indicators::Filters,
}

impl View {
    /// A link to a path of the cockpit keeping this view's language, range and filters.
    pub fn link(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!(
            "{path}{sep}lang={}&from={}&to={}{}",
            self.lang.code(),
            self.from,
            self.to,
            self.filters_query()
        )
    }

    /// The filters as a query's tail (`&grade=7`), empty without any.
    pub fn filters_query(&self) -> String {
        let f = &self.filters;
        let mut out = String::new();
        if let Some(t) = &f.school_type {
            out.push_str(&format!("&school_type={}", html::enc(t)));
        }
        if let Some(g) = f.grade {
            out.push_str(&format!("&grade={g}"));
        }
        if let Some(g) = &f.gender {
            out.push_str(&format!("&gender={}", html::enc(g)));
        }
        out
    }
}

/// Why a request failed, said in the page's language.
#[derive(Debug)]
pub enum AppError {
    /// The request asked for something that is not there.
    NotFound(Lang),
    /// The lake changed under the read (another process's build replaced files it was
    /// reading): a moment later it is answered.
    Busy(Lang, String),
    /// The request is wrong (a bad date, an unknown indicator): the message says how.
    BadRequest(Lang, String),
    /// The request is refused (another host, a form from another site): the catalogue key of
    /// the reason.
    Forbidden(Lang, &'static str),
    /// A failure of ours.
    Internal(Lang, String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, lang, title, detail) = match self {
            AppError::NotFound(lang) => (StatusCode::NOT_FOUND, lang, t(lang, "not_found"), None),
            AppError::BadRequest(lang, msg) => (
                StatusCode::BAD_REQUEST,
                lang,
                t(lang, "bad_request"),
                Some(msg),
            ),
            AppError::Forbidden(lang, why) => (
                StatusCode::FORBIDDEN,
                lang,
                t(lang, "forbidden"),
                Some(t(lang, why)),
            ),
            AppError::Busy(lang, msg) => {
                tracing::warn!("cockpit: {msg}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    lang,
                    t(lang, "busy"),
                    Some(t(lang, "busy_detail")),
                )
            }
            AppError::Internal(lang, msg) => {
                tracing::error!("cockpit: {msg}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    lang,
                    t(lang, "server_error"),
                    None,
                )
            }
        };
        let body = format!(
            "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title>\
             <link rel=\"stylesheet\" href=\"/assets/style.css\"><link rel=\"icon\" href=\"/assets/icon.svg\"></head><body><main><h1>{}</h1>{}\
             <p><a href=\"/?lang={}\">{}</a></p></main></body></html>\n",
            lang.html(),
            html::esc(&title),
            html::esc(&title),
            detail
                .map(|d| format!("<p>{}</p>", html::esc(&d)))
                .unwrap_or_default(),
            lang.code(),
            html::esc(&t(lang, "back_to_bureau"))
        );
        let mut response = (status, Html(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        }
        response
    }
}

/// Takes the cockpit's address before the work that precedes serving (a busy port is said at
/// once, not after a demo's build).
pub async fn listen(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Serves the cockpit until the process ends, refreshing it as the lake changes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    lake: Lake,
    state: StateDir,
    tls: Option<tls::Tls>,
    sources: Vec<edulake_ingest::pull::Source>,
) -> anyhow::Result<()> {
    let mut serving = Serving::at(listener.local_addr()?)?;
    serving.tls = tls.is_some();
    let state = AppState::open(lake, state, serving).await?;
    state.set_sources(sources);
    if !state.refresh().await? {
        cache::prerender(&state, &[]).await;
    }
    tokio::spawn(watch(state.clone(), Duration::from_secs(2)));
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "The cockpit is at {scheme}://{}/ (open it in a browser; Ctrl-C stops it)",
        listener.local_addr()?
    );
    if let Some(tls) = tls {
        return tls::serve(listener, app(state), tls).await;
    }
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
