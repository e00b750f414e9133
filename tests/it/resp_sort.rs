//! resp's SORT and SORT_RO (issue 27): replies byte for byte equal to
//! redis-server 7.0's, in RESP2 and RESP3, on 4 shards, so that the sorted
//! key, its BY and GET patterns' keys and the STORE destination live on
//! different shards.

use crate::common::resp::{assert_same_replies, assert_sequence_same_as_redis, redis, Resp};
use crate::common::*;

/// Commands whose replies do not depend on time, ids or hash order (a set
/// is only ever read sorted).
const SEQUENCE: &[&str] = &[
    "RPUSH l 3 10 1 2 20 5",
    "SORT l",
    "SORT l DESC",
    "SORT l ALPHA",
    "SORT l ALPHA DESC LIMIT 1 3",
    "SORT l LIMIT 2 2",
    "SORT l LIMIT -5 2",
    "SORT l LIMIT 4 100",
    "SORT l LIMIT 9 1",
    "SORT l LIMIT 0 0",
    "SORT l LIMIT x 1",
    // BY string keys and hash fields, wherever they live; a missing
    // weight sorts as 0, ties by the element.
    "SET w_3 30",
    "SET w_10 -1",
    "SET w_1 1.5",
    "SET w_2 1.5",
    "SET w_20 inf",
    "HSET o_3 weight 3 name three",
    "HSET o_10 weight 1 name ten",
    "HSET o_20 weight 2",
    "SORT l BY w_*",
    "SORT l BY w_* DESC LIMIT 0 3",
    "SORT l BY o_*->weight",
    "SORT l BY o_*->weight ALPHA",
    "SORT l BY w_* GET # GET o_*->name GET w_* GET nosuch_*",
    "SORT l BY w_* GET nostar",
    "SORT_RO l BY w_* GET o_*->name",
    // BY a constant: the list's own order, reversed by DESC.
    "SORT l BY nosort",
    "SORT l BY nosort DESC LIMIT 1 2",
    // STORE: a list on another shard, replacing what was there; an empty
    // result deletes it.
    "SET dest old",
    "SORT l BY w_* STORE dest",
    "TYPE dest",
    "LRANGE dest 0 -1",
    "SORT l GET o_*->name STORE dest",
    "LRANGE dest 0 -1",
    "SORT nokey STORE dest",
    "EXISTS dest",
    "SORT nokey",
    "SORT_RO l STORE dest",
    // Sets: sorted, or sorted ALPHA when stored unsorted.
    "SADD s c a b",
    "SORT s ALPHA",
    "SORT s ALPHA DESC",
    "SORT s BY nosort STORE dest2",
    "LRANGE dest2 0 -1",
    // Sorted sets: by their own order with BY a constant.
    "ZADD z 1 c 2 b 3 a",
    "SORT z ALPHA",
    "SORT z BY nosort",
    "SORT z BY nosort DESC",
    "SORT z BY nosort LIMIT 1 1",
    // Errors.
    "SADD bad 1 2 x",
    "SORT bad",
    "SORT l BY o_*->name",
    "SET str x",
    "SORT str",
    "HSET h f v",
    "SORT h",
    "SORT l BOGUS",
    "SORT l LIMIT 1",
    "SORT",
    // Inside MULTI: queued, run at EXEC in order with the rest.
    "MULTI",
    "ZADD z 4 d",
    "SORT z BY nosort",
    "SORT l BY w_* GET o_*->name STORE dest3",
    "LRANGE dest3 0 -1",
    "EXEC",
];

#[test]
fn sort_equals_redis_byte_for_byte_across_shards() {
    let server = TestServer::builder().start();
    let redis = redis();
    assert_sequence_same_as_redis(server.addr("resp"), &redis, SEQUENCE);
    server.stop().assert_clean();
}

/// COMMAND GETKEYS finds SORT's keys as redis does (the last STORE's).
#[test]
fn getkeys_finds_sorts_store_key() {
    let server = TestServer::builder().start();
    let redis = redis();
    let mut ours = Resp::connect(server.addr("resp"));
    let mut theirs = Resp::connect(redis.addr);
    assert_same_replies(
        &mut ours,
        &mut theirs,
        &[
            "COMMAND GETKEYS SORT abc STORE def",
            "COMMAND GETKEYS SORT abc STORE invalid STORE stillbad STORE def",
            "COMMAND GETKEYS SORT abc LIMIT 0 1 GET store BY x",
            "COMMAND GETKEYS SORT_RO abc",
            "COMMAND GETKEYSANDFLAGS SORT k1 STORE k2",
        ],
        "",
    );
    server.stop().assert_clean();
}
