//! CLIENT TRACKING on the tracking client's shard (`tracking.rs`): the
//! command itself, served on its own, as it checks the REDIRECT target on
//! its shard and tells every shard BCAST's prefixes before it replies, so
//! that a write anywhere after the reply is seen; and the default mode's
//! tracked reads, each sent to its keys' owner behind their registration.

use super::*;

impl Resp {
    /// CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p]... with
    /// Redis 7.0's checks and errors.
    pub(super) async fn client_tracking(
        &self,
        session: &Session,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let client = &session.client;
        let held = client.tracking.borrow().clone();
        let request = match tracking::parse(command, held.as_ref()) {
            Ok(request) => request,
            Err(error) => return write::error(reply, &error),
        };
        if let Some(id) = request.redirect {
            if !self.client_exists(id, proto, now).await {
                return write::error(
                    reply,
                    "ERR The client ID you want redirect to does not exist",
                );
            }
        }
        let next = request
            .on
            .then(|| tracking::merged(&request, held.as_ref()));
        // Every shard holds every tracking client's registration.
        if next.is_some() || held.is_some() {
            let words = tracking::registration(client.id, next.as_ref());
            let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
            self.on_every_shard(Cmd::Track, &args, proto, now).await;
        }
        client
            .tracks_reads
            .set(next.as_ref().is_some_and(|t| !t.bcast || t.noloop));
        if next.is_none() {
            client.caching.set((None, None));
        }
        *client.tracking.borrow_mut() = next;
        write::ok(reply);
    }

    /// Before a command on keys that `owner` holds all of: a read of a
    /// client tracking them (the default mode) goes behind their
    /// registration, and a write of a NOLOOP client behind the mark that
    /// names it, to the same owner in the same round; the command's reply
    /// alone is kept (`Merge::Last`). One flag read for any other client.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn track_command(
        &self,
        session: &Session,
        plan: &mut RoundPlan,
        out: &mut Vec<u8>,
        owner: usize,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
    ) {
        let client = &session.client;
        if !client.tracks_reads.get() {
            return;
        }
        let Some(entry) = command_table::lookup(command.at(0)) else {
            return;
        };
        let id = client.id.to_string();
        if !entry.flags.contains(&"readonly") {
            if entry.flags.contains(&"write") && tracking::noloop(client) {
                plan.merge((Merge::Last, proto), 2);
                let words = [id.as_bytes()];
                self.run_part_at(plan, out, owner, Cmd::TrackWriter, &words, proto, now);
            }
            return;
        }
        if entry.first_key <= 0 || !tracking::remembers(client) {
            return;
        }
        let last = if entry.last_key < 0 {
            command.len() as i64 + i64::from(entry.last_key)
        } else {
            i64::from(entry.last_key)
        };
        let step = entry.step.max(1) as usize;
        let keys: Vec<&[u8]> = (entry.first_key as usize..=last.max(0) as usize)
            .step_by(step)
            .filter(|&i| i < command.len())
            .map(|i| command.at(i))
            .collect();
        if keys.is_empty() {
            return;
        }
        plan.merge((Merge::Last, proto), keys.len() + 1);
        for key in keys {
            let words = [id.as_bytes(), key];
            self.run_part_at(plan, out, owner, Cmd::TrackKey, &words, proto, now);
        }
    }

    /// Whether a connection with client id `id` is open (on its shard).
    async fn client_exists(&self, id: i64, proto: Proto, now: u64) -> bool {
        let Ok(id) = u64::try_from(id) else {
            return false;
        };
        if id == 0 {
            return false;
        }
        let shown = id.to_string();
        let shard = client::shard_of(id, self.shards);
        let args: [&[u8]; 2] = [b"id", shown.as_bytes()];
        let lines = self
            .on_shard(shard, Cmd::ClientList, &args, proto, now)
            .await;
        // An empty bulk string: no such connection there.
        !lines.starts_with(b"$0\r\n") && lines.starts_with(b"$")
    }
}
