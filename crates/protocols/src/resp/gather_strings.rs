//! BITOP and LCS with their keys on several shards: each source's value is
//! read on its owner (GET, one at a time), the result computed here, and
//! BITOP's destination written on its owner (SET, or DEL for an empty
//! result), a logged write like any other. Each read and the write are
//! atomic on their shard; the whole is not atomic across shards (README,
//! "What differs from Redis"), as RENAME across shards (`move_keys.rs`).

use super::move_keys::bulk_value;
use super::*;
use commands::{bitop, lcs};

impl Resp {
    /// BITOP over several shards; its reply goes to `reply`.
    pub(super) async fn bit_op(&self, command: &Command<'_>, now: u64, reply: &mut Vec<u8>) {
        let op = match bitop::parse(command) {
            Ok(op) => op,
            Err(error) => return write::error(reply, error),
        };
        let mut values = Vec::with_capacity(command.len() - 3);
        for i in 3..command.len() {
            match self.value_of(command.at(i), now).await {
                Ok(value) => values.push(value),
                // WRONGTYPE for a source of another type, as Redis.
                Err(error) => return reply.extend_from_slice(&error),
            }
        }
        let sources: Vec<Option<&[u8]>> = values.iter().map(Option::as_deref).collect();
        let result = bitop::compute(op, &sources);
        let dest = command.at(2);
        let owner = owner_of(dest, self.shards);
        let proto = Proto::Resp2;
        let done = if result.is_empty() {
            self.on_shard(owner, Cmd::Del, &[dest], proto, now).await
        } else {
            self.on_shard(owner, Cmd::Set, &[dest, &result], proto, now)
                .await
        };
        if done.first() == Some(&b'-') {
            reply.extend_from_slice(&done);
        } else {
            write::int(reply, result.len() as i64);
        }
    }

    /// LCS of two keys on different shards.
    pub(super) async fn lcs(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        // The keys' types before the options, as Redis checks them.
        let (Ok(a), Ok(b)) = (
            self.value_of(command.at(1), now).await,
            self.value_of(command.at(2), now).await,
        ) else {
            return write::error(reply, lcs::NOT_STRINGS);
        };
        let options = match lcs::options(command) {
            Ok(options) => options,
            Err(error) => return write::error(reply, error),
        };
        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
        lcs::reply(&a, &b, options, proto, reply);
    }

    /// `key`'s string value, read on its owner; None when it has none;
    /// the owner's error reply (WRONGTYPE for a key of another type).
    async fn value_of(&self, key: &[u8], now: u64) -> Result<Option<Vec<u8>>, Vec<u8>> {
        let owner = owner_of(key, self.shards);
        let got = self
            .on_shard(owner, Cmd::Get, &[key], Proto::Resp2, now)
            .await;
        if got.first() == Some(&b'-') {
            return Err(got);
        }
        Ok(bulk_value(&got).map(<[u8]>::to_vec))
    }
}
