//! A kv request: decoded from a frame straight with rmp's markers, borrowing
//! keys and values from the input (no serde, no allocation per request), and
//! encoded as msgspec encodes the Python original's request structs.
//!
//! Decoding follows msgspec's `Decoder(Request)`: `type` may stand anywhere in
//! the map, fields a request type does not have are skipped, strings must be
//! MessagePack str holding UTF-8, and nothing may follow the map.

use rmp::Marker;

use super::msgpack::{push_str, type_name, MaybeStr, Reader};
use super::RequestError;
use percore::codec::{begin_frame, end_frame};

/// One decoded request; keys and values borrow from the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Get { key: &'a str },
    Put { key: &'a str, val: &'a str },
    Del { key: &'a str },
    ListKeys,
}

impl<'a> Request<'a> {
    /// The key that decides the owner shard; `ListKeys` concerns them all.
    pub fn key(&self) -> Option<&'a str> {
        match *self {
            Request::Get { key } | Request::Put { key, .. } | Request::Del { key } => Some(key),
            Request::ListKeys => None,
        }
    }
}

/// Decodes one request frame (the bytes after the 4-byte length).
pub fn decode_request(frame: &[u8]) -> Result<Request<'_>, RequestError> {
    let mut reader = Reader { buf: frame, pos: 0 };
    let marker = reader.marker()?;
    let entries = match marker {
        Marker::FixMap(n) => u32::from(n),
        Marker::Map16 => u32::from(reader.be_u16()?),
        Marker::Map32 => reader.be_u32()?,
        other => {
            reader.skip_after(other)?;
            return Err(RequestError::NotAMap(type_name(other)));
        }
    };

    let mut kind: Option<MaybeStr<'_>> = None;
    let mut key: Option<MaybeStr<'_>> = None;
    let mut val: Option<MaybeStr<'_>> = None;
    for _ in 0..entries {
        let name = match reader.string()? {
            MaybeStr::Str(name) => name,
            MaybeStr::Wrong(got) => return Err(RequestError::FieldName(got)),
            MaybeStr::BadUtf8 => return Err(RequestError::FieldName("invalid UTF-8")),
        };
        match name {
            "type" => kind = Some(reader.string()?),
            "key" => key = Some(reader.string()?),
            "val" => val = Some(reader.string()?),
            _ => reader.skip_value()?,
        }
    }
    if reader.pos != frame.len() {
        return Err(RequestError::TrailingBytes);
    }

    let kind = required("type", kind)?;
    match kind {
        "Get" => Ok(Request::Get {
            key: required("key", key)?,
        }),
        "Put" => {
            let key = required("key", key)?;
            Ok(Request::Put {
                key,
                val: required("val", val)?,
            })
        }
        "Del" => Ok(Request::Del {
            key: required("key", key)?,
        }),
        "ListKeys" => Ok(Request::ListKeys),
        other => Err(RequestError::UnknownType(other.to_owned())),
    }
}

fn required<'a>(name: &'static str, field: Option<MaybeStr<'a>>) -> Result<&'a str, RequestError> {
    match field {
        None => Err(RequestError::Missing(name)),
        Some(MaybeStr::Wrong(got)) => Err(RequestError::NotAString { field: name, got }),
        Some(MaybeStr::BadUtf8) => Err(RequestError::InvalidUtf8(name)),
        Some(MaybeStr::Str(text)) => Ok(text),
    }
}

/// Appends a request frame, encoded as msgspec encodes the Python original's structs
/// (`type` first, then the fields in declaration order).
pub fn push_request_frame(out: &mut Vec<u8>, request: &Request<'_>) {
    let start = begin_frame(out);
    let (name, key, val): (&[u8], _, _) = match *request {
        Request::Get { key } => (b"Get", Some(key), None),
        Request::Put { key, val } => (b"Put", Some(key), Some(val)),
        Request::Del { key } => (b"Del", Some(key), None),
        Request::ListKeys => (b"ListKeys", None, None),
    };
    let fields = 1 + u32::from(key.is_some()) + u32::from(val.is_some());
    let _ = rmp::encode::write_map_len(out, fields);
    push_str(out, b"type");
    push_str(out, name);
    if let Some(key) = key {
        push_str(out, b"key");
        push_str(out, key.as_bytes());
    }
    if let Some(val) = val {
        push_str(out, b"val");
        push_str(out, val.as_bytes());
    }
    end_frame(out, start);
}

#[cfg(test)]
mod tests {
    use super::*;
    use percore::codec::frame_body;

    fn map(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = vec![0x80 | entries.len() as u8];
        for (name, value) in entries {
            push_str(&mut out, name.as_bytes());
            out.extend_from_slice(value);
        }
        out
    }

    fn s(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        push_str(&mut out, text.as_bytes());
        out
    }

    #[test]
    fn reads_what_msgspec_writes() {
        // msgspec.msgpack.encode(Get("foo"))
        let get = b"\x82\xa4type\xa3Get\xa3key\xa3foo";
        assert_eq!(decode_request(get), Ok(Request::Get { key: "foo" }));
        let put = b"\x83\xa4type\xa3Put\xa3key\xa3foo\xa3val\xa3bar";
        assert_eq!(
            decode_request(put),
            Ok(Request::Put {
                key: "foo",
                val: "bar"
            })
        );
        assert_eq!(
            decode_request(b"\x81\xa4type\xa8ListKeys"),
            Ok(Request::ListKeys)
        );
        let mut ours = Vec::new();
        push_request_frame(&mut ours, &Request::Get { key: "foo" });
        assert_eq!(frame_body(&ours), get);
    }

    #[test]
    fn type_anywhere_extra_fields_skipped_long_headers_accepted() {
        let extra = [0x92, 0x01, 0x81, 0xa1, b'x', 0xc0]; // [1, {"x": nil}]
        let frame = map(&[("key", &s("k")), ("junk", &extra), ("type", &s("Del"))]);
        assert_eq!(decode_request(&frame), Ok(Request::Del { key: "k" }));
        // map16 and str8 forms for a short map and string.
        let long = b"\xde\x00\x02\xd9\x04type\xa3Get\xa3key\xda\x00\x01k";
        assert_eq!(decode_request(long), Ok(Request::Get { key: "k" }));
        // A Get ignores a val of any type.
        let frame = map(&[("type", &s("Get")), ("key", &s("k")), ("val", &[0x05])]);
        assert_eq!(decode_request(&frame), Ok(Request::Get { key: "k" }));
    }

    #[test]
    fn bad_requests_say_why() {
        use RequestError::*;
        let cases: Vec<(Vec<u8>, RequestError)> = vec![
            (vec![], Truncated),
            (vec![0x05], NotAMap("int")),
            (b"\xa3abc".to_vec(), NotAMap("str")),
            (map(&[("key", &s("k"))]), Missing("type")),
            (map(&[("type", &s("Nope"))]), UnknownType("Nope".into())),
            (map(&[("type", &s("Get"))]), Missing("key")),
            (
                map(&[("type", &s("Get")), ("key", &[0x07])]),
                NotAString {
                    field: "key",
                    got: "int",
                },
            ),
            (
                map(&[("type", &s("Put")), ("key", &s("k"))]),
                Missing("val"),
            ),
            (
                map(&[("type", &s("Get")), ("key", b"\xc4\x01k")]),
                NotAString {
                    field: "key",
                    got: "bytes",
                },
            ),
            (
                map(&[("type", &s("Get")), ("key", b"\xa1\xff")]),
                InvalidUtf8("key"),
            ),
            (
                [map(&[("type", &s("ListKeys"))]), vec![0xc0]].concat(),
                TrailingBytes,
            ),
            (b"\x82\xa4type".to_vec(), Truncated),
            (b"\xdf\xff\xff\xff\xff".to_vec(), Truncated),
            (vec![0xc1], Reserved),
        ];
        for (frame, want) in cases {
            assert_eq!(decode_request(&frame), Err(want), "{frame:x?}");
        }
        let deep = [vec![0x81, 0xa1, b'x'], vec![0x91; 100], vec![0xc0]].concat();
        let frame = [&[0x82][..], &s("type")[..], &s("ListKeys")[..], &deep[1..]].concat();
        assert_eq!(decode_request(&frame), Err(TooDeep));
    }

    mod properties {
        use super::super::*;
        use percore::codec::frame_body;
        use proptest::collection::vec;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Owned {
            Get(String),
            Put(String, String),
            Del(String),
            ListKeys,
        }

        impl Owned {
            fn as_request(&self) -> Request<'_> {
                match self {
                    Owned::Get(key) => Request::Get { key },
                    Owned::Put(key, val) => Request::Put { key, val },
                    Owned::Del(key) => Request::Del { key },
                    Owned::ListKeys => Request::ListKeys,
                }
            }
        }

        fn request() -> impl Strategy<Value = Owned> {
            let text = || any::<String>();
            prop_oneof![
                text().prop_map(Owned::Get),
                (text(), text()).prop_map(|(k, v)| Owned::Put(k, v)),
                text().prop_map(Owned::Del),
                Just(Owned::ListKeys),
            ]
        }

        /// A MessagePack scalar or string, as an ignored field's value.
        fn junk_value() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                any::<i64>().prop_map(|n| {
                    let mut out = Vec::new();
                    let _ = rmp::encode::write_sint(&mut out, n);
                    out
                }),
                any::<String>().prop_map(|text| {
                    let mut out = Vec::new();
                    push_str(&mut out, text.as_bytes());
                    out
                }),
                vec(any::<u8>(), 0..40).prop_map(|bytes| {
                    let mut out = Vec::new();
                    let _ = rmp::encode::write_bin(&mut out, &bytes);
                    out
                }),
                Just(vec![0x92, 0xc0, 0x81, 0xa1, b'x', 0xc3]),
            ]
        }

        proptest! {
            #[test]
            fn random_maps_never_panic(n in 0u8..16, body in vec(any::<u8>(), 0..256)) {
                let frame = [&[0x80 | n][..], &body].concat();
                let _ = decode_request(&frame);
            }

            #[test]
            fn valid_requests_round_trip(request in request()) {
                let mut frame = Vec::new();
                push_request_frame(&mut frame, &request.as_request());
                prop_assert_eq!(decode_request(frame_body(&frame)), Ok(request.as_request()));
            }

            #[test]
            fn field_order_and_extra_fields_do_not_matter(
                request in request(),
                extra in vec(("[a-z]{1,8}", junk_value()), 0..4),
                seed in any::<u64>(),
            ) {
                let mut frame = Vec::new();
                push_request_frame(&mut frame, &request.as_request());
                // Take the map's entries apart, add ignored ones, shuffle.
                let mut entries: Vec<Vec<u8>> = Vec::new();
                let body = &frame_body(&frame)[1..];
                let mut reader = Reader { buf: body, pos: 0 };
                while reader.pos < body.len() {
                    let start = reader.pos;
                    reader.skip_value().unwrap();
                    reader.skip_value().unwrap();
                    entries.push(body[start..reader.pos].to_vec());
                }
                for (name, value) in &extra {
                    if ["type", "key", "val"].contains(&name.as_str()) {
                        continue;
                    }
                    let mut entry = Vec::new();
                    push_str(&mut entry, name.as_bytes());
                    entry.extend_from_slice(value);
                    entries.push(entry);
                }
                let mut state = seed | 1;
                for i in (1..entries.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    entries.swap(i, (state % (i as u64 + 1)) as usize);
                }
                // A map16 header, as some encoders write even for small maps.
                let mut map = vec![0xde];
                map.extend_from_slice(&(entries.len() as u16).to_be_bytes());
                map.extend(entries.concat());
                prop_assert_eq!(decode_request(&map), Ok(request.as_request()));
            }
        }
    }
}
