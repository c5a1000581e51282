//! The upload page's preview: the files of an upload read and checked with nothing stored,
//! shown as they would be stored (the export profile and shape chosen, each column's meaning,
//! where the date comes from, the first rows, the rejects), kept aside until the clerk who
//! sent them confirms (then stored as any upload) or cancels (then deleted).
//!
//! A pending upload is a folder of the state directory (`pending-uploads/<token>`): its files
//! under the server's own names and what the form said. Only the account that sent it may
//! confirm or cancel it; an hour later it is gone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::util::display::array_value_to_string;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use serde::{Deserialize, Serialize};

use edulake_ingest::clean::ReadAs;
use edulake_ingest::{FileOutcome, Outcome, Preview};

use super::auth::Visitor;
use super::html::{self, esc, section, table};
use super::i18n::{t, Lang};
use super::pages::Params;
use super::upload::{self, FormValues, Uploader};
use super::{AppError, AppState, View};

/// How long a preview waits for its clerk.
const KEPT: std::time::Duration = std::time::Duration::from_secs(3600);

/// What the form said of a pending upload, and its files.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    /// The account that sent it: the only one that may confirm or cancel it.
    login: String,
    /// The dataset chosen on the form.
    dataset: String,
    values: FormValues,
    /// (the name it was sent under, its name in the folder).
    files: Vec<(String, String)>,
}

fn root(state: &edulake_ingest::StateDir) -> PathBuf {
    state.root().join("pending-uploads")
}

/// A pending upload's folder, if the token is one a preview makes (hex, 32 characters).
fn folder_of(state: &edulake_ingest::StateDir, token: &str) -> Option<PathBuf> {
    (token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| root(state).join(token))
}

/// Deletes previews older than an hour (when the cockpit starts and at each new preview).
pub fn remove_stale(state: &edulake_ingest::StateDir) {
    let Ok(entries) = std::fs::read_dir(root(state)) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age > KEPT);
        if old {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::error!("cannot delete an old preview {}: {err}", e.path().display());
            }
        }
    }
}

fn login_of(visitor: &Visitor) -> String {
    visitor
        .signed
        .as_ref()
        .map(|s| s.account.login.clone())
        .unwrap_or_default()
}

/// Keeps an upload's received files aside and shows what they would become.
#[allow(clippy::too_many_arguments)]
pub(super) async fn hold_and_show(
    state: &Arc<AppState>,
    visitor: &Visitor,
    view: &View,
    lang: Lang,
    dataset: &str,
    values: &FormValues,
    uploader: &Uploader,
    received: &Path,
    files: &[(String, PathBuf)],
) -> Result<Response, AppError> {
    remove_stale(&state.state);
    // One preview waits per account: an earlier one not confirmed is given up.
    let login = login_of(visitor);
    if let Ok(entries) = std::fs::read_dir(root(&state.state)) {
        for e in entries.flatten() {
            let theirs = std::fs::read(e.path().join("meta.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
                .is_some_and(|m| m.login == login);
            if theirs {
                drop(upload::UploadFolder(e.path()));
            }
        }
    }
    let token = hex::encode(rand::random::<[u8; 16]>());
    let dir = root(&state.state).join(&token);
    let internal = |e: std::io::Error| AppError::Internal(lang, e.to_string());
    std::fs::create_dir_all(root(&state.state)).map_err(internal)?;
    std::fs::rename(received, &dir).map_err(internal)?;
    // Until the page is made, a failure deletes the files.
    let held_dir = upload::UploadFolder(dir.clone());
    let meta = Meta {
        login,
        dataset: dataset.to_string(),
        values: values.clone(),
        files: files
            .iter()
            .map(|(sent, path)| {
                let on_disk = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                (sent.clone(), on_disk)
            })
            .collect(),
    };
    let json = serde_json::to_vec(&meta).map_err(|e| AppError::Internal(lang, e.to_string()))?;
    state
        .state
        .write(&dir.join("meta.json"), &json)
        .map_err(|e| AppError::Internal(lang, e.to_string()))?;
    let checked = match upload::checked(lang, dataset, values, uploader) {
        Ok(x) => x,
        Err(problem) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(upload::again(
                view,
                lang,
                &problem,
                Some(dataset),
                values,
                uploader,
            ));
        }
    };
    let held: Vec<(String, PathBuf)> = meta
        .files
        .iter()
        .map(|(sent, name)| (sent.clone(), dir.join(name)))
        .collect();
    // A preview reads as much as a store: one at a time, as uploads are.
    let outcomes = {
        let _one_at_a_time = state.uploading.lock().await;
        upload::run_ingest(state, checked, &held, true)
            .await
            .map_err(|e| AppError::Internal(lang, format!("{e:#}")))?
    };
    // Kept for the clerk's decision.
    std::mem::forget(held_dir);
    let mut body = format!(
        "<section><h2>{}</h2><p class=\"hint\">{}</p></section>",
        esc(&t(lang, "preview_title")),
        esc(&t(lang, "preview_intro"))
    );
    for (fo, (name, _)) in outcomes.iter().zip(&held) {
        body.push_str(&file_preview(lang, name, fo));
    }
    let any = outcomes
        .iter()
        .any(|fo| matches!(fo.outcome, Outcome::Previewed(_)));
    body.push_str(&format!(
        "<section class=\"confirm\">{}<form method=\"post\" action=\"/upload/cancel?lang={code}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\" class=\"secondary\">{cancel}</button></form></section>",
        if any {
            format!(
                "<form method=\"post\" action=\"/upload/confirm?lang={code}\">\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
                 <button type=\"submit\">{confirm}</button></form>",
                code = lang.code(),
                csrf = esc(&uploader.csrf),
                confirm = esc(&t(lang, "preview_confirm")),
            )
        } else {
            String::new()
        },
        code = lang.code(),
        csrf = esc(&uploader.csrf),
        cancel = esc(&t(lang, "preview_cancel")),
    ));
    Ok(Html(html::page(view, &t(lang, "nav_upload"), &body)).into_response())
}

/// One file of a preview.
fn file_preview(lang: Lang, name: &str, fo: &FileOutcome) -> String {
    let p: &Preview = match &fo.outcome {
        Outcome::Previewed(p) => p,
        Outcome::Rejected { problem } => {
            return section(
                lang,
                name,
                &format!(
                    "<p class=\"error\">{}: {}</p>",
                    esc(&t(lang, "upload_rejected")),
                    esc(&problem.render(lang))
                ),
                None,
            )
        }
        Outcome::AlreadyIngested { batch_id } => {
            return section(
                lang,
                name,
                &format!(
                    "<p>{} ({})</p>",
                    esc(&t(lang, "upload_already")),
                    esc(batch_id)
                ),
                None,
            )
        }
        Outcome::Stored { .. } => return String::new(),
    };
    let h = &p.header;
    let shape = match fo.dataset.name {
        "attendance_exceptions" => "shape_register",
        "class_report" => "shape_class_report",
        _ => "shape_rows",
    };
    let mut facts = vec![
        (t(lang, "preview_format"), esc(&p.format)),
        (
            t(lang, "preview_profile"),
            match &h.profile {
                Some(profile) => esc(&profile.render(lang)),
                None => esc(&t(lang, "preview_no_profile")),
            },
        ),
        (
            t(lang, "preview_shape"),
            format!(
                "{} → {}",
                esc(&t(lang, shape)),
                esc(&t(lang, &format!("ds_{}", fo.dataset.name)))
            ),
        ),
        (
            t(lang, "rows_read"),
            esc(&t(lang, "preview_counts")
                .replace("{read}", &p.rows_read.to_string())
                .replace("{stored}", &p.rows_stored.to_string())
                .replace("{rejected}", &p.rows_rejected.to_string())),
        ),
    ];
    if let Some(source) = &h.date_source {
        facts.push((t(lang, "preview_date"), esc(&source.render(lang))));
    }
    let mut out: String = format!(
        "<dl class=\"facts\">{}</dl>",
        facts
            .iter()
            .map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", esc(k)))
            .collect::<String>()
    );
    let columns: Vec<Vec<String>> = h
        .read_as()
        .map(|(cell, read_as)| {
            let meaning = match read_as {
                ReadAs::Column(c) => format!("→ <code>{}</code>", esc(c)),
                ReadAs::Personal => esc(&t(lang, "meaning_personal")),
                ReadAs::Ignored => esc(&t(lang, "meaning_ignored")),
                ReadAs::Unknown => esc(&t(lang, "meaning_unknown")),
            };
            vec![esc(cell), meaning]
        })
        .collect();
    out.push_str(&format!(
        "<h3>{}</h3>{}",
        esc(&t(lang, "preview_columns")),
        table(
            &[t(lang, "preview_file_column"), t(lang, "preview_meaning")],
            &columns
        )
    ));
    if !h.notes.is_empty() || h.rows_skipped > 0 {
        let mut notes: Vec<String> = h.notes.iter().map(|n| esc(&n.render(lang))).collect();
        if h.rows_skipped > 0 {
            notes.push(esc(
                &t(lang, "preview_skipped").replace("{n}", &h.rows_skipped.to_string())
            ));
        }
        out.push_str(&format!(
            "<h3>{}</h3><ul>{}</ul>",
            esc(&t(lang, "preview_notes")),
            notes
                .iter()
                .map(|n| format!("<li>{n}</li>"))
                .collect::<String>()
        ));
    }
    if let Some(rows) = p.first_rows.as_ref().filter(|r| r.num_rows() > 0) {
        let schema = rows.schema();
        let keep: Vec<usize> = (0..rows.num_columns())
            .filter(|&i| {
                let n = schema.field(i).name();
                !n.starts_with('_') || n == "_row"
            })
            .collect();
        let heads: Vec<String> = keep
            .iter()
            .map(|&i| match schema.field(i).name().as_str() {
                "_row" => t(lang, "preview_row"),
                n => n.to_string(),
            })
            .collect();
        let cells: Vec<Vec<String>> = (0..rows.num_rows())
            .map(|r| {
                keep.iter()
                    .map(|&i| {
                        let c = rows.column(i);
                        if c.is_null(r) {
                            String::new()
                        } else {
                            esc(&array_value_to_string(c, r).unwrap_or_default())
                        }
                    })
                    .collect()
            })
            .collect();
        out.push_str(&format!(
            "<h3>{}</h3>{}",
            esc(&t(lang, "preview_first_rows")),
            table(&heads, &cells)
        ));
    }
    if !p.rejects.is_empty() {
        out.push_str(&format!(
            "<h3>{}</h3>{}",
            esc(&t(lang, "preview_rejects")),
            rejects_table(&p.rejects, lang)
        ));
    }
    section(lang, name, &out, None)
}

/// Rejected cells as a table: the row, the column as the file names it, the value and why, in
/// the reader's language.
pub(super) fn rejects_table(rejects: &[edulake_ingest::clean::Reject], lang: Lang) -> String {
    let cells: Vec<Vec<String>> = rejects
        .iter()
        .map(|r| {
            vec![
                r.row.to_string(),
                esc(&r.column),
                esc(&r.value),
                esc(&r.reason.render(lang)),
            ]
        })
        .collect();
    table(
        &[
            t(lang, "preview_row"),
            t(lang, "preview_file_column"),
            t(lang, "value"),
            t(lang, "preview_reason"),
        ],
        &cells,
    )
}

/// The form of a preview's buttons.
#[derive(Debug, Deserialize)]
pub struct Decision {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// The pending upload a decision names, if it is this visitor's. `Ok(None)`: gone (expired,
/// or already confirmed or cancelled).
fn pending(
    state: &AppState,
    visitor: &Visitor,
    lang: Lang,
    d: &Decision,
) -> Result<Option<(PathBuf, Meta)>, AppError> {
    if !visitor.csrf_ok(&d.csrf) {
        return Err(AppError::Forbidden(lang, "forbidden_csrf"));
    }
    let Some(dir) = folder_of(&state.state, &d.token) else {
        return Ok(None);
    };
    let meta_file = dir.join("meta.json");
    let expired = std::fs::metadata(&meta_file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age > KEPT);
    if expired {
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(None);
    }
    let Ok(bytes) = std::fs::read(&meta_file) else {
        return Ok(None);
    };
    let meta: Meta =
        serde_json::from_slice(&bytes).map_err(|e| AppError::Internal(lang, e.to_string()))?;
    if meta.login != login_of(visitor) {
        return Err(AppError::Forbidden(lang, "forbidden_scope"));
    }
    Ok(Some((dir, meta)))
}

/// What a decision on a preview needs: the page's language, the uploader, the page around
/// it, and the pending upload if it is still there.
type Deciding = (Lang, Uploader, View, Option<(PathBuf, Meta)>);

async fn deciding(
    state: &AppState,
    visitor: &Visitor,
    params: &Params,
    decision: &Decision,
) -> Result<Deciding, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let (who, uploader) = Uploader::of(state, visitor, lang)?;
    let view = upload::upload_view(state, &who, params).await?;
    let held = pending(state, visitor, lang, decision)?;
    Ok((lang, uploader, view, held))
}

/// `POST /upload/confirm`: stores a previewed upload, as the form would have.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    axum::extract::Query(params): axum::extract::Query<Params>,
    Form(decision): Form<Decision>,
) -> Result<Response, AppError> {
    let (lang, uploader, view, held) = deciding(&state, &visitor, &params, &decision).await?;
    let Some((dir, meta)) = held else {
        return Ok(upload::again(
            &view,
            lang,
            &t(lang, "preview_expired"),
            None,
            &uploader.fresh(),
            &uploader,
        ));
    };
    // The folder goes when this ends, stored or not.
    let _held = upload::UploadFolder(dir.clone());
    // A clerk stores for its own school, as the account is now.
    let mut values = meta.values;
    if let Some(own) = &uploader.school {
        if !values.school.is_empty() && !values.school.eq_ignore_ascii_case(own) {
            return Err(AppError::Forbidden(lang, "forbidden_scope"));
        }
        values.school = own.clone();
    }
    let files: Vec<(String, PathBuf)> = meta
        .files
        .iter()
        .map(|(sent, name)| (sent.clone(), dir.join(name)))
        .collect();
    upload::store_and_show(
        &state,
        &view,
        lang,
        &meta.dataset,
        &values,
        &uploader,
        &files,
    )
    .await
}

/// `POST /upload/cancel`: deletes a previewed upload; nothing of it is stored.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    axum::extract::Query(params): axum::extract::Query<Params>,
    Form(decision): Form<Decision>,
) -> Result<Response, AppError> {
    let (lang, uploader, view, held) = deciding(&state, &visitor, &params, &decision).await?;
    let (message, values, dataset) = match held {
        Some((dir, meta)) => {
            drop(upload::UploadFolder(dir));
            (
                t(lang, "preview_cancelled"),
                meta.values,
                Some(meta.dataset),
            )
        }
        None => (t(lang, "preview_expired"), uploader.fresh(), None),
    };
    Ok(upload::again(
        &view,
        lang,
        &message,
        dataset.as_deref(),
        &values,
        &uploader,
    ))
}
