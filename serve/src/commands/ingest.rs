//! `edulake ingest`: files in, one batch per file, a line per file out.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use edulake_ingest::clean::ReadAs;
use edulake_ingest::pipeline::expand;
use edulake_ingest::{FileOutcome, IngestOptions, KeyOrigin, Outcome, Upload};

use crate::Env;

/// Counts over the files of one ingest.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub stored: usize,
    pub rows_stored: u64,
    pub rows_rejected: u64,
    pub already: usize,
    pub rejected: usize,
}

/// What `edulake ingest` was told about its files.
pub struct What {
    /// The dataset asked for; with a profile, the profile's when not given.
    pub dataset: Option<String>,
    pub school: Option<String>,
    pub as_of: Option<String>,
    pub date: Option<String>,
    pub class: Option<String>,
    pub exceptions: bool,
    /// Say what each file would become, storing nothing.
    pub dry_run: bool,
    /// The profile every file is read with (`--profile`).
    pub profile: Option<String>,
}

/// The profiles files are read with: those a file may get by its headers (loaded once for a
/// whole command), or the one every file must be read with.
#[derive(Clone)]
pub struct Reading {
    pub profiles: std::sync::Arc<edulake_ingest::profile::Profiles>,
    pub profile: Option<edulake_ingest::profile::Choice>,
}

impl Reading {
    /// Each file with the profile its headers select, among the built-in and the bureau's.
    pub fn by_headers(env: &Env) -> Reading {
        Reading {
            profiles: std::sync::Arc::new(env.profiles()),
            profile: None,
        }
    }
}

/// How `ingest_files` goes about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct How {
    /// A line per file (and its notes) on standard output.
    pub print: bool,
    /// Store nothing: say what each file would become ([`edulake_ingest::Preview`]).
    pub dry_run: bool,
}

/// A date given on the command line, within the bureau's window.
fn flag_date(flag: &str, text: Option<String>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    let Some(s) = text else { return Ok(None) };
    let day = edulake_ingest::values::parse_date(&s, false).map_err(|e| anyhow!("{flag}: {e}"))?;
    let today = edulake_ingest::values::today(edulake_ingest::bureau_tz()?);
    edulake_ingest::values::Window::up_to(today)
        .and_then(|w| w.check(day))
        .map_err(|e| anyhow!("{flag}: {e}"))?;
    Ok(Some(day))
}

pub async fn run(env: &Env, what: What, paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let profiles = std::sync::Arc::new(env.profiles());
    for problem in &profiles.problems {
        eprintln!("edulake: warning: {problem}; it is not used");
    }
    let profile = match &what.profile {
        None => None,
        Some(name) => Some(profiles.get(name).ok_or_else(|| {
            anyhow!(
                "--profile {name}: no such profile (edulake profiles lists them: {})",
                profiles
                    .all()
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?),
    };
    if let (Some(p), Some(asked)) = (&profile, &what.dataset) {
        if !edulake_schemas::by_name(asked).is_some_and(|d| p.serves(d)) {
            return Err(anyhow!(
                "--profile {} reads {} files ({}), not {asked}",
                p.name,
                p.dataset.name,
                p.shape.name()
            ));
        }
    }
    if let (Some(p), true) = (&profile, what.exceptions) {
        if p.stored.name != edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name {
            return Err(anyhow!(
                "--exceptions: the profile {} reads {} ({}), not exception registers",
                p.name,
                p.dataset.name,
                p.shape.name()
            ));
        }
    }
    let asked = match (&what.dataset, &profile) {
        (Some(d), _) => d.clone(),
        (None, Some(p)) => p.dataset.name.to_string(),
        (None, None) => return Err(anyhow!("--dataset (or --profile) is required")),
    };
    for p in &paths {
        env.audit("ingest", &format!("{asked} {}", p.display()));
    }
    if let Some(code) = &what.school {
        edulake_ingest::values::check_school_code(code).map_err(|e| anyhow!("--school: {e}"))?;
    }
    let dataset = match (asked.as_str(), what.exceptions) {
        ("attendance", true) => edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name,
        (other, true) => {
            return Err(anyhow!(
                "--exceptions is for attendance registers, not for {other}"
            ))
        }
        (other, false) => other,
    };
    let upload = Upload {
        school: what.school.map(|s| s.to_ascii_uppercase()),
        as_of: flag_date("--as-of", what.as_of)?,
        date: flag_date("--date", what.date)?,
        class: what
            .class
            .map(|c| edulake_schemas::class::normalise(&c, None))
            .filter(|c| !c.is_empty()),
    };
    if what.exceptions && upload.date.is_some() && upload.school.is_none() {
        return Err(anyhow!(
            "--date with --exceptions covers a day of one school: give --school too"
        ));
    }
    let how = How {
        print: true,
        dry_run: what.dry_run,
    };
    let reading = Reading {
        profiles,
        profile: profile.map(|profile| edulake_ingest::profile::Choice {
            profile,
            why: "--profile".into(),
        }),
    };
    let summary = ingest_files(env, dataset, upload, &paths, how, reading).await?;
    if what.dry_run {
        println!(
            "{} file(s) read; dry run: nothing stored ({} would be stored, {} rejected whole)",
            summary.stored + summary.already + summary.rejected,
            summary.stored,
            summary.rejected
        );
        return Ok(if summary.rejected > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    println!(
        "{} file(s): {} stored ({} rows, {} rows rejected), {} already ingested, {} rejected whole",
        summary.stored + summary.already + summary.rejected,
        summary.stored,
        summary.rows_stored,
        summary.rows_rejected,
        summary.already,
        summary.rejected
    );
    Ok(if summary.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Ingests files into one dataset, printing a line per file when `print` is set.
pub async fn ingest_files(
    env: &Env,
    dataset: &str,
    upload: Upload,
    paths: &[PathBuf],
    how: How,
    reading: Reading,
) -> anyhow::Result<Summary> {
    let print = how.print;
    let d = edulake_schemas::stored_by_name(dataset)
        .ok_or_else(|| anyhow!("unknown dataset {dataset}"))?;
    let lake = env.lake()?;
    let (key, origin) = env.state.key()?;
    if let KeyOrigin::Created(path) = &origin {
        eprintln!(
            "edulake: created the pseudonymisation key at {} (owner-only). Back it up and keep it \
             secret: without it, new extracts cannot be linked to the people already in the lake.",
            path.display()
        );
    }
    let mut opts = IngestOptions::new(d, edulake_ingest::bureau_tz()?);
    opts.upload = upload;
    opts.dry_run = how.dry_run;
    opts.profiles = reading.profiles;
    opts.profile = reading.profile;
    // For the tests of what a crash leaves behind: the process ends right after its first
    // data commit, before the batch index is written.
    if std::env::var("EDULAKE_FAULT").as_deref() == Ok("after-commit") {
        opts.fault = edulake_ingest::Fault::AfterCommit;
    }
    let total: u64 = expand(paths)
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let bar = crate::progress::bytes_bar(total, &format!("ingest {dataset}"), env.quiet);
    // The bar follows the rows as the workers read them, not only the files they finish.
    let ticker = (!bar.is_hidden()).then(|| {
        let (bar, progress, what) = (bar.clone(), opts.progress.clone(), dataset.to_string());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
            let mut writing = false;
            loop {
                every.tick().await;
                let rows = edulake_ingest::limits::grouped(progress.rows());
                if progress.bytes() < total {
                    bar.set_position(progress.bytes());
                    bar.set_message(format!("ingest {what}: {rows} rows"));
                } else if !std::mem::replace(&mut writing, true) {
                    // Every file read: what is left is the last commit, whose length the
                    // bytes cannot tell.
                    crate::progress::to_spinner(&bar);
                    bar.set_message(format!(
                        "ingest {what}: {rows} rows read, writing them to the lake"
                    ));
                }
            }
        })
    });
    let mut summary = Summary::default();
    let mut covered: Vec<(String, chrono::NaiveDate)> = Vec::new();
    let mut on_file = |fo: &FileOutcome| {
        if let Outcome::Stored { header, .. } = &fo.outcome {
            covered.extend(header.covered.iter().cloned());
        }
        match &fo.outcome {
            Outcome::Stored { record, .. } => {
                summary.stored += 1;
                summary.rows_stored += record.rows_stored;
                summary.rows_rejected += record.rows_rejected;
            }
            Outcome::Previewed(p) => {
                summary.stored += 1;
                summary.rows_stored += p.rows_stored;
                summary.rows_rejected += p.rows_rejected;
            }
            Outcome::AlreadyIngested { .. } => summary.already += 1,
            Outcome::Rejected { .. } => summary.rejected += 1,
        }
        if print {
            bar.suspend(|| print_outcome(fo));
        }
    };
    edulake_ingest::ingest(&lake, &env.state, &key, &opts, paths, &mut on_file)
        .await
        .with_context(|| format!("ingest into {dataset}"))?;
    if let Some(t) = ticker {
        t.abort();
    }
    bar.finish_and_clear();
    if print && !how.dry_run && !covered.is_empty() {
        let layer = edulake_transform::QueryLayer::open(&env.reader()?).await?;
        for (school, day) in layer.without_roster(&covered).await? {
            eprintln!(
                "edulake: warning: school {school} has no roster in force on {day}: the register's \
                 students not listed cannot be counted as present until its roster (enrolment) is \
                 ingested; its attendance there stays unknown until then"
            );
        }
    }
    Ok(summary)
}

/// One line (and its notes) for a file of dataset `d`.
pub fn print_outcome(fo: &FileOutcome) {
    let name = fo.path.display();
    match &fo.outcome {
        Outcome::Stored {
            record,
            header,
            reject_report,
        } => {
            let mut line = format!(
                "{name}: stored {} of {} rows ({}",
                record.rows_stored, record.rows_read, record.format
            );
            if header.header_row > 1 {
                line.push_str(&format!("; header on row {}", header.header_row));
            }
            line.push_str(&format!("; batch {})", record.batch_id));
            println!("{line}");
            if let Some(profile) = &header.profile {
                println!("  profile {profile}; stored as {}", fo.dataset.name);
            }
            if let Some(report) = reject_report {
                println!(
                    "  {} row(s) rejected; reject report: {}",
                    record.rows_rejected,
                    report.display()
                );
            }
            if !header.personal_dropped.is_empty() {
                println!(
                    "  personal data not stored: {}",
                    header.personal_dropped.join(", ")
                );
            }
            if !header.unknown.is_empty() {
                println!(
                    "  unknown columns not stored: {}",
                    header.unknown.join(", ")
                );
            }
            if !header.ignored.is_empty() {
                println!(
                    "  columns the profile does not store: {}",
                    header.ignored.join(", ")
                );
            }
            if let Some(source) = &header.date_source {
                println!("  date: {source}");
            }
            if header.rows_skipped > 0 {
                println!("  {} total or sign-off row(s) skipped", header.rows_skipped);
            }
            for note in &header.notes {
                println!("  {note}");
            }
        }
        Outcome::AlreadyIngested { batch_id } => {
            println!("{name}: already ingested (batch {batch_id}); nothing changed")
        }
        Outcome::Rejected { problem } => println!("{name}: REJECTED, nothing stored: {problem}"),
        Outcome::Previewed(p) => print_preview(fo.dataset, &name.to_string(), p),
    }
}

/// What one row of a table is, in the words of REPORTING.md.
fn shape_of(d: &edulake_schemas::Dataset) -> &'static str {
    match d.name {
        "attendance_exceptions" => "exceptions (only the students not present)",
        "class_report" => "class report (counts per class or school)",
        _ => "rows (one per person or record)",
    }
}

/// `edulake profiles`: every export profile, where it comes from, what it reads and the
/// headers that select it.
pub fn profiles(env: &Env) -> anyhow::Result<ExitCode> {
    let profiles = env.profiles();
    for p in profiles.all() {
        println!("{} — {} / {}", p.name, p.title, p.title_en);
        println!(
            "    reads: {} ({}), stored as {}; {}",
            p.dataset.name,
            p.shape.name(),
            p.stored.name,
            p.origin_text()
        );
        println!("    selected by the headers: {}", p.detect.join(", "));
        if !p.about.is_empty() {
            println!("    {}", p.about);
        }
    }
    println!(
        "A bureau's own profiles: TOML files in {} (a file of a built-in profile's name replaces it).",
        env.state.root().join("profiles").display()
    );
    for problem in &profiles.problems {
        eprintln!("edulake: {problem}");
    }
    Ok(if profiles.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a dry run found a file would become: its columns' meaning, where its date comes
/// from, the first rows as they would be stored, and the first rejects.
fn print_preview(d: &edulake_schemas::Dataset, name: &str, p: &edulake_ingest::Preview) {
    let h = &p.header;
    println!(
        "{name}: DRY RUN, nothing stored: would store {} of {} rows, reject {} ({}; header on row {})",
        p.rows_stored, p.rows_read, p.rows_rejected, p.format, h.header_row
    );
    match &h.profile {
        Some(profile) => println!("  profile {profile}"),
        None => println!("  profile: none (the dataset's own column names)"),
    }
    println!("  shape: {} (stored as {})", shape_of(d), d.name);
    println!("  columns:");
    for (cell, read_as) in h.read_as() {
        let meaning = match read_as {
            ReadAs::Column(c) => format!("→ {c}"),
            ReadAs::Personal => "personal data, not stored".into(),
            ReadAs::Ignored => "known to the profile, not stored".into(),
            ReadAs::Unknown => "unknown, not stored".into(),
        };
        println!("    {cell} {meaning}");
    }
    if let Some(source) = &h.date_source {
        println!("  date: {source}");
    }
    if h.rows_skipped > 0 {
        println!("  {} total or sign-off row(s) skipped", h.rows_skipped);
    }
    for note in &h.notes {
        println!("  {note}");
    }
    // The batch's own columns are the commit's (a dry run has none); the row number stays.
    let shown = p.first_rows.as_ref().and_then(|rows| {
        let keep: Vec<usize> = (0..rows.num_columns())
            .filter(|&i| {
                let name = rows.schema().field(i).name().clone();
                !name.starts_with('_') || name == "_row"
            })
            .collect();
        rows.project(&keep).ok()
    });
    if let Some(rows) = &shown {
        if rows.num_rows() > 0 {
            println!(
                "  the first {} row(s) as they would be stored:",
                rows.num_rows()
            );
            match arrow::util::pretty::pretty_format_batches(std::slice::from_ref(rows)) {
                Ok(table) => {
                    for line in table.to_string().lines() {
                        println!("    {line}");
                    }
                }
                Err(e) => println!("    ({e})"),
            }
        }
    }
    if !p.rejects.is_empty() {
        println!(
            "  {} row(s) rejected; the first {} problem(s):",
            p.rows_rejected,
            p.rejects.len()
        );
        for r in &p.rejects {
            println!(
                "    row {}, {}: {:?}: {}",
                r.row, r.column, r.value, r.reason
            );
        }
    }
}
