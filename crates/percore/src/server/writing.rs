//! How the connection loop (connection.rs) writes and ends: replies and
//! pushed output written whole unless the outbox overflows first, the
//! counting of what ended a connection, and the lingering close that keeps
//! a peer's last replies from being lost to a reset.

use std::io;
use std::time::Duration;

use futures_lite::{AsyncReadExt, FutureExt};

use super::outbox::Outbox;
use crate::stats::LiveStats;
use crate::transport::Transport;

/// An output buffer grown past this by one huge reply is given back afterwards;
/// a batch that spent its budget normally stays below it.
pub(super) const OUTPUT_SHRINK_ABOVE: usize = 2 * crate::service::OUTPUT_BUDGET;
/// How long a closing connection waits for its peer to stop sending.
const LINGER: Duration = Duration::from_secs(2);
/// How much a closing connection reads and discards while lingering.
const LINGER_MAX_BYTES: usize = 4 << 20;

/// Why a write ended the connection.
pub(super) enum Ended {
    Io(io::Error),
    /// The outbox passed its cap while we waited.
    Overflowed,
}

impl Ended {
    pub(super) fn count(self, stats: &LiveStats, outbox: Option<&Outbox>) {
        match self {
            Ended::Io(error) => count_idle_close(&error, stats),
            Ended::Overflowed => {
                if let Some(outbox) = outbox {
                    outbox.count_overflow_close();
                }
            }
        }
    }
}

/// Writes `bytes`, unless the outbox overflows first: a peer that does not
/// read would otherwise keep the connection, stuck in this write, forever.
pub(super) async fn write_unless_overflowed(
    stream: &mut impl Transport,
    bytes: &[u8],
    outbox: Option<&Outbox>,
) -> Result<(), Ended> {
    let write = async { stream.write_all(bytes).await.map_err(Ended::Io) };
    match outbox {
        None => write.await,
        Some(outbox) => {
            write
                .or(async {
                    outbox.overflowed().await;
                    Err(Ended::Overflowed)
                })
                .await
        }
    }
}

/// Writes what the service said without a request to answer (a greeting,
/// a missed deadline's message), if anything, and counts its bytes.
pub(super) async fn write_unprompted(
    stream: &mut impl Transport,
    bytes: &[u8],
    outbox: Option<&Outbox>,
    stats: &LiveStats,
) -> Result<(), Ended> {
    if bytes.is_empty() {
        return Ok(());
    }
    write_unless_overflowed(stream, bytes, outbox).await?;
    stats.recorded.borrow_mut().counters.bytes_out += bytes.len() as u64;
    Ok(())
}

/// Writes everything pushed to the outbox since the last time, in one go.
pub(super) async fn write_pushed(
    stream: &mut impl Transport,
    outbox: Option<&Outbox>,
    pushed: &mut Vec<u8>,
    stats: &LiveStats,
) -> Result<(), Ended> {
    let Some(outbox) = outbox else {
        return Ok(());
    };
    if outbox.has_overflowed() {
        return Err(Ended::Overflowed);
    }
    outbox.take(pushed);
    write_unless_overflowed(stream, pushed, Some(outbox)).await?;
    outbox.written();
    stats.recorded.borrow_mut().counters.bytes_out += pushed.len() as u64;
    pushed.clear();
    if pushed.capacity() > OUTPUT_SHRINK_ABOVE {
        *pushed = Vec::new();
    }
    Ok(())
}

pub(super) fn count_idle_close(error: &io::Error, stats: &LiveStats) {
    if error.kind() == io::ErrorKind::TimedOut {
        stats.recorded.borrow_mut().counters.idle_closes += 1;
    }
}

/// Closes a connection the server chose to end without losing the last
/// replies: closing a socket that still has unread input sends a reset, which
/// can make the peer drop replies it has not read yet. So send our FIN, then
/// read and discard until the peer closes too, for a bounded time and size.
pub(super) async fn linger_close(mut stream: impl Transport) {
    if stream.close().await.is_err() {
        return;
    }
    let stream = stream.tcp();
    let _ = stream.set_read_timeout(Some(LINGER));
    let mut scratch = [0u8; 4096];
    let mut discarded = 0;
    while discarded < LINGER_MAX_BYTES {
        match AsyncReadExt::read(stream, &mut scratch).await {
            Ok(0) | Err(_) => return,
            Ok(n) => discarded += n,
        }
    }
}
