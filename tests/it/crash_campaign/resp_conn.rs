//! A plain RESP connection for the crash campaign whose failures are
//! errors, not panics: a kill breaks it mid-request, and that is news, not
//! a test failure.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use percore_protocols::resp::protocol::{encode_command, reply_len};

/// No reply in this long: the connection is taken as broken.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// One RESP reply, as much of it as the campaign reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RespReply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Other,
}

/// A RESP connection whose failures are errors, not panics: a kill breaks it.
pub struct RespConn {
    stream: TcpStream,
    buffered: Vec<u8>,
    wire: Vec<u8>,
}

impl RespConn {
    pub fn connect(addr: SocketAddr) -> io::Result<RespConn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(RespConn {
            stream,
            buffered: Vec::new(),
            wire: Vec::new(),
        })
    }

    /// Queues a command; [`RespConn::flush`] sends what is queued.
    pub fn queue(&mut self, args: &[&[u8]]) {
        encode_command(args.iter().copied(), &mut self.wire);
    }

    pub fn flush(&mut self) -> io::Result<()> {
        let result = self.stream.write_all(&self.wire);
        self.wire.clear();
        result
    }

    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<RespReply> {
        self.queue(args);
        self.flush()?;
        self.reply()
    }

    pub fn reply(&mut self) -> io::Result<RespReply> {
        loop {
            match reply_len(&self.buffered) {
                Ok(Some(len)) => {
                    let reply = parse(&self.buffered[..len]);
                    self.buffered.drain(..len);
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::other(format!("bad reply: {e:?}"))),
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buffered.extend_from_slice(&chunk[..n]);
        }
    }
}

fn parse(reply: &[u8]) -> RespReply {
    let line_end = reply.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
    let line = String::from_utf8_lossy(&reply[1..line_end.max(1)]).into_owned();
    match reply.first() {
        Some(b'+') => RespReply::Simple(line),
        Some(b'-') => RespReply::Error(line),
        Some(b':') => line.parse().map_or(RespReply::Other, RespReply::Int),
        Some(b'$') if line.starts_with('-') => RespReply::Bulk(None),
        Some(b'$') => {
            let body = &reply[line_end + 2..reply.len() - 2];
            RespReply::Bulk(Some(body.to_vec()))
        }
        _ => RespReply::Other,
    }
}
