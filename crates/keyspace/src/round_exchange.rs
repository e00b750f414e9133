//! The round's free helpers: sending its outboxes and awaiting the
//! replies (also for callers that gather outside a round: resp's
//! `exchange`), and turning replies made here into the disk error.

use super::*;

/// Replaces every whole reply in `out` from `from` on with the disk error
/// (`reason`): they were made here, with writes that were taken back.
/// Returns how many were not errors already.
pub fn fail_replies<R: Replies>(out: &mut Vec<u8>, from: usize, reason: &str) -> u64 {
    let (mut replies, mut were_fine, mut at) = (0, 0, from);
    while let Some(len) = R::reply_len(&out[at..]).filter(|&len| len > 0) {
        if !R::is_error(&out[at..at + len]) {
            were_fine += 1;
        }
        replies += 1;
        at += len;
    }
    out.truncate(from);
    for _ in 0..replies {
        R::disk_error(out, reason);
    }
    were_fine
}

/// Sends every non-empty outbox to its shard; `tickets` gets one entry per
/// shard (`None` for a shard sent nothing, or gone), for [`Mesh::reply`].
pub async fn send(mesh: &Mesh, outboxes: &mut [Vec<u8>], tickets: &mut Vec<Option<Ticket>>) {
    tickets.clear();
    for (shard, outbox) in outboxes.iter_mut().enumerate() {
        tickets.push(if outbox.is_empty() {
            None
        } else {
            mesh.send(shard, std::mem::take(outbox)).await.ok()
        });
    }
}

/// Sends every non-empty outbox to its shard, then waits for each reply:
/// each shard's reply, in shard order (empty for a shard sent nothing),
/// goes to `put`.
pub async fn exchange(
    mesh: &Mesh,
    outboxes: &mut [Vec<u8>],
    tickets: &mut Vec<Option<Ticket>>,
    mut put: impl FnMut(Vec<u8>),
) {
    send(mesh, outboxes, tickets).await;
    for ticket in tickets.drain(..) {
        put(match ticket {
            Some(ticket) => mesh.reply(ticket).await,
            None => Vec::new(),
        });
    }
}
