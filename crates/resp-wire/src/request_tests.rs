//! Unit tests of the request side, each case held against what redis-server
//! 7.0.15 does with the same bytes. Compared by hand on this machine (python
//! sockets to `redis-server --port P --save '' --appendonly no`), replies as
//! redis sent them; "waits" means no reply and the connection left open:
//!
//! ```text
//! *1\r\n$4\r\nPING\r\n            +PONG
//! *1\rX$4\rYPINGZZ                +PONG  (byte after \r, 2 bytes after data: unchecked)
//! *1\r\n$4\r\nPING\n\n            +PONG
//! *1048576\r\n  *1048577\r\n  *2147483647\r\n    waits (redis; percore refuses past
//!                                            1,048,576 as docs/PROTOCOLS.md §6.1 asks)
//! *2147483648\r\n  *\r\n  *+1\r\n  *01\r\n  *-0\r\n  *1\n\r\n$4\r\nPING\r\n
//!                                 -ERR Protocol error: invalid multibulk length
//! *-5\r\n*1\r\n$4\r\nPING\r\n     +PONG only  (*-5, like *-1 and *0: no reply)
//! *-1\r\n   *0\r\nPING\r\n        nothing / +PONG
//! *1\x00\r\n$4\r\nPING\r\n        waits  (strchr: the NUL hides the \r)
//! PING a\x00b\r\n                 waits  (the NUL hides the \n)
//! *1\r\nX\r\n                     -ERR Protocol error: expected '$', got 'X'
//! *1\r\nX                         waits  (no \r yet)
//! *1\r\n\n\r\n  *1\r\n\r\r\n      ... got ' '   (\r, \n shown as spaces)
//! *1\r\n\x80\r\n                  ... got '\x80' (the raw byte)
//! *1\r\n$-1\r\n  *1\r\n$\r\n  *1\r\n$01\r\n  *1\r\n$4\n\rPING\r\n
//!                                 -ERR Protocol error: invalid bulk length
//! *1\r\n$536870912\r\n            waits; $536870913: invalid bulk length
//!                                 (proto-max-bulk-len; ours is --max-frame)
//! 'A' x 65536 + \n                -ERR unknown command ... (accepted)
//! 'A' x 65536 (no \n)             waits
//! 'A' x 65537 (no \n)             -ERR Protocol error: too big inline request
//! '*' + '1' x 65535 / x 65536     waits / too big mbulk count string
//! *1\r\n$ + '1' x 65535 / x 65536 waits / too big bulk count string
//! *1\r\nX + '1' x 65536           too big bulk count string
//! ECHO "a\x41\x4g\n"              $6 aAx4g\n
//! ECHO 'a\'b\n'                   $5 a'b\n (backslash n kept)
//! ECHO 'a\'   ECHO "a\   ECHO "a"b   ECHO 'a'b   ECHO "abc
//!                                 -ERR Protocol error: unbalanced quotes in request
//! ECHO a"b c"                     $4 ab c
//! \r\n\n   \t \r\nPING\n          +PONG only
//! ECHO \x0ba    ECHO "a"\x0b      $1 a
//! ECHO a\x0bb   ECHO a\x0cb       $3 a\x0bb / a\x0cb (\v, \f do not end a word)
//! ECHO "a"\x0bb   ECHO a\rb       wrong number of arguments (3 words)
//! ECHO a\r\r\n    \rPING\r\n      $1 a / +PONG
//! ECHO ""   ECHO ''               $0
//! ECHO "\z\"\\"                   $3 z"\
//! ECHO "\xZZ"  ECHO "\xA"  ECHO "a\x4"   xZZ / xA / ax4
//! ECHO "\xff\x00"                 $2 \xff\x00
//! PING\nPING\r\n                  +PONG +PONG
//! *1\r\n$4\x00\r\nPING\r\n         waits    \x00*0\r\n   waits
//! * 1\r\n   *123456789012345678901\r\n     invalid multibulk length
//! '\n                             unbalanced quotes in request
//! *2\r\n$1\r\na\r\nXY\r\nrest          expected '$', got 'X' (and closes)
//! *2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n  $3 a\x00b
//!   ECHO\t'v w'  \n               $3 v w
//! \xfe\xff\n                      -ERR unknown command '\xfe\xff' (one word)
//! ```

use super::*;
use percore::codec::{Decoder, FrameTooLong};
use percore::fuzz::decode_in_reads;

const MAX: usize = 1 << 20;

/// What the service does with the first command of `input`: `Ok(args)`,
/// `Err(reply)` with the exact error reply, or `None` while it waits.
fn first(input: &[u8]) -> Option<Result<Vec<Vec<u8>>, Vec<u8>>> {
    let (frames, too_long) = decode_in_reads::<RespDecoder>(input, &[], MAX);
    let Some(frame) = frames.first() else {
        return too_long.then(|| Err(BULK_TOO_LONG_REPLY.to_vec()));
    };
    let mut args = Args::default();
    Some(match parse_command(frame, &mut args) {
        Ok(()) => Ok(args.view(frame).iter().map(<[u8]>::to_vec).collect()),
        Err(error) => {
            let mut reply = Vec::new();
            error.write_reply(&mut reply);
            Err(reply)
        }
    })
}

fn args(input: &[u8]) -> Vec<Vec<u8>> {
    match first(input) {
        Some(Ok(args)) => args,
        other => panic!("{input:?}: {other:?}"),
    }
}

fn error(input: &[u8]) -> String {
    match first(input) {
        Some(Err(reply)) => String::from_utf8_lossy(&reply).into_owned(),
        other => panic!("{input:?}: {other:?}"),
    }
}

fn words(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|w| w.as_bytes().to_vec()).collect()
}

#[test]
fn multibulk_commands_are_read_as_redis_reads_them() {
    assert_eq!(args(b"*1\r\n$4\r\nPING\r\n"), words(&["PING"]));
    assert_eq!(args(b"*1\rX$4\rYPINGZZ"), words(&["PING"]));
    assert_eq!(args(b"*1\r\n$4\r\nPING\n\n"), words(&["PING"]));
    assert_eq!(
        args(b"*2\r\n$0\r\n\r\n$3\r\na\0b\r\n"),
        words(&["", "a\0b"])
    );
    for empty in [&b"*0\r\n"[..], b"*-1\r\n", b"*-5\r\n"] {
        assert_eq!(args(empty), Vec::<Vec<u8>>::new());
    }
    // Empty commands are frames of their own.
    let (frames, _) = decode_in_reads::<RespDecoder>(b"*-5\r\n*1\r\n$4\r\nPING\r\n", &[], MAX);
    assert_eq!(frames, [&b"*-5\r\n"[..], b"*1\r\n$4\r\nPING\r\n"]);
}

#[test]
fn multibulk_counts_follow_string2ll_up_to_the_spec_limit() {
    // docs/PROTOCOLS.md §6.1: more than 1,048,576 arguments is a protocol error (redis
    // 7.0 would wait for up to INT_MAX of them).
    for waits in [&b"*1048576\r\n"[..], b"*1\r\nX", b"*1\r"] {
        assert_eq!(first(waits), None, "{waits:?}");
    }
    let invalid = "-ERR Protocol error: invalid multibulk length\r\n";
    for bad in [
        &b"*1048577\r\n"[..],
        b"*2147483647\r\n",
        b"*2147483648\r\n",
        b"*\r\n",
        b"*+1\r\n",
        b"*01\r\n",
        b"*-0\r\n",
        b"* 1\r\n",
        b"*1\n\r\n$4\r\nPING\r\n",
        b"*123456789012345678901\r\n",
    ] {
        assert_eq!(error(bad), invalid, "{bad:?}");
    }
}

#[test]
fn bulk_headers_fail_as_in_redis() {
    let expected = |got: &str| format!("-ERR Protocol error: expected '$', got '{got}'\r\n");
    assert_eq!(error(b"*1\r\nX\r\n"), expected("X"));
    assert_eq!(error(b"*1\r\n\n\r\n"), expected(" "));
    assert_eq!(error(b"*1\r\n\r\r\n"), expected(" "));
    assert_eq!(
        first(b"*1\r\n\x80\r\n"),
        Some(Err(
            b"-ERR Protocol error: expected '$', got '\x80'\r\n".to_vec()
        ))
    );
    assert_eq!(
        ProtocolError::ExpectedDollar(0x80).to_string(),
        "expected '$', got '\\x80'"
    );
    let invalid = "-ERR Protocol error: invalid bulk length\r\n";
    for bad in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$\r\n",
        b"*1\r\n$01\r\n",
        b"*1\r\n$4\n\rPING\r\n",
    ] {
        assert_eq!(error(bad), invalid, "{bad:?}");
    }
    // The error is the decoder's frame: cut where redis sees it.
    let (frames, _) = decode_in_reads::<RespDecoder>(b"*2\r\n$1\r\na\r\nXY\r\nrest", &[], MAX);
    assert_eq!(frames, [&b"*2\r\n$1\r\na\r\nXY\r\n"[..]]);
}

#[test]
fn an_argument_longer_than_max_frame_is_refused_from_its_header() {
    let mut decoder = RespDecoder::default();
    assert_eq!(
        decoder.decode(b"*1\r\n$17\r\n", 16),
        Err(FrameTooLong { max_frame: 16 })
    );
    assert_eq!(
        first(b"*1\r\n$1048577\r\n"),
        Some(Err(BULK_TOO_LONG_REPLY.to_vec()))
    );
    // The decoder starts afresh after it.
    assert!(decoder.decode(b"*0\r\n", 16).unwrap().is_some());
    // parse_command, told the limit, answers it as the service does.
    let mut args = Args::with_max_frame(16);
    assert_eq!(
        parse_command(b"*1\r\n$17\r\n", &mut args),
        Err(ProtocolError::InvalidBulkLength)
    );
}

#[test]
fn lines_longer_than_64k_are_refused_whatever_the_reads() {
    let line = |fill: u8, n: usize, prefix: &[u8]| {
        let mut v = prefix.to_vec();
        v.resize(prefix.len() + n, fill);
        v
    };
    let mut ok = line(b'A', 65536, b"");
    ok.push(b'\n');
    assert_eq!(args(&ok).len(), 1);
    assert_eq!(first(&line(b'A', 65536, b"")), None);
    let too_big = "-ERR Protocol error: too big inline request\r\n";
    assert_eq!(error(&line(b'A', 65537, b"")), too_big);
    // redis accepts this one only if it came in one read: we never do.
    let mut late = line(b'A', 65537, b"");
    late.push(b'\n');
    assert_eq!(error(&late), too_big);
    assert_eq!(first(&line(b'1', 65535, b"*")), None);
    assert_eq!(
        error(&line(b'1', 65536, b"*")),
        "-ERR Protocol error: too big mbulk count string\r\n"
    );
    let bulk = "-ERR Protocol error: too big bulk count string\r\n";
    assert_eq!(first(&line(b'1', 65535, b"*1\r\n$")), None);
    assert_eq!(error(&line(b'1', 65536, b"*1\r\n$")), bulk);
    assert_eq!(error(&line(b'1', 65536, b"*1\r\nX")), bulk);
    // The error frames are 64 KiB + 1 from the line's start.
    let (frames, _) = decode_in_reads::<RespDecoder>(&line(b'1', 70000, b"*1\r\n$"), &[], MAX);
    assert_eq!(frames[0].len(), 4 + 65537);
}

#[test]
fn a_nul_hides_the_line_end_as_strchr_does() {
    assert_eq!(first(b"*1\x00\r\n$4\r\nPING\r\n"), None);
    assert_eq!(first(b"PING a\x00b\r\n"), None);
    assert_eq!(first(b"*1\r\n$4\x00\r\nPING\r\n"), None);
    // Hidden for good, however the line arrives (found by proptest).
    for cut in 0..6 {
        let (frames, _) = decode_in_reads::<RespDecoder>(b"\x00*0\r\n", &[cut, 1], MAX);
        assert!(frames.is_empty());
    }
    let mut hidden = b"GET \x00\n".to_vec();
    hidden.resize(65537, b'\n');
    assert_eq!(
        error(&hidden),
        "-ERR Protocol error: too big inline request\r\n"
    );
}

#[test]
fn inline_words_are_split_as_sdssplitargs_splits_them() {
    let cases: &[(&[u8], &[&[u8]])] = &[
        (b"ECHO \"a\\x41\\x4g\\n\"\r\n", &[b"ECHO", b"aAx4g\n"]),
        (b"ECHO 'a\\'b\\n'\r\n", &[b"ECHO", b"a'b\\n"]),
        (b"ECHO a\"b c\"\r\n", &[b"ECHO", b"ab c"]),
        (b"ECHO \x0ba\r\n", &[b"ECHO", b"a"]),
        (b"ECHO \"a\"\x0b\r\n", &[b"ECHO", b"a"]),
        (b"ECHO a\x0bb\r\n", &[b"ECHO", b"a\x0bb"]),
        (b"ECHO a\x0cb\r\n", &[b"ECHO", b"a\x0cb"]),
        (b"ECHO \"a\"\x0bb\r\n", &[b"ECHO", b"a", b"b"]),
        (b"ECHO a\rb\r\n", &[b"ECHO", b"a", b"b"]),
        (b"ECHO a\r\r\n", &[b"ECHO", b"a"]),
        (b"\rPING\r\n", &[b"PING"]),
        (b"ECHO \"\"\r\n", &[b"ECHO", b""]),
        (b"ECHO ''\n", &[b"ECHO", b""]),
        (b"ECHO \"\\z\\\"\\\\\"\r\n", &[b"ECHO", b"z\"\\"]),
        (
            b"ECHO \"\\xZZ\" \"\\xA\" \"a\\x4\"\r\n",
            &[b"ECHO", b"xZZ", b"xA", b"ax4"],
        ),
        (
            b"ECHO \"\\xff\\x00\\t\\b\\a\\r\"\r\n",
            &[b"ECHO", b"\xff\x00\t\x08\x07\r"],
        ),
        (b"  SET\tk   'v w'  \n", &[b"SET", b"k", b"v w"]),
        (b"\xfe\xff\n", &[b"\xfe\xff"]),
    ];
    for (input, want) in cases {
        let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
        assert_eq!(args(input), want, "{input:?}");
    }
    let unbalanced = "-ERR Protocol error: unbalanced quotes in request\r\n";
    for bad in [
        &b"ECHO 'a\\'\r\n"[..],
        b"ECHO \"a\\\r\n",
        b"ECHO \"a\"b\n",
        b"ECHO 'a'b\n",
        b"ECHO \"abc\r\n",
        b"'\n",
    ] {
        assert_eq!(error(bad), unbalanced, "{bad:?}");
    }
}

#[test]
fn blank_lines_are_empty_commands() {
    let (frames, _) = decode_in_reads::<RespDecoder>(b"\r\n\n   \t \r\nPING\nPING\r\n", &[], MAX);
    assert_eq!(frames.len(), 5);
    let mut args = Args::default();
    for frame in &frames[..3] {
        parse_command(frame, &mut args).unwrap();
        assert!(args.is_empty() && args.is_inline());
    }
    parse_command(&frames[4], &mut args).unwrap();
    assert_eq!(args.get(&frames[4], 0), Some(&b"PING"[..]));
}

#[test]
fn commands_longer_than_the_limit_are_refused_from_their_headers() {
    assert_eq!(command_limit(1 << 20), 16 << 20);
    assert_eq!(command_limit(2 << 20), 32 << 20);
    let limit = 16 << 20;
    let text = format!("-ERR Protocol error: command longer than {limit} bytes\r\n");
    // Arguments that fit one by one but not together: the 16th is refused
    // from its header.
    let mut big = b"*16\r\n".to_vec();
    for _ in 0..15 {
        big.extend_from_slice(b"$1048576\r\n");
        big.resize(big.len() + 1048578, b'x');
    }
    big.extend_from_slice(b"$1048576\r\n");
    let (frames, _) = decode_in_reads::<RespDecoder>(&big, &[], MAX);
    assert_eq!(frames[0].len(), big.len());
    let mut args = Args::default();
    assert_eq!(
        parse_command(&frames[0], &mut args),
        Err(ProtocolError::CommandTooLong { limit })
    );
    assert_eq!(error(&big), text);
}

#[test]
fn a_huge_count_allocates_nothing_and_a_long_command_is_scanned_once() {
    let mut decoder = RespDecoder::default();
    assert_eq!(decoder.decode(b"*1000000\r\n", MAX), Ok(None));
    let mut args = Args::default();
    assert_eq!(
        parse_command(b"*1000000\r\n", &mut args),
        Err(ProtocolError::NotOneCommand)
    );
    assert_eq!(args.spans.capacity(), 0);
    // Byte by byte: the decoder resumes where it stopped.
    let mut command = Vec::new();
    encode_command([&b"SET"[..], b"key", &[7; 300]], &mut command);
    let mut decoder = RespDecoder::default();
    for end in 1..command.len() {
        assert_eq!(decoder.decode(&command[..end], MAX), Ok(None));
        assert!(decoder.progress.pos <= end);
    }
    let span = decoder.decode(&command, MAX).unwrap().unwrap();
    assert_eq!(
        (span.start, span.end, span.wire_len),
        (0, command.len(), command.len())
    );
}

#[test]
fn frames_that_are_not_one_command_are_refused() {
    let mut args = Args::default();
    for bad in [
        &b""[..],
        b"PING",
        b"PING\r\nX",
        b"*1\r\n$4\r\nPING\r\nX",
        b"*1\r\n$4\r\nPI",
    ] {
        assert_eq!(
            parse_command(bad, &mut args),
            Err(ProtocolError::NotOneCommand),
            "{bad:?}"
        );
    }
    // A failed parse leaves no arguments behind.
    for bad in [&b"*2\r\n$1\r\na\r\nX\r\n"[..], b"a 'b\n"] {
        assert!(parse_command(bad, &mut args).is_err());
        assert!(args.is_empty(), "{bad:?}");
    }
}

#[test]
fn encoding_writes_multibulk_and_fixes_a_lying_length() {
    let mut out = b"x".to_vec();
    encode_command([&b"GET"[..], b""], &mut out);
    assert_eq!(out, b"x*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
    /// Claims 12 items, yields 2.
    struct Liar(u8);
    impl Iterator for Liar {
        type Item = &'static [u8];
        fn next(&mut self) -> Option<&'static [u8]> {
            self.0 = self.0.checked_sub(1)?;
            Some(b"a")
        }
    }
    impl ExactSizeIterator for Liar {
        fn len(&self) -> usize {
            12
        }
    }
    out.clear();
    encode_command(Liar(2), &mut out);
    assert_eq!(out, b"*2\r\n$1\r\na\r\n$1\r\na\r\n");
}
