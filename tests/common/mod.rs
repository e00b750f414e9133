//! Shared test harness: runs the real `percore serve` binary on free loopback
//! ports, waits for its `percore listening:` line, and talks to it over real
//! sockets. Every wait has a deadline; nothing sleeps to synchronise.

#![allow(dead_code)]

pub mod certs;
pub mod cluster;
pub mod embedded;
pub mod mq;
pub mod resp;
pub mod typed;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
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

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let probe = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    probe.local_addr().expect("local address").port()
}

/// A running server. Dropping it kills the process.
pub struct Server {
    child: Child,
    stdout: Receiver<String>,
    stderr: Option<ChildStderr>,
    pub addrs: Vec<(String, SocketAddr)>,
    pub stats_json: PathBuf,
    _dir: TempDir,
}

/// What a server printed and wrote once it stopped.
pub struct Stopped {
    pub status: ExitStatus,
    pub elapsed: Duration,
    pub stdout: String,
    pub stderr: String,
    pub json: serde_json::Value,
}

impl Stopped {
    /// Panics, showing what the server printed, unless it exited with 0.
    #[allow(dead_code)]
    pub fn assert_clean(&self) {
        assert!(
            self.status.success(),
            "percore exited with {}\nstderr:\n{}\nstdout:\n{}",
            self.status,
            self.stderr,
            self.stdout
        );
    }
}

impl Server {
    /// Starts `percore serve --shards 4` with every service on a free port,
    /// plus `extra` options.
    pub fn start(extra: &[&str]) -> Server {
        let mut args = vec!["--shards", "4"];
        args.extend_from_slice(extra);
        Server::start_with(&args)
    }

    pub fn start_with(extra: &[&str]) -> Server {
        Server::start_with_env(extra, &[])
    }

    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Server {
        // A port picked as free can be taken before the server binds it:
        // then the server exits with status 2 and we try other ports.
        for _ in 0..5 {
            if let Some(server) = Server::try_start(extra, env) {
                return server;
            }
        }
        panic!("percore did not start on free ports in 5 tries");
    }

    fn try_start(extra: &[&str], env: &[(&str, &str)]) -> Option<Server> {
        let dir = TempDir::new();
        let stats_json = dir.path.join("stats.json");
        let addrs: Vec<(String, SocketAddr)> = SERVICES
            .iter()
            .map(|s| {
                (
                    s.to_string(),
                    SocketAddr::from(([127, 0, 0, 1], free_port())),
                )
            })
            .collect();
        let mut cmd = percore();
        cmd.arg("serve");
        for (service, addr) in &addrs {
            cmd.arg(format!("--{service}")).arg(addr.to_string());
        }
        cmd.arg("--stats-json")
            .arg(&stats_json)
            .args(extra)
            .envs(env.iter().copied());
        Server::launch(cmd, addrs, stats_json, dir)
    }

    /// Runs `examples/NAME` (built by `cargo test`) with a free address for
    /// its service `service` as its first argument, then `args`.
    pub fn start_example(name: &str, service: &str, args: &[&str]) -> Server {
        for _ in 0..5 {
            let dir = TempDir::new();
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let mut cmd = Command::new(example_path(name));
            cmd.arg(addr.to_string()).args(args);
            let stats_json = dir.path.join("none.json");
            if let Some(server) =
                Server::launch(cmd, vec![(service.to_string(), addr)], stats_json, dir)
            {
                return server;
            }
        }
        panic!("example {name} did not start on free ports in 5 tries");
    }

    /// Starts `cmd` and waits for its listening line; `None` when it exits
    /// with status 2 (an address was taken meanwhile).
    pub fn launch(
        mut cmd: Command,
        addrs: Vec<(String, SocketAddr)>,
        stats_json: PathBuf,
        dir: TempDir,
    ) -> Option<Server> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn the server");
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = child.stderr.take();
        let deadline = Instant::now() + DEADLINE;
        loop {
            match stdout.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("percore listening:") => break,
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed: the process is exiting, but its status
                    // may not be ready yet, so wait for it rather than poll.
                    let status = wait_with_deadline(&mut child, DEADLINE);
                    if status.and_then(|s| s.code()) == Some(2) {
                        return None;
                    }
                    let mut stderr_text = String::new();
                    if let Some(mut pipe) = stderr {
                        let _ = pipe.read_to_string(&mut stderr_text);
                    }
                    panic!("percore exited before listening ({status:?}): {stderr_text}");
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("percore did not print its listening line in {DEADLINE:?}");
                }
            }
        }
        Some(Server {
            child,
            stdout,
            stderr,
            addrs,
            stats_json,
            _dir: dir,
        })
    }

    pub fn addr(&self, service: &str) -> SocketAddr {
        self.addrs
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, a)| *a)
            .expect("service has an address")
    }

    pub fn connect(&self, service: &str) -> TcpStream {
        connect(self.addr(service))
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with the pid of a child we have not reaped yet.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Takes the stderr pipe, to read it while the server runs.
    pub fn take_stderr(&mut self) -> ChildStderr {
        self.stderr.take().expect("stderr not taken yet")
    }

    /// Sends SIGINT and waits for the process to exit.
    pub fn stop(mut self) -> Stopped {
        self.signal(libc::SIGINT);
        self.wait()
    }

    /// Waits for the process to exit on its own, within the deadline.
    pub fn wait(&mut self) -> Stopped {
        let began = Instant::now();
        let status = wait_with_deadline(&mut self.child, DEADLINE);
        let elapsed = began.elapsed();
        let mut stdout = String::new();
        while let Ok(line) = self.stdout.recv_timeout(Duration::from_secs(5)) {
            stdout.push_str(&line);
            stdout.push('\n');
        }
        let mut stderr = String::new();
        if let Some(mut pipe) = self.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let json = std::fs::read_to_string(&self.stats_json)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null);
        Stopped {
            status: status.expect("percore exited within the deadline"),
            elapsed,
            stdout,
            stderr,
            json,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

pub fn wait_with_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let give_up = Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().expect("wait for percore") {
            return Some(status);
        }
        if Instant::now() >= give_up {
            let _ = child.kill();
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Forwards a pipe's lines over a channel, so reads can have deadlines.
pub fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
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

/// Reads exactly `n` bytes.
pub fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream
        .read_exact(&mut buf)
        .expect("read the expected reply");
    buf
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
            percore::services::kv::protocol::push_request_frame(
                &mut get,
                &percore::services::kv::Request::Get { key: "probe" },
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

/// What the seed's kv session prints, line by line, when the server is right.
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
