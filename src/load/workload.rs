//! What the load generator sends and what it expects back, per service. Every
//! request carries its sequence number, so a reply that is wrong, missing or
//! out of order is caught, not just counted.

use crate::config::ServiceKind;

/// A request/reply protocol with fixed-size messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    service: ServiceKind,
    /// Bytes per request on the wire, line ending included.
    size: usize,
}

impl Workload {
    /// The smallest request: one character and its `\n`.
    pub const MIN_SIZE: usize = 2;

    pub fn new(service: ServiceKind, size: usize) -> Option<Workload> {
        let supported = matches!(service, ServiceKind::Yell | ServiceKind::Echo);
        (supported && size >= Self::MIN_SIZE).then_some(Workload { service, size })
    }

    /// Bytes of one request, and of its reply.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Appends request number `seq`: lower-case letters spelling the number
    /// (so that yell's reply differs from the request), then `\n`.
    pub fn push_request(&self, seq: u64, out: &mut Vec<u8>) {
        push_letters(seq, self.size - 1, b'a', out);
        out.push(b'\n');
    }

    /// Appends the reply that request number `seq` must get.
    pub fn push_reply(&self, seq: u64, out: &mut Vec<u8>) {
        let base = match self.service {
            ServiceKind::Yell => b'A',
            _ => b'a',
        };
        push_letters(seq, self.size - 1, base, out);
        out.push(b'\n');
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

    #[test]
    fn yell_replies_are_the_upper_case_of_requests() {
        let workload = Workload::new(ServiceKind::Yell, 8).unwrap();
        let (mut request, mut reply) = (Vec::new(), Vec::new());
        workload.push_request(0x1f, &mut request);
        workload.push_reply(0x1f, &mut reply);
        assert_eq!(request, b"aaaaabp\n");
        assert_eq!(reply, request.to_ascii_uppercase());
    }

    #[test]
    fn echo_replies_are_the_requests() {
        let workload = Workload::new(ServiceKind::Echo, 3).unwrap();
        let (mut request, mut reply) = (Vec::new(), Vec::new());
        workload.push_request(7, &mut request);
        workload.push_reply(7, &mut reply);
        assert_eq!(request, reply);
        assert!(Workload::new(ServiceKind::Echo, 1).is_none());
        assert!(Workload::new(ServiceKind::Kv, 16).is_none());
    }
}
