//! The blocking commands' non-blocking forms (issue 27): the command each
//! one runs where its keys live (BLPOP's LMPOP, BZPOPMIN's ZMPOP, BLMOVE's
//! LMOVE...), its reply reshaped to the blocking command's, and the
//! blocking command inside MULTI/EXEC, which does not block (as in Redis).

use super::*;
use commands::collections::{parse_score, score};

/// The non-blocking command a blocking one tries, as words, and its
/// timeout argument.
pub(super) fn non_blocking<'a>(cmd: Cmd, command: &Command<'a>) -> (Cmd, Vec<&'a [u8]>, &'a [u8]) {
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

/// The errors the non-blocking form `inner` answers to its arguments
/// `words` whatever its keys hold (a side, a count, numkeys), checked
/// before the client blocks.
pub(super) fn check(inner: Cmd, words: &[&[u8]]) -> Result<(), &'static str> {
    let mut args = protocol::Args::unbounded();
    args.set_words(words);
    let command = args.view(&[]);
    match inner {
        Cmd::LMPop => commands::list_move::lmpop_args(&command).map(|_| ()),
        Cmd::ZMPop => commands::zset_multi::zmpop_args(&command).map(|_| ()),
        Cmd::LMove => match (
            commands::list_move::side(command.at(3)),
            commands::list_move::side(command.at(4)),
        ) {
            (Some(_), Some(_)) => Ok(()),
            _ => Err(commands::strings::SYNTAX),
        },
        _ => Ok(()),
    }
}

pub(super) fn is_null(reply: &[u8]) -> bool {
    matches!(reply, b"*-1\r\n" | b"_\r\n" | b"$-1\r\n")
}

/// BLPOP's `[key, item]` from LMPOP's `[key, [item]]`; BZPOPMIN's `[key,
/// member, score]` from ZMPOP's `[key, [[member, score]]]`; the others'
/// replies are their non-blocking form's.
pub(super) fn reshape(cmd: Cmd, got: &[u8], proto: Proto, out: &mut Vec<u8>) {
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

/// The non-blocking form of a blocking command, ready to run: its
/// command, its arguments, and the protocol it is asked in (BLPOP's and
/// BZPOP*'s replies are reshaped from RESP2).
fn once_form(cmd: Cmd, command: &Command<'_>, proto: Proto) -> (Cmd, protocol::Args, Proto) {
    let (inner, mut words, _) = non_blocking(cmd, command);
    let numkeys = (words.len() - 3).to_string();
    let reshaped = matches!(cmd, Cmd::BLPop | Cmd::BRPop | Cmd::BZPopMin | Cmd::BZPopMax);
    if reshaped {
        words[1] = numkeys.as_bytes();
    }
    let mut args = protocol::Args::unbounded();
    args.set_words(&words);
    (inner, args, if reshaped { Proto::Resp2 } else { proto })
}

/// The blocking command's reply from its non-blocking form's, `got`: an
/// error as it is, nothing popped as Redis answers a blocking command that
/// may not block (a null bulk for the moves, a null array for the pops).
fn answer_once(cmd: Cmd, got: &[u8], proto: Proto, out: &mut Vec<u8>) {
    if got.first() == Some(&b'-') {
        out.extend_from_slice(got);
    } else if is_null(got) && matches!(cmd, Cmd::BLMove | Cmd::BRPopLPush) {
        write::null(out, proto);
    } else if is_null(got) {
        write::null_array(out, proto);
    } else {
        reshape(cmd, got, proto, out);
    }
}

/// A blocking command inside MULTI/EXEC, run on its keys' owner: it does
/// not block, as in Redis: it pops what is there, or answers null.
pub(super) fn run_once(
    cmd: Cmd,
    command: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    shard: &RespShard,
    out: &mut Vec<u8>,
) {
    let (inner, args, asked) = once_form(cmd, command, proto);
    let mut got = Vec::new();
    execute(inner, &args.view(&[]), keys, asked, shard, &mut got);
    answer_once(cmd, &got, proto, out);
}

impl Resp {
    /// A blocking command inside a MULTI/EXEC whose keys span shards
    /// (`exec_across.rs`): its non-blocking form, tried once where its keys
    /// live, as Redis runs it inside MULTI.
    pub(super) async fn block_once(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let (inner, args, asked) = once_form(cmd, command, proto);
        let try_command = args.view(&[]);
        let keys = gather::keys_of(inner, &try_command).unwrap_or_default();
        let first = keys
            .first()
            .map_or(self.shard, |k| owner_of(k, self.shards));
        let got = if keys.iter().all(|k| owner_of(k, self.shards) == first) {
            let words: Vec<&[u8]> = try_command.iter().skip(1).collect();
            self.on_shard(first, inner, &words, asked, now).await
        } else {
            let mut got = Vec::new();
            self.gather(inner, &try_command, asked, now, &mut got).await;
            got
        };
        answer_once(cmd, &got, proto, reply);
    }
}
