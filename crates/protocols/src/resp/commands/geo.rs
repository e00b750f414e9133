//! GEOADD, GEOPOS and GEODIST (issue 26: unit/introspection-2 counts
//! GEOADD's calls and errors), as redis 7.0's `geo.c`: a point is a member
//! of a sorted set whose score is its 52-bit geohash (26 steps of
//! longitude and latitude, interleaved), so ZRANGE, ZSCORE and ZREM read
//! and change it. GEOADD is ZADD of those scores (its keyspace event is
//! `zadd`, as in Redis). GEOHASH, GEOSEARCH and GEORADIUS are not served.

use super::super::protocol::write::{self, Proto};
use super::collections::{parse_score, wrong_type};
use super::strings::SYNTAX;
use super::zset::{self, Flags};
use super::Cmd;
use crate::resp::protocol::Command;
use percore_keyspace::typed::WrongType;
use percore_keyspace::write::ShardKeys;

/// The latitudes a geohash covers (Web Mercator's), and the longitudes.
pub(super) const LAT_MIN: f64 = -85.051_128_78;
pub(super) const LAT_MAX: f64 = 85.051_128_78;
pub(super) const LONG_MIN: f64 = -180.0;
pub(super) const LONG_MAX: f64 = 180.0;
/// Steps of each coordinate: 2 × 26 = 52 bits, exact in a double score.
pub(super) const STEP: u32 = 26;
pub(super) const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;

/// Runs one of the commands of this file on the key's owner.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    keys: &mut ShardKeys<'_>,
    proto: Proto,
    out: &mut Vec<u8>,
) {
    match cmd {
        Cmd::GeoAdd => geoadd(args, keys, proto, out),
        Cmd::GeoPos => geopos(args, keys, proto, out),
        Cmd::GeoDist => geodist(args, keys, proto, out),
        _ => write::error(out, "ERR internal: not a geo command"),
    }
}

/// `GEOADD key [NX|XX] [CH] longitude latitude member [...]`.
fn geoadd(args: &Command<'_>, keys: &mut ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let mut flags = Flags::default();
    let mut at = 2;
    while at < args.len() {
        let arg = args.at(at);
        if arg.eq_ignore_ascii_case(b"nx") {
            flags.nx = true;
        } else if arg.eq_ignore_ascii_case(b"xx") {
            flags.xx = true;
        } else if arg.eq_ignore_ascii_case(b"ch") {
            flags.ch = true;
        } else {
            break;
        }
        at += 1;
    }
    if (args.len() - at) % 3 != 0 || (flags.nx && flags.xx) {
        return write::error(out, SYNTAX);
    }
    let mut scores = Vec::with_capacity((args.len() - at) / 3);
    for first in (at..args.len()).step_by(3) {
        let (Some(long), Some(lat)) =
            (parse_score(args.at(first)), parse_score(args.at(first + 1)))
        else {
            return write::error(out, "ERR value is not a valid float");
        };
        if !(LONG_MIN..=LONG_MAX).contains(&long) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
            return write::error(
                out,
                &format!("ERR invalid longitude,latitude pair {long:.6},{lat:.6}"),
            );
        }
        scores.push((encode(long, lat) as f64, args.at(first + 2)));
    }
    zset::add(args.at(1), &scores, flags, keys, proto, out);
}

/// `GEOPOS key member...`: each member's point, decoded from its score.
fn geopos(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let found = match zset::zset(keys, args.at(1)) {
        Err(WrongType) => return wrong_type(out),
        Ok(found) => found,
    };
    write::array_len(out, args.len() - 2);
    for member in args.iter().skip(2) {
        match found.and_then(|set| set.score(member)) {
            None => write::null_array(out, proto),
            Some(score) => {
                let (long, lat) = decode(score as u64);
                write::array_len(out, 2);
                human_double(out, long, proto);
                human_double(out, lat, proto);
            }
        }
    }
}

/// `GEODIST key member1 member2 [M|KM|FT|MI]`.
fn geodist(args: &Command<'_>, keys: &ShardKeys<'_>, proto: Proto, out: &mut Vec<u8>) {
    let to_meter = match args.len() {
        4 => 1.0,
        5 => match unit(args.at(4)) {
            Ok(to_meter) => to_meter,
            Err(error) => return write::error(out, error),
        },
        _ => return write::error(out, SYNTAX),
    };
    let set = match zset::zset(keys, args.at(1)) {
        Err(WrongType) => return wrong_type(out),
        Ok(None) => return write::null(out, proto),
        Ok(Some(set)) => set,
    };
    let (Some(one), Some(two)) = (set.score(args.at(2)), set.score(args.at(3))) else {
        return write::null(out, proto);
    };
    let (long1, lat1) = decode(one as u64);
    let (long2, lat2) = decode(two as u64);
    let meters = distance(long1, lat1, long2, lat2);
    write::bulk(out, fixed4(meters / to_meter).as_bytes());
}

/// Meters in one `unit` (redis's `extractUnitOrReply`).
pub(super) fn unit(unit: &[u8]) -> Result<f64, &'static str> {
    match unit.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err("ERR unsupported unit provided. please use M, KM, FT, MI"),
    }
}

/// The 52-bit geohash of a point (redis's `geohashEncodeWGS84` then
/// `geohashAlign52Bits`, 26 steps: no shift).
pub(super) fn encode(long: f64, lat: f64) -> u64 {
    let cells = (1u64 << STEP) as f64;
    let lat_offset = (lat - LAT_MIN) / (LAT_MAX - LAT_MIN) * cells;
    let long_offset = (long - LONG_MIN) / (LONG_MAX - LONG_MIN) * cells;
    interleave(lat_offset as u32, long_offset as u32)
}

/// The centre of a geohash's cell: (longitude, latitude), clamped to the
/// ranges as redis's `geohashDecodeAreaToLongLat`.
pub(super) fn decode(bits: u64) -> (f64, f64) {
    let separated = deinterleave(bits);
    let lat_cell = separated as u32;
    let long_cell = (separated >> 32) as u32;
    let cells = (1u64 << STEP) as f64;
    let at = |cell: u32, min: f64, max: f64| {
        let low = min + (f64::from(cell) / cells) * (max - min);
        let high = min + ((f64::from(cell) + 1.0) / cells) * (max - min);
        ((low + high) / 2.0).clamp(min, max)
    };
    (
        at(long_cell, LONG_MIN, LONG_MAX),
        at(lat_cell, LAT_MIN, LAT_MAX),
    )
}

/// `x`'s bits at the even positions, `y`'s at the odd ones.
pub(super) fn interleave(x: u32, y: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let spread = |v: u32| {
        let mut v = u64::from(v);
        for i in (0..5).rev() {
            v = (v | (v << S[i])) & B[i];
        }
        v
    };
    spread(x) | (spread(y) << 1)
}

/// The inverse of [`interleave`]: `x` in the low 32 bits, `y` in the high.
pub(super) fn deinterleave(bits: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555_5555_5555_5555,
        0x3333_3333_3333_3333,
        0x0F0F_0F0F_0F0F_0F0F,
        0x00FF_00FF_00FF_00FF,
        0x0000_FFFF_0000_FFFF,
        0x0000_0000_FFFF_FFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let gather = |mut v: u64| {
        for i in 0..6 {
            v = (v | (v >> S[i])) & B[i];
        }
        v
    };
    gather(bits) | (gather(bits >> 1) << 32)
}

/// The great-circle distance in meters (redis's `geohashGetDistance`).
pub(super) fn distance(long1: f64, lat1: f64, long2: f64, lat2: f64) -> f64 {
    let v = ((long2.to_radians() - long1.to_radians()) / 2.0).sin();
    if v == 0.0 {
        return EARTH_RADIUS_IN_METERS * (lat2.to_radians() - lat1.to_radians()).abs();
    }
    let (lat1, lat2) = (lat1.to_radians(), lat2.to_radians());
    let u = ((lat2 - lat1) / 2.0).sin();
    let a = u * u + lat1.cos() * lat2.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// `d` with four decimals, rounded half to even (redis's
/// `fixedpoint_d2string`).
pub(super) fn fixed4(d: f64) -> String {
    let scaled = (d * 10_000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let magnitude = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", magnitude / 10_000, magnitude % 10_000)
}

/// A coordinate as redis's `addReplyHumanLongDouble` writes it: 17
/// decimals, trailing zeros dropped; a bulk string in RESP2, a double in
/// RESP3.
pub(super) fn human_double(out: &mut Vec<u8>, value: f64, proto: Proto) {
    let mut text = format!("{value:.17}");
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        text = "0".to_string();
    }
    match proto {
        Proto::Resp2 => write::bulk(out, text.as_bytes()),
        Proto::Resp3 => {
            out.push(b',');
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}
