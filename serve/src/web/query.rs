//! `GET /sql?q=…&format=csv|json`: a read-only query someone typed, over the lake's tables
//! and marts, as `edulake sql` answers it.
//!
//! A query someone types can ask for anything: values doubled in nested subqueries until
//! they fill the memory, plans deep enough to overflow a stack. No check of its text can
//! foresee every way; so after the checks of [`edulake_transform::bounded`] (which refuse
//! the known ways with a clear message), each query runs in a process of its own — `edulake
//! sql`, this binary — with an address space the system enforces, a memory pool inside it,
//! and a time limit after which it is killed. If it dies, the cockpit goes on. At most
//! [`AT_ONCE`] run at a time; its result is streamed to the client as it comes.

use std::process::Stdio;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use edulake_transform::bounded::Limits;

use super::i18n::Lang;
use super::pages::internal;
use super::{AppError, AppState};

/// Queries typed over the web that run at once; the next waits (within its time).
pub const AT_ONCE: usize = 2;

/// The address space of a query's process: `EDULAKE_QUERY_MEMORY_MB` (default 2048); its
/// memory pool is half of it.
fn address_space_mb() -> u64 {
    std::env::var("EDULAKE_QUERY_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(2048)
        .max(512)
}

/// What the SQL endpoint takes.
#[derive(Debug, Default, Deserialize)]
pub struct SqlParams {
    pub q: Option<String>,
    pub format: Option<String>,
    pub lang: Option<String>,
}

pub async fn sql(
    State(state): State<Arc<AppState>>,
    axum::Extension(visitor): axum::Extension<super::auth::Visitor>,
    Query(p): Query<SqlParams>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(p.lang.as_deref());
    let who = visitor.require(lang)?;
    let bad = |msg: String| AppError::BadRequest(lang, msg);
    let q =
        p.q.filter(|q| !q.trim().is_empty())
            .ok_or_else(|| bad("q: a SQL query is needed".into()))?;
    let (format, mime) = match p.format.as_deref().unwrap_or("csv") {
        "csv" => ("csv", "text/csv; charset=utf-8"),
        "json" => ("json", "application/x-ndjson"),
        other => return Err(bad(format!("format '{other}': csv or json"))),
    };
    let limits = Limits::web();
    let time = limits.time.unwrap_or(std::time::Duration::from_secs(30));
    // The text's own limits, said at once, without a process.
    edulake_transform::bounded::check_text(&q, &limits).map_err(internal(lang))?;
    let deadline = tokio::time::Instant::now() + time;
    let permit = tokio::time::timeout_at(deadline, state.queries.clone().acquire_owned())
        .await
        .map_err(|_| bad(format!("{AT_ONCE} queries are running; try again shortly")))?
        .map_err(|e| AppError::Internal(lang, e.to_string()))?;
    let space = address_space_mb();
    // The query runs as its asker: only the tables its role may read, filtered to its scope.
    let mut args: Vec<String> = vec![
        "--quiet".into(),
        "sql".into(),
        "--format".into(),
        format.into(),
        "--role".into(),
        who.role.name().into(),
    ];
    match &who.scope {
        edulake_transform::reads::Scope::Bureau => {}
        edulake_transform::reads::Scope::District(d) => {
            args.extend(["--district".into(), d.clone()])
        }
        edulake_transform::reads::Scope::School(s) => args.extend(["--school".into(), s.clone()]),
    }
    if who.rows {
        args.push("--rows".into());
    }
    args.extend(["--".into(), q.clone()]);
    let mut child = tokio::process::Command::new(&state.query_program)
        .args(&args)
        .env("EDULAKE_LAKE", state.lake.root().as_str())
        .env("EDULAKE_STATE", state.state.root())
        .env("EDULAKE_ADDRESS_SPACE_MB", space.to_string())
        .env("EDULAKE_MEMORY_MB", (space / 2).to_string())
        .env("EDULAKE_TIME_LIMIT_SECONDS", time.as_secs().to_string())
        .env("MALLOC_ARENA_MAX", "2")
        .env_remove("EDULAKE_FAULT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| AppError::Internal(lang, format!("cannot start a query: {e}")))?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(AppError::Internal(
            lang,
            "a query's output was not kept".into(),
        ));
    };
    let stopped = |seconds: u64| {
        bad(format!(
            "the query ran longer than {seconds} s and was stopped; narrow it"
        ))
    };
    // The first bytes, or the end: only then is it known whether the query answers.
    let mut first = vec![0u8; 64 << 10];
    let n = match tokio::time::timeout_at(deadline, stdout.read(&mut first)).await {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(AppError::Internal(lang, format!("reading a query: {e}"))),
        Err(_) => return Err(stopped(time.as_secs())),
    };
    if n == 0 {
        let mut said = String::new();
        let _ = tokio::time::timeout_at(deadline, stderr.read_to_string(&mut said)).await;
        let status = tokio::time::timeout_at(deadline, child.wait())
            .await
            .map_err(|_| stopped(time.as_secs()))?
            .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        if status.success() {
            return Ok(([(header::CONTENT_TYPE, mime)], Vec::new()).into_response());
        }
        return Err(bad(failure(status.code(), &said, space)));
    }
    first.truncate(n);
    let cap = limits.max_result_bytes as u64;
    // The query's place among those running is given back when its answer ends, or at its
    // time (when its process ends itself), even if the client has stopped reading.
    let (done, ended) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout_at(deadline + std::time::Duration::from_secs(1), ended).await;
    });
    // The rest, as it comes; the process is killed at the deadline or past the cap, or when
    // the client goes (the stream, and the process with it, dropped).
    let rest = futures::stream::unfold(
        Some((stdout, child, done, n as u64)),
        move |state| async move {
            let (mut stdout, child, done, sent) = state?;
            let mut chunk = vec![0u8; 256 << 10];
            let refuse = |what: String| {
                Some((
                    Err(std::io::Error::other(what)),
                    None::<(
                        tokio::process::ChildStdout,
                        tokio::process::Child,
                        tokio::sync::oneshot::Sender<()>,
                        u64,
                    )>,
                ))
            };
            match tokio::time::timeout_at(deadline, stdout.read(&mut chunk)).await {
                Ok(Ok(0)) => None,
                Ok(Ok(n)) if sent + n as u64 > cap => {
                    refuse(format!("the result is over {} MiB", cap >> 20))
                }
                Ok(Ok(n)) => {
                    chunk.truncate(n);
                    Some((Ok(chunk), Some((stdout, child, done, sent + n as u64))))
                }
                Ok(Err(e)) => refuse(e.to_string()),
                Err(_) => refuse(format!("the query ran longer than {} s", time.as_secs())),
            }
        },
    );
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest);
    Ok((
        [(header::CONTENT_TYPE, mime)],
        Body::from_stream(body.boxed()),
    )
        .into_response())
}

/// Why a query's process ended without an answer, from how it ended and what it said.
fn failure(code: Option<i32>, said: &str, space_mb: u64) -> String {
    let said = said.trim();
    if code.is_some() {
        // `edulake sql` says what was wrong on its last line, after its own name.
        let last = said.lines().last().unwrap_or(said);
        return last.strip_prefix("edulake: ").unwrap_or(last).to_string();
    }
    if said.contains("memory allocation") {
        format!(
            "the query needed more memory than a query may use ({space_mb} MiB) and was stopped; narrow it"
        )
    } else if said.contains("stack overflow") {
        "the query was too deep to plan and was stopped; simplify it".to_string()
    } else {
        "the query failed and was stopped".to_string()
    }
}
