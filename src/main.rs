//! The `percore` binary: parses the command line and runs the subcommand.
//! Usage errors and bind failures exit with status 2, other failures with 1.

use std::process::ExitCode;

use clap::Parser;
use percore::cli::{Cli, Command, ServeArgs};
use percore::server::Server;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let (config, warnings) = match args.into_config() {
        Ok(parsed) => parsed,
        Err(usage) => {
            eprintln!("percore: {usage}");
            return ExitCode::from(2);
        }
    };
    let server = match Server::new(config) {
        Ok(server) => server,
        Err(bind) => {
            eprintln!("percore: {bind}");
            return ExitCode::from(2);
        }
    };
    for warning in warnings {
        eprintln!("percore: warning: {warning}");
    }
    match server.run() {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("percore: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
