//! Writing replies: RESP2 on every connection, RESP3 after `HELLO 3`
//! (docs/PROTOCOLS.md §6.1). Each function appends one reply (or a header) to the
//! connection's output; none allocates beyond that buffer's growth, so the
//! data path (GET, SET) writes its replies without a `format!`.

/// The protocol version a connection speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

impl Proto {
    /// Its number, as `HELLO` takes and replies it.
    pub fn number(self) -> i64 {
        match self {
            Proto::Resp2 => 2,
            Proto::Resp3 => 3,
        }
    }
}

/// `+OK`.
pub fn ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

/// A simple string; `text` must hold no CR or LF.
pub fn simple(out: &mut Vec<u8>, text: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// An error reply: `message` starts with its code (`ERR ...`,
/// `WRONGTYPE ...`); CR and LF in it become spaces, as Redis does.
pub fn error(out: &mut Vec<u8>, message: &str) {
    out.push(b'-');
    out.extend(
        message
            .bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

pub fn int(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    push_decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

pub fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'$');
    push_decimal(out, bytes.len() as i64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// A bulk string of an integer's decimal digits (INCR's value elsewhere).
pub fn bulk_int(out: &mut Vec<u8>, n: i64) {
    let (digits, at) = decimal(n);
    bulk(out, &digits[at..]);
}

/// A missing value: `$-1` in RESP2, `_` in RESP3.
pub fn null(out: &mut Vec<u8>, proto: Proto) {
    out.extend_from_slice(match proto {
        Proto::Resp2 => b"$-1\r\n",
        Proto::Resp3 => b"_\r\n",
    });
}

/// A missing array: `*-1` in RESP2, `_` in RESP3.
pub fn null_array(out: &mut Vec<u8>, proto: Proto) {
    out.extend_from_slice(match proto {
        Proto::Resp2 => b"*-1\r\n",
        Proto::Resp3 => b"_\r\n",
    });
}

pub fn array_len(out: &mut Vec<u8>, len: usize) {
    header(out, b'*', len);
}

/// A map of `pairs` pairs: `%` in RESP3, an array of twice as many in RESP2.
pub fn map_len(out: &mut Vec<u8>, pairs: usize, proto: Proto) {
    match proto {
        Proto::Resp2 => header(out, b'*', pairs * 2),
        Proto::Resp3 => header(out, b'%', pairs),
    }
}

/// A set: `~` in RESP3, an array in RESP2.
pub fn set_len(out: &mut Vec<u8>, len: usize, proto: Proto) {
    match proto {
        Proto::Resp2 => header(out, b'*', len),
        Proto::Resp3 => header(out, b'~', len),
    }
}

/// An out-of-band message (pub/sub): `>` in RESP3, an array in RESP2.
pub fn push_len(out: &mut Vec<u8>, len: usize, proto: Proto) {
    match proto {
        Proto::Resp2 => header(out, b'*', len),
        Proto::Resp3 => header(out, b'>', len),
    }
}

/// Text for humans (INFO, CLIENT LIST): a verbatim string in RESP3, a bulk
/// string in RESP2.
pub fn verbatim(out: &mut Vec<u8>, text: &[u8], proto: Proto) {
    match proto {
        Proto::Resp2 => bulk(out, text),
        Proto::Resp3 => {
            header(out, b'=', text.len() + 4);
            out.extend_from_slice(b"txt:");
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn header(out: &mut Vec<u8>, kind: u8, len: usize) {
    out.push(kind);
    push_decimal(out, len as i64);
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal, without going through `fmt`.
pub fn push_decimal(out: &mut Vec<u8>, n: i64) {
    let (digits, at) = decimal(n);
    out.extend_from_slice(&digits[at..]);
}

/// `n` in decimal: the text is `digits[at..]`.
fn decimal(n: i64) -> ([u8; 20], usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    (digits, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_redis_bytes() {
        let mut out = Vec::new();
        ok(&mut out);
        int(&mut out, -42);
        int(&mut out, i64::MIN);
        bulk(&mut out, b"a\r\nb");
        null(&mut out, Proto::Resp2);
        null(&mut out, Proto::Resp3);
        map_len(&mut out, 2, Proto::Resp2);
        map_len(&mut out, 2, Proto::Resp3);
        error(&mut out, "ERR bad\nline");
        verbatim(&mut out, b"x", Proto::Resp3);
        assert_eq!(
            out,
            b"+OK\r\n:-42\r\n:-9223372036854775808\r\n$4\r\na\r\nb\r\n$-1\r\n_\r\n*4\r\n%2\r\n-ERR bad line\r\n=5\r\ntxt:x\r\n"
        );
    }
}
