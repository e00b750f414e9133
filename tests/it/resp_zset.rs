//! resp's sorted sets (issue 27): ZADD (NX XX GT LT CH INCR) ZINCRBY ZREM
//! ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT, ZRANGE (BYSCORE
//! BYLEX REV LIMIT WITHSCORES) and the older range forms, ZPOPMIN/ZPOPMAX,
//! ZREMRANGEBY*, ZRANDMEMBER, ZSCAN, ZUNION/ZINTER/ZDIFF and their STORE
//! forms, ZINTERCARD, ZRANGESTORE, ZMPOP: replies byte for byte equal to
//! redis-server 7.0's on 1 and 4 shards, RESP2 and RESP3 (doubles); durable.

use crate::common::typed::{same_as_redis, survives_restart};

const SEQUENCE: &[&str] = &[
    "ZADD z 1 a 2 b 3 c 1.1 d 5 e",
    "ZADD z NX 5 a 6 f",
    "ZADD z XX CH 7 a 8 g",
    "ZADD z GT CH 1 a 9 b",
    "ZADD z LT CH 1 a 9 c",
    "ZADD z INCR 2 a",
    "ZADD z NX INCR 2 a",
    "ZADD z XX NX 1 a",
    "ZADD z GT LT 1 a",
    "ZADD z INCR 1 a 2 b",
    "ZADD z 1 a 2",
    "ZADD z x a",
    "ZADD z 1 dup 2 dup",
    "ZADD nozset XX 1 a",
    "ZADD nozset XX INCR 1 a",
    "ZINCRBY z 2.5 d",
    "ZINCRBY z x d",
    "ZSCORE z d",
    "ZSCORE z nope",
    "ZMSCORE z a d nope",
    "ZCARD z",
    "ZCARD nokey",
    "ZRANK z a",
    "ZREVRANK z a",
    "ZRANK z nope",
    "ZRANGE z 0 -1",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZRANGE z -3 -1 WITHSCORES",
    "ZRANGE z 2 1",
    "ZRANGE z 0 100 REV",
    "ZRANGE z 0 1 LIMIT 0 1",
    "ZRANGE z (1 5 BYSCORE WITHSCORES",
    "ZRANGE z 5 (1 BYSCORE REV WITHSCORES",
    "ZRANGE z -inf +inf BYSCORE LIMIT 1 2",
    "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1",
    "ZRANGE z x y BYSCORE",
    "ZRANGE z - + BYLEX WITHSCORES",
    "ZRANGE z x y BYLEX",
    "ZRANGE z 0 -1 FOO",
    "ZRANGEBYSCORE z 1 3",
    "ZRANGEBYSCORE z 1 3 WITHSCORES LIMIT 0 2",
    "ZREVRANGEBYSCORE z 3 1 WITHSCORES",
    "ZREVRANGE z 0 1 WITHSCORES",
    "ZREVRANGE z 0 1 FOO",
    "ZRANGEBYLEX z - + WITHSCORES",
    "ZCOUNT z 1 3",
    "ZCOUNT z (1 (3",
    "ZCOUNT z x 3",
    "ZPOPMIN z",
    "ZPOPMAX z 2",
    "ZPOPMIN z -1",
    "ZPOPMIN nokey",
    "ZPOPMIN nokey 2",
    "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYSCORE z -inf 2",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZREM z dup nope",
    "ZADD l 0 a 0 b 0 c 0 d 0 e",
    "ZRANGEBYLEX l (a [c",
    "ZRANGEBYLEX l [b +",
    "ZREVRANGEBYLEX l [c (a",
    "ZREVRANGEBYLEX l + - LIMIT 1 2",
    "ZLEXCOUNT l - +",
    "ZLEXCOUNT l [b (d",
    "ZLEXCOUNT l x y",
    "ZREMRANGEBYLEX l - [a",
    "ZRANGE l 0 -1",
    "ZADD inf +inf a -inf b 0 c",
    "ZRANGE inf 0 -1 WITHSCORES",
    "ZINCRBY inf -inf a",
    "ZADD neg -0 a",
    "ZSCORE neg a",
    "SET str v",
    "ZADD str 1 a",
    "ZRANGE str 0 1",
    "ZSCORE str a",
    "TYPE z",
    "ZRANDMEMBER nokey",
    "ZRANDMEMBER nokey 1",
    "ZRANDMEMBER z 1 foo",
    "ZSCAN nokey 0",
    "ZADD one 1.5 m",
    "ZSCAN one 0",
    "ZRANDMEMBER one 1 WITHSCORES",
    "ZREM one m",
    "EXISTS one",
    // Over several keys (on several shards with 4).
    "ZADD a 1 x 2 y 3 z",
    "ZADD b 10 y 20 z 30 w",
    "SADD s y q",
    "ZUNION 2 a b WITHSCORES",
    "ZUNION 2 a b WEIGHTS 2 0.5 WITHSCORES",
    "ZUNION 2 a b AGGREGATE MIN WITHSCORES",
    "ZUNION 2 a b AGGREGATE MAX WITHSCORES",
    "ZINTER 2 a b WITHSCORES",
    "ZINTER 3 a b s WITHSCORES",
    "ZINTER 2 a nokey",
    "ZDIFF 2 a b WITHSCORES",
    "ZDIFF 2 b s WITHSCORES",
    "ZUNIONSTORE d 2 a b",
    "ZRANGE d 0 -1 WITHSCORES",
    "ZINTERSTORE d2 2 a b WEIGHTS 1 -1",
    "ZRANGE d2 0 -1 WITHSCORES",
    "ZDIFFSTORE d3 2 a a",
    "EXISTS d3",
    "ZINTERCARD 2 a b",
    "ZINTERCARD 2 a b LIMIT 1",
    "ZINTERCARD 0 a",
    "ZINTERCARD 3 a b",
    "ZUNIONSTORE d 0 a",
    "ZUNION 1 a WEIGHTS x",
    "ZUNION 1 a AGGREGATE foo",
    "ZDIFF 1 a WEIGHTS 1",
    "ZUNION 2 a b WEIGHTS 1",
    "ZRANGESTORE dst a 0 1",
    "ZRANGE dst 0 -1 WITHSCORES",
    "ZRANGESTORE dst a (1 +inf BYSCORE LIMIT 0 1",
    "ZRANGE dst 0 -1 WITHSCORES",
    "ZRANGESTORE dst nokey 0 -1",
    "EXISTS dst",
    "ZRANGESTORE dst a 0 -1 WITHSCORES",
    "ZMPOP 2 nokey a MIN COUNT 2",
    "ZMPOP 1 b MAX",
    "ZMPOP 0 a MIN",
    "ZMPOP 1 a MIDDLE",
    "ZMPOP 1 nokey MIN",
    "ZUNION 2 a str",
    "ZRANGESTORE dst str 0 -1",
    "ZMPOP 1 str MIN",
    "ZADD pinf +inf m",
    "ZADD ninf -inf m",
    "ZUNION 2 pinf ninf WITHSCORES",
    "ZUNION 2 pinf pinf WEIGHTS 0 1 WITHSCORES",
];

#[test]
fn sorted_set_commands_equal_redis_on_four_shards() {
    same_as_redis("4", SEQUENCE);
}

#[test]
fn sorted_set_commands_equal_redis_on_one_shard() {
    same_as_redis("1", SEQUENCE);
}

const WRITES: &[&str] = &[
    "ZADD z 1 a 2 b 3 c 1.1 d",
    "ZINCRBY z 10 a",
    "ZREM z b",
    "ZADD z GT 0.5 c",
    "ZPOPMIN z",
    "ZADD r 1 x 2 y 3 w",
    "ZREMRANGEBYSCORE r 2 2",
    "ZADD e 1 x",
    "EXPIRE e 1000",
    "ZUNIONSTORE u 2 z r WEIGHTS 1 10",
    "ZRANGESTORE rs r 0 0",
];

const READS: &[&str] = &[
    "ZRANGE z 0 -1 WITHSCORES",
    "ZRANGE r 0 -1 WITHSCORES",
    "ZRANGE e 0 -1",
    "TYPE z",
    "ZRANGE u 0 -1 WITHSCORES",
    "ZRANGE rs 0 -1 WITHSCORES",
];

#[test]
fn sorted_sets_survive_a_restart_on_another_shard_count() {
    survives_restart(WRITES, READS, false);
}

#[test]
fn sorted_sets_survive_a_kill_under_fsync_always() {
    survives_restart(WRITES, READS, true);
}
