//! CLIENT TRACKING on the caller's shard (`tracking.rs`): served on its own,
//! as it checks the REDIRECT target on its shard and tells every shard the
//! client's prefixes before it replies, so that a write anywhere after the
//! reply is seen.

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
        if next.is_some() || held.is_some() {
            let words = tracking::track_args(client.id, next.as_ref());
            let args: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
            self.on_every_shard(Cmd::Track, &args, proto, now).await;
        }
        *client.tracking.borrow_mut() = next;
        write::ok(reply);
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
