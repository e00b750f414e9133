//! resp's GEOADD, GEOPOS, GEODIST, GEOHASH and the searches (GEOSEARCH,
//! GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms; issue
//! 26): replies byte for byte equal to redis-server 7.0's, in RESP2 and
//! RESP3, on 2 shards; a point is a sorted set member whose score is its
//! geohash, as in Redis.

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
fn searches_answer_as_redis_in_its_order() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    // Source and destination keys on one shard and on two: {t} keeps a
    // pair together; plain names spread.
    assert_sequence_same_as_redis(
        server.addr("resp"),
        &redis,
        &[
            "GEOADD nyc -73.9454966 40.747533 lic_market -73.9733487 40.7648057 central_park -73.9903085 40.7362513 union_square -74.0131604 40.7126674 wtc_one -73.7858139 40.6428986 jfk -73.9375699 40.7498929 q4 -73.9564142 40.7480973 4545",
            "GEORADIUS nyc -73.9798091 40.7598464 3 km asc",
            "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 bybox 6 6 km asc",
            "GEORADIUS nyc -73.9798091 40.7598464 3 km withdist asc",
            "GEOSEARCH nyc fromlonlat -73.9798091 40.7598464 bybox 6 6 km withdist withcoord withhash asc",
            "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3",
            "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY",
            "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY ASC",
            "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 2 DESC",
            "GEORADIUSBYMEMBER nyc wtc_one 7 km",
            "GEORADIUSBYMEMBER_RO nyc wtc_one 7 km withdist",
            "GEORADIUS_RO nyc -73.9798091 40.7598464 3 km",
            "GEOSEARCH nyc frommember wtc_one byradius 7 km desc",
            "GEOSEARCH nyc frommember q4 bybox 20 1 mi",
            "GEOHASH nyc jfk q4 nope",
            "GEOHASH nokey a",
            // With destinations, on one shard or two.
            "GEORADIUS nyc -73.9798091 40.7598464 10 km STORE dest",
            "ZRANGE dest 0 -1 WITHSCORES",
            "GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 2 STOREDIST dest2",
            "ZRANGE dest2 0 -1 WITHSCORES",
            "GEORADIUSBYMEMBER nyc jfk 5 km STORE dest3",
            "GEOSEARCHSTORE other nyc fromlonlat -73.9798091 40.7598464 byradius 3 km",
            "ZRANGE other 0 -1",
            "GEOSEARCHSTORE other nyc fromlonlat -73.9798091 40.7598464 byradius 3 km storedist",
            "ZRANGE other 0 -1 WITHSCORES",
            "GEOSEARCHSTORE other nyc fromlonlat 0 0 byradius 1 km",
            "EXISTS other",
            "GEOSEARCHSTORE other nokey fromlonlat 0 0 byradius 1 km",
            "GEORADIUS nokey 0 0 1 km STORE dest",
            "EXISTS dest",
            // The errors, in redis's order.
            "GEOSEARCH nyc fromlonlat 0 0 frommember q4 byradius 1 km",
            "GEOSEARCH nyc byradius 1 km",
            "GEOSEARCH nyc fromlonlat 0 0",
            "GEOSEARCH nyc fromlonlat 0 0 byradius 1 km bybox 1 1 km",
            "GEOSEARCH nyc fromlonlat 0 0 byradius -1 km",
            "GEOSEARCH nyc fromlonlat 0 0 bybox -1 1 km",
            "GEOSEARCH nyc fromlonlat 0 0 byradius x km",
            "GEOSEARCH nyc fromlonlat 0 0 byradius 1 yards",
            "GEOSEARCH nyc frommember nope byradius 1 km",
            "GEOSEARCH nyc fromlonlat 200 0 byradius 1 km",
            "GEORADIUS nyc 0 0 1 km ANY",
            "GEORADIUS nyc 0 0 1 km COUNT 0",
            "GEORADIUS nyc 0 0 1 km COUNT x",
            "GEORADIUS nyc 0 0 1 km withdist STORE d",
            "GEOSEARCHSTORE d nyc fromlonlat 0 0 byradius 1 km withdist",
            "GEORADIUS_RO nyc 0 0 1 km STORE d",
            "GEORADIUSBYMEMBER nyc nope 1 km",
            "GEOSEARCH nyc fromlonlat 0 0 byradius 1 km bogus",
            "SET str v",
            "GEOSEARCH str fromlonlat 0 0 byradius 1 km",
            "GEOHASH str a",
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
