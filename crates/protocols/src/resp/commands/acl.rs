//! ACL (issue 26): the user table's commands — SETUSER, DELUSER, GETUSER,
//! LIST, USERS, WHOAMI, HELP, and LOAD/SAVE refused as a Redis without an
//! ACL file refuses them — answered as Redis 7.0 answers them; the
//! credentials AUTH and HELLO AUTH check ([`authenticate`]); and who a
//! connection is ([`Login`]) with what it may run ([`denied`]).
//!
//! The table (`acl_users.rs`) is one for the server, so ACL runs on the
//! connection's shard like the other connection commands. A connection
//! rereads its user only when the table's generation moved: its next
//! command then runs with the user's permissions as they are now, and a
//! connection whose user was deleted is closed at its next command
//! (Redis closes it at once; README, "What differs from Redis").

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::session::Session;
use super::super::RespConfig;
use super::acl_users::{Perms, User, Users};
use super::{Cmd, Flags, Spec};

/// Who a connection is, as its session keeps it.
#[derive(Clone, Debug)]
pub struct Login {
    /// Its user's name (`default` until AUTH).
    pub user: Vec<u8>,
    /// That user's serial (`acl_users::User::serial`) when it logged in.
    serial: u64,
    /// Redis's `c->authenticated`: AUTH (or HELLO AUTH) succeeded, or the
    /// connection came while `default` was on and nopass.
    authenticated: bool,
    /// Its user's permissions, as of `seen`.
    pub perms: Perms,
    /// The table's generation its user was last read at.
    seen: u64,
}

impl Login {
    /// A new connection's (and RESET's): `default`, authenticated when
    /// `default` is on and nopass (Redis's clientSetDefaultAuth).
    pub fn new(users: &Users) -> Login {
        let seen = users.generation();
        let default = users.get(b"default");
        Login {
            user: b"default".to_vec(),
            serial: 0,
            authenticated: default.as_ref().is_some_and(|u| u.enabled && u.nopass),
            perms: default.map(|u| u.perms).unwrap_or_default(),
            seen,
        }
    }

    /// Whether it may run commands besides AUTH, HELLO, QUIT and RESET:
    /// it authenticated, or `default` is on and nopass now (Redis's
    /// authRequired).
    pub fn may_run(&self, users: &Users) -> bool {
        self.authenticated || users.default_open()
    }
}

/// The session's login made again from the table, if the table changed
/// since it was read; false when its user is gone (the connection is then
/// closed, as Redis closes connections of a deleted user).
pub fn refresh(session: &mut Session, config: &RespConfig) -> bool {
    let users = &config.users;
    let generation = users.generation();
    if generation == session.login.seen {
        return true;
    }
    session.login.seen = generation;
    match users.get(&session.login.user) {
        Some(user) if user.serial == session.login.serial => {
            session.login.perms = user.perms;
            session.authed = session.login.may_run(users);
            true
        }
        _ => false,
    }
}

/// Whether `user password` opens a user (`AUTH`, `HELLO AUTH`): the
/// session is then that user's.
pub fn authenticate(
    session: &mut Session,
    config: &RespConfig,
    user: &[u8],
    password: &[u8],
) -> bool {
    let Some(found) = config.users.get(user).filter(|u| u.opens(password)) else {
        return false;
    };
    session.login = Login {
        user: user.to_vec(),
        serial: found.serial,
        authenticated: true,
        perms: found.perms,
        seen: config.users.generation(),
    };
    session.authed = true;
    *session.client.user.borrow_mut() = String::from_utf8_lossy(user).into_owned();
    true
}

/// RESET: `default` again, unauthenticated if `default` has a password.
pub fn reset(session: &mut Session, config: &RespConfig) {
    session.login = Login::new(&config.users);
    session.authed = session.login.may_run(&config.users);
    *session.client.user.borrow_mut() = "default".into();
}

/// Why a user may not run a command (Redis's ACL_DENIED_*).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The command's name as Redis gives it (`client|list`).
    Command(&'static str),
    Key,
    Channel,
}

impl Denied {
    pub fn write(self, out: &mut Vec<u8>) {
        let text = match self {
            Denied::Command(name) => {
                format!("NOPERM this user has no permissions to run the '{name}' command")
            }
            Denied::Key => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
            Denied::Channel => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
        };
        write::error(out, &text);
    }
}

/// What `perms` do not allow of `command` (Redis's ACLSelectorCheckCmd, all
/// or nothing): a command (AUTH, HELLO, QUIT and RESET always allowed),
/// then any key, then any channel it publishes or subscribes to.
pub fn denied(
    perms: Perms,
    spec: &'static Spec,
    command: &Command<'_>,
    name: impl Fn() -> &'static str,
) -> Option<Denied> {
    if perms == Perms::ALL {
        return None;
    }
    if !perms.commands && !spec.flags.has(Flags::NO_AUTH) {
        return Some(Denied::Command(name()));
    }
    if !perms.keys {
        let argv: Vec<&[u8]> = command.iter().collect();
        if super::getkeys::names_keys(&argv) {
            return Some(Denied::Key);
        }
    }
    let channels = matches!(
        spec.cmd,
        Cmd::Publish | Cmd::SPublish | Cmd::Subscribe | Cmd::PSubscribe | Cmd::SSubscribe
    );
    (!perms.channels && channels).then_some(Denied::Channel)
}

/// Each subcommand's arity, as redis 7.0's COMMAND table gives it.
const ARITY: &[(&str, i32)] = &[
    ("setuser", -3),
    ("deluser", -3),
    ("getuser", 3),
    ("list", 2),
    ("users", 2),
    ("whoami", 2),
    ("help", 2),
    ("load", 2),
    ("save", 2),
    ("cat", -2),
    ("dryrun", -4),
    ("genpass", -2),
    ("log", -2),
];

/// `ACL subcommand ...` on the connection's shard.
pub fn run(args: &Command<'_>, session: &Session, config: &RespConfig, out: &mut Vec<u8>) {
    let sub = args.at(1).to_ascii_lowercase();
    let Some(&(name, arity)) = ARITY.iter().find(|(name, _)| name.as_bytes() == sub) else {
        let shown = String::from_utf8_lossy(args.at(1));
        return write::error(
            out,
            &format!("ERR unknown subcommand '{shown}'. Try ACL HELP."),
        );
    };
    let argc = args.len() as i32;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        return super::connection::wrong_arity(out, &format!("acl|{name}"));
    }
    let users = &config.users;
    let proto = session.proto();
    match name {
        "setuser" => {
            let user = args.at(2);
            if user.iter().any(|b| b.is_ascii_whitespace() || *b == 0 || *b == 0x0b) {
                return write::error(out, "ERR Usernames can't contain spaces or null characters");
            }
            let rules: Vec<&[u8]> = args.iter().skip(3).collect();
            match users.set(user, &rules) {
                Ok(()) => write::ok(out),
                Err(error) => write::error(out, &format!("ERR {error}")),
            }
        }
        "deluser" => {
            let names: Vec<&[u8]> = args.iter().skip(2).collect();
            if names.contains(&&b"default"[..]) {
                return write::error(out, "ERR The 'default' user cannot be removed");
            }
            write::int(out, users.delete(&names) as i64);
        }
        "getuser" => match users.get(args.at(2)) {
            Some(user) => get_user(&user, proto, out),
            None => write::null(out, proto),
        },
        "list" | "users" => {
            let all = users.all();
            write::array_len(out, all.len());
            for (name, user) in all {
                if sub == b"users" {
                    write::bulk(out, &name);
                } else {
                    let mut line = b"user ".to_vec();
                    line.extend_from_slice(&name);
                    line.push(b' ');
                    line.extend_from_slice(user.describe().as_bytes());
                    write::bulk(out, &line);
                }
            }
        }
        "whoami" => write::bulk(out, &session.login.user),
        "help" => super::help::write_help(out, args.at(0), HELP),
        // percore never reads or writes an ACL file.
        "load" | "save" => write::error(out, "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."),
        _ => write::error(out, &format!("ERR percore does not serve ACL {}", name.to_ascii_uppercase())),
    }
}

/// ACL GETUSER's map, fields as Redis 7.0 gives them for what percore
/// models (no selectors besides the root one).
fn get_user(user: &User, proto: Proto, out: &mut Vec<u8>) {
    write::map_len(out, 6, proto);
    write::bulk(out, b"flags");
    let flags = user.flags();
    write::set_len(out, flags.len(), proto);
    for flag in flags {
        write::bulk(out, flag.as_bytes());
    }
    write::bulk(out, b"passwords");
    write::array_len(out, user.passwords.len());
    for hash in &user.passwords {
        write::bulk(out, hash.as_bytes());
    }
    write::bulk(out, b"commands");
    write::bulk(out, user.commands().as_bytes());
    write::bulk(out, b"keys");
    write::bulk(out, if user.perms.keys { &b"~*"[..] } else { b"" });
    write::bulk(out, b"channels");
    write::bulk(out, if user.perms.channels { &b"&*"[..] } else { b"" });
    write::bulk(out, b"selectors");
    write::array_len(out, 0);
}

/// ACL HELP's lines for what percore serves (redis 7.0's wording).
const HELP: &[&str] = &[
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "GETUSER <username>",
    "    Get the user's details.",
    "LIST",
    "    Show users details in config file format.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
];
