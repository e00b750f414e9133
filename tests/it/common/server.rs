//! A running server process, as tests hold it: its addresses (read from its
//! listening line), its output, a stop by signal and what it printed and
//! wrote once stopped. [`super::TestServer`] starts one; the older
//! constructors here remain for tests written against them.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use super::{connect, example_path, lines_of, wait_with_deadline, TempDir, DEADLINE};

/// A running server. Dropping it kills the process.
pub struct Server {
    pub(super) child: Child,
    pub(super) stdout: Receiver<String>,
    pub(super) stderr: Option<ChildStderr>,
    /// Each service's plain addresses, as the listening line names them.
    pub addrs: Vec<(String, SocketAddr)>,
    /// Each service's `tls://` addresses.
    pub tls_addrs: Vec<(String, SocketAddr)>,
    /// The metrics endpoint, when `--metrics` was given.
    pub metrics: Option<SocketAddr>,
    pub stats_json: PathBuf,
    pub(super) _dir: TempDir,
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

/// A server that ended before it printed its listening line.
#[derive(Debug)]
pub struct Exited {
    pub status: Option<ExitStatus>,
    pub stderr: String,
}

/// The addresses a listening line names: plain, `tls://`, and metrics.
#[derive(Debug, Default, PartialEq)]
pub struct Listening {
    pub plain: Vec<(String, SocketAddr)>,
    pub tls: Vec<(String, SocketAddr)>,
    pub metrics: Option<SocketAddr>,
    pub shards: usize,
}

impl Listening {
    /// Reads `percore listening: yell=127.0.0.1:1234 kv=tls://... shards=2`.
    pub fn parse(line: &str) -> Option<Listening> {
        let mut listening = Listening::default();
        for word in line.strip_prefix("percore listening:")?.split_whitespace() {
            let (name, value) = word.split_once('=')?;
            match name {
                "shards" => listening.shards = value.parse().ok()?,
                "metrics" => listening.metrics = Some(value.parse().ok()?),
                _ => match value.strip_prefix("tls://") {
                    Some(addr) => listening.tls.push((name.into(), addr.parse().ok()?)),
                    None => listening.plain.push((name.into(), value.parse().ok()?)),
                },
            }
        }
        Some(listening)
    }
}

impl Server {
    /// Starts `cmd`, which listens on `addrs`, and waits for its listening
    /// line; `None` when it exits with status 2 (an address was taken
    /// meanwhile). Prefer [`TestServer`]: port 0 takes no retry.
    pub fn launch(
        cmd: Command,
        addrs: Vec<(String, SocketAddr)>,
        stats_json: PathBuf,
        dir: TempDir,
    ) -> Option<Server> {
        match Server::spawn(cmd, stats_json, dir) {
            Ok(mut server) => {
                server.addrs = addrs;
                Some(server)
            }
            Err(exited) if exited.status.and_then(|s| s.code()) == Some(2) => None,
            Err(exited) => panic!(
                "percore exited before listening ({:?}): {}",
                exited.status, exited.stderr
            ),
        }
    }

    /// Starts `cmd` and waits for its listening line, whose addresses the
    /// server then holds; what it said if it ended first.
    pub fn spawn(mut cmd: Command, stats_json: PathBuf, dir: TempDir) -> Result<Server, Exited> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn the server");
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = child.stderr.take();
        let deadline = Instant::now() + DEADLINE;
        let listening = loop {
            match stdout.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("percore listening:") => {
                    break Listening::parse(&line)
                        .unwrap_or_else(|| panic!("a listening line tests cannot read: {line}"));
                }
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed: the process is exiting, but its status
                    // may not be ready yet, so wait for it rather than poll.
                    let status = wait_with_deadline(&mut child, DEADLINE);
                    let mut text = String::new();
                    if let Some(mut pipe) = stderr {
                        let _ = pipe.read_to_string(&mut text);
                    }
                    return Err(Exited {
                        status,
                        stderr: text,
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("percore did not print its listening line in {DEADLINE:?}");
                }
            }
        };
        Ok(Server {
            child,
            stdout,
            stderr,
            addrs: listening.plain,
            tls_addrs: listening.tls,
            metrics: listening.metrics,
            stats_json,
            _dir: dir,
        })
    }

    /// The service's first plain address.
    pub fn addr(&self, service: &str) -> SocketAddr {
        find(&self.addrs, service)
            .unwrap_or_else(|| panic!("{service} has no plain address: {:?}", self.addrs))
    }

    /// The service's first `tls://` address.
    pub fn tls_addr(&self, service: &str) -> SocketAddr {
        find(&self.tls_addrs, service)
            .unwrap_or_else(|| panic!("{service} has no TLS address: {:?}", self.tls_addrs))
    }

    /// The metrics endpoint's address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics.expect("the server serves metrics")
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

fn find(addrs: &[(String, SocketAddr)], service: &str) -> Option<SocketAddr> {
    addrs.iter().find(|(s, _)| s == service).map(|(_, a)| *a)
}

/// The command that runs example `name`.
pub(super) fn example_command(name: &str) -> Command {
    Command::new(example_path(name))
}
