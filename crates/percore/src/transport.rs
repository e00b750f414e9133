//! What a connection reads from and writes to: a plain TCP stream or a TLS
//! stream over one. The server's connection loop and the load generator's
//! closed loop are compiled for each, so the plain path pays nothing for TLS
//! existing.

use std::future::Future;
use std::io;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

use crate::tls::TlsStream;

/// A connection's byte stream.
pub trait Transport {
    /// Reads what arrived (plaintext); 0 at the end of the stream.
    fn read(&mut self, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>>;
    /// Writes all of `bytes` in one go.
    fn write_all(&mut self, bytes: &[u8]) -> impl Future<Output = io::Result<()>>;
    /// Ends our side (TLS: close_notify first), after what was written.
    fn close(&mut self) -> impl Future<Output = io::Result<()>>;
    /// The TCP stream under it: socket options, the peer's address, the
    /// bytes a closing connection reads and discards.
    fn tcp(&mut self) -> &mut TcpStream;
    /// Whether this is a plain TCP stream: only those move to another
    /// shard (crates/percore/src/server/moving.rs); TLS state stays where it is.
    const PLAIN: bool;
}

impl Transport for TcpStream {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        AsyncReadExt::read(self, buf).await
    }

    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        AsyncWriteExt::write_all(self, bytes).await
    }

    async fn close(&mut self) -> io::Result<()> {
        AsyncWriteExt::close(self).await
    }

    fn tcp(&mut self) -> &mut TcpStream {
        self
    }

    const PLAIN: bool = true;
}

impl<C, D> Transport for TlsStream<C>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
    D: rustls::SideData,
{
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TlsStream::read(self, buf).await
    }

    async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        TlsStream::write_all(self, bytes).await
    }

    async fn close(&mut self) -> io::Result<()> {
        TlsStream::close(self).await
    }

    fn tcp(&mut self) -> &mut TcpStream {
        TlsStream::tcp(self)
    }

    const PLAIN: bool = false;
}
