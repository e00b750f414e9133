//! LCS: the longest common subsequence of two strings, with redis-server
//! 7.0's replies (the subsequence; LEN: its length; IDX: the matching
//! ranges, from the end, with MINMATCHLEN and WITHMATCHLEN). Computed as
//! redis does, with its table of (len_a + 1) * (len_b + 1) lengths, refused
//! past 512 MiB as redis refuses it past `proto-max-bulk-len`. With both
//! keys on one shard it runs there ([`run`]); else the service reads both
//! values on their owners and calls [`reply`].

use super::super::protocol::write::{self, Proto};
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};
use crate::kv::values::Kind;
use crate::resp::protocol::Command;
use percore_keyspace::write::ShardKeys;

/// Redis's reply to LCS over a key of another type (not WRONGTYPE).
pub const NOT_STRINGS: &str = "ERR The specified keys must contain string values";
const BOTH: &str = "ERR If you want both the length and indexes, please just use IDX.";
const TOO_LONG: &str = "ERR String too long for LCS";
const TOO_MUCH_MEMORY: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
/// Redis's `proto-max-bulk-len`: the most its table may take.
const MAX_TABLE_BYTES: u64 = 512 * 1024 * 1024;

/// LCS's options.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

/// The options of `LCS a b [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`, or
/// the error to answer.
pub fn options(args: &Command<'_>) -> Result<Options, &'static str> {
    let mut options = Options::default();
    let mut j = 3;
    while j < args.len() {
        let opt = args.at(j);
        let more = args.len() - 1 - j;
        if opt.eq_ignore_ascii_case(b"idx") {
            options.idx = true;
        } else if opt.eq_ignore_ascii_case(b"len") {
            options.len = true;
        } else if opt.eq_ignore_ascii_case(b"withmatchlen") {
            options.with_match_len = true;
        } else if opt.eq_ignore_ascii_case(b"minmatchlen") && more > 0 {
            let n = parse_i64(args.at(j + 1)).ok_or(NOT_INTEGER)?;
            options.min_match_len = n.max(0) as u64;
            j += 1;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    if options.len && options.idx {
        return Err(BOTH);
    }
    Ok(options)
}

/// `LCS a b ...` with both keys on this shard.
pub fn run(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    // The keys' types are checked before the options, as Redis does.
    if (1..3).any(|i| keys.wrong_type(args.at(i), Kind::String)) {
        return write::error(out, NOT_STRINGS);
    }
    match options(args) {
        Err(error) => write::error(out, error),
        Ok(options) => {
            let a = keys.get(args.at(1)).unwrap_or_default();
            let b = keys.get(args.at(2)).unwrap_or_default();
            reply(a, b, options, proto, out);
        }
    }
}

/// The reply to LCS of `a` and `b` (a missing key: empty).
pub fn reply(a: &[u8], b: &[u8], options: Options, proto: Proto, out: &mut Vec<u8>) {
    if a.len() as u64 >= u64::from(u32::MAX) - 1 || b.len() as u64 >= u64::from(u32::MAX) - 1 {
        return write::error(out, TOO_LONG);
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > MAX_TABLE_BYTES {
        return write::error(out, TOO_MUCH_MEMORY);
    }
    // lcs[i * (blen + 1) + j]: the LCS length of a[..i] and b[..j].
    let width = blen + 1;
    let mut lcs = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            lcs[i * width + j] = if a[i - 1] == b[j - 1] {
                lcs[(i - 1) * width + j - 1] + 1
            } else {
                lcs[(i - 1) * width + j].max(lcs[i * width + j - 1])
            };
        }
    }
    let total = lcs[alen * width + blen];
    if options.len {
        return write::int(out, i64::from(total));
    }
    // Walk back from the end, as redis does, collecting the subsequence
    // and the ranges of contiguous matches.
    let mut result = vec![0u8; total as usize];
    let mut ranges: Vec<[u64; 5]> = Vec::new();
    let mut idx = total as usize;
    let (mut i, mut j) = (alen, blen);
    // (a_start, a_end, b_start, b_end) of the range being grown; None: none.
    let mut range: Option<(usize, usize, usize, usize)> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            match &mut range {
                None => range = Some((i - 1, i - 1, j - 1, j - 1)),
                Some((a_start, _, b_start, _)) if *a_start == i && *b_start == j => {
                    *a_start -= 1;
                    *b_start -= 1;
                }
                Some(_) => emit = true,
            }
            if range.is_some_and(|(a_start, _, b_start, _)| a_start == 0 || b_start == 0) {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if lcs[(i - 1) * width + j] > lcs[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit |= range.is_some();
        }
        if emit {
            if let Some((a_start, a_end, b_start, b_end)) = range.take() {
                let len = (a_end - a_start + 1) as u64;
                if options.min_match_len == 0 || len >= options.min_match_len {
                    ranges.push([
                        a_start as u64,
                        a_end as u64,
                        b_start as u64,
                        b_end as u64,
                        len,
                    ]);
                }
            }
        }
    }
    if !options.idx {
        return write::bulk(out, &result);
    }
    write::map_len(out, 2, proto);
    write::bulk(out, b"matches");
    write::array_len(out, ranges.len());
    for [a_start, a_end, b_start, b_end, len] in ranges {
        write::array_len(out, 2 + usize::from(options.with_match_len));
        write::array_len(out, 2);
        write::int(out, a_start as i64);
        write::int(out, a_end as i64);
        write::array_len(out, 2);
        write::int(out, b_start as i64);
        write::int(out, b_end as i64);
        if options.with_match_len {
            write::int(out, len as i64);
        }
    }
    write::bulk(out, b"len");
    write::int(out, i64::from(total));
}
