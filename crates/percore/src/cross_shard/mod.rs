//! The cross-shard layer: how a shard reaches state that another shard owns.
//!
//! Ownership is decided by [`owner_of`], a stable hash. Messages travel over
//! glommio's channel mesh as byte buffers of encoded items, one buffer per
//! destination per batch, never one per request. Two shapes are built on one
//! primitive, the one-way [`Lane`]:
//!
//! - [`Mesh`] (kv): request and reply. Replies travel on a lane of their own,
//!   so a shard busy answering can never block the replies it waits for (one
//!   lane for both could deadlock two shards that fill each other's queue).
//! - a bare [`Lane`] (mq): messages that need no answer. Tasks of a shard
//!   queue items for a peer into one shared buffer, and one courier task per
//!   peer sends whatever has gathered as one message, so a busy shard sends
//!   few large messages, and everything queued for a peer arrives in the
//!   order it was queued (the ordering mq's guarantees stand on).
//!
//! Buffers go around: a message's buffer is recycled where it is read, into
//! a [`Pool`] the receiving shard draws its own messages from, so a steady
//! load allocates nothing for the hop.
//!
//! One file per piece: `placement` (who owns a key: the hash), `pool` (spare buffers), `lane`
//! (the one-way lane: its courier per peer and its receiving end), `mesh`
//! (request and reply), `tickets` (replies awaited by a mesh) and `hold`
//! (a shard held by a transaction across shards: its mesh inbox waits).

pub mod hold;
mod lane;
mod mesh;
pub mod placement;
mod pool;
pub mod slot;
mod tickets;

pub use hold::Hold;
pub use lane::{Envelope, Lane, LaneInbox, LanePlan};
pub use mesh::{Answer, Mesh, MeshPlan};
pub use placement::owner_of;
pub use pool::Pool;
pub use tickets::Ticket;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum MeshError {
    #[error("shard {0} could not join the cross-shard mesh")]
    Join(usize),
    #[error("shard {0} joined the mesh as peer {1}")]
    Misplaced(usize, usize),
    #[error("shard {0} is gone")]
    PeerGone(usize),
}
