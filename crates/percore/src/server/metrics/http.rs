//! Just enough HTTP/1.1 for a metrics endpoint: read one request's head
//! (bounded in size and time), answer, close. No crate in the dependency set
//! serves HTTP off the shards without bringing a second runtime; this reader
//! takes the request line and skips the headers, which is all a scrape needs.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The most a request head may take.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client has to send its request head (slowloris).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// A request as the endpoint sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
}

/// Why no request could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadError {
    /// More than [`MAX_HEAD`] bytes before the blank line.
    TooLong,
    /// Not `METHOD PATH HTTP/1.x`.
    Malformed,
    /// The peer closed or stalled.
    Gone,
}

/// Finds the end of a request head in `bytes`: the offset after `\r\n\r\n`.
pub fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Parses a complete head's request line.
pub fn parse_head(head: &[u8]) -> Result<Request, HeadError> {
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(HeadError::Malformed)?;
    let line = std::str::from_utf8(&head[..line_end]).map_err(|_| HeadError::Malformed)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(HeadError::Malformed);
    }
    let path = target.split('?').next().unwrap_or(target);
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
    })
}

/// Reads one request head from `stream`.
pub fn read_request(stream: &mut TcpStream) -> Result<Request, HeadError> {
    stream
        .set_read_timeout(Some(HEAD_TIMEOUT))
        .map_err(|_| HeadError::Gone)?;
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = head_end(&head) {
            return parse_head(&head[..end]);
        }
        if head.len() > MAX_HEAD {
            return Err(HeadError::TooLong);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(HeadError::Gone),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes a whole response and closes the exchange.
pub fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    stream.set_write_timeout(Some(HEAD_TIMEOUT))?;
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_scrape_request_parses() {
        let head = b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
        assert_eq!(head_end(head), Some(head.len()));
        assert_eq!(
            parse_head(head),
            Ok(Request {
                method: "GET".into(),
                path: "/metrics".into()
            })
        );
        assert_eq!(parse_head(b"GET\r\n\r\n"), Err(HeadError::Malformed));
        assert_eq!(
            parse_head(b"GET /a HTTP/2 x\r\n\r\n"),
            Err(HeadError::Malformed)
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Some(end) = head_end(&bytes) {
                let _ = parse_head(&bytes[..end]);
            }
            let _ = parse_head(&bytes);
        }
    }
}
