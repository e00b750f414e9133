//! The reference the benchmark measures percore against: a minimal
//! single-threaded epoll server, level-triggered, one read and one write per
//! ready socket, no framework and no statistics. Yell upper-cases complete
//! lines; echo sends back what it read. Not part of the product.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

pub fn serve(addr: SocketAddr, echo: bool) -> ! {
    let listener = TcpListener::bind(addr).expect("bind reference server");
    listener.set_nonblocking(true).unwrap();
    // SAFETY: plain epoll calls on descriptors this function owns.
    let epoll = unsafe { libc::epoll_create1(0) };
    assert!(epoll >= 0, "epoll_create1");
    watch(epoll, listener.as_raw_fd());
    let mut conns: HashMap<RawFd, (TcpStream, Vec<u8>)> = HashMap::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
    loop {
        // SAFETY: `events` outlives the call and has the length we pass.
        let ready = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), 256, -1) };
        for event in events.iter().take(ready.max(0) as usize) {
            let fd = event.u64 as RawFd;
            if fd == listener.as_raw_fd() {
                while let Ok((stream, _)) = listener.accept() {
                    stream.set_nonblocking(true).unwrap();
                    stream.set_nodelay(true).unwrap();
                    watch(epoll, stream.as_raw_fd());
                    conns.insert(stream.as_raw_fd(), (stream, Vec::new()));
                }
                continue;
            }
            let Some((stream, pending)) = conns.get_mut(&fd) else {
                continue;
            };
            let n = match stream.read(&mut buf) {
                Ok(0) => 0,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(_) => 0,
            };
            if n == 0 {
                conns.remove(&fd);
                continue;
            }
            out.clear();
            if echo {
                out.extend_from_slice(&buf[..n]);
            } else {
                pending.extend_from_slice(&buf[..n]);
                if let Some(last) = pending.iter().rposition(|&b| b == b'\n') {
                    out.extend(pending.drain(..=last).map(|b| b.to_ascii_uppercase()));
                }
            }
            let mut written = 0;
            while written < out.len() {
                match stream.write(&out[written..]) {
                    Ok(n) => written += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
                    Err(_) => break,
                }
            }
        }
    }
}

fn watch(epoll: RawFd, fd: RawFd) {
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: fd as u64,
    };
    // SAFETY: registering an open descriptor with a valid event struct.
    let rc = unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) };
    assert_eq!(rc, 0, "epoll_ctl");
}
