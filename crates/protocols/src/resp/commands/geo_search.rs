//! GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER (and their _RO
//! forms) and GEOHASH, as redis 7.0's `geo.c` (`georadiusGeneric`): the
//! arguments read in the same order with the same errors (`args.rs`), the members
//! found in the cells `geohash.rs` picks (so that an unsorted `COUNT n ANY`
//! answers what redis answers), each kept when its decoded point lies in
//! the circle or box, sorted by distance when asked.
//!
//! A search runs where its key lives; with a destination (STORE,
//! STOREDIST, GEOSEARCHSTORE) on the same shard it stores there too, and
//! over two shards the connection's shard gathers the source and stores
//! the result (`gather.rs`), as ZRANGESTORE does.

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, wrong_type};
use super::geo::{decode, distance, fixed4, human_double, STEP};
use super::geohash::{cell_of, cells_to_read, Area, Shape};
use super::zset;
use super::Cmd;
use crate::kv::values::{Aggregate, OwnedValue, ZSet};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

mod args;

use args::Sort;
pub use args::{destination, read, source, Search};

/// One member found.
struct Found<'z> {
    member: &'z [u8],
    score: f64,
    long: f64,
    lat: f64,
    /// From the centre, in meters until answered.
    dist: f64,
}

/// Where a point lies from the centre, if inside the shape (redis's
/// `geoWithinShape`).
fn within(shape: &Shape, long: f64, lat: f64) -> Option<f64> {
    match shape.area {
        Area::Radius(radius) => {
            let dist = distance(shape.long, shape.lat, long, lat);
            (dist <= radius * shape.to_meters).then_some(dist)
        }
        Area::Box { width, height } => {
            let lat_distance = distance(long, lat, long, shape.lat);
            if lat_distance > height * shape.to_meters / 2.0 {
                return None;
            }
            let long_distance = distance(long, lat, shape.long, lat);
            if long_distance > width * shape.to_meters / 2.0 {
                return None;
            }
            Some(distance(shape.long, shape.lat, long, lat))
        }
    }
}

/// The members of `zset` inside the search's shape, in redis's order of
/// cells and scores, ordered as asked; at most `count` with ANY.
fn find<'z>(search: &Search<'_>, zset: &'z ZSet) -> Vec<Found<'z>> {
    let limit = if search.any { search.count } else { 0 };
    let mut found = Vec::new();
    for cell in cells_to_read(&search.shape) {
        if limit != 0 && found.len() >= limit {
            break;
        }
        let (min, max) = cell.scores();
        for (member, score) in zset.by_score(min, false, max, true) {
            let (long, lat) = decode(score as u64);
            if let Some(dist) = within(&search.shape, long, lat) {
                found.push(Found {
                    member,
                    score,
                    long,
                    lat,
                    dist,
                });
            }
            if limit != 0 && found.len() >= limit {
                break;
            }
        }
    }
    match search.sort {
        Sort::None => {}
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
    }
    if search.count != 0 {
        found.truncate(search.count);
    }
    found
}

/// Writes a search's reply (no destination) from the source `zset`.
pub fn reply(search: &Search<'_>, zset: Option<&ZSet>, proto: Proto, out: &mut Vec<u8>) {
    let found = zset.map(|zset| find(search, zset)).unwrap_or_default();
    let options = usize::from(search.with_dist)
        + usize::from(search.with_hash)
        + usize::from(search.with_coord);
    write::array_len(out, found.len());
    for point in &found {
        if options > 0 {
            write::array_len(out, options + 1);
        }
        write::bulk(out, point.member);
        if search.with_dist {
            write::bulk(out, fixed4(point.dist / search.shape.to_meters).as_bytes());
        }
        if search.with_hash {
            write::int(out, point.score as i64);
        }
        if search.with_coord {
            write::array_len(out, 2);
            human_double(out, point.long, proto);
            human_double(out, point.lat, proto);
        }
    }
}

/// What a search with a destination stores: the members found, scored by
/// geohash or distance (STOREDIST); `None` when nothing was found (the
/// destination goes).
pub fn result(search: &Search<'_>, zset: Option<&ZSet>) -> Option<ZSet> {
    let found = zset.map(|zset| find(search, zset)).unwrap_or_default();
    let by_distance = search.store.is_some_and(|(_, by_distance)| by_distance);
    let mut result = ZSet::default();
    for point in found {
        let score = if by_distance {
            point.dist / search.shape.to_meters
        } else {
            point.score
        };
        result.insert(point.member, score);
    }
    (!result.is_empty()).then_some(result)
}

/// Runs a search on the shard that holds its source and destination.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    if cmd == Cmd::GeoHash {
        return geohash(args, keys, proto, out);
    }
    let found = match zset::zset(keys, source(cmd, args)) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    let search = match read(cmd, args, found) {
        Ok(search) => search,
        Err(error) => return write::error(out, &error),
    };
    let Some((dest, _)) = search.store else {
        return reply(&search, found, proto, out);
    };
    let stored = result(&search, found);
    let count = stored.as_ref().map_or(0, ZSet::len) as i64;
    let done = match stored {
        None => keys.del(dest).map(|_| ()),
        Some(zset) => keys.put_value(dest, OwnedValue::Agg(Aggregate::ZSet(zset)), None),
    };
    answer(out, done, |out, ()| write::int(out, count));
}

/// `GEOHASH key member...`: each member's standard 11-character geohash
/// (its point re-encoded over latitudes −90 to 90), nil for a missing one.
fn geohash(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let found = match zset::zset(keys, args.at(1)) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    write::array_len(out, args.len() - 2);
    for member in args.iter().skip(2) {
        let Some(score) = found.and_then(|zset| zset.score(member)) else {
            write::null(out, proto);
            continue;
        };
        let (long, lat) = decode(score as u64);
        let bits = cell_of(long, lat, STEP, -90.0, 90.0).bits;
        let mut text = [b'0'; 11];
        for (i, c) in text.iter_mut().enumerate().take(10) {
            *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
        }
        write::bulk(out, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::super::geo::encode;
    use super::*;

    /// redis's unit/geo `nyc` set.
    fn nyc() -> ZSet {
        let mut zset = ZSet::default();
        for (long, lat, name) in [
            (-73.9454966, 40.747533, "lic market"),
            (-73.9733487, 40.7648057, "central park n/q/r"),
            (-73.9903085, 40.7362513, "union square"),
            (-74.0131604, 40.7126674, "wtc one"),
            (-73.7858139, 40.6428986, "jfk"),
            (-73.9375699, 40.7498929, "q4"),
            (-73.9564142, 40.7480973, "4545"),
        ] {
            zset.insert(name.as_bytes(), encode(long, lat) as f64);
        }
        zset
    }

    fn around(long: f64, lat: f64, km: f64) -> Search<'static> {
        Search {
            store: None,
            shape: Shape {
                long,
                lat,
                area: Area::Radius(km),
                to_meters: 1000.0,
            },
            with_dist: false,
            with_hash: false,
            with_coord: false,
            sort: Sort::None,
            count: 0,
            any: false,
        }
    }

    fn names(search: &Search<'_>, zset: &ZSet) -> Vec<String> {
        find(search, zset)
            .iter()
            .map(|found| String::from_utf8_lossy(found.member).into_owned())
            .collect()
    }

    #[test]
    fn scores_are_redis_geoadd_scores() {
        let zset = nyc();
        assert_eq!(zset.score(b"wtc one"), Some(1791873972053020.0));
        assert_eq!(zset.score(b"jfk"), Some(1791895905559723.0));
    }

    #[test]
    fn searches_answer_as_redis_unit_geo_expects() {
        let zset = nyc();
        let mut search = around(-73.9798091, 40.7598464, 3.0);
        search.sort = Sort::Asc;
        assert_eq!(
            names(&search, &zset),
            ["central park n/q/r", "4545", "union square"]
        );

        // GEORADIUS with ANY not sorted by default: redis's order of cells.
        let mut search = around(-73.9798091, 40.7598464, 10.0);
        (search.count, search.any) = (3, true);
        assert_eq!(
            names(&search, &zset),
            ["wtc one", "union square", "central park n/q/r"]
        );

        // GEORADIUS with COUNT DESC.
        let mut search = around(-73.9798091, 40.7598464, 10.0);
        (search.count, search.sort) = (2, Sort::Desc);
        assert_eq!(names(&search, &zset), ["wtc one", "q4"]);

        // GEORADIUSBYMEMBER simple: unsorted, in score order here.
        let (long, lat) = decode(zset.score(b"wtc one").map_or(0, |s| s as u64));
        let search = around(long, lat, 7.0);
        assert_eq!(
            names(&search, &zset),
            [
                "wtc one",
                "union square",
                "central park n/q/r",
                "4545",
                "lic market"
            ]
        );
    }

    #[test]
    fn a_huge_radius_reads_no_cell_twice() {
        let mut zset = ZSet::default();
        let score = encode(-47.271_613_776_683_81, -54.534_504_198_047_68) as f64;
        zset.insert(b"user_000000", score);
        let search = around(0.0, 0.0, 50_000.0);
        assert_eq!(find(&search, &zset).len(), 1);
    }
}
