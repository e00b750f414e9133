//! The short way to write a simple service: a [`Handler`] answers one
//! request at a time, and [`PerRequest`] turns it into a [`Service`] whose
//! batch loop, framing and counting are the framework's. A service that
//! waits on other shards, answers a batch as a whole (kv's forwarding) or
//! pushes output nobody asked for (mq) implements [`Service`] itself.
//!
//! [`PerRequest`] is generic over the handler, so the loop is compiled for
//! each handler and `handle` is called directly, as a hand-written
//! [`Service::serve`] loop would call it: no dynamic call, no allocation.

use super::{Batch, Flow, Opening, Service};
use crate::codec::Decoder;

/// What became of one request, for the statistics
/// (docs/PROTOCOLS.md, "Statistics") and the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Answered: counts in `messages`.
    Served,
    /// Answered with an error reply: counts in `errors`.
    Failed,
    /// Nothing to count (an empty line).
    Skipped,
    /// Send what was answered, then close the connection (chat's `.`);
    /// counts in neither.
    Close,
}

/// A service that answers each request on its own.
///
/// ```no_run
/// use percore::{Handler, Lines, Opening, Reply, Server};
///
/// /// Answers every line with its length.
/// #[derive(Clone)]
/// struct Measure;
///
/// impl Handler for Measure {
///     type Decoder = Lines;
///     type Session = ();
///
///     fn open_session(&self, _: &mut Opening<'_>) {}
///
///     fn handle(&self, _: &mut (), line: &[u8], out: &mut Vec<u8>) -> Reply {
///         out.extend_from_slice(format!("{}\n", line.trim_ascii_end().len()).as_bytes());
///         Reply::Served
///     }
///
///     fn frame_too_long(&self, out: &mut Vec<u8>) {
///         out.extend_from_slice(b"too long\n");
///     }
/// }
///
/// let addr: std::net::SocketAddr = "127.0.0.1:9002".parse()?;
/// let server = Server::builder().handler("measure", [addr], Measure).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Handler: 'static {
    /// How the byte stream is cut into requests.
    type Decoder: Decoder;

    /// State kept for one connection.
    type Session;

    /// A connection was accepted: make its session (`opening` says which
    /// shard serves it, and may hold a greeting).
    fn open_session(&self, opening: &mut Opening<'_>) -> Self::Session;

    /// Appends the answer to `request` to `out`, and says what it was.
    fn handle(&self, session: &mut Self::Session, request: &[u8], out: &mut Vec<u8>) -> Reply;

    /// Appends the reply to a request longer than `--max-frame`; the
    /// connection then closes.
    fn frame_too_long(&self, out: &mut Vec<u8>);
}

/// A [`Handler`] run as a [`Service`]; `Clone` (and so a factory of itself)
/// when the handler is. [`crate::ServerBuilder::handler`] wraps it for you.
#[derive(Clone, Copy, Debug, Default)]
pub struct PerRequest<H>(pub H);

impl<H: Handler> Service for PerRequest<H> {
    type Decoder = H::Decoder;
    type Session = H::Session;

    fn open_session(&self, opening: &mut Opening<'_>) -> H::Session {
        self.0.open_session(opening)
    }

    async fn serve(&self, session: &mut H::Session, batch: &mut Batch<'_, H::Decoder>) -> Flow {
        while let Some(request) = batch.next_request() {
            match self.0.handle(session, request, batch.out()) {
                Reply::Served => batch.served(),
                Reply::Failed => batch.failed(),
                Reply::Skipped => {}
                Reply::Close => return Flow::Close,
            }
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        self.0.frame_too_long(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Lines;

    /// Counts lines by their first letter: `s` served, `f` failed, `c`
    /// closes, anything else skipped.
    struct ByLetter;

    impl Handler for ByLetter {
        type Decoder = Lines;
        type Session = u32;

        fn open_session(&self, _: &mut Opening<'_>) -> u32 {
            0
        }

        fn handle(&self, handled: &mut u32, line: &[u8], out: &mut Vec<u8>) -> Reply {
            *handled += 1;
            out.extend_from_slice(line);
            match line.first() {
                Some(b's') => Reply::Served,
                Some(b'f') => Reply::Failed,
                Some(b'c') => Reply::Close,
                _ => Reply::Skipped,
            }
        }

        fn frame_too_long(&self, _: &mut Vec<u8>) {}
    }

    fn serve(input: &[u8]) -> (Flow, u32, Vec<u8>, super::super::batch::BatchOutcome) {
        let mut decoder = Lines::default();
        let mut out = Vec::new();
        let mut handled = 0;
        let mut batch = Batch::new(input, &mut decoder, 1024, &mut out);
        let service = PerRequest(ByLetter);
        let flow = futures_lite::future::block_on(service.serve(&mut handled, &mut batch));
        let outcome = batch.outcome();
        (flow, handled, out, outcome)
    }

    #[test]
    fn the_framework_counts_what_handle_says() {
        let (flow, handled, out, outcome) = serve(b"s1\nf1\n\ns2\nx\n");
        assert_eq!(flow, Flow::Continue);
        assert_eq!(handled, 5);
        assert_eq!(out, b"s1\nf1\n\ns2\nx\n");
        assert_eq!((outcome.served, outcome.errors), (2, 1));
    }

    #[test]
    fn close_stops_the_batch_after_its_answer() {
        let (flow, handled, out, outcome) = serve(b"s1\nc\ns2\n");
        assert_eq!(flow, Flow::Close);
        assert_eq!(handled, 2);
        assert_eq!(out, b"s1\nc\n");
        assert_eq!((outcome.served, outcome.errors), (1, 0));
    }
}
