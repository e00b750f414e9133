//! The hold mesh: how a shard running a transaction across shards (resp's
//! MULTI/EXEC, MSET, RENAME... whose keys live on several shards) holds the
//! owners it needs, runs its commands on them, and lets them go
//! (`percore::cross_shard::hold`, README "Transactions across shards").
//!
//! A mesh of its own, apart from the key space's request mesh: a held
//! owner's request inbox waits for the release, and the holder's steps must
//! never queue behind it. A message is `[op][token, 8 bytes LE][body]`:
//! - TAKE: the hold for the token, if free: `[1]`, or `[0]` (busy);
//! - RUN: the body is a key space message (its protocol's tag, then its
//!   frames), run as the request mesh's would be, while the token holds
//!   the shard (its lease renewed); else one error frame;
//! - RELEASE: frees the hold if the token holds it: `[1]`.
//!
//! Tokens are unique over the server: the holder's shard in the top 16 bits,
//! a count of the shard's transactions below.

use std::rc::Rc;

use super::{KeySpace, Owner};
use percore::cross_shard::{Answer, Hold, Mesh, MeshPlan};
use percore::service::StartError;

const TAKE: u8 = 1;
const RUN: u8 = 2;
const RELEASE: u8 = 3;

/// Why a transaction's step on a shard was not run.
pub const HOLD_LOST: &str = "ERR percore: the transaction's hold on a shard passed its lease (README: Transactions across shards)";

/// Joins the hold mesh, answering other shards' holders with `hold` (this
/// shard's) and `owner` (what runs their commands).
pub(super) async fn join(
    plan: MeshPlan,
    shard: usize,
    hold: Rc<Hold>,
    owner: Rc<Owner>,
) -> Result<Rc<Mesh>, StartError> {
    let serve = move |message: &[u8], mut reply: Vec<u8>| {
        let (op, token, body) = match message {
            [op, token @ ..] if token.len() >= 8 => {
                let (token, body) = token.split_at(8);
                let token = u64::from_le_bytes(token.try_into().unwrap_or_default());
                (*op, token, body)
            }
            _ => (0, 0, &[][..]),
        };
        type Reply = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>>>>;
        let ready = |reply| Answer::InOrder(Box::pin(std::future::ready(reply)) as Reply);
        match op {
            TAKE => {
                reply.push(u8::from(hold.take(token)));
                ready(reply)
            }
            RELEASE => {
                hold.release(token);
                reply.push(1);
                ready(reply)
            }
            RUN if hold.renew(token) => match owner.serve(body, reply) {
                Answer::InOrder(answer) => Answer::InOrder(Box::pin(answer) as Reply),
                Answer::Apart(answer) => Answer::Apart(Box::pin(answer) as Reply),
            },
            _ => {
                // In the framing of the protocol the step speaks.
                if let Some(handler) = owner.handler(body) {
                    (handler.push_error)(&mut reply, HOLD_LOST);
                }
                ready(reply)
            }
        }
    };
    Ok(Mesh::join(plan, shard, None, serve).await?)
}

impl KeySpace {
    /// A token no other transaction of the server has (never 0), from this
    /// shard's count of its transactions.
    pub fn new_token(&self) -> u64 {
        let next = (self.transactions.get() + 1) & ((1 << 48) - 1);
        self.transactions.set(next.max(1));
        ((self.shard as u64) << 48) | next.max(1)
    }

    /// Takes `shard`'s hold for `token`: whether it was free (false: busy,
    /// or the shard is gone).
    pub async fn take_hold(&self, shard: usize, token: u64) -> bool {
        if shard == self.shard {
            return self.hold.take(token);
        }
        self.hold_step(shard, TAKE, token, |_| {}).await == [1]
    }

    /// Lets `shard`'s hold for `token` go: sent, its answer not awaited
    /// (a later message of this shard to `shard` comes after it).
    pub async fn release_hold(&self, shard: usize, token: u64) {
        if shard == self.shard {
            return self.hold.release(token);
        }
        let Some(holds) = &self.holds else {
            return;
        };
        let mut body = holds.buffer();
        body.push(RELEASE);
        body.extend_from_slice(&token.to_le_bytes());
        if let Ok(ticket) = holds.send(shard, body).await {
            holds.forget(ticket);
        }
    }

    /// Runs a key space message (`write` appends its protocol's tag and
    /// frames) on `shard`, which `token` holds; its reply frames.
    pub async fn run_held(
        &self,
        shard: usize,
        token: u64,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Vec<u8> {
        self.hold_step(shard, RUN, token, write).await
    }

    /// This shard.
    pub fn shard(&self) -> usize {
        self.shard
    }

    /// Ready once no transaction holds this shard: at once, with no yield,
    /// when none does (the connections' rounds wait on it).
    pub async fn until_unheld(&self) {
        if self.hold.is_held() {
            self.hold.until_free().await;
        }
    }

    async fn hold_step(
        &self,
        shard: usize,
        op: u8,
        token: u64,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Vec<u8> {
        let Some(holds) = &self.holds else {
            return Vec::new();
        };
        let mut body = holds.buffer();
        body.push(op);
        body.extend_from_slice(&token.to_le_bytes());
        write(&mut body);
        match holds.send(shard, body).await {
            Ok(ticket) => holds.reply(ticket).await,
            Err(_) => Vec::new(),
        }
    }

    /// Gives a reply buffer of [`KeySpace::run_held`] back for reuse.
    pub fn recycle_held(&self, buffer: Vec<u8>) {
        if let Some(holds) = &self.holds {
            holds.recycle(buffer);
        }
    }
}
