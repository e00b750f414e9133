//! GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER (and their _RO
//! forms) and GEOHASH, as redis 7.0's `geo.c` (`georadiusGeneric`): the
//! arguments read in the same order with the same errors, the members
//! found in the cells `geohash.rs` picks (so that an unsorted `COUNT n ANY`
//! answers what redis answers), each kept when its decoded point lies in
//! the circle or box, sorted by distance when asked.
//!
//! A search runs where its key lives; with a destination (STORE,
//! STOREDIST, GEOSEARCHSTORE) on the same shard it stores there too, and
//! over two shards the connection's shard gathers the source and stores
//! the result (`gather.rs`), as ZRANGESTORE does.

use super::super::protocol::write::{self, Proto};
use super::collections::{answer, parse_score, wrong_type};
use super::geo::{decode, distance, fixed4, human_double, unit, LAT_MAX, LAT_MIN, STEP};
use super::geohash::{cell_of, cells_to_read, Area, Shape};
use super::strings::SYNTAX;
use super::zset;
use super::Cmd;
use crate::kv::values::{Aggregate, OwnedValue, ZSet};
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

/// How the found members are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A search's arguments, read.
#[derive(Debug)]
pub struct Search<'a> {
    /// Where the results go instead of the reply, and whether their scores
    /// are the distances (STOREDIST) rather than the geohashes.
    pub store: Option<(&'a [u8], bool)>,
    shape: Shape,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    count: usize,
    any: bool,
}

/// The key a search reads.
pub fn source<'a>(cmd: Cmd, args: &Command<'a>) -> &'a [u8] {
    match cmd {
        Cmd::GeoSearchStore => args.at(2),
        _ => args.at(1),
    }
}

/// The destination a search names (STORE, STOREDIST, GEOSEARCHSTORE's
/// first key), read as redis reads it, without the source.
pub fn destination<'a>(cmd: Cmd, args: &Command<'a>) -> Option<&'a [u8]> {
    read(cmd, args, None).ok()?.store.map(|(key, _)| key)
}

/// Reads a search's arguments against its source `found` (FROMMEMBER and
/// BYMEMBER read the member's point there; `None`: no source key), as
/// redis's `georadiusGeneric` does, stopping at the first error.
pub fn read<'a>(cmd: Cmd, args: &Command<'a>, found: Option<&ZSet>) -> Result<Search<'a>, String> {
    let member_point = |member: &[u8]| -> Result<(f64, f64), String> {
        found
            .and_then(|zset| zset.score(member))
            .map(|score| decode(score as u64))
            .ok_or_else(|| "ERR could not decode requested zset member".to_string())
    };
    let mut shape = Shape {
        long: 0.0,
        lat: 0.0,
        area: Area::Radius(0.0),
        to_meters: 1.0,
    };
    let search_form = matches!(cmd, Cmd::GeoSearch | Cmd::GeoSearchStore);
    let no_store = matches!(cmd, Cmd::GeoRadiusRo | Cmd::GeoRadiusByMemberRo) || search_form;
    let base = match cmd {
        Cmd::GeoRadius | Cmd::GeoRadiusRo => {
            (shape.long, shape.lat) = long_lat(args.at(2), args.at(3))?;
            (shape.area, shape.to_meters) = radius(args.at(4), args.at(5))?;
            6
        }
        Cmd::GeoRadiusByMember | Cmd::GeoRadiusByMemberRo => {
            if found.is_some() {
                (shape.long, shape.lat) = member_point(args.at(2))?;
                (shape.area, shape.to_meters) = radius(args.at(3), args.at(4))?;
            }
            5
        }
        Cmd::GeoSearchStore => 3,
        _ => 2,
    };
    let mut search = Search {
        store: (cmd == Cmd::GeoSearchStore).then(|| (args.at(1), false)),
        shape,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        count: 0,
        any: false,
    };
    let (mut from_member, mut from_lon_lat, mut by_radius, mut by_box) =
        (false, false, false, false);
    let mut i = base;
    while i < args.len() {
        let arg = args.at(i).to_ascii_lowercase();
        let left = args.len() - i - 1;
        match arg.as_slice() {
            b"withdist" => search.with_dist = true,
            b"withhash" => search.with_hash = true,
            b"withcoord" => search.with_coord = true,
            b"any" => search.any = true,
            b"asc" => search.sort = Sort::Asc,
            b"desc" => search.sort = Sort::Desc,
            b"count" if left >= 1 => {
                let count = std::str::from_utf8(args.at(i + 1))
                    .ok()
                    .and_then(|text| text.parse::<i64>().ok())
                    .ok_or("ERR value is not an integer or out of range")?;
                if count <= 0 {
                    return Err("ERR COUNT must be > 0".into());
                }
                search.count = count as usize;
                i += 1;
            }
            b"store" | b"storedist" if left >= 1 && !no_store => {
                search.store = Some((args.at(i + 1), arg == b"storedist"));
                i += 1;
            }
            b"storedist" if cmd == Cmd::GeoSearchStore => {
                search.store = search.store.map(|(key, _)| (key, true));
            }
            b"frommember" if left >= 1 && search_form && !from_lon_lat => {
                if found.is_some() {
                    (search.shape.long, search.shape.lat) = member_point(args.at(i + 1))?;
                }
                from_member = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && search_form && !from_member => {
                (search.shape.long, search.shape.lat) = long_lat(args.at(i + 1), args.at(i + 2))?;
                from_lon_lat = true;
                i += 2;
            }
            b"byradius" if left >= 2 && search_form && !by_box => {
                (search.shape.area, search.shape.to_meters) =
                    radius(args.at(i + 1), args.at(i + 2))?;
                by_radius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && search_form && !by_radius => {
                let width = number(args.at(i + 1), "ERR need numeric width")?;
                let height = number(args.at(i + 2), "ERR need numeric height")?;
                if width < 0.0 || height < 0.0 {
                    return Err("ERR height or width cannot be negative".into());
                }
                search.shape.to_meters = unit(args.at(i + 3))?;
                search.shape.area = Area::Box { width, height };
                by_box = true;
                i += 3;
            }
            _ => return Err(SYNTAX.into()),
        }
        i += 1;
    }
    if search.store.is_some() && (search.with_dist || search.with_hash || search.with_coord) {
        let which = if cmd == Cmd::GeoSearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(format!(
            "ERR {which} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        ));
    }
    let name = String::from_utf8_lossy(args.at(0));
    if search_form && !(from_member || from_lon_lat) {
        return Err(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
    }
    if search_form && !(by_radius || by_box) {
        return Err(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
    }
    if search.any && search.count == 0 {
        return Err("ERR the ANY argument requires COUNT argument".into());
    }
    // COUNT needs an order to take the nearest, unless ANY.
    if search.count != 0 && search.sort == Sort::None && !search.any {
        search.sort = Sort::Asc;
    }
    Ok(search)
}

/// A number argument, or `error` (redis's `getDoubleFromObjectOrReply`).
fn number(text: &[u8], error: &str) -> Result<f64, String> {
    parse_score(text)
        .filter(|n| !n.is_nan())
        .ok_or_else(|| error.to_string())
}

/// A longitude and latitude (redis's `extractLongLatOrReply`).
fn long_lat(long: &[u8], lat: &[u8]) -> Result<(f64, f64), String> {
    let long = number(long, "ERR value is not a valid float")?;
    let lat = number(lat, "ERR value is not a valid float")?;
    if !(-180.0..=180.0).contains(&long) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(format!(
            "ERR invalid longitude,latitude pair {long:.6},{lat:.6}"
        ));
    }
    Ok((long, lat))
}

/// A radius and its unit (redis's `extractDistanceOrReply`).
fn radius(radius: &[u8], unit_name: &[u8]) -> Result<(Area, f64), String> {
    let radius = number(radius, "ERR need numeric radius")?;
    if radius < 0.0 {
        return Err("ERR radius cannot be negative".into());
    }
    Ok((Area::Radius(radius), unit(unit_name)?))
}

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
