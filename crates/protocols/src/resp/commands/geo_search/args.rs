//! A search's arguments (GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
//! GEORADIUSBYMEMBER and the _RO forms), read as redis 7.0's
//! `georadiusGeneric` reads them: in the same order, with the same errors.
//! What runs the search is the parent module.

use super::super::collections::parse_score;
use super::super::geo::{decode, unit, LAT_MAX, LAT_MIN};
use super::super::geohash::{Area, Shape};
use super::super::strings::SYNTAX;
use super::super::Cmd;
use crate::kv::values::ZSet;
use crate::resp::protocol::Command;

/// How the found members are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sort {
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
    pub(super) shape: Shape,
    pub(super) with_dist: bool,
    pub(super) with_hash: bool,
    pub(super) with_coord: bool,
    pub(super) sort: Sort,
    pub(super) count: usize,
    pub(super) any: bool,
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
