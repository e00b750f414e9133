//! A service's own figures, beside the ones every service has: mq counts its
//! deliveries and holds topic gauges, kv counts the requests it forwards.
//! The framework knows none of them by name: a service registers each figure
//! on each shard when it starts ([`crate::server::ShardContext::counter`]),
//! keeps the [`Counter`] handle, and the reports list whatever was registered.
//!
//! A handle is a shared cell on the shard's own thread: bumping it costs one
//! add, no atomics, no cross-core traffic, like every statistic here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::ServiceStats;

/// One figure of a service on one shard: a running total (`add`) or a gauge
/// (`set`). Reports sum it over the shards either way.
#[derive(Clone, Debug, Default)]
pub struct Counter(Rc<Cell<u64>>);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.set(self.0.get() + n);
    }

    pub fn set(&self, value: u64) {
        self.0.set(value);
    }

    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// How live metrics (docs/PROTOCOLS.md §8) export a figure: its Prometheus name and type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// A running total; the name ends in `_total`.
    Counter(&'static str),
    /// A value as it stands.
    Gauge(&'static str),
    /// A value as it stands, of state the shard keeps whichever service
    /// reaches it (the key space): labelled by shard only.
    ShardGauge(&'static str),
}

/// A service's own figure as reports see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnFigure {
    /// The JSON field, and (spaces for underscores) the report's row.
    pub name: &'static str,
    /// Also listed for each shard (the report's per-shard table and JSON).
    pub per_shard: bool,
    /// Reported in a section of its own, per shard, instead of under the
    /// service (kv's `persistence`, docs/PROTOCOLS.md §7.2).
    pub section: Option<&'static str>,
    /// Exported as a live metric, per shard, under this name.
    pub metric: Option<Metric>,
    pub value: u64,
}

/// What one shard records for one service: the statistics the connection
/// loop keeps, and the figures the service registered.
#[derive(Debug, Default)]
pub(crate) struct LiveStats {
    pub recorded: RefCell<ServiceStats>,
    own: RefCell<Vec<(OwnFigure, Counter)>>,
}

impl LiveStats {
    /// The handle of figure `name`, registered on first use.
    pub fn counter(
        &self,
        name: &'static str,
        per_shard: bool,
        section: Option<&'static str>,
        metric: Option<Metric>,
    ) -> Counter {
        let mut own = self.own.borrow_mut();
        if let Some((_, counter)) = own
            .iter()
            .find(|(known, _)| known.name == name && known.section == section)
        {
            return counter.clone();
        }
        let counter = Counter::default();
        let figure = OwnFigure {
            name,
            per_shard,
            section,
            metric,
            value: 0,
        };
        own.push((figure, counter.clone()));
        counter
    }

    /// A copy of everything, the service's figures as they stand now.
    pub fn snapshot(&self) -> ServiceStats {
        let mut stats = self.recorded.borrow().clone();
        stats.own = self
            .own
            .borrow()
            .iter()
            .map(|(figure, counter)| OwnFigure {
                value: counter.get(),
                ..*figure
            })
            .collect();
        stats
    }
}
