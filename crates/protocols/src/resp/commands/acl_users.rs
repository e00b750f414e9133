//! The ACL user table (issue 26): Redis 7.0's users as far as percore
//! models them — on/off, passwords (kept as SHA-256 hex, as Redis keeps
//! them), nopass, the sanitize-payload flags, and all-or-nothing
//! permissions: every command or none (`+@all`/`-@all`), every key or none
//! (`~*`), every channel or none (`&*`). Rules that would name single
//! commands, categories, key or channel patterns, or selectors are refused
//! (README, "What differs from Redis"): percore does not pretend to enforce
//! what it does not.
//!
//! One table for the whole server, shared by every shard as CONFIG SET's
//! stored values are (`config.rs`'s `Stored`): users are server-wide, and
//! a user set through one shard's connection authenticates a connection of
//! any other at once. Only AUTH, HELLO AUTH and ACL take its lock; a
//! command's permission check reads the table's generation (one atomic
//! load) and looks the user up again only when it moved (`acl.rs`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::sha256;

/// One user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Made anew by each creation: a connection authenticated as a user
    /// deleted (and perhaps made again) is closed, as Redis closes it.
    pub serial: u64,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)) or `skip-sanitize-payload`
    /// (Some(false)), shown as given; neither on a new user.
    pub sanitize: Option<bool>,
    /// SHA-256 hex of each password, in the order added.
    pub passwords: Vec<String>,
    pub perms: Perms,
}

/// What a user may touch: all or nothing of each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    pub commands: bool,
    pub keys: bool,
    pub channels: bool,
}

impl Perms {
    pub const ALL: Perms = Perms {
        commands: true,
        keys: true,
        channels: true,
    };
}

impl User {
    /// A new user, as Redis 7.0's ACLCreateUser makes it: off, no
    /// passwords, no permissions (`acl-pubsub-default` is resetchannels).
    fn new(serial: u64) -> User {
        User {
            serial,
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            perms: Perms::default(),
        }
    }

    /// Whether `password` opens this user (Redis's ACLCheckUserCredentials).
    pub fn opens(&self, password: &[u8]) -> bool {
        self.enabled && (self.nopass || self.passwords.contains(&sha256::hex(password)))
    }

    /// Applies one SETUSER rule; Err: why it is refused, as Redis's
    /// `Error in ACL SETUSER modifier` words it after the rule.
    fn apply(&mut self, rule: &[u8]) -> Result<(), String> {
        let is = |word: &str| rule.eq_ignore_ascii_case(word.as_bytes());
        match rule {
            [] => {}
            _ if is("on") => self.enabled = true,
            _ if is("off") => self.enabled = false,
            _ if is("nopass") => {
                self.nopass = true;
                self.passwords.clear();
            }
            _ if is("resetpass") => {
                self.nopass = false;
                self.passwords.clear();
            }
            _ if is("sanitize-payload") => self.sanitize = Some(true),
            _ if is("skip-sanitize-payload") => self.sanitize = Some(false),
            _ if is("reset") => {
                let serial = self.serial;
                *self = User::new(serial);
                self.sanitize = Some(true);
            }
            // percore's users have no selectors: there is none to clear.
            _ if is("clearselectors") => {}
            _ if is("allkeys") || rule == b"~*" => self.perms.keys = true,
            _ if is("resetkeys") => self.perms.keys = false,
            _ if is("allchannels") || rule == b"&*" => self.perms.channels = true,
            _ if is("resetchannels") => self.perms.channels = false,
            _ if is("allcommands") || is("+@all") => self.perms.commands = true,
            _ if is("nocommands") || is("-@all") => self.perms.commands = false,
            [b'>', password @ ..] => {
                let hash = sha256::hex(password);
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            [b'#', hash @ ..] => {
                let hash = valid_hash(hash)?;
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            [b'<', password @ ..] => self.forget(&sha256::hex(password))?,
            [b'!', hash @ ..] => self.forget(&valid_hash(hash)?)?,
            // Redis's own errors for a pattern after `*`.
            [b'~' | b'%', ..] if self.perms.keys => return Err(AFTER_ALLKEYS.into()),
            [b'&', ..] if self.perms.channels => return Err(AFTER_ALLCHANNELS.into()),
            [b'~' | b'%' | b'&' | b'+' | b'-' | b'(', ..] => return Err(NOT_SERVED.into()),
            _ => return Err("Syntax error".into()),
        }
        Ok(())
    }

    fn forget(&mut self, hash: &str) -> Result<(), String> {
        let before = self.passwords.len();
        self.passwords.retain(|known| known != hash);
        if self.passwords.len() == before {
            return Err(
                "The password you are trying to remove from the user does not exist".into(),
            );
        }
        Ok(())
    }

    /// Its flags, in Redis's order (ACLUserFlags).
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize {
            Some(false) => flags.push("skip-sanitize-payload"),
            Some(true) => flags.push("sanitize-payload"),
            None => {}
        }
        flags
    }

    /// Its rules as ACL LIST shows them after `user NAME ` (Redis's
    /// ACLDescribeUser): flags, `#hash` per password, keys, channels,
    /// commands.
    pub fn describe(&self) -> String {
        let mut words: Vec<String> = self.flags().iter().map(|f| f.to_string()).collect();
        words.extend(self.passwords.iter().map(|hash| format!("#{hash}")));
        if self.perms.keys {
            words.push("~*".into());
        }
        words.push(
            if self.perms.channels {
                "&*"
            } else {
                "resetchannels"
            }
            .into(),
        );
        words.push(self.commands().into());
        words.join(" ")
    }

    /// Its command rules as GETUSER and LIST show them.
    pub fn commands(&self) -> &'static str {
        if self.perms.commands {
            "+@all"
        } else {
            "-@all"
        }
    }
}

const AFTER_ALLKEYS: &str = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
const AFTER_ALLCHANNELS: &str = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
/// percore's own refusal: it enforces all-or-nothing permissions only.
const NOT_SERVED: &str = "percore serves only all-or-nothing permissions (+@all/-@all, ~*/resetkeys, &*/resetchannels): rules for single commands, categories, key or channel patterns and selectors are not served";

/// A `#`/`!` rule's hash: 64 lowercase hex digits (ACLCheckPasswordHash).
fn valid_hash(hash: &[u8]) -> Result<String, String> {
    if hash.len() == 64 && hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(String::from_utf8_lossy(hash).into_owned())
    } else {
        Err("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters".into())
    }
}

/// The users, by name (in byte order, as Redis's radix tree lists them).
pub struct Users {
    table: Mutex<Table>,
    /// Moves at every change: a connection compares it with the one it saw.
    generation: AtomicU64,
    /// `default` is on and nopass: connections need no AUTH (read where a
    /// lock would cost: a connection's `movable`).
    open: AtomicBool,
}

#[derive(Default)]
struct Table {
    users: BTreeMap<Vec<u8>, User>,
    serials: u64,
}

impl Users {
    /// The table at start: the `default` user, with `--requirepass`'s
    /// password, or nopass without one (Redis's ACLUpdateDefaultUserPassword).
    pub fn new(requirepass: Option<&str>) -> Users {
        let mut default = User::new(0);
        default.enabled = true;
        default.perms = Perms::ALL;
        match requirepass {
            Some(password) => default.passwords.push(sha256::hex(password.as_bytes())),
            None => default.nopass = true,
        }
        let mut table = Table {
            serials: 1,
            ..Table::default()
        };
        let open = default.enabled && default.nopass;
        table.users.insert(b"default".to_vec(), default);
        Users {
            table: Mutex::new(table),
            generation: AtomicU64::new(1),
            open: AtomicBool::new(open),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A poisoned lock still holds whole users: each change is made on
        // a copy and put in place at once.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A copy of the user called `name`.
    pub fn get(&self, name: &[u8]) -> Option<User> {
        self.lock().users.get(name).cloned()
    }

    /// Every user, by name.
    pub fn all(&self) -> Vec<(Vec<u8>, User)> {
        self.lock()
            .users
            .iter()
            .map(|(name, user)| (name.clone(), user.clone()))
            .collect()
    }

    /// ACL SETUSER: every rule applied to a copy of the user (a new one if
    /// none is called `name`), then put in place; none if any is refused
    /// (Redis's ACLStringSetUser). Err: Redis's error, without `ERR `.
    pub fn set(&self, name: &[u8], rules: &[&[u8]]) -> Result<(), String> {
        let mut table = self.lock();
        let mut user = match table.users.get(name) {
            Some(user) => user.clone(),
            None => User::new(table.serials),
        };
        for rule in rules {
            if let Err(why) = user.apply(rule) {
                let shown = String::from_utf8_lossy(rule);
                return Err(format!("Error in ACL SETUSER modifier '{shown}': {why}"));
            }
        }
        if user.serial == table.serials {
            table.serials += 1;
        }
        if name == b"default" {
            self.open
                .store(user.enabled && user.nopass, Ordering::Release);
        }
        table.users.insert(name.to_vec(), user);
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// ACL DELUSER: how many of `names` were users (`default` is refused
    /// by the caller first).
    pub fn delete(&self, names: &[&[u8]]) -> usize {
        let mut table = self.lock();
        let deleted = names
            .iter()
            .filter(|name| table.users.remove(**name).is_some())
            .count();
        if deleted > 0 {
            self.generation.fetch_add(1, Ordering::Release);
        }
        deleted
    }

    /// Whether a new connection is authenticated without AUTH: `default`
    /// is on and nopass (Redis's clientSetDefaultAuth).
    pub fn default_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_as_redis() {
        let users = Users::new(None);
        let default = users.get(b"default");
        assert_eq!(
            default.map(|u| u.describe()),
            Some("on nopass ~* &* +@all".to_string())
        );
        assert_eq!(users.set(b"u1", &[]), Ok(()));
        assert_eq!(
            users.get(b"u1").map(|u| u.describe()),
            Some("off resetchannels -@all".to_string())
        );
        assert_eq!(users.set(b"u1", &[b"reset"]), Ok(()));
        assert_eq!(
            users.get(b"u1").map(|u| u.describe()),
            Some("off sanitize-payload resetchannels -@all".to_string())
        );
        let rules: [&[u8]; 5] = [b"on", b">secret", b"+@all", b"~*", b"&*"];
        assert_eq!(users.set(b"u2", &rules), Ok(()));
        assert_eq!(
            users.get(b"u2").map(|u| u.describe()),
            Some(
                "on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all"
                    .to_string()
            )
        );
        assert!(users.get(b"u2").is_some_and(|u| u.opens(b"secret")));
        assert!(!users.get(b"u2").is_some_and(|u| u.opens(b"wrong")));
    }

    #[test]
    fn all_or_nothing() {
        let users = Users::new(Some("pw"));
        let before = users.generation();
        assert_eq!(
            users.set(b"u", &[b"on", b"foo"]),
            Err("Error in ACL SETUSER modifier 'foo': Syntax error".into())
        );
        assert!(users.get(b"u").is_none());
        assert_eq!(users.generation(), before);
        assert!(users.set(b"u", &[b"+get"]).is_err());
        assert!(users.set(b"u", &[b"~*", b"~a"]).is_err());
        assert_eq!(users.delete(&[b"u", b"nope"]), 0);
        assert!(!users.default_open());
    }
}
