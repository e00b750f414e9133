//! kv and resp under load: a Get/Put mix over a key space split between the
//! connections, each connection the only writer of its keys, so it knows
//! what every Get must return (the value it last put, or nil). Each
//! connection first puts each of its keys once, so that Gets find values.
//! One mix, two wires: kv's MessagePack frames, or resp's GET and SET.

use std::collections::VecDeque;

use crate::workload::{KvMix, Workload};
use percore::codec::split_frame;
use percore_protocols::kv::protocol::{self, Request};
use percore_protocols::resp::protocol::{encode_command, reply_len, write};

/// The protocol the mix is spoken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// kv's frames: Get, Put, and their replies.
    Kv,
    /// resp: `GET key` (a bulk string or `$-1`), `SET key value` (`+OK`).
    Resp,
}

/// What a request must get back.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// kv: nil (a Put's reply, or a Get of a key never put); resp: `$-1`.
    Nil,
    /// A write's acknowledgement: kv's nil, resp's `+OK`.
    Stored,
    /// The value of key `key` at version `version`.
    Value { key: u64, version: u32 },
}

/// One connection's kv requests and what each must get back.
pub struct KvExchange {
    mix: KvMix,
    wire: Wire,
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
    pub fn new(mix: KvMix, conn: u64, conns: u64, wire: Wire) -> KvExchange {
        let owned = mix.keys.saturating_sub(conn).div_ceil(conns.max(1)) as usize;
        KvExchange {
            mix,
            wire,
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
            self.push_get(out);
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
            self.push_get(out);
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
            match self.wire {
                Wire::Kv => protocol::push_request_frame(
                    out,
                    &Request::Put {
                        key: &self.key,
                        val: &self.val,
                    },
                ),
                Wire::Resp => {
                    encode_command([&b"SET"[..], self.key.as_bytes(), self.val.as_bytes()], out)
                }
            }
            self.in_flight.push_back(Expect::Stored);
        }
    }

    fn push_get(&self, out: &mut Vec<u8>) {
        match self.wire {
            Wire::Kv => protocol::push_request_frame(out, &Request::Get { key: &self.key }),
            Wire::Resp => encode_command([&b"GET"[..], self.key.as_bytes()], out),
        }
    }

    /// Checks the oldest unanswered request's reply at the start of `buf`:
    /// None while it is incomplete, else its length and whether it is right.
    pub fn check_reply(&mut self, buf: &[u8]) -> Option<(usize, bool)> {
        // A reply that cannot be read is wrong: it ends the check there.
        let (reply, used) = match self.wire {
            Wire::Kv => {
                let (frame, after) = split_frame(buf)?;
                (frame, buf.len() - after.len())
            }
            Wire::Resp => match reply_len(buf) {
                Ok(None) => return None,
                Ok(Some(len)) => (&buf[..len], len),
                Err(_) => (buf, buf.len()),
            },
        };
        let expect = self.in_flight.pop_front()?;
        self.expected.clear();
        let out = &mut self.expected;
        match (self.wire, expect) {
            (Wire::Kv, Expect::Nil | Expect::Stored) => protocol::push_nil(out),
            (Wire::Resp, Expect::Nil) => write::null(out, write::Proto::Resp2),
            (Wire::Resp, Expect::Stored) => write::ok(out),
            (wire, Expect::Value { key, version }) => {
                write_value(&mut self.val, key, version, self.mix.val_size);
                match wire {
                    Wire::Kv => protocol::push_str(out, self.val.as_bytes()),
                    Wire::Resp => write::bulk(out, self.val.as_bytes()),
                }
            }
        }
        Some((used, reply == self.expected))
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
    fn resp_gets_expect_what_this_connection_set_last() {
        use percore_protocols::resp::protocol::{parse_command, Args};
        let mix = KvMix {
            keys: 2,
            get_ratio: 0.5,
            val_size: 8,
        };
        let mut exchange = KvExchange::new(mix, 0, 1, Wire::Resp);
        let mut requests = Vec::new();
        for _ in 0..50 {
            exchange.push_request(&mut requests);
        }
        // Answer like a server would, from a map of what was set.
        let mut values = std::collections::HashMap::new();
        let (mut decoder, mut args) = (
            percore_protocols::resp::protocol::RespDecoder::default(),
            Args::default(),
        );
        let mut replies = Vec::new();
        let mut rest = &requests[..];
        while !rest.is_empty() {
            use percore::codec::Decoder;
            let span = decoder.decode(rest, 1 << 20).unwrap().unwrap();
            let frame = &rest[..span.wire_len];
            parse_command(frame, &mut args).unwrap();
            let command = args.view(frame);
            match command.at(0) {
                b"SET" => {
                    values.insert(command.at(1).to_vec(), command.at(2).to_vec());
                    write::ok(&mut replies);
                }
                _ => match values.get(command.at(1)) {
                    Some(val) => write::bulk(&mut replies, val),
                    None => write::null(&mut replies, write::Proto::Resp2),
                },
            }
            rest = &rest[span.wire_len..];
        }
        let mut at = 0;
        for _ in 0..50 {
            let (used, right) = exchange.check_reply(&replies[at..]).unwrap();
            assert!(right);
            at += used;
        }
        assert_eq!(at, replies.len());
        exchange.push_request(&mut Vec::new());
        assert!(!exchange.check_reply(b"$5\r\nwrong\r\n").unwrap().1);
    }

    #[test]
    fn kv_gets_expect_what_this_connection_put_last() {
        let mix = KvMix {
            keys: 4,
            get_ratio: 0.5,
            val_size: 8,
        };
        let mut exchange = KvExchange::new(mix, 1, 2, Wire::Kv);
        assert_eq!(exchange.versions.len(), 2); // keys 1 and 3
        let mut store = percore_protocols::kv::Store::default();
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
