//! A blocking kv client: the Python original's `Client` (get, put, delete, list_keys)
//! over a plain socket or TLS. `percore kv` and the tests use it; the load
//! generator shares its wire functions.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};
use thiserror::Error;

use percore::tls::client::server_name;

use percore::codec::{body_len, HEADER_LEN};

use super::protocol::{decode_reply, push_request_frame, Reply, ReplyError, Request};

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot reach the kv server at {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
    #[error("connection to the kv server failed: {0}")]
    Io(#[from] io::Error),
    #[error(transparent)]
    Reply(#[from] ReplyError),
    /// A plain client met a `tls://` listener: its first bytes back are a
    /// TLS record (an alert), not a kv frame.
    #[error("the server answered in TLS, not in plain kv: it looks like a tls:// listener; connect with --tls (and --tls-ca FILE for a private CA)")]
    LooksLikeTls,
    #[error("the kv server closed the connection before replying")]
    Closed,
}

pub struct KvClient {
    stream: Connection,
    frame: Vec<u8>,
}

/// The socket, plain or TLS.
enum Connection {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(stream) => stream.read(buf),
            Connection::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Connection::Plain(stream) => stream.write(buf),
            Connection::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Connection::Plain(stream) => stream.flush(),
            Connection::Tls(stream) => stream.flush(),
        }
    }
}

fn connect_tcp(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

impl KvClient {
    /// Connects; every later read or write gives up after `timeout`.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<KvClient, ClientError> {
        let stream =
            connect_tcp(addr, timeout).map_err(|source| ClientError::Connect { addr, source })?;
        Ok(KvClient {
            stream: Connection::Plain(stream),
            frame: Vec::new(),
        })
    }

    /// Connects over TLS, checking the server's certificate for `addr`'s IP
    /// against what `config` trusts.
    pub fn connect_tls(
        addr: SocketAddr,
        timeout: Duration,
        config: Arc<ClientConfig>,
    ) -> Result<KvClient, ClientError> {
        let connect = || -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
            let tcp = connect_tcp(addr, timeout)?;
            let conn =
                ClientConnection::new(config, server_name(addr)).map_err(io::Error::other)?;
            let mut stream = StreamOwned::new(conn, tcp);
            while stream.conn.is_handshaking() {
                stream.conn.complete_io(&mut stream.sock)?;
            }
            Ok(stream)
        };
        let stream = connect().map_err(|source| ClientError::Connect { addr, source })?;
        Ok(KvClient {
            stream: Connection::Tls(Box::new(stream)),
            frame: Vec::new(),
        })
    }

    /// Sends one request and waits for its reply.
    pub fn request(&mut self, request: &Request<'_>) -> Result<Reply, ClientError> {
        self.frame.clear();
        push_request_frame(&mut self.frame, request);
        self.stream.write_all(&self.frame)?;
        self.read_reply()
    }

    /// Sends requests in one write, then reads their replies in order.
    pub fn pipeline(&mut self, requests: &[Request<'_>]) -> Result<Vec<Reply>, ClientError> {
        self.frame.clear();
        for request in requests {
            push_request_frame(&mut self.frame, request);
        }
        self.stream.write_all(&self.frame)?;
        requests.iter().map(|_| self.read_reply()).collect()
    }

    /// Reads the next reply frame.
    pub fn read_reply(&mut self) -> Result<Reply, ClientError> {
        let mut header = [0; HEADER_LEN];
        let read = read_full(&mut self.stream, &mut header)?;
        if matches!(self.stream, Connection::Plain(_)) && looks_like_tls(&header[..read]) {
            return Err(ClientError::LooksLikeTls);
        }
        if read < HEADER_LEN {
            return Err(ClientError::Closed);
        }
        self.frame.resize(body_len(header), 0);
        if read_full(&mut self.stream, &mut self.frame)? < self.frame.len() {
            return Err(ClientError::Closed);
        }
        Ok(decode_reply(&self.frame)?)
    }

    pub fn get(&mut self, key: &str) -> Result<Reply, ClientError> {
        self.request(&Request::Get { key })
    }

    pub fn put(&mut self, key: &str, val: &str) -> Result<Reply, ClientError> {
        self.request(&Request::Put { key, val })
    }

    pub fn delete(&mut self, key: &str) -> Result<Reply, ClientError> {
        self.request(&Request::Del { key })
    }

    pub fn list_keys(&mut self) -> Result<Reply, ClientError> {
        self.request(&Request::ListKeys)
    }

    /// The TCP socket, for tests that write raw bytes (under TLS: the
    /// ciphertext's socket).
    pub fn stream(&mut self) -> &mut TcpStream {
        match &mut self.stream {
            Connection::Plain(stream) => stream,
            Connection::Tls(stream) => &mut stream.sock,
        }
    }
}

/// Reads until `buf` is full or the peer closes; returns the bytes read.
fn read_full(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut read = 0;
    while read < buf.len() {
        match stream.read(&mut buf[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(read)
}

/// Whether a reply's first bytes are a TLS record header: an alert (21)
/// or a handshake (22) record of TLS 1.0 to 1.3 (version 3.1 to 3.4). A kv
/// frame would announce a body of over 350 MB with these bytes.
fn looks_like_tls(start: &[u8]) -> bool {
    matches!(start, [21 | 22, 3, minor, ..] if *minor <= 4)
}

/// Prints a reply the way redis-cli prints one.
pub fn display_reply(reply: &Reply) -> String {
    match reply {
        Reply::Nil => "(nil)".to_owned(),
        Reply::Str(text) => format!("{text:?}"),
        Reply::Bin(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        Reply::Keys(keys) if keys.is_empty() => "(empty array)".to_owned(),
        Reply::Keys(keys) => keys
            .iter()
            .enumerate()
            .map(|(n, key)| format!("{}) {key:?}", n + 1))
            .collect::<Vec<_>>()
            .join("\n"),
        Reply::Error(reason) => format!("(error) {reason}"),
    }
}
