//! `edulake generate`: a synthetic district as files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use edulake_ingest::generate::{generate, last_school_day_before, GenerateOptions};

use crate::Env;

#[allow(clippy::too_many_arguments)]
pub fn run(
    _env: &Env,
    out: PathBuf,
    schools: usize,
    students: usize,
    days: usize,
    seed: u64,
    messy: bool,
    end: Option<String>,
    datasets: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let tz = edulake_ingest::bureau_tz()?;
    let end = match end {
        Some(s) => {
            edulake_ingest::values::parse_date(&s, false).map_err(|e| anyhow!("--end: {e}"))?
        }
        None => last_school_day_before(edulake_ingest::values::today(tz)),
    };
    let mut opts = GenerateOptions::new(end);
    opts.schools = schools;
    opts.students = students;
    opts.days = days;
    opts.seed = seed;
    opts.messy = messy;
    if !datasets.is_empty() {
        opts.datasets = datasets;
    }
    let g = generate(&out, &opts)?;
    println!(
        "wrote {} files, {} rows ({} bad rows on purpose) to {}",
        g.files.len(),
        g.rows,
        g.bad_rows,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
