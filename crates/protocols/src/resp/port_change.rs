//! CONFIG SET port, as redis's `updatePort` and `changeListenPort`
//! (src/config.c): resp listens on the new port on every shard, then stops
//! accepting on the old one; the connections already open stay. All or
//! nothing: if any shard cannot bind the new port, the shards that did let
//! it go, the old port is served as before, and CONFIG SET fails with
//! redis's error (none of its parameters applied: `served_alone.rs`
//! applies the port first).
//!
//! First a plain bind of the new port on every address served, without
//! SO_REUSEPORT (`commands/config_port.rs`): the shards' own binds set
//! SO_REUSEPORT and would share a port another process holds
//! (../shared/GLOMMIO.md, "Listeners"). Then each shard's part,
//! `INTERNAL-LISTEN` (`shard_parts.rs`), over the key space's mesh, with
//! the framework's listeners (crates/percore/src/server/listeners.rs).

use std::net::SocketAddr;

use super::commands::config::failed;
use super::commands::config_port::{addresses, probe, UNABLE};
use super::*;

impl Resp {
    /// Serves resp on `port` instead of the port served now, or the
    /// error CONFIG SET answers.
    pub(super) async fn change_port(
        &self,
        port: u16,
        proto: Proto,
        now: u64,
    ) -> Result<(), String> {
        let from = self.config.port();
        let served: Vec<SocketAddr> = self
            .here
            .listeners()
            .map(|listeners| listeners.addresses())
            .unwrap_or_default()
            .into_iter()
            .filter(|addr| addr.port() == from)
            .map(|addr| SocketAddr::new(addr.ip(), port))
            .collect();
        let addrs = if served.is_empty() {
            addresses(&self.config.bind, port)
        } else {
            served
        };
        if let Err(why) = probe(&addrs) {
            eprintln!("percore: CONFIG SET port {port}: {why}");
            return Err(failed("port", UNABLE));
        }
        let (from_word, port_word) = (from.to_string(), port.to_string());
        let opened = self
            .on_every_shard(
                Cmd::Listen,
                &[b"open", from_word.as_bytes(), port_word.as_bytes()],
                proto,
                now,
            )
            .await;
        if let Some(refused) = opened.iter().find(|reply| reply.first() != Some(&b'+')) {
            eprintln!(
                "percore: CONFIG SET port {port}: {}",
                String::from_utf8_lossy(refused).trim_end()
            );
            self.on_every_shard(Cmd::Listen, &[b"close", port_word.as_bytes()], proto, now)
                .await;
            return Err(failed("port", UNABLE));
        }
        self.on_every_shard(Cmd::Listen, &[b"close", from_word.as_bytes()], proto, now)
            .await;
        self.config.set_port(port);
        Ok(())
    }
}
