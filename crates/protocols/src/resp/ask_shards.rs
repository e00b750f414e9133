//! How resp asks other shards: one command to one shard, or to every
//! shard, over the key space's mesh (or the hold mesh while a transaction
//! holds them, `holding.rs`), and the reply awaited. What the commands
//! served alone (`served_alone.rs`), the gathered commands (`gather.rs`)
//! and EXEC across shards (`exec_across.rs`) build on.

use super::*;

impl Resp {
    /// Runs the single command `cmd args` on `shard` and returns its reply.
    pub(super) async fn on_shard(
        &self,
        shard: usize,
        cmd: Cmd,
        args: &[&[u8]],
        proto: Proto,
        now: u64,
    ) -> Vec<u8> {
        self.on_shard_as(shard, cmd, args, proto, now, false).await
    }

    /// Sends the frames `write` writes to `shard` as one message and
    /// returns its reply (empty if the shard is gone): over the hold mesh
    /// when this task's transaction holds it (`holding.rs`), else over the
    /// key space's mesh.
    pub(super) async fn send_frames(
        &self,
        mesh: &Mesh,
        shard: usize,
        held: Option<u64>,
        write: impl Fn(&mut Vec<u8>),
    ) -> Vec<u8> {
        match held {
            Some(token) => {
                let tagged = |body: &mut Vec<u8>| {
                    body.push(super::PROTOCOL.tag());
                    write(body)
                };
                self.keys.run_held(shard, token, tagged).await
            }
            None => {
                let mut body = tagged_buffer(mesh);
                write(&mut body);
                match mesh.send(shard, body).await {
                    Ok(ticket) => mesh.reply(ticket).await,
                    Err(_) => Vec::new(),
                }
            }
        }
    }

    /// [`Resp::on_shard`]; `quiet`: a step of a command that publishes its
    /// own keyspace events (a RENAME over two shards), so the step's are not.
    pub(super) async fn on_shard_as(
        &self,
        shard: usize,
        cmd: Cmd,
        args: &[&[u8]],
        proto: Proto,
        now: u64,
        quiet: bool,
    ) -> Vec<u8> {
        let name = commands::NAMES[cmd as usize].as_bytes();
        let words: Vec<&[u8]> = std::iter::once(name).chain(args.iter().copied()).collect();
        // A step of a transaction across shards runs on the shards it
        // holds, over the hold mesh (`holding.rs`); any other step waits
        // while a transaction holds this shard.
        let held = holding::current(&self.here);
        if shard == self.shard {
            if held.is_none() {
                self.keys.until_unheld().await;
            }
            let mut reply = Vec::new();
            let logged_from = self.keys.log_position();
            {
                let mut args = self.part_args.borrow_mut();
                args.set_words(&words);
                self.here.notify.quietly(quiet, || {
                    self.execute_here(cmd, &args.view(&[]), proto, now, &mut reply)
                });
            }
            // `--fsync always`: its writes (made with no await) are on disk
            // before its reply is used, or taken back.
            if let Err(reason) = self.keys.commit(logged_from).await {
                reply.clear();
                let refused = percore_keyspace::write::Refused::Disk(reason);
                commands::strings::refusal(&mut reply, &refused);
            }
            return reply;
        }
        let Some(mesh) = &self.keys.mesh else {
            return Vec::new();
        };
        let write = |body: &mut Vec<u8>| {
            let start = percore::codec::begin_frame(body);
            body.push(proto as u8 | if quiet { QUIET } else { 0 });
            body.push(cmd as u8);
            encode_command(words.iter().copied(), body);
            percore::codec::end_frame(body, start);
        };
        self.forwarded.add(1);
        let replies = self.send_frames(mesh, shard, held, write).await;
        let reply = split_frame(&replies).map_or_else(
            || b"-ERR the key's shard is unavailable\r\n".to_vec(),
            |(body, _)| body.to_vec(),
        );
        mesh.recycle(replies);
        reply
    }

    /// Runs `cmd args` on every shard; the replies in shard order.
    pub(super) async fn on_every_shard(
        &self,
        cmd: Cmd,
        args: &[&[u8]],
        proto: Proto,
        now: u64,
    ) -> Vec<Vec<u8>> {
        let mut replies = Vec::with_capacity(self.shards);
        for shard in 0..self.shards {
            replies.push(self.on_shard(shard, cmd, args, proto, now).await);
        }
        replies
    }
}

/// Set in a forwarded command's protocol byte: publish no keyspace events.
pub(super) const QUIET: u8 = 0x80;

/// The integers of an array reply (a shard's figures).
pub(super) fn integers(reply: &[u8]) -> Vec<i64> {
    match protocol::parse_reply(reply) {
        Ok(Some((protocol::Value::Array(Some(items)), _))) => items
            .into_iter()
            .filter_map(|item| match item {
                protocol::Value::Int(n) => Some(n),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
