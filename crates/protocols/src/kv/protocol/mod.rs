//! The kv wire format (docs/PROTOCOLS.md §3.5): what msgspec writes for the Python original's tagged
//! request structs, and the replies its client decodes. Frames are read
//! straight with rmp's markers, borrowing from the input: no serde.
//!
//! - `request`: the request a client sends, decoded and encoded.
//! - `reply`: the replies the server writes, and the keys of a ListKeys
//!   reply read back when a shard merges its peers' answers.
//! - `client_reply`: a reply as the client reads it.
//! - `msgpack`: the MessagePack cursor and value writers they share.
//!
//! The 4-byte length before every frame is `percore::codec`'s business.

mod client_reply;
mod msgpack;
mod reply;
mod request;

pub use client_reply::{decode_reply, Reply, ReplyError};
pub use msgpack::{push_array_len, push_nil, push_str, push_text};
/// The frame's length header is the codec's; here for the replies kv builds in place.
pub use percore::codec::{begin_frame, end_frame};
pub use reply::{push_error_frame, push_nil_frame, push_str_frame, str_array, FRAME_TOO_LONG};
pub use request::{decode_request, push_request_frame, Request};

use thiserror::Error;

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

/// Every decoder of the wire format, on bytes from anywhere.
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
            let _ = decode_request(&bytes);
            let _ = decode_reply(&bytes);
            let _ = str_array(&bytes);
        }
    }
}
