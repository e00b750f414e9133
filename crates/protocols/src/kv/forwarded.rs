//! kv's requests on their way to the shard that owns their keys (the key
//! space's mesh: `route.rs` writes them, `serve_forwarded` runs them). The
//! shard that read a request from its client has decoded and checked it
//! already, so it travels as the request itself rather than as its
//! MessagePack: a tag byte, then the key and the value, each after its
//! length (4 bytes, little-endian), in the frame the round engine gives
//! each forwarded request (`percore_keyspace::round`). The owner parses no
//! MessagePack: on the hop bench, decoding the frames a second time was
//! about 40 % of the owner's CPU (results/scaling.md, session 39).
//!
//! The text was checked where the request was decoded, and the store runs
//! bytes ([`Op`]): the owner reads it as bytes, unchecked again (checking it
//! was another 14 % of the owner's CPU). Only the shards of one process
//! write and read this form; the owner still checks every length, so a body
//! it cannot read, which would be a bug, ends its reading of that message
//! and never a panic; the round engine answers the requests left without a
//! reply as a shard gone.

use super::handle::Op;
use super::protocol::Request;

const GET: u8 = b'G';
const PUT: u8 = b'P';
const DEL: u8 = b'D';
const LIST_KEYS: u8 = b'L';

/// Appends `request` in the owner's form (a frame's body).
pub fn push_forwarded(out: &mut Vec<u8>, request: &Request<'_>) {
    match *request {
        Request::Get { key } => {
            out.push(GET);
            push_text(out, key);
        }
        Request::Put { key, val } => {
            out.push(PUT);
            push_text(out, key);
            push_text(out, val);
        }
        Request::Del { key } => {
            out.push(DEL);
            push_text(out, key);
        }
        Request::ListKeys => out.push(LIST_KEYS),
    }
}

fn push_text(out: &mut Vec<u8>, text: &str) {
    // A request's text came in one frame, which `--max-frame` bounds far
    // below 4 GiB.
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

/// The request a frame's body holds in the owner's form; `None` when it
/// holds anything else.
pub(crate) fn read_forwarded(body: &[u8]) -> Option<Op<'_>> {
    let (&tag, rest) = body.split_first()?;
    let (op, rest) = match tag {
        GET => {
            let (key, rest) = text(rest)?;
            (Op::Get { key }, rest)
        }
        PUT => {
            let (key, rest) = text(rest)?;
            let (val, rest) = text(rest)?;
            (Op::Put { key, val }, rest)
        }
        DEL => {
            let (key, rest) = text(rest)?;
            (Op::Del { key }, rest)
        }
        LIST_KEYS => (Op::ListKeys, rest),
        _ => return None,
    };
    rest.is_empty().then_some(op)
}

/// A length and the bytes it counts, and what follows them.
fn text(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = input.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn request() -> impl Strategy<Value = (u8, String, String)> {
        (0..4u8, ".{0,40}", ".{0,40}")
    }

    fn of((kind, key, val): &(u8, String, String)) -> Request<'_> {
        match kind {
            0 => Request::Get { key },
            1 => Request::Put { key, val },
            2 => Request::Del { key },
            _ => Request::ListKeys,
        }
    }

    proptest! {
        /// A request reads back as written.
        #[test]
        fn a_request_reads_back_as_written(request in request()) {
            let mut body = Vec::new();
            push_forwarded(&mut body, &of(&request));
            prop_assert_eq!(read_forwarded(&body), Some(Op::from(of(&request))));
        }

        /// Any bytes: a request or `None`, never a panic.
        #[test]
        fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..64)) {
            let _ = read_forwarded(&bytes);
        }

        /// A body cut short, or with bytes after its request, is `None`.
        #[test]
        fn only_a_whole_body_reads(
            request in request(),
            cut in any::<prop::sample::Index>(),
            extra in vec(any::<u8>(), 1..8),
        ) {
            let mut body = Vec::new();
            push_forwarded(&mut body, &of(&request));
            prop_assert_eq!(read_forwarded(&body[..cut.index(body.len())]), None);
            body.extend_from_slice(&extra);
            prop_assert_eq!(read_forwarded(&body), None);
        }
    }
}
