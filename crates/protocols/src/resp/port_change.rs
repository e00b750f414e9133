//! CONFIG SET port (redis's `updatePort`, src/config.c): the new port
//! checked by binding it (`commands/config_port.rs`); a port that cannot be
//! bound fails the CONFIG SET with redis's error, and nothing of it is
//! applied.
//!
//! percore does not move its listeners at runtime: a port that could be
//! bound is refused all the same, with an error that says so (README,
//! "What differs from Redis").

use super::commands::config::failed;
use super::commands::config_port::{addresses, probe, UNABLE};
use super::*;

impl Resp {
    /// Serves resp on `port` instead of the port served now, or the
    /// error CONFIG SET answers.
    pub(super) async fn change_port(
        &self,
        port: u16,
        _proto: Proto,
        _now: u64,
    ) -> Result<(), String> {
        let addrs = addresses(&self.config.bind, port);
        if let Err(why) = probe(&addrs) {
            eprintln!("percore: CONFIG SET port {port}: {why}");
            return Err(failed("port", UNABLE));
        }
        Err(failed(
            "port",
            "percore does not move its listeners at runtime: its port is --resp's (README)",
        ))
    }
}
