//! The sources pulled beside the cockpit (`edulake serve --sources`): how each is doing, on
//! the Data page for the bureau, and the ones gone quiet, on the overview.

use chrono::{DateTime, Utc};

use edulake_ingest::pull::Source;
use edulake_transform::access::Role;

use super::html::{esc, section, table};
use super::i18n::{lookup, t, Lang};
use super::{AppState, View};

/// A time kept in UTC (RFC 3339), in the bureau's time as a person reads it.
fn local(at: &Option<String>) -> Option<String> {
    let tz = edulake_ingest::bureau_tz().ok()?;
    let t = DateTime::parse_from_rfc3339(at.as_deref()?).ok()?;
    Some(t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
}

/// A duration as a person reads it: `10 分钟`, `1 天`.
fn span(lang: Lang, d: std::time::Duration) -> String {
    let s = d.as_secs();
    let (n, key) = if s.is_multiple_of(86_400) {
        (s / 86_400, "unit_days")
    } else if s.is_multiple_of(3600) {
        (s / 3600, "unit_hours")
    } else if s.is_multiple_of(60) {
        (s / 60, "unit_minutes")
    } else {
        (s, "unit_seconds")
    };
    t(lang, key).replace("{n}", &n.to_string())
}

fn bureau(view: &View) -> bool {
    matches!(view.who.role, Role::BureauAdmin | Role::BureauAnalyst)
}

/// Whether a source has gone without a new file for longer than it is expected to.
fn quiet(source: &Source, cursor: &edulake_schemas::pull::Cursor, now: DateTime<Utc>) -> bool {
    let since = cursor.last_file.as_deref().or(cursor.last_run.as_deref());
    match since.and_then(|s| DateTime::parse_from_rfc3339(s).ok()) {
        Some(t) => (now - t.with_timezone(&Utc)).to_std().unwrap_or_default() > source.expect,
        None => false,
    }
}

/// What of the sources changes a page besides the lake: each one's last pull and whether it
/// has gone quiet (a part of the rendered pages' cache key, for the pages that show them).
pub(super) fn quiet_key(state: &AppState, path: &str) -> String {
    // Only the pages that show the sources read them (the overview, the Data page).
    if state.sources().is_empty() || !matches!(path, "/" | "/data") {
        return String::new();
    }
    let now = Utc::now();
    let mut key = String::from("|sources");
    for s in state.sources() {
        let c = edulake_transform::reads::pull_cursor(state.state.root(), &s.name);
        key.push_str(&format!(
            ":{}{}",
            c.last_run.as_deref().unwrap_or(""),
            if quiet(s, &c, now) { "q" } else { "" }
        ));
    }
    key
}

/// The Data page's table of the sources, for the bureau's roles; empty without sources.
pub(super) fn status_section(state: &AppState, view: &View) -> String {
    let lang = view.lang;
    if state.sources().is_empty() || !bureau(view) {
        return String::new();
    }
    let never = t(lang, "source_never");
    let now = Utc::now();
    let cells: Vec<Vec<String>> = state
        .sources()
        .iter()
        .map(|s| {
            let c = edulake_transform::reads::pull_cursor(state.state.root(), &s.name);
            let next = c
                .last_run
                .as_deref()
                .and_then(|r| DateTime::parse_from_rfc3339(r).ok())
                .and_then(|r| chrono::Duration::from_std(s.every).ok().map(|e| r + e))
                .map(|n| n.to_rfc3339());
            let name = if quiet(s, &c, now) {
                format!(
                    "{} <span class=\"stale\">{}</span>",
                    esc(&s.name),
                    esc(&t(lang, "source_quiet"))
                )
            } else {
                esc(&s.name)
            };
            vec![
                name,
                esc(&lookup(lang, &format!("ds_{}", s.dataset.name))
                    .unwrap_or(s.dataset.name.to_string())),
                esc(s.school.as_deref().unwrap_or("")),
                esc(&span(lang, s.every)),
                esc(&local(&c.last_success).unwrap_or_else(|| never.clone())),
                esc(c.last_error.as_deref().unwrap_or("")),
                esc(&local(&c.last_file).unwrap_or_else(|| never.clone())),
                c.files_taken.to_string(),
                c.rows_stored.to_string(),
                c.rows_rejected.to_string(),
                match &c.running_since {
                    Some(since) => esc(&t(lang, "source_running")
                        .replace("{since}", &local(&Some(since.clone())).unwrap_or_default())),
                    None => esc(&local(&next).unwrap_or_default()),
                },
            ]
        })
        .collect();
    let heads = [
        "source_name",
        "dataset",
        "school_code",
        "source_every",
        "source_last_success",
        "source_last_error",
        "source_last_file",
        "source_files",
        "rows_stored",
        "rows_rejected",
        "source_next",
    ]
    .map(|k| t(lang, k));
    section(
        lang,
        &t(lang, "sources"),
        &format!(
            "<p class=\"hint\">{}</p>{}",
            esc(&t(lang, "sources_hint")),
            table(&heads, &cells)
        ),
        None,
    )
}

/// The overview's warning of the sources gone quiet (a school system that stopped sending is
/// news for the bureau); empty when none is.
pub(super) fn quiet_section(state: &AppState, view: &View) -> String {
    let lang = view.lang;
    if !bureau(view) {
        return String::new();
    }
    let now = Utc::now();
    let cells: Vec<Vec<String>> = state
        .sources()
        .iter()
        .filter_map(|s| {
            let c = edulake_transform::reads::pull_cursor(state.state.root(), &s.name);
            quiet(s, &c, now).then(|| {
                vec![
                    esc(&s.name),
                    esc(s.school.as_deref().unwrap_or("")),
                    esc(&local(&c.last_file).unwrap_or_else(|| t(lang, "source_never"))),
                    esc(&span(lang, s.expect)),
                ]
            })
        })
        .collect();
    if cells.is_empty() {
        return String::new();
    }
    let heads = [
        "source_name",
        "school_code",
        "source_last_file",
        "source_expect",
    ]
    .map(|k| t(lang, k));
    section(
        lang,
        &t(lang, "sources_quiet"),
        &format!(
            "<p class=\"error\">{}</p>{}",
            esc(&t(lang, "sources_quiet_hint")),
            table(&heads, &cells)
        ),
        None,
    )
}
