//! The `percore` binary: parses the command line and runs the subcommand.
//! Usage errors and bind failures exit with status 2, other failures with 1.

use std::process::ExitCode;

use clap::Parser;
use percore::cli::{Cli, Command, LoadArgs, ServeArgs};
use percore::server::Server;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Load(args) => load(args),
    }
}

fn load(args: LoadArgs) -> ExitCode {
    let json_path = args.json.clone();
    let plan = match args.into_plan() {
        Ok(plan) => plan,
        Err(usage) => {
            eprintln!("percore load: {usage}");
            return ExitCode::from(2);
        }
    };
    let report = match percore::load::run(&plan) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("percore load: {error}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report.table());
    if let Some(path) = json_path {
        let written = serde_json::to_string_pretty(&report)
            .map_err(std::io::Error::from)
            .and_then(|text| std::fs::write(&path, text + "\n"));
        if let Err(error) = written {
            eprintln!("percore load: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if report.errors > 0 {
        eprintln!("percore load: {} wrong or missing replies", report.errors);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
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
