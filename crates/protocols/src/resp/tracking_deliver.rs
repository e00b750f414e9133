//! How an invalidation reaches its connection (`tracking_table.rs` finds
//! who to tell): into its outbox when it is on this shard, else over the
//! key space's mesh to its shard (`INTERNAL-INVALIDATE`), sent from a task
//! of its own so that the write that caused it does not wait; written as
//! Redis's `sendTrackingMessage` writes it.

use super::client;
use super::commands::strings::parse_i64;
use super::commands::Cmd;
use super::protocol::write::{self, Proto};
use super::protocol::{encode_command, Command};
use super::tagged_buffer;
use super::RespShard;
use percore::codec::{begin_frame, end_frame};

/// What an invalidation message says.
#[derive(Clone, Copy)]
pub enum Says<'a> {
    /// These keys changed.
    Keys(&'a [&'a [u8]]),
    /// Every key may have changed (FLUSHALL, FLUSHDB): a null.
    All,
    /// The client's REDIRECT target, this connection, is gone.
    Broken(u64),
}

/// Sends `says` about tracking client `client` to connection `target`,
/// here or on its shard.
pub fn tell(here: &RespShard, client: u64, target: u64, says: Says<'_>) {
    let shard = client::shard_of(target, here.count);
    if shard == here.id {
        return deliver(here, client, target, says);
    }
    let mut words = vec![
        client.to_string().into_bytes(),
        target.to_string().into_bytes(),
    ];
    match says {
        Says::Keys(keys) => {
            words.push(b"k".to_vec());
            words.extend(keys.iter().map(|key| key.to_vec()));
        }
        Says::All => words.push(b"a".to_vec()),
        Says::Broken(gone) => {
            words.push(b"b".to_vec());
            words.push(gone.to_string().into_bytes());
        }
    }
    send(here, shard, Cmd::Invalidate, words);
}

/// INTERNAL-INVALIDATE client target k|a|b [key...|gone]: on the target's
/// shard.
pub fn deliver_forwarded(here: &RespShard, command: &Command<'_>, out: &mut Vec<u8>) {
    let number = |i: usize| parse_i64(command.at(i)).map(|n| n.max(0) as u64);
    if let (Some(client), Some(target)) = (number(1), number(2)) {
        let keys: Vec<&[u8]> = command.iter().skip(4).collect();
        match command.at(3) {
            b"k" => deliver(here, client, target, Says::Keys(&keys)),
            b"a" => deliver(here, client, target, Says::All),
            _ => deliver(here, client, target, Says::Broken(number(4).unwrap_or(0))),
        }
    }
    write::ok(out);
}

/// Pushes `says` to connection `target` of this shard, as Redis's
/// `sendTrackingMessage` writes it: a RESP3 push, or a
/// `__redis__:invalidate` message for a RESP2 connection in pub/sub mode;
/// nothing for any other (RESP2 has no pushes). A REDIRECT target that is
/// gone: its client is told (`tracking-redir-broken`, RESP3 only).
fn deliver(here: &RespShard, client: u64, target: u64, says: Says<'_>) {
    let conn = here.clients.find(target);
    let Some(conn) = conn.filter(|conn| !conn.closing.get()) else {
        if client != target && !matches!(says, Says::Broken(_)) {
            tell(here, client, client, Says::Broken(target));
        }
        return;
    };
    let proto = conn.proto.get();
    let mut frame = Vec::with_capacity(48);
    if let Says::Broken(gone) = says {
        // Told once, as Redis flags the client (`broken_redirect`).
        let first = match conn.tracking.borrow_mut().as_mut() {
            Some(tracking) => !std::mem::replace(&mut tracking.broken, true),
            None => false,
        };
        if first && proto == Proto::Resp3 {
            frame.extend_from_slice(b">2\r\n");
            write::bulk(&mut frame, b"tracking-redir-broken");
            write::int(&mut frame, gone as i64);
            conn.outbox.push(&frame);
        }
        return;
    }
    match proto {
        Proto::Resp3 => {
            frame.extend_from_slice(b">2\r\n");
            write::bulk(&mut frame, b"invalidate");
        }
        Proto::Resp2 => {
            let (channels, patterns, shard_channels) = conn.subscriptions.get();
            if channels + patterns + shard_channels == 0 {
                return;
            }
            write::array_len(&mut frame, 3);
            write::bulk(&mut frame, b"message");
            write::bulk(&mut frame, b"__redis__:invalidate");
        }
    }
    match says {
        Says::Keys(keys) => {
            write::array_len(&mut frame, keys.len());
            keys.iter().for_each(|key| write::bulk(&mut frame, key));
        }
        _ => write::null(&mut frame, proto),
    }
    conn.outbox.push(&frame);
}

/// Sends `cmd words` to `shard` over the key space's mesh from a task of
/// its own: the write that caused it does not wait.
pub fn send(here: &RespShard, shard: usize, cmd: Cmd, words: Vec<Vec<u8>>) {
    let Some(mesh) = here.mesh().cloned() else {
        return;
    };
    let name = super::commands::NAMES[cmd as usize].as_bytes();
    let mut body = tagged_buffer(&mesh);
    let start = begin_frame(&mut body);
    body.push(Proto::Resp2 as u8);
    body.push(cmd as u8);
    let all: Vec<&[u8]> = std::iter::once(name)
        .chain(words.iter().map(Vec::as_slice))
        .collect();
    encode_command(all.iter().copied(), &mut body);
    end_frame(&mut body, start);
    glommio::spawn_local(async move {
        if let Ok(ticket) = mesh.send(shard, body).await {
            let reply = mesh.reply(ticket).await;
            if reply.capacity() > 0 {
                mesh.recycle(reply);
            }
        }
    })
    .detach();
}
