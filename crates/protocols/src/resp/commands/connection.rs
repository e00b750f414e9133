//! The connection commands (docs/PROTOCOLS.md §6.1, §6.2, §6.5): PING, ECHO, QUIT, HELLO,
//! SELECT, CLIENT, RESET, AUTH. They concern the connection itself and run
//! on its shard.

use super::super::protocol::write::{self, Proto};
use super::super::protocol::Command;
use super::super::session::{ReplyMode, Session};
use super::super::RespConfig;
use super::strings::parse_i64;
use super::Cmd;
use percore::service::Flow;

pub const NOAUTH: &str = "NOAUTH Authentication required.";
const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// Runs one connection command.
pub fn run(
    cmd: Cmd,
    args: &Command<'_>,
    session: &mut Session,
    config: &RespConfig,
    out: &mut Vec<u8>,
) -> Flow {
    let proto = session.proto();
    match cmd {
        Cmd::Ping => {
            if args.len() > 2 {
                wrong_arity(out, "ping");
            } else if session.subscribed() && proto == Proto::Resp2 {
                write::array_len(out, 2);
                write::bulk(out, b"pong");
                write::bulk(out, if args.len() == 2 { args.at(1) } else { b"" });
            } else if args.len() == 2 {
                write::bulk(out, args.at(1));
            } else {
                write::simple(out, b"PONG");
            }
        }
        Cmd::Echo => write::bulk(out, args.at(1)),
        Cmd::Quit => {
            write::ok(out);
            return Flow::Close;
        }
        Cmd::Select => match parse_i64(args.at(1)) {
            None => write::error(out, super::strings::NOT_INTEGER),
            Some(0) => write::ok(out),
            Some(_) if config.cluster.is_some() => {
                write::error(out, "ERR SELECT is not allowed in cluster mode")
            }
            Some(_) => write::error(out, "ERR DB index is out of range"),
        },
        Cmd::Auth => auth(args, session, config, out),
        Cmd::Hello => hello(args, session, config, out),
        Cmd::Reset => {
            session.reset(config);
            write::simple(out, b"RESET");
        }
        Cmd::Client => client_command(args, session, out),
        Cmd::Acl => super::acl::run(args, session, config, out),
        _ => write::error(out, "ERR internal: not a connection command"),
    }
    Flow::Continue
}

pub fn wrong_arity(out: &mut Vec<u8>, name: &str) {
    write::error(
        out,
        &format!("ERR wrong number of arguments for '{name}' command"),
    );
}

/// `AUTH [username] password`.
fn auth(args: &Command<'_>, session: &mut Session, config: &RespConfig, out: &mut Vec<u8>) {
    if args.len() > 3 {
        write::error(out, super::strings::SYNTAX);
        return;
    }
    let (user, password) = if args.len() == 3 {
        (args.at(1), args.at(2))
    } else {
        (&b"default"[..], args.at(1))
    };
    let default_nopass = config.users.get(b"default").is_some_and(|u| u.nopass);
    if default_nopass && args.len() == 2 {
        write::error(out, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    if super::acl::authenticate(session, config, user, password) {
        write::ok(out);
    } else {
        config.auth_failures.add(1);
        write::error(out, WRONGPASS);
    }
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
fn hello(args: &Command<'_>, session: &mut Session, config: &RespConfig, out: &mut Vec<u8>) {
    let mut proto = session.proto();
    if args.len() >= 2 {
        let Some(version) = parse_i64(args.at(1)) else {
            write::error(
                out,
                "ERR Protocol version is not an integer or out of range",
            );
            return;
        };
        proto = match version {
            2 => Proto::Resp2,
            3 => Proto::Resp3,
            _ => {
                write::error(out, "NOPROTO unsupported protocol version");
                return;
            }
        };
    }
    let (mut credentials, mut name) = (None, None);
    let mut i = 2;
    while i < args.len() {
        let opt = args.at(i);
        let more = args.len() - i - 1;
        if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
            credentials = Some((args.at(i + 1), args.at(i + 2)));
            i += 3;
        } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
            name = Some(args.at(i + 1));
            i += 2;
        } else {
            let shown = String::from_utf8_lossy(opt);
            write::error(out, &format!("ERR Syntax error in HELLO option '{shown}'"));
            return;
        }
    }
    if let Some((user, password)) = credentials {
        if !super::acl::authenticate(session, config, user, password) {
            config.auth_failures.add(1);
            write::error(out, WRONGPASS);
            return;
        }
    }
    if !session.authed {
        write::error(out, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(name) = name {
        if !valid_name(name) {
            write::error(out, BAD_NAME);
            return;
        }
        *session.client.name.borrow_mut() = name.to_vec();
    }
    session.client.proto.set(proto);
    write::map_len(out, 7, proto);
    write::bulk(out, b"server");
    write::bulk(out, b"redis");
    write::bulk(out, b"version");
    write::bulk(out, super::server::REDIS_VERSION.as_bytes());
    write::bulk(out, b"proto");
    write::int(out, proto.number());
    write::bulk(out, b"id");
    write::int(out, session.client.id as i64);
    write::bulk(out, b"mode");
    write::bulk(out, super::server::mode(config).as_bytes());
    write::bulk(out, b"role");
    write::bulk(out, b"master");
    write::bulk(out, b"modules");
    write::array_len(out, 0);
}

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

/// Redis's rule for client names: printable ASCII, no spaces.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: a client blocked on keys, on any
/// shard (blocked clients are found in one registry, `waiter.rs`), answers
/// null as at its timeout, or Redis's UNBLOCKED error; 1 if it was blocked.
fn unblock(args: &Command<'_>, out: &mut Vec<u8>) {
    let Some(id) = super::strings::parse_i64(args.at(2)) else {
        return write::error(out, "ERR value is not an integer or out of range");
    };
    let error = match args.len() {
        3 => false,
        _ if args.at(3).eq_ignore_ascii_case(b"timeout") => false,
        _ if args.at(3).eq_ignore_ascii_case(b"error") => true,
        _ => {
            let reason = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
            return write::error(out, reason);
        }
    };
    let unblocked = super::super::waiter::Waiter::unblock_client(id as u64, |proto| {
        let mut reply = Vec::new();
        if error {
            write::error(&mut reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
        } else {
            write::null_array(&mut reply, proto);
        }
        reply
    });
    write::int(out, i64::from(unblocked));
}

/// `CLIENT ID | GETNAME | SETNAME | SETINFO | INFO | LIST | KILL` on this
/// connection's shard (LIST and KILL over every shard are routed by the
/// service before they come here).
fn client_command(args: &Command<'_>, session: &mut Session, out: &mut Vec<u8>) {
    let sub = args.at(1).to_ascii_lowercase();
    let argc = args.len();
    let arity_ok = match sub.as_slice() {
        b"id" | b"getname" | b"info" => argc == 2,
        b"setname" => argc == 3,
        b"setinfo" => argc == 4,
        b"reply" | b"no-evict" => argc == 3,
        b"unblock" => argc == 3 || argc == 4,
        b"list" | b"kill" => argc >= 2,
        b"getredir" | b"trackinginfo" => argc == 2,
        b"caching" => argc == 3,
        b"tracking" => argc >= 3,
        b"help" => argc == 2,
        _ => {
            let shown = String::from_utf8_lossy(args.at(1));
            write::error(
                out,
                &format!("ERR unknown subcommand '{shown}'. Try CLIENT HELP."),
            );
            return;
        }
    };
    if !arity_ok {
        let name = format!("client|{}", String::from_utf8_lossy(&sub));
        wrong_arity(out, &name);
        return;
    }
    let proto = session.proto();
    match sub.as_slice() {
        b"id" => write::int(out, session.client.id as i64),
        b"getname" => {
            let name = session.client.name.borrow();
            if name.is_empty() {
                write::null(out, proto);
            } else {
                write::bulk(out, &name);
            }
        }
        b"setname" => {
            let name = args.at(2);
            if valid_name(name) {
                *session.client.name.borrow_mut() = name.to_vec();
                write::ok(out);
            } else {
                write::error(out, BAD_NAME);
            }
        }
        b"setinfo" => {
            let attr = args.at(2);
            if attr.eq_ignore_ascii_case(b"lib-name") || attr.eq_ignore_ascii_case(b"lib-ver") {
                write::ok(out);
            } else {
                let shown = String::from_utf8_lossy(attr);
                write::error(out, &format!("ERR Unrecognized option '{shown}'"));
            }
        }
        b"info" => {
            let mut line = Vec::new();
            session.client.line(&mut line);
            write::verbatim(out, &line, proto);
        }
        b"unblock" => unblock(args, out),
        b"getredir" => super::super::tracking::getredir(&session.client, out),
        b"trackinginfo" => super::super::tracking::info(&session.client, proto, out),
        b"caching" => super::super::tracking::caching(&session.client, args, out),
        // Served on its own (`tracking_alone.rs`), but inside MULTI.
        b"tracking" => write::error(
            out,
            "ERR percore does not serve CLIENT TRACKING inside MULTI",
        ),
        b"help" => super::help::write_help(out, args.at(0), super::help::CLIENT),
        // CLIENT REPLY OFF and SKIP are not answered themselves.
        b"reply" => {
            let mode = args.at(2);
            if mode.eq_ignore_ascii_case(b"on") {
                session.reply = ReplyMode::On;
                write::ok(out);
            } else if mode.eq_ignore_ascii_case(b"off") {
                session.reply = ReplyMode::Off;
            } else if mode.eq_ignore_ascii_case(b"skip") {
                session.reply = ReplyMode::Skip;
            } else {
                write::error(out, super::strings::SYNTAX);
            }
        }
        // percore never evicts clients: the flag changes nothing.
        b"no-evict" => {
            let flag = args.at(2);
            if flag.eq_ignore_ascii_case(b"on") || flag.eq_ignore_ascii_case(b"off") {
                write::ok(out);
            } else {
                write::error(out, super::strings::SYNTAX);
            }
        }
        b"list" => {
            let mut lines = Vec::new();
            session.here.clients.list(None, None, &mut lines);
            write::verbatim(out, &lines, proto);
        }
        _ => write::error(out, super::strings::SYNTAX),
    }
}
