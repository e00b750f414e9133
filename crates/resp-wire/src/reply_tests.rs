//! Tests of the reply reader: every type, every error, and properties: a
//! written reply reads back whole, its prefixes read as incomplete, and no
//! bytes make it panic.

use proptest::prelude::*;

use super::*;

/// Writes `value` as a server would.
fn encode(value: &Value<'_>, out: &mut Vec<u8>) {
    let bulk = |kind: u8, data: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(&[kind]);
        out.extend_from_slice(format!("{}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    };
    let line = |kind: u8, text: &[u8], out: &mut Vec<u8>| {
        out.push(kind);
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    };
    match value {
        Value::Simple(s) => line(b'+', s, out),
        Value::Error(s) => line(b'-', s, out),
        Value::Int(n) => line(b':', n.to_string().as_bytes(), out),
        Value::Bulk(None) => line(b'$', b"-1", out),
        Value::Bulk(Some(data)) => bulk(b'$', data, out),
        Value::Array(None) => line(b'*', b"-1", out),
        Value::Array(Some(items)) | Value::Set(items) | Value::Push(items) => {
            let kind = match value {
                Value::Set(_) => b'~',
                Value::Push(_) => b'>',
                _ => b'*',
            };
            line(kind, items.len().to_string().as_bytes(), out);
            items.iter().for_each(|item| encode(item, out));
        }
        Value::Map(pairs) => {
            line(b'%', pairs.len().to_string().as_bytes(), out);
            for (key, value) in pairs {
                encode(key, out);
                encode(value, out);
            }
        }
        Value::Null => line(b'_', b"", out),
        Value::Bool(b) => line(b'#', if *b { b"t" } else { b"f" }, out),
        Value::Double(d) => line(b',', d.to_string().as_bytes(), out),
        Value::BigNumber(digits) => line(b'(', digits, out),
        Value::Verbatim { format, text } => bulk(b'=', &[format, &b":"[..], text].concat(), out),
        Value::BulkError(data) => bulk(b'!', data, out),
    }
}

fn read(buf: &[u8]) -> Result<Option<(Value<'_>, usize)>, ReplyError> {
    let parsed = parse_reply(buf);
    assert_eq!(
        reply_len(buf),
        parsed.clone().map(|ok| ok.map(|(_, len)| len))
    );
    parsed
}

fn whole(buf: &[u8]) -> Value<'_> {
    match read(buf) {
        Ok(Some((value, len))) if len == buf.len() => value,
        other => panic!("{buf:?}: {other:?}"),
    }
}

#[test]
fn every_reply_type_reads() {
    assert_eq!(whole(b"+OK\r\n"), Value::Simple(b"OK"));
    assert_eq!(whole(b"-ERR no\r\n"), Value::Error(b"ERR no"));
    assert_eq!(whole(b":-42\r\n"), Value::Int(-42));
    assert_eq!(whole(b"$3\r\na\r\n\r\n"), Value::Bulk(Some(b"a\r\n")));
    assert_eq!(whole(b"$0\r\n\r\n"), Value::Bulk(Some(b"")));
    assert_eq!(whole(b"$-1\r\n"), Value::Bulk(None));
    assert_eq!(whole(b"*-1\r\n"), Value::Array(None));
    assert_eq!(whole(b"*0\r\n"), Value::Array(Some(vec![])));
    assert_eq!(
        whole(b"*2\r\n*1\r\n:1\r\n$-1\r\n"),
        Value::Array(Some(vec![
            Value::Array(Some(vec![Value::Int(1)])),
            Value::Bulk(None)
        ]))
    );
    assert_eq!(whole(b"_\r\n"), Value::Null);
    assert_eq!(whole(b"#t\r\n"), Value::Bool(true));
    assert_eq!(whole(b"#f\r\n"), Value::Bool(false));
    assert_eq!(whole(b",1.5\r\n"), Value::Double(1.5));
    assert_eq!(whole(b",-inf\r\n"), Value::Double(f64::NEG_INFINITY));
    assert!(matches!(whole(b",nan\r\n"), Value::Double(d) if d.is_nan()));
    assert_eq!(
        whole(b"(-123456789012345678901234567890\r\n"),
        Value::BigNumber(b"-123456789012345678901234567890")
    );
    assert_eq!(
        whole(b"=7\r\ntxt:abc\r\n"),
        Value::Verbatim {
            format: b"txt",
            text: b"abc"
        }
    );
    assert_eq!(whole(b"!5\r\nERR x\r\n"), Value::BulkError(b"ERR x"));
    assert_eq!(
        whole(b"%1\r\n+k\r\n~2\r\n#t\r\n_\r\n"),
        Value::Map(vec![(
            Value::Simple(b"k"),
            Value::Set(vec![Value::Bool(true), Value::Null])
        )])
    );
    assert_eq!(
        whole(b">1\r\n+msg\r\n"),
        Value::Push(vec![Value::Simple(b"msg")])
    );
    // An attribute goes with the reply after it, and is dropped.
    assert_eq!(whole(b"|1\r\n+ttl\r\n:3\r\n+OK\r\n"), Value::Simple(b"OK"));
    assert_eq!(
        whole(b"*1\r\n|0\r\n:1\r\n"),
        Value::Array(Some(vec![Value::Int(1)]))
    );
    // Only the first reply counts.
    assert_eq!(read(b"+A\r\n+B\r\n"), Ok(Some((Value::Simple(b"A"), 4))));
}

#[test]
fn incomplete_replies_wait() {
    for partial in [
        &b""[..],
        b"+OK",
        b"+OK\r",
        b"$3\r\nab",
        b"$3\r\nabc\r",
        b"*2\r\n:1\r\n",
        b"|1\r\n+a\r\n:1\r\n",
        b"%1\r\n+k\r\n",
    ] {
        assert_eq!(read(partial), Ok(None), "{partial:?}");
    }
}

#[test]
fn malformed_replies_are_errors() {
    let cases: &[(&[u8], ReplyError)] = &[
        (b"?x\r\n", ReplyError::UnknownType(b'?')),
        (b"+OK\n", ReplyError::BadLineEnd),
        (b"+OK\rX", ReplyError::BadLineEnd),
        (b"$1\r\nabc\r\n", ReplyError::BadLineEnd),
        (b"$-2\r\n", ReplyError::InvalidLength),
        (b"$x\r\n", ReplyError::InvalidLength),
        (b"~-1\r\n", ReplyError::InvalidLength),
        (b"%-1\r\n", ReplyError::InvalidLength),
        (b"*?\r\n", ReplyError::InvalidLength),
        (b":1.5\r\n", ReplyError::InvalidScalar("integer")),
        (b",x\r\n", ReplyError::InvalidScalar("double")),
        (
            b"#x\r\n",
            ReplyError::InvalidScalar("null, boolean or big number"),
        ),
        (
            b"(1a\r\n",
            ReplyError::InvalidScalar("null, boolean or big number"),
        ),
        (
            b"_x\r\n",
            ReplyError::InvalidScalar("null, boolean or big number"),
        ),
        (
            b"=3\r\ntxt\r\n",
            ReplyError::InvalidScalar("verbatim string"),
        ),
    ];
    for (bad, want) in cases {
        assert_eq!(read(bad), Err(*want), "{bad:?}");
    }
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| {
        let mut buf = b"*1\r\n".repeat(depth);
        buf.extend_from_slice(b":1\r\n");
        buf
    };
    assert!(matches!(read(&nested(MAX_DEPTH)), Ok(Some(_))));
    assert_eq!(read(&nested(MAX_DEPTH + 1)), Err(ReplyError::TooDeep));
    // Deep but flat is fine: depth is nesting, not size.
    let mut wide = b"*1000\r\n".to_vec();
    wide.extend_from_slice(&b"*1\r\n:1\r\n".repeat(1000));
    assert!(matches!(read(&wide), Ok(Some((_, len))) if len == wide.len()));
}

fn value() -> impl Strategy<Value = Value<'static>> {
    let text = || proptest::collection::vec(any::<u8>(), 0..12).prop_map(|v| &*v.leak());
    let line = || "[a-zA-Z0-9 ]{0,10}".prop_map(|s| s.leak().as_bytes());
    let leaf = prop_oneof![
        line().prop_map(Value::Simple),
        line().prop_map(Value::Error),
        any::<i64>().prop_map(Value::Int),
        proptest::option::of(text()).prop_map(Value::Bulk),
        Just(Value::Array(None)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1e300f64..1e300).prop_map(Value::Double),
        "-?[1-9][0-9]{0,40}".prop_map(|s| Value::BigNumber(s.leak().as_bytes())),
        ("[a-z]{3}", text()).prop_map(|(f, t)| Value::Verbatim {
            format: f.leak().as_bytes(),
            text: t
        }),
        text().prop_map(Value::BulkError),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        let list = proptest::collection::vec(inner.clone(), 0..5);
        prop_oneof![
            list.clone().prop_map(|v| Value::Array(Some(v))),
            list.clone().prop_map(Value::Set),
            list.prop_map(Value::Push),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Value::Map),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn written_replies_read_back(value in value(), extra in proptest::collection::vec(any::<u8>(), 0..4)) {
        let mut buf = Vec::new();
        encode(&value, &mut buf);
        let len = buf.len();
        for end in 0..len {
            prop_assert_eq!(read(&buf[..end]), Ok(None));
        }
        buf.extend_from_slice(&extra);
        prop_assert_eq!(read(&buf), Ok(Some((value, len))));
    }

    #[test]
    fn no_bytes_make_the_reader_panic(
        buf in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(b'*'), Just(b'1'), Just(b'|')],
            0..64,
        )
    ) {
        let _ = read(&buf);
    }
}
