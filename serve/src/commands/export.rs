//! `edulake export`, `edulake alerts` and `edulake indicators`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use chrono::NaiveDate;
use edulake_transform::indicators::{self, Grain, Level, Request, Role};
use edulake_transform::output::{self, Format};
use edulake_transform::QueryLayer;

use crate::cli::{AlertFormat, ByArg, ExportArgs, ExportFormat, GrainArg, LevelArg};
use crate::Env;

fn date(flag: &str, s: Option<String>) -> anyhow::Result<Option<NaiveDate>> {
    s.map(|s| edulake_ingest::values::parse_date(&s, false).map_err(|e| anyhow!("{flag}: {e}")))
        .transpose()
}

fn write_to(out: Option<&PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Some(p) => {
            std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(bytes)?;
            o.flush()?;
            Ok(())
        }
    }
}

pub async fn export(env: &Env, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let asked = format!("{a:?}");
    let mut req = Request::new(&a.indicator);
    req.level = match a.level {
        LevelArg::Class => Level::Class,
        LevelArg::School => Level::School,
        LevelArg::District => Level::District,
        LevelArg::Bureau => Level::Bureau,
    };
    req.grain = match a.grain {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
        GrainArg::Total => Grain::Total,
    };
    req.from = date("--from", a.from)?;
    req.to = date("--to", a.to)?;
    req.school = a.school;
    req.district = a.district;
    req.by = a.by.map(|b| match b {
        ByArg::Grade => "grade".to_string(),
        ByArg::Gender => "gender".to_string(),
        ByArg::Notice => "notice".to_string(),
    });
    req.filters = indicators::Filters::from_words(
        a.school_type.as_deref(),
        a.grade.map(|g| g.to_string()).as_deref(),
        a.gender.as_deref(),
    )
    .map_err(|(what, v)| match what {
        "school_type" => anyhow::anyhow!("--school-type {v}: not a school type"),
        "gender" => anyhow::anyhow!("--gender {v}: M or F"),
        _ => anyhow::anyhow!("--{what} {v}: 1–12"),
    })?;
    if a.show_sql && !req.filters.is_empty() {
        anyhow::bail!(
            "--show-sql shows an export without filters: a filtered one adds up that export's \
             cells"
        );
    }
    // The command line is the bureau's own tool: no small-cell suppression.
    req.role = Role::Bureau;
    // A bad indicator name is answered before the lake is opened.
    indicators::by_name(&req.indicator)?;
    // A lake that is not there is said before anything is logged (or a state folder made).
    let lake = env.reader()?;
    if !a.show_sql {
        env.audit("export", &asked);
    }
    let layer = QueryLayer::open(&lake).await?;
    if a.show_sql {
        let sql = layer.export_sql(&req).await?;
        write_to(a.out.as_ref(), format!("{sql};\n").as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let (schema, batches) = layer.export(&req).await?;
    let format = match a.format {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Json => Format::JsonArray,
        ExportFormat::Parquet => Format::Parquet,
        ExportFormat::Xlsx => Format::Xlsx,
    };
    let mut buf = Vec::new();
    output::write(&schema, &batches, format, &mut buf)?;
    write_to(a.out.as_ref(), &buf)?;
    Ok(ExitCode::SUCCESS)
}

pub async fn alerts(
    env: &Env,
    from: Option<String>,
    to: Option<String>,
    format: AlertFormat,
    threshold: u32,
    kind: &str,
) -> anyhow::Result<ExitCode> {
    let kind = indicators::AlertKind::parse(kind)
        .ok_or_else(|| anyhow::anyhow!("--kind {kind}: expected cluster, follow_up or all"))?;
    let layer = QueryLayer::open(&env.reader()?).await?;
    let (schema, batches) = layer
        .alerts(
            date("--from", from)?,
            date("--to", to)?,
            threshold.max(1),
            kind,
        )
        .await?;
    let format = match format {
        AlertFormat::Csv => Format::Csv,
        AlertFormat::Json => Format::JsonArray,
    };
    let mut buf = Vec::new();
    output::write(&schema, &batches, format, &mut buf)?;
    write_to(None, &buf)?;
    Ok(ExitCode::SUCCESS)
}

pub fn indicators() -> anyhow::Result<ExitCode> {
    for i in indicators::all() {
        println!("{} {} ({})", i.name, i.name_zh, i.unit);
        println!(
            "    levels: {}",
            i.levels
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "    grains: {}",
            i.grains
                .iter()
                .map(|g| g.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !i.by.is_empty() {
            println!("    --by: {}", i.by.join(", "));
        }
        println!("    {}", i.definition);
        println!("    formula: transform/indicators/{}.sql", i.name);
    }
    Ok(ExitCode::SUCCESS)
}
