//! The servers under test as child processes: starting percore (`percore
//! serve`) or the epoll reference (this bench binary again, told by an
//! environment variable to serve), waiting until they accept, stopping them,
//! and reading a process's CPU time from /proc.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::epoll_reference;

/// Set in the environment of the child that runs the reference server:
/// `ADDR,SERVICE`. The reference runs in a process of its own so that its
/// CPU time can be read from /proc like percore's.
pub const REFERENCE_ENV: &str = "PERCORE_BENCH_REFERENCE";

#[derive(Clone, Copy, PartialEq)]
pub enum Target {
    Percore,
    Reference,
}

impl Target {
    /// The name in the results (`"target"`) and the README's tables.
    pub fn name(self) -> &'static str {
        match self {
            Target::Percore => "percore",
            Target::Reference => "epoll reference",
        }
    }
}

/// A port free now on loopback, for the next server to bind.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// yell or echo alone on `addr`: percore with one shard, or the reference.
/// Neither is pinned here: percore's one shard pins itself to the first CPU
/// of the affinity mask, and the reference does the same in
/// [`run_reference`].
pub fn start_server(target: Target, service: &str, addr: SocketAddr) -> Child {
    match target {
        Target::Percore => spawn_until_listening(
            Command::new(env!("CARGO_BIN_EXE_percore"))
                .args(["serve", "--shards", "1", "--services", service])
                .arg(format!("--{service}"))
                .arg(addr.to_string()),
        ),
        Target::Reference => {
            let child = Command::new(std::env::current_exe().unwrap())
                .env(REFERENCE_ENV, format!("{addr},{service}"))
                .spawn()
                .expect("start the reference server");
            wait_until_accepting(addr, "reference server");
            child
        }
    }
}

/// `percore serve` with one service on `addr`, pinned to `cpu` if given.
pub fn start_percore(service: &str, addr: SocketAddr, args: &[&str], cpu: Option<usize>) -> Child {
    let mut command = match cpu {
        Some(cpu) => {
            let mut taskset = Command::new("taskset");
            taskset
                .args(["-c", &cpu.to_string()])
                .arg(env!("CARGO_BIN_EXE_percore"));
            taskset
        }
        None => Command::new(env!("CARGO_BIN_EXE_percore")),
    };
    command
        .args(["serve", "--services", service])
        .arg(format!("--{service}"))
        .arg(addr.to_string())
        .args(args)
        .stderr(Stdio::null());
    spawn_until_listening(&mut command)
}

/// Starts a `percore serve` command and waits for its listening line, which
/// it prints once every shard has bound every listener.
fn spawn_until_listening(command: &mut Command) -> Child {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("start percore");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("percore listening:"), "{line}");
    child
}

/// For servers that print nothing when ready (the reference, redis-server):
/// polls until a connection succeeds, for at most 10 s.
pub fn wait_until_accepting(addr: impl ToSocketAddrs + Copy, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// percore gets SIGINT, so that it shuts down as a user would stop it (and
/// writes `--stats-json`); the reference keeps no state worth a clean exit.
pub fn stop_server(target: Target, server: &mut Child) {
    let signal = match target {
        Target::Percore => libc::SIGINT,
        Target::Reference => libc::SIGKILL,
    };
    // SAFETY: signalling our own child.
    unsafe { libc::kill(server.id() as i32, signal) };
    let _ = server.wait();
}

/// The child side of [`start_server`] for the reference: `spec` is
/// `ADDR,SERVICE`; pinned to the first CPU, as percore's one shard is.
pub fn run_reference(spec: &str) {
    let (addr, service) = spec.split_once(',').expect("ADDR,SERVICE");
    let cpu = core_affinity::get_core_ids().expect("CPU list")[0];
    core_affinity::set_for_current(cpu);
    epoll_reference::serve(addr.parse().expect("address"), service == "echo");
}

/// User plus system CPU time of a process, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos((ticks(11) + ticks(12)) * 1_000_000_000 / hz)
}
