//! CLIENT LIST and CLIENT KILL over every shard (served alone): the
//! filters are checked here (`client_filter.rs`), then each shard lists or
//! kills its own connections; an id is asked of its own shard only.

use super::client_filter::{KillFilter, ListFilter};
use super::*;

impl Resp {
    /// `CLIENT LIST [TYPE t | ID n...]` over every shard (an id asked of
    /// its own shard), lines in the order redis gives them.
    pub(super) async fn client_list(
        &self,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let words: Vec<&[u8]> = command.iter().skip(2).collect();
        let parts = match ListFilter::parse(&words) {
            Err(error) => return write::error(reply, &error),
            Ok(ListFilter::Ids(ids)) => {
                let mut parts = Vec::with_capacity(ids.len());
                for id in ids.into_iter().filter(|&id| id > 0) {
                    let shard = client::shard_of(id, self.shards);
                    let id = id.to_string();
                    let args: [&[u8]; 2] = [b"id", id.as_bytes()];
                    parts.push(
                        self.on_shard(shard, Cmd::ClientList, &args, proto, now)
                            .await,
                    );
                }
                parts
            }
            Ok(_) => {
                self.on_every_shard(Cmd::ClientList, &words, proto, now)
                    .await
            }
        };
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        route::merge_replies(Merge::Text, &parts, proto, reply);
    }

    /// `CLIENT KILL addr` (the old form) or `CLIENT KILL field value ...`
    /// over every shard, with redis's checks and errors. True when the
    /// caller is among the killed: its connection closes after the reply.
    pub(super) async fn client_kill(
        &self,
        session: &Session,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) -> bool {
        let caller = &session.client;
        let caller_id = caller.id.to_string();
        let old_form = command.len() == 3;
        let words: Vec<&[u8]> = match command.len() {
            2 => {
                commands::connection::wrong_arity(reply, "client|kill");
                return false;
            }
            // The old form names an address: the same as `ADDR a SKIPME no`.
            3 => vec![b"addr", command.at(2), b"skipme", b"no"],
            _ => command.iter().skip(2).collect(),
        };
        let filter = match KillFilter::parse(&words) {
            Ok(filter) => filter,
            Err(error) => {
                write::error(reply, &error);
                return false;
            }
        };
        if let Some(user) = filter
            .user
            .filter(|user| self.config.users.get(user).is_none())
        {
            let shown = String::from_utf8_lossy(user);
            write::error(reply, &format!("ERR No such user '{shown}'"));
            return false;
        }
        let mut args: Vec<&[u8]> = vec![caller_id.as_bytes()];
        args.extend_from_slice(&words);
        let mut killed = 0;
        let shards: Vec<usize> = match filter.id {
            // An id lives on one shard.
            Some(id) => vec![client::shard_of(id, self.shards)],
            None => (0..self.shards).collect(),
        };
        for shard in shards {
            let answer = self
                .on_shard(shard, Cmd::ClientKill, &args, proto, now)
                .await;
            match int_reply(&answer) {
                Some(n) => killed += n,
                None => {
                    reply.extend_from_slice(&answer);
                    return false;
                }
            }
        }
        let me = !filter.skip_me && filter.matches(caller);
        if me {
            killed += 1;
        }
        if old_form {
            if killed == 0 {
                write::error(reply, "ERR No such client");
            } else {
                write::ok(reply);
            }
        } else {
            write::int(reply, killed);
        }
        me
    }
}

/// The value of an integer reply.
fn int_reply(reply: &[u8]) -> Option<i64> {
    let rest = reply.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    commands::strings::parse_i64(rest)
}
