//! The crash campaign's server: the real `percore serve` binary on a data
//! dir, started, killed with SIGKILL at a chosen moment, or stopped; and
//! where a kill landed, read from the files it left.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{free_port, lines_of, percore, wait_with_deadline};

/// A start, an exit or a SIGINT stop must come within this.
const PATIENCE: Duration = Duration::from_secs(60);

/// How one run is started.
#[derive(Clone, Debug)]
pub struct Options {
    pub shards: usize,
    pub fsync: &'static str,
    pub max_memory: Option<u64>,
    /// PERCORE_COMPACT_MIN_BYTES.
    pub compact_min: u64,
}

/// A running (or exited) server.
pub struct Proc {
    child: Child,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    pub kv: SocketAddr,
    pub resp: SocketAddr,
    pub spawned: Instant,
    pub listening: bool,
}

/// Why a start did not reach its listening line.
#[derive(Debug)]
pub struct Failed {
    pub status: Option<ExitStatus>,
    pub stderr: String,
}

impl Proc {
    /// Spawns `percore serve` with kv and resp on free ports.
    pub fn spawn(dir: &Path, options: &Options) -> Proc {
        let kv = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let resp = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut cmd = percore();
        cmd.arg("serve")
            .args(["--services", "kv,resp"])
            .args(["--kv", &kv.to_string(), "--resp", &resp.to_string()])
            .args(["--shards", &options.shards.to_string()])
            .args(["--fsync", options.fsync])
            .arg("--data-dir")
            .arg(dir)
            .env("PERCORE_COMPACT_MIN_BYTES", options.compact_min.to_string());
        if let Some(bytes) = options.max_memory {
            cmd.args(["--max-memory", &bytes.to_string()]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl(2) only, between fork and exec. A campaign killed
        // (a CI timeout) takes its server with it instead of leaving it.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let spawned = Instant::now();
        let mut child = cmd.spawn().expect("spawn percore");
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let into = stderr.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = into.lock().unwrap_or_else(|e| e.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        Proc {
            child,
            stdout,
            stderr,
            kv,
            resp,
            spawned,
            listening: false,
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits up to `within` for the listening line; `Ok(false)` if it has
    /// not come yet, an error if the process exited instead.
    pub fn wait_listening(&mut self, within: Duration) -> Result<bool, Failed> {
        if self.listening {
            return Ok(true);
        }
        let until = Instant::now() + within;
        loop {
            match self
                .stdout
                .recv_timeout(until.saturating_duration_since(Instant::now()))
            {
                Ok(line) if line.starts_with("percore listening:") => {
                    self.listening = true;
                    return Ok(true);
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return Ok(false),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = wait_with_deadline(&mut self.child, PATIENCE);
                    // Let the stderr reader take the last lines.
                    thread::sleep(Duration::from_millis(50));
                    return Err(Failed {
                        status,
                        stderr: self.stderr(),
                    });
                }
            }
        }
    }

    /// Starts and waits for the listening line; a port taken meanwhile
    /// (exit 2 naming an address) is tried again on other ports.
    pub fn start(dir: &Path, options: &Options) -> Result<Proc, Failed> {
        let mut tries = 0;
        loop {
            let mut proc = Proc::spawn(dir, options);
            match proc.wait_listening(PATIENCE) {
                Ok(true) => return Ok(proc),
                Ok(false) => {
                    let _ = proc.kill();
                    return Err(Failed {
                        status: None,
                        stderr: format!("no listening line in {PATIENCE:?}\n{}", proc.stderr()),
                    });
                }
                Err(failed)
                    if tries < 5
                        && failed.status.and_then(|s| s.code()) == Some(2)
                        && failed.stderr.contains("127.0.0.1:") =>
                {
                    tries += 1;
                }
                Err(failed) => return Err(failed),
            }
        }
    }

    /// SIGKILL, and waits for the process to be gone; an error if it had
    /// exited on its own before.
    pub fn kill(&mut self) -> Result<(), Failed> {
        let running = matches!(self.child.try_wait(), Ok(None));
        let _ = self.child.kill();
        let status = wait_with_deadline(&mut self.child, PATIENCE);
        if running {
            return Ok(());
        }
        Err(Failed {
            status,
            stderr: self.stderr(),
        })
    }

    /// SIGINT, and the exit status.
    pub fn stop(mut self) -> Result<(), Failed> {
        // SAFETY: kill(2) on our own child, not reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = wait_with_deadline(&mut self.child, PATIENCE);
        if status.is_some_and(|s| s.success()) {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(50));
        Err(Failed {
            status,
            stderr: self.stderr(),
        })
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The generation a start in `dir` will write, and the inode of a leftover
/// directory of that name (a killed start's, which the next start replaces).
pub fn next_generation(dir: &Path) -> (PathBuf, Option<u64>) {
    let current: u64 = fs::read_to_string(dir.join("CURRENT"))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0);
    let next = dir.join(format!("gen-{}", current + 1));
    let ino = fs::metadata(&next).ok().map(|m| m.ino());
    (next, ino)
}

/// The names in `dir`, if it is there and is not the leftover `stale`.
fn names_in(dir: &Path, stale: Option<u64>) -> Option<Vec<String>> {
    if fs::metadata(dir).ok().map(|m| m.ino()) == stale {
        return None;
    }
    let entries = fs::read_dir(dir).ok()?;
    Some(
        entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
    )
}

/// Whether a start has made its new generation's directory (it is loading,
/// or past it) and whether it has written a snapshot there.
pub fn start_progress(next: &Path, stale: Option<u64>) -> (bool, bool) {
    match names_in(next, stale) {
        None => (false, false),
        Some(names) => (true, names.iter().any(|n| n.starts_with("snap-"))),
    }
}

/// Whether a compaction is under way in the live generation: a snapshot
/// being written, or a shard with two logs (the old one not removed yet).
pub fn compacting(dir: &Path) -> bool {
    let current: u64 = fs::read_to_string(dir.join("CURRENT"))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0);
    let live = names_in(&dir.join(format!("gen-{current}")), None).unwrap_or_default();
    let logs = |shard: usize| {
        live.iter()
            .filter(|n| n.starts_with(&format!("log-{shard}-")))
            .count()
    };
    live.iter().any(|n| n.ends_with(".tmp")) || (0..64).any(|s| logs(s) > 1)
}

/// Where a kill of a start landed, read from the files it left under DIR
/// (the layout of `crates/keyspace/src/durable/files.rs`); `next` and `stale`
/// are what [`next_generation`] said before the start.
pub fn phase_of_start_kill(
    dir: &Path,
    (next, stale): &(PathBuf, Option<u64>),
    listening: bool,
) -> &'static str {
    if listening {
        return "start: right after the listening line";
    }
    match start_progress(next, *stale) {
        (false, _) => "start: before loading",
        (true, false) => "start: loading",
        // CURRENT names the new generation once switched.
        (true, true) if next_generation(dir).0 == *next => "start: writing the new generation",
        (true, true) => "start: after the switch",
    }
}

/// Where a kill of a serving server landed.
pub fn phase_of_serving_kill(dir: &Path) -> &'static str {
    if compacting(dir) {
        "serving: during a compaction"
    } else {
        "serving"
    }
}
