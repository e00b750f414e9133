//! echo (docs/PROTOCOLS.md §3.2): every byte comes back, in order, with no framing. Each
//! read counts as one message.
//!
//! ```python
//! async def handle(reader, writer):
//!     while data := await reader.read(65536):
//!         writer.write(data)
//! ```

use percore::codec::Raw;
use percore::service::{Batch, Flow, Opening, Service};

#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

impl Service for Echo {
    type Decoder = Raw;
    type Session = ();

    fn open_session(&self, _: &mut Opening<'_>) {}

    /// Nothing is kept between lines: a connection may move (moving.rs).
    fn movable(&self, _: &()) -> bool {
        true
    }

    async fn serve(&self, _: &mut (), batch: &mut Batch<'_, Raw>) -> Flow {
        while let Some(data) = batch.next_request() {
            batch.out().extend_from_slice(data);
            batch.served();
        }
        Flow::Continue
    }

    /// Raw framing never reports a frame too long: nothing to say.
    fn frame_too_long(&self, _out: &mut Vec<u8>) {}
}
