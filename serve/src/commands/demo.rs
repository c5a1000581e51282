//! `edulake demo`: a synthetic district generated, ingested, built, shown, and served in the
//! cockpit.

use std::process::ExitCode;

use edulake_ingest::generate::{generate, last_school_day_before, GenerateOptions};
use edulake_ingest::Upload;
use edulake_transform::QueryLayer;

use crate::Env;

pub async fn run(
    env: &Env,
    addr: &str,
    schools: usize,
    students: usize,
    days: usize,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let listener = crate::web::listen(addr).await?;
    let tz = edulake_ingest::bureau_tz()?;
    let out = env.state.root().join("demo-extracts");
    let mut opts = GenerateOptions::new(last_school_day_before(edulake_ingest::values::today(tz)));
    opts.schools = schools;
    opts.students = students;
    opts.days = days;
    opts.seed = seed;
    opts.messy = true;
    opts.real_shapes = true;
    println!("Generating a synthetic district ({schools} schools, {students} students, {days} school days) in {}", out.display());
    let g = generate(&out, &opts)?;
    println!(
        "  {} files, {} rows, {} bad rows on purpose\n",
        g.files.len(),
        g.rows,
        g.bad_rows
    );
    let reading = crate::commands::Reading::by_headers(env);
    for d in edulake_schemas::all() {
        let mut paths = Vec::new();
        for candidate in [out.join(d.name), out.join(format!("{}.csv", d.name))] {
            if candidate.exists() {
                paths.push(candidate);
            }
        }
        if paths.is_empty() {
            continue;
        }
        let s = crate::commands::ingest_files(
            env,
            d.name,
            Upload::default(),
            &paths,
            Default::default(),
            reading.clone(),
        )
        .await?;
        println!(
            "ingest {:<21} {:>4} files stored ({:>9} rows, {:>3} rows rejected), {:>4} already ingested, {} rejected whole",
            d.name, s.stored, s.rows_stored, s.rows_rejected, s.already, s.rejected
        );
    }
    // Exception registers, a folder per school: each day's file covers that school's day.
    let registers = out.join(edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name);
    let mut total = crate::commands::Summary::default();
    if let Ok(entries) = std::fs::read_dir(&registers) {
        let mut folders: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        folders.sort();
        for folder in folders {
            let school = folder
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string);
            let upload = Upload {
                school,
                ..Default::default()
            };
            let s = crate::commands::ingest_files(
                env,
                edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name,
                upload,
                &[folder],
                Default::default(),
                reading.clone(),
            )
            .await?;
            total.stored += s.stored;
            total.rows_stored += s.rows_stored;
            total.rows_rejected += s.rows_rejected;
            total.already += s.already;
            total.rejected += s.rejected;
        }
        println!(
            "ingest {:<21} {:>4} files stored ({:>9} rows, {:>3} rows rejected), {:>4} already ingested, {} rejected whole",
            "attendance --exceptions", total.stored, total.rows_stored, total.rows_rejected, total.already, total.rejected
        );
    }
    // The districts' boundaries, for the map.
    let boundaries = out.join(edulake_ingest::generate::BOUNDARIES_FILE_NAME);
    crate::commands::import_boundaries(env, &boundaries, None).await?;
    println!("\nBuilding the indicator tables:");
    crate::commands::build(env, false).await?;
    let layer = QueryLayer::open(&env.reader()?).await?;
    println!("\nWhat is in the lake at {}:", env.lake_location);
    let (schema, batches) = layer.current_rows().await?;
    edulake_transform::output::write(
        &schema,
        &batches,
        edulake_transform::output::Format::Table,
        &mut std::io::stdout(),
    )?;
    if let Some((_, last)) = layer.data_range().await? {
        let mut req = edulake_transform::indicators::Request::new("attendance_rate");
        req.level = edulake_transform::indicators::Level::District;
        req.from = Some(last - chrono::Duration::days(6));
        req.to = Some(last);
        let (schema, batches) = layer.export(&req).await?;
        println!(
            "\nAttendance rate (出勤率) by district, {} to {last}:",
            last - chrono::Duration::days(6)
        );
        edulake_transform::output::write(
            &schema,
            &batches,
            edulake_transform::output::Format::Table,
            &mut std::io::stdout(),
        )?;
    }
    let lake_arg = if env.lake_location == "./lake" {
        String::new()
    } else {
        format!(" --lake {}", env.lake_location)
    };
    println!(
        "\nQuery it:\n  edulake{lake_arg} sql \"{example}\"\n  edulake{lake_arg} batches\n  edulake{lake_arg} schema\n  edulake{lake_arg} indicators\n  edulake{lake_arg} export --indicator attendance_rate --level school --grain week\n  edulake{lake_arg} alerts\nThe extracts are in {}; try: edulake{lake_arg} ingest --dataset attendance {}",
        out.display(),
        out.join("attendance").display(),
        example = edulake_transform::reads::EXAMPLE_QUERY,
    );
    demo_accounts(env, &layer).await?;
    println!();
    let pulled = demo_source(env, &out).await?;
    crate::commands::pull::spawn(env, &pulled);
    crate::web::serve(listener, env.lake()?, env.state.clone(), None, pulled).await?;
    Ok(ExitCode::SUCCESS)
}

/// The demo's accounts, one of each role, each with a new random password printed once here
/// (a demo run again gives them new ones).
async fn demo_accounts(env: &Env, layer: &QueryLayer) -> anyhow::Result<()> {
    use edulake_transform::access::{Principal, Role};
    use edulake_transform::reads::Scope;
    let accounts = crate::accounts::Accounts::open(env.state.root())?;
    let first = layer.schools_in(&Scope::Bureau).await?.into_iter().min();
    let place = match &first {
        Some(code) => layer
            .school(code)
            .await?
            .map(|(_, district)| (code.clone(), district)),
        None => None,
    };
    let mut wanted = vec![
        ("admin", Principal::new(Role::BureauAdmin, Scope::Bureau)?),
        (
            "analyst",
            Principal::new(Role::BureauAnalyst, Scope::Bureau)?,
        ),
        (
            "researcher",
            Principal::new(Role::Researcher, Scope::Bureau)?,
        ),
    ];
    if let Some((school, district)) = place {
        wanted.insert(
            2,
            (
                "officer",
                Principal::new(Role::DistrictOfficer, Scope::District(district))?,
            ),
        );
        wanted.insert(
            3,
            (
                "clerk",
                Principal::new(Role::SchoolClerk, Scope::School(school))?,
            ),
        );
    }
    println!("Accounts (passwords shown once; `edulake users` manages them):");
    for (login, who) in wanted {
        let password = match accounts.get(login)? {
            Some(_) => accounts.reset_password(login, None)?,
            None => accounts.add(login, &who, None)?,
        };
        let scope = match &who.scope {
            Scope::Bureau => String::new(),
            Scope::District(d) => format!(" of {d}"),
            Scope::School(s) => format!(" of {s}"),
        };
        println!("  {login:<11} {password}  ({}{scope})", who.role.name());
    }
    Ok(())
}

/// A folder source beside the uploads, so a new user sees pulls working: a drop folder holding
/// one school's first absence register (already ingested above, so its pull stores nothing
/// twice), pulled every minute.
async fn demo_source(
    env: &Env,
    out: &std::path::Path,
) -> anyhow::Result<Vec<edulake_ingest::pull::Source>> {
    let registers = out.join(edulake_schemas::datasets::ATTENDANCE_EXCEPTIONS.name);
    let Some(folder) = std::fs::read_dir(&registers)
        .ok()
        .and_then(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).min())
    else {
        return Ok(Vec::new());
    };
    let Some(school) = folder
        .file_name()
        .and_then(|n| n.to_str())
        .map(String::from)
    else {
        return Ok(Vec::new());
    };
    let drop = env.state.root().join("demo-drop");
    std::fs::create_dir_all(&drop)?;
    if let Some(first) = edulake_ingest::pipeline::expand(std::slice::from_ref(&folder))
        .into_iter()
        .min()
    {
        if let Some(name) = first.file_name() {
            let copy = drop.join(name);
            std::fs::copy(&first, &copy)?;
            // Written as long ago as the register was: whole, so the first pull takes it.
            let written = std::fs::metadata(&first)?.modified()?;
            std::fs::File::options()
                .write(true)
                .open(&copy)?
                .set_modified(written)?;
        }
    }
    let sources = env.state.root().join("demo-sources.toml");
    std::fs::write(
        &sources,
        format!(
            "[[source]]\nname = \"{school} 缺勤登记\"\ndataset = \"attendance\"\nexceptions = true\n\
             school = \"{school}\"\nfolder = \"{}\"\nevery = \"1m\"\nsettle = \"2s\"\n",
            drop.display().to_string().replace('\\', "/")
        ),
    )?;
    let list = crate::commands::pull::load(env, &sources)
        .await?
        .unwrap_or_default();
    if !list.is_empty() {
        println!(
            "Pulling {} every minute (sources: {}): a register dropped there is ingested once; the Data page shows the source.",
            drop.display(),
            sources.display()
        );
    }
    Ok(list)
}
