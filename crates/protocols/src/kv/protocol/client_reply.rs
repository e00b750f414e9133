//! A kv reply as a client sees it: `percore kv`, the tests and the load
//! generator's checks decode the server's reply frames with this.

use rmp::Marker;
use thiserror::Error;

use super::msgpack::{MaybeStr, Reader};
use super::RequestError;

/// A reply as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Str(String),
    /// A value that is not UTF-8 (written over resp), sent as bin.
    Bin(Vec<u8>),
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
    let owned = |field: MaybeStr<'_>| match field {
        MaybeStr::Str(text) => Ok(text.to_owned()),
        _ => Err(ReplyError("a value that is not a str")),
    };
    let marker = reader.marker()?;
    Ok(match marker {
        Marker::Null => Ok(Reply::Nil),
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
            reader.pos -= 1;
            owned(reader.string()?).map(Reply::Str)
        }
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
            reader.pos -= 1;
            match reader.text()? {
                Some(bytes) => Ok(Reply::Bin(bytes.to_vec())),
                None => Err(ReplyError("not a bin")),
            }
        }
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
            let len = match marker {
                Marker::FixArray(n) => usize::from(n),
                Marker::Array16 => reader.length(2)?,
                _ => reader.length(4)?,
            };
            let mut keys = Vec::with_capacity(len.min(reader.buf.len()));
            // A key that is not UTF-8 (bin) is shown with U+FFFD in its place.
            for _ in 0..len {
                match reader.text()? {
                    Some(key) => keys.push(String::from_utf8_lossy(key).into_owned()),
                    None => return Ok(Err(ReplyError("a key that is not a str"))),
                }
            }
            Ok(Reply::Keys(keys))
        }
        Marker::FixMap(1) => {
            let name = reader.string()?;
            let reason = reader.string()?;
            match (name, reason) {
                (MaybeStr::Str("error"), reason) => owned(reason).map(Reply::Error),
                _ => Err(ReplyError("a map that is not an error")),
            }
        }
        _ => Err(ReplyError("a type no request is answered with")),
    })
}
