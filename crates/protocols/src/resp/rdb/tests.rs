//! DUMP and RESTORE payloads checked: Redis 7.0.15's own DUMPs read back
//! (captured from redis-server), percore's written and read back for any
//! value, a Redis 6 ziplist read, and no input that panics or is taken for
//! a value when its checksum is wrong.

use proptest::prelude::*;

use super::*;
use crate::kv::values::{Aggregate, Hash, List, OwnedValue, Set, ZSet};

/// `DUMP key` of redis-server 7.0.15 (default configuration) for:
/// s = "hello", n = "12345", neg = "-5", big = "ab" × 40 (LZF), l = [a 1
/// -300 70000 bb] (a quicklist of one listpack), si = {1 2 -3 100000} (an
/// intset), ss = {x y z}, h = {f: v, n: 7} (a listpack), z = {c: -inf, a:
/// 1.5, b: 2} (a listpack), hb = 200 fields f<i>: v<i> (an LZF-compressed
/// listpack), lb = 20 items of 50 "x" and <i> (a compressed quicklist).
const REDIS_DUMPS: &[(&str, &str)] = &[
    ("s", "000568656c6c6f0a006372df766534200a"),
    ("n", "00c139300a009d94ea2793fc08b9"),
    ("neg", "00c0fb0a0049c4c6f4d7263f68"),
    ("big", "00c30a405002616261e042010161620a00949d5f0eb1dea445"),
    ("l", "120102181800000005008161020101ded402f27011010482626203ff0a00872e1b02fe2e9227"),
    ("si", "0b180400000004000000fdffffff0100000002000000a08601000a00e56f68d5ee10feb5"),
    ("ss", "02030178017a01790a00da91d4bd17aaee8b"),
    ("h", "1012120000000400816602817602816e020701ff0a00b82adea8407ffaa8"),
    ("z", "111d1d0000000600816302842d696e660581610283312e35048162020201ff0a0017dce91ab8436c89"),
    (
        "hb",
        concat!(
            "10c34608488b0b8b08000090018266300382762003016631200720030166322007200301663320072003016634200720",
            "030166352007200301663620072003016637200720030166382007200301663920070839038366313004837640040266",
            "313140092004026631324009200402663133400920040266313440092004026631354009200402663136400920040266",
            "3137400920040266313840092004026631394009200401663240634004016632205e00764004016632205e0076400401",
            "6632205e00764004016632205e00764004016632205e00764004016632205e00764004016632205e0076400401663220",
            "5e00764004016632205e0076400401663340634004016633406340040166334063400401663340634004016633406340",
            "040166334063400401663340634004016633406340040166334063400401663340634004016634406340040166344063",
            "400401663440634004016634406340040166344063400401663440634004016634406340040166344063400401663440",
            "634004016634406340040166354063400401663540634004016635406340040166354063400401663540634004016635",
            "406340040166354063400401663540634004016635406340040166354063400401663640634004016636406340040166",
            "364063400401663640634004016636406340040166364063400401663640634004016636406340040166364063400401",
            "663640634004016637406340040166374063400401663740634004016637406340040166374063400401663740634004",
            "016637406340040166374063400401663740634004016637406340040166384063400401663840634004016638406340",
            "040166384063400401663840634004016638406340040166384063400401663840634004016638406340040166384063",
            "400401663940634004016639406340040166394063400401663940634004016639406340040166394063400401663940",
            "634004016639406340040166394063400401663940632004008423830230058423842005200b0031600b2005200b0032",
            "600b2005200b0033600b2005200b0034600b2005200b0035600b2005200b0036600b2005200b0037600b2005200b0038",
            "600b2005200b0039600b200523f1207123f22005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005245f2071",
            "24602005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b200524cd207124ce2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005253b2071253c2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b200525a92071",
            "25aa2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b20052617207126182005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b20052685207126862005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b200526f32071",
            "26f42005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b20052761207127622005200b2071200b2005200b2071",
            "200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071200b2005200b2071",
            "200b2005200b2071200b023905ff0a00da5d5b6fb57b8f6b",
        ),
    ),
    (
        "lb",
        concat!(
            "120102c34075443507350400001400b378e02800013034e02a340031e02b340032e02b340033e02b340034e02b340035",
            "e02b340036e02b340037e02b340038e02b34023934b4e228100378313035e02b350031e02c350032e02c350033e02c35",
            "0034e02c350035e02c350036e02c350037e02c350038e02c35023935ff0a000a846fd164f379ab",
        ),
    ),
];

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn dump_of(name: &str) -> Vec<u8> {
    let (_, hex) = REDIS_DUMPS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a dump");
    unhex(hex)
}

fn aggregate(payload: &[u8]) -> Aggregate {
    match read_payload(payload) {
        Ok(OwnedValue::Agg(aggregate)) => aggregate,
        other => panic!("not an aggregate: {other:?}"),
    }
}

fn string(payload: &[u8]) -> Vec<u8> {
    match read_payload(payload) {
        Ok(OwnedValue::Str(bytes)) => bytes.into_vec(),
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn redis_7_dumps_are_read() {
    assert_eq!(string(&dump_of("s")), b"hello");
    assert_eq!(string(&dump_of("n")), b"12345");
    assert_eq!(string(&dump_of("neg")), b"-5");
    assert_eq!(string(&dump_of("big")), "ab".repeat(40).as_bytes());
    let Aggregate::List(list) = aggregate(&dump_of("l")) else {
        panic!("a list")
    };
    let items: Vec<&[u8]> = list.iter().collect();
    assert_eq!(items, [&b"a"[..], b"1", b"-300", b"70000", b"bb"]);
    let Aggregate::Set(set) = aggregate(&dump_of("si")) else {
        panic!("a set")
    };
    let mut members: Vec<&[u8]> = set.iter().collect();
    members.sort();
    assert_eq!(members, [&b"-3"[..], b"1", b"100000", b"2"]);
    let Aggregate::Set(set) = aggregate(&dump_of("ss")) else {
        panic!("a set")
    };
    assert!(set.len() == 3 && [b"x", b"y", b"z"].iter().all(|m| set.contains(*m)));
    let Aggregate::Hash(hash) = aggregate(&dump_of("h")) else {
        panic!("a hash")
    };
    assert_eq!(
        (hash.len(), hash.get(b"f"), hash.get(b"n")),
        (2, Some(&b"v"[..]), Some(&b"7"[..]))
    );
    let Aggregate::ZSet(zset) = aggregate(&dump_of("z")) else {
        panic!("a sorted set")
    };
    let members: Vec<(&[u8], f64)> = zset.iter().collect();
    assert_eq!(
        members,
        [(&b"c"[..], f64::NEG_INFINITY), (b"a", 1.5), (b"b", 2.0)]
    );
    let Aggregate::Hash(hash) = aggregate(&dump_of("hb")) else {
        panic!("a hash")
    };
    assert_eq!(hash.len(), 200);
    assert!(
        (0..200).all(|i| hash.get(format!("f{i}").as_bytes()) == Some(format!("v{i}").as_bytes()))
    );
    let Aggregate::List(list) = aggregate(&dump_of("lb")) else {
        panic!("a list")
    };
    let expected: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("{}{i}", "x".repeat(50)).into_bytes())
        .collect();
    assert!(list.iter().eq(expected.iter().map(Vec::as_slice)));
}

#[test]
fn a_redis_6_ziplist_is_read() {
    // [a, 5, -300]: a 1-byte string, an immediate integer, an int16.
    let mut ziplist = vec![20, 0, 0, 0, 15, 0, 0, 0, 3, 0];
    ziplist.extend_from_slice(&[0x00, 0x01, b'a', 0x03, 0xf6, 0x02, 0xc0, 0xd4, 0xfe, 0xff]);
    let mut payload = vec![TYPE_LIST_ZIPLIST, ziplist.len() as u8];
    payload.extend_from_slice(&ziplist);
    payload.extend_from_slice(&9u16.to_le_bytes());
    let crc = crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let Aggregate::List(list) = aggregate(&payload) else {
        panic!("a list")
    };
    let items: Vec<&[u8]> = list.iter().collect();
    assert_eq!(items, [&b"a"[..], b"5", b"-300"]);
}

#[test]
fn a_wrong_footer_or_body_is_refused_with_redis_words() {
    let mut payload = dump_of("s");
    let last = payload.len() - 1;
    payload[last] ^= 1;
    assert_eq!(
        read_payload(&payload).unwrap_err(),
        PayloadError::VersionOrChecksum
    );
    assert_eq!(
        read_payload(b"short").unwrap_err(),
        PayloadError::VersionOrChecksum
    );
    // A newer RDB version.
    let mut newer = vec![TYPE_STRING, 1, b'x'];
    newer.extend_from_slice(&(RDB_VERSION + 1).to_le_bytes());
    let crc = crc64(&newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        read_payload(&newer).unwrap_err(),
        PayloadError::VersionOrChecksum
    );
    // A sound footer over a body that is not a value: an unknown type, a
    // length past the end, an empty set.
    for body in [&[99u8][..], &[TYPE_STRING, 9, b'x'], &[TYPE_SET, 0]] {
        assert_eq!(
            read_payload(&sealed(body)).unwrap_err(),
            PayloadError::BadFormat
        );
    }
    assert_eq!(PayloadError::BadFormat.to_string(), "Bad data format");
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..40)
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("a score", |s| !s.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
}

fn value() -> impl Strategy<Value = OwnedValue> {
    let items = || prop::collection::vec(bytes(), 1..30);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..20_000)
            .prop_map(|b| OwnedValue::Str(b.into_boxed_slice())),
        items().prop_map(|items| {
            let mut list = List::default();
            items.iter().for_each(|item| list.push_back(item));
            OwnedValue::Agg(Aggregate::List(list))
        }),
        items().prop_map(|items| {
            let mut set = Set::default();
            items.iter().for_each(|item| {
                set.add(item);
            });
            OwnedValue::Agg(Aggregate::Set(set))
        }),
        prop::collection::vec((bytes(), score()), 1..30).prop_map(|pairs| {
            let mut zset = ZSet::default();
            pairs.iter().for_each(|(member, score)| {
                zset.insert(member, *score);
            });
            OwnedValue::Agg(Aggregate::ZSet(zset))
        }),
        prop::collection::vec((bytes(), bytes()), 1..30).prop_map(|pairs| {
            let mut hash = Hash::default();
            pairs.iter().for_each(|(field, value)| {
                hash.set(field, value);
            });
            OwnedValue::Agg(Aggregate::Hash(hash))
        }),
    ]
}

proptest! {
    /// What DUMP writes, RESTORE reads back as the same value: written
    /// again, it is the same payload, byte for byte.
    #[test]
    fn every_value_reads_back(value in value()) {
        let mut payload = Vec::new();
        write_payload(value.as_ref(), &mut payload);
        let read = read_payload(&payload).expect("percore reads its own dump");
        prop_assert_eq!(read.as_ref().kind(), value.as_ref().kind());
        let mut again = Vec::new();
        write_payload(read.as_ref(), &mut again);
        prop_assert_eq!(again, payload);
    }

    /// Any bytes, and any body behind a sound footer, give a value or an
    /// error: never a panic.
    #[test]
    fn no_input_panics(raw in prop::collection::vec(any::<u8>(), 0..300), kind in 0u8..20) {
        let _ = read_payload(&raw);
        let mut body = vec![kind];
        body.extend_from_slice(&raw);
        let _ = read_payload(&sealed(&body));
    }
}
