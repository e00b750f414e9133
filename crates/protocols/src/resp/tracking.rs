//! CLIENT TRACKING in BCAST mode (Redis 7.0's client-side caching, issue
//! 26): a client that tracks prefixes is told of every key written with one
//! of them, wherever the key lives, as a RESP3 `invalidate` push, or, with
//! REDIRECT, on the connection it names (a RESP3 push, or a message on
//! `__redis__:invalidate` for a RESP2 connection in pub/sub mode, as Redis
//! sends them).
//!
//! Every shard holds every registration (a client's full list of prefixes,
//! told to each shard by CLIENT TRACKING and acknowledged before its reply,
//! as patterns are), so a key's owner finds the clients to tell right after
//! the write, on the shard that made it, as Redis finds them in its prefix
//! table. The invalidation then travels to the receiving connection's shard
//! over the key space's mesh (`INTERNAL-INVALIDATE`), or into its outbox
//! at once when it is on the owner's shard. With no registration on a
//! shard, a write pays one thread-local read ([`after_write`]).
//!
//! Not served (README "What differs from Redis"): the default mode (keys
//! remembered per read), OPTIN/OPTOUT (which need it), NOLOOP, and the
//! invalidations of FLUSHALL/FLUSHDB and of eviction.

use std::cell::{Cell, RefCell};

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
    /// The prefixes tracked, sorted (Redis keeps them in a radix tree); the
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
    /// Whether REGISTERED holds any: the one read a write pays.
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
        prefixes: Vec::new(),
    };
    let (mut optin, mut optout, mut noloop) = (false, false, false);
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
            optin = true;
        } else if is(b"optout") {
            optout = true;
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
    // Tracking now is always BCAST (the only mode served).
    if now.is_some() && !request.bcast {
        return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if request.bcast && (optin || optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if optin && optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    // What percore does not serve, refused rather than half done.
    if !request.bcast {
        return Err("ERR percore serves CLIENT TRACKING in BCAST mode only".into());
    }
    if noloop {
        return Err("ERR percore does not serve CLIENT TRACKING NOLOOP".into());
    }
    check_overlaps(&request.prefixes, now)?;
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
    if request.prefixes.is_empty() && prefixes.is_empty() {
        prefixes.push(Vec::new());
    }
    for prefix in &request.prefixes {
        if !prefixes.contains(prefix) {
            prefixes.push(prefix.clone());
        }
    }
    prefixes.sort();
    Tracking {
        redirect: request.redirect.map_or(0, |id| id.max(0) as u64),
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
        ANY.with(|any| any.set(!registered.is_empty()));
    });
}

/// The connection ended or was RESET: its registration is withdrawn from
/// every shard, one way (nothing waits for a connection that is gone).
pub fn forget(client: &ClientInfo) {
    if client.tracking.borrow_mut().take().is_none() {
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
        tell(target, key);
    }
}

/// Sends the invalidation of `key` to connection `target`, here or on its
/// shard.
fn tell(target: u64, key: &[u8]) {
    let mesh = KeySpace::here().and_then(|keys| keys.mesh.clone());
    let (here, shards) = mesh.map_or((0, 1), |mesh| (mesh.shard(), mesh.shards()));
    let shard = client::shard_of(target, shards);
    if shard == here {
        deliver(target, &[key]);
    } else {
        send(
            shard,
            Cmd::Invalidate,
            vec![target.to_string().into_bytes(), key.to_vec()],
        );
    }
}

/// INTERNAL-INVALIDATE target key...: on the target's shard.
pub fn deliver_forwarded(command: &Command<'_>, out: &mut Vec<u8>) {
    if let Some(target) = parse_i64(command.at(1)) {
        let keys: Vec<&[u8]> = command.iter().skip(2).collect();
        deliver(target.max(0) as u64, &keys);
    }
    write::ok(out);
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
    match &*tracking {
        Some(_) => {
            write::set_len(out, 2, proto);
            write::bulk(out, b"on");
            write::bulk(out, b"bcast");
        }
        None => {
            write::set_len(out, 1, proto);
            write::bulk(out, b"off");
        }
    }
    write::bulk(out, b"redirect");
    write::int(out, tracking.as_ref().map_or(-1, |t| t.redirect as i64));
    write::bulk(out, b"prefixes");
    let prefixes = tracking.as_ref().map_or(&[][..], |t| &t.prefixes[..]);
    write::array_len(out, prefixes.len());
    prefixes.iter().for_each(|p| write::bulk(out, p));
}

/// CLIENT CACHING yes|no: only with OPTIN or OPTOUT, which percore does
/// not serve, so always Redis's error for a client without them.
pub fn caching(client: &ClientInfo, command: &Command<'_>, out: &mut Vec<u8>) {
    if client.tracking.borrow().is_none() {
        write::error(out, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    } else if command.at(2).eq_ignore_ascii_case(b"yes") {
        write::error(
            out,
            "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
        );
    } else if command.at(2).eq_ignore_ascii_case(b"no") {
        write::error(
            out,
            "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
        );
    } else {
        write::error(out, SYNTAX);
    }
}
