//! kv's routing of a round, as pure state (`route.rs`).

use super::*;
use crate::kv::protocol::{push_nil_frame, push_request_frame};
use crate::kv::Store;
use percore_keyspace::Marks;

fn requests(list: &[Request<'_>]) -> Vec<u8> {
    let mut wire = Vec::new();
    for request in list {
        push_request_frame(&mut wire, request);
    }
    wire
}

/// Shard 0 of `shards`, at time 0, with no log.
fn shard_zero(store: &SharedStore, shards: usize) -> ThisShard<'_> {
    ThisShard {
        store,
        log: None,
        now: 0,
        here: 0,
        shards,
    }
}

/// A key that `shard` of `shards` owns.
fn key_of(shard: usize, shards: usize) -> String {
    (0..)
        .map(|i| format!("k{i}"))
        .find(|key| owner_of(key.as_bytes(), shards) == shard)
        .unwrap()
}

#[test]
fn local_keys_are_answered_and_others_gathered_per_owner_in_order() {
    let (mine, theirs) = (key_of(0, 2), key_of(1, 2));
    let wire = requests(&[
        Request::Put {
            key: &mine,
            val: "a",
        },
        Request::Get { key: &theirs },
        Request::Get { key: &mine },
    ]);
    let store = SharedStore::default();
    let (mut decoder, mut out) = (LengthPrefixed, Vec::new());
    let mut batch = Batch::new(&wire, &mut decoder, 1 << 20, &mut out);
    let mut plan = RoundPlan::default();
    let end = plan_round(&mut plan, &mut batch, shard_zero(&store, 2), Vec::new);
    assert_eq!((end, plan.forwarded()), (RoundEnd::Whole, 1));
    assert!(plan.outbox(0).is_empty());
    // Forwarded in the owner's form (`forwarded.rs`).
    let mut forwarded = Vec::new();
    let start = percore::codec::begin_frame(&mut forwarded);
    push_forwarded(&mut forwarded, &Request::Get { key: &theirs });
    percore::codec::end_frame(&mut forwarded, start);
    assert_eq!(plan.outbox(1), forwarded);

    // The owner answers; the replies come back in request order.
    let mut owner_reply = Vec::new();
    apply(
        &mut ShardKeys::new(&mut Store::default(), &Marks::default(), None, 0),
        Request::Get { key: &theirs }.into(),
        &mut owner_reply,
    );
    let replies = [Vec::new(), owner_reply.clone()];
    plan.complete(&replies, Ok(()), &mut batch, 0);
    let answer = std::mem::take(batch.out());
    let mut expected = Vec::new();
    apply(
        &mut ShardKeys::new(&mut Store::default(), &Marks::default(), None, 0),
        Request::Put { key: "x", val: "a" }.into(),
        &mut expected,
    );
    expected.extend_from_slice(&owner_reply);
    store.with_mut(|keys| {
        apply(
            &mut ShardKeys::new(keys, store.marks(), None, 0),
            Request::Get { key: &mine }.into(),
            &mut expected,
        )
    });
    assert_eq!(answer, expected);
}

#[test]
fn a_round_is_cut_after_its_share_of_unsized_replies() {
    let theirs = key_of(1, 2);
    let gets: Vec<Request<'_>> = (0..UNSIZED_REPLIES_PER_ROUND + 5)
        .map(|_| Request::Get { key: &theirs })
        .collect();
    let wire = requests(&gets);
    let store = SharedStore::default();
    let (mut decoder, mut out) = (LengthPrefixed, Vec::new());
    let mut batch = Batch::new(&wire, &mut decoder, 1 << 20, &mut out);
    let mut plan = RoundPlan::default();
    let first = plan_round(&mut plan, &mut batch, shard_zero(&store, 2), Vec::new);
    assert_eq!(
        (first, plan.forwarded()),
        (RoundEnd::Cut, UNSIZED_REPLIES_PER_ROUND as u64)
    );
    let second = plan_round(&mut plan, &mut batch, shard_zero(&store, 2), Vec::new);
    assert_eq!((second, plan.forwarded()), (RoundEnd::Whole, 5));
}

#[test]
fn a_failed_commit_fails_the_replies_made_here_and_keeps_the_owners() {
    let (mine, theirs) = (key_of(0, 2), key_of(1, 2));
    let wire = requests(&[
        Request::Put {
            key: &mine,
            val: "a",
        },
        Request::Put {
            key: &theirs,
            val: "b",
        },
        Request::ListKeys,
    ]);
    let store = SharedStore::default();
    let (mut decoder, mut out) = (LengthPrefixed, Vec::new());
    let mut batch = Batch::new(&wire, &mut decoder, 1 << 20, &mut out);
    let mut plan = RoundPlan::default();
    plan_round(&mut plan, &mut batch, shard_zero(&store, 2), Vec::new);
    // The Put and the ListKeys were answered here: their writes are taken
    // back.
    let mut owner = Vec::new();
    push_nil_frame(&mut owner);
    push_keys_frame(&mut owner, vec![theirs.as_bytes()]);
    let replies = [Vec::new(), owner];
    plan.complete(&replies, Err("full".into()), &mut batch, 0);
    let answer = std::mem::take(batch.out());
    let mut expected = Vec::new();
    crate::kv::push_disk_error(&mut expected, "full");
    push_nil_frame(&mut expected);
    crate::kv::push_disk_error(&mut expected, "full");
    assert_eq!(answer, expected);
}

#[test]
fn list_keys_merges_every_shard_sorted() {
    let wire = requests(&[Request::ListKeys]);
    let store = SharedStore::default();
    store.with_mut(|store| store.load(b"b", b"1"));
    let (mut decoder, mut out) = (LengthPrefixed, Vec::new());
    let mut batch = Batch::new(&wire, &mut decoder, 1 << 20, &mut out);
    let mut plan = RoundPlan::default();
    plan_round(&mut plan, &mut batch, shard_zero(&store, 3), Vec::new);
    assert_eq!(plan.forwarded(), 2);
    let reply_with = |keys: &[&[u8]]| {
        let mut frame = Vec::new();
        push_keys_frame(&mut frame, keys.to_vec());
        frame
    };
    let replies = [Vec::new(), reply_with(&[b"c"]), reply_with(&[b"a"])];
    plan.complete(&replies, Ok(()), &mut batch, 0);
    let answer = std::mem::take(batch.out());
    let mut expected = Vec::new();
    push_keys_frame(&mut expected, vec![b"a", b"b", b"c"]);
    assert_eq!(answer, expected);
}

#[test]
fn the_reply_in_place_of_a_gone_shards_is_kvs_error_frame() {
    let mut frame = Vec::new();
    push_error_frame(&mut frame, "the key's shard is unavailable");
    assert_eq!(KvReplies::SHARD_GONE, &frame[..]);
    assert!(KvReplies::is_error(KvReplies::SHARD_GONE));
}
