//! yell, echo and chat under load: fixed-size lines spelling their sequence
//! number, and the reply each must get, checked in order.

use std::collections::VecDeque;

use crate::target::ServiceKind;
use crate::workload::LineWorkload;

/// What chat puts before every line it sends back (and `\r\n` after).
const CHAT_PREFIX: &[u8] = b"You sent: ";

impl LineWorkload {
    /// Appends request number `seq`: lower-case letters spelling the number
    /// (so that yell's reply differs from the request), then `\n`.
    pub fn push_request(&self, seq: u64, out: &mut Vec<u8>) {
        push_letters(seq, self.size() - 1, b'a', out);
        out.push(b'\n');
    }

    /// Appends the reply that request number `seq` must get.
    pub fn push_reply(&self, seq: u64, out: &mut Vec<u8>) {
        match self.service() {
            ServiceKind::Yell => push_letters(seq, self.size() - 1, b'A', out),
            ServiceKind::Chat => {
                out.extend_from_slice(CHAT_PREFIX);
                push_letters(seq, self.size() - 1, b'a', out);
                out.push(b'\r');
            }
            _ => push_letters(seq, self.size() - 1, b'a', out),
        }
        out.push(b'\n');
    }

    /// Bytes of every reply.
    pub fn reply_size(&self) -> usize {
        match self.service() {
            ServiceKind::Chat => CHAT_PREFIX.len() + self.size() + 1,
            _ => self.size(),
        }
    }
}

/// One connection's lines: the next to send, and those awaiting replies.
pub struct LineExchange {
    lines: LineWorkload,
    next: u64,
    in_flight: VecDeque<u64>,
    expected: Vec<u8>,
}

impl LineExchange {
    pub fn new(lines: LineWorkload) -> LineExchange {
        LineExchange {
            lines,
            next: 0,
            in_flight: VecDeque::new(),
            expected: Vec::new(),
        }
    }

    /// Appends the next request and remembers what it must get.
    pub fn push_request(&mut self, out: &mut Vec<u8>) {
        self.lines.push_request(self.next, out);
        self.in_flight.push_back(self.next);
        self.next += 1;
    }

    /// Checks the oldest unanswered request's reply at the start of `buf`:
    /// None while it is incomplete, else its length and whether it is right.
    pub fn check_reply(&mut self, buf: &[u8]) -> Option<(usize, bool)> {
        let size = self.lines.reply_size();
        if buf.len() < size {
            return None;
        }
        let seq = self.in_flight.pop_front()?;
        self.expected.clear();
        self.lines.push_reply(seq, &mut self.expected);
        Some((size, buf[..size] == self.expected[..]))
    }

    /// Requests sent and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
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
    use crate::Workload;

    fn lines(service: ServiceKind, size: usize) -> LineWorkload {
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
        let mut exchange = LineExchange::new(workload);
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
    }
}
