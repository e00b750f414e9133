//! MULTI / EXEC / DISCARD / WATCH / UNWATCH (docs/PROTOCOLS.md §6.2, issue 26).
//!
//! MULTI queues the connection's commands (each checked as Redis checks
//! it: an unknown command or a wrong arity is answered at once and makes
//! EXEC answer `EXECABORT`). EXEC sends the whole queue, with the watched
//! keys' states, to the one shard that owns every key of it, as ONE
//! command ([`Cmd::TxExec`]); the owner (`exec_owner.rs`) checks the watched keys and runs
//! the queue with no await in between, so the transaction is atomic with
//! respect to every other client (no other command of that shard, local or
//! forwarded, can run in between). A transaction whose keys live on several
//! shards holds every one of them for its whole run (`exec_across.rs`,
//! README "Transactions across shards"): atomic as well.
//!
//! WATCH reads each key's state on its owner (its writes' version, live or
//! not, its expiry and value); EXEC's owner compares it again under the
//! same no-await run. Any write to a watched key aborts EXEC, as in Redis
//! (the version, `keyspace/touched.rs`, costs the write path a hash and an
//! increment); so does its expiry.

use super::*;

/// A connection's transaction state.
#[derive(Default)]
pub struct TxState {
    /// Between MULTI and EXEC/DISCARD: the queued commands.
    queue: Option<Queue>,
    /// WATCHed keys and what each was then on its owner.
    watched: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The commands queued since MULTI.
#[derive(Default)]
struct Queue {
    /// A command was refused while queuing: EXEC answers EXECABORT.
    errored: bool,
    /// `[command number, argc, args...]` per command, as EXEC sends them.
    words: Vec<Vec<u8>>,
    /// The shards the queued commands touch (a bit each, up to 64 shards;
    /// beyond, `wide`).
    shards: u64,
    wide: bool,
    /// A queued command runs on the EXEC-ing shard and may reach every
    /// shard (CONFIG): EXEC then holds every shard (`exec_across.rs`).
    everywhere: bool,
    /// A queued command may add data (`denyoom` in the command table):
    /// EXEC is refused while the memory cap is reached ([`out_of_memory`]).
    denyoom: bool,
}

impl TxState {
    /// No MULTI open and no key WATCHed.
    pub fn is_idle(&self) -> bool {
        self.queue.is_none() && self.watched.is_empty()
    }

    pub fn in_multi(&self) -> bool {
        self.queue.is_some()
    }

    /// DISCARD, RESET, or after EXEC: no queue, nothing watched.
    pub fn clear(&mut self) {
        self.queue = None;
        self.watched.clear();
    }

    /// A command refused while queuing (EXEC then aborts).
    pub fn refused(&mut self) {
        if let Some(queue) = &mut self.queue {
            queue.errored = true;
        }
    }
}

/// Whether `cmd` is one of MULTI, EXEC, DISCARD, WATCH, UNWATCH.
pub(super) fn is_transaction_command(cmd: Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Multi | Cmd::Exec | Cmd::Discard | Cmd::Watch | Cmd::Unwatch
    )
}

impl Resp {
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH, and any command while in
    /// MULTI (queued, or refused): answered at once through `plan`, or
    /// `Some` when served alone (EXEC, WATCH).
    pub(super) fn plan_transaction<'a>(
        &self,
        session: &mut Session,
        plan: &mut RoundPlan,
        out: &mut Vec<u8>,
        spec: &Spec,
        command: &Command<'_>,
        frame: &'a [u8],
    ) -> Option<Step<'a>> {
        let tx = &mut session.tx;
        let mut reply = |text: &str| {
            plan.here(out, |out| {
                if let Some(simple) = text.strip_prefix('+') {
                    write::simple(out, simple.as_bytes());
                } else {
                    write::error(out, text);
                }
            })
        };
        if !tx.in_multi() {
            match spec.cmd {
                Cmd::Multi => {
                    tx.queue = Some(Queue::default());
                    reply("+OK");
                }
                Cmd::Exec => reply("ERR EXEC without MULTI"),
                Cmd::Discard => reply("ERR DISCARD without MULTI"),
                Cmd::Unwatch => {
                    tx.watched.clear();
                    reply("+OK");
                }
                _ => return Some(Step::Alone(frame)),
            }
            return None;
        }
        // Inside MULTI, Redis refuses every command but EXEC and DISCARD
        // (QUIT and RESET are served before) while its memory is past
        // `maxmemory`: queuing takes memory too. EXEC then aborts.
        if !matches!(spec.cmd, Cmd::Exec | Cmd::Discard) && self.out_of_memory() {
            tx.refused();
            reply(OOM);
            return None;
        }
        // SAVE and SHUTDOWN (`no_multi` in the command table).
        if has_flag(spec, "no_multi") {
            tx.refused();
            reply("ERR Command not allowed inside a transaction");
            return None;
        }
        match spec.cmd {
            Cmd::Multi => reply("ERR MULTI calls can not be nested"),
            Cmd::Watch => reply("ERR WATCH inside MULTI is not allowed"),
            Cmd::Exec => return Some(Step::Alone(frame)),
            Cmd::Discard => {
                tx.clear();
                reply("+OK");
            }
            _ => match self.key_shards(spec, command) {
                None => {
                    tx.refused();
                    let name = spec.name;
                    reply(&format!(
                        "ERR percore does not run '{name}' inside MULTI (README: What differs from Redis)"
                    ));
                }
                Some(_) if let Some(error) = config_refused(spec.cmd, command) => {
                    tx.refused();
                    reply(&error);
                }
                Some((shards, wide)) => {
                    if let Some(queue) = &mut tx.queue {
                        queue.shards |= shards;
                        queue.wide |= wide;
                        queue.everywhere |=
                            matches!(spec.cmd, Cmd::Config | Cmd::Sort | Cmd::SortRo);
                        queue.denyoom |= may_add_data(spec);
                        queue.words.push((spec.cmd as u8).to_string().into_bytes());
                        queue.words.push(command.len().to_string().into_bytes());
                        queue.words.extend(command.iter().map(<[u8]>::to_vec));
                    }
                    reply("+QUEUED");
                }
            },
        }
        None
    }

    /// Every shard, as [`Resp::key_shards`] gives shards.
    fn every_shard(&self) -> (u64, bool) {
        let all = if self.shards >= 64 {
            u64::MAX
        } else {
            (1u64 << self.shards) - 1
        };
        (all, self.shards > 64)
    }

    /// The shards a queueable command touches, as bits (and whether one is
    /// past 64); `None`: not queueable (a command that is not over keys).
    fn key_shards(&self, spec: &Spec, command: &Command<'_>) -> Option<(u64, bool)> {
        let at = |i: usize| command.at(i);
        let keys = |positions: std::ops::Range<usize>, step: usize| positions.step_by(step).map(at);
        Some(match spec.route {
            Route::Key => self.shard_bits(keys(1..2, 1)),
            Route::EachKey { .. } => {
                self.shard_bits(keys(1..command.len(), spec.keys.step as usize))
            }
            // MSETNX, RENAME, COPY, LCS, BITOP: their keys where their rows
            // say.
            Route::Alone if spec.flags.has(commands::Flags::ONE_OWNER) => {
                self.shard_bits(spec.keys.positions(command.len()).map(at))
            }
            Route::Alone => match spec.cmd {
                // OBJECT HELP has no key: run wherever the rest runs.
                Cmd::Object => self.shard_bits(keys(2..command.len().min(3), 1)),
                // SORT's BY and GET patterns may name keys on any shard:
                // every shard, run by the EXEC-ing shard (`everywhere`).
                Cmd::Sort | Cmd::SortRo => self.every_shard(),
                // The typed commands over several keys, and the blocking
                // ones (which do not block in a transaction): their keys'
                // shards.
                _ => {
                    let keys = gather::keys_of(spec.cmd, command)
                        .or_else(|| blocking::keys_of(spec.cmd, command))?;
                    self.shard_bits(keys.into_iter())
                }
            },
            // Keyless and stateless: run wherever the rest runs.
            Route::Here(_) if matches!(spec.cmd, Cmd::Ping | Cmd::Echo) => (0, false),
            // CONFIG (GET, and SET, which changes every shard): run by the
            // EXEC-ing shard holding every shard, as Redis runs it inside
            // MULTI.
            Route::HereOrAlone(..) if spec.cmd == Cmd::Config => self.every_shard(),
            Route::AllShards(_) if spec.cmd != Cmd::Save && spec.cmd != Cmd::BgSave => {
                self.every_shard()
            }
            _ => return None,
        })
    }

    /// The owners of `keys`, as bits (and whether one is past 64).
    fn shard_bits<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> (u64, bool) {
        let mut bits = 0u64;
        let mut wide = false;
        for key in keys {
            let shard = owner_of(key, self.shards);
            wide |= shard >= 64;
            bits |= 1u64 << (shard % 64);
        }
        (bits, wide)
    }

    /// WATCH key...: each key's state now, read on its owner.
    pub(super) async fn watch(
        &self,
        session: &mut Session,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        for key in command.iter().skip(1) {
            let shard = owner_of(key, self.shards);
            let state = self.on_shard(shard, Cmd::TxWatch, &[key], proto, now).await;
            session.tx.watched.push((key.to_vec(), state));
        }
        write::ok(reply);
    }

    /// EXEC: the queue run on its owner as one command, or over several
    /// shards holding them all (`exec_across.rs`), or EXECABORT.
    pub(super) async fn exec(
        &self,
        session: &mut Session,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let tx = std::mem::take(&mut session.tx);
        let Some(queue) = tx.queue else {
            write::error(reply, "ERR EXEC without MULTI");
            return;
        };
        // As Redis checks EXEC itself when a queued command may add data
        // (before its own checks, as Redis's command checks come first).
        if queue.denyoom && self.out_of_memory() {
            write::error(
                reply,
                &format!("EXECABORT Transaction discarded because of: {OOM}"),
            );
            return;
        }
        if queue.errored {
            write::error(
                reply,
                "EXECABORT Transaction discarded because of previous errors.",
            );
            return;
        }
        let mut shards = queue.shards;
        let mut wide = queue.wide;
        for (key, _) in &tx.watched {
            let shard = owner_of(key, self.shards);
            wide |= shard >= 64;
            shards |= 1u64 << (shard % 64);
        }
        if wide || shards.count_ones() > 1 || queue.everywhere {
            // Over several shards: every one of them held for the whole.
            let shards: Vec<usize> = (0..self.shards)
                .filter(|&shard| wide || shards & (1u64 << shard) != 0)
                .collect();
            return self
                .exec_across(&tx.watched, &queue.words, &shards, proto, reply)
                .await;
        }
        let owner = if shards == 0 {
            self.shard
        } else {
            shards.trailing_zeros() as usize
        };
        let watched = tx.watched.len().to_string().into_bytes();
        let mut words: Vec<&[u8]> = vec![&watched];
        for (key, state) in &tx.watched {
            words.push(key);
            words.push(state);
        }
        words.extend(queue.words.iter().map(Vec::as_slice));
        reply.extend_from_slice(&self.on_shard(owner, Cmd::TxExec, &words, proto, now).await);
    }
}

/// Redis's refusal of a command that may add data past `maxmemory`.
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Whether `spec` may add data: Redis's `denyoom` flag.
fn may_add_data(spec: &Spec) -> bool {
    has_flag(spec, "denyoom")
}

/// Whether the command table gives `spec` the flag `flag`.
fn has_flag(spec: &Spec, flag: &str) -> bool {
    command_table::lookup(spec.name.as_bytes()).is_some_and(|entry| entry.flags.contains(&flag))
}

impl Resp {
    /// Whether the memory cap is reached, as this shard sees it: its store
    /// has no room for the smallest new key. Redis compares its whole used
    /// memory with `maxmemory`; the keys spread evenly over the shards, each
    /// with its share of the cap, so the connection's shard stands for the
    /// rest (README "What differs from Redis").
    fn out_of_memory(&self) -> bool {
        self.keys.store.with(Store::full)
    }
}

/// The error Redis answers at queue time for a CONFIG subcommand it does
/// not know or whose arguments it cannot count.
fn config_refused(cmd: Cmd, command: &Command<'_>) -> Option<String> {
    if cmd != Cmd::Config {
        return None;
    }
    let parent = command_table::lookup(command.at(0))?;
    match command_table::lookup_subcommand(parent, command.at(1)) {
        None => {
            let shown = String::from_utf8_lossy(command.at(1));
            let name = parent.name.to_ascii_uppercase();
            Some(format!(
                "ERR unknown subcommand '{shown}'. Try {name} HELP."
            ))
        }
        Some(sub) if !command_table::arity_ok(sub, command.len()) => Some(format!(
            "ERR wrong number of arguments for '{}' command",
            sub.name
        )),
        Some(_) => None,
    }
}
