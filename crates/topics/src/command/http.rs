//! Telling an HTTP request from mq lines. A web page can make a browser send
//! a request to any local port; a `text/plain` POST's body may hold a line
//! that is a valid mq command, which mq would run. No mq line starts like an
//! HTTP request line (`METHOD target HTTP/1.1`) or a `Host:` header, so such
//! a line ends the connection before the body is read (docs/PROTOCOLS.md §3.4).

/// Whether `line` (without its ending) is an HTTP request line or a `Host:`
/// header line. Only asked of lines that are not commands.
pub fn is_http_line(line: &[u8]) -> bool {
    if line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"host:") {
        return true;
    }
    let method_len = line.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if method_len == 0 || line.get(method_len) != Some(&b' ') {
        return false;
    }
    // ` HTTP/` and a version `D.D` end the line.
    match line.len().checked_sub(9).map(|at| &line[at..]) {
        Some([b' ', b'H', b'T', b'T', b'P', b'/', major, b'.', minor]) => {
            line.len() > method_len + 9 && major.is_ascii_digit() && minor.is_ascii_digit()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_http_line;

    #[test]
    fn request_lines_and_host_headers_are_http() {
        for line in [
            &b"POST / HTTP/1.1"[..],
            b"GET /index.html?a=b HTTP/1.0",
            b"OPTIONS * HTTP/1.1",
            b"PRI * HTTP/2.0",
            b"Host: 127.0.0.1:7777",
            b"host:x",
        ] {
            assert!(is_http_line(line), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn mq_lines_and_near_misses_are_not() {
        for line in [
            &br#"{"command": "send", "topic": "t", "msg": "GET / HTTP/1.1"}"#[..],
            b"{'command':'subscribe', 'topic':'x'}",
            b"quit",
            b"POST / HTTP/1",
            b"POST HTTP/1.1",
            b"post / HTTP/1.1",
            b" HTTP/1.1",
            b"Hostname: x",
            b"",
        ] {
            assert!(!is_http_line(line), "{}", String::from_utf8_lossy(line));
        }
    }
}
