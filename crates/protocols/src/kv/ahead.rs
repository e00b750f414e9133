//! A window of kv requests decoded ahead of serving them, so that their
//! entries can be prefetched together: a lookup is three cache misses, one
//! after the other (`ShardKeys::prefetch`), and knowing a window's keys
//! before serving any lets those misses overlap. Both places that serve
//! many requests at once use it: a batch on the only shard
//! (`Kv::serve_alone`, from the wire's frames) and the requests another
//! shard forwarded (`serve_forwarded`, in the owner's form: `forwarded.rs`).

use percore::codec::split_frame;
use percore_keyspace::write::PREFETCH_AHEAD;

use super::forwarded::read_forwarded;
use super::handle::Op;
use super::protocol::decode_request;

/// The whole requests at the start of some input (up to
/// [`PREFETCH_AHEAD`]), each decoded once. Everything in it is `Copy`, so
/// refilling it writes a few words a request and drops nothing.
pub(super) struct Ahead<'a> {
    requests: [Decoded<'a>; PREFETCH_AHEAD],
    len: usize,
    /// The input after the window's requests.
    rest: &'a [u8],
}

/// A frame's body, and its request: `None` when it does not decode (rare:
/// the serving loop decodes that body again for its error). Forwarded
/// requests always decode, and have no frame.
pub(super) type Decoded<'a> = (&'a [u8], Option<Op<'a>>);

impl<'a> Ahead<'a> {
    pub(super) fn new() -> Ahead<'a> {
        Ahead {
            requests: [(&[], None); PREFETCH_AHEAD],
            len: 0,
            rest: &[],
        }
    }

    /// Refills the window from the start of `input`, the wire's frames.
    pub(super) fn decode(&mut self, mut input: &'a [u8]) {
        self.len = 0;
        while self.len < PREFETCH_AHEAD {
            let Some((body, rest)) = split_frame(input) else {
                break;
            };
            input = rest;
            self.requests[self.len] = (body, decode_request(body).ok().map(Op::from));
            self.len += 1;
        }
        self.rest = input;
    }

    /// Refills the window from the start of `input`, frames of requests in
    /// the owner's form; it stops at one that does not read (a bug:
    /// `forwarded.rs`).
    pub(super) fn decode_forwarded(&mut self, mut input: &'a [u8]) {
        self.len = 0;
        while self.len < PREFETCH_AHEAD {
            let Some((request, rest)) =
                split_frame(input).and_then(|(body, rest)| Some((read_forwarded(body)?, rest)))
            else {
                break;
            };
            input = rest;
            self.requests[self.len] = (&[], Some(request));
            self.len += 1;
        }
        self.rest = input;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn requests(&self) -> &[Decoded<'a>] {
        &self.requests[..self.len]
    }

    /// The input after the window.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.requests()
            .iter()
            .filter_map(|(_, decoded)| decoded.as_ref()?.key())
    }
}
