// percore: not in glommio 0.9 (PATCHES.md, "multishot receives").
//
//! A ring of provided buffers for multishot socket receives.
//!
//! One per reactor, registered on its main ring (`IORING_REGISTER_PBUF_RING`,
//! Linux 5.19). A multishot `RECV` picks a buffer from it for each chunk of
//! data the kernel receives, so that one submission serves a connection for
//! as long as it lives and no `recv` system call is made per read. The
//! reactor copies each chunk out to the connection's source as soon as the
//! completion is consumed and gives the buffer back at once: buffers are
//! never held by a connection, so a peer that stops being read cannot make
//! the shard hold more than its connection's read-ahead.

use std::{io, os::unix::io::RawFd, ptr};

/// `IORING_REGISTER_PBUF_RING` / `IORING_UNREGISTER_PBUF_RING`.
const REGISTER_PBUF_RING: libc::c_uint = 22;
const UNREGISTER_PBUF_RING: libc::c_uint = 23;

/// `struct io_uring_buf`: one entry of the ring. The ring's tail overlays the
/// `resv` field of entry 0.
#[repr(C)]
struct RingEntry {
    addr: u64,
    len: u32,
    bid: u16,
    resv: u16,
}

/// `struct io_uring_buf_reg`.
#[repr(C)]
struct BufReg {
    ring_addr: u64,
    ring_entries: u32,
    bgid: u16,
    flags: u16,
    resv: [u64; 3],
}

pub(crate) struct RecvBuffers {
    ring_fd: RawFd,
    /// The entries, shared with the kernel (page-aligned anonymous mapping).
    entries: *mut RingEntry,
    mapped_len: usize,
    /// A power of two.
    count: u16,
    /// Our copy of the ring's tail: entries given to the kernel so far.
    tail: u16,
    buffer_size: usize,
    memory: Box<[u8]>,
    group: u16,
}

impl std::fmt::Debug for RecvBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBuffers")
            .field("count", &self.count)
            .field("buffer_size", &self.buffer_size)
            .field("group", &self.group)
            .finish()
    }
}

impl RecvBuffers {
    /// Registers `count` buffers of `buffer_size` bytes as group `group` of
    /// the ring `ring_fd`. Fails (EINVAL) on kernels without buffer rings.
    pub(crate) fn register(
        ring_fd: RawFd,
        group: u16,
        count: u16,
        buffer_size: usize,
    ) -> io::Result<RecvBuffers> {
        assert!(count.is_power_of_two());
        let mapped_len = count as usize * std::mem::size_of::<RingEntry>();
        // SAFETY: a fresh anonymous mapping; checked below.
        let entries = unsafe {
            libc::mmap(
                ptr::null_mut(),
                mapped_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_ANONYMOUS | libc::MAP_PRIVATE,
                -1,
                0,
            )
        };
        if entries == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut buffers = RecvBuffers {
            ring_fd,
            entries: entries.cast(),
            mapped_len,
            count,
            tail: 0,
            buffer_size,
            memory: vec![0u8; count as usize * buffer_size].into_boxed_slice(),
            group,
        };
        let reg = BufReg {
            ring_addr: entries as u64,
            ring_entries: count as u32,
            bgid: group,
            flags: 0,
            resv: [0; 3],
        };
        // SAFETY: `reg` describes the mapping above, which outlives the
        // registration (unregistered in `drop` before it is unmapped).
        let rc = unsafe {
            libc::syscall(
                libc::SYS_io_uring_register,
                ring_fd,
                REGISTER_PBUF_RING,
                &reg as *const BufReg,
                1,
            )
        };
        if rc < 0 {
            let error = io::Error::last_os_error();
            // Not registered: dropping must not unregister.
            buffers.ring_fd = -1;
            return Err(error);
        }
        for bid in 0..count {
            buffers.push(bid);
        }
        buffers.publish();
        Ok(buffers)
    }

    pub(crate) fn group(&self) -> u16 {
        self.group
    }

    /// The first `len` bytes the kernel received into buffer `bid`.
    pub(crate) fn received(&self, bid: u16, len: usize) -> &[u8] {
        let start = bid as usize * self.buffer_size;
        &self.memory[start..start + len.min(self.buffer_size)]
    }

    /// Gives buffer `bid` back to the kernel.
    pub(crate) fn recycle(&mut self, bid: u16) {
        if bid < self.count {
            self.push(bid);
            self.publish();
        }
    }

    fn push(&mut self, bid: u16) {
        let slot = (self.tail & (self.count - 1)) as usize;
        let addr = self.memory.as_ptr() as u64 + bid as u64 * self.buffer_size as u64;
        // SAFETY: `slot` is within the mapping; the kernel reads entries only
        // up to the published tail, which does not include this one yet.
        unsafe {
            let entry = self.entries.add(slot);
            (*entry).addr = addr;
            (*entry).len = self.buffer_size as u32;
            (*entry).bid = bid;
        }
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the entries pushed so far visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail is the u16 at offset 14 of the mapping, written
        // only by us and read by the kernel with acquire semantics.
        unsafe {
            let tail = (self.entries as *mut u8).add(14) as *const std::sync::atomic::AtomicU16;
            (*tail).store(self.tail, std::sync::atomic::Ordering::Release);
        }
    }
}

impl Drop for RecvBuffers {
    fn drop(&mut self) {
        if self.ring_fd >= 0 {
            let reg = BufReg {
                ring_addr: 0,
                ring_entries: 0,
                bgid: self.group,
                flags: 0,
                resv: [0; 3],
            };
            // SAFETY: unregistering the group registered in `register`.
            unsafe {
                libc::syscall(
                    libc::SYS_io_uring_register,
                    self.ring_fd,
                    UNREGISTER_PBUF_RING,
                    &reg as *const BufReg,
                    1,
                );
            }
        }
        // SAFETY: the mapping made in `register`.
        unsafe {
            libc::munmap(self.entries.cast(), self.mapped_len);
        }
    }
}
