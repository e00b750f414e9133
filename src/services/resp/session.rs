//! What resp keeps per connection: who the client is ([`ClientInfo`], also
//! in the shard's registry), whether it has authenticated, its protocol
//! version, its subscriptions, and the buffers its commands are parsed and
//! routed with (reused from batch to batch).

use std::rc::Rc;

use super::client::{self, ClientInfo};
use super::protocol::{Args, Proto};
use super::pubsub::Member;
use super::route::RoundPlan;
use super::RespConfig;

/// One resp connection's state.
pub struct Session {
    pub client: Rc<ClientInfo>,
    /// Authenticated (always, without `--requirepass`).
    pub authed: bool,
    /// Its place in the shard's broker, once it has (un)subscribed: its
    /// subscriptions go with it.
    pub pubsub: Option<Member>,
    /// Whether the batch being served published (it then waits for room on
    /// the lanes, as an mq sender does).
    pub published: bool,
    /// Accepted on this shard's own port in shard-aware cluster mode: keys
    /// of other shards' slots get `-MOVED`, not a hop.
    pub own_port: bool,
    /// MULTI's queue and the WATCHed keys.
    pub tx: super::transaction::TxState,
}

/// The per-connection buffers, apart from [`Session`] so that a command's
/// arguments (borrowed from `args`) and the session can be used together.
#[derive(Default)]
pub struct Scratch {
    pub args: Args,
    pub plan: RoundPlan,
}

impl Session {
    pub fn proto(&self) -> Proto {
        self.client.proto.get()
    }

    /// Whether the connection is subscribed to anything (RESP2 then only
    /// takes the pub/sub commands, PING, QUIT and RESET).
    pub fn subscribed(&self) -> bool {
        let (channels, patterns, shard_channels) = self.client.subscriptions.get();
        channels + patterns + shard_channels > 0
    }

    /// RESET: back to a new connection's state.
    pub fn reset(&mut self, config: &RespConfig) {
        self.client.proto.set(Proto::Resp2);
        self.client.name.borrow_mut().clear();
        self.authed = config.requirepass.is_none();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        client::unregister(self.client.id);
    }
}
