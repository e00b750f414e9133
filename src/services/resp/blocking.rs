//! The blocking list and sorted set commands (issue 27): BLPOP, BRPOP,
//! BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, served alone on
//! the connection's shard. Each try runs the command's non-blocking form
//! (LMPOP, LMOVE, ZMPOP...) where its keys live, one shard or several, as a
//! client's command runs; while nothing is there, the connection waits and
//! tries again, every millisecond at first, backing off to every
//! [`MAX_WAIT`], until something pops, the timeout passes (a null reply,
//! as Redis's), the client is killed or disconnects, or the server stops.
//!
//! What differs from Redis (README): a push wakes a blocked client at its
//! next try, not at once, and blocked clients are served in the order they
//! try, not in the order they blocked.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::*;
use commands::collections::{parse_score, score};

/// The longest wait between two tries.
const MAX_WAIT: Duration = Duration::from_millis(10);

thread_local! {
    /// Connections of this shard blocked now (INFO's `blocked_clients`).
    static BLOCKED: Cell<u64> = const { Cell::new(0) };
}

/// This shard's blocked connections.
pub fn blocked() -> u64 {
    BLOCKED.with(Cell::get)
}

/// Counts a connection blocked while it lives.
struct Blocked;

impl Blocked {
    fn new() -> Blocked {
        BLOCKED.with(|n| n.set(n.get() + 1));
        Blocked
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        BLOCKED.with(|n| n.set(n.get().saturating_sub(1)));
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

/// The non-blocking command a blocking one tries, as words, and its
/// timeout argument.
fn non_blocking<'a>(cmd: Cmd, command: &Command<'a>) -> (Cmd, Vec<&'a [u8]>, &'a [u8]) {
    let all: Vec<&[u8]> = command.iter().collect();
    let last = all.len() - 1;
    match cmd {
        Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax => {
            let (inner, side): (Cmd, &[u8]) = match cmd {
                Cmd::BLPop => (Cmd::LMPop, b"LEFT"),
                Cmd::BRPop => (Cmd::LMPop, b"RIGHT"),
                Cmd::BZPopMin => (Cmd::ZMPop, b"MIN"),
                _ => (Cmd::ZMPop, b"MAX"),
            };
            let keys = &all[1..last];
            let mut words: Vec<&[u8]> = vec![commands::NAMES[inner as usize].as_bytes()];
            words.push(b"");
            words.extend_from_slice(keys);
            words.push(side);
            (inner, words, all[last])
        }
        Cmd::BLMove => (
            Cmd::LMove,
            [&[&b"lmove"[..]][..], &all[1..last]].concat(),
            all[last],
        ),
        Cmd::BRPopLPush => (
            Cmd::RPopLPush,
            [&[&b"rpoplpush"[..]][..], &all[1..last]].concat(),
            all[last],
        ),
        Cmd::BLMPop => (
            Cmd::LMPop,
            [&[&b"lmpop"[..]][..], &all[2..]].concat(),
            all[1],
        ),
        _ => (
            Cmd::ZMPop,
            [&[&b"zmpop"[..]][..], &all[2..]].concat(),
            all[1],
        ),
    }
}

/// The non-blocking form of a blocking command, ready to try: its
/// command, its words, the protocol it asks in (BLPOP and BZPOP* ask for
/// RESP2 and reshape the reply), and the timeout argument.
fn try_form<'a>(
    cmd: Cmd,
    command: &Command<'a>,
    proto: Proto,
) -> (Cmd, protocol::Args, Proto, &'a [u8]) {
    let (inner, mut words, timeout) = non_blocking(cmd, command);
    let numkeys = (words.len() - 3).to_string();
    let pops = matches!(cmd, Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax);
    if pops {
        words[1] = numkeys.as_bytes();
    }
    let mut args = protocol::Args::unbounded();
    args.set_words(&words);
    (
        inner,
        args,
        if pops { Proto::Resp2 } else { proto },
        timeout,
    )
}

fn is_null(reply: &[u8]) -> bool {
    matches!(reply, b"*-1\r\n" | b"_\r\n" | b"$-1\r\n")
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
        let (inner, args, asked, timeout) = try_form(cmd, command, proto);
        let timeout = match read_timeout(timeout) {
            Ok(timeout) => timeout,
            Err(error) => return write::error(reply, error),
        };
        let try_command = args.view(&[]);
        let deadline = timeout.map(|t| Instant::now() + t);
        let _blocked = Blocked::new();
        let mut wait = Duration::from_millis(1);
        let mut first = true;
        loop {
            let now = now_ms();
            let got = self.try_once(inner, &try_command, asked, now).await;
            // A key of another type refuses the command when it first runs;
            // once blocked, the client waits on (as Redis serves a blocked
            // client only from a key of its type).
            let mut wrong_type = got.starts_with(b"-WRONGTYPE");
            if wrong_type && !first && matches!(cmd, Cmd::BLMove | Cmd::BRPopLPush) {
                // The source is a list now: the destination refused the
                // move, which Redis answers (the item stays in the source).
                let src = command.at(1);
                let shard = owner_of(src, self.shards);
                let kind = self
                    .on_shard(shard, Cmd::Type, &[src], Proto::Resp2, now)
                    .await;
                wrong_type = kind != b"+list\r\n";
            }
            if got.first() == Some(&b'-') && (first || !wrong_type) {
                return reply.extend_from_slice(&got);
            }
            first = false;
            // A key of another type then waits as an empty key does.
            if !wrong_type && !is_null(&got) {
                return reshape(cmd, &got, proto, reply);
            }
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            // A client gone (or killed) waits no more: its reply goes nowhere.
            let gone = session.client.outbox.has_overflowed() || peer_closed();
            if expired || gone || self.stop.server_stopping() {
                return write::null_array(reply, proto);
            }
            glommio::timer::sleep(wait).await;
            wait = (wait * 2).min(MAX_WAIT);
        }
    }

    /// A blocking command in a transaction: its non-blocking form, tried
    /// once, as Redis runs it inside MULTI.
    pub(super) async fn block_once(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let (inner, args, asked, _) = try_form(cmd, command, proto);
        let got = self.try_once(inner, &args.view(&[]), asked, now).await;
        if got.first() == Some(&b'-') {
            reply.extend_from_slice(&got);
        } else if is_null(&got) && matches!(cmd, Cmd::BLMove | Cmd::BRPopLPush) {
            write::null(reply, proto);
        } else if is_null(&got) {
            write::null_array(reply, proto);
        } else {
            reshape(cmd, &got, proto, reply);
        }
    }

    /// One try of the non-blocking form, where its keys live.
    async fn try_once(&self, cmd: Cmd, command: &Command<'_>, proto: Proto, now: u64) -> Vec<u8> {
        let keys = gather::keys_of(cmd, command).unwrap_or_default();
        let first = keys
            .first()
            .map_or(self.shard, |k| owner_of(k, self.shards));
        if keys.iter().all(|k| owner_of(k, self.shards) == first) {
            let words: Vec<&[u8]> = command.iter().skip(1).collect();
            return self.on_shard(first, cmd, &words, proto, now).await;
        }
        let mut reply = Vec::new();
        self.gather(cmd, command, proto, now, &mut reply).await;
        reply
    }
}

/// BLPOP's `[key, item]` from LMPOP's `[key, [item]]`; BZPOPMIN's `[key,
/// member, score]` from ZMPOP's `[key, [[member, score]]]`; the others'
/// replies are their non-blocking form's.
fn reshape(cmd: Cmd, got: &[u8], proto: Proto, out: &mut Vec<u8>) {
    use protocol::Value;
    if !matches!(cmd, Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax) {
        return out.extend_from_slice(got);
    }
    let Ok(Some((Value::Array(Some(parts)), _))) = protocol::parse_reply(got) else {
        return write::error(out, "ERR internal: a pop's reply could not be read");
    };
    let (Some(Value::Bulk(Some(key))), Some(Value::Array(Some(items)))) =
        (parts.first(), parts.get(1))
    else {
        return write::error(out, "ERR internal: a pop's reply could not be read");
    };
    match items.first() {
        Some(Value::Bulk(Some(item))) => {
            write::array_len(out, 2);
            write::bulk(out, key);
            write::bulk(out, item);
        }
        Some(Value::Array(Some(pair))) => {
            let (Some(Value::Bulk(Some(member))), Some(Value::Bulk(Some(text)))) =
                (pair.first(), pair.get(1))
            else {
                return write::error(out, "ERR internal: a pop's reply could not be read");
            };
            write::array_len(out, 3);
            write::bulk(out, key);
            write::bulk(out, member);
            match parse_score(text) {
                Some(s) => score(out, s, proto),
                None => write::bulk(out, text),
            }
        }
        _ => write::error(out, "ERR internal: a pop's reply could not be read"),
    }
}

/// A blocking command inside MULTI/EXEC, run on its keys' owner: it does
/// not block, as in Redis: it pops what is there, or answers null.
pub(super) fn run_once(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut Keys<'_>,
    proto: Proto,
    shard: (usize, usize),
    out: &mut Vec<u8>,
) {
    let (inner, mut words, _) = non_blocking(cmd, command);
    let numkeys = (words.len() - 3).to_string();
    let reshaped = matches!(cmd, Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax);
    if reshaped {
        words[1] = numkeys.as_bytes();
    }
    let mut args = protocol::Args::unbounded();
    args.set_words(&words);
    let mut got = Vec::new();
    let asked = if reshaped { Proto::Resp2 } else { proto };
    execute(inner, &args.view(&[]), keys, asked, shard, &mut got);
    if got.first() == Some(&b'-') {
        out.extend_from_slice(&got);
    } else if is_null(&got) {
        write::null_array(out, proto);
    } else {
        reshape(cmd, &got, proto, out);
    }
}
