//! What shards (and stop handles) send the coordinator thread: the only
//! traffic between a shard and the main thread, none of it per request.

use crate::stats::ShardSnapshot;

#[derive(Debug)]
pub(crate) enum Event {
    /// A signal asked the server to stop.
    Stop,
    /// Statistics for `--stats-interval` tick number `tick`.
    Tick { tick: u32, snapshot: ShardSnapshot },
    /// A shard's statistics once it has shut down.
    Final(ShardSnapshot),
}
