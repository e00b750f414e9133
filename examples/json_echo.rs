//! The easynetwork seed's JSON example on percore: every line is a JSON
//! document, answered with `{"shard": <shard>, "request": <the request>}`;
//! a line that is not JSON gets `{"error": ...}` and the connection stays open.
//!
//! `cargo run --release --example json_echo [ADDR]` serves on ADDR
//! (default 127.0.0.1:9000) on every core; Ctrl-C prints the report.

use std::net::SocketAddr;
use std::process::ExitCode;

use percore::{Batch, Flow, Lines, Opening, Server, Service};
use serde_json::{json, Value};

/// The service. It keeps nothing per shard, so it is its own factory.
#[derive(Clone)]
struct JsonEcho;

impl Service for JsonEcho {
    type Decoder = Lines;
    /// Per connection: the shard serving it.
    type Session = usize;

    fn open_session(&self, opening: &mut Opening<'_>) -> usize {
        opening.shard()
    }

    async fn serve(&self, shard: &mut usize, batch: &mut Batch<'_, Lines>) -> Flow {
        while let Some(line) = batch.next_request() {
            if line.trim_ascii().is_empty() {
                continue;
            }
            let reply = match serde_json::from_slice::<Value>(line) {
                Ok(request) => {
                    batch.served();
                    json!({"shard": *shard, "request": request})
                }
                Err(error) => {
                    batch.failed();
                    json!({"error": error.to_string()})
                }
            };
            write_line(batch.out(), &reply);
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        write_line(out, &json!({"error": "line too long"}));
    }
}

fn write_line(out: &mut Vec<u8>, reply: &Value) {
    // Writing JSON into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, reply);
    out.push(b'\n');
}

fn main() -> ExitCode {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9000".into());
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        eprintln!("json_echo: '{addr}' is not an address (IP:PORT)");
        return ExitCode::from(2);
    };
    let server = match Server::builder().service("json", [addr], JsonEcho).build() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("json_echo: {error}");
            return ExitCode::from(2);
        }
    };
    match server.run() {
        Ok(_report) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("json_echo: {error}");
            ExitCode::FAILURE
        }
    }
}
