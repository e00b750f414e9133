//! The hook a blocking command's owner side needs (issue 27): the key space
//! tells it of every key a write may just have filled, as Redis's
//! `signalKeyAsReady` does from its `dbAdd`. A key a client blocks on is
//! absent (an emptied list or sorted set is deleted), so only a push, an add
//! or a whole value stored (RENAME, COPY, the STORE forms) can make it
//! ready; those writes call [`Marks::filled`](super::Marks::filled). A
//! protocol registers the hook on the key space's plan
//! ([`OwnerHandler::filled`](super::OwnerHandler::filled)); each shard's
//! [`Marks`](super::Marks) holds it with the protocol's state there, so a
//! write pays one look at an empty list when no protocol has one.

use std::any::Any;

/// Told every key a write may have filled, with the protocol's state on
/// the shard ([`OwnerHandler::state`](super::OwnerHandler::state)).
pub type FilledHook = fn(state: &dyn Any, key: &[u8]);
