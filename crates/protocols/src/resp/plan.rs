//! Planning a batch of resp commands (docs/PROTOCOLS.md §6): each command is answered on
//! this shard at once, or forwarded to its key's owner, or split into parts
//! whose replies are merged (`route.rs` keeps the order); a round's
//! forwarded commands go as one message per shard, and the replies are put
//! back in command order. A command that must wait for other shards before
//! the next one is read ends the round (`served_alone.rs`).

use super::*;
use commands::Flags;
use percore_keyspace::write::PREFETCH_AHEAD;
use percore_resp_wire::second_words;

/// How planning a round ended.
pub(super) enum Step<'a> {
    /// The batch holds no more commands (or its output budget is spent).
    Done,
    /// Cut short so its replies stay bounded: commands may remain.
    Cut,
    /// A command to serve on its own, once the round's replies are in.
    Alone(&'a [u8]),
    /// Close the connection once the replies are sent.
    Close,
}

/// Forwarded replies of unknown size per round (GETs of values up to
/// `--max-frame`), as in kv.
const UNSIZED_PER_ROUND: u64 = 32;

impl Resp {
    /// Plans commands until the batch is done, the round is full, or a
    /// command must be served on its own.
    pub(super) fn plan_round<'a>(
        &self,
        conn: &mut Connection,
        batch: &mut Batch<'a, RespDecoder>,
        now: u64,
    ) -> Step<'a> {
        let Connection { session, buffers } = conn;
        let ConnBuffers { args, plan } = buffers;
        plan.begin(self.shards);
        let taken_before = batch.taken();
        // Commands left before the next look ahead (`prefetch_ahead`).
        let mut ahead = 0;
        loop {
            // A round takes at least one command: past the batch's output
            // budget, next_request itself stops (Done). A round cut before
            // taking any would be planned again, empty, forever: one reply
            // at the budget (a GET of a 1 MiB value) spun the shard.
            let full = plan.forwarded() >= UNSIZED_PER_ROUND || plan.held() >= batch.output_room();
            if full && batch.taken() > taken_before {
                return Step::Cut;
            }
            // A reply CLIENT REPLY may silence is made in a round of its
            // own, so that it alone can be dropped.
            if session.replies_silenced() && batch.taken() > taken_before {
                return Step::Cut;
            }
            // Read under the limits of the connection's state now: an AUTH
            // earlier in the batch lifts them for the commands after it.
            batch.decoder().require_auth(!session.authed);
            if ahead == 0 {
                self.prefetch_ahead(batch.remaining());
                ahead = PREFETCH_AHEAD;
            }
            ahead -= 1;
            let Some(frame) = batch.next_request() else {
                return Step::Done;
            };
            if let Err(error) = batch.decoder().parsed(frame, args) {
                let start = batch.out().len();
                plan.here(batch.out(), |out| {
                    let from = out.len();
                    error.write_reply(out);
                    self.here.stats.error_reply(&out[from..]);
                });
                if !plan.is_forwarding() && batch.out().len() > start {
                    batch.failed();
                }
                return Step::Close;
            }
            let command = args.view(frame);
            if command.is_empty() {
                continue;
            }
            let start = batch.out().len();
            let mode = session.reply;
            let step = self.plan_command(session, plan, batch, &command, frame, now);
            session.after_command(mode);
            if !plan.is_forwarding() {
                // Answered straight into the output: count it now (a
                // forwarding round counts its replies once assembled).
                match batch.out().get(start) {
                    Some(b'-') => batch.failed(),
                    Some(_) => batch.served(),
                    None => {}
                }
            }
            match step {
                None if session.quiet => return Step::Cut,
                None => {}
                Some(step) => return step,
            }
        }
    }

    /// Starts loading the entries the next commands will read, those of
    /// this shard's keys among the second words of the next
    /// [`PREFETCH_AHEAD`] commands (a GET's or a SET's key), so that their
    /// cache misses overlap instead of coming one command after the other
    /// (the key space's `Store::prefetch`).
    fn prefetch_ahead(&self, unread: &[u8]) {
        let (here, shards) = (self.shard, self.shards);
        let keys = second_words(unread)
            .take(PREFETCH_AHEAD)
            .filter(|key| shards == 1 || owner_of(key, shards) == here);
        self.keys.store.with(|store| store.prefetch(keys));
    }

    /// Plans one command; `Some` ends the round.
    pub(super) fn plan_command<'a>(
        &self,
        session: &mut Session,
        plan: &mut RoundPlan,
        batch: &mut Batch<'a, RespDecoder>,
        command: &Command<'_>,
        frame: &'a [u8],
        now: u64,
    ) -> Option<Step<'a>> {
        // Its ACL user changed since its last command: read again; deleted,
        // the connection closes, as Redis closes it (`commands/acl.rs`).
        if !commands::acl::refresh(session, &self.config) {
            return Some(Step::Close);
        }
        let out = batch.out();
        let spec = match check(command, session, self.config.cluster_of(session)) {
            Ok(spec) => spec,
            // An HTTP request (a browser's, sent by a web page): close
            // without a reply and run nothing more from it (docs/PROTOCOLS.md §6.1).
            Err(Rejection::Unknown) if cross_protocol(command) => {
                warn_cross_protocol(session.client.peer);
                batch.failed();
                return Some(Step::Close);
            }
            Err(reply) => {
                plan.here(out, |out| {
                    let from = out.len();
                    reply.write(command, out);
                    let cmd = commands::lookup(command.at(0))
                        .filter(|spec| !spec.internal())
                        .map(|spec| command_stats::key(spec.cmd, command));
                    self.here.stats.rejected(cmd, &out[from..]);
                });
                session.tx.refused();
                return None;
            }
        };
        if self.broker.monitored()
            && monitor::shown(spec, command)
            && !session.client.monitoring.get()
        {
            let mut line = Vec::new();
            monitor::line(spec.cmd, command, session.client.peer, &mut line);
            self.broker.notify_monitors(monitor::CHANNEL, &line);
        }
        // RESET and QUIT end a transaction and its WATCHes, then run as
        // ever; in MULTI every other command is the transaction's matter.
        if matches!(spec.cmd, Cmd::Reset | Cmd::Quit) {
            session.tx.clear();
        } else if session.tx.in_multi() || transaction::is_transaction_command(spec.cmd) {
            if transaction::is_transaction_command(spec.cmd) {
                self.here.stats.call(spec.cmd);
            }
            return self.plan_transaction(session, plan, out, spec, command, frame);
        }
        let stat = command_stats::key(spec.cmd, command);
        self.here.stats.call(stat);
        session.client.note_command(spec, command);
        session.introduced |= session::introduces(spec.cmd);
        let proto = session.proto();
        match spec.route {
            Route::HereOrAlone(_, alone) if alone(command, &self.config, session) => {
                return Some(Step::Alone(frame))
            }
            Route::Here(local) | Route::HereOrAlone(local, _) => match local {
                Local::Introspect => plan.here(out, |out| {
                    self.here.stats.observe(stat, out, |out| {
                        commands::introspect::command(command, proto, out)
                    })
                }),
                Local::Shutdown => {
                    // As redis: no reply; the server stops as on SIGINT,
                    // answering what it has read (docs/PROTOCOLS.md §7.1: a clean stop).
                    let valid = (1..command.len()).all(|i| {
                        [&b"nosave"[..], b"save", b"now", b"force"]
                            .iter()
                            .any(|opt| command.at(i).eq_ignore_ascii_case(opt))
                    });
                    if !valid {
                        plan.here(out, |out| write::error(out, commands::strings::SYNTAX));
                        return None;
                    }
                    self.stop.stop_server();
                    return Some(Step::Close);
                }
                Local::Server => plan.here(out, |out| {
                    self.here.stats.observe(stat, out, |out| {
                        commands::server::run(
                            spec.cmd,
                            command,
                            &self.config,
                            &self.keys,
                            proto,
                            out,
                        )
                    })
                }),
                Local::Connection => {
                    let flow = plan.here(out, |out| {
                        self.here.stats.observe(stat, out, |out| {
                            commands::connection::run(spec.cmd, command, session, &self.config, out)
                        })
                    });
                    if spec.cmd == Cmd::Hello {
                        self.follow_protocol(session);
                    }
                    if flow == Flow::Close {
                        return Some(Step::Close);
                    }
                }
            },
            Route::Key => {
                if matches!(spec.cmd, Cmd::Publish | Cmd::SPublish) {
                    session.published = true;
                }
                let owner = owner_of(command.at(1), self.shards);
                self.track_command(session, plan, out, owner, command, proto, now);
                self.run_at(plan, out, owner, spec.cmd, command, frame, proto, now);
            }
            Route::EachKey { part, merge } => {
                let step = spec.keys.step as usize;
                if (command.len() - 1) % step != 0 {
                    plan.here(out, |out| commands::connection::wrong_arity(out, spec.name));
                    return None;
                }
                let owners = (1..command.len())
                    .step_by(step)
                    .map(|i| owner_of(command.at(i), self.shards));
                let first = owner_of(command.at(1), self.shards);
                if owners.clone().all(|owner| owner == first) {
                    self.track_command(session, plan, out, first, command, proto, now);
                    self.run_at(plan, out, first, spec.cmd, command, frame, proto, now);
                } else {
                    // MSET over several shards: each shard's part atomic,
                    // not the whole (README "What differs from Redis";
                    // inside MULTI it is atomic): holding the shards would
                    // serialise every MSET and stall the shards meanwhile.
                    plan.merge((merge, proto), (command.len() - 1) / step);
                    for i in (1..command.len()).step_by(step) {
                        let owner = owner_of(command.at(i), self.shards);
                        let pair = [command.at(i), command.at(i + 1)];
                        self.run_part_at(plan, out, owner, part, &pair[..step], proto, now);
                    }
                }
            }
            Route::AllShards(merge) => {
                // A shard's own port (shard-aware cluster mode) is a node of
                // its own: the key space commands cover its keys alone, so
                // that a cluster client asking every node counts each once.
                let own_keys = session.own_port && spec.flags.has(Flags::OWN_KEYS);
                if self.shards == 1 || own_keys {
                    let here = self.shard;
                    self.run_at(plan, out, here, spec.cmd, command, frame, proto, now);
                } else {
                    plan.merge((merge, proto), self.shards);
                    for shard in 0..self.shards {
                        self.run_at(plan, out, shard, spec.cmd, command, frame, proto, now);
                    }
                }
            }
            Route::Alone => {
                if spec.cmd == Cmd::Object {
                    // On the key's owner; HELP and errors here.
                    if commands::object::over_key(command) {
                        let owner = owner_of(command.at(2), self.shards);
                        self.run_at(plan, out, owner, spec.cmd, command, frame, proto, now);
                    } else {
                        plan.here(out, |out| commands::object::without_key(command, out));
                    }
                    return None;
                }
                if let Some(keys) = gather::keys_of(spec.cmd, command) {
                    // Every key on one shard: run there in one step, as
                    // Redis does (atomic); else gathered, alone.
                    let first = keys
                        .first()
                        .map_or(self.shard, |k| owner_of(k, self.shards));
                    if keys.iter().all(|k| owner_of(k, self.shards) == first) {
                        self.run_at(plan, out, first, spec.cmd, command, frame, proto, now);
                        return None;
                    }
                    return Some(Step::Alone(frame));
                }
                if spec.cmd == Cmd::MSetNx && (command.len() - 1) % 2 != 0 {
                    plan.here(out, |out| commands::connection::wrong_arity(out, spec.name));
                    return None;
                }
                if let Some(owner) = self.one_owner(spec, command) {
                    // Every key on one shard: run there in one step.
                    self.run_at(plan, out, owner, spec.cmd, command, frame, proto, now);
                    return None;
                }
                return Some(Step::Alone(frame));
            }
        }
        None
    }
}
