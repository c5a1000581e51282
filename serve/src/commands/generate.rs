//! `edulake generate`: a synthetic district as files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use edulake_ingest::generate::{generate, last_school_day_before, GenerateOptions};

use crate::Env;

/// How big a district to make.
pub struct Size {
    pub schools: usize,
    pub students: usize,
    pub days: usize,
    pub health_days: Option<usize>,
    /// Every school sends per-student rows (else: the shapes real districts send).
    pub per_student: bool,
}

pub fn run(
    _env: &Env,
    out: PathBuf,
    size: Size,
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
    opts.schools = size.schools;
    opts.students = size.students;
    opts.days = size.days;
    opts.health_days = size.health_days;
    opts.seed = seed;
    opts.messy = messy;
    opts.real_shapes = !size.per_student;
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
