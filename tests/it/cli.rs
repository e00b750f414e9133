//! The command line as a newcomer meets it (issue 22, item 7), against the
//! real binary: `--help` names every service, `--max-memory` takes the units
//! `CONFIG SET maxmemory` takes, `percore kv` says when the port it talks to
//! is TLS, a service without `#[derive(Clone)]` is told what to do by the
//! compiler's first error, the README's test command (item 1) is the
//! script CI runs, and port 0 gets one port that every shard serves
//! (issue 24, item 5).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::certs::Certs;
use crate::common::http::http_get;
use crate::common::resp::Resp;
use crate::common::*;

#[test]
fn help_names_every_built_in_service() {
    let (output, _) = run_percore(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    let about = help.lines().next().unwrap_or_default();
    for service in SERVICES {
        assert!(
            about
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == service),
            "`percore --help`'s first line does not name {service}: {about}"
        );
    }
}

#[test]
fn max_memory_takes_the_units_config_set_maxmemory_takes() {
    let server = TestServer::builder()
        .services(&["resp"])
        .args(&["--max-memory", "100mb"])
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    assert_eq!(
        resp.cmd("CONFIG GET maxmemory"),
        "*2\r\n$9\r\nmaxmemory\r\n$9\r\n104857600\r\n"
    );
    // The same parser serves CONFIG SET: any case, both kinds of unit.
    assert_eq!(resp.cmd("CONFIG SET maxmemory 1GB"), "+OK\r\n");
    assert_eq!(
        resp.cmd("CONFIG GET maxmemory"),
        "*2\r\n$9\r\nmaxmemory\r\n$10\r\n1073741824\r\n"
    );
    server.stop().assert_clean();

    let server = TestServer::builder()
        .services(&["resp"])
        .args(&["--max-memory", "512K"])
        .start();
    let mut resp = Resp::connect(server.addr("resp"));
    assert_eq!(
        resp.cmd("CONFIG GET maxmemory"),
        "*2\r\n$9\r\nmaxmemory\r\n$6\r\n512000\r\n"
    );
    server.stop().assert_clean();
}

#[test]
fn a_max_memory_that_is_not_a_size_is_a_usage_error() {
    let (output, _) = run_percore(&["serve", "--max-memory", "100mib"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--max-memory") && stderr.contains("100mib"),
        "{stderr}"
    );
}

#[test]
fn percore_kv_against_a_tls_port_says_it_looks_like_tls() {
    let certs = Certs::new();
    let server = TestServer::builder()
        .services(&["kv"])
        .listen("kv", "tls://127.0.0.1:0")
        .tls(&certs)
        .start();
    let tls = server.tls_addr("kv");
    let (output, _) = run_percore(&["kv", "--addr", &tls.to_string(), "get", "foo"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("TLS") && stderr.contains("--tls"),
        "no hint that the port is TLS: {stderr}"
    );
    // With --tls the same port answers.
    let (output, _) = run_percore(&[
        "kv",
        "--addr",
        &tls.to_string(),
        "--tls",
        "--tls-ca",
        &certs.path_str("ca.pem"),
        "get",
        "foo",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "(nil)\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.stop().assert_clean();
}

/// Port 0 (docs/PROTOCOLS.md, "Addresses"): two servers started on `:0`
/// at once get ports of their own, the listening line names the port, and
/// every shard accepts on it (SO_REUSEPORT spreads connections over them).
#[test]
fn port_zero_gets_one_port_that_every_shard_serves() {
    let servers: Vec<Server> = (0..2)
        .map(|_| {
            TestServer::builder()
                .services(&["yell", "echo"])
                .shards(2)
                .args(&["--metrics", "127.0.0.1:0"])
                .start()
        })
        .collect();
    let ports: Vec<u16> = servers
        .iter()
        .flat_map(|s| [s.addr("yell"), s.addr("echo"), s.metrics_addr()])
        .map(|addr| addr.port())
        .collect();
    assert!(ports.iter().all(|&port| port != 0), "{ports:?}");
    let mut distinct = ports.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), ports.len(), "a port given twice: {ports:?}");

    for server in &servers {
        // 64 connections: the chance that the kernel's hash puts them all
        // on one of two shards is 2^-63.
        let mut conns: Vec<_> = (0..64).map(|_| server.connect("yell")).collect();
        for conn in &mut conns {
            assert_eq!(round_trip(conn, b"zero\n", 5), b"ZERO\n");
        }
        let mut echo = server.connect("echo");
        assert_eq!(round_trip(&mut echo, b"zero\n", 5), b"zero\n");
        let health = http_get(server.metrics_addr(), "/health");
        assert!(
            health.status.starts_with("HTTP/1.1 200"),
            "{}",
            health.status
        );
    }
    for server in servers {
        let stopped = server.stop();
        stopped.assert_clean();
        let per_shard = stopped.json["services"]["yell"]["per_shard"]
            .as_array()
            .expect("per_shard")
            .clone();
        assert_eq!(per_shard.len(), 2);
        for shard in &per_shard {
            assert!(
                shard["connections"].as_u64() > Some(0),
                "a shard accepted nothing on the shared port: {per_shard:?}"
            );
        }
    }
}

/// Port 0 is a listening address, never a server to talk to.
#[test]
fn a_client_is_refused_port_zero() {
    let (output, _) = run_percore(&["kv", "--addr", "127.0.0.1:0", "get", "foo"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("port 0"), "{stderr}");
}

/// The percore library this test binary was linked with: the newest
/// `libpercore-*.rlib` beside it in target/.../deps.
fn percore_rlib(deps: &Path) -> Option<PathBuf> {
    std::fs::read_dir(deps)
        .ok()?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("libpercore-") && name.ends_with(".rlib"))
        })
        .max_by_key(|path| {
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH)
        })
}

#[test]
fn a_service_without_clone_is_told_to_derive_clone() {
    let deps = std::env::current_exe()
        .expect("this test's path")
        .parent()
        .expect("deps")
        .to_path_buf();
    let rlib = percore_rlib(&deps).expect("libpercore-*.rlib beside the test binary");
    let dir = TempDir::new();
    let source = dir.path.join("reverse.rs");
    std::fs::write(
        &source,
        r#"
use percore::{Batch, Flow, Lines, Opening, Server, Service};

struct Reverse; // no #[derive(Clone)]

impl Service for Reverse {
    type Decoder = Lines;
    type Session = ();
    fn open_session(&self, _: &mut Opening<'_>) {}
    async fn serve(&self, _: &mut (), _: &mut Batch<'_, Lines>) -> Flow {
        Flow::Continue
    }
    fn frame_too_long(&self, _: &mut Vec<u8>) {}
}

fn main() {
    let addr: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
    let _ = Server::builder().service("reverse", [addr], Reverse);
}
"#,
    )
    .expect("write the example");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "--emit",
            "metadata",
            "--crate-type",
            "bin",
        ])
        .arg("--out-dir")
        .arg(&dir.path)
        .arg("-L")
        .arg(format!("dependency={}", deps.display()))
        .arg("--extern")
        .arg(format!("percore={}", rlib.display()))
        .arg(&source)
        .output()
        .expect("run rustc");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it compiled: {stderr}");
    let first = stderr
        .lines()
        .find(|line| line.starts_with("error"))
        .unwrap_or_default();
    assert!(
        first.contains("Reverse") && first.contains("#[derive(Clone)]"),
        "the first error does not say to derive Clone: {first}\n{stderr}"
    );
}

/// The README's second command is the script that installs what the tests
/// need, and CI runs the suite through that same script, in both I/O modes.
#[test]
fn the_readme_test_command_is_the_script_ci_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a first sh block in README.md");
    let test_command = first_block
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().next())
        .expect("a second command");
    let script = root.join(test_command);
    let mode = std::fs::metadata(&script)
        .unwrap_or_else(|e| panic!("README's test command {test_command}: {e}"));
    assert!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o111 != 0,
        "{test_command} is not executable"
    );
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    let runs = |line: &str| ci.lines().any(|l| l.trim() == line);
    assert!(
        runs(test_command) && runs(&format!("PERCORE_IO_FALLBACK=1 {test_command}")),
        ".ci/run does not run {test_command} in both I/O modes"
    );
}
