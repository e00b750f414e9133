//! Which connections CLIENT KILL and CLIENT LIST mean, as redis-server 7.0
//! reads their filters: `ID n`, `TYPE normal|pubsub|master|replica|slave`,
//! `ADDR ip:port`, `LADDR ip:port`, `USER name` and `SKIPME yes|no` for
//! KILL (in pairs, checked before anything is killed), and `TYPE t` or
//! `ID n...` for LIST. Parsed where the command was read, and again on
//! each shard from the same words (the filter travels as the command's
//! own arguments), so both sides read it one way.

use super::client::ClientInfo;
use super::commands::strings::parse_i64;

/// A client type as redis names them; percore has no replicas or masters,
/// so a filter on those matches nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    PubSub,
    /// master, replica or slave.
    Replication,
}

impl ClientType {
    /// The type named `name`; Err: redis's error for an unknown one.
    pub fn parse(name: &[u8]) -> Result<ClientType, String> {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"normal" => Ok(ClientType::Normal),
            b"pubsub" => Ok(ClientType::PubSub),
            b"master" | b"replica" | b"slave" => Ok(ClientType::Replication),
            _ => Err(format!(
                "ERR Unknown client type '{}'",
                String::from_utf8_lossy(name)
            )),
        }
    }

    /// Whether `client` is of this type.
    pub fn of(self, client: &ClientInfo) -> bool {
        let (sub, psub, ssub) = client.subscriptions.get();
        let pubsub = sub + psub + ssub > 0;
        match self {
            ClientType::Normal => !pubsub,
            ClientType::PubSub => pubsub,
            ClientType::Replication => false,
        }
    }
}

/// CLIENT KILL's filters (the new form, `CLIENT KILL field value ...`).
#[derive(Debug, Default)]
pub struct KillFilter<'a> {
    pub id: Option<u64>,
    pub kind: Option<ClientType>,
    pub addr: Option<&'a [u8]>,
    pub laddr: Option<&'a [u8]>,
    /// `USER name`: its connections (that the user exists is checked by
    /// the caller's shard, which has the ACL table: `client_alone.rs`).
    pub user: Option<&'a [u8]>,
    /// Whether the caller itself is spared (the default: yes).
    pub skip_me: bool,
}

impl<'a> KillFilter<'a> {
    /// The filters of `words` (the arguments after `CLIENT KILL`, in
    /// pairs); Err: the error redis answers.
    pub fn parse(words: &[&'a [u8]]) -> Result<KillFilter<'a>, String> {
        let mut filter = KillFilter {
            skip_me: true,
            ..KillFilter::default()
        };
        let mut i = 0;
        while i < words.len() {
            let (field, value) = (words[i], words.get(i + 1).copied());
            let is = |name: &[u8]| field.eq_ignore_ascii_case(name);
            match value {
                Some(value) if is(b"id") => {
                    let id = parse_i64(value)
                        .filter(|&id| id > 0)
                        .ok_or_else(|| "ERR client-id should be greater than 0".to_string())?;
                    filter.id = Some(id as u64);
                }
                Some(value) if is(b"type") => filter.kind = Some(ClientType::parse(value)?),
                Some(value) if is(b"addr") => filter.addr = Some(value),
                Some(value) if is(b"laddr") => filter.laddr = Some(value),
                Some(value) if is(b"user") => filter.user = Some(value),
                Some(value) if is(b"skipme") => {
                    filter.skip_me = if value.eq_ignore_ascii_case(b"yes") {
                        true
                    } else if value.eq_ignore_ascii_case(b"no") {
                        false
                    } else {
                        return Err(super::commands::strings::SYNTAX.to_string());
                    };
                }
                _ => return Err(super::commands::strings::SYNTAX.to_string()),
            }
            i += 2;
        }
        Ok(filter)
    }

    /// Whether `client` is one the filters mean (SKIPME aside).
    pub fn matches(&self, client: &ClientInfo) -> bool {
        self.id.is_none_or(|id| id == client.id)
            && self.kind.is_none_or(|kind| kind.of(client))
            && self
                .addr
                .is_none_or(|addr| client.addr().as_bytes() == addr)
            && self
                .laddr
                .is_none_or(|laddr| client.laddr().as_bytes() == laddr)
            && self
                .user
                .is_none_or(|user| client.user.borrow().as_bytes() == user)
    }
}

/// CLIENT LIST's filter.
#[derive(Debug, PartialEq, Eq)]
pub enum ListFilter {
    All,
    Type(ClientType),
    /// These ids, in this order (each listed where it is found).
    Ids(Vec<u64>),
}

impl ListFilter {
    /// The filter of `CLIENT LIST` with `words` after it; Err: the error
    /// redis answers.
    pub fn parse(words: &[&[u8]]) -> Result<ListFilter, String> {
        match words {
            [] => Ok(ListFilter::All),
            [field, name] if field.eq_ignore_ascii_case(b"type") => {
                Ok(ListFilter::Type(ClientType::parse(name)?))
            }
            [field, ids @ ..] if field.eq_ignore_ascii_case(b"id") && !ids.is_empty() => {
                let mut list = Vec::with_capacity(ids.len());
                for id in ids {
                    let id = parse_i64(id).ok_or_else(|| "ERR Invalid client ID".to_string())?;
                    // No connection has an id below 1: such an id lists
                    // nothing, as in redis.
                    if id > 0 {
                        list.push(id as u64);
                    } else {
                        list.push(0);
                    }
                }
                Ok(ListFilter::Ids(list))
            }
            _ => Err(super::commands::strings::SYNTAX.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_as_redis_reads_them() {
        assert!(KillFilter::parse(&[b"id", b"0"]).is_err());
        assert!(KillFilter::parse(&[b"id", b"10", b"wrong_arg"]).is_err());
        assert!(KillFilter::parse(&[b"skipme", b"maybe"]).is_err());
        let filter = KillFilter::parse(&[b"user", b"x"]).expect("valid");
        assert_eq!(filter.user, Some(&b"x"[..]));
        let filter = KillFilter::parse(&[b"TYPE", b"pubsub", b"skipme", b"no"]).expect("valid");
        assert_eq!(filter.kind, Some(ClientType::PubSub));
        assert!(!filter.skip_me);
        assert_eq!(ListFilter::parse(&[]), Ok(ListFilter::All));
        assert!(ListFilter::parse(&[b"type", b"bogus"]).is_err());
        assert!(ListFilter::parse(&[b"id", b"abc"]).is_err());
        assert!(ListFilter::parse(&[b"id"]).is_err());
        assert_eq!(
            ListFilter::parse(&[b"id", b"3", b"1"]),
            Ok(ListFilter::Ids(vec![3, 1]))
        );
    }
}
