//! kv under load: a Get/Put mix over a key space split between the
//! connections, each connection the only writer of its keys, so it knows
//! what every Get must return (the value it last put, or nil). Each
//! connection first puts each of its keys once, so that Gets find values.

use std::collections::VecDeque;

use crate::codec::split_frame;
use crate::load::workload::{KvMix, Workload};
use crate::services::kv::protocol::{self, Request};

/// What a kv request must get back.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Nil,
    /// The value of key `key` at version `version`.
    Value {
        key: u64,
        version: u32,
    },
}

/// One connection's kv requests and what each must get back.
pub struct KvExchange {
    mix: KvMix,
    /// This connection writes keys `first`, `first + stride`, … below `mix.keys`.
    first: u64,
    stride: u64,
    /// The version each of its keys was last put at (0: never).
    versions: Vec<u32>,
    /// Keys put so far in the fill phase.
    filled: usize,
    rng: u64,
    in_flight: VecDeque<Expect>,
    key: String,
    val: String,
    expected: Vec<u8>,
}

impl KvExchange {
    pub fn new(mix: KvMix, conn: u64, conns: u64) -> KvExchange {
        let owned = mix.keys.saturating_sub(conn).div_ceil(conns.max(1)) as usize;
        KvExchange {
            mix,
            first: conn,
            stride: conns.max(1),
            versions: vec![0; owned],
            filled: 0,
            rng: 0x9e37_79b9_7f4a_7c15 ^ conn.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1,
            in_flight: VecDeque::new(),
            key: String::new(),
            val: String::new(),
            expected: Vec::new(),
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: the same mix on every run.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Appends the next request and remembers what it must get.
    pub fn push_request(&mut self, out: &mut Vec<u8>) {
        if self.versions.is_empty() {
            // More connections than keys: this one only asks for key 0.
            write_key(&mut self.key, 0);
            protocol::push_request_frame(out, &Request::Get { key: &self.key });
            self.in_flight.push_back(Expect::Nil);
            return;
        }
        let (slot, is_get) = if self.filled < self.versions.len() {
            self.filled += 1;
            (self.filled - 1, false)
        } else {
            let slot = (self.next_random() % self.versions.len() as u64) as usize;
            let draw = (self.next_random() >> 11) as f64 / (1u64 << 53) as f64;
            (slot, draw < self.mix.get_ratio)
        };
        let key = self.first + slot as u64 * self.stride;
        write_key(&mut self.key, key);
        if is_get {
            protocol::push_request_frame(out, &Request::Get { key: &self.key });
            let version = self.versions[slot];
            self.in_flight.push_back(if version == 0 {
                Expect::Nil
            } else {
                Expect::Value { key, version }
            });
        } else {
            let version = self.versions[slot] + 1;
            self.versions[slot] = version;
            write_value(&mut self.val, key, version, self.mix.val_size);
            protocol::push_request_frame(
                out,
                &Request::Put {
                    key: &self.key,
                    val: &self.val,
                },
            );
            self.in_flight.push_back(Expect::Nil);
        }
    }

    /// Checks the oldest unanswered request's reply at the start of `buf`:
    /// None while it is incomplete, else its length and whether it is right.
    pub fn check_reply(&mut self, buf: &[u8]) -> Option<(usize, bool)> {
        let (frame, after) = split_frame(buf)?;
        let expect = self.in_flight.pop_front()?;
        self.expected.clear();
        match expect {
            Expect::Nil => protocol::push_nil(&mut self.expected),
            Expect::Value { key, version } => {
                write_value(&mut self.val, key, version, self.mix.val_size);
                protocol::push_str(&mut self.expected, self.val.as_bytes());
            }
        }
        Some((buf.len() - after.len(), frame == self.expected))
    }

    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

fn write_key(out: &mut String, key: u64) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "key:{key:0width$}", width = Workload::KEY_DIGITS);
}

/// `<key>:<version>`, padded with dots or cut to `size` bytes.
fn write_value(out: &mut String, key: u64, version: u32, size: usize) {
    use std::fmt::Write;
    out.clear();
    let _ = write!(out, "{key}:{version}:");
    out.truncate(size);
    while out.len() < size {
        out.push('.');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_gets_expect_what_this_connection_put_last() {
        let mix = KvMix {
            keys: 4,
            get_ratio: 0.5,
            val_size: 8,
        };
        let mut exchange = KvExchange::new(mix, 1, 2);
        assert_eq!(exchange.versions.len(), 2); // keys 1 and 3
        let mut store = crate::services::kv::Store::default();
        let mut requests = Vec::new();
        for _ in 0..200 {
            exchange.push_request(&mut requests);
        }
        // Answer like a server would, then check every reply.
        let mut replies = Vec::new();
        let mut rest = &requests[..];
        while !rest.is_empty() {
            let (frame, after) = split_frame(rest).unwrap();
            match protocol::decode_request(frame).unwrap() {
                Request::Get { key } => match store.get(key.as_bytes(), 0) {
                    Some(val) => protocol::push_str_frame(&mut replies, val),
                    None => protocol::push_nil_frame(&mut replies),
                },
                Request::Put { key, val } => {
                    assert!(key == "key:000000000001" || key == "key:000000000003");
                    assert_eq!(val.len(), 8);
                    store.load(key.as_bytes(), val.as_bytes());
                    protocol::push_nil_frame(&mut replies);
                }
                other => panic!("{other:?}"),
            }
            rest = after;
        }
        let mut at = 0;
        for _ in 0..200 {
            let (used, right) = exchange.check_reply(&replies[at..]).unwrap();
            assert!(right);
            at += used;
        }
        assert_eq!(at, replies.len());
        // A stale value is caught.
        exchange.push_request(&mut Vec::new());
        let wrong = [0, 0, 0, 2, 0xa1, b'x'];
        assert!(!exchange.check_reply(&wrong).unwrap().1);
    }
}
