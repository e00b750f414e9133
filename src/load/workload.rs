//! What the load generator sends and what it expects back, per service. Each
//! connection gets an [`Exchange`] that writes its requests and checks every
//! reply against what that exact request must get, so a reply that is wrong,
//! missing or out of order is caught, not just counted.
//!
//! - yell, echo, chat: fixed-size lines spelling their sequence number.
//! - kv: a Get/Put mix over a key space split between the connections, each
//!   connection the only writer of its keys, so it knows what every Get must
//!   return (the value it last put, or nil). Each connection first puts each
//!   of its keys once, so that Gets find values.

use std::collections::VecDeque;

use super::mq::MqMix;
use crate::codec::split_frame;
use crate::load::target::ServiceKind;
use crate::services::kv::protocol::{self, Request};

/// A request/reply protocol and its parameters, the same for every connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Workload {
    Lines(Lines),
    Kv(KvMix),
    /// mq is publish/subscribe, not request/reply: see the `load::mq` driver.
    Mq(MqMix),
}

/// yell, echo and chat: lines of a fixed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lines {
    service: ServiceKind,
    /// Bytes per request on the wire, line ending included.
    size: usize,
}

/// kv: how many keys, how many Gets, how large the values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KvMix {
    pub keys: u64,
    /// Share of requests that are Gets (the rest are Puts), 0 to 1.
    pub get_ratio: f64,
    /// Bytes per value.
    pub val_size: usize,
}

impl Workload {
    /// The smallest line: one character and its `\n`.
    pub const MIN_LINE: usize = 2;
    /// Keys are `key:` and 12 digits: 16 bytes, as in the figures.
    pub const KEY_DIGITS: usize = 12;

    pub fn lines(service: ServiceKind, size: usize) -> Option<Workload> {
        let supported = matches!(
            service,
            ServiceKind::Yell | ServiceKind::Echo | ServiceKind::Chat
        );
        (supported && size >= Self::MIN_LINE).then_some(Workload::Lines(Lines { service, size }))
    }

    /// Bytes of one request (for kv: of a Put, the largest).
    pub fn size(&self) -> usize {
        match self {
            Workload::Lines(lines) => lines.size,
            Workload::Kv(mix) => {
                let mut frame = Vec::new();
                let key = "k".repeat(4 + Self::KEY_DIGITS);
                let val = "v".repeat(mix.val_size);
                protocol::push_request_frame(
                    &mut frame,
                    &Request::Put {
                        key: &key,
                        val: &val,
                    },
                );
                frame.len()
            }
            Workload::Mq(mix) => mix.line_size(),
        }
    }

    /// The exchange of connection number `conn` of `conns`; none for mq.
    pub fn exchange(&self, conn: u64, conns: u64) -> Option<Exchange> {
        match *self {
            Workload::Lines(lines) => Some(Exchange::Lines {
                lines,
                next: 0,
                in_flight: VecDeque::new(),
                expected: Vec::new(),
            }),
            Workload::Kv(mix) => Some(Exchange::Kv(KvExchange::new(mix, conn, conns))),
            Workload::Mq(_) => None,
        }
    }
}

impl Lines {
    /// Appends request number `seq`: lower-case letters spelling the number
    /// (so that yell's reply differs from the request), then `\n`.
    pub fn push_request(&self, seq: u64, out: &mut Vec<u8>) {
        push_letters(seq, self.size - 1, b'a', out);
        out.push(b'\n');
    }

    /// Appends the reply that request number `seq` must get.
    pub fn push_reply(&self, seq: u64, out: &mut Vec<u8>) {
        match self.service {
            ServiceKind::Yell => push_letters(seq, self.size - 1, b'A', out),
            ServiceKind::Chat => {
                out.extend_from_slice(CHAT_PREFIX);
                push_letters(seq, self.size - 1, b'a', out);
                out.push(b'\r');
            }
            _ => push_letters(seq, self.size - 1, b'a', out),
        }
        out.push(b'\n');
    }

    /// Bytes of every reply.
    pub fn reply_size(&self) -> usize {
        match self.service {
            ServiceKind::Chat => CHAT_PREFIX.len() + self.size + 1,
            _ => self.size,
        }
    }
}

/// What chat puts before every line it sends back (and `\r\n` after).
const CHAT_PREFIX: &[u8] = b"You sent: ";

/// One connection's requests and the replies they must get, in order.
pub enum Exchange {
    Lines {
        lines: Lines,
        next: u64,
        in_flight: VecDeque<u64>,
        expected: Vec<u8>,
    },
    Kv(KvExchange),
}

impl Exchange {
    /// Appends the next request and remembers what it must get.
    pub fn push_request(&mut self, out: &mut Vec<u8>) {
        match self {
            Exchange::Lines {
                lines,
                next,
                in_flight,
                ..
            } => {
                lines.push_request(*next, out);
                in_flight.push_back(*next);
                *next += 1;
            }
            Exchange::Kv(kv) => kv.push_request(out),
        }
    }

    /// Checks the oldest unanswered request's reply at the start of `buf`:
    /// None while it is incomplete, else its length and whether it is right.
    pub fn check_reply(&mut self, buf: &[u8]) -> Option<(usize, bool)> {
        match self {
            Exchange::Lines {
                lines,
                in_flight,
                expected,
                ..
            } => {
                let size = lines.reply_size();
                if buf.len() < size {
                    return None;
                }
                let seq = in_flight.pop_front()?;
                expected.clear();
                lines.push_reply(seq, expected);
                Some((size, buf[..size] == expected[..]))
            }
            Exchange::Kv(kv) => kv.check_reply(buf),
        }
    }

    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        match self {
            Exchange::Lines { in_flight, .. } => in_flight.len(),
            Exchange::Kv(kv) => kv.in_flight.len(),
        }
    }
}

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
    fn new(mix: KvMix, conn: u64, conns: u64) -> KvExchange {
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

    fn push_request(&mut self, out: &mut Vec<u8>) {
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

    fn check_reply(&mut self, buf: &[u8]) -> Option<(usize, bool)> {
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

/// `seq` in base 16 with digits `base..base+16`, most significant first,
/// padded or cut to `width` bytes.
fn push_letters(seq: u64, width: usize, base: u8, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + width, base);
    let mut rest = seq;
    for byte in out[start..].iter_mut().rev() {
        if rest == 0 {
            break;
        }
        *byte = base + (rest % 16) as u8;
        rest /= 16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(service: ServiceKind, size: usize) -> Lines {
        match Workload::lines(service, size) {
            Some(Workload::Lines(lines)) => lines,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yell_replies_are_the_upper_case_of_requests() {
        let workload = lines(ServiceKind::Yell, 8);
        let (mut request, mut reply) = (Vec::new(), Vec::new());
        workload.push_request(0x1f, &mut request);
        workload.push_reply(0x1f, &mut reply);
        assert_eq!(request, b"aaaaabp\n");
        assert_eq!(reply, request.to_ascii_uppercase());
    }

    #[test]
    fn chat_replies_quote_the_requests() {
        let workload = lines(ServiceKind::Chat, 3);
        let mut exchange = Workload::Lines(workload).exchange(0, 1).unwrap();
        let mut request = Vec::new();
        exchange.push_request(&mut request);
        assert_eq!(request, b"aa\n");
        assert_eq!(exchange.check_reply(b"You sent: aa\r\n"), Some((14, true)));
    }

    #[test]
    fn echo_replies_are_the_requests() {
        let workload = lines(ServiceKind::Echo, 3);
        let (mut request, mut reply) = (Vec::new(), Vec::new());
        workload.push_request(7, &mut request);
        workload.push_reply(7, &mut reply);
        assert_eq!(request, reply);
        assert!(Workload::lines(ServiceKind::Echo, 1).is_none());
        assert!(Workload::lines(ServiceKind::Kv, 16).is_none());
    }

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
                Request::Get { key } => match store.get(key.as_bytes()) {
                    Some(val) => protocol::push_str_frame(&mut replies, val),
                    None => protocol::push_nil_frame(&mut replies),
                },
                Request::Put { key, val } => {
                    assert!(key == "key:000000000001" || key == "key:000000000003");
                    assert_eq!(val.len(), 8);
                    store.put(key.as_bytes(), val.as_bytes());
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
