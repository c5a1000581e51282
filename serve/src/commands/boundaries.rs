//! `edulake boundaries import FILE`: the districts' boundaries for the cockpit's map, from a
//! GeoJSON the bureau supplies once, kept in the state directory.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use edulake_schemas::geo::{Boundaries, BOUNDARIES_FILE};
use edulake_schemas::msg;
use edulake_schemas::words::Arg;

use crate::Env;

pub async fn import(
    env: &Env,
    file: &Path,
    name_property: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
    let boundaries = match Boundaries::from_geojson(&text, name_property) {
        Ok(b) => b,
        Err(problem) => {
            eprintln!("edulake: {}: {}", file.display(), problem.render(env.lang));
            return Ok(ExitCode::from(1));
        }
    };
    let json = serde_json::to_vec(&boundaries)?;
    env.state
        .write(&env.state.root().join(BOUNDARIES_FILE), &json)?;
    env.audit("boundaries_import", &file.display().to_string());
    let names: Vec<&str> = boundaries
        .districts
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    let said = msg!(
        "cli_boundaries_imported",
        count = names.len(),
        names = Arg::texts(&names)
    );
    println!("{}", said.render(env.lang));
    // Names the registry does not know are drawn unshaded; districts without one are not drawn.
    if let Ok(reader) = env.reader() {
        if let Ok(layer) = edulake_transform::QueryLayer::open(&reader).await {
            let known = layer.districts().await.unwrap_or_default();
            let unknown: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| !known.iter().any(|k| k == n))
                .collect();
            let missing: Vec<&String> = known
                .iter()
                .filter(|k| boundaries.district(k).is_none())
                .collect();
            if !unknown.is_empty() {
                let said = msg!("cli_boundaries_unknown", names = Arg::texts(&unknown));
                eprintln!("{}", said.render(env.lang));
            }
            if !missing.is_empty() {
                let said = msg!("cli_boundaries_missing", names = Arg::texts(&missing));
                eprintln!("{}", said.render(env.lang));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
