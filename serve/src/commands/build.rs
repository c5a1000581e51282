//! `edulake build`: the marts brought up to date, one line per mart that had work.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use edulake_transform::marts::{self, BuildOptions, MartBuilt, Work};

use crate::Env;

pub async fn run(env: &Env, full: bool, show_sql: bool) -> anyhow::Result<ExitCode> {
    if show_sql {
        let layer = edulake_transform::QueryLayer::open(&env.reader()?).await?;
        let mut out = std::io::stdout().lock();
        out.write_all(marts::full_build_sql(&layer).await?.as_bytes())?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    build(env, full).await?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the marts, printing what each needed (unless quiet); returns what was done.
pub async fn build(env: &Env, full: bool) -> anyhow::Result<Vec<MartBuilt>> {
    let started = Instant::now();
    let lake = env.reader()?;
    let bar = crate::progress::bar(marts::Mart::all().len() as u64, "build", env.quiet);
    let done = marts::build(&lake, BuildOptions { full }, |m| {
        bar.inc(1);
        if env.quiet || m.work == Work::Fresh {
            return;
        }
        let what = match &m.work {
            Work::Full => "in full".to_string(),
            Work::Days(d) if d.len() == 1 => format!("1 day ({})", d[0]),
            Work::Days(d) => format!("{} days ({} to {})", d.len(), d[0], d[d.len() - 1]),
            Work::Schools { days, schools } => format!(
                "{} of {} ({})",
                plural(schools.len(), "school", "schools"),
                plural(days.len(), "day", "days"),
                schools.join(", ")
            ),
            Work::Fresh => unreachable!("skipped above"),
        };
        bar.suspend(|| println!("built {:<32} {what} in {:.1} s", m.name, m.seconds));
    })
    .await?;
    bar.finish_and_clear();
    let fresh = done.iter().filter(|m| m.work == Work::Fresh).count();
    if !env.quiet {
        println!(
            "{} of {} marts rebuilt, {} already up to date, in {:.1} s",
            done.len() - fresh,
            done.len(),
            fresh,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(done)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
