//! Pulling extracts from where school systems leave them (issue "Pull"): a sources file
//! describes each source as data, and each source keeps in the state directory what it has
//! taken, so that a file is ingested once, and only once it is whole.
//!
//! A source is a folder (a drop folder per school, or one for all) polled for files. A file is
//! taken when it has not changed for the source's `settle` time (a file still being written
//! is not), and is remembered by its name, size and modification time once its ingest has
//! ended: a crash before that ingests it again, which the batch identity makes a no-op, and
//! never skips it. One pull of a source runs at a time, across processes (a lock file).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use std::collections::BTreeMap;

use serde::Deserialize;

use edulake_schemas::msg;
use edulake_schemas::words::{Arg, Msg};
use edulake_schemas::Dataset;

pub use edulake_schemas::pull::{Cursor, Seen};

use crate::state::StateDir;

/// A source as its file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    name: String,
    dataset: Option<String>,
    profile: Option<String>,
    #[serde(default)]
    exceptions: bool,
    school: Option<String>,
    every: Option<String>,
    settle: Option<String>,
    expect: Option<String>,
    folder: Option<PathBuf>,
    s3: Option<String>,
    http: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    since: Option<String>,
    next: Option<String>,
    file: Option<String>,
    records: Option<String>,
    timeout: Option<String>,
    #[serde(default)]
    files: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<SourceFile>,
}

/// One source, checked.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// The dataset its files are (an exception register's is `attendance` with
    /// [`Source::exceptions`]).
    pub dataset: &'static Dataset,
    /// The profile its files are read with; else each file's headers choose.
    pub profile: Option<String>,
    /// Its attendance files list only the students not present.
    pub exceptions: bool,
    /// The school every file is of; else the files say.
    pub school: Option<String>,
    /// How often it is polled.
    pub every: Duration,
    /// How long a file must stay unchanged to be taken.
    pub settle: Duration,
    /// How long the source may go without a new file before the cockpit says it is quiet.
    pub expect: Duration,
    /// Where its files are.
    pub place: Place,
    /// The names taken (`*.csv`); none: every file.
    pub files: Vec<String>,
}

/// Where a source's files are.
#[derive(Debug, Clone)]
pub enum Place {
    /// A local folder or network share (recursively).
    Folder(PathBuf),
    /// The objects under a prefix of an S3-compatible bucket (credentials and endpoint from
    /// the usual `AWS_*` variables, never from the sources file).
    S3 { bucket: String, prefix: String },
    /// An HTTP(S) endpoint answering with an export.
    Http(Http),
}

/// An HTTP source: where, with which headers (their secrets from the environment), the query
/// parameter carrying the incremental cursor, how its pages follow one another, the name each
/// page is read under, and how long an answer may take.
#[derive(Debug, Clone)]
pub struct Http {
    pub url: url::Url,
    /// Each header and its value as written, `${NAME}` standing for the environment's NAME.
    pub headers: Vec<(String, String)>,
    /// The parameter given the time of the last pull that ended well (`?since=…`).
    pub since: Option<String>,
    /// The next page: `link` (a `Link: <…>; rel="next"` header), `body:FIELD` (a JSON
    /// answer's field holding the next page's URL), `cursor:FIELD:PARAM` (a JSON answer's
    /// field holding a token given as PARAM for the next page) or `page:PARAM` (page numbers
    /// from 1 in that parameter, until a page comes back empty).
    pub next: Option<String>,
    /// The name each page is read under (its format by its extension): `export.csv`.
    pub file: String,
    /// For a JSON answer, the field holding its records (`data`): they are read as JSON lines.
    pub records: Option<String>,
    pub timeout: Duration,
}

/// Header names that carry a secret: their value must come from the environment.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "api-key",
    "token",
    "x-token",
    "cookie",
];

/// A duration as a sources file writes it: `30s`, `5m`, `1h`, `1d`.
fn duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Reads and checks a sources file: each mistake is said with the source it is in. `profiles`
/// names the profiles there are.
pub fn parse(text: &str, profiles: &crate::profile::Profiles) -> Result<Vec<Source>, Msg> {
    let file: SourcesFile = toml::from_str(text)
        .map_err(|e| msg!("pull_toml", detail = e.to_string().trim().to_string()))?;
    if file.source.is_empty() {
        return Err(msg!("pull_none"));
    }
    let mut out: Vec<Source> = Vec::new();
    for (i, s) in file.source.into_iter().enumerate() {
        let at = |problem: Msg| {
            msg!(
                "pull_in_source",
                number = i + 1,
                name = &s.name,
                problem = problem
            )
        };
        if s.name.trim().is_empty() {
            return Err(at(msg!("pull_no_name")));
        }
        if out.iter().any(|o| o.name == s.name) {
            return Err(at(msg!("pull_name_twice")));
        }
        let profile = match &s.profile {
            None => None,
            Some(p) => Some(profiles.get(p).ok_or_else(|| {
                let names: Vec<&str> = profiles.all().iter().map(|p| p.name.as_str()).collect();
                at(msg!(
                    "pull_unknown_profile",
                    profile = p,
                    profiles = Arg::texts(&names)
                ))
            })?),
        };
        let dataset = match (&s.dataset, &profile) {
            (Some(d), _) => edulake_schemas::by_name(d).ok_or_else(|| {
                at(msg!(
                    "pull_unknown_dataset",
                    dataset = d,
                    datasets = edulake_schemas::names().join(", ")
                ))
            })?,
            (None, Some(p)) => p.dataset,
            (None, None) => return Err(at(msg!("pull_no_dataset"))),
        };
        if let Some(p) = &profile {
            if !p.serves(dataset) {
                return Err(at(msg!(
                    "pull_profile_other",
                    profile = &p.name,
                    dataset = Arg::Dataset(dataset.name)
                )));
            }
        }
        if s.exceptions && dataset.name != "attendance" {
            return Err(at(msg!("pull_exceptions_not_attendance")));
        }
        if let Some(code) = &s.school {
            crate::values::check_school_code(code).map_err(at)?;
        }
        let every = match &s.every {
            None => Duration::from_secs(600),
            Some(e) => duration(e)
                .ok_or_else(|| at(msg!("pull_bad_duration", key = "every", value = e)))?,
        };
        let settle = match &s.settle {
            None => Duration::from_secs(10),
            Some(e) => duration(e)
                .ok_or_else(|| at(msg!("pull_bad_duration", key = "settle", value = e)))?,
        };
        let expect = match &s.expect {
            None => Duration::from_secs(86_400),
            Some(e) => duration(e)
                .ok_or_else(|| at(msg!("pull_bad_duration", key = "expect", value = e)))?,
        };
        let place = match (&s.folder, &s.s3) {
            (None, None) if s.http.is_some() => {
                let raw = s.http.as_deref().unwrap_or_default();
                let url = url::Url::parse(raw)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| at(msg!("pull_bad_http", url = raw)))?;
                for (h, v) in &s.headers {
                    let secret = SECRET_HEADERS.contains(&h.to_ascii_lowercase().as_str());
                    if secret && !v.contains("${") {
                        return Err(at(msg!("pull_inline_secret", header = h)));
                    }
                }
                if let Some(n) = &s.next {
                    let cursor_ok = n.strip_prefix("cursor:").is_some_and(|r| {
                        r.split_once(':')
                            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                    });
                    if n != "link"
                        && !n.starts_with("body:")
                        && !n.starts_with("page:")
                        && !cursor_ok
                    {
                        return Err(at(msg!("pull_bad_next", value = n)));
                    }
                }
                let timeout = match &s.timeout {
                    None => Duration::from_secs(60),
                    Some(t) => duration(t)
                        .ok_or_else(|| at(msg!("pull_bad_duration", key = "timeout", value = t)))?,
                };
                Place::Http(Http {
                    url,
                    headers: s.headers.clone().into_iter().collect(),
                    since: s.since.clone(),
                    next: s.next.clone(),
                    file: s.file.clone().unwrap_or_else(|| {
                        if s.records.is_some() {
                            "export.jsonl"
                        } else {
                            "export.csv"
                        }
                        .into()
                    }),
                    records: s.records.clone(),
                    timeout,
                })
            }
            (Some(folder), None) if s.http.is_none() => {
                if !folder.is_dir() {
                    return Err(at(msg!(
                        "pull_folder_missing",
                        folder = folder.display().to_string()
                    )));
                }
                Place::Folder(folder.clone())
            }
            (None, Some(url)) if s.http.is_none() => {
                let u = url::Url::parse(url)
                    .ok()
                    .filter(|u| u.scheme() == "s3" && u.host_str().is_some())
                    .ok_or_else(|| at(msg!("pull_bad_s3", url = url)))?;
                Place::S3 {
                    bucket: u.host_str().unwrap_or_default().to_string(),
                    prefix: u.path().trim_start_matches('/').to_string(),
                }
            }
            _ => return Err(at(msg!("pull_no_folder"))),
        };
        out.push(Source {
            name: s.name.clone(),
            dataset,
            profile: profile.map(|p| p.name.clone()),
            exceptions: s.exceptions,
            school: s.school.clone(),
            every,
            settle,
            expect,
            place,
            files: s.files.clone(),
        });
    }
    Ok(out)
}

/// A source's cursor; a new one before its first pull.
pub fn load_cursor(state: &StateDir, source: &str) -> Result<Cursor, Msg> {
    Cursor::read(state.root(), source).map_err(|e| msg!("pull_cursor_bad", detail = e))
}

/// Keeps a source's cursor, whole or not at all (written aside, then renamed over the old one).
pub fn save_cursor(cursor: &Cursor, state: &StateDir, source: &str) -> Result<(), Msg> {
    let path = state
        .root()
        .join(edulake_schemas::pull::cursor_path(source));
    let aside = path.with_extension("json.new");
    let bytes = serde_json::to_vec_pretty(cursor)
        .map_err(|e| msg!("pull_cursor_bad", detail = e.to_string()))?;
    state
        .write(&aside, &bytes)
        .map_err(|e| msg!("pull_cursor_bad", detail = e.to_string()))?;
    std::fs::rename(&aside, &path).map_err(|e| msg!("pull_cursor_bad", detail = e.to_string()))
}

/// A source's lock: one pull of it at a time, across processes; released when dropped (or
/// when its process ends, however it ends).
pub struct Lock(#[allow(dead_code)] std::fs::File);

impl Lock {
    /// The source's lock, or `None` when another pull of it holds it.
    pub fn take(state: &StateDir, source: &str) -> Result<Option<Lock>, Msg> {
        let path = state.root().join(edulake_schemas::pull::lock_path(source));
        let file = state
            .create_keep(&path)
            .map_err(|e| msg!("pull_cursor_bad", detail = e.to_string()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Lock(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(msg!("pull_cursor_bad", detail = e.to_string()))
            }
        }
    }
}

/// Whether a file's name is one the source takes.
fn wanted(source: &Source, name: &str) -> bool {
    if name.starts_with('.') || name.starts_with('~') {
        return false;
    }
    source.files.is_empty()
        || source.files.iter().any(|p| match p.strip_prefix('*') {
            Some(suffix) => name.to_lowercase().ends_with(&suffix.to_lowercase()),
            None => name == p,
        })
}

/// The files of a source to take now: wanted, not taken as they are, and unchanged for the
/// source's settle time (`now`: the time of the look). Sorted by path.
pub fn due(source: &Source, cursor: &Cursor, now: SystemTime) -> Vec<(PathBuf, String, Seen)> {
    let Place::Folder(folder) = &source.place else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in crate::pipeline::expand(std::slice::from_ref(folder)) {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !wanted(source, name) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        // A file changed within the settle time may still be being written.
        if now.duration_since(modified).unwrap_or_default() < source.settle {
            continue;
        }
        let seen = Seen {
            size: meta.len(),
            modified: modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        };
        let rel = path
            .strip_prefix(folder)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if cursor.taken.get(&rel) == Some(&seen) {
            continue;
        }
        out.push((path, rel, seen));
    }
    out
}

/// The objects of an S3 source to take now (wanted, not taken as they are, unchanged for the
/// settle time), each fetched into `inbox` under its own name: (the local copy, its key, how
/// it was). A failure of the store is the pull's.
pub async fn due_s3(
    source: &Source,
    cursor: &Cursor,
    inbox: &Path,
) -> Result<Vec<(PathBuf, String, Seen)>, Msg> {
    use futures::TryStreamExt;
    use object_store::{ObjectStore, ObjectStoreExt};
    let Place::S3 { bucket, prefix } = &source.place else {
        return Ok(Vec::new());
    };
    let failed = |e: object_store::Error| msg!("pull_s3_failed", detail = e.to_string());
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(failed)?;
    let at = (!prefix.is_empty()).then(|| object_store::path::Path::from(prefix.as_str()));
    let objects: Vec<object_store::ObjectMeta> = store
        .list(at.as_ref())
        .try_collect()
        .await
        .map_err(failed)?;
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for o in objects {
        let key = o.location.to_string();
        let Some(name) = o.location.filename().map(|n| n.to_string()) else {
            continue;
        };
        if !wanted(source, &name) {
            continue;
        }
        let age = now.signed_duration_since(o.last_modified);
        if age.to_std().unwrap_or_default() < source.settle {
            continue;
        }
        let seen = Seen {
            size: o.size,
            modified: o
                .last_modified
                .timestamp_nanos_opt()
                .map(|n| n.max(0) as u128)
                .unwrap_or_default(),
        };
        if cursor.taken.get(&key) == Some(&seen) {
            continue;
        }
        let bytes = store
            .get(&o.location)
            .await
            .map_err(failed)?
            .bytes()
            .await
            .map_err(failed)?;
        // Each object in a folder of its own: two keys may end in one name.
        let dir = inbox.join(format!("{}", out.len()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| msg!("pull_s3_failed", detail = e.to_string()))?;
        let local = dir.join(&name);
        std::fs::write(&local, &bytes)
            .map_err(|e| msg!("pull_s3_failed", detail = e.to_string()))?;
        out.push((local, key, seen));
    }
    Ok(out)
}

/// The pages an HTTP source answers now, each saved into `inbox` under the source's file name
/// (numbered): the cursor given is the start of the last pull that ended well. A status other
/// than 200, a timeout or a page that breaks off is the pull's failure, said with the URL.
pub async fn due_http(
    source: &Source,
    cursor: &Cursor,
    inbox: &Path,
) -> Result<Vec<(PathBuf, String, Seen)>, Msg> {
    let Place::Http(h) = &source.place else {
        return Ok(Vec::new());
    };
    let client = reqwest::Client::builder()
        .timeout(h.timeout)
        .build()
        .map_err(|e| {
            msg!(
                "pull_http_failed",
                url = h.url.as_str(),
                detail = e.to_string()
            )
        })?;
    let mut url = h.url.clone();
    if let (Some(param), Some(since)) = (&h.since, &cursor.since) {
        url.query_pairs_mut().append_pair(param, since);
    }
    let paged = h.next.as_deref().and_then(|n| n.strip_prefix("page:"));
    let page_url = |base: &url::Url, n: u32| {
        let mut u = base.clone();
        if let Some(param) = paged {
            u.query_pairs_mut().append_pair(param, &n.to_string());
        }
        u
    };
    let base = url.clone();
    let mut page = 1u32;
    if paged.is_some() {
        url = page_url(&base, page);
    }
    let mut out = Vec::new();
    let mut seen_urls = std::collections::HashSet::new();
    while seen_urls.insert(url.to_string()) {
        let mut req = client.get(url.clone());
        for (name, value) in &h.headers {
            req = req.header(
                name,
                from_env(value)
                    .map_err(|m| msg!("pull_http_failed", url = url.as_str(), detail = m))?,
            );
        }
        let failed = |d: String| msg!("pull_http_failed", url = url.as_str(), detail = d);
        let resp = req.send().await.map_err(|e| failed(e.to_string()))?;
        let status = resp.status();
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(msg!(
                "pull_http_refused",
                url = url.as_str(),
                status = u32::from(status.as_u16())
            ));
        }
        if !status.is_success() {
            return Err(failed(format!("HTTP {status}")));
        }
        let link_next = resp
            .headers()
            .get_all(reqwest::header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))
            .and_then(|part| part.split(['<', '>']).nth(1).map(String::from));
        let body = resp.bytes().await.map_err(|e| failed(e.to_string()))?;
        // A JSON answer's records, as JSON lines.
        let kept: Vec<u8> = match &h.records {
            None => body.to_vec(),
            Some(field) => {
                let v: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| failed(e.to_string()))?;
                let items = v
                    .get(field)
                    .and_then(|r| r.as_array())
                    .ok_or_else(|| failed(format!("no array '{field}' in the answer")))?;
                let mut lines = Vec::new();
                for item in items {
                    lines.extend(serde_json::to_vec(item).map_err(|e| failed(e.to_string()))?);
                    lines.push(b'\n');
                }
                lines
            }
        };
        let empty = kept.iter().all(u8::is_ascii_whitespace);
        let next = match h.next.as_deref() {
            Some("link") => link_next,
            Some(p) if p.starts_with("page:") => (!empty).then(|| {
                page += 1;
                page_url(&base, page).to_string()
            }),
            Some(n) if n.starts_with("cursor:") => {
                let (field, param) = n["cursor:".len()..].split_once(':').unwrap_or_default();
                serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get(field).and_then(|c| c.as_str()).map(String::from))
                    .filter(|c| !c.is_empty())
                    .map(|c| {
                        let mut u = base.clone();
                        u.query_pairs_mut().append_pair(param, &c);
                        u.to_string()
                    })
            }
            Some(field) => field.strip_prefix("body:").and_then(|f| {
                serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get(f).and_then(|n| n.as_str()).map(String::from))
            }),
            None => None,
        };
        if !empty {
            let dir = inbox.join(out.len().to_string());
            std::fs::create_dir_all(&dir).map_err(|e| failed(e.to_string()))?;
            let local = dir.join(&h.file);
            std::fs::write(&local, &kept).map_err(|e| failed(e.to_string()))?;
            let seen = Seen {
                size: kept.len() as u64,
                modified: 0,
            };
            out.push((local, url.to_string(), seen));
        }
        match next.and_then(|n| url.join(&n).ok()) {
            Some(n) => url = n,
            None => break,
        }
    }
    Ok(out)
}

/// A header's value with each `${NAME}` replaced by the environment's NAME (a name not set is
/// an error: a secret is never guessed).
fn from_env(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("'{value}': an unclosed ${{"))?;
        let name = &after[..end];
        out.push_str(&std::env::var(name).map_err(|_| format!("the environment has no {name}"))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The sources file's place in messages and its text.
pub fn read_sources(path: &Path) -> Result<String, Msg> {
    std::fs::read_to_string(path).map_err(|e| {
        msg!(
            "pull_sources_unreadable",
            file = path.display().to_string(),
            detail = e.to_string()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read_as_written() {
        assert_eq!(duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(duration("0m"), None);
        assert_eq!(duration("5 minutes"), None);
    }

    #[test]
    fn a_sources_file_says_each_mistake_with_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().display().to_string().replace('\\', "/");
        let profiles = crate::profile::Profiles::built_in();
        let ok = format!(
            "[[source]]\nname = \"一中\"\ndataset = \"attendance\"\nfolder = \"{folder}\"\n"
        );
        let s = parse(&ok, &profiles).unwrap();
        assert_eq!(
            (s[0].every, s[0].settle),
            (Duration::from_secs(600), Duration::from_secs(10))
        );
        for (text, said) in [
            (format!("{ok}token = \"abc\"\n"), "unknown field `token`"),
            (
                ok.replace("attendance", "attendence"),
                "'attendence' is not one of",
            ),
            (
                ok.replace("dataset = \"attendance\"", "profile = \"dingtalk-dialy\""),
                "no profile 'dingtalk-dialy'",
            ),
            (ok.replace(&folder, "/no/such/folder"), "/no/such/folder"),
            (
                format!("{ok}every = \"5 minutes\"\n"),
                "every = '5 minutes'",
            ),
            (format!("{ok}school = \"S-1\"\n"), "not a school code"),
        ] {
            let e = parse(&text, &profiles).unwrap_err().to_string();
            assert!(e.contains(said), "{said}: {e}");
            if !said.contains("unknown field") {
                assert!(e.contains("source 1 (一中)"), "{e}");
            }
        }
    }
}
