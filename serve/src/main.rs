//! The `edulake` binary: parse the command line, run the command, map the outcome to an exit
//! code. Everything else lives in the library crates.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = edulake_serve::cli::Cli::parse();
    edulake_serve::run(cli)
}
