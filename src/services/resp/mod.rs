//! resp (SPEC 6): the Redis protocol over the shared key space and topics.

pub mod command_table;
pub mod protocol;

use std::cell::RefCell;

use super::kv::durable::log::ShardLog;
use super::kv::Store;

/// Answers the commands another shard forwarded (stub).
pub(super) fn serve_forwarded(
    _store: &RefCell<Store>,
    _log: Option<&ShardLog>,
    _commands: &[u8],
    _replies: &mut Vec<u8>,
) -> usize {
    0
}

/// resp's reply to a command whose write could not reach the disk (stub).
pub(super) fn push_disk_error(_replies: &mut Vec<u8>, _reason: &str) {}
