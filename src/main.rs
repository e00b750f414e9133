//! The `percore` binary: parses the command line and runs the subcommand.
//! Usage errors and bind failures exit with status 2, other failures with 1.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Action, Cli, KvArgs, KvRequest, LoadArgs, ServeArgs};
use percore_protocols::kv::client::display_reply;
use percore_protocols::kv::{KvClient, Reply};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.action {
        Action::Serve(args) => serve(args),
        Action::Load(args) => load(args),
        Action::Kv(args) => kv(args),
    }
}

/// `percore kv`: one request; exit 1 on an error reply, 2 when the server
/// cannot be reached.
fn kv(args: KvArgs) -> ExitCode {
    let connected = if args.tls || args.tls_ca.is_some() {
        match percore::tls::client::client_config(args.tls_ca.as_deref()) {
            Ok(config) => KvClient::connect_tls(args.addr, args.timeout, config),
            Err(error) => {
                eprintln!("percore kv: {error}");
                return ExitCode::from(2);
            }
        }
    } else {
        KvClient::connect(args.addr, args.timeout)
    };
    let reply = connected.and_then(|mut client| client.request(&args.request.as_request()));
    match reply {
        Ok(reply) => {
            let printed = match (&args.request, &reply) {
                (KvRequest::Put { .. } | KvRequest::Del { .. }, Reply::Nil) => "OK".to_owned(),
                _ => display_reply(&reply),
            };
            println!("{printed}");
            match reply {
                Reply::Error(_) => ExitCode::FAILURE,
                _ => ExitCode::SUCCESS,
            }
        }
        Err(error) => {
            eprintln!("percore kv: {error}");
            ExitCode::from(2)
        }
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
    let report = match percore_load::run(&plan) {
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
    let (builder, warnings) = match args.into_builder() {
        Ok(parsed) => parsed,
        Err(usage) => {
            eprintln!("percore: {usage}");
            return ExitCode::from(2);
        }
    };
    let server = match builder.build() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("percore: {error}");
            return ExitCode::from(error.exit_code() as u8);
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
