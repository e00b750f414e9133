//! The checks redis-server makes before it runs a command, in its order:
//! known, arity, authenticated, allowed to its ACL user, in this node's slots (cluster mode,
//! docs/PROTOCOLS.md §6.4), allowed while subscribed (§6.1, §6.2, §6.5), and the error each
//! failure is answered with, worded as redis's. Before them all, redis'
//! guard against HTTP requests ([`cross_protocol`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::cluster;
use super::command_table;
use super::commands::{self, Flags, Spec};
use super::protocol::write::{self, Proto};
use super::protocol::Command;
use super::session::Session;

/// Why a command is answered with an error before it runs.
pub(super) enum Rejection<'c> {
    Unknown,
    Arity(&'static str),
    NoAuth,
    /// Its ACL user may not run it (`commands/acl.rs`).
    NoPerm(commands::acl::Denied),
    /// Cluster mode: its keys are not (all) in this node's slots.
    Redirect(cluster::Redirect<'c>),
    /// Not allowed while subscribed (RESP2); the name as redis gives it
    /// (`client|list` for a subcommand).
    Subscribed(&'static str),
}

impl Rejection<'_> {
    pub(super) fn write(&self, command: &Command<'_>, out: &mut Vec<u8>) {
        match self {
            Rejection::Unknown => {
                let mut args = String::new();
                for i in 1..command.len() {
                    if args.len() >= 128 {
                        break;
                    }
                    let room = 128 - args.len();
                    let arg = String::from_utf8_lossy(command.at(i));
                    let shown: String = arg.chars().take(room).collect();
                    args.push_str(&format!("'{shown}' "));
                }
                let name: String = String::from_utf8_lossy(command.at(0))
                    .chars()
                    .take(128)
                    .collect();
                write::error(
                    out,
                    &format!("ERR unknown command '{name}', with args beginning with: {args}"),
                );
            }
            Rejection::Arity(name) => commands::connection::wrong_arity(out, name),
            Rejection::NoAuth => write::error(out, commands::connection::NOAUTH),
            Rejection::NoPerm(denied) => denied.write(out),
            Rejection::Redirect(redirect) => redirect.write(out),
            Rejection::Subscribed(name) => {
                write::error(out, &format!("ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"));
            }
        }
    }
}

/// The checks redis-server makes before running a command, in its order:
/// known, arity, authenticated, in this node's slots (cluster mode),
/// allowed while subscribed.
pub(super) fn check<'c>(
    command: &Command<'_>,
    session: &Session,
    cluster: Option<&'c cluster::Cluster>,
) -> Result<&'static Spec, Rejection<'c>> {
    let spec = commands::lookup(command.at(0))
        .filter(|spec| !spec.internal())
        .ok_or(Rejection::Unknown)?;
    if !spec.arity_ok(command.len()) {
        return Err(Rejection::Arity(spec.name));
    }
    if !session.authed && !spec.flags.has(Flags::NO_AUTH) {
        return Err(Rejection::NoAuth);
    }
    let name = || subcommand_name(spec, command).unwrap_or(spec.name);
    if let Some(denied) = commands::acl::denied(session.login.perms, spec, command, name) {
        return Err(Rejection::NoPerm(denied));
    }
    if let Some(cluster) = cluster {
        cluster
            .check(spec.cmd, command)
            .map_err(Rejection::Redirect)?;
    }
    if session.subscribed() && session.proto() == Proto::Resp2 && !spec.flags.has(Flags::SUBSCRIBED)
    {
        return match subcommand_name(spec, command) {
            Some(name) => Err(Rejection::Subscribed(name)),
            // An unknown subcommand, or a wrong count of arguments for it:
            // the command's own error, as redis checks those first.
            None => Ok(spec),
        };
    }
    Ok(spec)
}

/// The name redis gives a command in errors: `client|list` for a known
/// subcommand with the right arguments, the command's own without one;
/// None for an unknown subcommand or a wrong count of arguments for it.
fn subcommand_name(spec: &'static Spec, command: &Command<'_>) -> Option<&'static str> {
    let Some(parent) = command_table::lookup(spec.name.as_bytes())
        .filter(|entry| !entry.subcommands.is_empty() && command.len() >= 2)
    else {
        return Some(spec.name);
    };
    command_table::lookup_subcommand(parent, command.at(1))
        .filter(|sub| command_table::arity_ok(sub, command.len()))
        .map(|sub| sub.name)
}

/// Whether a command is redis' sign of an HTTP request: `POST` (a request
/// line) or `Host:` (a header), which a web page can make a browser send to
/// a local port. Neither is a command, so this is asked only of unknown ones.
pub(super) fn cross_protocol(command: &Command<'_>) -> bool {
    let name = command.at(0);
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

/// When [`warn_cross_protocol`] last wrote, in seconds since the epoch,
/// over every shard.
static WARNED_AT: AtomicU64 = AtomicU64::new(0);

/// Says on stderr that an HTTP request was refused, as redis logs it: at
/// most once a minute, whichever shard sees it, so a flood of them cannot
/// flood the log.
pub(super) fn warn_cross_protocol(peer: Option<SocketAddr>) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let last = WARNED_AT.load(Ordering::Relaxed);
    if last != 0 && now.abs_diff(last) <= 60 {
        return;
    }
    if WARNED_AT
        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let from = peer.map_or_else(String::new, |peer| format!(" from {peer}"));
    eprintln!(
        "percore: resp: Possible SECURITY ATTACK detected{from}. It looks like somebody is \
         sending POST or Host: commands to resp. This is likely due to an attacker attempting \
         to use Cross Protocol Scripting to compromise your server. Connection aborted."
    );
}
