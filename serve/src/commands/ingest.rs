//! `edulake ingest`: files in, one batch per file, a line per file out.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use edulake_ingest::clean::ReadAs;
use edulake_ingest::pipeline::expand;
use edulake_ingest::{FileOutcome, IngestOptions, KeyOrigin, Outcome, Upload};

use edulake_schemas::msg;
use edulake_schemas::words::{Arg, Lang, Msg};

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
fn flag_date(
    flag: &str,
    text: Option<String>,
    lang: Lang,
) -> anyhow::Result<Option<chrono::NaiveDate>> {
    let Some(s) = text else { return Ok(None) };
    let said =
        |problem: Msg| anyhow!(msg!("cli_flag_value", flag = flag, problem = problem).render(lang));
    let day = edulake_ingest::values::parse_date(&s, false).map_err(said)?;
    let today = edulake_ingest::values::today(edulake_ingest::bureau_tz()?);
    edulake_ingest::values::Window::up_to(today)
        .and_then(|w| w.check(day))
        .map_err(said)?;
    Ok(Some(day))
}

pub async fn run(env: &Env, what: What, paths: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let profiles = std::sync::Arc::new(env.profiles());
    for problem in &profiles.problems {
        let said = msg!("cli_profile_unused", problem = problem.clone());
        eprintln!("{}", said.render(env.lang));
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
        as_of: flag_date("--as-of", what.as_of, env.lang)?,
        date: flag_date("--date", what.date, env.lang)?,
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
            why: edulake_schemas::msg!("chosen_by_flag"),
        }),
    };
    let summary = ingest_files(env, dataset, upload, &paths, how, reading).await?;
    if what.dry_run {
        let said = msg!(
            "cli_summary_dry_run",
            files = summary.stored + summary.already + summary.rejected,
            stored = summary.stored,
            rejected = summary.rejected
        );
        println!("{}", said.render(env.lang));
        return Ok(if summary.rejected > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let said = msg!(
        "cli_summary",
        files = summary.stored + summary.already + summary.rejected,
        stored = summary.stored,
        rows = summary.rows_stored,
        rejected_rows = summary.rows_rejected,
        already = summary.already,
        rejected = summary.rejected
    );
    println!("{}", said.render(env.lang));
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
        let said = msg!("cli_key_created", path = path.display().to_string());
        eprintln!("{}", said.render(env.lang));
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
            bar.suspend(|| print_outcome(fo, env.lang));
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
            let said = msg!("cli_no_roster", school = school, date = day);
            eprintln!("{}", said.render(env.lang));
        }
    }
    Ok(summary)
}

/// One line (and its notes) for a file, in a language.
pub fn print_outcome(fo: &FileOutcome, lang: Lang) {
    let name = fo.path.display().to_string();
    let say = |m: Msg| println!("{}", m.render(lang));
    match &fo.outcome {
        Outcome::Stored {
            record,
            header,
            reject_report,
            ..
        } => {
            let header_row = if header.header_row > 1 {
                msg!("cli_header_row", row = header.header_row).render(lang)
            } else {
                String::new()
            };
            say(msg!(
                "cli_stored",
                file = &name,
                stored = record.rows_stored,
                read = record.rows_read,
                format = &record.format,
                header = header_row,
                batch = &record.batch_id
            ));
            if let Some(profile) = &header.profile {
                say(msg!(
                    "cli_profile_stored_as",
                    profile = profile.clone(),
                    table = fo.dataset.name
                ));
            }
            if let Some(report) = reject_report {
                say(msg!(
                    "cli_rows_rejected",
                    count = record.rows_rejected,
                    report = report.display().to_string()
                ));
            }
            print_header_notes(header, lang);
        }
        Outcome::AlreadyIngested { batch_id } => {
            say(msg!("cli_already", file = &name, batch = batch_id))
        }
        Outcome::Rejected { problem } => say(msg!(
            "cli_rejected",
            file = &name,
            problem = problem.clone()
        )),
        Outcome::Previewed(p) => print_preview(fo.dataset, &name, p, lang),
    }
}

/// What a file's header and rows told about how it was read, one line each.
fn print_header_notes(h: &edulake_ingest::clean::HeaderReport, lang: Lang) {
    let say = |m: Msg| println!("{}", m.render(lang));
    let listed = |key: &'static str, cells: &[String]| {
        if !cells.is_empty() {
            say(Msg::new(key, vec![("columns", Arg::texts(cells))]));
        }
    };
    listed("cli_personal_dropped", &h.personal_dropped);
    listed("cli_unknown_columns", &h.unknown);
    listed("cli_ignored_columns", &h.ignored);
    if let Some(source) = &h.date_source {
        say(msg!("cli_date", source = source.clone()));
    }
    if h.rows_skipped > 0 {
        say(msg!("cli_rows_skipped", count = h.rows_skipped));
    }
    for note in &h.notes {
        println!("  {}", note.render(lang));
    }
}

/// What one row of a table is, in the words of REPORTING.md.
fn shape_of(d: &edulake_schemas::Dataset) -> Msg {
    match d.name {
        "attendance_exceptions" => msg!("shape_exceptions"),
        "class_report" => msg!("shape_class_report"),
        _ => msg!("shape_rows"),
    }
}

/// `edulake profiles`: every export profile, where it comes from, what it reads and the
/// headers that select it.
pub fn profiles(env: &Env) -> anyhow::Result<ExitCode> {
    let profiles = env.profiles();
    let say = |m: Msg| println!("{}", m.render(env.lang));
    for p in profiles.all() {
        println!("{} — {} / {}", p.name, p.title, p.title_en);
        let origin = match &p.origin {
            edulake_ingest::profile::Origin::BuiltIn => msg!("cli_profile_built_in"),
            edulake_ingest::profile::Origin::File(f) => Msg::plain(f.display().to_string()),
        };
        say(msg!(
            "cli_profile_reads",
            dataset = p.dataset.name,
            shape = p.shape.name(),
            table = p.stored.name,
            origin = origin
        ));
        say(msg!("cli_profile_detect", headers = Arg::texts(&p.detect)));
        if !p.about.is_empty() {
            println!("    {}", p.about);
        }
    }
    say(msg!(
        "cli_profiles_folder",
        folder = env.state.root().join("profiles").display().to_string()
    ));
    for problem in &profiles.problems {
        eprintln!("edulake: {}", problem.render(env.lang));
    }
    Ok(if profiles.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a dry run found a file would become: its columns' meaning, where its date comes
/// from, the first rows as they would be stored, and the first rejects.
fn print_preview(
    d: &edulake_schemas::Dataset,
    name: &str,
    p: &edulake_ingest::Preview,
    lang: Lang,
) {
    let h = &p.header;
    let say = |m: Msg| println!("{}", m.render(lang));
    say(msg!(
        "cli_dry_run",
        file = name,
        stored = p.rows_stored,
        read = p.rows_read,
        rejected = p.rows_rejected,
        format = &p.format,
        row = h.header_row
    ));
    match &h.profile {
        Some(profile) => say(msg!("cli_profile", profile = profile.clone())),
        None => say(msg!("cli_no_profile")),
    }
    say(msg!("cli_shape", shape = shape_of(d), table = d.name));
    say(msg!("cli_columns"));
    for (cell, read_as) in h.read_as() {
        let meaning = match read_as {
            ReadAs::Column(c) => msg!("cli_column_read_as", column = c),
            ReadAs::Personal => msg!("cli_column_personal"),
            ReadAs::Ignored => msg!("cli_column_ignored"),
            ReadAs::Unknown => msg!("cli_column_unknown"),
        };
        println!("    {cell} {}", meaning.render(lang));
    }
    print_header_notes(h, lang);
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
            say(msg!("cli_first_rows", count = rows.num_rows()));
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
        say(msg!(
            "cli_first_rejects",
            count = p.rows_rejected,
            shown = p.rejects.len()
        ));
        for r in &p.rejects {
            say(msg!(
                "cli_reject",
                row = r.row,
                column = &r.column,
                value = &r.value,
                reason = r.reason.clone()
            ));
        }
    }
}
