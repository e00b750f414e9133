//! Chains of blocked BLMOVE / BRPOPLPUSH clients over several shards
//! (issue 27): the push that wakes the first answers once the item has
//! gone down the whole chain, as in Redis, where the clients a push serves
//! are served before its reply (Redis's suite: `Linked LMOVEs`, `Circular
//! BRPOPLPUSH`). Over two shards a move pops on the source's owner and
//! pushes on the destination's (README, "What differs from Redis").

use crate::common::resp::{connect_on, wait_blocked, Resp};
use crate::common::*;

/// `TestServer::builder()`'s default shard count.
const SHARDS: usize = 4;

/// How many blocked movers the linked chain has: each link crosses shards.
const LINKS: usize = 16;

/// Redis's `Linked LMOVEs`, longer: client i waits to move list i's last
/// item to the head of list i+1, each list on the next shard, each client
/// on another shard than its source. One RPUSH to the first list: once
/// answered, the item is in the last list and every other list is empty.
#[test]
fn a_push_answers_after_the_chain_of_moves_it_woke() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let lists: Vec<String> = (0..=LINKS)
        .map(|i| key_on(SHARDS, i % SHARDS, &format!("list{i}-")))
        .collect();
    let mut control = Resp::connect(addr);
    let mut movers = Vec::new();
    for i in 0..LINKS {
        let mut mover = connect_on(SHARDS, addr, (i + 2) % SHARDS);
        mover.send_cmd(&format!(
            "BLMOVE {} {} RIGHT LEFT 0",
            lists[i],
            lists[i + 1]
        ));
        wait_blocked(&mut control, i + 1);
        movers.push(mover);
    }
    assert_eq!(control.cmd(&format!("RPUSH {} foo", lists[0])), ":1\r\n");
    for list in &lists[..LINKS] {
        assert_eq!(control.cmd(&format!("LLEN {list}")), ":0\r\n", "{list}");
    }
    assert_eq!(
        control.cmd(&format!("LRANGE {} 0 -1", lists[LINKS])),
        "*1\r\n$3\r\nfoo\r\n"
    );
    for mover in &mut movers {
        assert_eq!(mover.reply(), b"$3\r\nfoo\r\n");
    }
    drop((control, movers));
    server.stop().assert_clean();
}

/// Redis's `Circular BRPOPLPUSH` over two shards: the item pushed to the
/// first list goes to the second and back, before the push answers.
#[test]
fn a_circular_pair_of_moves_ends_before_the_push_answers() {
    let server = TestServer::builder().services(&["resp"]).start();
    let addr = server.addr("resp");
    let (list1, list2) = (key_on(SHARDS, 1, "list1-"), key_on(SHARDS, 2, "list2-"));
    let mut control = Resp::connect(addr);
    let mut first = connect_on(SHARDS, addr, 3);
    first.send_cmd(&format!("BRPOPLPUSH {list1} {list2} 0"));
    wait_blocked(&mut control, 1);
    let mut second = connect_on(SHARDS, addr, 0);
    second.send_cmd(&format!("BRPOPLPUSH {list2} {list1} 0"));
    wait_blocked(&mut control, 2);
    assert_eq!(control.cmd(&format!("RPUSH {list1} foo")), ":1\r\n");
    assert_eq!(
        control.cmd(&format!("LRANGE {list1} 0 -1")),
        "*1\r\n$3\r\nfoo\r\n"
    );
    assert_eq!(control.cmd(&format!("EXISTS {list2}")), ":0\r\n");
    assert_eq!(first.reply(), b"$3\r\nfoo\r\n");
    assert_eq!(second.reply(), b"$3\r\nfoo\r\n");
    drop((control, first, second));
    server.stop().assert_clean();
}
