//! The round engine as pure state (`round.rs`), with a protocol of lines:
//! a reply is a line, an error starts with `-`, parts merge by joining.

use super::*;
use percore::codec::{encode_frame, LengthPrefixed};

struct Lines;

impl Replies for Lines {
    type Merge = ();
    const FRAME_IS_REPLY: bool = false;
    const SHARD_GONE: &'static [u8] = b"-gone\n";

    fn is_error(reply: &[u8]) -> bool {
        reply.first() == Some(&b'-')
    }

    fn reply_len(replies: &[u8]) -> Option<usize> {
        replies.iter().position(|&b| b == b'\n').map(|at| at + 1)
    }

    fn disk_error(out: &mut Vec<u8>, reason: &str) {
        out.extend_from_slice(format!("-disk {reason}\n").as_bytes());
    }

    fn merge((): (), parts: &[&[u8]], out: &mut Vec<u8>) {
        let joined: Vec<&[u8]> = parts.iter().map(|part| part.trim_ascii_end()).collect();
        out.extend_from_slice(&joined.join(&b'+'));
        out.push(b'\n');
    }
}

/// The replies of one owner, each in a frame, as the owner sends them.
fn owner_replies(replies: &[&str]) -> Vec<u8> {
    let mut message = Vec::new();
    for reply in replies {
        encode_frame(reply.as_bytes(), &mut message);
    }
    message
}

/// Runs `plan` against a batch of no requests and returns its output after
/// `complete`, with how many replies it counted as served and failed.
fn complete(
    round: &mut Round<Lines>,
    direct: &[u8],
    replies: &[Vec<u8>],
    committed: Result<(), String>,
) -> (Vec<u8>, u64, u64) {
    let (mut decoder, mut out) = (LengthPrefixed, direct.to_vec());
    let mut batch = Batch::new(&[], &mut decoder, 1 << 20, &mut out);
    round.complete(replies, committed, &mut batch, 0);
    let counts = batch.counts();
    (out, counts.0, counts.1)
}

#[test]
fn replies_go_straight_out_until_the_round_forwards_then_in_request_order() {
    let mut round = Round::<Lines>::default();
    round.begin(3);
    let mut out = Vec::new();
    round.here(&mut out, |out| out.extend_from_slice(b"a\n"));
    assert_eq!(out, b"a\n", "before forwarding, a reply is written at once");
    round.forward(1, Vec::new, |body| body.extend_from_slice(b"get x"));
    round.here(&mut out, |out| out.extend_from_slice(b"b\n"));
    round.forward(2, Vec::new, |body| body.extend_from_slice(b"get y"));
    round.forward(1, Vec::new, |body| body.extend_from_slice(b"get z"));
    assert_eq!(out, b"a\n", "once forwarding, replies are kept");
    assert_eq!(round.held(), 2);
    assert_eq!(round.forwarded(), 3);
    assert_eq!(round.outbox(1), owner_replies(&["get x", "get z"]));

    let replies = [
        Vec::new(),
        owner_replies(&["x\n", "-z\n"]),
        owner_replies(&["y\n"]),
    ];
    let (out, served, failed) = complete(&mut round, &out, &replies, Ok(()));
    assert_eq!(out, b"a\nx\nb\ny\n-z\n");
    // The direct reply was counted by its caller; the rest here.
    assert_eq!((served, failed), (3, 1));
}

#[test]
fn a_merge_takes_the_parts_that_follow_it_wherever_they_ran() {
    let mut round = Round::<Lines>::default();
    round.begin(3);
    round.merge((), 3);
    round.forward(1, Vec::new, |body| body.extend_from_slice(b"keys"));
    round.here(&mut Vec::new(), |out| out.extend_from_slice(b"mine\n"));
    round.forward(2, Vec::new, |body| body.extend_from_slice(b"keys"));
    let replies = [
        Vec::new(),
        owner_replies(&["one\n"]),
        owner_replies(&["two\n"]),
    ];
    let (out, served, failed) = complete(&mut round, b"", &replies, Ok(()));
    assert_eq!(out, b"one+mine+two\n");
    assert_eq!((served, failed), (1, 0));
}

#[test]
fn a_shard_that_sent_nothing_is_answered_for() {
    let mut round = Round::<Lines>::default();
    round.begin(2);
    round.forward(1, Vec::new, |body| body.extend_from_slice(b"get x"));
    let (out, served, failed) = complete(&mut round, b"", &[Vec::new(), Vec::new()], Ok(()));
    assert_eq!(out, b"-gone\n");
    assert_eq!((served, failed), (0, 1));
}

#[test]
fn a_failed_commit_fails_every_reply_made_here_and_keeps_the_owners() {
    let mut round = Round::<Lines>::default();
    round.begin(2);
    let mut out = Vec::new();
    round.here(&mut out, |out| out.extend_from_slice(b"ok\n"));
    round.here(&mut out, |out| out.extend_from_slice(b"-was an error\n"));
    round.forward(1, Vec::new, |body| body.extend_from_slice(b"set x"));
    round.here(&mut out, |out| out.extend_from_slice(b"ok\n"));
    let replies = [Vec::new(), owner_replies(&["ok\n"])];
    let (mut decoder, mut output) = (LengthPrefixed, out);
    let mut batch = Batch::new(&[], &mut decoder, 1 << 20, &mut output);
    // The two direct replies were counted as their callers made them.
    batch.served();
    batch.failed();
    round.complete(&replies, Err("full".into()), &mut batch, 0);
    assert_eq!(batch.counts(), (1, 3));
    assert_eq!(output, b"-disk full\n-disk full\nok\n-disk full\n");
}

#[test]
fn fail_replies_counts_the_replies_that_were_not_errors() {
    let mut out = b"before\nok\n-no\nok\n".to_vec();
    assert_eq!(fail_replies::<Lines>(&mut out, 7, "full"), 2);
    assert_eq!(out, b"before\n-disk full\n-disk full\n-disk full\n");
}
