//! What resp keeps per connection: who the client is ([`ClientInfo`], also
//! in the shard's registry), whether it has authenticated, its protocol
//! version, its subscriptions, and the buffers its commands are parsed and
//! routed with (reused from batch to batch).

use std::rc::Rc;

use super::client::ClientInfo;
use super::commands::Cmd;
use super::protocol::{Args, Proto};
use super::pubsub::Member;
use super::route::RoundPlan;
use super::{RespConfig, RespShard};

/// One resp connection's state.
pub struct Session {
    pub client: Rc<ClientInfo>,
    /// May run commands besides AUTH, HELLO, QUIT and RESET: authenticated,
    /// or `default` is on and nopass (always, without `--requirepass` or
    /// ACL changes to `default`).
    pub authed: bool,
    /// Its ACL user and that user's permissions (`commands/acl.rs`).
    pub login: super::commands::acl::Login,
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
    /// CLIENT REPLY's mode.
    pub reply: ReplyMode,
    /// The command just served is not to be answered (CLIENT REPLY).
    pub quiet: bool,
    /// It ran a command that shows or changes who it is or how it is
    /// served (CLIENT, HELLO, AUTH, RESET, MONITOR, SUBSCRIBE...): it stays
    /// on its shard from then on ([`Session::movable`]).
    pub introduced: bool,
    /// resp's state on the connection's shard (`resp_shard.rs`).
    pub here: Rc<RespShard>,
}

/// CLIENT REPLY ON | OFF | SKIP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// The next command goes unanswered.
    Skip,
}

/// The per-connection buffers, apart from [`Session`] so that a command's
/// arguments (borrowed from `args`) and the session can be used together.
#[derive(Default)]
pub struct ConnBuffers {
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

    /// Whether the connection may continue on another shard between two
    /// batches (`Service::movable`, docs/ARCHITECTURE.md "Crowded cores"):
    /// as a new connection there it is the same to its client. So it never
    /// learnt its client id or changed its session (`introduced`), came in
    /// on the shared port (not a shard's own cluster port), is
    /// authenticated without a password to give again, has no
    /// subscriptions, and has no MULTI open and no key WATCHed. CLIENT LIST
    /// from other connections shows it with a new id and age once moved.
    pub fn movable(&self, default_open: bool) -> bool {
        !self.introduced
            && !self.own_port
            && default_open
            && self.pubsub.is_none()
            && !self.subscribed()
            && self.tx.is_idle()
            && self.reply == ReplyMode::On
            && !self.client.monitoring.get()
    }

    /// Whether the next command's reply may be silenced, so that it must
    /// be served in a round of its own.
    pub fn replies_silenced(&self) -> bool {
        self.reply != ReplyMode::On
    }

    /// After a command, given the mode before it (CLIENT REPLY may have
    /// changed it; its OFF and SKIP write no reply): whether its reply is
    /// dropped, SKIP then spent.
    pub fn after_command(&mut self, before: ReplyMode) {
        self.quiet = match before {
            ReplyMode::On => false,
            ReplyMode::Off => self.reply != ReplyMode::On,
            // CLIENT REPLY ON right after SKIP is answered (Redis clears
            // the skip for it); anything else is the skipped command.
            ReplyMode::Skip => match self.reply {
                ReplyMode::On => false,
                ReplyMode::Skip => {
                    self.reply = ReplyMode::On;
                    true
                }
                ReplyMode::Off => true,
            },
        };
    }

    /// Whether the command just served goes unanswered (once).
    pub fn take_quiet(&mut self) -> bool {
        std::mem::take(&mut self.quiet)
    }

    /// RESET: back to a new connection's state.
    pub fn reset(&mut self, config: &RespConfig) {
        self.client.proto.set(Proto::Resp2);
        self.client.name.borrow_mut().clear();
        super::commands::acl::reset(self, config);
        self.reply = ReplyMode::On;
        self.client.monitoring.set(false);
        super::tracking::forget(&self.here, &self.client);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        super::tracking::forget(&self.here, &self.client);
        self.here.clients.unregister(self.client.id);
    }
}

/// Whether `cmd` shows a connection who it is or changes how it is served,
/// so that it stays on its shard from then on (`Session::movable`).
pub fn introduces(cmd: Cmd) -> bool {
    matches!(
        cmd,
        Cmd::Client
            | Cmd::Hello
            | Cmd::Auth
            | Cmd::Reset
            | Cmd::Monitor
            | Cmd::Subscribe
            | Cmd::PSubscribe
            | Cmd::SSubscribe
            | Cmd::Unsubscribe
            | Cmd::PUnsubscribe
            | Cmd::SUnsubscribe
    )
}
