//! What a service's per-shard start sees of its shard
//! ([`ServiceFactory::start`](crate::service::ServiceFactory::start)): which
//! shard it is, how many there are (to find a key's owner), where to register
//! the service's own statistics, and how to know that the server is stopping
//! (so that background tasks end).

use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_lite::FutureExt;

use super::shard::Shard;
use crate::stats::{Counter, LiveStats, Metric};

/// One shard, as one service's start sees it.
pub struct ShardContext {
    pub(crate) shard: Rc<Shard>,
    pub(crate) stats: Rc<LiveStats>,
    pub(crate) server_stop: Arc<AtomicBool>,
    pub(crate) events: std::sync::mpsc::Sender<super::event::Event>,
    pub(crate) listeners: Rc<super::listeners::Listeners>,
}

impl ShardContext {
    /// The service's listeners on this shard, which it may move to
    /// another port while it runs (resp's CONFIG SET port). They accept
    /// once every service has started.
    pub fn listeners(&self) -> Rc<super::listeners::Listeners> {
        self.listeners.clone()
    }

    /// This shard's number, 0 to [`ShardContext::shards`] − 1.
    pub fn id(&self) -> usize {
        self.shard.id
    }

    /// How many shards the server runs.
    pub fn shards(&self) -> usize {
        self.shard.shards
    }

    /// The limits every connection keeps (`--max-frame`, `--idle-timeout`,
    /// `--max-conns`).
    pub fn limits(&self) -> crate::config::Limits {
        self.shard.limits
    }

    /// A figure of the service's own on this shard, reported as `name`
    /// (a JSON field; the table shows it with spaces for underscores) in the
    /// service's totals. Registering a name twice gives the same counter.
    pub fn counter(&self, name: &'static str) -> Counter {
        self.stats.counter(name, false, None, None)
    }

    /// Like [`ShardContext::counter`], and also listed per shard.
    pub fn per_shard_counter(&self, name: &'static str) -> Counter {
        self.stats.counter(name, true, None, None)
    }

    /// Like [`ShardContext::per_shard_counter`], and also exported as a live
    /// metric (`--metrics`, docs/PROTOCOLS.md §8) under `metric`'s name, with `service`
    /// and `shard` labels (only `shard` for a gauge of shared state: see
    /// [`Metric`]).
    pub fn metric_counter(&self, name: &'static str, metric: Metric) -> Counter {
        self.stats.counter(name, true, None, Some(metric))
    }

    /// A figure reported per shard in a top-level section of its own
    /// (`"persistence": [{"shard": 0, "flushes": ...}, ...]` in the JSON, a
    /// table of its own in the report) rather than under the service.
    pub fn section_counter(&self, section: &'static str, name: &'static str) -> Counter {
        self.stats.counter(name, true, Some(section), None)
    }

    /// The value of type `T` that an earlier start on this shard left with
    /// [`ShardContext::share`], if any. Services start one after another on
    /// a shard, in the order they were added, so the first one to need a
    /// piece of shared state (kv's and resp's key space) builds and shares
    /// it, and the later ones find it here.
    pub fn shared<T: 'static>(&self) -> Option<Rc<T>> {
        self.shard
            .shared
            .borrow()
            .iter()
            .find_map(|value| value.clone().downcast::<T>().ok())
    }

    /// Leaves `value` for the services started after this one on this shard
    /// (see [`ShardContext::shared`]); a second value of one type replaces
    /// the first.
    pub fn share<T: 'static>(&self, value: Rc<T>) {
        let mut shared = self.shard.shared.borrow_mut();
        shared.retain(|held| !held.is::<T>());
        shared.push(value);
    }

    /// Resolves once this shard starts stopping: a background task ends here.
    pub async fn stopped(&self) {
        self.shard.stopped().await
    }

    /// Runs `task` on this shard, in the background, until it ends or the
    /// shard starts stopping (a ticker, a cache sweeper).
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let shard = self.shard.clone();
        glommio::spawn_local(task.or(async move { shard.stopped().await })).detach();
    }

    /// A cheap clone of [`ShardContext::stopped`] for a task spawned by the
    /// start, which outlives the context; it can also stop the server.
    pub fn stop_watch(&self) -> StopWatch {
        StopWatch {
            shard: self.shard.clone(),
            server_stop: self.server_stop.clone(),
            events: self.events.clone(),
        }
    }
}

/// Tells a shard's background task that the server is stopping.
#[derive(Clone)]
pub struct StopWatch {
    shard: Rc<Shard>,
    server_stop: Arc<AtomicBool>,
    events: std::sync::mpsc::Sender<super::event::Event>,
}

impl StopWatch {
    /// Resolves once this shard starts stopping.
    pub async fn stopped(&self) {
        self.shard.stopped().await
    }

    /// Whether any shard has been told to stop. Shards stop one by one; this
    /// flips for all of them at once (mq freezes its gauges on it, so that
    /// the final report shows the running server, not one being emptied).
    pub fn server_stopping(&self) -> bool {
        self.server_stop.load(Ordering::Acquire)
    }

    /// Stops the whole server as SIGINT does (resp's SHUTDOWN): requests
    /// already read are answered, connections close, the report is printed.
    pub fn stop_server(&self) {
        let _ = self.events.send(super::event::Event::Stop);
    }
}
