//! Shared test harness: runs the real `percore serve` binary on port 0
//! ([`TestServer`]), reads the ports it got from its `percore listening:`
//! line, and talks to it over real sockets. Every wait has a deadline;
//! nothing sleeps to synchronise.

mod builder;
pub mod certs;
pub mod cluster;
pub mod embedded;
pub mod http;
pub mod mq;
pub mod resp;
pub mod rng;
mod server;
pub mod typed;
mod wait;

pub use builder::{Builder, TestServer};
pub use server::{Exited, Listening, Server};
pub use wait::{lines_of, poll_until, wait_for_line, wait_until, wait_with_deadline};

use std::io::{BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const DEADLINE: Duration = Duration::from_secs(20);
pub const SERVICES: [&str; 6] = ["yell", "echo", "chat", "mq", "kv", "resp"];

pub fn percore() -> Command {
    Command::new(env!("CARGO_BIN_EXE_percore"))
}

/// Runs `percore ARGS` to its end, within the deadline; returns what it
/// printed and how long it took.
pub fn run_percore(args: &[&str]) -> (std::process::Output, Duration) {
    let began = Instant::now();
    let mut child = percore()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn percore");
    let status =
        wait_with_deadline(&mut child, DEADLINE).expect("percore exits within the deadline");
    let elapsed = began.elapsed();
    let mut output = child.wait_with_output().expect("collect percore's output");
    output.status = status;
    (output, elapsed)
}

/// Runs `percore ARGS` and asserts a usage error: exit status 2 and one
/// line on stderr that contains `reason` (docs/PROTOCOLS.md "Command line").
pub fn assert_usage_error(args: &[&str], reason: &str) {
    let (output, _) = run_percore(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(reason), "{args:?}: {stderr}");
}

/// A port that was free a moment ago. Prefer [`TestServer`], whose servers
/// bind port 0; this is for what must know its port before it starts
/// (cluster nodes that name each other, redis-server).
pub fn free_port() -> u16 {
    let probe = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    probe.local_addr().expect("local address").port()
}

/// Where `cargo test` put example `name`: beside the test binaries' folder.
pub fn example_path(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile_dir.join("examples").join(name)
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, DEADLINE).expect("connect to percore");
    stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(DEADLINE))
        .expect("write timeout");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// A kv connection (the crate's client), with the deadline as its timeout.
pub fn kv_client(addr: SocketAddr) -> percore_protocols::kv::KvClient {
    percore_protocols::kv::KvClient::connect(addr, DEADLINE).expect("connect to kv")
}

/// A key that shard `shard` of `shards` owns, named `prefix` and a number.
pub fn key_on(shards: usize, shard: usize, prefix: &str) -> String {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .find(|key| percore::cross_shard::owner_of(key.as_bytes(), shards) == shard)
        .expect("a key")
}

/// A whole-number environment variable (a campaign's size or seed).
pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Reads exactly `n` bytes.
pub fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream
        .read_exact(&mut buf)
        .expect("read the expected reply");
    buf
}

/// Reads one line, its `\n` included.
pub fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a line from the server");
    line
}

/// Reads one line, `\n` included, a byte at a time, so that nothing past it
/// is taken from the socket.
pub fn read_line_unbuffered(conn: &mut TcpStream) -> Vec<u8> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.last() != Some(&b'\n') {
        conn.read_exact(&mut byte).expect("a line");
        line.push(byte[0]);
    }
    line
}

/// Reads until the server closes the connection.
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    match stream.read_to_end(&mut buf) {
        Ok(_) => buf,
        // A reset after the data is a close too.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => buf,
        Err(e) => panic!("reading until close failed: {e} (got {buf:?})"),
    }
}

/// Sends `request` and reads a reply of exactly `expected.len()` bytes.
pub fn round_trip(stream: &mut TcpStream, request: &[u8], reply_len: usize) -> Vec<u8> {
    stream.write_all(request).expect("send");
    read_n(stream, reply_len)
}

/// Writes `data` from another thread while the caller reads, so neither side
/// can fill its socket buffers and stall the other.
pub fn write_in_background(
    stream: &TcpStream,
    data: Vec<u8>,
    then_shutdown: bool,
) -> thread::JoinHandle<()> {
    let mut writer = stream.try_clone().expect("clone stream");
    thread::spawn(move || {
        writer.write_all(&data).expect("write in background");
        if then_shutdown {
            writer
                .shutdown(Shutdown::Write)
                .expect("shutdown write side");
        }
    })
}

/// Whether the server closed this connection: a read sees end-of-file or a reset.
pub fn is_closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
    }
}

/// Raises this process's open-file limit to its hard limit.
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    limit.rlim_cur
}

/// A directory removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "percore-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Closes with SO_LINGER 0, so the server sees a reset, not a FIN.
pub fn reset(conn: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on an open socket with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&conn),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(conn);
}

/// One request per service and the reply it must get: (request, reply).
pub fn probe(service: &str) -> (Vec<u8>, Vec<u8>) {
    match service {
        "yell" => (b"probe\n".to_vec(), b"PROBE\n".to_vec()),
        "echo" => (b"probe\n".to_vec(), b"probe\n".to_vec()),
        "chat" => (b"probe\r\n".to_vec(), b"You sent: probe\r\n".to_vec()),
        "mq" => (
            b"{'command': 'dance'}\n".to_vec(),
            b"{\"error\": \"unknown command 'dance'\"}\n".to_vec(),
        ),
        "kv" => {
            let mut get = Vec::new();
            percore_protocols::kv::protocol::push_request_frame(
                &mut get,
                &percore_protocols::kv::Request::Get { key: "probe" },
            );
            (get, b"\0\0\0\x01\xc0".to_vec())
        }
        "resp" => (
            b"*2\r\n$4\r\nECHO\r\n$5\r\nprobe\r\n".to_vec(),
            b"$5\r\nprobe\r\n".to_vec(),
        ),
        other => panic!("no probe for {other}"),
    }
}

/// A figure from /proc/PID/status, in bytes.
pub fn proc_status_bytes(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    kib * 1024
}

/// A Python with msgspec, prometheus-client and redis (the interop clients,
/// the Prometheus parser the metrics are checked with, and redis-py): `$PERCORE_PYTHON`, or a venv under target/ that is
/// created on first use (`.ci/run` creates it up front).
pub fn python_with_msgspec() -> PathBuf {
    if let Some(python) = std::env::var_os("PERCORE_PYTHON") {
        return python.into();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-venv");
    let python = venv.join("bin/python");
    let has_msgspec = |python: &Path| {
        Command::new(python)
            .args(["-c", "import msgspec, prometheus_client, redis"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_msgspec(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "msgspec",
                    "prometheus-client",
                    "redis",
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            made,
            "cannot create {} with msgspec, prometheus-client and redis",
            venv.display()
        );
    }
    python
}

/// What the Python original's kv session prints, line by line, when the server is right.
pub const SEED_KV_SESSION: &str = "None\nNone\n'bar'\n['fizz', 'foo']\nNone\n['foo']\n";

/// Runs `tests/interop/SCRIPT ARGS` with the interop Python to its end,
/// within the deadline; panics unless it succeeds; returns its stdout.
pub fn run_python_client(script: &str, args: &[String]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let mut child = Command::new(python_with_msgspec())
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    let status = wait_with_deadline(&mut child, DEADLINE).expect("python client finished");
    let output = child.wait_with_output().expect("python output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
