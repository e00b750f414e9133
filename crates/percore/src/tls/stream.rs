//! One TLS connection over a glommio TCP stream, server side (the framework's
//! `tls://` listeners) or client side (`percore load --tls`): rustls's state
//! machine fed from the socket. Reads decrypt whatever records arrived; a
//! write encrypts the whole plaintext given and sends the records in one
//! socket write. (A general adapter such as futures-rustls writes records as
//! they are made; on glommio's io_uring path every socket write waits for
//! its send's completion, so one batch would pay one ring round trip per
//! 16 KiB record instead of one per batch.)
//!
//! Cancellation: the connection loop drops a pending read when something
//! else wakes it first (pushed output, a deadline). A read here awaits only
//! the socket, and feeds what it got to rustls before awaiting again, so a
//! dropped read loses nothing. Records rustls wants to send while reading
//! (a key update's answer) go out with the next write, never from a read.

use std::io::{self, Read, Write};
use std::ops::{DerefMut, Range};
use std::sync::Arc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use glommio::net::TcpStream;
use rustls::pki_types::ServerName;
use rustls::{
    ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection, SideData,
};

/// Ciphertext read from the socket at a time: a full record and then some.
const CIPHER_IN: usize = 32 * 1024;
/// A ciphertext buffer grown past this by one large write is given back.
const CIPHER_OUT_KEEP: usize = 2 << 20;

/// A TLS connection: server side by default, or client side.
pub struct TlsStream<C = ServerConnection> {
    tcp: TcpStream,
    conn: C,
    cipher_in: Box<[u8]>,
    /// Ciphertext read but not yet taken by rustls.
    pending: Range<usize>,
    cipher_out: Vec<u8>,
}

fn invalid(error: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

impl TlsStream<ServerConnection> {
    /// Runs the server's handshake, giving up after `deadline`.
    pub async fn accept(
        tcp: TcpStream,
        config: Arc<ServerConfig>,
        deadline: Duration,
    ) -> io::Result<TlsStream> {
        let conn = ServerConnection::new(config).map_err(invalid)?;
        TlsStream::handshake_within(tcp, conn, deadline).await
    }
}

impl TlsStream<ClientConnection> {
    /// Runs the client's handshake with `name`, giving up after `deadline`.
    pub async fn connect(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        deadline: Duration,
    ) -> io::Result<TlsStream<ClientConnection>> {
        let conn = ClientConnection::new(config, name).map_err(invalid)?;
        TlsStream::handshake_within(tcp, conn, deadline).await
    }
}

impl<C, D> TlsStream<C>
where
    C: DerefMut<Target = ConnectionCommon<D>>,
    D: SideData,
{
    async fn handshake_within(tcp: TcpStream, conn: C, deadline: Duration) -> io::Result<Self> {
        let mut stream = TlsStream {
            tcp,
            conn,
            cipher_in: vec![0; CIPHER_IN].into_boxed_slice(),
            pending: 0..0,
            cipher_out: Vec::new(),
        };
        let timeout = async {
            glommio::timer::sleep(deadline).await;
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the TLS handshake did not finish in time",
            ))
        };
        stream.handshake().or(timeout).await?;
        // No limit on what a write may queue: one batch's answers are
        // bounded by the connection loop's output budget.
        stream.conn.set_buffer_limit(None);
        Ok(stream)
    }

    async fn handshake(&mut self) -> io::Result<()> {
        while self.conn.is_handshaking() {
            if self.conn.wants_write() {
                self.flush().await?;
                continue;
            }
            if self.pending.is_empty() {
                let n = self.tcp.read(&mut self.cipher_in).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed during the TLS handshake",
                    ));
                }
                self.pending = 0..n;
            }
            if let Err(error) = self.feed() {
                // Tell the peer why (an alert), then give up.
                let _ = self.flush().await;
                return Err(error);
            }
        }
        // The last flight (TLS 1.3 session tickets) goes out now.
        if self.conn.wants_write() {
            self.flush().await?;
        }
        Ok(())
    }

    /// Gives rustls the pending ciphertext it can take and decrypts it.
    fn feed(&mut self) -> io::Result<()> {
        let mut pending = &self.cipher_in[self.pending.clone()];
        let before = pending.len();
        self.conn.read_tls(&mut pending)?;
        self.pending.start += before - pending.len();
        self.conn.process_new_packets().map_err(invalid)?;
        Ok(())
    }

    /// Reads plaintext: 0 at the end of the stream.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify: the end, as for TCP.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if self.pending.is_empty() {
                let n = self.tcp.read(&mut self.cipher_in).await?;
                if n == 0 {
                    return Ok(0);
                }
                self.pending = 0..n;
            }
            self.feed()?;
        }
    }

    /// Encrypts all of `plain` and sends it in one socket write.
    pub async fn write_all(&mut self, plain: &[u8]) -> io::Result<()> {
        self.conn.writer().write_all(plain)?;
        self.flush().await
    }

    /// Sends every record rustls has queued.
    async fn flush(&mut self) -> io::Result<()> {
        self.cipher_out.clear();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.cipher_out)?;
        }
        let sent = self.tcp.write_all(&self.cipher_out).await;
        if self.cipher_out.capacity() > CIPHER_OUT_KEEP {
            self.cipher_out = Vec::new();
        }
        sent
    }

    /// Sends close_notify, then the TCP FIN.
    pub async fn close(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush().await?;
        self.tcp.close().await
    }

    /// The TCP stream under it, for socket options and the lingering close.
    pub fn tcp(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }
}
