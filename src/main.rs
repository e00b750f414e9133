//! The `percore` binary: parses the command line and runs the subcommand.
//! Usage errors and bind failures exit with status 2, other failures with 1.

use std::process::ExitCode;

use clap::Parser;
use percore::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: percore::cli::ServeArgs) -> ExitCode {
    let (config, warnings) = match args.into_config() {
        Ok(parsed) => parsed,
        Err(usage) => {
            eprintln!("percore: {usage}");
            return ExitCode::from(2);
        }
    };
    for warning in warnings {
        eprintln!("percore: warning: {warning}");
    }
    match percore::server::run(config) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("percore: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
