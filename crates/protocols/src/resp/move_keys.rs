//! Whether a command over several keys has them all on one shard
//! ([`Resp::one_owner`]), and RENAME, RENAMENX and COPY with their two keys
//! on different shards: the value (of any type) and its expiry time are
//! read on the source's shard (`internal-dump`), written on the
//! destination's (`internal-restore`), and (RENAME, RENAMENX) the source
//! deleted last. Each step
//! is atomic on its shard; the whole is not atomic across shards (README,
//! "What differs from Redis"): another client may see both keys, or
//! neither, for the moment between the steps.

use super::*;
use commands::rename::{copy_options, NO_SUCH_KEY, SAME_OBJECT};

impl Resp {
    /// The one shard that owns every key (where its row says they are) of
    /// a command with the ONE_OWNER flag (RENAME, RENAMENX, COPY, LCS,
    /// BITOP, MSETNX), when there is one: the command then runs there in
    /// one step, atomic as in Redis.
    pub(super) fn one_owner(&self, spec: &Spec, command: &Command<'_>) -> Option<usize> {
        if !spec.flags.has(commands::Flags::ONE_OWNER) {
            return None;
        }
        let mut keys = spec.keys.positions(command.len());
        let first = owner_of(command.at(keys.next()?), self.shards);
        keys.all(|i| owner_of(command.at(i), self.shards) == first)
            .then_some(first)
    }

    /// RENAME, RENAMENX or COPY over two shards; its reply goes to `reply`.
    pub(super) async fn move_key(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let (src, dst) = (command.at(1), command.at(2));
        let replace = match cmd {
            Cmd::Copy => match copy_options(command) {
                Ok(replace) => replace,
                Err(error) => return write::error(reply, error),
            },
            Cmd::Rename => true,
            _ => false,
        };
        if cmd == Cmd::Copy && src == dst {
            return write::error(reply, SAME_OBJECT);
        }
        let (from, to) = (owner_of(src, self.shards), owner_of(dst, self.shards));
        // The internal steps speak RESP2: a missing key is `$-1`.
        let proto = Proto::Resp2;
        let got = self.on_shard(from, Cmd::Dump, &[src], proto, now).await;
        let Some(payload) = bulk_value(&got) else {
            return match cmd {
                Cmd::Copy => write::int(reply, 0),
                _ => write::error(reply, NO_SUCH_KEY),
            };
        };
        if !replace {
            let exists = self.on_shard(to, Cmd::Exists, &[dst], proto, now).await;
            if exists != b":0\r\n" {
                return write::int(reply, 0);
            }
        }
        // Quiet, as the DEL below: the events are RENAME's and COPY's.
        let set = self
            .on_shard_as(to, Cmd::Restore, &[dst, payload], proto, now, true)
            .await;
        if set.first() == Some(&b'-') {
            reply.extend_from_slice(&set);
            return;
        }
        if cmd != Cmd::Copy {
            let del = self
                .on_shard_as(from, Cmd::Del, &[src], proto, now, true)
                .await;
            if del.first() == Some(&b'-') {
                reply.extend_from_slice(&del);
                return;
            }
        }
        // The steps published nothing: the events are RENAME's and COPY's,
        // published from here (no `new`: whether the destination was there
        // is not known here).
        if cmd == Cmd::Copy {
            notify::publish(&self.here, notify::GENERIC, "copy_to", dst);
        } else {
            notify::publish(&self.here, notify::GENERIC, "rename_from", src);
            notify::publish(&self.here, notify::GENERIC, "rename_to", dst);
        }
        match cmd {
            Cmd::Rename => write::ok(reply),
            _ => write::int(reply, 1),
        }
    }
}

/// The value of a RESP2 bulk string reply; None for `$-1` (or anything
/// else).
pub(super) fn bulk_value(reply: &[u8]) -> Option<&[u8]> {
    let rest = reply.strip_prefix(b"$")?;
    let end = rest.iter().position(|&b| b == b'\r')?;
    let len: usize = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    rest.get(end + 2..end + 2 + len)
}
