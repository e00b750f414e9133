//! Port 0 (docs/PROTOCOLS.md, "Addresses"): an address with port 0 gets one
//! port the kernel picks, and every shard binds that same port, so that
//! SO_REUSEPORT still spreads its connections over the shards.
//!
//! The port is held from the moment it is picked until every shard listens
//! on it, by a socket that is bound (with SO_REUSEPORT, as the shards'
//! listeners are) but never listens: the kernel hands it no connections, and
//! no other program can take the port in between. Picking a free port and
//! closing it before the shards bind would leave that window open.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

use super::error::BindError;
use super::registration::Registered;

/// The ports picked for port-0 addresses, held until the shards listen.
pub(crate) struct Reserved(#[allow(dead_code)] Vec<Socket>);

/// What a build binds before any shard runs, handed to the run.
pub(crate) struct Prebound {
    /// The metrics endpoint's listener.
    pub metrics: Option<std::net::TcpListener>,
    /// The ports picked for port-0 addresses.
    pub reserved: Reserved,
}

/// Gives every port-0 endpoint of `services` a port of its own, written
/// into the endpoint, so that the shards, the reports and the listening
/// line all see the real address.
pub(crate) fn reserve_ports(services: &mut [Registered]) -> Result<Reserved, BindError> {
    let mut held = Vec::new();
    for service in services.iter_mut() {
        for endpoint in &mut service.endpoints {
            if endpoint.addr.port() != 0 {
                continue;
            }
            let wanted = endpoint.addr;
            let (socket, addr) = hold_port(wanted).map_err(|source| BindError {
                service: service.name,
                addr: wanted,
                source,
            })?;
            endpoint.addr = addr;
            held.push(socket);
        }
    }
    Ok(Reserved(held))
}

/// Binds `addr` (port 0) without listening; the socket and the address the
/// kernel gave it.
fn hold_port(addr: SocketAddr) -> std::io::Result<(Socket, SocketAddr)> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    // The shards' listeners bind with SO_REUSEPORT (and the same user), which
    // a holder without it would refuse.
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    let bound = socket
        .local_addr()?
        .as_socket()
        .ok_or_else(|| std::io::Error::other("the kernel gave no IP address"))?;
    Ok((socket, bound))
}
