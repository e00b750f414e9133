//! The coordinator, on the main thread: raises the open-files limit, starts
//! one shard per core, prints the `percore listening:` line once every shard
//! has bound every listener, turns signals and stop handles into a stop, and
//! merges the shards' statistics into reports. It is never on the data path:
//! shards serve without talking to it.

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::error::{BindError, ServeError};
use super::event::Event;
use super::moving::{Exchange, ExchangeEnd};
use super::registration::{listens, Registered};
use super::reserve::Prebound;
use super::starting::{self, Starting};
use super::{descriptors, lifecycle};
use crate::config::{Listen, Placement, ServerConfig};
use crate::stats::{IntervalReporter, Report, ShardSnapshot};
use crate::tls::TlsReloader;

/// How long shards get to drain and send their final statistics after a stop
/// (docs/PROTOCOLS.md §2: all of shutdown within 5 s).
const STOP_DEADLINE: Duration = Duration::from_millis(4_300);
/// How long the shards' threads get to end once every shard sent its final
/// statistics: the process exits only after its executors are torn down, so
/// that whatever their teardown does is seen, never raced by the exit.
const JOIN_DEADLINE: Duration = Duration::from_millis(500);
/// How long after a stop signal the process exits whatever it is doing: well
/// past [`STOP_DEADLINE`], after which the report is printed in any case.
const STOP_GRACE: Duration = Duration::from_secs(8);

/// Runs the server until a stop event (a signal, or a [`StopHandle`]).
pub(crate) fn run(
    config: Arc<ServerConfig>,
    mut services: Vec<Registered>,
    tls: Option<Arc<TlsReloader>>,
    prebound: Prebound,
    events: mpsc::Sender<Event>,
    inbox: Receiver<Event>,
    handle_signals: bool,
) -> Result<Report, ServeError> {
    if handle_signals {
        watch_signals(events.clone(), tls.clone())?;
    }
    let listens = listens(&services);
    let (config, warning) = descriptors::fit_limit(config, listens.len());
    if let Some(warning) = warning {
        eprintln!("percore: warning: {warning}");
    }
    for service in &mut services {
        service.factory.prepare(config.shards());
    }

    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let drained = Arc::new(AtomicUsize::new(0));
    let (metrics_source, mut snapshot_requests) =
        super::metrics::Source::new(config.shards(), listens.clone(), start);
    // Events that arrive while starting (a shard's early statistics tick)
    // are kept for the running phase; a stop ends the start at once.
    let mut exchange_ends: Vec<Option<ExchangeEnd>> = if config.shards() > 1 {
        Exchange::ends(config.shards(), services.len())
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None]
    };
    let mut early = Vec::new();
    let mut readiness = Vec::with_capacity(config.shards());
    let mut stopped = false;
    for id in 0..config.shards() {
        // Spawning many shards takes a while: a stop is honoured between two.
        if stop_asked(&inbox, &mut early) {
            stopped = true;
            break;
        }
        let (ready, ready_rx) = mpsc::sync_channel(2);
        let plan = lifecycle::ShardPlan {
            id,
            config: Arc::clone(&config),
            services: services.clone(),
            tls: tls.clone(),
            snapshot_requests: snapshot_requests.remove(0),
            start,
            stop: Arc::clone(&stop),
            drained: Arc::clone(&drained),
            events: events.clone(),
            ready,
            exchange: exchange_ends[id].take(),
        };
        let placement = match &config.placement {
            Placement::Pinned(cpus) => glommio::Placement::Fixed(cpus[id]),
            Placement::Unpinned(_) => glommio::Placement::Unbound,
        };
        let handle = glommio::LocalExecutorBuilder::new(placement)
            .name(&format!("shard-{id}"))
            .spawn(move || lifecycle::run(plan))
            .map_err(|e| ServeError::ShardStart {
                shard: id,
                reason: e.to_string(),
            })?;
        readiness.push(Starting {
            handle: Some(handle),
            ready: ready_rx,
            reached: None,
        });
    }
    drop(events);

    if !stopped {
        stopped = starting::wait_until_listening(&mut readiness, &inbox, &mut early)?
            == starting::Outcome::Stopped;
    }
    let Prebound { metrics, reserved } = prebound;
    // Every shard listens on the picked ports now (or never will).
    drop(reserved);
    if stopped {
        // Shards still starting (loading a data directory, joining the mesh)
        // are left behind: the process ends without them. Shards past their
        // services' start stop as usual and send their statistics.
        stop.store(true, Ordering::Release);
        let started = readiness.iter().filter(|s| s.reached.is_some()).count();
        eprintln!(
            "percore: stopping while starting: {started} of {} shards had started; the others are abandoned",
            config.shards()
        );
        let finals = collect_finals(&config, started, &inbox);
        return finish(&config, &listens, start, &finals);
    }
    if let Some(listener) = metrics {
        super::metrics::start(listener, metrics_source).map_err(ServeError::Signals)?;
    }
    print_listening(&config, &listens);

    wait_for_stop(&config, &listens, early, &inbox);
    stop.store(true, Ordering::Release);
    eprintln!("percore: stopping: answering what was read, then closing connections (again to exit at once)");
    let finals = collect_finals(&config, config.shards(), &inbox);
    let report = finish(&config, &listens, start, &finals);
    if finals.len() == config.shards() {
        starting::join(&mut readiness, JOIN_DEADLINE);
    }
    report
}

/// Prints the final report and writes `--stats-json`.
fn finish(
    config: &ServerConfig,
    listens: &[Listen],
    start: Instant,
    finals: &[ShardSnapshot],
) -> Result<Report, ServeError> {
    let report = Report::merge(start.elapsed(), config.shards(), listens, finals);
    let mut stdout = io::stdout().lock();
    let _ = stdout.write_all(report.table().as_bytes());
    let _ = stdout.flush();
    if let Some(path) = &config.stats_json {
        write_json(&report, path).map_err(|source| ServeError::StatsJson {
            path: path.clone(),
            source,
        })?;
    }
    Ok(report)
}

/// glommio binds with SO_REUSEPORT, which would let us silently share a port
/// with another server (another percore included). A plain bind first,
/// without SO_REUSEPORT, fails on any address a live listener holds. It has
/// SO_REUSEADDR (std sets it), as the listeners do (vendor/glommio
/// PATCHES.md 10), so the closed connections a stopped server left behind
/// (TIME_WAIT, FIN_WAIT_2) do not count as in use: a restart binds at once
/// (docs/PROTOCOLS.md §2). All probes stay open together, so two services given one
/// address fail too.
pub(crate) fn probe_addresses(listens: &[Listen]) -> Result<(), BindError> {
    let mut probes = Vec::with_capacity(listens.len());
    for listen in listens {
        let probe = std::net::TcpListener::bind(listen.addr).map_err(|source| BindError {
            service: listen.service,
            addr: listen.addr,
            source,
        })?;
        probes.push(probe);
    }
    Ok(())
}

/// The first SIGINT or SIGTERM stops the server gracefully; a second one
/// exits at once. With TLS, SIGHUP reloads the certificate and key.
fn watch_signals(
    events: mpsc::Sender<Event>,
    tls: Option<Arc<TlsReloader>>,
) -> Result<(), ServeError> {
    let mut watched = vec![SIGINT, SIGTERM];
    if tls.is_some() {
        watched.push(SIGHUP);
    }
    let mut signals = Signals::new(watched).map_err(ServeError::Signals)?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                if signal == SIGHUP {
                    if let Some(tls) = &tls {
                        match tls.reload() {
                            Ok(()) => eprintln!("percore: SIGHUP: TLS certificate and key reloaded for new connections"),
                            Err(error) => eprintln!("percore: SIGHUP: TLS reload failed, keeping the previous certificate: {error}"),
                        }
                    }
                    continue;
                }
                seen += 1;
                if seen == 1 {
                    let _ = events.send(Event::Stop);
                    watchdog(signal);
                } else {
                    std::process::exit(128 + signal);
                }
            }
        })
        .map_err(ServeError::Signals)?;
    Ok(())
}

/// The last resort after a stop signal: a process still running
/// [`STOP_GRACE`] later is stuck somewhere no deadline covers (a blocked
/// write of `--stats-json`, a start that never ends): it exits as a second
/// signal would, with 128 + the signal's number.
fn watchdog(signal: i32) {
    let spawned = thread::Builder::new()
        .name("stop-watchdog".into())
        .spawn(move || {
            thread::sleep(STOP_GRACE);
            eprintln!(
                "percore: still running {} s after the stop signal: exiting with {} without finishing",
                STOP_GRACE.as_secs(),
                128 + signal
            );
            std::process::exit(128 + signal);
        });
    if let Err(error) = spawned {
        eprintln!("percore: warning: no stop watchdog: {error}");
    }
}

fn print_listening(config: &ServerConfig, listens: &[Listen]) {
    let mut line = String::from("percore listening:");
    for listen in listens {
        line.push_str(&format!(" {}={}", listen.service, listen.endpoint()));
    }
    if let Some(metrics) = config.metrics {
        line.push_str(&format!(" metrics={metrics}"));
    }
    line.push_str(&format!(" shards={}", config.shards()));
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Prints `--stats-interval` lines until a stop arrives.
fn wait_for_stop(
    config: &ServerConfig,
    listens: &[Listen],
    early: Vec<Event>,
    inbox: &Receiver<Event>,
) {
    let mut ticks: BTreeMap<u32, Vec<ShardSnapshot>> = BTreeMap::new();
    let mut reporter = IntervalReporter::default();
    for event in early.into_iter().chain(inbox.iter()) {
        match event {
            Event::Stop => return,
            Event::Tick { tick, snapshot } => {
                let arrived = ticks.entry(tick).or_default();
                arrived.push(snapshot);
                if arrived.len() == config.shards() {
                    let snapshots = ticks.remove(&tick).unwrap_or_default();
                    let at = config.stats_interval.unwrap_or_default() * tick;
                    let report = Report::merge(at, config.shards(), listens, &snapshots);
                    eprintln!("{}", reporter.line(report));
                    ticks.retain(|&older, _| older > tick);
                }
            }
            Event::Final(_) => {}
        }
    }
}

/// Takes the events that arrived, without waiting; whether one was a stop.
/// Others are kept in `early`, in order.
pub(super) fn stop_asked(inbox: &Receiver<Event>, early: &mut Vec<Event>) -> bool {
    while let Ok(event) = inbox.try_recv() {
        match event {
            Event::Stop => return true,
            other => early.push(other),
        }
    }
    false
}

/// Waits for the final statistics of `expected` shards (every shard, but
/// for a stop while starting), or the deadline.
fn collect_finals(
    config: &ServerConfig,
    expected: usize,
    inbox: &Receiver<Event>,
) -> Vec<ShardSnapshot> {
    let give_up = Instant::now() + STOP_DEADLINE;
    let mut finals = Vec::with_capacity(expected);
    while finals.len() < expected {
        match inbox.recv_timeout(give_up.saturating_duration_since(Instant::now())) {
            Ok(Event::Final(snapshot)) => finals.push(snapshot),
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "percore: warning: {} of {} shards did not finish in time; their statistics are missing",
                    expected - finals.len(),
                    config.shards()
                );
                break;
            }
        }
    }
    finals
}

fn write_json(report: &Report, path: &PathBuf) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(&report.to_json())?;
    text.push('\n');
    std::fs::write(path, text)
}
