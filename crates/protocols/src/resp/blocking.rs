//! The blocking list and sorted set commands (issue 27): BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, served alone on
//! the connection's shard. The command's non-blocking form (LMPOP, LMOVE,
//! ZMPOP...) runs first where its keys live; if nothing is there, the
//! client blocks: its waiter (`waiter.rs`) is queued on each key's owner
//! (`blocked_keys.rs`), which serves it in the order clients blocked, right
//! after a write fills the key, and sends the reply over the waiter's
//! channel. The connection waits on that channel until the reply comes, the
//! timeout passes (a null reply, as Redis's), the client is killed or
//! disconnects, or the server stops, then leaves the owners' queues.
//!
//! What differs from Redis (README): BLMOVE and BRPOPLPUSH whose keys live
//! on two shards pop on the source's owner and push on the destination's,
//! as LMOVE over two shards does, so another client may see the item in
//! neither list for that moment; a destination of another type sends the
//! item back to the source's end it came from, with the WRONGTYPE reply.

use std::time::{Duration, Instant};

use super::blocking_forms::{check, non_blocking};
use super::waiter::{Form, Served, Waiter};
use super::*;
use crate::kv::values::Kind;
use commands::collections::parse_score;

/// How often a blocked connection looks whether its client is gone or
/// the server stops (its element comes at once, over its channel).
const MAX_WAIT: Duration = Duration::from_millis(100);

/// Counts a connection blocked while it lives, in its shard's
/// `RespShard::blocked` (INFO's `blocked_clients`).
struct Blocked(Rc<RespShard>);

impl Blocked {
    fn new(here: &Rc<RespShard>) -> Blocked {
        here.blocked.set(here.blocked.get() + 1);
        Blocked(here.clone())
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        let blocked = &self.0.blocked;
        blocked.set(blocked.get().saturating_sub(1));
    }
}

/// Whether `cmd` blocks.
pub(super) fn is_blocking(cmd: Cmd) -> bool {
    matches!(
        cmd,
        Cmd::BLPop
            | Cmd::BRPop
            | Cmd::BLMove
            | Cmd::BRPopLPush
            | Cmd::BLMPop
            | Cmd::BZPopMin
            | Cmd::BZPopMax
            | Cmd::BZMPop
    )
}

/// The keys of a blocking command (none for arguments it refuses), or
/// `None` if `cmd` does not block.
pub(super) fn keys_of<'a>(cmd: Cmd, command: &Command<'a>) -> Option<Vec<&'a [u8]>> {
    let all: Vec<&[u8]> = command.iter().collect();
    Some(match cmd {
        Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax => {
            all[1..all.len().saturating_sub(1).max(1)].to_vec()
        }
        Cmd::BLMove | Cmd::BRPopLPush => all[1..3].to_vec(),
        Cmd::BLMPop | Cmd::BZMPop => {
            let numkeys = commands::strings::parse_i64(command.at(2)).unwrap_or(0);
            match usize::try_from(numkeys) {
                Ok(n) if 3 + n <= all.len() => all[3..3 + n].to_vec(),
                _ => Vec::new(),
            }
        }
        _ => return None,
    })
}

/// A timeout as Redis reads one (seconds, a float); `None`: forever.
fn read_timeout(arg: &[u8]) -> Result<Option<Duration>, &'static str> {
    let Some(seconds) = parse_score(arg).filter(|s| s.is_finite()) else {
        return Err("ERR timeout is not a float or out of range");
    };
    if seconds < 0.0 {
        return Err("ERR timeout is negative");
    }
    let ms = (seconds * 1000.0) as u64;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

impl Resp {
    /// Serves a blocking command; its reply goes to `reply`.
    pub(super) async fn block(
        &self,
        session: &Session,
        peer_closed: impl Fn() -> bool,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        reply: &mut Vec<u8>,
    ) {
        let (inner, mut words, timeout) = non_blocking(cmd, command);
        let numkeys = (words.len() - 3).to_string();
        if matches!(cmd, Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax) {
            words[1] = numkeys.as_bytes();
        }
        // As Redis: BLMOVE reads its sides before its timeout, BLMPOP and
        // BZMPOP their timeout before the rest.
        let checked = match cmd {
            Cmd::BLMove => check(inner, &words).and_then(|()| read_timeout(timeout)),
            _ => read_timeout(timeout).and_then(|t| check(inner, &words).map(|()| t)),
        };
        let timeout = match checked {
            Ok(timeout) => timeout,
            Err(error) => return write::error(reply, error),
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut keys = keys_of(cmd, command).unwrap_or_default();
        let form = self.form(cmd, inner, &words, keys.len());
        keys = distinct(keys);
        if matches!(cmd, Cmd::BLMove | Cmd::BRPopLPush) {
            // A move waits on its source only.
            keys.truncate(1);
        }
        // The client queues on each key's owner in turn; an owner whose key
        // holds something (or a value of another type: WRONGTYPE, as
        // Redis checks each key in order before blocking) serves it at
        // once, and the keys after are not asked.
        let (waiter, replies) = Waiter::register(session.client.id, cmd, proto, form);
        let id = waiter.id.to_string();
        let mut queued = Vec::with_capacity(keys.len());
        for key in &keys {
            if waiter.claimed() {
                break;
            }
            let owner = owner_of(key, self.shards);
            let args = [id.as_bytes(), key];
            self.on_shard(owner, Cmd::BlockOn, &args, Proto::Resp2, now_ms())
                .await;
            queued.push(*key);
        }
        if keys.len() == 1 && waiter.claimed() {
            // Its one owner served it, and left it out of the key's queue.
            queued.clear();
        }
        let blocked = (!waiter.claimed()).then(|| Blocked::new(&self.here));
        let served = loop {
            let now = Instant::now();
            let left = deadline.map_or(MAX_WAIT, |d| d.saturating_duration_since(now));
            let tick = left.min(MAX_WAIT);
            let got = futures_lite::future::or(async { replies.recv_async().await.ok() }, async {
                glommio::timer::sleep(tick).await;
                None
            })
            .await;
            if got.is_some() {
                break got;
            }
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            // A client gone (or killed) waits no more: its reply goes nowhere.
            let gone = session.client.outbox.has_overflowed() || peer_closed();
            let stopping = self.stop.server_stopping();
            if expired || gone || stopping {
                // An owner that claimed it first has sent, or is sending,
                // its element: take it rather than lose it.
                break if waiter.claim() {
                    None
                } else {
                    replies.recv_async().await.ok()
                };
            }
        };
        drop(blocked);
        drop(waiter);
        if !self.stop.server_stopping() {
            for key in &queued {
                let owner = owner_of(key, self.shards);
                let args = [id.as_bytes(), key];
                self.on_shard(owner, Cmd::Unblock, &args, Proto::Resp2, now_ms())
                    .await;
            }
        }
        match served {
            None => write::null_array(reply, proto),
            Some(Served::Reply(got)) => reply.extend_from_slice(&got),
            Some(Served::Moved(item, moving)) => {
                let chain = moving.chain().to_string();
                self.finish_move(cmd, command, &item, &chain, reply).await;
                // In its destination (or back in its source): the push that
                // woke this client may answer.
                drop(moving);
            }
        }
    }

    /// The one-key form an owner runs to serve this client (`waiter.rs`):
    /// `words` is the non-blocking command over its `numkeys` keys.
    fn form(&self, cmd: Cmd, inner: Cmd, words: &[&[u8]], numkeys: usize) -> Form {
        let owned = |words: &[&[u8]]| words.iter().map(|w| w.to_vec()).collect();
        match inner {
            Cmd::LMPop | Cmd::ZMPop => {
                let rest = &words[2 + numkeys..];
                let one: Vec<&[u8]> = [&words[..1], &[b"1", b""], rest].concat();
                Form {
                    inner,
                    words: owned(&one),
                    key_at: 2,
                    kind: if inner == Cmd::LMPop {
                        Kind::List
                    } else {
                        Kind::ZSet
                    },
                }
            }
            _ => {
                let (src, dst) = (words[1], words[2]);
                let same_owner = owner_of(src, self.shards) == owner_of(dst, self.shards);
                if same_owner {
                    return Form {
                        inner,
                        words: owned(words),
                        key_at: 1,
                        kind: Kind::List,
                    };
                }
                // The destination is another shard's: the source's owner
                // pops, this connection pushes (as LMOVE over two shards
                // does, `gather.rs`).
                let (from_tail, _) = move_sides(cmd, words);
                Form {
                    inner: if from_tail { Cmd::RPop } else { Cmd::LPop },
                    words: owned(&[if from_tail { b"rpop" } else { b"lpop" }, b""]),
                    key_at: 1,
                    kind: Kind::List,
                }
            }
        }
    }

    /// BLMOVE or BRPOPLPUSH whose destination another shard owns: `item`,
    /// popped for it from the source, goes to the destination. A
    /// destination of another type refuses it (WRONGTYPE, as Redis answers
    /// a client woken to a destination of another type) and the item goes
    /// back where it came from.
    ///
    /// Both pushes are `INTERNAL-MOVE-PUSH`es of the move's `chain`, so that
    /// the moves they wake belong to it (`moves_in_flight.rs`).
    async fn finish_move(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        item: &[u8],
        chain: &str,
        reply: &mut Vec<u8>,
    ) {
        let words: Vec<&[u8]> = command.iter().collect();
        let (src, dst) = (words[1], words[2]);
        let (from_tail, to_tail) = move_sides(cmd, &words);
        let side = |tail: bool| if tail { &b"rpush"[..] } else { &b"lpush"[..] };
        let owner = owner_of(dst, self.shards);
        let args = [chain.as_bytes(), side(to_tail), dst, item];
        let pushed = self
            .on_shard(owner, Cmd::MovePush, &args, Proto::Resp2, now_ms())
            .await;
        if pushed.first() != Some(&b'-') {
            return write::bulk(reply, item);
        }
        let owner = owner_of(src, self.shards);
        let args = [chain.as_bytes(), side(from_tail), src, item];
        self.on_shard(owner, Cmd::MovePush, &args, Proto::Resp2, now_ms())
            .await;
        reply.extend_from_slice(&pushed);
    }
}

/// `keys` without repeats, in order (`BLPOP a b a` waits on a and b once, as
/// Redis's `blockForKeys` does).
fn distinct(keys: Vec<&[u8]>) -> Vec<&[u8]> {
    let mut seen = Vec::with_capacity(keys.len());
    for key in keys {
        if !seen.contains(&key) {
            seen.push(key);
        }
    }
    seen
}

/// A move's sides (whether from the tail, whether to the tail), from its
/// words (the blocking command's or its non-blocking form's: the sides sit
/// at 3 and 4 in both).
fn move_sides(cmd: Cmd, words: &[&[u8]]) -> (bool, bool) {
    match cmd {
        Cmd::BRPopLPush => (true, false),
        _ => (
            words
                .get(3)
                .and_then(|w| commands::list_move::side(w))
                .unwrap_or(false),
            words
                .get(4)
                .and_then(|w| commands::list_move::side(w))
                .unwrap_or(false),
        ),
    }
}
