//! A client blocked on keys (issue 27), as the owners of those keys see it:
//! what it waits for, the one-key command that serves it, and the claim
//! that makes it served exactly once.
//!
//! A client blocked on keys of several shards sits in each owner's queue
//! (`blocked_keys.rs`) at once. Whoever takes it first (an owner serving it
//! an element, or its own connection giving up at its timeout) wins a
//! compare-and-set on its claim; every other party then leaves it alone. The
//! owner that wins pops the element and sends the reply over the waiter's
//! channel with no await in between, so an element is never popped for a
//! client that another owner or the timeout already took.
//!
//! Owners find a waiter by number in a registry shared by the shards: the
//! cross-shard messages that queue it carry bytes only (`served_alone.rs`'s
//! `on_shard`). The registry's lock is taken when a client blocks and when
//! it stops, never on a write's path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use super::commands::Cmd;
use super::moves_in_flight::Moving;
use super::protocol::write::Proto;
use crate::kv::values::Kind;

/// What an owner sends the blocked connection.
#[derive(Debug)]
pub(super) enum Served {
    /// The reply, whole.
    Reply(Vec<u8>),
    /// BLMOVE or BRPOPLPUSH with the destination on another shard: the item
    /// popped from the source, for the connection to push there; the push
    /// that woke it answers once it is there (`moves_in_flight.rs`).
    Moved(Vec<u8>, Moving),
}

/// The non-blocking command that serves a waiter from one of its keys.
pub(super) struct Form {
    /// LMPOP, ZMPOP, LMOVE, RPOPLPUSH, or LPOP / RPOP (a move whose
    /// destination another shard owns).
    pub inner: Cmd,
    /// Its words, the key's place left empty.
    pub words: Vec<Vec<u8>>,
    /// Where the key goes in `words`.
    pub key_at: usize,
    /// The type of value the waiter takes (Redis serves a blocked client
    /// only from a key of its type).
    pub kind: Kind,
}

impl Form {
    /// The words for `key`.
    pub fn words_for<'a>(&'a self, key: &'a [u8]) -> Vec<&'a [u8]> {
        let mut words: Vec<&[u8]> = self.words.iter().map(Vec::as_slice).collect();
        words[self.key_at] = key;
        words
    }

    /// Whether it pops for the connection to push elsewhere ([`Served::Moved`]).
    pub fn moves(&self) -> bool {
        matches!(self.inner, Cmd::LPop | Cmd::RPop)
    }
}

/// One blocked client.
pub(super) struct Waiter {
    pub id: u64,
    /// Its client's id (CLIENT ID), for CLIENT UNBLOCK.
    pub client: u64,
    /// The blocking command (its reply's shape).
    pub cmd: Cmd,
    /// The protocol the client speaks.
    pub proto: Proto,
    pub form: Form,
    claimed: AtomicBool,
    reply: flume::Sender<Served>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type Registry = Mutex<HashMap<u64, Arc<Waiter>>>;
static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);

impl Waiter {
    /// A waiter, registered, and the channel its reply comes on.
    pub fn register(
        client: u64,
        cmd: Cmd,
        proto: Proto,
        form: Form,
    ) -> (Registered, flume::Receiver<Served>) {
        let (reply, replies) = flume::unbounded();
        let waiter = Arc::new(Waiter {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            client,
            cmd,
            proto,
            form,
            claimed: AtomicBool::new(false),
            reply,
        });
        registry().insert(waiter.id, waiter.clone());
        (Registered(waiter), replies)
    }

    /// The registered waiter numbered `id`.
    pub fn find(id: u64) -> Option<Arc<Waiter>> {
        registry().get(&id).cloned()
    }

    /// CLIENT UNBLOCK: client `client`'s waiter, if it waits and nobody
    /// took it yet, answers `reply` (null, as at its timeout, or an error).
    pub fn unblock_client(client: u64, reply: impl FnOnce(Proto) -> Vec<u8>) -> bool {
        let waiter = registry().values().find(|w| w.client == client).cloned();
        match waiter {
            Some(waiter) if waiter.claim() => {
                waiter.serve(Served::Reply(reply(waiter.proto)));
                true
            }
            _ => false,
        }
    }

    /// Takes the waiter: true for the one caller that does.
    pub fn claim(&self) -> bool {
        self.claimed
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether someone took it.
    pub fn claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    /// Sends the reply (after [`Waiter::claim`]). A connection gone meanwhile
    /// drops it, as Redis's reply to a closed socket goes nowhere.
    pub fn serve(&self, served: Served) {
        let _ = self.reply.send(served);
    }
}

/// A waiter while its connection waits. Dropped (its command answered, or
/// the connection's task dropped at shutdown), it is out of the registry,
/// and claimed, so that no owner serves it any more.
pub(super) struct Registered(Arc<Waiter>);

impl std::ops::Deref for Registered {
    type Target = Waiter;

    fn deref(&self) -> &Waiter {
        &self.0
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.claim();
        registry().remove(&self.0.id);
    }
}

fn registry() -> std::sync::MutexGuard<'static, HashMap<u64, Arc<Waiter>>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}
