//! chat (docs/PROTOCOLS.md §3.3): every line is answered `You sent: <line>`; a line that is
//! exactly `.` ends the conversation.
//!
//! ```python
//! async def handle(reader, writer):
//!     while (line := (await reader.readline()).rstrip(b"\r\n")) != b".":
//!         writer.write(b"You sent: " + line + b"\r\n")
//!     writer.close()
//! ```

use percore::codec::{split_line_ending, Lines};
use percore::service::{Batch, Flow, Opening, Service};

#[derive(Debug, Default, Clone, Copy)]
pub struct Chat;

impl Service for Chat {
    type Decoder = Lines;
    type Session = ();

    fn open_session(&self, _: &mut Opening<'_>) {}

    async fn serve(&self, _: &mut (), batch: &mut Batch<'_, Lines>) -> Flow {
        while let Some(line) = batch.next_request() {
            let (content, _) = split_line_ending(line);
            if content == b"." {
                return Flow::Close;
            }
            let out = batch.out();
            out.extend_from_slice(b"You sent: ");
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
            batch.served();
        }
        Flow::Continue
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"ERR line too long\r\n");
    }
}
