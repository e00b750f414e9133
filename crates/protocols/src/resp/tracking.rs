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
//!   between them.
//! - BCAST: a client's prefixes are on every shard, so the owner of a key
//!   written finds the clients to tell right after the write.
//! - Every shard holds every tracking client's registration (mode, REDIRECT
//!   target, NOLOOP, prefixes), replaced on each by CLIENT TRACKING before
//!   its reply, so an owner tells the target directly (`tracking_table.rs`).
//! - NOLOOP: a NOLOOP client's write goes to the owner behind a mark
//!   naming it (`INTERNAL-TRACK-WRITER`), as the owner knows no writer.
//!
//! A command of a client that does not track reads pays one flag
//! (`ClientInfo::tracks_reads`); a write on a shard where nothing is
//! tracked, one `Cell` read (the shard's `TrackingTable`).
//!
//! Not served (README "What differs from Redis"): the invalidations of
//! FLUSHALL/FLUSHDB and of eviction, `tracking-redir-broken`, the table's
//! cap (`tracking-table-max-keys`); reads and NOLOOP writes of keys on
//! several shards at once (MGET or MSET over shards, EXEC) are not
//! remembered or marked.

use super::client::ClientInfo;
use super::commands::strings::{parse_i64, SYNTAX};
use super::commands::Cmd;
use super::protocol::write::{self, Proto};
use super::protocol::Command;
use super::{tracking_deliver, tracking_table, RespShard};

/// A connection's tracking, as CLIENT TRACKING left it (kept in its
/// [`ClientInfo`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tracking {
    /// The connection that gets the invalidations (REDIRECT), 0 for itself.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// Its REDIRECT target was found gone (`broken_redirect`).
    pub broken: bool,
    /// BCAST's prefixes, sorted (Redis keeps them in a radix tree); the
    /// empty prefix for every key.
    pub prefixes: Vec<Vec<u8>>,
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
    pub noloop: bool,
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
        noloop: false,
        prefixes: Vec::new(),
    };
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
            request.noloop = true;
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
        noloop: request.noloop,
        broken: false,
        prefixes,
    }
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

/// Whether `client` tracks with NOLOOP.
pub fn noloop(client: &ClientInfo) -> bool {
    client.tracking.borrow().as_ref().is_some_and(|t| t.noloop)
}

/// The words of `INTERNAL-TRACK` that register `tracking` of `client`
/// (`None`: it no longer tracks) on a shard.
pub fn registration(client: u64, tracking: Option<&Tracking>) -> Vec<Vec<u8>> {
    let Some(t) = tracking else {
        return tracking_table::track_args(client, client, "-", &[]);
    };
    let target = if t.redirect == 0 { client } else { t.redirect };
    let mut mode = String::from(if t.bcast { "b" } else { "d" });
    if t.noloop {
        mode.push('n');
    }
    tracking_table::track_args(client, target, &mode, &t.prefixes)
}

/// The connection ended or was RESET: its registration is withdrawn from
/// every shard, one way (nothing waits for a connection that is gone).
pub fn forget(here: &RespShard, client: &ClientInfo) {
    client.tracks_reads.set(false);
    client.caching.set((None, None));
    if client.tracking.borrow_mut().take().is_none() {
        return;
    }
    tracking_table::register(here, client.id, client.id, b"-", Vec::new());
    if here.mesh().is_none() {
        return;
    }
    for shard in (0..here.count).filter(|&s| s != here.id) {
        tracking_deliver::send(here, shard, Cmd::Track, registration(client.id, None));
    }
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
            if t.noloop {
                flags.push(b"noloop");
            }
            if t.broken {
                flags.push(b"broken_redirect");
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
