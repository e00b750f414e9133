//! CONFIG SET port: the check redis's `changeListenPort` (src/config.c)
//! makes by binding. A plain bind of the new port on every address of
//! `--resp`, without SO_REUSEPORT (the probe the server makes at start,
//! crates/percore/src/server/coordinator.rs `probe_addresses`), fails on a
//! port any live listener holds: then CONFIG SET fails with redis's words
//! and none of its parameters is applied.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

/// Redis's reason when the new port cannot be bound.
pub const UNABLE: &str = "Unable to listen on this port. Check server logs.";

/// The addresses `port` is to be served on: each of `bind` (CONFIG GET
/// bind: `--resp`'s addresses, space-separated) with `port`.
pub fn addresses(bind: &str, port: u16) -> Vec<SocketAddr> {
    let mut addrs: Vec<SocketAddr> = bind
        .split_whitespace()
        .filter_map(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, port))
        .collect();
    if addrs.is_empty() {
        addrs.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    addrs.dedup();
    addrs
}

/// Binds every address of `addrs` at once, plainly (no SO_REUSEPORT), and
/// lets them go: whether the port is free there. The error names the
/// address that failed, for the server's log.
pub fn probe(addrs: &[SocketAddr]) -> Result<(), String> {
    let mut held = Vec::with_capacity(addrs.len());
    for addr in addrs {
        match TcpListener::bind(addr) {
            Ok(listener) => held.push(listener),
            Err(error) => return Err(format!("{addr}: {error}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_held_is_refused_and_a_free_one_taken() {
        let held = TcpListener::bind("127.0.0.1:0");
        let Ok(held) = held else {
            return;
        };
        let Ok(port) = held.local_addr().map(|a| a.port()) else {
            return;
        };
        assert!(probe(&addresses("127.0.0.1", port)).is_err());
        drop(held);
        assert!(probe(&addresses("127.0.0.1", port)).is_ok());
        assert_eq!(addresses("", 7).len(), 1);
    }
}
