//! The options of SET and GETEX, read as redis 7.0's one
//! `parseExtendedStringArgumentsOrReply` reads both, so that the two
//! commands refuse the same combinations with the same errors.

use super::expiry::ExpireArg;
use super::strings::SYNTAX;
use crate::resp::protocol::Command;

/// SET's options (`NX`, `XX`, `GET`, `KEEPTTL`, an expire) or GETEX's (an
/// expire, `PERSIST`), with the expire resolved to an absolute time.
#[derive(Default)]
pub struct Extended {
    pub nx: bool,
    pub xx: bool,
    pub get: bool,
    pub keep_ttl: bool,
    pub persist: bool,
    /// The expire option's time, Unix milliseconds.
    pub at: Option<u64>,
}

impl Extended {
    /// The options from argument `from` on, SET's when `set`, else GETEX's;
    /// an error reply's text for `command` otherwise. An option that does
    /// not belong to the command or conflicts with one already given is a
    /// syntax error; the expire's value is read after every option, so a
    /// syntax error wins over a bad number, as in redis.
    pub fn read(
        args: &Command<'_>,
        from: usize,
        set: bool,
        now: u64,
        command: &str,
    ) -> Result<Extended, String> {
        let mut options = Extended::default();
        let mut expire: Option<ExpireArg<'_>> = None;
        let mut j = from;
        while j < args.len() {
            let opt = args.at(j);
            let next = (j + 1 < args.len()).then(|| args.at(j + 1));
            let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
            let timed = expire.is_some();
            if set && is("nx") && !options.xx {
                options.nx = true;
            } else if set && is("xx") && !options.nx {
                options.xx = true;
            } else if set && is("get") {
                options.get = true;
            } else if set && is("keepttl") && !timed {
                options.keep_ttl = true;
            } else if !set && is("persist") && !timed {
                options.persist = true;
            } else if let (Some(kind), Some(value)) = (ExpireArg::kind(opt), next) {
                let other_kind = expire.is_some_and(|e| e.kind != kind);
                if options.keep_ttl || options.persist || other_kind {
                    return Err(SYNTAX.to_string());
                }
                expire = Some(ExpireArg { kind, value });
                j += 1;
            } else {
                return Err(SYNTAX.to_string());
            }
            j += 1;
        }
        options.at = expire.map(|e| e.resolve(now, command)).transpose()?;
        Ok(options)
    }
}
