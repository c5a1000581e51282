//! The ingest of a set of files: each file is one batch; files are read and cleaned in
//! parallel, then committed in their given order, several small files to a commit, never one
//! file across two.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use edulake_schemas::lake::{RejectedFile, REJECT_REPORT_HEADER};
use edulake_schemas::msg;
use edulake_schemas::text::spreadsheet_safe;
use edulake_schemas::words::{Lang, Msg};
use edulake_schemas::Dataset;

use crate::clean::{clean, CleanContext, HeaderReport, Reject, Upload};
use crate::error::Result;
use crate::lake::{identity, BatchRecord, Fault, FileBatches, Lake};
use crate::profile::{Choice, Profiles};
use crate::pseudo::Key;
use crate::read::read_table_for;
use crate::state::StateDir;

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub dataset: &'static Dataset,
    pub upload: Upload,
    /// The bureau's time zone, for local timestamps and "not in the future".
    pub tz: Tz,
    /// Today in the bureau's time zone (dates after it are rejected).
    pub today: NaiveDate,
    /// The earliest date accepted (`EDULAKE_EARLIEST_DATE`, default 2000-01-01).
    pub earliest: NaiveDate,
    /// Worker threads reading and cleaning files.
    pub threads: usize,
    pub fault: Fault,
    /// The names files were sent under where the file on disk is named otherwise (an upload
    /// through the cockpit is kept under a name of the server's own): the batch records it,
    /// and a date in it counts as a date in the file's name.
    pub names: std::collections::HashMap<PathBuf, String>,
    /// Read, check and clean each file and say what would be stored, storing nothing: no
    /// table, batch record or reject report is written ([`Outcome::Previewed`]).
    pub dry_run: bool,
    /// The profiles a file may be read with, chosen by its headers among those that serve
    /// [`IngestOptions::dataset`] ([`Profiles::choose`]).
    pub profiles: Arc<Profiles>,
    /// The profile every file is read with (`--profile`): no other is chosen.
    pub profile: Option<Choice>,
    /// How far the ingest has got, for a progress bar.
    pub progress: Arc<crate::progress::Progress>,
    /// The profile chosen for each file, and why.
    chosen: HashMap<PathBuf, Choice>,
}

impl IngestOptions {
    pub fn new(dataset: &'static Dataset, tz: Tz) -> Self {
        IngestOptions {
            dataset,
            upload: Upload::default(),
            tz,
            today: crate::values::today(tz),
            earliest: crate::values::Window::up_to(crate::values::today(tz))
                .map(|w| w.earliest)
                .unwrap_or(crate::values::Window::DEFAULT_EARLIEST),
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .min(8),
            fault: Fault::None,
            names: Default::default(),
            dry_run: false,
            profiles: Arc::new(Profiles::built_in()),
            profile: None,
            progress: Default::default(),
            chosen: Default::default(),
        }
    }

    /// The profile a file is read with, if any.
    fn profile_of(&self, path: &Path) -> Option<&Choice> {
        self.profile.as_ref().or_else(|| self.chosen.get(path))
    }

    /// The name a file was sent under: its own, unless [`IngestOptions::names`] says.
    pub fn sent_as(&self, path: &Path) -> PathBuf {
        match self.names.get(path) {
            Some(name) => PathBuf::from(name),
            None => path.to_path_buf(),
        }
    }
}

/// What became of one file.
/// One per file, so its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Stored as a batch (possibly with rejected rows, possibly with none stored).
    Stored {
        record: BatchRecord,
        header: HeaderReport,
        /// The reject report in the state directory, if any row was rejected.
        reject_report: Option<PathBuf>,
        /// The first rejected cells ([`PREVIEW_ROWS`]), to show beside the outcome.
        first_rejects: Vec<Reject>,
    },
    /// The same file was ingested before, for the same school and date: nothing changed.
    AlreadyIngested { batch_id: String },
    /// The whole file was rejected; nothing of it was stored.
    Rejected { problem: Msg },
    /// A dry run: what would have been stored, nothing of it stored.
    Previewed(Box<Preview>),
}

/// What a file would become ([`IngestOptions::dry_run`]).
#[derive(Debug, Clone)]
pub struct Preview {
    /// The format and encoding it was read as.
    pub format: String,
    pub header: HeaderReport,
    pub rows_read: u64,
    pub rows_stored: u64,
    pub rows_rejected: u64,
    /// The first rows as they would be stored (persons pseudonymised).
    pub first_rows: Option<arrow::record_batch::RecordBatch>,
    /// The first rejected rows, and how many there are in all.
    pub rejects: Vec<Reject>,
}

/// How many stored rows and rejects a preview shows.
pub const PREVIEW_ROWS: usize = 10;

#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub path: PathBuf,
    /// The table the file went to: the dataset asked for, or the one its profile's shape
    /// stores (an exception register, a class report).
    pub dataset: &'static Dataset,
    pub outcome: Outcome,
}

/// Expands files and folders (recursively, sorted, hidden files skipped) into files.
pub fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(_) => {
                    out.push(p.to_path_buf());
                    return;
                }
            };
            entries.sort();
            for e in entries {
                let hidden = e
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.') || n.starts_with('~'));
                if !hidden {
                    walk(&e, out);
                }
            }
        } else {
            out.push(p.to_path_buf());
        }
    }
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out);
    }
    out
}

/// A file read and cleaned, waiting for its commit.
struct Prepared {
    record: BatchRecord,
    header: HeaderReport,
    batches: Vec<arrow::record_batch::RecordBatch>,
    reject_report: Option<PathBuf>,
    first_rejects: Vec<Reject>,
}

#[allow(clippy::large_enum_variant)]
enum Work {
    Ready(Box<Prepared>),
    Done(Outcome),
}

/// The identity of an upload for "the same file ingested twice": its bytes and what the
/// upload said about them (or the file's name, about its date).
fn upload_identity(sha: &str, upload: &Upload, file: &Path) -> String {
    identity(
        sha,
        upload.school.as_deref(),
        upload.as_of.map(|d| d.to_string()).as_deref(),
        upload.described_for(file).as_deref(),
    )
}

/// Commit when a group holds this many rows or files.
const GROUP_ROWS: u64 = 1_000_000;
const GROUP_FILES: usize = 256;

/// Ingests files as one batch each. Each file is read with the profile its headers select
/// (unless [`IngestOptions::profile`] names one), and stored where that profile's shape goes.
/// `on_file` is called once per file as soon as its outcome is final: in order within the
/// files of one table and profile. Returns every outcome in the order of the files. Returns
/// `Err` only when the lake or the configuration fails; a bad file is an
/// [`Outcome::Rejected`].
pub async fn ingest(
    lake: &Lake,
    state: &StateDir,
    key: &Key,
    opts: &IngestOptions,
    paths: &[PathBuf],
    on_file: &mut (dyn FnMut(&FileOutcome) + Send),
) -> Result<Vec<FileOutcome>> {
    let files = expand(paths);
    if let Some(c) = &opts.profile {
        let mut opts = opts.clone();
        opts.dataset = c.profile.stored;
        let outcomes = ingest_files(lake, state, key, &opts, files, on_file).await?;
        if !opts.dry_run {
            log_rejected(state, &opts, &outcomes)?;
        }
        return Ok(outcomes);
    }
    // Each file's profile, from its first rows (read on worker threads).
    let (profiles, requested) = (opts.profiles.clone(), opts.dataset);
    let listed = files.clone();
    let threads = opts.threads.max(1);
    let choices = tokio::task::spawn_blocking(move || {
        // The files' heads are read on as many threads as their ingest.
        let per = listed.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = listed
                .chunks(per)
                .map(|part| {
                    let profiles = &profiles;
                    scope.spawn(move || {
                        part.iter()
                            .map(|p| choose_for(profiles, requested, p))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect::<Vec<_>>()
        })
    })
    .await
    .map_err(|e| crate::IngestError::Internal(format!("choosing profiles: {e}")))?;
    if choices.len() != files.len() {
        return Err(crate::IngestError::Internal(
            "choosing profiles failed on a file".into(),
        ));
    }
    // Files of one table and profile go together, in their order.
    let mut groups: Vec<ProfileGroup<'_>> = Vec::new();
    let mut opts = opts.clone();
    for (i, (path, choice)) in files.into_iter().zip(choices).enumerate() {
        let name = choice.as_ref().map(|c| c.profile.name.clone());
        let table = choice.as_ref().map_or(requested, |c| c.profile.stored);
        if let Some(c) = choice {
            opts.chosen.insert(path.clone(), c);
        }
        match groups
            .iter_mut()
            .find(|(n, t, _)| *n == name && std::ptr::eq(*t, table))
        {
            Some((_, _, members)) => members.push((i, path)),
            None => groups.push((name, table, vec![(i, path)])),
        }
    }
    let mut all: Vec<(usize, FileOutcome)> = Vec::new();
    for (_, table, members) in groups {
        let mut opts = opts.clone();
        opts.dataset = table;
        let (at, files): (Vec<usize>, Vec<PathBuf>) = members.into_iter().unzip();
        let done = ingest_files(lake, state, key, &opts, files, on_file).await?;
        all.extend(at.into_iter().zip(done));
    }
    all.sort_by_key(|(i, _)| *i);
    let outcomes: Vec<FileOutcome> = all.into_iter().map(|(_, fo)| fo).collect();
    if !opts.dry_run {
        log_rejected(state, &opts, &outcomes)?;
    }
    Ok(outcomes)
}

/// Records the files rejected whole in the state directory: nothing of them is in the lake,
/// and the school's Data page lists them.
fn log_rejected(state: &StateDir, opts: &IngestOptions, outcomes: &[FileOutcome]) -> Result<()> {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let rejected: Vec<RejectedFile> = outcomes
        .iter()
        .filter_map(|fo| match &fo.outcome {
            Outcome::Rejected { problem } => Some(RejectedFile {
                at: at.clone(),
                dataset: opts.dataset.name.to_string(),
                school: opts.upload.school.clone(),
                file: opts
                    .sent_as(&fo.path)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                reason_zh: problem.render(Lang::Zh),
                reason_en: problem.render(Lang::En),
            }),
            _ => None,
        })
        .collect();
    state.log_rejected(&rejected)
}

/// Files read with one profile (or none) into one table: `(profile, table, [(place, file)])`.
type ProfileGroup<'a> = (Option<String>, &'a Dataset, Vec<(usize, PathBuf)>);

/// The profile a file's first rows select, if any. A file that cannot be read gets none: its
/// ingest says why.
fn choose_for(profiles: &Profiles, requested: &'static Dataset, path: &Path) -> Option<Choice> {
    if !profiles.all().iter().any(|p| p.serves(requested)) {
        return None;
    }
    // A reader's bug costs the file its profile, not the ingest (which then says what it is).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        choose_from_head(profiles, requested, path)
    }))
    .ok()
    .flatten()
}

fn choose_from_head(
    profiles: &Profiles,
    requested: &'static Dataset,
    path: &Path,
) -> Option<Choice> {
    let bytes = head_of(path)?;
    let mut table = read_table_for(bytes, Some(requested.name)).ok()?;
    profiles.choose(requested, &mut table.rows).ok().flatten()
}

/// Enough of a file to find its header: a text file's first 64 KiB up to a line end; any other
/// file whole (a workbook or an archive is read from its end, XML by its records).
fn head_of(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    const HEAD: usize = 64 << 10;
    let mut file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::with_capacity(HEAD);
    (&mut file).take(HEAD as u64).read_to_end(&mut bytes).ok()?;
    // XML is read whole: its most common record may come after its head.
    let markup = bytes
        .iter()
        .find(|b| !(b.is_ascii_whitespace() || matches!(**b, 0xEF | 0xBB | 0xBF)))
        .is_some_and(|b| *b == b'<');
    let packed = markup
        || bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        || bytes.starts_with(&[0x1f, 0x8b])
        || bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF]);
    if packed {
        file.read_to_end(&mut bytes).ok()?;
    } else if bytes.len() == HEAD {
        let cut = memchr::memrchr(b'\n', &bytes).map_or(HEAD, |i| i + 1);
        bytes.truncate(cut);
    }
    Some(bytes)
}

/// [`ingest`] of files that all go to one table with one profile (or none).
async fn ingest_files(
    lake: &Lake,
    state: &StateDir,
    key: &Key,
    opts: &IngestOptions,
    files: Vec<PathBuf>,
    on_file: &mut (dyn FnMut(&FileOutcome) + Send),
) -> Result<Vec<FileOutcome>> {
    let d = opts.dataset;
    // A malformed EDULAKE_EARLIEST_DATE is the operator's to fix, not a default to guess.
    crate::values::Window::up_to(opts.today)
        .map_err(|e| crate::IngestError::Config(e.to_string()))?;
    // A dry run writes nothing, not even a new lake's batch index (nor brings it up to date:
    // it commits nothing that would need it).
    let (known, seen_version) = if opts.dry_run {
        lake.check_key_if_any(&key.fingerprint()).await?;
        (lake.batches().await?, -1)
    } else {
        lake.check_key(&key.fingerprint()).await?;
        let mut known = lake.batches().await?;
        let (caught_up, seen_version) = lake.sync_batches(d, &known).await?;
        known.extend(caught_up);
        (known, seen_version)
    };
    let mut seen: HashMap<String, String> = known
        .iter()
        .filter(|r| r.dataset == d.name)
        .map(|r| (r.identity(), r.batch_id.clone()))
        .collect();
    let known_ids = Arc::new(seen.clone());

    let files = Arc::new(files);
    let next = Arc::new(AtomicUsize::new(0));
    let base_time = chrono::Utc::now().timestamp_micros();
    let workers = opts.threads.max(1).min(files.len().max(1));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Work)>(workers * 2);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (tx, files, next, known_ids) =
            (tx.clone(), files.clone(), next.clone(), known_ids.clone());
        let (opts, key, state) = (opts.clone(), key.clone(), state.clone());
        handles.push(tokio::task::spawn_blocking(move || loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            let Some(path) = files.get(i) else { break };
            // A bug in a reader must cost one file, not the rest of the ingest.
            let work = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                prepare(path, &opts, &key, &state, &known_ids, base_time + i as i64)
            }))
            .unwrap_or_else(|_| {
                Work::Done(Outcome::Rejected {
                    problem: msg!("internal_failure"),
                })
            });
            if tx.blocking_send((i, work)).is_err() {
                break;
            }
        }));
    }
    drop(tx);

    let mut outcomes: Vec<FileOutcome> = Vec::with_capacity(files.len());
    let mut pending: BTreeMap<usize, Work> = BTreeMap::new();
    let mut next_out = 0usize;
    let mut group = Group::default();
    // The table version up to which every committed file is known (by `seen`, then by each
    // commit, which reads what other processes committed since).
    let mut seen_version = seen_version;
    // One commit runs while the workers go on reading the files of the next.
    let mut in_flight: Option<tokio::task::JoinHandle<Result<GroupDone>>> = None;
    let mut report = |done: Vec<FileOutcome>, outcomes: &mut Vec<FileOutcome>| {
        for fo in done {
            on_file(&fo);
            outcomes.push(fo);
        }
    };
    let mut receiving = true;
    while receiving || in_flight.is_some() {
        // Read ahead up to two groups while a commit runs; then wait for it.
        let can_receive = receiving
            && (in_flight.is_none()
                || group.rows < 2 * GROUP_ROWS && group.files < 2 * GROUP_FILES);
        tokio::select! {
            msg = rx.recv(), if can_receive => {
                match msg {
                    Some((i, w)) => {
                        pending.insert(i, w);
                    }
                    None => receiving = false,
                }
                while let Some(w) = pending.remove(&next_out) {
                    let item = match w {
                        Work::Done(outcome) => Grouped::Final(outcome),
                        Work::Ready(p) => {
                            let id = upload_identity(
                                &p.record.source_sha256,
                                &opts.upload,
                                Path::new(&p.record.source_file),
                            );
                            match seen.get(&id) {
                                // The same file twice in one call: the second changes nothing.
                                Some(batch_id) => Grouped::Final(Outcome::AlreadyIngested { batch_id: batch_id.clone() }),
                                None => {
                                    seen.insert(id, p.record.batch_id.clone());
                                    group.rows += p.record.rows_stored;
                                    group.files += 1;
                                    Grouped::File(p)
                                }
                            }
                        }
                    };
                    group.items.push((next_out, item));
                    next_out += 1;
                }
            }
            done = async { in_flight.as_mut().expect("guarded by is_some").await }, if in_flight.is_some() => {
                in_flight = None;
                let (done, version) = joined(done)?;
                seen_version = seen_version.max(version);
                report(done, &mut outcomes);
            }
        }
        let full = group.rows >= GROUP_ROWS || group.files >= GROUP_FILES;
        let only_reports = group.files == 0 && !group.items.is_empty();
        if in_flight.is_none() && (full || only_reports || (!receiving && !group.items.is_empty()))
        {
            let g = std::mem::take(&mut group);
            in_flight = Some(tokio::spawn(commit_group(
                lake.clone(),
                opts.clone(),
                g,
                files.clone(),
                seen_version,
            )));
        }
    }
    for h in handles {
        let _ = h.await;
    }
    if outcomes.len() != files.len() {
        return Err(crate::IngestError::Internal(format!(
            "{} of {} files got no outcome",
            files.len() - outcomes.len(),
            files.len()
        )));
    }
    Ok(outcomes)
}

/// A commit group's outcomes, in order, and the table version up to which every committed
/// file is known.
type GroupDone = (Vec<FileOutcome>, i64);

fn joined(r: std::result::Result<Result<GroupDone>, tokio::task::JoinError>) -> Result<GroupDone> {
    r.map_err(|e| crate::IngestError::Internal(format!("commit task failed: {e}")))?
}

/// Files waiting for one commit, and outcomes waiting to be reported in order.
#[derive(Default)]
struct Group {
    items: Vec<(usize, Grouped)>,
    rows: u64,
    files: usize,
}

#[allow(clippy::large_enum_variant)]
enum Grouped {
    File(Box<Prepared>),
    Final(Outcome),
}

/// Commits a group of prepared files (one commit) and returns every item's outcome in order,
/// and the table version up to which every committed file is known.
async fn commit_group(
    lake: Lake,
    opts: IngestOptions,
    g: Group,
    files: Arc<Vec<PathBuf>>,
    seen_version: i64,
) -> Result<GroupDone> {
    let mut items = Vec::with_capacity(g.items.len());
    let mut to_commit = Vec::new();
    for (i, item) in g.items {
        match item {
            Grouped::File(p) => {
                let p = *p;
                to_commit.push(FileBatches {
                    record: p.record.clone(),
                    batches: p.batches,
                });
                items.push((
                    i,
                    Grouped::File(Box::new(Prepared {
                        record: p.record,
                        header: p.header,
                        batches: Vec::new(),
                        reject_report: p.reject_report,
                        first_rejects: p.first_rejects,
                    })),
                ));
            }
            other => items.push((i, other)),
        }
    }
    let committed = if to_commit.is_empty() {
        crate::lake::Committed {
            seen_version,
            ..Default::default()
        }
    } else {
        lake.commit(opts.dataset, to_commit, seen_version, opts.fault)
            .await?
    };
    let mut by_id: HashMap<String, BatchRecord> = committed
        .stored
        .into_iter()
        .map(|r| (r.batch_id.clone(), r))
        .collect();
    let already: HashMap<String, String> = committed.already.into_iter().collect();
    let outcomes = items
        .into_iter()
        .map(|(i, item)| {
            let outcome = match item {
                Grouped::Final(o) => o,
                Grouped::File(p) => {
                    let p = *p;
                    if let Some(theirs) = already.get(&p.record.batch_id) {
                        // Another process stored the same file first: its reject report,
                        // written for a batch that does not exist, goes.
                        if let Some(report) = &p.reject_report {
                            let _ = std::fs::remove_file(report);
                        }
                        Outcome::AlreadyIngested {
                            batch_id: theirs.clone(),
                        }
                    } else {
                        let record = by_id.remove(&p.record.batch_id).unwrap_or(p.record);
                        Outcome::Stored {
                            record,
                            header: p.header,
                            reject_report: p.reject_report,
                            first_rejects: p.first_rejects,
                        }
                    }
                }
            };
            FileOutcome {
                path: files[i].clone(),
                dataset: opts.dataset,
                outcome,
            }
        })
        .collect();
    Ok((outcomes, committed.seen_version))
}

/// Reads, checks and cleans one file (on a worker thread).
fn prepare(
    path: &Path,
    opts: &IngestOptions,
    key: &Key,
    state: &StateDir,
    known: &HashMap<String, String>,
    ingested_at: i64,
) -> Work {
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    // Whatever way the file ends, its bytes count as read once this is dropped.
    let progress = crate::progress::FileProgress::new(opts.progress.clone(), file_bytes);
    if file_bytes > crate::limits::MAX_FILE_BYTES {
        return Work::Done(Outcome::Rejected {
            problem: msg!(
                "file_too_big",
                size = file_bytes >> 20,
                limit = crate::limits::MAX_FILE_BYTES >> 20
            ),
        });
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Work::Done(Outcome::Rejected {
                problem: msg!("file_unreadable", detail = e.to_string()),
            })
        }
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    if let Some(batch_id) = known.get(&upload_identity(&sha, &opts.upload, &opts.sent_as(path))) {
        return Work::Done(Outcome::AlreadyIngested {
            batch_id: batch_id.clone(),
        });
    }
    let mut table = match read_table_for(bytes, Some(opts.dataset.name)) {
        Ok(t) => t,
        Err(problem) => return Work::Done(Outcome::Rejected { problem }),
    };
    let read_notes = std::mem::take(&mut table.notes);
    let batch_id = uuid::Uuid::now_v7().to_string();
    let ctx = CleanContext {
        dataset: opts.dataset,
        upload: &opts.upload,
        key,
        tz: opts.tz,
        window: crate::values::Window {
            earliest: opts.earliest,
            today: opts.today,
        },
        batch_id: &batch_id,
        ingested_at,
        file_date: opts
            .sent_as(path)
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(crate::clean::file_name_date),
        profile: opts.profile_of(path),
        progress: Some(&progress),
    };
    let mut format = table.sniffed.to_string();
    if let Some(c) = opts.profile_of(path) {
        format.push_str(&format!("; profile {}", c.profile.name));
    }
    let mut cleaned = match clean(&ctx, table.rows, table.spreadsheet) {
        Ok(c) => c,
        Err(problem) => return Work::Done(Outcome::Rejected { problem }),
    };
    cleaned.header.notes.splice(0..0, read_notes);
    if opts.dry_run {
        let first_rows = cleaned
            .batches
            .first()
            .map(|b| b.slice(0, b.num_rows().min(PREVIEW_ROWS)));
        return Work::Done(Outcome::Previewed(Box::new(Preview {
            format,
            header: cleaned.header,
            rows_read: cleaned.rows_read,
            rows_stored: cleaned.rows_stored,
            rows_rejected: cleaned.rows_rejected,
            first_rows,
            rejects: cleaned.rejects.into_iter().take(PREVIEW_ROWS).collect(),
        })));
    }
    let mut reject_report = None;
    let mut report_rel = None;
    if !cleaned.rejects.is_empty() {
        let p = state.reject_report(opts.dataset.name, &batch_id);
        if let Err(e) = state.write(&p, &reject_report_csv(&cleaned.rejects)) {
            return Work::Done(Outcome::Rejected {
                problem: msg!("reject_report_unwritable", detail = e.to_string()),
            });
        }
        report_rel = p
            .strip_prefix(state.root())
            .ok()
            .map(|r| r.display().to_string());
        reject_report = Some(p);
    }
    let record = BatchRecord {
        batch_id,
        dataset: opts.dataset.name.to_string(),
        school_code: opts.upload.school.clone(),
        as_of_date: opts.upload.as_of.map(|d| d.to_string()),
        upload: opts.upload.described_for(&opts.sent_as(path)),
        source_file: opts.sent_as(path).display().to_string(),
        source_sha256: sha,
        format,
        rows_read: cleaned.rows_read,
        rows_stored: cleaned.rows_stored,
        rows_rejected: cleaned.rows_rejected,
        ingested_at,
        table_version: -1,
        dates: cleaned.partitions,
        reject_report: report_rel,
    };
    Work::Ready(Box::new(Prepared {
        record,
        header: cleaned.header,
        batches: cleaned.batches,
        reject_report,
        first_rejects: cleaned.rejects.into_iter().take(PREVIEW_ROWS).collect(),
    }))
}

/// A reject report as kept: CSV in UTF-8 with a BOM, its reasons in both languages
/// ([`REJECT_REPORT_HEADER`]); a download gives the reader's language alone
/// (`edulake_transform`'s reject report).
pub fn reject_report_csv(rejects: &[Reject]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let _ = w.write_record(REJECT_REPORT_HEADER);
    for r in rejects {
        let _ = w.write_record([
            r.row.to_string().as_str(),
            &spreadsheet_safe(&r.column),
            &spreadsheet_safe(&r.value),
            &spreadsheet_safe(&r.reason.render(Lang::Zh)),
            &spreadsheet_safe(&r.reason.render(Lang::En)),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
