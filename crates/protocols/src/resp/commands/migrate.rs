//! MIGRATE's arguments, read as redis 7.0 reads them (src/cluster.c
//! `migrateCommand`), and the commands it sends the target: AUTH if asked,
//! SELECT, then one RESTORE (RESTORE-ASKING in cluster mode) per key with
//! its remaining TTL and DUMP payload, REPLACE if asked. The exchange itself
//! is `resp/migrate.rs`'s.
//!
//! `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//! [AUTH password | AUTH2 username password] [KEYS key [key ...]]`

use std::time::Duration;

use super::super::protocol::{encode_command, Command};
use super::strings::{parse_i64, NOT_INTEGER, SYNTAX};

/// A MIGRATE, its arguments read.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub host: &'a [u8],
    /// As redis's `atoi`: a port that is not a number is 0, which no
    /// connection reaches (an IOERR, as redis answers).
    pub port: u16,
    pub db: i64,
    /// Each step's limit (connect, write, each reply read); redis's 1000
    /// ms when the timeout given is not positive.
    pub timeout: Duration,
    pub copy: bool,
    pub replace: bool,
    /// AUTH's password, or AUTH2's user and password.
    pub auth: Option<(Option<&'a [u8]>, &'a [u8])>,
    pub keys: Vec<&'a [u8]>,
}

/// Reads MIGRATE's arguments (its arity already checked: 6 or more), with
/// redis's errors in redis's order: the options first, then the timeout
/// and the db.
pub fn parse<'a>(args: &Command<'a>) -> Result<Request<'a>, &'static str> {
    let mut request = Request {
        host: args.at(1),
        port: std::str::from_utf8(args.at(2))
            .ok()
            .and_then(|port| port.parse().ok())
            .unwrap_or(0),
        db: 0,
        timeout: Duration::ZERO,
        copy: false,
        replace: false,
        auth: None,
        keys: vec![args.at(3)],
    };
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let option = args.at(j);
        if option.eq_ignore_ascii_case(b"copy") {
            request.copy = true;
        } else if option.eq_ignore_ascii_case(b"replace") {
            request.replace = true;
        } else if option.eq_ignore_ascii_case(b"auth") {
            if more < 1 {
                return Err(SYNTAX);
            }
            request.auth = Some((None, args.at(j + 1)));
            j += 1;
        } else if option.eq_ignore_ascii_case(b"auth2") {
            if more < 2 {
                return Err(SYNTAX);
            }
            request.auth = Some((Some(args.at(j + 1)), args.at(j + 2)));
            j += 2;
        } else if option.eq_ignore_ascii_case(b"keys") {
            if !args.at(3).is_empty() {
                return Err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
            }
            request.keys = args.iter().skip(j + 1).collect();
            break;
        } else {
            return Err(SYNTAX);
        }
        j += 1;
    }
    let timeout = parse_i64(args.at(5)).ok_or(NOT_INTEGER)?;
    request.db = parse_i64(args.at(4)).ok_or(NOT_INTEGER)?;
    let timeout = if timeout <= 0 { 1000 } else { timeout };
    request.timeout = Duration::from_millis(timeout as u64);
    Ok(request)
}

/// The arguments MONITOR shows as `(redacted)`: AUTH's password, AUTH2's
/// user and password, as redis's `redactClientCommandArgument` calls in
/// `migrateCommand` (those read before an error stay redacted).
pub fn redacted(args: &Command<'_>, i: usize) -> bool {
    let mut j = 6;
    while j < args.len() {
        let option = args.at(j);
        let more = args.len() - 1 - j;
        if option.eq_ignore_ascii_case(b"auth") && more >= 1 {
            if i == j + 1 {
                return true;
            }
            j += 1;
        } else if option.eq_ignore_ascii_case(b"auth2") && more >= 2 {
            if i == j + 1 || i == j + 2 {
                return true;
            }
            j += 2;
        } else if !option.eq_ignore_ascii_case(b"copy") && !option.eq_ignore_ascii_case(b"replace")
        {
            // KEYS ends the options, anything else is an error.
            return false;
        }
        j += 1;
    }
    false
}

/// One key to send: its name, its remaining time to live in milliseconds
/// (0: none), and its DUMP payload.
pub struct Outgoing {
    pub key: Vec<u8>,
    pub ttl: i64,
    pub payload: Vec<u8>,
}

/// What MIGRATE sends the target, as one buffer: AUTH if asked, SELECT
/// (always: percore keeps no connection, so none has a db selected), and a
/// RESTORE per key. How many single-line replies come back before the
/// RESTOREs' is `auth.is_some() as usize + 1`.
pub fn commands(request: &Request<'_>, keys: &[Outgoing], cluster: bool, out: &mut Vec<u8>) {
    match request.auth {
        Some((Some(user), password)) => {
            encode_command([&b"AUTH"[..], user, password], out);
        }
        Some((None, password)) => encode_command([&b"AUTH"[..], password], out),
        None => {}
    }
    let db = request.db.to_string();
    encode_command([&b"SELECT"[..], db.as_bytes()], out);
    let restore: &[u8] = if cluster {
        b"RESTORE-ASKING"
    } else {
        b"RESTORE"
    };
    for key in keys {
        let ttl = key.ttl.to_string();
        let mut words: Vec<&[u8]> = vec![restore, &key.key, ttl.as_bytes(), &key.payload];
        if request.replace {
            words.push(b"REPLACE");
        }
        encode_command(words, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::protocol::Args;
    use super::*;

    fn with<T>(words: &[&str], check: impl FnOnce(&Command<'_>) -> T) -> T {
        let mut args = Args::default();
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        args.set_words(&words);
        check(&args.view(&[]))
    }

    #[test]
    fn options_are_read_as_redis_reads_them() {
        let words = [
            "migrate", "h", "7000", "", "0", "0", "copy", "auth2", "u", "p", "keys", "a", "b",
        ];
        with(&words, |command| {
            let request = parse(command).map_err(str::to_string);
            let Ok(request) = request else {
                panic!("{request:?}")
            };
            assert!(request.copy && !request.replace);
            assert_eq!(request.auth, Some((Some(&b"u"[..]), &b"p"[..])));
            assert_eq!(request.keys, [&b"a"[..], b"b"]);
            assert_eq!(request.timeout, Duration::from_millis(1000));
            assert!(!redacted(command, 7) && redacted(command, 8) && redacted(command, 9));
            assert!(!redacted(command, 11));
        });
        let keyed = ["migrate", "h", "1", "k", "0", "5", "keys", "a"];
        with(&keyed, |c| assert_eq!(parse(c).err(), Some(KEYS_WITH_KEY)));
        let dangling = ["migrate", "h", "1", "k", "0", "5", "auth"];
        with(&dangling, |c| assert_eq!(parse(c).err(), Some(SYNTAX)));
        let bad_db = ["migrate", "h", "1", "k", "x", "5"];
        with(&bad_db, |c| assert_eq!(parse(c).err(), Some(NOT_INTEGER)));
    }

    const KEYS_WITH_KEY: &str =
        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
}
