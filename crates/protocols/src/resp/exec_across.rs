//! Transactions whose keys live on several shards (README "Transactions
//! across shards"): EXEC of such a MULTI, and every command over keys of
//! several shards but the blocking ones (MSET, MSETNX, RENAME, RENAMENX,
//! COPY, BITOP, LCS, the typed ones of `gather.rs`). Every shard concerned is held
//! (`holding.rs`) for the whole of it, so it is atomic with respect to
//! every other client; then each command runs as it runs outside a
//! transaction ([`Resp::run_one`]), its steps on the held shards. A
//! transaction over one shard does not come here: it runs there in one
//! hop (`transaction.rs`), as Dragonfly runs them.

use super::*;

impl Resp {
    /// EXEC over several shards: holds `shards`, checks the `watched` keys
    /// (a null reply when one changed), then runs the `queued` commands
    /// (`[command number, argc, args...]` each) in order.
    pub(super) async fn exec_across(
        &self,
        watched: &[(Vec<u8>, Vec<u8>)],
        queued: &[Vec<u8>],
        shards: &[usize],
        proto: Proto,
        reply: &mut Vec<u8>,
    ) {
        let run = async {
            let now = now_ms();
            let mut out = Vec::new();
            for (key, state) in watched {
                let shard = owner_of(key, self.shards);
                let key: &[u8] = key;
                if self.on_shard(shard, Cmd::TxWatch, &[key], proto, now).await != *state {
                    write::null_array(&mut out, proto);
                    return out;
                }
            }
            let queued = queued_commands(queued);
            write::array_len(&mut out, queued.len());
            let mut args = protocol::Args::unbounded();
            for words in &queued {
                args.set_words(words);
                let command = args.view(&[]);
                match commands::lookup(command.at(0)) {
                    Some(spec) => {
                        self.here.stats.call(command_stats::key(spec.cmd, &command));
                        let got = self.run_one(spec, &command, proto, now).await;
                        out.extend_from_slice(&got);
                    }
                    None => {
                        write::error(&mut out, "ERR internal: a queued command could not be read")
                    }
                }
            }
            out
        };
        match self.holding(shards, run).await {
            Ok(out) => reply.extend_from_slice(&out),
            Err(error) => write::error(reply, error),
        }
    }

    /// A command over keys of several shards (MSET, MSETNX, RENAME,
    /// RENAMENX, COPY, BITOP, LCS, and the typed ones `gather.rs` serves),
    /// run holding them: atomic, as in Redis.
    pub(super) async fn atomically(
        &self,
        spec: &Spec,
        command: &Command<'_>,
        proto: Proto,
        reply: &mut Vec<u8>,
    ) {
        let keys: Vec<&[u8]> = match spec.cmd {
            Cmd::MSet | Cmd::MSetNx => (1..command.len())
                .step_by(2)
                .map(|i| command.at(i))
                .collect(),
            Cmd::Rename | Cmd::RenameNx | Cmd::Copy | Cmd::Lcs => {
                vec![command.at(1), command.at(2)]
            }
            Cmd::BitOp => command.iter().skip(2).collect(),
            cmd => gather::keys_of(cmd, command).unwrap_or_default(),
        };
        let shards = self.shards_of(keys);
        let run = async { self.run_one(spec, command, proto, now_ms()).await };
        match self.holding(&shards, run).await {
            Ok(out) => reply.extend_from_slice(&out),
            Err(error) => write::error(reply, error),
        }
    }

    /// Runs one command as a connection's command runs, with every step on
    /// its keys' shards through [`Resp::on_shard`] (so, within a hold, on
    /// the held shards); its reply.
    pub(super) async fn run_one(
        &self,
        spec: &Spec,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
    ) -> Vec<u8> {
        let cmd = spec.cmd;
        let args: Vec<&[u8]> = command.iter().skip(1).collect();
        let owner = |key: &[u8]| owner_of(key, self.shards);
        let mut out = Vec::new();
        match spec.route {
            Route::Key => {
                return self
                    .on_shard(owner(command.at(1)), cmd, &args, proto, now)
                    .await
            }
            Route::EachKey { part, merge } => {
                let step = spec.keys.step as usize;
                if (command.len() - 1) % step != 0 {
                    commands::connection::wrong_arity(&mut out, spec.name);
                    return out;
                }
                let first = owner(command.at(1));
                if (1..command.len())
                    .step_by(step)
                    .all(|i| owner(command.at(i)) == first)
                {
                    return self.on_shard(first, cmd, &args, proto, now).await;
                }
                // Each key's part on its shard: one message per shard.
                let keys: Vec<usize> = (1..command.len()).step_by(step).collect();
                let mut parts = vec![Vec::new(); keys.len()];
                let mut shards: Vec<usize> = keys.iter().map(|&i| owner(command.at(i))).collect();
                shards.sort_unstable();
                shards.dedup();
                for shard in shards {
                    let mine: Vec<usize> = (0..keys.len())
                        .filter(|&k| owner(command.at(keys[k])) == shard)
                        .collect();
                    let words: Vec<Vec<&[u8]>> = mine
                        .iter()
                        .map(|&k| {
                            let i = keys[k];
                            (i..i + step).map(|at| command.at(at)).collect()
                        })
                        .collect();
                    let replies = self.on_shard_parts(shard, part, &words, proto, now).await;
                    for (k, reply) in mine.into_iter().zip(replies) {
                        parts[k] = reply;
                    }
                }
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                route::merge_replies(merge, &parts, proto, &mut out);
            }
            Route::AllShards(merge) => {
                let parts = self.on_every_shard(cmd, &args, proto, now).await;
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                route::merge_replies(merge, &parts, proto, &mut out);
            }
            Route::Here(_) | Route::HereOrAlone(..) => match cmd {
                Cmd::Ping if command.len() == 1 => write::simple(&mut out, b"PONG"),
                Cmd::Ping | Cmd::Echo => write::bulk(&mut out, command.at(1)),
                Cmd::Config if commands::config::served_alone(command, &self.config) => {
                    self.config_change(command, proto, now, &mut out).await
                }
                Cmd::Config => {
                    commands::server::run(cmd, command, &self.config, &self.keys, proto, &mut out)
                }
                _ => write::error(&mut out, "ERR internal: not a command of a transaction"),
            },
            Route::Alone => {
                self.run_one_alone(spec, command, proto, now, &mut out)
                    .await
            }
        }
        out
    }

    /// Runs `cmd` once for each of `parts` (its arguments) on `shard`, as
    /// one message (one step of a transaction, or one forwarded message):
    /// their replies, in order.
    async fn on_shard_parts(
        &self,
        shard: usize,
        cmd: Cmd,
        parts: &[Vec<&[u8]>],
        proto: Proto,
        now: u64,
    ) -> Vec<Vec<u8>> {
        let name = commands::NAMES[cmd as usize].as_bytes();
        let held = holding::current(&self.here);
        let mut replies = Vec::with_capacity(parts.len());
        if shard == self.shard {
            if held.is_none() {
                self.keys.until_unheld().await;
            }
            let logged_from = self.keys.log_position();
            for args in parts {
                let words: Vec<&[u8]> = std::iter::once(name).chain(args.iter().copied()).collect();
                let mut reply = Vec::new();
                let mut part_args = self.part_args.borrow_mut();
                part_args.set_words(&words);
                self.execute_here(cmd, &part_args.view(&[]), proto, now, &mut reply);
                replies.push(reply);
            }
            // `--fsync always`: on disk before any reply is used, or all
            // taken back.
            if let Err(reason) = self.keys.commit(logged_from).await {
                let refused = percore_keyspace::write::Refused::Disk(reason);
                for reply in &mut replies {
                    reply.clear();
                    commands::strings::refusal(reply, &refused);
                }
            }
            return replies;
        }
        let Some(mesh) = &self.keys.mesh else {
            return vec![Vec::new(); parts.len()];
        };
        let write = |body: &mut Vec<u8>| {
            for args in parts {
                let start = percore::codec::begin_frame(body);
                body.push(proto as u8);
                body.push(cmd as u8);
                let words: Vec<&[u8]> = std::iter::once(name).chain(args.iter().copied()).collect();
                encode_command(words.iter().copied(), body);
                percore::codec::end_frame(body, start);
            }
        };
        self.forwarded.add(parts.len() as u64);
        let got = self.send_frames(mesh, shard, held, write).await;
        let mut rest = &got[..];
        for _ in parts {
            match split_frame(rest) {
                Some((reply, next)) => {
                    replies.push(reply.to_vec());
                    rest = next;
                }
                None => replies.push(b"-ERR the key's shard is unavailable\r\n".to_vec()),
            }
        }
        mesh.recycle(got);
        replies
    }

    /// [`Resp::run_one`] of a command served alone outside a transaction.
    async fn run_one_alone(
        &self,
        spec: &Spec,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        out: &mut Vec<u8>,
    ) {
        let cmd = spec.cmd;
        let args: Vec<&[u8]> = command.iter().skip(1).collect();
        let one_shard = |keys: &[&[u8]]| {
            let first = keys
                .first()
                .map_or(self.shard, |k| owner_of(k, self.shards));
            keys.iter()
                .all(|k| owner_of(k, self.shards) == first)
                .then_some(first)
        };
        if cmd == Cmd::Object {
            if commands::object::over_key(command) {
                let shard = owner_of(command.at(2), self.shards);
                out.extend_from_slice(&self.on_shard(shard, cmd, &args, proto, now).await);
            } else {
                commands::object::without_key(command, out);
            }
            return;
        }
        if let Some(keys) = blocking::keys_of(cmd, command) {
            return match one_shard(&keys) {
                Some(shard) => {
                    out.extend_from_slice(&self.on_shard(shard, cmd, &args, proto, now).await)
                }
                None => self.block_once(cmd, command, proto, now, out).await,
            };
        }
        if let Some(keys) = gather::keys_of(cmd, command) {
            return match one_shard(&keys) {
                Some(shard) => {
                    out.extend_from_slice(&self.on_shard(shard, cmd, &args, proto, now).await)
                }
                None => self.gather(cmd, command, proto, now, out).await,
            };
        }
        if cmd == Cmd::MSetNx && (command.len() - 1) % 2 != 0 {
            return commands::connection::wrong_arity(out, spec.name);
        }
        if let Some(shard) = self.one_owner(spec, command) {
            return out.extend_from_slice(&self.on_shard(shard, cmd, &args, proto, now).await);
        }
        match cmd {
            Cmd::MSetNx => self.mset_nx(command, proto, now, out).await,
            Cmd::Rename | Cmd::RenameNx | Cmd::Copy => self.move_key(cmd, command, now, out).await,
            Cmd::BitOp => self.bit_op(command, now, out).await,
            Cmd::Lcs => self.lcs(command, proto, now, out).await,
            Cmd::Sort | Cmd::SortRo => self.sort(cmd, command, proto, now, out).await,
            _ => write::error(out, "ERR internal: not a command of a transaction"),
        }
    }
}

/// The commands of a queue, `[command number, argc, args...]` each, as
/// their words.
fn queued_commands(queued: &[Vec<u8>]) -> Vec<Vec<&[u8]>> {
    let number = |i: usize| {
        queued
            .get(i)
            .and_then(|word| commands::strings::parse_i64(word))
            .unwrap_or(0)
            .max(0) as usize
    };
    let mut commands = Vec::new();
    let mut at = 0;
    while at + 1 < queued.len() {
        let argc = number(at + 1);
        let end = (at + 2 + argc).min(queued.len());
        commands.push(queued[at + 2..end].iter().map(Vec::as_slice).collect());
        at = end;
    }
    commands
}
