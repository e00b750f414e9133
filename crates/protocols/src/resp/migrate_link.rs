//! MIGRATE's exchange with its target: connect, send what
//! `commands/migrate.rs` wrote, read one line per command, as redis 7.0
//! does (src/cluster.c `migrateCommand`, `migrateGetSocket`), each step
//! within the timeout given. All of it is async on the shard's ring
//! (glommio's TcpStream), so the shard serves its other connections
//! meanwhile; a host name is resolved on glommio's blocking thread, not on
//! the shard.
//!
//! percore keeps no connection between MIGRATEs (redis caches one per
//! target for 10 s): each opens its own, so each sends SELECT.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

/// The longest reply line read: redis reads 1024 bytes at most; a target's
/// error may be longer and is kept whole up to this.
const MAX_LINE: usize = 64 * 1024;

/// How an exchange failed, in redis's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// No connection within the timeout, or a host that does not resolve.
    Connecting,
    /// The connection refused, or a write failed or timed out.
    Writing,
    /// A reply missing: a read failed, timed out or met the end.
    Reading,
}

impl LinkError {
    /// Redis's error reply.
    pub fn message(self) -> &'static str {
        match self {
            LinkError::Connecting => "IOERR error or timeout connecting to the client",
            LinkError::Writing => "IOERR error or timeout writing to target instance",
            LinkError::Reading => "IOERR error or timeout reading to target instance",
        }
    }
}

/// What the target answered: the reply lines read, in order (the first
/// `before` are AUTH's and SELECT's), and the error that ended the
/// exchange early, if one did.
#[derive(Debug, Default)]
pub struct Replies {
    pub lines: Vec<Vec<u8>>,
    pub error: Option<LinkError>,
}

/// Sends `commands` to `host:port` and reads `expected` reply lines. As
/// redis, tries once more on a new connection when the first try failed
/// before any RESTORE was answered (`before`: the lines that come first)
/// and not by a timeout.
///
/// A target among `own` (this server's listeners) is not asked: redis,
/// migrating to itself, waits for its own reply until the timeout and
/// answers a reading IOERR; percore, which would answer, would restore
/// each key onto itself and then delete it. It answers that IOERR at once.
pub async fn exchange(
    host: &[u8],
    port: u16,
    timeout: Duration,
    own: &[SocketAddr],
    commands: &[u8],
    expected: usize,
    before: usize,
) -> Replies {
    let failed = |error| Replies {
        lines: Vec::new(),
        error: Some(error),
    };
    let Some(addr) = resolve(host, port).await else {
        return failed(LinkError::Connecting);
    };
    if is_own(addr, own) {
        return failed(LinkError::Reading);
    }
    let mut retried = false;
    loop {
        let (replies, timed_out) = once(addr, timeout, commands, expected).await;
        let retry = !retried
            && !timed_out
            && replies.error.is_some_and(|e| e != LinkError::Connecting)
            && replies.lines.len() <= before;
        if !retry {
            return replies;
        }
        retried = true;
    }
}

/// Whether `addr` reaches one of `own`: the same address, or the same
/// port on a listener bound to every address (`0.0.0.0`, `::`) while
/// `addr` is this machine's loopback or that address.
fn is_own(addr: SocketAddr, own: &[SocketAddr]) -> bool {
    own.iter().any(|listener| {
        listener.port() == addr.port()
            && (listener.ip() == addr.ip()
                || (listener.ip().is_unspecified()
                    && (addr.ip().is_loopback() || addr.ip().is_unspecified())))
    })
}

/// The address of `host` (an IP address, or a name resolved off the
/// shard), with `port`.
async fn resolve(host: &[u8], port: u16) -> Option<SocketAddr> {
    let host = std::str::from_utf8(host).ok()?.to_string();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    glommio::executor()
        .spawn_blocking(move || (host.as_str(), port).to_socket_addrs().ok()?.next())
        .await
}

/// One try: the replies, and whether it ended on a timeout.
async fn once(
    addr: SocketAddr,
    timeout: Duration,
    commands: &[u8],
    expected: usize,
) -> (Replies, bool) {
    let mut replies = Replies::default();
    let timed_out = |error: &std::io::Error| error.kind() == std::io::ErrorKind::TimedOut;
    let mut stream = match TcpStream::connect_timeout(addr, timeout).await {
        Ok(stream) => stream,
        // Redis's connect waits for the socket to be writable; a refused
        // one is, and its first write fails.
        Err(glommio::GlommioError::IoError(error)) if !timed_out(&error) => {
            replies.error = Some(LinkError::Writing);
            return (replies, false);
        }
        Err(_) => {
            replies.error = Some(LinkError::Connecting);
            return (replies, true);
        }
    };
    let limits = stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.set_read_timeout(Some(timeout)));
    if limits.is_err() {
        replies.error = Some(LinkError::Writing);
        return (replies, false);
    }
    if let Err(error) = stream.write_all(commands).await {
        replies.error = Some(LinkError::Writing);
        return (replies, timed_out(&error));
    }
    let mut reader = Lines::default();
    while replies.lines.len() < expected {
        match reader.next(&mut stream).await {
            Ok(line) => replies.lines.push(line),
            Err(timed) => {
                replies.error = Some(LinkError::Reading);
                return (replies, timed);
            }
        }
    }
    (replies, false)
}

/// Reply lines read from a stream, `\r\n` taken off.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
}

impl Lines {
    /// The next line; `Err(timed_out)` when none comes (an empty line
    /// counts as none, as for redis's `connSyncReadLine`).
    async fn next(&mut self, stream: &mut TcpStream) -> Result<Vec<u8>, bool> {
        loop {
            if let Some(at) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=at).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return if line.is_empty() {
                    Err(false)
                } else {
                    Ok(line)
                };
            }
            if self.buf.len() > MAX_LINE {
                return Err(false);
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) => return Err(false),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(error) => return Err(error.kind() == std::io::ErrorKind::TimedOut),
            }
        }
    }
}
