//! `edulake pull --sources FILE [--once]`: new extracts fetched from the sources a file lists
//! (folders, for now), each ingested once, with each source's cursor and lock in the state
//! directory (`edulake_ingest::pull`).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use edulake_ingest::pull::{self, Lock, Source};
use edulake_ingest::Upload;
use edulake_schemas::msg;
use edulake_schemas::words::Msg;

use crate::commands::{ingest_files, How, Reading};
use crate::Env;

pub async fn run(env: &Env, sources: &Path, once: bool) -> anyhow::Result<ExitCode> {
    match load(env, sources).await? {
        Some(list) => pull_loop(env, &list, once).await,
        None => Ok(ExitCode::from(1)),
    }
}

/// The sources a file lists, checked (also against the school registry); `None` when one is
/// wrong, said on standard error.
pub async fn load(env: &Env, sources: &Path) -> anyhow::Result<Option<Vec<Source>>> {
    let say_err = |m: Msg| eprintln!("edulake: {}", m.render(env.lang));
    let text = match pull::read_sources(sources) {
        Ok(t) => t,
        Err(m) => {
            say_err(m);
            return Ok(None);
        }
    };
    let profiles = env.profiles();
    let list = match pull::parse(&text, &profiles) {
        Ok(l) => l,
        Err(m) => {
            say_err(m);
            return Ok(None);
        }
    };
    // A school a source names must be in the registry (once there is a lake to ask).
    if let Ok(reader) = env.reader() {
        let layer = edulake_transform::QueryLayer::open(&reader).await?;
        for (i, s) in list.iter().enumerate() {
            if let Some(code) = &s.school {
                if layer.school(code).await?.is_none() {
                    say_err(msg!(
                        "pull_in_source",
                        number = i + 1,
                        name = &s.name,
                        problem = msg!("pull_school_unknown", school = code)
                    ));
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(list))
}

/// Pulls the sources on their schedules in the background (beside the cockpit), quietly.
pub fn spawn(env: &Env, list: &[Source]) {
    if list.is_empty() {
        return;
    }
    let mut puller = Env::from_cli(
        &env.lake_location,
        Some(env.state.root().to_path_buf()),
        true,
    );
    puller.lang = env.lang;
    let list = list.to_vec();
    tokio::spawn(async move {
        if let Err(e) = pull_loop(&puller, &list, false).await {
            tracing::error!("pulling the sources: {e:#}");
        }
    });
}

/// Pulls every source on its schedule (`once`: each once, then ends: 1 when one failed).
/// Each source runs on its own, so a slow or failing one never holds up the others; a failing
/// one is tried again sooner, backing off (30 s, 1 min, 2 min… up to its schedule).
pub async fn pull_loop(env: &Env, list: &[Source], once: bool) -> anyhow::Result<ExitCode> {
    if once {
        let mut failed = false;
        for source in list {
            if !pull_one(env, source).await? {
                failed = true;
            }
        }
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let mut tasks = tokio::task::JoinSet::new();
    for source in list.iter().cloned() {
        let mut own = Env::from_cli(
            &env.lake_location,
            Some(env.state.root().to_path_buf()),
            env.quiet,
        );
        own.lang = env.lang;
        tasks.spawn(async move {
            let mut failures = 0u32;
            loop {
                let ok = match pull_one(&own, &source).await {
                    Ok(ok) => ok,
                    Err(e) => {
                        tracing::error!("pulling {}: {e:#}", source.name);
                        false
                    }
                };
                failures = if ok { 0 } else { failures.saturating_add(1) };
                tokio::time::sleep(wait_after(source.every, failures)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(ExitCode::SUCCESS)
}

/// How long a source waits for its next pull: its schedule, or after `failures` failures in a
/// row, 30 s doubled each time, never longer than its schedule.
fn wait_after(every: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return every;
    }
    let backoff = Duration::from_secs(30).saturating_mul(1u32 << (failures - 1).min(16));
    backoff.min(every)
}

/// One pull of a source: `false` when it failed (said, and kept as its last error).
async fn pull_one(env: &Env, source: &Source) -> anyhow::Result<bool> {
    let say = |m: Msg| println!("{}", m.render(env.lang));
    let name = source.name.as_str();
    let Some(_lock) = Lock::take(&env.state, name).map_err(|m| anyhow::anyhow!("{m}"))? else {
        say(msg!("cli_pull_busy", source = name));
        return Ok(true);
    };
    // Every pull is in the audit log; the files it takes, below, too.
    env.audit("pull", name);
    let mut cursor = pull::load_cursor(&env.state, name).map_err(|m| anyhow::anyhow!("{m}"))?;
    // Kept with the pull over: no longer running.
    let keep = |c: &mut pull::Cursor| {
        c.running_since = None;
        pull::save_cursor(c, &env.state, name).map_err(|m| anyhow::anyhow!("{m}"))
    };
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    cursor.last_run = Some(now());
    // A pull in progress is seen (the Data page says so) until it is kept again.
    cursor.running_since = cursor.last_run.clone();
    pull::save_cursor(&cursor, &env.state, name).map_err(|m| anyhow::anyhow!("{m}"))?;
    // An object store's files are fetched into an inbox of the state directory first.
    let inbox = env
        .state
        .root()
        .join(edulake_schemas::pull::cursor_path(name))
        .with_extension("inbox");
    let due = match &source.place {
        pull::Place::Folder(_) => pull::due(source, &cursor, SystemTime::now()),
        pull::Place::S3 { .. } | pull::Place::Http(_) => {
            let _ = std::fs::remove_dir_all(&inbox);
            let fetched = match &source.place {
                pull::Place::Http(_) => pull::due_http(source, &cursor, &inbox).await,
                _ => pull::due_s3(source, &cursor, &inbox).await,
            };
            match fetched {
                Ok(due) => due,
                Err(problem) => {
                    cursor.last_error = Some(problem.render(env.lang));
                    keep(&mut cursor)?;
                    eprintln!(
                        "{}",
                        msg!("cli_pull_failed", source = name, problem = problem).render(env.lang)
                    );
                    return Ok(false);
                }
            }
        }
    };
    // The inbox goes however the pull ends.
    struct Clear<'a>(&'a std::path::Path);
    impl Drop for Clear<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0);
        }
    }
    let _clear = Clear(&inbox);
    if due.is_empty() {
        cursor.since = cursor.last_run.clone();
        cursor.last_success = Some(now());
        cursor.last_error = None;
        keep(&mut cursor)?;
        say(msg!("cli_pull_nothing", source = name));
        return Ok(true);
    }
    let dataset = if source.exceptions {
        edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name
    } else {
        source.dataset.name
    };
    let mut reading = Reading::by_headers(env);
    if let Some(p) = &source.profile {
        reading.profile = reading
            .profiles
            .get(p)
            .map(|profile| edulake_ingest::profile::Choice {
                profile,
                why: msg!("chosen_by_source", source = name),
            });
    }
    let upload = Upload {
        school: source.school.as_ref().map(|s| s.to_ascii_uppercase()),
        ..Default::default()
    };
    let paths: Vec<std::path::PathBuf> = due.iter().map(|(p, _, _)| p.clone()).collect();
    env.audit("pull_files", &format!("{name}: {} file(s)", paths.len()));
    let how = How {
        print: true,
        dry_run: false,
    };
    match ingest_files(env, dataset, upload, &paths, how, reading).await {
        Ok(s) => {
            // Only now, the ingest ended: a crash before this takes the files again (a no-op
            // for those already stored), never skips one.
            // A folder's or a bucket's files are remembered; an endpoint's pages are not (the
            // next pull asks for what came since this one began).
            if !matches!(source.place, pull::Place::Http(_)) {
                for (_, rel, seen) in due {
                    cursor.taken.insert(rel, seen);
                }
            }
            cursor.since = cursor.last_run.clone();
            cursor.files_taken += paths.len() as u64;
            cursor.last_file = Some(now());
            cursor.rows_stored += s.rows_stored;
            cursor.rows_rejected += s.rows_rejected;
            cursor.last_success = Some(now());
            cursor.last_error = None;
            keep(&mut cursor)?;
            say(msg!(
                "cli_pull_done",
                source = name,
                files = paths.len(),
                stored = s.stored,
                rows = s.rows_stored,
                rejected_rows = s.rows_rejected,
                already = s.already,
                rejected = s.rejected
            ));
            Ok(true)
        }
        Err(e) => {
            cursor.last_error = Some(format!("{e:#}"));
            keep(&mut cursor)?;
            eprintln!(
                "{}",
                msg!("cli_pull_failed", source = name, problem = format!("{e:#}")).render(env.lang)
            );
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_source_backs_off_up_to_its_schedule() {
        let hour = Duration::from_secs(3600);
        assert_eq!(wait_after(hour, 0), hour);
        assert_eq!(wait_after(hour, 1), Duration::from_secs(30));
        assert_eq!(wait_after(hour, 3), Duration::from_secs(120));
        assert_eq!(wait_after(hour, 40), hour);
        assert_eq!(
            wait_after(Duration::from_secs(10), 1),
            Duration::from_secs(10)
        );
    }
}
