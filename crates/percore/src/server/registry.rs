//! The open connections of one shard. It enforces `--max-conns` and lets
//! shutdown reach every connection: shutting a socket's read side wakes the
//! connection's pending read with end-of-file, so the connection loop needs
//! no extra check, and no extra wake-up, per read.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::Shutdown;
use std::os::fd::RawFd;
use std::rc::Rc;

#[derive(Debug, Default)]
pub(crate) struct Registry {
    open: RefCell<HashMap<u64, RawFd>>,
    next_id: Cell<u64>,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.open.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.borrow().is_empty()
    }

    /// Registers a connection until the returned guard is dropped. Drop the
    /// guard no later than the socket, so that no closed (and perhaps reused)
    /// descriptor is ever shut down.
    pub fn register(self: &Rc<Self>, fd: RawFd) -> Registration {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.open.borrow_mut().insert(id, fd);
        Registration {
            registry: Rc::clone(self),
            id,
        }
    }

    /// Shuts the given side of every open connection.
    pub fn shutdown_all(&self, how: Shutdown) {
        let how = match how {
            Shutdown::Read => libc::SHUT_RD,
            Shutdown::Write => libc::SHUT_WR,
            Shutdown::Both => libc::SHUT_RDWR,
        };
        for &fd in self.open.borrow().values() {
            // SAFETY: the descriptor is open: its connection deregisters
            // before closing it, on this same thread. An error (the peer is
            // already gone) needs no handling: the connection ends anyway.
            unsafe {
                libc::shutdown(fd, how);
            }
        }
    }
}

/// Keeps a connection registered while alive.
pub(crate) struct Registration {
    registry: Rc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.open.borrow_mut().remove(&self.id);
    }
}
