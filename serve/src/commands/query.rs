//! `edulake sql`, `edulake batches` and `edulake schema`.

use std::io::Write;
use std::process::ExitCode;

use edulake_transform::access::Principal;
use edulake_transform::bounded::{with_deadline, Limits};
use edulake_transform::QueryLayer;

use crate::cli::SqlFormat;
use crate::Env;

/// Holds this process to `EDULAKE_ADDRESS_SPACE_MB` of address space, when it is set (the
/// cockpit runs each query typed over the web so): an allocation past it fails and ends this
/// process, not the one that started it.
fn limit_address_space() -> anyhow::Result<()> {
    if let Some(mb) = std::env::var("EDULAKE_ADDRESS_SPACE_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        let bytes = mb << 20;
        rlimit::setrlimit(rlimit::Resource::AS, bytes, bytes)
            .map_err(|e| anyhow::anyhow!("cannot limit the address space to {mb} MiB: {e}"))?;
    }
    Ok(())
}

/// Ends this process after `EDULAKE_TIME_LIMIT_SECONDS`, when it is set (the cockpit runs
/// each query typed over the web so): a watch of its own, which no planning, no computing and
/// no reader that has stopped reading can hold up.
fn limit_time() {
    if let Some(seconds) = std::env::var("EDULAKE_TIME_LIMIT_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(seconds));
            eprintln!(
                "edulake: query: the query ran longer than {seconds} s and was stopped; narrow it"
            );
            std::process::exit(1);
        });
    }
}

/// `edulake sql`: as the lake's owner, or as `who` would see it.
pub async fn sql(
    env: &Env,
    query: &str,
    format: SqlFormat,
    who: Option<&Principal>,
) -> anyhow::Result<ExitCode> {
    limit_address_space()?;
    limit_time();
    let lake = env.reader()?;
    // A query run as a role is the cockpit's, which logs it with its asker.
    if who.is_none() {
        env.audit("sql", query);
    }
    let layer = QueryLayer::open(&lake).await?;
    // Written as it comes: a result bigger than memory still reaches a file or a pipe.
    let (schema, stream) = match who {
        Some(who) => layer.sql_stream_as(who, query).await?,
        None => layer.sql_stream(query).await?,
    };
    let limits = Limits::command_line();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    edulake_transform::output::write_stream(
        &schema,
        with_deadline(stream, limits.time),
        format.into(),
        &limits,
        &mut out,
    )
    .await?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub async fn batches(env: &Env, format: SqlFormat, shapes: bool) -> anyhow::Result<ExitCode> {
    let layer = QueryLayer::open(&env.reader()?).await?;
    let (schema, rows) = if shapes {
        layer.shapes(&Default::default()).await?
    } else {
        layer.batch_list().await?
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    edulake_transform::output::write(&schema, &rows, format.into(), &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub fn schema(dataset: Option<&str>) -> anyhow::Result<ExitCode> {
    let text = match dataset.and_then(edulake_schemas::by_name) {
        Some(d) => edulake_schemas::dictionary::dataset_markdown(d),
        None => format!(
            "{}{}\n{}",
            edulake_schemas::dictionary::markdown(),
            edulake_transform::views::tables_markdown(),
            edulake_transform::marts::tables_markdown()
        ),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
