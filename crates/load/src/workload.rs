//! What a load run sends, as parameters: the protocol and its mix, the same
//! for every connection. What the bytes are and how replies are checked is
//! the drivers' business (`drivers/`).

use crate::target::ServiceKind;
use percore_protocols::kv::protocol::{self, Request};
use percore_protocols::resp::protocol::encode_command;

/// A protocol and its parameters, the same for every connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Workload {
    Lines(LineWorkload),
    Kv(KvMix),
    /// resp: kv's mix as Redis GET and SET.
    Resp(KvMix),
    /// mq is publish/subscribe, not request/reply: see the mq driver.
    Mq(MqMix),
}

/// yell, echo and chat: lines of a fixed size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineWorkload {
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

/// mq: publishers, subscribers, topics, and how long a message's text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqMix {
    pub publishers: usize,
    pub subscribers: usize,
    pub topics: usize,
    /// Bytes of a message's `msg` text (at least its header).
    pub msg_size: usize,
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
        (supported && size >= Self::MIN_LINE)
            .then_some(Workload::Lines(LineWorkload { service, size }))
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
            Workload::Resp(mix) => {
                let mut command = Vec::new();
                let key = vec![b'k'; 4 + Self::KEY_DIGITS];
                let val = vec![b'v'; mix.val_size];
                encode_command([&b"SET"[..], &key, &val], &mut command);
                command.len()
            }
            Workload::Mq(mix) => mix.line_size(),
        }
    }
}

impl LineWorkload {
    /// yell, echo or chat.
    pub fn service(&self) -> ServiceKind {
        self.service
    }

    /// Bytes per request on the wire, line ending included.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl MqMix {
    pub fn conns(&self) -> usize {
        self.publishers + self.subscribers
    }

    /// Bytes of a send line on the wire, roughly (buffers are sized by it).
    pub fn line_size(&self) -> usize {
        64 + self.msg_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_for_line_services_and_hold_a_newline() {
        assert!(Workload::lines(ServiceKind::Echo, 2).is_some());
        assert!(Workload::lines(ServiceKind::Echo, 1).is_none());
        assert!(Workload::lines(ServiceKind::Kv, 16).is_none());
    }
}
