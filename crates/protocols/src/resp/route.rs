//! How resp's replies meet the key space's round engine
//! (`percore_keyspace::round`, which spreads a batch over the owner shards
//! and puts the replies back in order): what a resp reply looks like to it,
//! resp's disk error, and how the replies of a command's parts merge into
//! its one reply ([`Merge`]: DEL's sum, MGET's array, KEYS's concatenation,
//! ...).

use super::commands::Merge;
use super::protocol::write::{self, Proto};
use super::protocol::{parse_reply, Value};
use percore_keyspace::round::{Replies, Round};

/// resp's round: one per connection, its buffers reused.
pub type RoundPlan = Round<RespReplies>;

/// resp's replies, as the round engine sees them.
pub struct RespReplies;

impl Replies for RespReplies {
    /// How the parts merge, and in which protocol version the merged reply
    /// is written.
    type Merge = (Merge, Proto);
    /// An owner's reply frame wraps the RESP reply.
    const FRAME_IS_REPLY: bool = false;
    const SHARD_GONE: &'static [u8] = SHARD_GONE;

    fn is_error(reply: &[u8]) -> bool {
        reply.first() == Some(&b'-')
    }

    fn reply_len(replies: &[u8]) -> Option<usize> {
        super::protocol::reply_len(replies).ok().flatten()
    }

    fn disk_error(out: &mut Vec<u8>, reason: &str) {
        disk_error(out, reason)
    }

    fn merge((merge, proto): (Merge, Proto), parts: &[&[u8]], out: &mut Vec<u8>) {
        merge_replies(merge, parts, proto, out)
    }
}

/// resp's reply to a write that could not reach the disk (docs/PROTOCOLS.md §7.1).
fn disk_error(out: &mut Vec<u8>, reason: &str) {
    write::error(out, &format!("MISCONF disk: {reason}"));
}

/// In place of a reply a shard did not send (it is gone).
const SHARD_GONE: &[u8] = b"-ERR the key's shard is unavailable\r\n";

/// Merges the replies of a command's parts into its one reply.
pub fn merge_replies(merge: Merge, parts: &[&[u8]], proto: Proto, out: &mut Vec<u8>) {
    if merge != Merge::Array {
        if let Some(error) = parts.iter().find(|part| part.first() == Some(&b'-')) {
            out.extend_from_slice(error);
            return;
        }
    }
    match merge {
        Merge::Array => {
            write::array_len(out, parts.len());
            parts.iter().for_each(|part| out.extend_from_slice(part));
        }
        Merge::Sum => {
            let sum: i64 = parts
                .iter()
                .filter_map(|part| match parse_reply(part) {
                    Ok(Some((Value::Int(n), _))) => Some(n),
                    _ => None,
                })
                .sum();
            write::int(out, sum);
        }
        Merge::AllOk => match parts.first() {
            Some(first) => out.extend_from_slice(first),
            None => write::ok(out),
        },
        Merge::Concat => {
            let mut total = 0;
            let mut bodies: Vec<&[u8]> = Vec::with_capacity(parts.len());
            for part in parts {
                if let Some((len, body)) = array_body(part) {
                    total += len;
                    bodies.push(body);
                }
            }
            write::array_len(out, total);
            bodies.iter().for_each(|body| out.extend_from_slice(body));
        }
        Merge::AnyNonNull => {
            let found: Vec<&&[u8]> = parts
                .iter()
                .filter(|part| {
                    !matches!(part.first(), Some(b'_') | None) && !part.starts_with(b"$-1")
                })
                .collect();
            match found.len() {
                0 => write::null(out, proto),
                n => out.extend_from_slice(found[pick(n)]),
            }
        }
        Merge::Last => out.extend_from_slice(parts.last().copied().unwrap_or_default()),
        Merge::Text => {
            let mut text = Vec::new();
            for part in parts {
                if let Ok(Some((Value::Bulk(Some(bytes)), _))) = parse_reply(part) {
                    text.extend_from_slice(bytes);
                }
            }
            write::verbatim(out, &text, proto);
        }
    }
}

/// An array reply's element count and the bytes after its header.
fn array_body(reply: &[u8]) -> Option<(usize, &[u8])> {
    let rest = reply.strip_prefix(b"*")?;
    let end = rest.iter().position(|&b| b == b'\r')?;
    let len = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    Some((len, rest.get(end + 2..)?))
}

/// A number below `n`, at random enough for RANDOMKEY.
fn pick(n: usize) -> usize {
    use std::hash::{BuildHasher, RandomState};
    (RandomState::new().hash_one(n) % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use percore_keyspace::round;

    #[test]
    fn a_failed_commit_turns_every_resp_reply_made_here_into_the_disk_error() {
        let mut out = b"+before\r\n".to_vec();
        let from = out.len();
        out.extend_from_slice(b"+OK\r\n:3\r\n-OOM full\r\n$2\r\nab\r\n");
        assert_eq!(
            round::fail_replies::<RespReplies>(&mut out, from, "full"),
            3
        );
        assert_eq!(
            out,
            b"+before\r\n-MISCONF disk: full\r\n-MISCONF disk: full\r\n\
              -MISCONF disk: full\r\n-MISCONF disk: full\r\n"
                .to_vec()
        );
    }
}
