//! The services `percore load` knows how to drive: each needs its own
//! requests and its own check of the replies.

use std::fmt;

/// A built-in service the load generator can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKind {
    Yell,
    Echo,
    Chat,
    Mq,
    Kv,
    Resp,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::Yell,
        ServiceKind::Echo,
        ServiceKind::Chat,
        ServiceKind::Mq,
        ServiceKind::Kv,
        ServiceKind::Resp,
    ];

    /// The service's name, as `percore serve --services` lists it.
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Yell => "yell",
            ServiceKind::Echo => "echo",
            ServiceKind::Chat => "chat",
            ServiceKind::Mq => "mq",
            ServiceKind::Kv => "kv",
            ServiceKind::Resp => "resp",
        }
    }

    pub fn from_name(name: &str) -> Option<ServiceKind> {
        ServiceKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
