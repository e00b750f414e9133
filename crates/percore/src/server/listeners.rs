//! A service's listeners on one shard, which the service may move at
//! runtime (resp's `CONFIG SET port`, as redis's `changeListenPort` in
//! src/config.c): each listener's accept loop is a task of its own, and
//! closing a listener drops that task (glommio cancels a dropped task), so
//! the listening socket closes while the connections it accepted, each in a
//! detached task of its own (accept.rs), go on.
//!
//! A listener opened here is bound as the ones bound at start are
//! (lifecycle.rs: glommio's bind, SO_REUSEPORT, so the kernel spreads the
//! port's connections over the shards) and served with the same TLS
//! setting as the one it replaces. The all-or-nothing over every shard, and
//! the plain probe bind that keeps a port another process holds from being
//! shared (../shared/GLOMMIO.md, "Listeners"), are the caller's.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;

use glommio::net::TcpListener;
use glommio::Task;

use super::registration::LocalFuture;

/// Makes a listener's accept loop: the service's `accept_loop` on this
/// shard, with TLS when asked.
type Spawner = Box<dyn Fn(TcpListener, bool) -> LocalFuture<'static, ()>>;

/// One listener accepting.
struct Open {
    addr: SocketAddr,
    tls: bool,
    task: Task<()>,
}

/// The listeners one service accepts on, on one shard.
#[derive(Default)]
pub struct Listeners {
    /// The service's addresses as given at start, a port 0 replaced by the
    /// port picked (reserve.rs).
    configured: Vec<SocketAddr>,
    spawner: RefCell<Option<Spawner>>,
    open: RefCell<Vec<Open>>,
}

impl Listeners {
    /// The listeners of a service given `configured`.
    pub(crate) fn new(configured: Vec<SocketAddr>) -> Listeners {
        Listeners {
            configured,
            ..Listeners::default()
        }
    }

    /// The service's addresses as the server was started with them (a
    /// port 0 replaced by the port picked), whether bound yet or not.
    pub fn configured(&self) -> &[SocketAddr] {
        &self.configured
    }

    /// Gives the accept loop's maker, once the service has started.
    pub(crate) fn attach(&self, spawner: Spawner) {
        *self.spawner.borrow_mut() = Some(spawner);
    }

    /// Accepts on `listener`, bound to `addr`.
    pub(crate) fn accept(&self, addr: SocketAddr, listener: TcpListener, tls: bool) -> bool {
        let spawner = self.spawner.borrow();
        let Some(spawner) = spawner.as_ref() else {
            return false;
        };
        let task = glommio::spawn_local(spawner(listener, tls));
        self.open.borrow_mut().push(Open { addr, tls, task });
        true
    }

    /// The addresses accepted on now.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.open.borrow().iter().map(|open| open.addr).collect()
    }

    /// Also accepts on `port` on every address accepted on with port
    /// `from`, each with its TLS setting. All or nothing: on an error none
    /// of the new listeners stays. An address already accepted on is not
    /// bound twice.
    pub fn open_port(&self, from: u16, port: u16) -> io::Result<()> {
        let wanted: Vec<(SocketAddr, bool)> = self
            .open
            .borrow()
            .iter()
            .filter(|open| open.addr.port() == from)
            .map(|open| (SocketAddr::new(open.addr.ip(), port), open.tls))
            .collect();
        let mut bound = Vec::with_capacity(wanted.len());
        for (addr, tls) in wanted {
            if self.addresses().contains(&addr) {
                continue;
            }
            // glommio's bind panics on an address it cannot resolve; a
            // SocketAddr always resolves.
            match TcpListener::bind(addr) {
                Ok(listener) => bound.push((addr, listener, tls)),
                Err(error) => return Err(error.into()),
            }
        }
        for (addr, listener, tls) in bound {
            if !self.accept(addr, listener, tls) {
                return Err(io::Error::other("the service has not started"));
            }
        }
        Ok(())
    }

    /// Stops accepting on every address with `port`; the connections
    /// accepted there stay. How many listeners closed.
    pub fn close_port(&self, port: u16) -> usize {
        let closed: Vec<Open> = {
            let mut open = self.open.borrow_mut();
            let (closed, kept) = open.drain(..).partition(|o| o.addr.port() == port);
            *open = kept;
            closed
        };
        let count = closed.len();
        // Dropping a task cancels it: its accept loop and listener go.
        drop(closed);
        count
    }

    /// Waits for every accept loop to end (they end as the shard stops).
    /// Lets the accept loop's maker go too: it holds the service, which
    /// may hold these listeners.
    pub(crate) async fn join(&self) {
        self.spawner.borrow_mut().take();
        let open: Vec<Open> = self.open.borrow_mut().drain(..).collect();
        for open in open {
            open.task.await;
        }
    }
}
