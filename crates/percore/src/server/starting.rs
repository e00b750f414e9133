//! The coordinator's wait for its shards to start: each shard reports that
//! its services started (which may take long: kv loads a data directory,
//! meshes join as a barrier), then that it bound every listener (quickly).
//! A stop asked meanwhile (SIGINT, SIGTERM, a stop handle) ends the wait
//! within one poll period, whatever state the shards are in: a start that
//! hangs never keeps the process from stopping.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::coordinator::stop_asked;
use super::error::ServeError;
use super::event::Event;
use super::lifecycle::Readiness;

/// How long shards get to bind and report ready once their services have
/// started (docs/PROTOCOLS.md §2: a bind failure ends the process within 2 s). Starting the
/// services has no deadline: loading a large data directory takes its time,
/// and says so on stderr.
const START_DEADLINE: Duration = Duration::from_millis(1_800);
/// How often the wait looks for a stop.
const POLL: Duration = Duration::from_millis(20);

/// One shard being started, as the coordinator sees it.
pub(super) struct Starting {
    pub handle: Option<glommio::ExecutorJoinHandle<()>>,
    pub ready: Receiver<Result<Readiness, ServeError>>,
    /// The last readiness it reported.
    pub reached: Option<Readiness>,
}

/// How the start ended, when no shard failed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Every shard listens.
    Listening,
    /// A stop was asked first.
    Stopped,
}

/// Waits until every shard has started its services (no deadline), then
/// until every shard listens (within [`START_DEADLINE`]), or a stop.
/// Events other than a stop are kept in `early`.
pub(super) fn wait_until_listening(
    shards: &mut [Starting],
    inbox: &Receiver<Event>,
    early: &mut Vec<Event>,
) -> Result<Outcome, ServeError> {
    for phase in [Readiness::Started, Readiness::Listening] {
        let give_up = (phase == Readiness::Listening).then(|| Instant::now() + START_DEADLINE);
        for (id, shard) in shards.iter_mut().enumerate() {
            while shard.reached != Some(phase) {
                if stop_asked(inbox, early) {
                    return Ok(Outcome::Stopped);
                }
                let wait = match give_up {
                    Some(at) if Instant::now() >= at => {
                        return Err(ServeError::ShardStart {
                            shard: id,
                            reason: "it did not bind its listeners in time".into(),
                        })
                    }
                    Some(at) => POLL.min(at.saturating_duration_since(Instant::now())),
                    None => POLL,
                };
                match shard.ready.recv_timeout(wait) {
                    Ok(Ok(reached)) => shard.reached = Some(reached),
                    Ok(Err(error)) => return Err(error),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Err(gone(id, shard)),
                }
            }
        }
    }
    Ok(Outcome::Listening)
}

/// Joins the shards' threads, for at most `deadline` (a helper thread joins,
/// so that a thread that does not end cannot hold the exit). A thread that
/// ended with a panic or an error is reported on stderr.
pub(super) fn join(shards: &mut [Starting], deadline: Duration) {
    let handles: Vec<_> = shards
        .iter_mut()
        .enumerate()
        .filter_map(|(id, shard)| shard.handle.take().map(|handle| (id, handle)))
        .collect();
    let (done, joined) = std::sync::mpsc::channel();
    let joiner = std::thread::Builder::new()
        .name("join-shards".into())
        .spawn(move || {
            for (id, handle) in handles {
                if let Err(error) = handle.join() {
                    eprintln!("percore: warning: shard {id} ended badly: {error}");
                }
            }
            let _ = done.send(());
        });
    if joiner.is_ok() && joined.recv_timeout(deadline).is_err() {
        eprintln!(
            "percore: warning: the shards' threads did not end within {deadline:?} of their last statistics"
        );
    }
}

/// A shard's thread ended before it was ready: why, as far as it is known.
fn gone(id: usize, shard: &mut Starting) -> ServeError {
    let reason = match shard.handle.take().map(|handle| handle.join()) {
        Some(Err(e)) => e.to_string(),
        _ => "it stopped before binding".into(),
    };
    ServeError::ShardStart { shard: id, reason }
}
