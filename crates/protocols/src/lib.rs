//! The built-in services (the `percore-protocols` crate, over the key space,
//! the topics and the RESP wire format; docs/ARCHITECTURE.md "Crates"), one
//! file or folder each, every one a small layer
//! over the framework's connection loop, written against the same public API
//! as a user's service ([`percore::service`]). Each reads like the Python
//! asyncio example it came from.
//!
//! [`BUILT_IN`] is the one place that lists them: `percore serve` takes its
//! `--services` names, its address options and their defaults from it.
//! Adding a service is its file plus one line there.

pub mod chat;
pub mod echo;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub mod kv;
pub mod mq;
pub mod resp;
pub mod yell;

pub use chat::Chat;
pub use echo::Echo;
pub use kv::{Kv, KvFactory};
pub use mq::{Mq, MqFactory};
pub use resp::{Resp, RespFactory};
pub use yell::Yell;

use mq::BrokerPlan;
use percore::config::Endpoint;
use percore::server::ServerBuilder;
use percore_keyspace::KeySpacePlan;
use resp::RespOptions;

/// A built-in service as the command line offers it.
#[derive(Debug)]
pub struct BuiltIn {
    /// Its name in `--services`, reports, and its address option (`--NAME`).
    pub name: &'static str,
    /// Where it listens unless told otherwise (docs/PROTOCOLS.md §2).
    pub default_addr: &'static str,
    /// The address option's help line.
    pub about: &'static str,
    /// Adds the service, configured from the command line, to a server.
    pub add: fn(ServerBuilder, Vec<Endpoint>, &Options) -> ServerBuilder,
}

/// What the command line configures in the services themselves.
#[derive(Clone, Default)]
pub struct Options {
    /// mq: cap on one connection's queued deliveries (`--mq-queue-bytes`).
    pub mq_queue_bytes: usize,
    /// The key space kv and resp serve: on disk and its memory cap, already
    /// checked (`--data-dir`, `--fsync`, `--data-repair`, `--max-memory`).
    pub keys: KeySpacePlan,
    /// The topics mq and resp serve: one broker per shard for both.
    pub topics: BrokerPlan,
    /// resp: `--requirepass` and what CONFIG GET and INFO report.
    pub resp: RespOptions,
}

/// Every built-in service, in the order reports list them.
#[rustfmt::skip]
pub const BUILT_IN: [BuiltIn; 6] = [
    BuiltIn { name: "yell", default_addr: "127.0.0.1:1234", about: "yell listener (repeatable)", add: |s, a, _| s.service("yell", a, Yell) },
    BuiltIn { name: "echo", default_addr: "127.0.0.1:8008", about: "echo listener (repeatable)", add: |s, a, _| s.service("echo", a, Echo) },
    BuiltIn { name: "chat", default_addr: "127.0.0.1:8007", about: "chat listener (repeatable)", add: |s, a, _| s.service("chat", a, Chat) },
    BuiltIn { name: "mq", default_addr: "127.0.0.1:7777", about: "MQ listener (repeatable)", add: |s, a, o| s.service("mq", a, MqFactory::new(o.mq_queue_bytes).with_brokers(o.topics.clone())) },
    BuiltIn { name: "kv", default_addr: "127.0.0.1:8888", about: "KV listener (repeatable)", add: |s, a, o| s.service("kv", a, KvFactory::new(o.keys.clone())) },
    BuiltIn { name: "resp", default_addr: "127.0.0.1:6379", about: "Redis-protocol listener (repeatable)", add: |s, a, o| { let port = a.first().map_or(6379, |e| e.addr.port()); let bind = a.iter().map(|e| e.addr.ip().to_string()).collect::<Vec<_>>().join(" "); s.service("resp", a, RespFactory::new(o.keys.clone(), o.resp.clone(), port).with_bind(bind).with_brokers(o.topics.clone())) } },
];

/// The built-in service called `name`.
pub fn built_in(name: &str) -> Option<&'static BuiltIn> {
    BUILT_IN.iter().find(|service| service.name == name)
}
