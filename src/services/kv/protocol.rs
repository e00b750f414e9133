//! The kv wire format (SPEC 3.5): what msgspec writes for the seed's tagged
//! request structs, and the replies its client decodes. Requests are read
//! straight from the frame with rmp's markers, borrowing keys and values from
//! the input: no serde, no allocation per request.
//!
//! Decoding follows msgspec's `Decoder(Request)`: `type` may stand anywhere in
//! the map, fields a request type does not have are skipped, strings must be
//! MessagePack str holding UTF-8, and nothing may follow the map.

use rmp::Marker;
use thiserror::Error;

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

/// Why a well-framed request is refused; the text goes back to the client in
/// `{"error": ...}`, worded as msgspec words it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("Input data was truncated")]
    Truncated,
    #[error("Invalid MessagePack: reserved byte 0xc1")]
    Reserved,
    #[error("Expected `object`, got `{0}`")]
    NotAMap(&'static str),
    #[error("Expected `str` for a field name, got `{0}`")]
    FieldName(&'static str),
    #[error("Object missing required field `{0}`")]
    Missing(&'static str),
    #[error("Expected `str`, got `{got}` - at `$.{field}`")]
    NotAString {
        field: &'static str,
        got: &'static str,
    },
    #[error("Invalid UTF-8 - at `$.{0}`")]
    InvalidUtf8(&'static str),
    #[error("Invalid value '{0}' - at `$.type`")]
    UnknownType(String),
    #[error("Trailing bytes after the request")]
    TrailingBytes,
    #[error("Nesting too deep")]
    TooDeep,
}

/// The text of a frame's `{"error": ...}` reply when the frame is too long.
pub const FRAME_TOO_LONG: &str = "Frame longer than --max-frame";

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

    let mut kind: Option<Field<'_>> = None;
    let mut key: Option<Field<'_>> = None;
    let mut val: Option<Field<'_>> = None;
    for _ in 0..entries {
        let name = match reader.string()? {
            Field::Str(name) => name,
            Field::Wrong(got) => return Err(RequestError::FieldName(got)),
            Field::BadUtf8 => return Err(RequestError::FieldName("invalid UTF-8")),
        };
        match name {
            b"type" => kind = Some(reader.string()?),
            b"key" => key = Some(reader.string()?),
            b"val" => val = Some(reader.string()?),
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

/// A str field as read: its text, or what stood there instead.
#[derive(Clone, Copy, Debug)]
enum Field<'a> {
    Str(&'a [u8]),
    Wrong(&'static str),
    BadUtf8,
}

fn required<'a>(name: &'static str, field: Option<Field<'a>>) -> Result<&'a str, RequestError> {
    match field {
        None => Err(RequestError::Missing(name)),
        Some(Field::Wrong(got)) => Err(RequestError::NotAString { field: name, got }),
        Some(Field::BadUtf8) => Err(RequestError::InvalidUtf8(name)),
        Some(Field::Str(bytes)) => {
            std::str::from_utf8(bytes).map_err(|_| RequestError::InvalidUtf8(name))
        }
    }
}

/// The name msgspec gives a MessagePack type in its errors.
fn type_name(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "null",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "int",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "str",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "bytes",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "object",
        Marker::Reserved => "reserved",
        _ => "ext",
    }
}

/// How deep `skip_value` follows nested arrays and maps in ignored fields.
const MAX_DEPTH: usize = 64;

/// A cursor over one frame. Every read checks the bounds: a lying length
/// gives `Truncated`, never a panic or a large allocation.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RequestError> {
        let end = self.pos.checked_add(n).ok_or(RequestError::Truncated)?;
        let bytes = self.buf.get(self.pos..end).ok_or(RequestError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn marker(&mut self) -> Result<Marker, RequestError> {
        let byte = self.take(1)?[0];
        match Marker::from_u8(byte) {
            Marker::Reserved => Err(RequestError::Reserved),
            marker => Ok(marker),
        }
    }

    fn be_u16(&mut self) -> Result<u16, RequestError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn be_u32(&mut self) -> Result<u32, RequestError> {
        let bytes = self.take(4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn length(&mut self, width: usize) -> Result<usize, RequestError> {
        Ok(match width {
            1 => usize::from(self.take(1)?[0]),
            2 => usize::from(self.be_u16()?),
            _ => self.be_u32()? as usize,
        })
    }

    /// Reads a value that should be a str; anything else is consumed and
    /// reported by its type name, so that the caller decides if it matters.
    fn string(&mut self) -> Result<Field<'a>, RequestError> {
        let len = match self.marker()? {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 => self.length(1)?,
            Marker::Str16 => self.length(2)?,
            Marker::Str32 => self.length(4)?,
            other => {
                self.skip_after(other)?;
                return Ok(Field::Wrong(type_name(other)));
            }
        };
        let bytes = self.take(len)?;
        Ok(if std::str::from_utf8(bytes).is_ok() {
            Field::Str(bytes)
        } else {
            Field::BadUtf8
        })
    }

    fn skip_value(&mut self) -> Result<(), RequestError> {
        let marker = self.marker()?;
        self.skip_after(marker)
    }

    /// Skips the rest of a value whose marker was read, nested ones included.
    fn skip_after(&mut self, first: Marker) -> Result<(), RequestError> {
        // Values still to skip at each open array or map level.
        let mut pending: [usize; MAX_DEPTH] = [0; MAX_DEPTH];
        let mut depth = 0;
        let mut marker = first;
        loop {
            let children = match marker {
                Marker::FixArray(n) => usize::from(n),
                Marker::Array16 => self.length(2)?,
                Marker::Array32 => self.length(4)?,
                Marker::FixMap(n) => 2 * usize::from(n),
                Marker::Map16 => 2 * self.length(2)?,
                Marker::Map32 => 2 * self.length(4)?,
                other => {
                    let len = self.scalar_len(other)?;
                    self.take(len)?;
                    0
                }
            };
            if children > 0 {
                // Each element takes at least a byte: a count past the end
                // of the frame is a lie, refused before it is walked.
                if children > self.buf.len() - self.pos {
                    return Err(RequestError::Truncated);
                }
                if depth == MAX_DEPTH {
                    return Err(RequestError::TooDeep);
                }
                pending[depth] = children;
                depth += 1;
            }
            while depth > 0 && pending[depth - 1] == 0 {
                depth -= 1;
            }
            if depth == 0 {
                return Ok(());
            }
            pending[depth - 1] -= 1;
            marker = self.marker()?;
        }
    }

    /// Bytes that follow a scalar's marker.
    fn scalar_len(&mut self, marker: Marker) -> Result<usize, RequestError> {
        Ok(match marker {
            Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
                0
            }
            Marker::U8 | Marker::I8 => 1,
            Marker::U16 | Marker::I16 => 2,
            Marker::U32 | Marker::I32 | Marker::F32 => 4,
            Marker::U64 | Marker::I64 | Marker::F64 => 8,
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 | Marker::Bin8 => self.length(1)?,
            Marker::Str16 | Marker::Bin16 => self.length(2)?,
            Marker::Str32 | Marker::Bin32 => self.length(4)?,
            Marker::FixExt1 => 2,
            Marker::FixExt2 => 3,
            Marker::FixExt4 => 5,
            Marker::FixExt8 => 9,
            Marker::FixExt16 => 17,
            Marker::Ext8 => self.length(1)? + 1,
            Marker::Ext16 => self.length(2)? + 1,
            Marker::Ext32 => self.length(4)? + 1,
            _ => return Err(RequestError::Reserved),
        })
    }
}

// Replies. Writing into a Vec cannot fail, so rmp's results are dropped.

/// Starts a frame in `out`; [`end_frame`] fills in its length.
pub fn begin_frame(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0; 4]);
    out.len()
}

/// Writes the length of the frame begun at `start`.
pub fn end_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start) as u32;
    out[start - 4..start].copy_from_slice(&len.to_be_bytes());
}

pub fn push_nil(out: &mut Vec<u8>) {
    let _ = rmp::encode::write_nil(out);
}

pub fn push_str(out: &mut Vec<u8>, text: &[u8]) {
    let _ = rmp::encode::write_str_len(out, text.len() as u32);
    out.extend_from_slice(text);
}

pub fn push_array_len(out: &mut Vec<u8>, len: usize) {
    let _ = rmp::encode::write_array_len(out, len as u32);
}

/// Appends a whole `{"error": reason}` frame.
pub fn push_error_frame(out: &mut Vec<u8>, reason: &str) {
    let start = begin_frame(out);
    let _ = rmp::encode::write_map_len(out, 1);
    push_str(out, b"error");
    push_str(out, reason.as_bytes());
    end_frame(out, start);
}

/// Appends a whole frame holding nil.
pub fn push_nil_frame(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0, 0, 0, 1, 0xc0]);
}

/// Appends a whole frame holding one str.
pub fn push_str_frame(out: &mut Vec<u8>, text: &[u8]) {
    let start = begin_frame(out);
    push_str(out, text);
    end_frame(out, start);
}

/// Appends a request frame, encoded as msgspec encodes the seed's structs
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

/// The strings of an array frame (a ListKeys reply), borrowed; None when
/// the frame is anything else.
pub fn str_array(frame: &[u8]) -> Option<Vec<&[u8]>> {
    let mut reader = Reader { buf: frame, pos: 0 };
    let len = match reader.marker().ok()? {
        Marker::FixArray(n) => usize::from(n),
        Marker::Array16 => reader.length(2).ok()?,
        Marker::Array32 => reader.length(4).ok()?,
        _ => return None,
    };
    let mut strings = Vec::with_capacity(len.min(frame.len()));
    for _ in 0..len {
        match reader.string().ok()? {
            Field::Str(bytes) => strings.push(bytes),
            _ => return None,
        }
    }
    Some(strings)
}

/// A reply as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Str(String),
    Keys(Vec<String>),
    Error(String),
}

/// Why a reply frame could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("unexpected reply from the server: {0}")]
pub struct ReplyError(&'static str);

/// Decodes one reply frame (the bytes after the 4-byte length).
pub fn decode_reply(frame: &[u8]) -> Result<Reply, ReplyError> {
    let mut reader = Reader { buf: frame, pos: 0 };
    let reply = read_reply(&mut reader).map_err(|_| ReplyError("not MessagePack"))?;
    if reader.pos != frame.len() {
        return Err(ReplyError("trailing bytes"));
    }
    reply
}

fn read_reply(reader: &mut Reader<'_>) -> Result<Result<Reply, ReplyError>, RequestError> {
    let owned = |field: Field<'_>| match field {
        Field::Str(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        _ => Err(ReplyError("a value that is not a str")),
    };
    let marker = reader.marker()?;
    Ok(match marker {
        Marker::Null => Ok(Reply::Nil),
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
            reader.pos -= 1;
            owned(reader.string()?).map(Reply::Str)
        }
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
            let len = match marker {
                Marker::FixArray(n) => usize::from(n),
                Marker::Array16 => reader.length(2)?,
                _ => reader.length(4)?,
            };
            let mut keys = Vec::with_capacity(len.min(reader.buf.len()));
            for _ in 0..len {
                match owned(reader.string()?) {
                    Ok(key) => keys.push(key),
                    Err(e) => return Ok(Err(e)),
                }
            }
            Ok(Reply::Keys(keys))
        }
        Marker::FixMap(1) => {
            let name = reader.string()?;
            let reason = reader.string()?;
            match (name, reason) {
                (Field::Str(b"error"), reason) => owned(reason).map(Reply::Error),
                _ => Err(ReplyError("a map that is not an error")),
            }
        }
        _ => Err(ReplyError("a type no request is answered with")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(&ours[4..], get);
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

    #[test]
    fn replies_use_the_shortest_forms() {
        let mut out = Vec::new();
        push_nil_frame(&mut out);
        push_str_frame(&mut out, b"bar");
        push_error_frame(&mut out, "bad");
        assert_eq!(
            out,
            b"\0\0\0\x01\xc0\0\0\0\x04\xa3bar\0\0\0\x0b\x81\xa5error\xa3bad"
        );
        assert_eq!(decode_reply(&out[4..5]), Ok(Reply::Nil));
        assert_eq!(decode_reply(&out[9..13]), Ok(Reply::Str("bar".into())));
        assert_eq!(decode_reply(&out[17..]), Ok(Reply::Error("bad".into())));
        let mut long = Vec::new();
        push_str(&mut long, &[b'x'; 40]);
        assert_eq!(&long[..2], &[0xd9, 40]);
    }

    mod properties {
        use super::super::*;
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
            fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
                let _ = decode_request(&bytes);
                let _ = decode_reply(&bytes);
                let _ = str_array(&bytes);
            }

            #[test]
            fn random_maps_never_panic(n in 0u8..16, body in vec(any::<u8>(), 0..256)) {
                let frame = [&[0x80 | n][..], &body].concat();
                let _ = decode_request(&frame);
            }

            #[test]
            fn valid_requests_round_trip(request in request()) {
                let mut frame = Vec::new();
                push_request_frame(&mut frame, &request.as_request());
                prop_assert_eq!(decode_request(&frame[4..]), Ok(request.as_request()));
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
                let body = &frame[5..];
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
