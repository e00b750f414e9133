//! MIGRATE (redis 7.0 src/cluster.c `migrateCommand`), served alone: each
//! key's DUMP payload and remaining TTL asked of its owner shard over the
//! key space's mesh (`ask_shards.rs`, as the gathered commands do), sent to
//! the target as RESTOREs (`migrate_link.rs`), and the keys the target
//! took deleted on their owners unless COPY.
//!
//! Redis blocks its only thread for the whole MIGRATE, so no command runs
//! between the DUMP and the DEL. percore's shards keep serving meanwhile:
//! a key written after it was dumped, before the target answered, is
//! deleted all the same (its new value lost), and keys on different shards
//! are read one owner at a time, not at one instant (README, "What differs
//! from Redis").

use super::commands::migrate::{self, Outgoing};
use super::migrate_link;
use super::*;

impl Resp {
    /// MIGRATE: `+OK`, `+NOKEY` when none of the keys exists, the target's
    /// first error, or an IOERR.
    pub(super) async fn migrate(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let request = match migrate::parse(command) {
            Ok(request) => request,
            Err(error) => return write::error(reply, error),
        };
        let mut outgoing = Vec::with_capacity(request.keys.len());
        for key in &request.keys {
            match self.dumped(key, proto, now).await {
                Ok(Some(found)) => outgoing.push(found),
                Ok(None) => {}
                Err(error) => {
                    reply.extend_from_slice(&error);
                    return;
                }
            }
        }
        if outgoing.is_empty() {
            return write::simple(reply, b"NOKEY");
        }
        let mut sent = Vec::new();
        migrate::commands(
            &request,
            &outgoing,
            self.config.cluster.is_some(),
            &mut sent,
        );
        let before = usize::from(request.auth.is_some()) + 1;
        let own = self
            .here
            .listeners()
            .map(|listeners| listeners.addresses())
            .unwrap_or_default();
        let replies = migrate_link::exchange(
            request.host,
            request.port,
            request.timeout,
            &own,
            &sent,
            before + outgoing.len(),
            before,
        )
        .await;
        // A failed AUTH or SELECT fails every key; the first error is the
        // one reported, as redis reports it.
        let refused_before = replies
            .lines
            .iter()
            .take(before)
            .find(|line| line.first() == Some(&b'-'));
        let mut target_error = refused_before;
        for (key, line) in outgoing.iter().zip(replies.lines.iter().skip(before)) {
            if line.first() == Some(&b'-') || refused_before.is_some() {
                target_error = target_error.or(Some(line));
                continue;
            }
            if !request.copy {
                let owner = owner_of(&key.key, self.shards);
                self.on_shard(owner, Cmd::Del, &[&key.key], proto, now)
                    .await;
            }
        }
        match (target_error, replies.error) {
            (Some(line), _) => {
                let text = String::from_utf8_lossy(line.get(1..).unwrap_or_default());
                write::error(
                    reply,
                    &format!("ERR Target instance replied with error: {text}"),
                );
            }
            (None, Some(error)) => write::error(reply, error.message()),
            (None, None) => write::ok(reply),
        }
    }

    /// `key`'s payload and remaining TTL (0: none), asked of its owner;
    /// `None` when it does not exist (or expired between the two asks); a
    /// DUMP refused (its error reply) as `Err`.
    async fn dumped(
        &self,
        key: &[u8],
        proto: Proto,
        now: u64,
    ) -> Result<Option<Outgoing>, Vec<u8>> {
        let owner = owner_of(key, self.shards);
        let dump = self
            .on_shard(owner, Cmd::DumpPayload, &[key], proto, now)
            .await;
        let payload = match protocol::parse_reply(&dump) {
            Ok(Some((protocol::Value::Bulk(Some(payload)), _))) => payload.to_vec(),
            Ok(Some((protocol::Value::Error(_), _))) => return Err(dump),
            _ => return Ok(None),
        };
        let pttl = self.on_shard(owner, Cmd::PTtl, &[key], proto, now).await;
        let ttl = match protocol::parse_reply(&pttl) {
            Ok(Some((protocol::Value::Int(ttl), _))) => ttl,
            _ => return Ok(None),
        };
        let ttl = match ttl {
            -2 => return Ok(None),
            -1 => 0,
            ttl => ttl.max(1),
        };
        Ok(Some(Outgoing {
            key: key.to_vec(),
            ttl,
            payload,
        }))
    }
}
