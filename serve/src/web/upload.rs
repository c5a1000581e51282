//! The clerks' upload page: the form, its files received to disk as they come (bounded in size,
//! pace and number at once), each stored as a batch as `edulake ingest` would, and what became
//! of each.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Multipart, Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;

use edulake_ingest::{FileOutcome, IngestOptions, KeyOrigin, Outcome, Upload};

use super::auth::Visitor;
use super::html::{self, enc, esc, link, section, table};
use super::i18n::{t, Lang, Msg};
use super::pages::{view_of, Params};
use super::{preview, AppError, AppState, View};

use axum::Extension;
use edulake_transform::access::Principal;

/// The largest upload the server reads (all files of one form together).
pub const UPLOAD_LIMIT: usize = 512 * 1024 * 1024;

/// Uploads received at once (each written to disk as it comes).
pub const RECEIVING_AT_ONCE: usize = 4;

/// The longest wait for the next bytes of an upload.
const RECEIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
/// The slowest an upload may come, on average, after its first minute (bytes a second).
const RECEIVE_RATE: u64 = 8 << 10;
/// The longest an upload may take to arrive.
const RECEIVE_TIME: std::time::Duration = std::time::Duration::from_secs(600);

/// The datasets a clerk may upload, in the order of the form.
const UPLOADABLE: [&str; 8] = [
    "attendance",
    "class_report",
    "health_report",
    "enrolment",
    "notice_reads",
    "notice_read_counts",
    "schools",
    "notices",
];

/// Datasets only the bureau uploads (the registry of schools, the notices it sent).
const BUREAU_ONLY: [&str; 2] = ["schools", "notices"];

/// Who is uploading: the session's form token, and the school a clerk uploads for (the only
/// one its files may name).
pub(super) struct Uploader {
    pub csrf: String,
    pub school: Option<String>,
    /// The export profiles a file may be said to be (built in and the bureau's).
    pub profiles: Arc<edulake_ingest::profile::Profiles>,
}

impl Uploader {
    pub(super) fn of(
        state: &AppState,
        visitor: &Visitor,
        lang: Lang,
    ) -> Result<(Principal, Uploader), AppError> {
        let who = visitor.require(lang)?;
        let school = match &who.scope {
            edulake_transform::reads::Scope::School(code) => Some(code.clone()),
            _ => None,
        };
        let csrf = visitor
            .signed
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default();
        let profiles = Arc::new(edulake_ingest::profile::Profiles::load(
            &state.state.root().join("profiles"),
        ));
        Ok((
            who,
            Uploader {
                csrf,
                school,
                profiles,
            },
        ))
    }

    /// A form as it first shows: the clerk's own school filled in.
    pub(super) fn fresh(&self) -> FormValues {
        FormValues {
            school: self.school.clone().unwrap_or_default(),
            ..Default::default()
        }
    }

    /// Whether it may upload a dataset.
    fn may(&self, dataset: &str) -> bool {
        UPLOADABLE.contains(&dataset) && (self.school.is_none() || !BUREAU_ONLY.contains(&dataset))
    }
}

/// The upload form.
pub async fn upload_form(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(params): Query<Params>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let (who, uploader) = Uploader::of(&state, &visitor, lang)?;
    preview::remove_stale(&state.state);
    let view = upload_view(&state, &who, &params).await?;
    let values = uploader.fresh();
    let body = format!(
        "{}{}",
        form(lang, None, &values, &uploader),
        super::templates::list(lang, |d| uploader.may(d))
    );
    Ok(Html(html::page(&view, &t(lang, "nav_upload"), &body)).into_response())
}

/// The upload page has no dates of its own; it keeps the range for the links away from it.
pub(super) async fn upload_view(
    state: &AppState,
    who: &Principal,
    params: &Params,
) -> Result<View, AppError> {
    let layer = state.layer().await;
    Ok(view_of(&layer, who, params, "/upload").await?.0)
}

/// What a clerk filled in on the upload form, shown again with its result.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct FormValues {
    pub school: String,
    pub as_of: String,
    pub date: String,
    pub class: String,
    pub exceptions: bool,
    /// The export profile the clerk says the files are (empty: chosen by their headers).
    #[serde(default)]
    pub profile: String,
}

fn form(lang: Lang, dataset: Option<&str>, v: &FormValues, uploader: &Uploader) -> String {
    let datasets: Vec<(String, String)> = UPLOADABLE
        .iter()
        .filter(|d| uploader.may(d))
        .map(|d| (d.to_string(), t(lang, &format!("ds_{d}"))))
        .collect();
    let profiles: Vec<(String, String)> =
        std::iter::once((String::new(), t(lang, "upload_profile_auto")))
            .chain(
                uploader
                    .profiles
                    .all()
                    .iter()
                    .filter(|p| uploader.may(p.dataset.name))
                    .map(|p| {
                        let title = match lang {
                            Lang::Zh => &p.title,
                            Lang::En => &p.title_en,
                        };
                        (p.name.clone(), title.clone())
                    }),
            )
            .collect();
    format!(
        "<section><form class=\"upload\" method=\"post\" action=\"/upload?lang={code}\" enctype=\"multipart/form-data\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>{l_dataset} {datasets}</label>\
         <label>{l_school} <input name=\"school\" value=\"{school}\" placeholder=\"{p_school}\" autocomplete=\"off\"{fixed}></label>\
         <label>{l_as_of} <input type=\"date\" name=\"as_of\" value=\"{as_of}\"></label>\
         <label>{l_date} <input type=\"date\" name=\"date\" value=\"{date}\"></label>\
         <label>{l_class} <input name=\"class\" value=\"{class}\" autocomplete=\"off\"></label>\
         <label class=\"check\"><input type=\"checkbox\" name=\"exceptions\" value=\"1\"{checked}> {l_exceptions}</label>\
         <label>{l_profile} {profiles}</label>\
         <label class=\"drop\">{l_files}<input type=\"file\" name=\"files\" multiple required \
         accept=\".csv,.txt,.tsv,.xlsx,.xls,.xml,.zip,.json,.jsonl,.gz,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\"></label>\
         <div class=\"buttons\"><button type=\"submit\" name=\"step\" value=\"preview\">{l_preview}</button>\
         <button type=\"submit\" name=\"step\" value=\"store\" class=\"secondary\">{l_submit}</button></div>\
         </form><p class=\"hint\">{hint}</p></section>",
        code = lang.code(),
        csrf = esc(&uploader.csrf),
        fixed = if uploader.school.is_some() { " readonly" } else { "" },
        l_dataset = esc(&t(lang, "upload_dataset")),
        l_school = esc(&t(lang, "upload_school")),
        school = esc(&v.school),
        p_school = esc(&t(lang, "upload_school_hint")),
        l_as_of = esc(&t(lang, "upload_as_of")),
        as_of = esc(&v.as_of),
        l_date = esc(&t(lang, "upload_date")),
        date = esc(&v.date),
        l_class = esc(&t(lang, "upload_class")),
        class = esc(&v.class),
        l_exceptions = esc(&t(lang, "upload_exceptions")),
        l_profile = esc(&t(lang, "upload_profile")),
        datasets = html::select("dataset", &datasets, dataset.unwrap_or(""), true),
        profiles = html::select("profile", &profiles, &v.profile, false),
        checked = if v.exceptions { " checked" } else { "" },
        l_files = esc(&t(lang, "upload_files")),
        l_submit = esc(&t(lang, "upload_store_now")),
        l_preview = esc(&t(lang, "upload_preview")),
        hint = esc(&t(lang, "upload_hint")),
    )
}

/// A unique folder name for one upload's files.
fn upload_folder() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.f"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// An upload's files in the state directory, deleted with this value.
pub(super) struct UploadFolder(pub PathBuf);

impl Drop for UploadFolder {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(
                    "cannot delete the uploaded files in {}: {e}",
                    self.0.display()
                );
            }
        }
    }
}

/// Deletes what uploads left in the state directory when a server stopped in the middle of
/// one (called when the cockpit starts): a folder of a process that is no longer running (its
/// name says which), or of this one's number (a process before it), or older than ten
/// minutes. An upload of another server still running on the same state directory is left to
/// finish.
pub fn remove_stale_uploads(state: &edulake_ingest::StateDir) {
    let Ok(entries) = std::fs::read_dir(state.root().join("uploads")) else {
        return;
    };
    let running = |pid: u32| {
        pid != std::process::id() && std::path::Path::new(&format!("/proc/{pid}")).exists()
    };
    let proc_known = std::path::Path::new("/proc/self").exists();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let pid = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_none_or(|age| age > std::time::Duration::from_secs(600));
        let orphan = proc_known && pid.is_none_or(|p| !running(p));
        if old || orphan {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::error!("cannot delete an old upload {}: {err}", e.path().display());
            }
        }
    }
}

/// The name an uploaded file is kept under: its place in the form and the extension of the
/// name it was sent under when it is one edulake reads (which tells a workbook from a text).
fn disk_name(sent: &str, i: usize) -> String {
    let ext = sent
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| {
            [
                "csv", "txt", "tsv", "xlsx", "xls", "xml", "zip", "json", "jsonl", "gz",
            ]
            .contains(&e.as_str())
        });
    match ext {
        Some(e) => format!("file-{i}.{e}"),
        None => format!("file-{i}"),
    }
}

/// A file name a clerk's browser sent, made safe to show: its last component, with no
/// separators or control characters.
fn safe_name(name: &str, i: usize) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != ':')
        .collect();
    let clean = clean.trim().trim_start_matches('.');
    if clean.is_empty() {
        format!("upload-{i}")
    } else {
        clean.to_string()
    }
}

/// Receives the upload form: stores each file as one batch (as `edulake ingest` would),
/// shows what became of each, and refreshes the cockpit.
pub async fn upload(
    State(state): State<Arc<AppState>>,
    Extension(visitor): Extension<Visitor>,
    Query(params): Query<Params>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let lang = Lang::parse(params.lang.as_deref());
    let (who, uploader) = Uploader::of(&state, &visitor, lang)?;
    // The form's token comes first (the form puts it there): no file is received before it.
    let mut csrf_checked = false;
    let bad = |msg: String| AppError::BadRequest(lang, msg);
    // A few uploads are received at once, each written to disk as it comes (never held in
    // memory); more wait for none of them, they are told to try again.
    let Ok(_receiving) = state.receiving.clone().try_acquire_owned() else {
        return Err(bad(t(lang, "upload_busy")));
    };
    // The uploaded files hold names of children: only the lake (pseudonymised) and the
    // reject reports keep what they said. The folder goes when this handler ends, however it
    // ends (a failed write, a failed ingest, a client that went away).
    let folder = UploadFolder(state.state.root().join("uploads").join(upload_folder()));
    let mut dataset = String::new();
    // `preview`: read and show, store nothing until confirmed; else store at once.
    let mut step = String::new();
    let mut v = FormValues::default();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let broken = |e: axum::extract::multipart::MultipartError| {
        bad(format!("{}: {e}", t(lang, "upload_broken")))
    };
    // A sender that trickles holds a place others need: each part must come within
    // RECEIVE_IDLE of the last, at RECEIVE_RATE on average after the first minute, and the
    // whole within RECEIVE_TIME.
    let started = std::time::Instant::now();
    let mut received = 0u64;
    let too_slow = || bad(t(lang, "upload_too_slow"));
    let paced = |received: u64| {
        let secs = started.elapsed().as_secs();
        secs <= RECEIVE_TIME.as_secs() && (secs < 60 || received / secs >= RECEIVE_RATE)
    };
    while let Some(mut field) = tokio::time::timeout(RECEIVE_IDLE, multipart.next_field())
        .await
        .map_err(|_| too_slow())?
        .map_err(broken)?
    {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().unwrap_or("").to_string();
        if name != "files" {
            // A form's words are short: at most 1 KiB of each is read.
            let mut text = Vec::new();
            while let Some(chunk) = tokio::time::timeout(RECEIVE_IDLE, field.chunk())
                .await
                .map_err(|_| too_slow())?
                .map_err(broken)?
            {
                received += chunk.len() as u64;
                if !paced(received) {
                    return Err(too_slow());
                }
                text.extend_from_slice(&chunk[..chunk.len().min(1024 - text.len().min(1024))]);
            }
            let text = String::from_utf8_lossy(&text).trim().to_string();
            match name.as_str() {
                "csrf" => {
                    if !visitor.csrf_ok(&text) {
                        return Err(AppError::Forbidden(lang, "forbidden_csrf"));
                    }
                    csrf_checked = true;
                }
                "dataset" => dataset = text,
                "school" => v.school = text.to_ascii_uppercase(),
                "as_of" => v.as_of = text,
                "date" => v.date = text,
                "class" => v.class = text,
                "exceptions" => v.exceptions = !text.is_empty(),
                "step" => step = text,
                "profile" => v.profile = text,
                _ => {}
            }
            continue;
        }
        if !csrf_checked {
            return Err(AppError::Forbidden(lang, "forbidden_csrf"));
        }
        // The name the clerk's file was sent under is kept for the batch and the page; on
        // disk it is a name of the server's own (the folder is this upload's alone).
        let stored = safe_name(&file_name, files.len());
        let path = folder.0.join(disk_name(&stored, files.len()));
        let file = state
            .state
            .create(&path)
            .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        let mut file = tokio::fs::File::from_std(file);
        let mut size = 0usize;
        while let Some(chunk) = tokio::time::timeout(RECEIVE_IDLE, field.chunk())
            .await
            .map_err(|_| too_slow())?
            .map_err(broken)?
        {
            size += chunk.len();
            received += chunk.len() as u64;
            if !paced(received) {
                return Err(too_slow());
            }
            tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                .await
                .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        // A form sent with no file chosen has one empty part with no name.
        if size == 0 && file_name.is_empty() {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        files.push((stored, path));
    }
    if !csrf_checked {
        return Err(AppError::Forbidden(lang, "forbidden_csrf"));
    }
    // A clerk uploads for its own school only: the form's school is its own, whatever was sent.
    if let Some(own) = &uploader.school {
        if !v.school.is_empty() && !v.school.eq_ignore_ascii_case(own) {
            return Err(AppError::Forbidden(lang, "forbidden_scope"));
        }
        v.school = own.clone();
    }
    let view = upload_view(&state, &who, &params).await?;
    if files.is_empty() {
        let chosen = edulake_schemas::by_name(&dataset).map(|d| d.name);
        return Ok(again(
            &view,
            lang,
            &t(lang, "upload_no_files"),
            chosen,
            &v,
            &uploader,
        ));
    }
    if step == "preview" {
        let received = folder.0.clone();
        return preview::hold_and_show(
            &state, &visitor, &view, lang, &dataset, &v, &uploader, &received, &files,
        )
        .await;
    }
    let page = store_and_show(&state, &view, lang, &dataset, &v, &uploader, &files).await;
    drop(folder);
    page
}

/// The upload form again, with what went wrong above it.
pub(super) fn again(
    view: &View,
    lang: Lang,
    problem: &str,
    dataset: Option<&str>,
    v: &FormValues,
    uploader: &Uploader,
) -> Response {
    Html(html::page(
        view,
        &t(lang, "nav_upload"),
        &format!(
            "<p class=\"error\">{}</p>{}",
            esc(problem),
            form(lang, dataset, v, uploader)
        ),
    ))
    .into_response()
}

/// What the form says, checked: the table the files go to and what the upload says of them,
/// or the sentence saying what to correct.
pub(super) fn checked(
    lang: Lang,
    dataset: &str,
    v: &FormValues,
    uploader: &Uploader,
) -> Result<Checked, String> {
    let Some(d) = edulake_schemas::by_name(dataset).filter(|d| uploader.may(d.name)) else {
        return Err(t(lang, "upload_no_dataset"));
    };
    if v.exceptions && d.name != "attendance" {
        return Err(t(lang, "upload_exceptions_not_attendance"));
    }
    if !v.school.is_empty() {
        if let Err(e) = edulake_ingest::values::check_school_code(&v.school) {
            return Err(format!("{}: {}", t(lang, "upload_school"), e.render(lang)));
        }
    }
    let form_date = |text: &str| match text {
        "" => Ok(None),
        s => edulake_ingest::values::parse_date(s, false).and_then(|day| {
            let tz = edulake_ingest::bureau_tz().map_err(|e| Msg::plain(e.to_string()))?;
            edulake_ingest::values::Window::up_to(edulake_ingest::values::today(tz))?
                .check(day)
                .map(|_| Some(day))
        }),
    };
    let as_of = form_date(&v.as_of)
        .map_err(|e| format!("{}: {}", t(lang, "upload_as_of"), e.render(lang)))?;
    let date = form_date(&v.date)
        .map_err(|e| format!("{}: {}", t(lang, "upload_date"), e.render(lang)))?;
    let upload = Upload {
        school: (!v.school.is_empty()).then(|| v.school.clone()),
        as_of,
        date,
        class: Some(edulake_schemas::class::normalise(&v.class, None)).filter(|c| !c.is_empty()),
    };
    let d = if v.exceptions {
        &edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS
    } else {
        d
    };
    // A profile said: it must read this dataset (or another shape of it).
    let profile = match v.profile.as_str() {
        "" => None,
        name => {
            let Some(p) = uploader.profiles.get(name) else {
                return Err(format!("{}: {name}", t(lang, "upload_profile_unknown")));
            };
            let of_dataset = edulake_schemas::by_name(dataset).is_some_and(|asked| p.serves(asked));
            if !of_dataset || (v.exceptions && p.stored.name != d.name) {
                return Err(t(lang, "upload_profile_other")
                    .replace("{profile}", &p.title)
                    .replace("{dataset}", &t(lang, &format!("ds_{}", p.dataset.name))));
            }
            Some(edulake_ingest::profile::Choice {
                profile: p,
                why: edulake_schemas::msg!("chosen_on_upload"),
            })
        }
    };
    Ok(Checked {
        dataset: d,
        upload,
        profiles: uploader.profiles.clone(),
        profile,
    })
}

/// What an upload form says, checked.
pub(super) struct Checked {
    /// The table the files go to (a profile's shape may store them in another).
    pub dataset: &'static edulake_schemas::Dataset,
    pub upload: Upload,
    /// The profiles a file may get by its headers (the uploader's, loaded once a request).
    pub profiles: Arc<edulake_ingest::profile::Profiles>,
    /// The profile the clerk chose, if any.
    pub profile: Option<edulake_ingest::profile::Choice>,
}

/// Stores an upload's files (as `edulake ingest` would) and shows what became of each.
pub(super) async fn store_and_show(
    state: &Arc<AppState>,
    view: &View,
    lang: Lang,
    dataset: &str,
    v: &FormValues,
    uploader: &Uploader,
    files: &[(String, PathBuf)],
) -> Result<Response, AppError> {
    let checked = match checked(lang, dataset, v, uploader) {
        Ok(x) => x,
        Err(problem) => {
            let chosen = edulake_schemas::by_name(dataset).map(|d| d.name);
            return Ok(again(view, lang, &problem, chosen, v, uploader));
        }
    };
    let outcomes = {
        let _one_at_a_time = state.uploading.lock().await;
        run_ingest(state, checked, files, false)
            .await
            .map_err(|e| AppError::Internal(lang, format!("{e:#}")))?
    };
    // An exception register where no roster is in force counts nobody present yet: say so.
    let covered: Vec<(String, NaiveDate)> = outcomes
        .iter()
        .filter_map(|fo| match &fo.outcome {
            Outcome::Stored { header, .. } => Some(header.covered.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut warnings = String::new();
    if !covered.is_empty() {
        let layer = edulake_transform::QueryLayer::open(&state.reader)
            .await
            .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        let missing = layer
            .without_roster(&covered)
            .await
            .map_err(|e| AppError::Internal(lang, e.to_string()))?;
        for (school, day) in missing {
            warnings.push_str(&format!(
                "<p class=\"error\">{}</p>",
                esc(&t(lang, "upload_no_roster")
                    .replace("{school}", &school)
                    .replace("{day}", &day.to_string()))
            ));
        }
    }
    // Show the upload in the cockpit now rather than at the next look at the lake.
    let refresher = state.clone();
    tokio::spawn(async move {
        if let Err(e) = refresher.refresh().await {
            tracing::warn!("cockpit refresh after an upload: {e:#}");
        }
    });

    let cells: Vec<Vec<String>> = outcomes
        .iter()
        .zip(files)
        .map(|(fo, (name, _))| outcome_cells(fo, name, lang))
        .collect();
    // Counts first, by what the clerk has to do next; the files' details below, open when
    // something needs doing.
    let mut counts = [0usize; 4];
    for fo in &outcomes {
        counts[Told::of(fo) as usize] += 1;
    }
    let summary: String = [
        (Told::Stored, "upload_count_stored"),
        (Told::Partly, "upload_count_partly"),
        (Told::Rejected, "upload_count_rejected"),
        (Told::Already, "upload_count_already"),
    ]
    .into_iter()
    .filter(|(k, _)| counts[*k as usize] > 0)
    .map(|(k, key)| {
        format!(
            "<p class=\"outcome {}\">{}</p>",
            k.class(),
            esc(&t(lang, key).replace("{n}", &counts[k as usize].to_string()))
        )
    })
    .collect();
    let open = if counts[Told::Partly as usize] + counts[Told::Rejected as usize] > 0 {
        " open"
    } else {
        ""
    };
    // The rows each file lost and why, for the clerk to fix them.
    let fixes: String = outcomes
        .iter()
        .zip(files)
        .filter_map(|(fo, (name, _))| match &fo.outcome {
            Outcome::Stored {
                record,
                first_rejects,
                ..
            } if !first_rejects.is_empty() => Some(format!(
                "<h3>{}</h3>{}",
                esc(&t(lang, "upload_fix")
                    .replace("{file}", name)
                    .replace("{n}", &record.rows_rejected.to_string())
                    .replace("{shown}", &first_rejects.len().to_string())),
                super::preview::rejects_table(first_rejects, lang)
            )),
            _ => None,
        })
        .collect();
    let heads = vec![
        t(lang, "source_file"),
        t(lang, "upload_result"),
        t(lang, "rows_read"),
        t(lang, "rows_stored"),
        t(lang, "rows_rejected"),
        t(lang, "reject_report"),
    ];
    let body = format!(
        "{}{warnings}<p class=\"hint\">{}</p>{}",
        section(
            lang,
            &t(lang, "upload_results"),
            &format!(
                "{summary}<details{open}><summary>{}</summary>{}{fixes}</details>",
                esc(&t(lang, "upload_details")),
                table(&heads, &cells)
            ),
            None
        ),
        esc(&t(lang, "upload_refresh")),
        form(lang, Some(dataset), v, uploader),
    );
    Ok(Html(html::page(view, &t(lang, "nav_upload"), &body)).into_response())
}

/// Ingests an upload's files (`files`: the name each was sent under and where it is), or in a
/// dry run says what each would become.
pub(super) async fn run_ingest(
    state: &AppState,
    checked: Checked,
    files: &[(String, PathBuf)],
    dry_run: bool,
) -> anyhow::Result<Vec<FileOutcome>> {
    let paths: Vec<PathBuf> = files.iter().map(|(_, p)| p.clone()).collect();
    let names = files.iter().map(|(n, p)| (p.clone(), n.clone())).collect();
    let (key, origin) = state.state.key()?;
    if let KeyOrigin::Created(path) = origin {
        tracing::warn!(
            "created the pseudonymisation key at {} (owner-only); back it up and keep it secret",
            path.display()
        );
    }
    let mut opts = IngestOptions::new(checked.dataset, edulake_ingest::bureau_tz()?);
    opts.upload = checked.upload;
    opts.names = names;
    opts.dry_run = dry_run;
    opts.profile = checked.profile;
    opts.profiles = checked.profiles;
    Ok(edulake_ingest::ingest(&state.lake, &state.state, &key, &opts, &paths, &mut |_| {}).await?)
}

/// What became of a file, as the clerk acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Told {
    /// Every row stored (or, in a preview, would be).
    Stored = 0,
    /// Stored, some rows rejected.
    Partly = 1,
    Rejected = 2,
    Already = 3,
}

impl Told {
    fn of(fo: &FileOutcome) -> Told {
        match &fo.outcome {
            Outcome::Stored { record, .. } if record.rows_rejected > 0 => Told::Partly,
            Outcome::Previewed(p) if p.rows_rejected > 0 => Told::Partly,
            Outcome::Stored { .. } | Outcome::Previewed(_) => Told::Stored,
            Outcome::Rejected { .. } => Told::Rejected,
            Outcome::AlreadyIngested { .. } => Told::Already,
        }
    }

    /// Its colour's class.
    fn class(self) -> &'static str {
        match self {
            Told::Stored => "ok",
            Told::Partly => "partly",
            Told::Rejected => "error",
            Told::Already => "same",
        }
    }
}

fn outcome_cells(fo: &FileOutcome, name: &str, lang: Lang) -> Vec<String> {
    let mut row = vec![esc(name)];
    match &fo.outcome {
        Outcome::Stored { record, .. } => {
            let said = match record.rows_rejected {
                0 => t(lang, "upload_stored"),
                n => t(lang, "upload_partly").replace("{n}", &n.to_string()),
            };
            row.push(format!(
                "<span class=\"{}\">{}</span>",
                Told::of(fo).class(),
                esc(&said)
            ));
            row.push(record.rows_read.to_string());
            row.push(record.rows_stored.to_string());
            row.push(record.rows_rejected.to_string());
            row.push(if record.reject_report.is_some() {
                link(
                    &format!("/rejects/{}?lang={}", enc(&record.batch_id), lang.code()),
                    &t(lang, "download_csv"),
                )
            } else {
                String::new()
            });
        }
        Outcome::Previewed(p) => {
            row.push(esc(&t(lang, "upload_previewed")));
            row.push(p.rows_read.to_string());
            row.push(p.rows_stored.to_string());
            row.push(p.rows_rejected.to_string());
            row.push(String::new());
        }
        Outcome::AlreadyIngested { batch_id } => {
            row.push(format!("{} ({batch_id})", esc(&t(lang, "upload_already"))));
            row.extend([String::new(), String::new(), String::new(), String::new()]);
        }
        Outcome::Rejected { problem } => {
            row.push(format!(
                "<span class=\"error\">{}</span>: {}",
                esc(&t(lang, "upload_rejected")),
                esc(&problem.render(lang))
            ));
            row.extend([String::new(), String::new(), String::new(), String::new()]);
        }
    }
    row
}
