//! CLIENT TRACKING (Redis 7.0's client-side caching, issue 26): a tracking
//! client is told of every write of a key it read (the default mode, with
//! OPTIN/OPTOUT and CLIENT CACHING) or of a prefix it tracks (BCAST),
//! wherever the key lives, as a RESP3 `invalidate` push, or, with REDIRECT,
//! on the connection it names (a RESP3 push, or a message on
//! `__redis__:invalidate` for a RESP2 connection in pub/sub mode, as Redis
//! sends them).
//!
//! - Default mode: a key's owner keeps the table of who read it, as Redis
//!   keeps it per key. A tracked read goes to the owner with its keys'
//!   registration in front of it, in the same message (`INTERNAL-TRACK-KEY`,
//!   merged away from the reply: `tracking_conn.rs`), so no write can come
//!   between them. A write takes the key's entry out and tells each reader.
//! - BCAST: every shard holds every registration (a client's full list of
//!   prefixes, told to each shard by CLIENT TRACKING and acknowledged before
//!   its reply, as patterns are), so the owner of a key written finds the
//!   clients to tell right after the write.
//!
//! The invalidation travels to the tracking client's shard over the key
//! space's mesh (`INTERNAL-INVALIDATE`), which checks that it still tracks
//! and passes it to its REDIRECT target, on that shard or the target's. With
//! nothing tracked on a shard, a write pays one thread-local read
//! ([`after_write`]); a command of a client that does not track reads, one
//! flag (`ClientInfo::tracks_reads`).
//!
//! Not served (README "What differs from Redis"): NOLOOP (the owner does
//! not know the writer), the invalidations of FLUSHALL/FLUSHDB and of
//! eviction, the table's cap (`tracking-table-max-keys`), and reads of keys
//! on several shards at once (MGET over shards) are not remembered.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::client::{self, ClientInfo};
use super::commands::strings::{parse_i64, SYNTAX};
use super::commands::Cmd;
use super::protocol::write::{self, Proto};
use super::protocol::{encode_command, Command};
use super::{notify, tagged_buffer};
use percore::codec::{begin_frame, end_frame};
use percore_keyspace::KeySpace;

/// A connection's tracking, as CLIENT TRACKING left it (kept in its
/// [`ClientInfo`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tracking {
    /// The connection that gets the invalidations (REDIRECT), 0 for itself.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    /// BCAST's prefixes, sorted (Redis keeps them in a radix tree); the
    /// empty prefix for every key.
    pub prefixes: Vec<Vec<u8>>,
}

/// One client's registration, as every shard holds it.
struct Registration {
    client: u64,
    /// Where its invalidations go.
    target: u64,
    prefixes: Vec<Vec<u8>>,
}

thread_local! {
    static REGISTERED: RefCell<Vec<Registration>> = const { RefCell::new(Vec::new()) };
    /// The default mode's table: each key of this shard read by tracking
    /// clients, and their ids.
    static READERS: RefCell<HashMap<Vec<u8>, Vec<u64>>> = RefCell::default();
    /// Whether either holds any: the one read a write pays.
    static ANY: Cell<bool> = const { Cell::new(false) };
}

/// Whether `command` is a CLIENT TRACKING, served on its own (it tells
/// every shard before it replies).
pub fn served_alone(command: &Command<'_>) -> bool {
    command.len() >= 3 && command.at(1).eq_ignore_ascii_case(b"tracking")
}

/// CLIENT TRACKING's request, parsed as Redis 7.0 parses it.
pub struct Request {
    pub on: bool,
    pub redirect: Option<i64>,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub prefixes: Vec<Vec<u8>>,
}

/// Parses `CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p]...
/// [OPTIN] [OPTOUT] [NOLOOP]` against the connection's current tracking;
/// the error Redis gives, else the request. The REDIRECT target's
/// existence is checked by the caller (it may live on another shard).
pub fn parse(command: &Command<'_>, now: Option<&Tracking>) -> Result<Request, String> {
    let mut request = Request {
        on: false,
        redirect: None,
        bcast: false,
        optin: false,
        optout: false,
        prefixes: Vec::new(),
    };
    let mut noloop = false;
    let mut j = 3;
    while j < command.len() {
        let word = command.at(j);
        let more = j + 1 < command.len();
        let is = |name: &[u8]| word.eq_ignore_ascii_case(name);
        if is(b"redirect") && more {
            j += 1;
            if request.redirect.is_some() {
                return Err("ERR A client can only redirect to a single other client".into());
            }
            let id =
                parse_i64(command.at(j)).ok_or("ERR value is not an integer or out of range")?;
            request.redirect = Some(id);
        } else if is(b"bcast") {
            request.bcast = true;
        } else if is(b"optin") {
            request.optin = true;
        } else if is(b"optout") {
            request.optout = true;
        } else if is(b"noloop") {
            noloop = true;
        } else if is(b"prefix") && more {
            j += 1;
            request.prefixes.push(command.at(j).to_vec());
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    let mode = command.at(2);
    if mode.eq_ignore_ascii_case(b"off") {
        return Ok(request);
    }
    if !mode.eq_ignore_ascii_case(b"on") {
        return Err(SYNTAX.into());
    }
    request.on = true;
    if !request.bcast && !request.prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if now.is_some_and(|now| now.bcast != request.bcast) {
        return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if request.bcast && (request.optin || request.optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if request.optin && request.optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if now.is_some_and(|now| (request.optin && now.optout) || (request.optout && now.optin)) {
        return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    // What percore does not serve, refused rather than half done.
    if noloop {
        return Err("ERR percore does not serve CLIENT TRACKING NOLOOP".into());
    }
    if request.bcast {
        check_overlaps(&request.prefixes, now)?;
    }
    Ok(request)
}

/// Redis's `checkPrefixCollisionsOrReply`: a client's prefixes must not
/// overlap, among themselves or with those it tracks already.
fn check_overlaps(prefixes: &[Vec<u8>], now: Option<&Tracking>) -> Result<(), String> {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    for (i, prefix) in prefixes.iter().enumerate() {
        let shown = String::from_utf8_lossy(prefix);
        if let Some(held) = now {
            if let Some(old) = held.prefixes.iter().find(|old| overlap(old, prefix)) {
                let old = String::from_utf8_lossy(old);
                return Err(format!("ERR Prefix '{shown}' overlaps with an existing prefix '{old}'. Prefixes for a single client must not overlap."));
            }
        }
        for other in &prefixes[i + 1..] {
            if overlap(prefix, other) {
                let other = String::from_utf8_lossy(other);
                return Err(format!("ERR Prefix '{shown}' overlaps with another provided prefix '{other}'. Prefixes for a single client must not overlap."));
            }
        }
    }
    Ok(())
}

/// The tracking after `request` (ON), from the connection's current one:
/// prefixes add up, as in Redis; BCAST without a prefix tracks every key.
pub fn merged(request: &Request, now: Option<&Tracking>) -> Tracking {
    let mut prefixes = now.map(|t| t.prefixes.clone()).unwrap_or_default();
    if request.bcast && request.prefixes.is_empty() && prefixes.is_empty() {
        prefixes.push(Vec::new());
    }
    for prefix in &request.prefixes {
        if !prefixes.contains(prefix) {
            prefixes.push(prefix.clone());
        }
    }
    prefixes.sort();
    // As Redis's enableTracking: the options given replace those in force
    // (the prefixes add up).
    Tracking {
        redirect: request.redirect.map_or(0, |id| id.max(0) as u64),
        bcast: request.bcast,
        optin: request.optin,
        optout: request.optout,
        prefixes,
    }
}

/// The words of `INTERNAL-TRACK client target prefix...` (no prefix: the
/// client tracks nothing any more).
pub fn track_args(client: u64, tracking: Option<&Tracking>) -> Vec<Vec<u8>> {
    let target = tracking.map_or(
        client,
        |t| if t.redirect == 0 { client } else { t.redirect },
    );
    let mut words = vec![
        client.to_string().into_bytes(),
        target.to_string().into_bytes(),
    ];
    if let Some(tracking) = tracking {
        words.extend(tracking.prefixes.iter().map(|p| {
            // A marker byte, so that the empty prefix survives as a word.
            let mut word = vec![b'p'];
            word.extend_from_slice(p);
            word
        }));
    }
    words
}

/// INTERNAL-TRACK on this shard: the client's registration replaced.
pub fn track(command: &Command<'_>, out: &mut Vec<u8>) {
    let number = |i: usize| parse_i64(command.at(i)).map(|n| n.max(0) as u64);
    let (Some(client), Some(target)) = (number(1), number(2)) else {
        write::error(
            out,
            "ERR internal: a tracking registration could not be read",
        );
        return;
    };
    let prefixes: Vec<Vec<u8>> = command.iter().skip(3).map(|w| w[1..].to_vec()).collect();
    register(client, target, prefixes);
    write::ok(out);
}

fn register(client: u64, target: u64, prefixes: Vec<Vec<u8>>) {
    REGISTERED.with(|registered| {
        let mut registered = registered.borrow_mut();
        registered.retain(|r| r.client != client);
        if !prefixes.is_empty() {
            registered.push(Registration {
                client,
                target,
                prefixes,
            });
        }
    });
    update_any();
}

fn update_any() {
    let any =
        REGISTERED.with(|r| !r.borrow().is_empty()) || READERS.with(|r| !r.borrow().is_empty());
    ANY.with(|cell| cell.set(any));
}

/// INTERNAL-TRACK-KEY client key, on the key's owner: `client` read `key`
/// (right before the read itself, in the same message).
pub fn remember(command: &Command<'_>, out: &mut Vec<u8>) {
    if let Some(client) = parse_i64(command.at(1)) {
        let client = client.max(0) as u64;
        READERS.with(|readers| {
            let mut readers = readers.borrow_mut();
            let ids = readers.entry(command.at(2).to_vec()).or_default();
            if !ids.contains(&client) {
                ids.push(client);
            }
        });
        ANY.with(|cell| cell.set(true));
    }
    write::ok(out);
}

/// Whether the tracked read `command` of `client` is to be remembered:
/// tracking in the default mode, and, with OPTIN, right after CLIENT
/// CACHING yes; with OPTOUT, not right after CLIENT CACHING no.
pub fn remembers(client: &ClientInfo) -> bool {
    let tracking = client.tracking.borrow();
    let Some(tracking) = tracking.as_ref() else {
        return false;
    };
    let (_, caching) = client.caching.get();
    !tracking.bcast
        && (!tracking.optin || caching == Some(true))
        && (!tracking.optout || caching != Some(false))
}

/// The connection ended or was RESET: its registration is withdrawn from
/// every shard, one way (nothing waits for a connection that is gone).
pub fn forget(client: &ClientInfo) {
    client.tracks_reads.set(false);
    client.caching.set((None, None));
    let Some(tracking) = client.tracking.borrow_mut().take() else {
        return;
    };
    // The default mode's readers are dropped lazily, as Redis drops them:
    // an invalidation finds the client gone or not tracking.
    if !tracking.bcast {
        return;
    }
    register(client.id, 0, Vec::new());
    let Some(keys) = KeySpace::here() else {
        return;
    };
    let Some(mesh) = keys.mesh.clone() else {
        return;
    };
    let here = client::shard_of(client.id, mesh.shards());
    for shard in (0..mesh.shards()).filter(|&s| s != here) {
        send(shard, Cmd::Track, track_args(client.id, None));
    }
}

/// After `cmd` ran on this shard (its key's owner) and answered `reply`:
/// the clients tracking a prefix of a key it wrote are told.
pub fn after_write(cmd: Cmd, command: &Command<'_>, reply: &[u8]) {
    if !ANY.with(Cell::get) || reply.first() == Some(&b'-') {
        return;
    }
    let Some((first, step, end)) = notify::written_keys(cmd, command) else {
        return;
    };
    for i in (first..end).step_by(step) {
        invalidate(command.at(i));
    }
}

/// `key` changed on this shard (written, or expired): every client tracking
/// a prefix of it is told.
pub fn invalidate(key: &[u8]) {
    if !ANY.with(Cell::get) {
        return;
    }
    let targets: Vec<u64> = REGISTERED.with(|registered| {
        registered
            .borrow()
            .iter()
            .filter(|r| r.prefixes.iter().any(|p| key.starts_with(p)))
            .map(|r| r.target)
            .collect()
    });
    for target in targets {
        tell(target, key, b"t");
    }
    let readers = READERS.with(|readers| readers.borrow_mut().remove(key));
    if let Some(readers) = readers {
        update_any();
        for client in readers {
            tell(client, key, b"c");
        }
    }
}

/// Sends the invalidation of `key` to connection `target`, here or on its
/// shard: as `via` `t`, to the connection itself; as `c`, to the REDIRECT
/// target of `target`, a client in the default mode, if it still is.
fn tell(target: u64, key: &[u8], via: &[u8]) {
    let mesh = KeySpace::here().and_then(|keys| keys.mesh.clone());
    let (here, shards) = mesh.map_or((0, 1), |mesh| (mesh.shard(), mesh.shards()));
    let shard = client::shard_of(target, shards);
    if shard == here {
        arrive(target, via, &[key]);
    } else {
        send(
            shard,
            Cmd::Invalidate,
            vec![target.to_string().into_bytes(), via.to_vec(), key.to_vec()],
        );
    }
}

/// INTERNAL-INVALIDATE target via key...: on the target's shard.
pub fn deliver_forwarded(command: &Command<'_>, out: &mut Vec<u8>) {
    if let Some(target) = parse_i64(command.at(1)) {
        let keys: Vec<&[u8]> = command.iter().skip(3).collect();
        arrive(target.max(0) as u64, command.at(2), &keys);
    }
    write::ok(out);
}

/// An invalidation on `target`'s shard (see [`tell`]).
fn arrive(target: u64, via: &[u8], keys: &[&[u8]]) {
    if via != b"c" {
        return deliver(target, keys);
    }
    // Redis skips a client that stopped tracking, or tracks in BCAST now.
    let Some(client) = client::find(target) else {
        return;
    };
    let redirect = match &*client.tracking.borrow() {
        Some(tracking) if !tracking.bcast => tracking.redirect,
        _ => return,
    };
    if redirect == 0 {
        return deliver(target, keys);
    }
    let mesh = KeySpace::here().and_then(|keys| keys.mesh.clone());
    let (here, shards) = mesh.map_or((0, 1), |mesh| (mesh.shard(), mesh.shards()));
    let shard = client::shard_of(redirect, shards);
    if shard == here {
        deliver(redirect, keys);
    } else {
        let mut words = vec![redirect.to_string().into_bytes(), b"t".to_vec()];
        words.extend(keys.iter().map(|key| key.to_vec()));
        send(shard, Cmd::Invalidate, words);
    }
}

/// Pushes the invalidation of `keys` to connection `target` of this shard,
/// as Redis's `sendTrackingMessage` writes it: a RESP3 push, or a
/// `__redis__:invalidate` message for a RESP2 connection in pub/sub mode;
/// nothing for any other (RESP2 has no pushes).
fn deliver(target: u64, keys: &[&[u8]]) {
    let Some(client) = client::find(target) else {
        return;
    };
    let mut frame = Vec::with_capacity(48);
    match client.proto.get() {
        Proto::Resp3 => {
            frame.extend_from_slice(b">2\r\n");
            write::bulk(&mut frame, b"invalidate");
        }
        Proto::Resp2 => {
            let (channels, patterns, shard_channels) = client.subscriptions.get();
            if channels + patterns + shard_channels == 0 {
                return;
            }
            write::array_len(&mut frame, 3);
            write::bulk(&mut frame, b"message");
            write::bulk(&mut frame, b"__redis__:invalidate");
        }
    }
    write::array_len(&mut frame, keys.len());
    keys.iter().for_each(|key| write::bulk(&mut frame, key));
    client.outbox.push(&frame);
}

/// Sends `cmd words` to `shard` over the key space's mesh from a task of
/// its own: the write that caused it does not wait.
fn send(shard: usize, cmd: Cmd, words: Vec<Vec<u8>>) {
    let Some(keys) = KeySpace::here() else {
        return;
    };
    let Some(mesh) = keys.mesh.clone() else {
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

/// CLIENT GETREDIR: -1 when not tracking, 0 without REDIRECT.
pub fn getredir(client: &ClientInfo, out: &mut Vec<u8>) {
    let redirect = client
        .tracking
        .borrow()
        .as_ref()
        .map_or(-1, |t| t.redirect as i64);
    write::int(out, redirect);
}

/// CLIENT TRACKINGINFO, as Redis 7.0 answers it.
pub fn info(client: &ClientInfo, proto: Proto, out: &mut Vec<u8>) {
    let tracking = client.tracking.borrow();
    write::map_len(out, 3, proto);
    write::bulk(out, b"flags");
    let mut flags: Vec<&[u8]> = Vec::new();
    match &*tracking {
        Some(t) => {
            flags.push(b"on");
            let (_, caching) = client.caching.get();
            if t.bcast {
                flags.push(b"bcast");
            }
            if t.optin {
                flags.push(b"optin");
                if caching == Some(true) {
                    flags.push(b"caching-yes");
                }
            }
            if t.optout {
                flags.push(b"optout");
                if caching == Some(false) {
                    flags.push(b"caching-no");
                }
            }
        }
        None => flags.push(b"off"),
    }
    write::set_len(out, flags.len(), proto);
    flags.iter().for_each(|flag| write::bulk(out, flag));
    write::bulk(out, b"redirect");
    write::int(out, tracking.as_ref().map_or(-1, |t| t.redirect as i64));
    write::bulk(out, b"prefixes");
    let prefixes = tracking.as_ref().map_or(&[][..], |t| &t.prefixes[..]);
    write::array_len(out, prefixes.len());
    prefixes.iter().for_each(|p| write::bulk(out, p));
}

/// CLIENT CACHING yes|no: for the next command, with OPTIN or OPTOUT.
pub fn caching(client: &ClientInfo, command: &Command<'_>, out: &mut Vec<u8>) {
    let (optin, optout) = match &*client.tracking.borrow() {
        Some(t) => (t.optin, t.optout),
        None => {
            write::error(out, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
    };
    let word = command.at(2);
    let given = if word.eq_ignore_ascii_case(b"yes") {
        if !optin {
            write::error(
                out,
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
            return;
        }
        true
    } else if word.eq_ignore_ascii_case(b"no") {
        if !optout {
            write::error(
                out,
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
            return;
        }
        false
    } else {
        write::error(out, SYNTAX);
        return;
    };
    let (_, now) = client.caching.get();
    client.caching.set((Some(given), now));
    write::ok(out);
}
