//! yell throughput with a simple pipelined client: the seed's experiment
//! (5 connections, one line in flight each) and a saturating one (64
//! connections, 16 lines in flight each), 16-byte lines.
//!
//! The server runs as a child process with 1 shard (pinned to the first CPU);
//! the client is one glommio executor pinned to the second CPU. Besides the
//! client's msgs/s and round-trip percentiles it reports the server's CPU time
//! per message, read from /proc. `PERCORE_BENCH_SECS` sets each run's length
//! (default 5). Writes `results/yell_pipeline.json`.
//!
//! The full load generator and benchmark suite come with `percore load`.

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use glommio::{LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;

const LINE: &[u8; 16] = b"hello percore 0\n";
const REPLY: &[u8; 16] = b"HELLO PERCORE 0\n";

struct Scenario {
    name: &'static str,
    conns: usize,
    pipeline: usize,
}

struct Outcome {
    messages: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

fn main() {
    let secs: u64 = std::env::var("PERCORE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let cpus = core_affinity::get_core_ids().expect("CPU list");
    let client_cpu = cpus.last().expect("a CPU").id;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    let mut server = Command::new(env!("CARGO_BIN_EXE_percore"))
        .args(["serve", "--shards", "1", "--services", "yell", "--yell"])
        .arg(addr.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start percore");
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("percore listening:"), "{line}");

    let scenarios = [
        Scenario {
            name: "seed: 5 conns x pipeline 1",
            conns: 5,
            pipeline: 1,
        },
        Scenario {
            name: "saturation: 64 conns x pipeline 16",
            conns: 64,
            pipeline: 16,
        },
    ];
    let mut json = Vec::new();
    for scenario in &scenarios {
        let cpu_before = cpu_time(server.id());
        let outcome = run_client(addr, client_cpu, scenario, Duration::from_secs(secs));
        let cpu = cpu_time(server.id()) - cpu_before;
        let rate = outcome.messages as f64 / outcome.elapsed.as_secs_f64();
        let ns_per_msg = cpu.as_nanos() as f64 / outcome.messages.max(1) as f64;
        let l = &outcome.latency;
        println!(
            "{:<36} {:>10.0} msgs/s  rtt p50 {:>5} us  p99 {:>5} us  p99.9 {:>5} us  server CPU {:>6.0} ns/msg",
            scenario.name,
            rate,
            l.value_at_quantile(0.5),
            l.value_at_quantile(0.99),
            l.value_at_quantile(0.999),
            ns_per_msg
        );
        json.push(format!(
            "{{\"scenario\": \"{}\", \"conns\": {}, \"pipeline\": {}, \"seconds\": {:.2}, \"messages\": {}, \"msgs_per_sec\": {:.0}, \"rtt_us\": {{\"p50\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}}}, \"server_cpu_ns_per_msg\": {:.0}}}",
            scenario.name,
            scenario.conns,
            scenario.pipeline,
            outcome.elapsed.as_secs_f64(),
            outcome.messages,
            rate,
            l.value_at_quantile(0.5),
            l.value_at_quantile(0.99),
            l.value_at_quantile(0.999),
            l.max(),
            ns_per_msg
        ));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(server.id() as i32, libc::SIGINT) };
    let _ = server.wait();
    let _ = std::fs::create_dir_all("results");
    let _ = std::fs::write(
        "results/yell_pipeline.json",
        format!("[\n  {}\n]\n", json.join(",\n  ")),
    );
}

/// Closed loop: each connection writes `pipeline` lines in one write, reads
/// and checks every reply, and starts again.
fn run_client(addr: SocketAddr, cpu: usize, scenario: &Scenario, length: Duration) -> Outcome {
    let (conns, pipeline) = (scenario.conns, scenario.pipeline);
    LocalExecutorBuilder::new(Placement::Fixed(cpu))
        .spawn(move || async move {
            let latency = Rc::new(RefCell::new(
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap(),
            ));
            let messages = Rc::new(RefCell::new(0u64));
            let start = Instant::now();
            let deadline = start + length;
            let tasks: Vec<_> = (0..conns)
                .map(|_| {
                    let (latency, messages) = (latency.clone(), messages.clone());
                    glommio::spawn_local(async move {
                        let mut stream = TcpStream::connect(addr).await.expect("connect");
                        stream.set_nodelay(true).unwrap();
                        let request = LINE.repeat(pipeline);
                        let expected = REPLY.repeat(pipeline);
                        let mut reply = vec![0u8; expected.len()];
                        while Instant::now() < deadline {
                            let sent = Instant::now();
                            stream.write_all(&request).await.expect("write");
                            stream.read_exact(&mut reply).await.expect("read");
                            assert_eq!(reply, expected, "wrong reply");
                            let micros = sent.elapsed().as_micros() as u64;
                            latency
                                .borrow_mut()
                                .saturating_record_n(micros.max(1), pipeline as u64);
                            *messages.borrow_mut() += pipeline as u64;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await;
            }
            let elapsed = start.elapsed();
            let messages = *messages.borrow();
            let latency = latency.borrow().clone();
            Outcome {
                messages,
                elapsed,
                latency,
            }
        })
        .expect("client executor")
        .join()
        .expect("client run")
}

/// User plus system CPU time of a process, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let total = ticks(11) + ticks(12);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_nanos(total * 1_000_000_000 / hz)
}
