//! easynetwork's JSON example (docs/PROTOCOLS.md §0) on percore: every line is a JSON
//! document, answered with `{"shard": <shard>, "request": <the request>}`;
//! a line that is not JSON gets `{"error": ...}` and the connection stays open.
//!
//! It is a [`Handler`]: it answers one line at a time, and the framework
//! does the rest (reading, cutting lines, counting, limits, the report).
//!
//! `cargo run --release --example json_echo [ADDR]` serves on ADDR
//! (default 127.0.0.1:9000) on every core; Ctrl-C prints the report.

use std::net::SocketAddr;
use std::process::ExitCode;

use percore::{Handler, Lines, Opening, Reply, Server};
use serde_json::{json, Value};

/// The handler. It keeps nothing per shard, so it is cloned onto each.
#[derive(Clone)]
struct JsonEcho;

impl Handler for JsonEcho {
    type Decoder = Lines;
    /// Per connection: the shard serving it.
    type Session = usize;

    fn open_session(&self, opening: &mut Opening<'_>) -> usize {
        opening.shard()
    }

    fn handle(&self, shard: &mut usize, line: &[u8], out: &mut Vec<u8>) -> Reply {
        if line.trim_ascii().is_empty() {
            return Reply::Skipped;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(request) => {
                write_line(out, &json!({"shard": *shard, "request": request}));
                Reply::Served
            }
            Err(error) => {
                write_line(out, &json!({"error": error.to_string()}));
                Reply::Failed
            }
        }
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
    let server = match Server::builder().handler("json", [addr], JsonEcho).build() {
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
