//! The crash campaign's clients: kv and resp connections writing their own
//! keys, one request at a time, until the kill breaks the connection, and
//! recording in each key's [`History`] what was acknowledged, what was
//! refused and what was in flight.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use percore_protocols::kv::{now_ms, KvClient, Reply, Request};

use super::model::{History, State};
use super::resp_conn::{RespConn, RespReply, READ_TIMEOUT};
use super::typed::Typed;
use crate::common::rng::Rng;

/// Which protocol a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaks {
    Kv,
    Resp,
}

/// One client: the keys it alone writes, and what it saw.
pub struct Client {
    pub id: usize,
    pub speaks: Speaks,
    /// Its keys; under resp, `counters` are written by INCR and DEL only.
    pub keys: Vec<(String, History)>,
    pub counters: Vec<(String, History)>,
    /// Under resp, hashes, lists, sets and sorted sets (`typed.rs`): the
    /// key `c<id>:t<i>` holds the type [`super::typed::kind_of`] gives `i`.
    pub typed: Vec<(String, History)>,
    /// Makes each value it writes unique.
    pub seq: u64,
    pub acked: u64,
    pub refused: u64,
    /// Refusals by reason.
    pub reasons: BTreeMap<String, u64>,
    /// Keys a refused MSET set nonetheless.
    pub partly_applied: u64,
    /// Reads while serving that disagreed with what was acknowledged.
    pub violations: Vec<String>,
}

impl Client {
    pub fn new(id: usize, speaks: Speaks, keys: usize, counters: usize, typed: usize) -> Client {
        let named = |what: &str, n: usize| {
            (0..n)
                .map(|i| (format!("c{id}:{what}{i}"), History::default()))
                .collect()
        };
        Client {
            id,
            speaks,
            keys: named("k", keys),
            counters: named("n", counters),
            typed: named("t", typed),
            seq: 0,
            acked: 0,
            refused: 0,
            reasons: BTreeMap::new(),
            partly_applied: 0,
            violations: Vec::new(),
        }
    }

    /// Counts a refusal, by its reason's first words.
    fn refuse(&mut self, reason: &str) {
        self.refused += 1;
        let short: String = reason.split(' ').take(2).collect::<Vec<_>>().join(" ");
        *self.reasons.entry(short).or_default() += 1;
    }

    /// A value no other write makes, of a random length.
    fn value(&mut self, rng: &mut Rng, longest: u64) -> Vec<u8> {
        self.seq += 1;
        let mut val = format!("c{}.{}.", self.id, self.seq).into_bytes();
        val.resize(val.len() + rng.below(longest) as usize, b'x');
        val
    }

    /// Writes until the connection breaks or `stop` is set.
    pub fn run(&mut self, addr: SocketAddr, stop: &AtomicBool, seed: u64) {
        let mut rng = Rng::new(seed);
        let _ = match self.speaks {
            Speaks::Kv => self.run_kv(addr, stop, &mut rng),
            Speaks::Resp => self.run_resp(addr, stop, &mut rng),
        };
    }

    fn run_kv(&mut self, addr: SocketAddr, stop: &AtomicBool, rng: &mut Rng) -> Result<(), ()> {
        let mut kv = KvClient::connect(addr, READ_TIMEOUT).map_err(drop)?;
        while !stop.load(Ordering::Relaxed) {
            let k = rng.below(self.keys.len() as u64) as usize;
            let roll = rng.below(100);
            let (val, state) = if roll < 70 {
                let val = self.value(rng, 4000);
                let state = State::Plain(val.clone());
                (Some(val), state)
            } else if roll < 90 {
                (None, State::Absent)
            } else {
                let reply = kv.get(&self.keys[k].0).map_err(drop)?;
                self.check_read(k, reply_value(&reply));
                continue;
            };
            let key = self.keys[k].0.clone();
            let text = val.map(|v| String::from_utf8(v).unwrap_or_default());
            let request = match &text {
                Some(val) => Request::Put { key: &key, val },
                None => Request::Del { key: &key },
            };
            match kv.request(&request) {
                Ok(Reply::Error(reason)) => self.refuse(&reason),
                Ok(_) => {
                    self.acked += 1;
                    self.keys[k].1.acknowledged(now_ms(), state);
                }
                Err(_) => {
                    self.keys[k].1.in_flight(state);
                    return Err(());
                }
            }
        }
        Ok(())
    }

    fn run_resp(&mut self, addr: SocketAddr, stop: &AtomicBool, rng: &mut Rng) -> Result<(), ()> {
        let mut conn = RespConn::connect(addr).map_err(drop)?;
        while !stop.load(Ordering::Relaxed) {
            let roll = rng.below(100);
            if roll < 15 && !self.counters.is_empty() {
                self.counter(&mut conn, rng, roll < 12)?;
                continue;
            }
            if roll < 40 && !self.typed.is_empty() && rng.below(2) == 0 {
                self.typed_write(&mut conn, rng)?;
                continue;
            }
            if roll >= 92 {
                let k = rng.below(self.keys.len() as u64) as usize;
                let name = self.keys[k].0.clone();
                let reply = conn.call(&[b"GET", name.as_bytes()]).map_err(drop)?;
                match reply {
                    RespReply::Bulk(val) => self.check_read(k, val),
                    other => self.violations.push(format!("GET {name}: {other:?}")),
                }
                continue;
            }
            // Writes of one to four keys, their states, sent then awaited.
            let mut args: Vec<Vec<u8>> = Vec::new();
            let mut writes: Vec<(usize, State)> = Vec::new();
            let sent = now_ms();
            let ttl = if rng.below(4) == 0 {
                100_000
            } else {
                rng.between(30, 3000)
            };
            let k = rng.below(self.keys.len() as u64) as usize;
            let name = self.keys[k].0.clone().into_bytes();
            if roll < 40 {
                let val = self.value(rng, 1000);
                args = vec![b"SET".to_vec(), name, val.clone()];
                writes.push((k, State::Plain(val)));
            } else if roll < 55 {
                let val = self.value(rng, 1000);
                let (unit, amount) = if rng.below(2) == 0 {
                    ("PX", ttl)
                } else {
                    ("EX", ttl.div_ceil(1000))
                };
                let ttl = if unit == "PX" { amount } else { amount * 1000 };
                args = vec![
                    b"SET".to_vec(),
                    name,
                    val.clone(),
                    unit.into(),
                    amount.to_string().into(),
                ];
                writes.push((k, ttl_state(val, sent, ttl)));
            } else if roll < 63 {
                args = vec![b"DEL".to_vec(), name];
                writes.push((k, State::Absent));
            } else if roll < 75 {
                // EXPIRE applies to a live key only: its state follows the reply.
                let Some(val) = self.keys[k].1.current().val().map(<[u8]>::to_vec) else {
                    continue;
                };
                let (verb, amount, ttl) = if rng.below(2) == 0 {
                    ("PEXPIRE", ttl, ttl)
                } else {
                    ("EXPIRE", ttl.div_ceil(1000), ttl.div_ceil(1000) * 1000)
                };
                args = vec![verb.into(), name, amount.to_string().into()];
                writes.push((k, ttl_state(val, sent, ttl)));
            } else {
                args.push(b"MSET".to_vec());
                let mut taken = Vec::new();
                for _ in 0..rng.between(2, 4) {
                    let k = rng.below(self.keys.len() as u64) as usize;
                    if taken.contains(&k) {
                        continue;
                    }
                    taken.push(k);
                    let val = self.value(rng, 1000);
                    args.push(self.keys[k].0.clone().into_bytes());
                    args.push(val.clone());
                    writes.push((k, State::Plain(val)));
                }
            }
            let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            match conn.call(&refs) {
                Ok(RespReply::Error(reason)) if args[0] == b"MSET" => {
                    self.refuse(&reason);
                    self.read_back(&mut conn, writes)?;
                }
                Ok(RespReply::Error(reason)) => self.refuse(&reason),
                Ok(reply) => {
                    self.acked += 1;
                    let at = now_ms();
                    let expired = reply == RespReply::Int(0) && args[0].ends_with(b"EXPIRE");
                    if expired && matches!(self.keys[k].1.current(), State::Plain(_)) {
                        self.violations
                            .push(format!("{}: 0 for a key with no TTL", self.keys[k].0));
                    }
                    for (k, state) in writes {
                        // A key whose time passed before the EXPIRE came.
                        let state = if expired {
                            State::Absent
                        } else {
                            state.received(sent, at)
                        };
                        self.keys[k].1.acknowledged(at, state);
                    }
                }
                Err(_) => {
                    let at = now_ms();
                    for (k, state) in writes {
                        self.keys[k].1.in_flight(state.received(sent, at));
                    }
                    return Err(());
                }
            }
        }
        Ok(())
    }

    /// INCR (or DEL) of one counter.
    fn counter(&mut self, conn: &mut RespConn, rng: &mut Rng, incr: bool) -> Result<(), ()> {
        let c = rng.below(self.counters.len() as u64) as usize;
        let name = self.counters[c].0.clone();
        let history = &mut self.counters[c].1;
        let next = match history.current() {
            State::Plain(val) => String::from_utf8_lossy(val).parse::<i64>().unwrap_or(0) + 1,
            _ => 1,
        };
        let (verb, state) = if incr {
            ("INCR", State::Plain(next.to_string().into_bytes()))
        } else {
            ("DEL", State::Absent)
        };
        match conn.call(&[verb.as_bytes(), name.as_bytes()]) {
            Ok(RespReply::Error(reason)) => self.refuse(&reason),
            Ok(reply) => {
                self.acked += 1;
                if incr && reply != RespReply::Int(next) {
                    self.violations
                        .push(format!("INCR {name}: {reply:?}, expected {next}"));
                }
                history.acknowledged(now_ms(), state);
            }
            Err(_) => {
                history.in_flight(state);
                return Err(());
            }
        }
        Ok(())
    }

    /// One write of a hash, list, set or sorted set; the state it leaves
    /// follows from the last acknowledged one, as a counter's does.
    fn typed_write(&mut self, conn: &mut RespConn, rng: &mut Rng) -> Result<(), ()> {
        let t = rng.below(self.typed.len() as u64) as usize;
        let unique = self.value(rng, 40);
        let (name, history) = &self.typed[t];
        let before = Typed::from_state(t, history.current());
        let (args, after) = before.write(name.as_bytes(), unique, rng);
        let state = after.state();
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        match conn.call(&refs) {
            Ok(RespReply::Error(reason)) => self.refuse(&reason),
            Ok(_) => {
                self.acked += 1;
                self.typed[t].1.acknowledged(now_ms(), state);
            }
            Err(_) => {
                self.typed[t].1.in_flight(state);
                return Err(());
            }
        }
        Ok(())
    }

    /// After a refused MSET, what each of its keys holds: a refused MSET
    /// may have set some of its keys (its parts run on their owner shards,
    /// isolated per shard only, docs/PROTOCOLS.md §6.3, and one part sets its pairs in
    /// order), so each must hold its old value or the new one, and the
    /// model goes on from what it holds.
    fn read_back(&mut self, conn: &mut RespConn, writes: Vec<(usize, State)>) -> Result<(), ()> {
        let mut writes = writes.into_iter();
        while let Some((k, state)) = writes.next() {
            let name = self.keys[k].0.clone();
            let reply = match conn.call(&[b"GET", name.as_bytes()]) {
                Ok(reply) => reply,
                Err(_) => {
                    // Broken by the kill: this key and those not read yet
                    // may hold the new value or the old one.
                    self.keys[k].1.in_flight(state);
                    for (k, state) in writes {
                        self.keys[k].1.in_flight(state);
                    }
                    return Err(());
                }
            };
            let held = match reply {
                RespReply::Bulk(val) => val,
                _ => None,
            };
            if held.is_some() && held.as_deref() == state.val() {
                self.partly_applied += 1;
                self.keys[k].1.acknowledged(now_ms(), state);
            } else {
                self.check_read(k, held);
            }
        }
        Ok(())
    }

    /// A read while serving sees the last acknowledged value (or nothing,
    /// if that value's time may have passed).
    fn check_read(&mut self, k: usize, val: Option<Vec<u8>>) {
        let (name, history) = &self.keys[k];
        let current = history.current();
        let fine = match (current, &val) {
            (State::Ttl { lo, .. }, None) => now_ms() + 5 >= *lo,
            (state, val) => state.val() == val.as_deref(),
        };
        if !fine {
            self.violations.push(format!(
                "a read of {name} while serving got {:?}, the last acknowledged state is {current}",
                val.map(|v| String::from_utf8_lossy(&v).into_owned())
            ));
        }
    }
}

/// The state a TTL of `ttl` ms sent at `sent` sets: its time is at least
/// `sent + ttl`; its latest is known once the reply comes
/// ([`State::received`]).
fn ttl_state(val: Vec<u8>, sent: u64, ttl: u64) -> State {
    State::Ttl {
        val,
        lo: sent + ttl,
        hi: sent + ttl,
    }
}

impl State {
    /// Bounds an expiry set by a request sent at `sent` by the time `at`
    /// its reply came (or its connection broke: the server set it before
    /// then, if at all).
    fn received(self, sent: u64, at: u64) -> State {
        match self {
            State::Ttl { val, lo, hi } => State::Ttl {
                val,
                lo,
                hi: hi + at.saturating_sub(sent),
            },
            other => other,
        }
    }
}

fn reply_value(reply: &Reply) -> Option<Vec<u8>> {
    match reply {
        Reply::Str(text) => Some(text.clone().into_bytes()),
        Reply::Bin(bytes) => Some(bytes.clone()),
        _ => None,
    }
}

/// Runs clients on threads until `stop`; gives them back.
pub fn run_all(
    clients: Vec<Client>,
    kv: SocketAddr,
    resp: SocketAddr,
    stop: &Arc<AtomicBool>,
    seed: u64,
) -> Vec<std::thread::JoinHandle<Client>> {
    clients
        .into_iter()
        .map(|mut client| {
            let stop = stop.clone();
            let addr = match client.speaks {
                Speaks::Kv => kv,
                Speaks::Resp => resp,
            };
            let seed = seed ^ (client.id as u64).wrapping_mul(0x1000_0000_01b3);
            std::thread::spawn(move || {
                client.run(addr, &stop, seed);
                client
            })
        })
        .collect()
}
