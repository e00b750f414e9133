//! kv's replies as the server writes them, in the shortest MessagePack
//! forms, as msgspec writes them; and the keys of a ListKeys reply, read
//! back where a shard merges its peers' replies.

use rmp::Marker;

use super::msgpack::{push_str, push_text, Reader};
use percore::codec::{begin_frame, encode_frame, end_frame};

/// The text of a frame's `{"error": ...}` reply when the frame is too long.
pub const FRAME_TOO_LONG: &str = "Frame longer than --max-frame";

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
    encode_frame(&[Marker::Null.to_u8()], out);
}

/// Appends a whole frame holding one str (bin for bytes that are not
/// UTF-8: a value written over resp).
pub fn push_str_frame(out: &mut Vec<u8>, text: &[u8]) {
    let start = begin_frame(out);
    push_text(out, text);
    end_frame(out, start);
}

/// The strings (str or bin) of an array frame (a ListKeys reply),
/// borrowed; None when the frame is anything else.
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
        strings.push(reader.text().ok()??);
    }
    Some(strings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::protocol::{decode_reply, Reply};

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
}
