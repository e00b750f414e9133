//! resp's GEOADD, GEOPOS and GEODIST (issue 26): replies byte for byte
//! equal to redis-server 7.0's, in RESP2 and RESP3, on 2 shards; a point is
//! a sorted set member whose score is its geohash, as in Redis.

use crate::common::resp::{assert_sequence_same_as_redis, redis};
use crate::common::*;

#[test]
fn points_are_stored_and_read_as_redis() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    assert_sequence_same_as_redis(
        server.addr("resp"),
        &redis,
        &[
            "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
            "ZSCORE Sicily Palermo",
            "ZRANGE Sicily 0 -1 WITHSCORES",
            "GEOPOS Sicily Palermo Catania NonExisting",
            "GEOPOS nokey a b",
            "GEODIST Sicily Palermo Catania",
            "GEODIST Sicily Palermo Catania km",
            "GEODIST Sicily Palermo Catania MI",
            "GEODIST Sicily Palermo Catania ft",
            "GEODIST Sicily Palermo Palermo",
            "GEODIST Sicily Palermo Nowhere",
            "GEODIST nokey a b",
            "GEODIST Sicily Palermo Catania yards",
            "GEODIST Sicily Palermo Catania km extra",
            // Options: NX, XX, CH, as ZADD's.
            "GEOADD Sicily NX 13.361389 38.115556 Palermo 12.5 37.8 Trapani",
            "GEOADD Sicily XX CH 13.4 38.1 Palermo 14.0 37.0 Gela",
            "GEOADD Sicily CH 13.4 38.1 Palermo",
            "GEOADD Sicily NX XX 13.4 38.1 Palermo",
            "ZCARD Sicily",
            // Edges of the ranges, and the errors.
            "GEOADD edges 180 85.05112878 ne -180 -85.05112878 sw 0 0 origin",
            "GEOPOS edges ne sw origin",
            "GEODIST edges ne sw",
            "GEOADD bad 200 100 p",
            "GEOADD bad 10 86 p",
            "GEOADD bad x 10 p",
            "GEOADD bad 10 10 p 20",
            "GEOADD bad NX 10 10",
            "EXISTS bad",
            "SET str v",
            "GEOADD str 10 10 p",
            "GEOPOS str p",
            "GEODIST str a b",
            "GEOADD",
            "GEOPOS",
            "GEODIST k a",
        ],
    );
}

#[test]
fn geoadd_is_counted_as_itself_in_commandstats() {
    // unit/introspection-2's "errors stats for GEOADD": a refused GEOADD is
    // a call of geoadd that failed, not a ZADD.
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let mut conn = crate::common::resp::Resp::connect(server.addr("resp"));
    assert_eq!(conn.cmd("SET foo 1"), "+OK\r\n");
    assert!(conn.cmd("GEOADD foo 0 0 bar").starts_with("-WRONGTYPE"));
    let stats = conn.cmd("INFO commandstats");
    let line = stats
        .lines()
        .find(|line| line.starts_with("cmdstat_geoadd:"))
        .unwrap_or_else(|| panic!("no geoadd in {stats}"));
    assert!(
        line.starts_with("cmdstat_geoadd:calls=1,")
            && line.ends_with(",rejected_calls=0,failed_calls=1"),
        "{line}"
    );
    assert!(!stats.contains("cmdstat_zadd:"), "{stats}");
}
