//! The commands served on their own, once the replies before them are in:
//! INFO, CONFIG SET, CLIENT LIST and KILL, CLUSTER COUNTKEYSINSLOT and
//! GETKEYSINSLOT (which ask every shard), SCAN
//! (which may walk on to the next shard), MSETNX over several shards, and
//! pub/sub. Each awaits other shards' answers before it replies.

use super::*;

impl Resp {
    /// A command served on its own: INFO, CONFIG SET, CLIENT LIST and
    /// KILL (over every shard), MSETNX over several shards, SCAN, and
    /// pub/sub's (un)subscribe commands, PUBSUB and a subscriber's RESET.
    pub(super) async fn serve_alone(
        &self,
        conn: &mut Connection,
        batch: &mut Batch<'_, RespDecoder>,
        frame: &[u8],
        now: u64,
    ) -> Flow {
        let Connection { session, buffers } = conn;
        if parse_command(frame, &mut buffers.args).is_err() {
            return Flow::Close;
        }
        let command = buffers.args.view(frame);
        let Some(spec) = commands::lookup(command.at(0)) else {
            return Flow::Continue;
        };
        let proto = session.proto();
        let mut reply = Vec::new();
        let began = Instant::now();
        match spec.cmd {
            Cmd::Info => {
                let parts = self
                    .on_every_shard(Cmd::ShardFigures, &[], proto, now)
                    .await;
                let mut figures = ServerFigures {
                    last_save: self.keys.last_save(),
                    ..ServerFigures::default()
                };
                for part in &parts {
                    figures.add(&integers(part));
                }
                let mut stats = command_stats::Merged::default();
                for part in self.on_every_shard(Cmd::ShardStats, &[], proto, now).await {
                    if let Ok(Some((protocol::Value::Bulk(Some(text)), _))) =
                        protocol::parse_reply(&part)
                    {
                        stats.add(text);
                    }
                }
                commands::info::info(&command, &figures, &stats, &self.config, proto, &mut reply);
            }
            Cmd::Config => self.config_change(&command, proto, now, &mut reply).await,
            Cmd::Client if tracking::served_alone(&command) => {
                self.client_tracking(session, &command, proto, now, &mut reply)
                    .await
            }
            Cmd::Client if command.at(1).eq_ignore_ascii_case(b"list") => {
                self.client_list(&command, proto, now, &mut reply).await
            }
            Cmd::Client => {
                if self
                    .client_kill(session, &command, proto, now, &mut reply)
                    .await
                {
                    // CLIENT KILL of the caller itself: closed after its
                    // reply, as redis does.
                    self.here
                        .stats
                        .ran(command_stats::key(spec.cmd, &command), began, &reply);
                    batch.served();
                    if !session.take_quiet() {
                        batch.out().extend_from_slice(&reply);
                    }
                    return Flow::Close;
                }
            }
            // Over several shards: atomic, holding them.
            Cmd::MSetNx | Cmd::Rename | Cmd::RenameNx | Cmd::Copy | Cmd::BitOp | Cmd::Lcs => {
                self.atomically(spec, &command, proto, &mut reply).await
            }
            Cmd::Sort | Cmd::SortRo => self.sort(spec.cmd, &command, proto, now, &mut reply).await,
            Cmd::Migrate => self.migrate(&command, proto, now, &mut reply).await,
            Cmd::Cluster => match cluster::slot_keys::SlotKeys::parse(&command) {
                Err(error) => write::error(&mut reply, error),
                Ok(request) => {
                    let args: Vec<&[u8]> = command.iter().skip(1).collect();
                    let parts = self.on_every_shard(Cmd::Cluster, &args, proto, now).await;
                    request.merge(&parts, &mut reply);
                }
            },
            Cmd::Scan => {
                // A shard's own port (shard-aware cluster mode) is a node
                // of its own: SCAN there walks this shard's keys alone.
                let only = session.own_port.then_some(self.shard);
                self.scan(&command, only, proto, now, &mut reply).await
            }
            cmd if blocking::is_blocking(cmd) => {
                let peer_closed = || batch.peer_closed();
                self.block(session, peer_closed, cmd, &command, proto, &mut reply)
                    .await
            }
            cmd if gather::keys_of(cmd, &command).is_some() => {
                self.atomically(spec, &command, proto, &mut reply).await
            }
            Cmd::Watch => self.watch(session, &command, proto, now, &mut reply).await,
            Cmd::Exec => self.exec(session, proto, now, &mut reply).await,
            Cmd::PubSub => self.pubsub(&command, proto, now, &mut reply).await,
            Cmd::Monitor => self.monitor(session, &mut reply).await,
            Cmd::Reset => {
                self.drop_subscriptions(session).await;
                commands::connection::run(Cmd::Reset, &command, session, &self.config, &mut reply);
                self.follow_protocol(session);
            }
            cmd => match pubsub::Change::of(cmd) {
                Some(change) => {
                    self.change_subscriptions(session, change, &command, &mut reply)
                        .await
                }
                None => write::error(&mut reply, "ERR internal: not a command served alone"),
            },
        }
        self.here
            .stats
            .ran(command_stats::key(spec.cmd, &command), began, &reply);
        if reply.first() == Some(&b'-') {
            batch.failed();
        } else {
            batch.served();
        }
        // CLIENT REPLY OFF or SKIP silences it; (un)subscribe confirmations
        // are pushed all the same, as Redis pushes them.
        if !session.take_quiet() || pubsub::Change::of(spec.cmd).is_some() {
            batch.out().extend_from_slice(&reply);
        }
        Flow::Continue
    }

    /// CONFIG SET (every parameter given, or none) and CONFIG RESETSTAT,
    /// applied on every shard.
    pub(super) async fn config_change(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        if command.at(1).eq_ignore_ascii_case(b"resetstat") {
            self.on_every_shard(Cmd::ResetStats, &[], proto, now).await;
            // Redis counts a command once it ran: RESETSTAT, after it.
            self.here
                .stats
                .call(command_stats::key(Cmd::Config, command));
            write::ok(reply);
            return;
        }
        let settings = match commands::config::parse_set(command, &self.config) {
            Ok(settings) => settings,
            Err(error) => return write::error(reply, &error),
        };
        // The port first: the one setting whose apply may fail (binding),
        // and then nothing is applied, as redis rolls every one back.
        for setting in &settings {
            if let commands::config::Setting::Port(port) = setting {
                if let Err(error) = self.change_port(*port, proto, now).await {
                    return write::error(reply, &error);
                }
            }
        }
        // Kept values and eviction's settings first, then the events, then
        // the cap: a CONFIG SET that names a policy and a lower cap evicts
        // under that policy, its `evicted` events published.
        let mut eviction = false;
        for setting in &settings {
            match setting {
                commands::config::Setting::Store(at, value) => {
                    commands::config::store(&self.config, *at, value.clone());
                }
                commands::config::Setting::Eviction(at, value) => {
                    commands::config::store(&self.config, *at, value.clone());
                    eviction = true;
                }
                _ => {}
            }
        }
        if eviction {
            let args = commands::config::eviction_args(&self.config);
            let args: Vec<&[u8]> = args.iter().map(String::as_bytes).collect();
            self.on_every_shard(Cmd::SetEviction, &args, proto, now)
                .await;
        }
        for setting in &settings {
            if let commands::config::Setting::NotifyKeyspaceEvents(flags) = setting {
                let flags = flags.to_string();
                self.on_every_shard(Cmd::SetNotify, &[flags.as_bytes()], proto, now)
                    .await;
            }
        }
        for setting in settings {
            if let commands::config::Setting::MaxMemory(bytes) = setting {
                self.config.max_memory.store(bytes, Ordering::Relaxed);
                // A cap below one byte a shard is still a cap (maxmemory
                // 1 refuses every write that adds data), not "none".
                let per_shard = if bytes == 0 {
                    0
                } else {
                    (bytes / self.shards as u64).max(1)
                };
                let per_shard = per_shard.to_string();
                self.on_every_shard(Cmd::SetMaxMemory, &[per_shard.as_bytes()], proto, now)
                    .await;
            }
        }
        write::ok(reply);
    }

    /// SCAN: a step on the shard the cursor names, going on to the next
    /// shards while fewer keys than COUNT were looked at, so that a small
    /// key space is scanned in one call, as Redis does.
    /// With `only`, that shard's keys alone are walked, from the place in
    /// them that the cursor names.
    pub(super) async fn scan(
        &self,
        command: &Command<'_>,
        only: Option<usize>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        use commands::keyspace::{cursor_shard, inner, parse_cursor, shard_cursor};
        let Some(mut cursor) = parse_cursor(command.at(1)) else {
            write::error(reply, "ERR invalid cursor");
            return;
        };
        if let Some(shard) = only {
            cursor = shard_cursor(shard, inner(cursor));
        }
        let count = (2..command.len())
            .step_by(2)
            .find(|&i| command.at(i).eq_ignore_ascii_case(b"count"))
            .and_then(|i| commands::strings::parse_i64(command.at(i + 1)))
            .map_or(10, |n| n.max(1) as usize);
        let mut found: Vec<Vec<u8>> = Vec::new();
        let mut visited = 0;
        let mut args: Vec<Vec<u8>> = command.iter().skip(1).map(<[u8]>::to_vec).collect();
        while cursor_shard(cursor) < self.shards
            && only.is_none_or(|shard| cursor_shard(cursor) == shard)
        {
            args[0] = cursor.to_string().into_bytes();
            let words: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let step = self
                .on_shard(cursor_shard(cursor), Cmd::Scan, &words, proto, now)
                .await;
            let Ok(Some((protocol::Value::Array(Some(parts)), _))) = protocol::parse_reply(&step)
            else {
                reply.extend_from_slice(&step);
                return;
            };
            let (next, keys) = match parts.as_slice() {
                [protocol::Value::Bulk(Some(next)), protocol::Value::Array(Some(keys))] => {
                    (*next, keys)
                }
                _ => break,
            };
            cursor = parse_cursor(next).unwrap_or(0);
            for key in keys {
                if let protocol::Value::Bulk(Some(key)) = key {
                    found.push(key.to_vec());
                }
            }
            // A shard's step looks at up to COUNT keys; a step that ends a
            // shard looked at fewer, and the next shard may take the rest.
            visited += count;
            if cursor == 0 || inner(cursor) != 0 || visited >= count * 4 || found.len() >= count {
                break;
            }
        }
        if only.is_some_and(|shard| cursor_shard(cursor) != shard) {
            cursor = 0;
        }
        write::array_len(reply, 2);
        write::bulk(reply, cursor.to_string().as_bytes());
        write::array_len(reply, found.len());
        for key in &found {
            write::bulk(reply, key);
        }
    }

    /// MSETNX over several shards: none is set when any key exists. Checked
    /// first, then set: isolated per shard only (README).
    pub(super) async fn mset_nx(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        for i in (1..command.len()).step_by(2) {
            let shard = owner_of(command.at(i), self.shards);
            let exists = self
                .on_shard(shard, Cmd::Exists, &[command.at(i)], proto, now)
                .await;
            if exists != b":0\r\n" {
                write::int(reply, 0);
                return;
            }
        }
        for i in (1..command.len()).step_by(2) {
            let shard = owner_of(command.at(i), self.shards);
            let set = self
                .on_shard(
                    shard,
                    Cmd::Set,
                    &[command.at(i), command.at(i + 1)],
                    proto,
                    now,
                )
                .await;
            if set.first() == Some(&b'-') {
                reply.extend_from_slice(&set);
                return;
            }
        }
        write::int(reply, 1);
    }
}
