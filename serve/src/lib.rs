//! The `edulake` command: the one crate that wires `schemas`, `ingest` and `transform`
//! together.
//!
//! # Layout
//! - [`accounts`] (transform's): accounts, sessions, sign-in throttling and the audit log
//!   (SQLite in the state directory).
//! - [`cli`]: the command line of `shared/contract/CLI.md` (clap).
//! - [`commands`]: one module per subcommand; each takes its parsed arguments and a
//!   [`Env`], prints its results and returns whether the work succeeded.
//! - [`out`]: the commands' standard output, which a reader that goes away does not fail.
//! - [`progress`]: progress bars on a terminal, silence in scripts.
//! - [`web`]: the cockpit served by `edulake serve` (axum, pages rendered on the server).

// Every command prints through `out`, which a closed pipe does not make panic; these shadow
// the standard macros in every module below.
macro_rules! println {
    () => {
        $crate::out::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*), true)
    };
}
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*), false)
    };
}

pub mod cli;
pub mod out;

/// Accounts, sessions and the audit log live with the principals they make, in transform.
pub use edulake_transform::accounts;
pub mod commands;
pub mod progress;
pub mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use edulake_ingest::{Lake, StateDir};

/// What every command needs: where the lake and its state are, and how chatty to be.
pub struct Env {
    pub lake_location: String,
    pub state: StateDir,
    pub quiet: bool,
    /// The language of what the command says (`--lang`, else the locale).
    pub lang: edulake_schemas::words::Lang,
}

impl Env {
    pub fn from_cli(lake: &str, state: Option<PathBuf>, quiet: bool) -> Env {
        let state = state.unwrap_or_else(|| StateDir::default_for(lake));
        Env {
            lake_location: lake.to_string(),
            state: StateDir::new(state),
            quiet,
            lang: edulake_schemas::words::Lang::from_env(),
        }
    }

    /// The export profiles: the built-in ones and the bureau's own (`profiles/` in the state
    /// directory), read anew each time so a file added there counts without a restart.
    pub fn profiles(&self) -> edulake_ingest::profile::Profiles {
        edulake_ingest::profile::Profiles::load(&self.state.root().join("profiles"))
    }

    /// Appends what a command did to the audit log of the state directory (as the command
    /// line's user, from this computer). A state directory that cannot take it is said on
    /// stderr; the command goes on.
    pub fn audit(&self, action: &str, target: &str) {
        let entry = accounts::AuditEntry {
            login: "(command line)".into(),
            action: action.into(),
            target: target.into(),
            scope: "bureau".into(),
            address: "local".into(),
            outcome: "ok".into(),
            ..Default::default()
        };
        if let Err(e) = accounts::Accounts::open(self.state.root()).and_then(|a| a.audit(&entry)) {
            eprintln!("edulake: the audit log: {e}");
        }
    }

    /// The lake to write (ingest), created if it is a new local folder.
    pub fn lake(&self) -> anyhow::Result<Lake> {
        Ok(Lake::open(&self.lake_location)?)
    }

    /// The lake to read (transform's handle): a local folder that is not there is an error,
    /// not an empty lake.
    pub fn reader(&self) -> anyhow::Result<edulake_transform::Lake> {
        Ok(edulake_transform::Lake::open(&self.lake_location)?)
    }
}

/// Runs a parsed command line: 0 success, 1 the work failed (said on stderr), 2 wrong usage.
pub fn run(cli: cli::Cli) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDULAKE_LOG")
        .unwrap_or_else(|_| "warn,buoyant_kernel=off".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let mut env = Env::from_cli(&cli.lake, cli.state.clone(), cli.quiet);
    if let Some(lang) = cli.lang {
        env.lang = lang.into();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("edulake: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::dispatch(cli.command, &env)) {
        Ok(_) if out::failed() => ExitCode::from(1),
        Ok(code) => code,
        // The reader went away (`edulake sql ... | head`): not a failure of ours.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("edulake: {e:#}");
            ExitCode::from(1)
        }
    }
}
