//! One module per subcommand.

mod boundaries;
mod build;
mod demo;
mod export;
mod generate;
mod ingest;
pub mod pull;
mod query;
pub mod users;

use std::process::ExitCode;

use crate::cli::{Command, SqlFormat};
use crate::Env;

pub use boundaries::import as import_boundaries;
pub use build::build;
pub use ingest::{ingest_files, print_outcome, How, Reading, Summary};

/// Runs one command.
pub async fn dispatch(command: Command, env: &Env) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo {
            addr,
            schools,
            students,
            days,
            seed,
        } => demo::run(env, &addr, schools, students, days, seed).await,
        Command::Generate {
            out,
            schools,
            students,
            days,
            seed,
            messy,
            end,
            health_days,
            datasets,
            per_student,
        } => generate::run(
            env,
            out,
            generate::Size {
                schools,
                students,
                days,
                health_days,
                per_student,
            },
            seed,
            messy,
            end,
            datasets,
        ),
        Command::Ingest {
            dataset,
            school,
            as_of,
            date,
            class,
            exceptions,
            dry_run,
            profile,
            paths,
        } => {
            let what = ingest::What {
                dataset,
                school,
                as_of,
                date,
                class,
                exceptions,
                dry_run,
                profile,
            };
            ingest::run(env, what, paths).await
        }
        Command::Profiles => ingest::profiles(env),
        Command::Pull { sources, once } => pull::run(env, &sources, once).await,
        Command::Boundaries {
            action:
                crate::cli::BoundariesAction::Import {
                    file,
                    name_property,
                },
        } => boundaries::import(env, &file, name_property.as_deref()).await,
        Command::Batches { format, shapes } => query::batches(env, format, shapes).await,
        Command::Sql {
            format,
            role,
            school,
            district,
            rows,
            query,
        } => {
            let who = role
                .map(|r| users::principal_of(&r, school, district))
                .transpose()?
                .map(|p| p.with_rows(rows))
                .transpose()?;
            query::sql(env, &query, format, who.as_ref()).await
        }
        Command::Users { action } => users::run(env, action).await,
        Command::Schema { dataset } => query::schema(dataset.as_deref()),
        Command::Build { full, show_sql } => build::run(env, full, show_sql).await,
        Command::Export(args) => export::export(env, args).await,
        Command::Alerts {
            from,
            to,
            format,
            threshold,
            kind,
        } => export::alerts(env, from, to, format, threshold, &kind).await,
        Command::Indicators => export::indicators(),
        Command::Serve {
            addr,
            tls_cert,
            tls_key,
            sources,
        } => {
            // Sources pulled beside the cockpit, each on its schedule.
            let pulled = match &sources {
                Some(file) => match pull::load(env, file).await? {
                    Some(list) => list,
                    None => return Ok(ExitCode::from(1)),
                },
                None => Vec::new(),
            };
            pull::spawn(env, &pulled);
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(crate::web::tls::Tls::load(&cert, &key)?),
                _ => None,
            };
            let listener = crate::web::listen(&addr).await?;
            crate::web::serve(listener, env.lake()?, env.state.clone(), tls, pulled).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

impl From<SqlFormat> for edulake_transform::output::Format {
    fn from(f: SqlFormat) -> Self {
        match f {
            SqlFormat::Table => edulake_transform::output::Format::Table,
            SqlFormat::Csv => edulake_transform::output::Format::Csv,
            SqlFormat::Json => edulake_transform::output::Format::Json,
        }
    }
}
