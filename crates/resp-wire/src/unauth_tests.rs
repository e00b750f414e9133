//! Unit tests of the unauthenticated limits (docs/PROTOCOLS.md §6.1): the decoder cuts a
//! command at the header that breaks them, whatever the reads, `parsed`
//! gives redis' error for it, and the limits apply only while asked for.
//! redis-server 7.0.15 with `--requirepass` answers the same bytes so
//! (checked against it in `tests/it/resp_unauth.rs`).

use super::{Args, ProtocolError, RespDecoder};
use percore::codec::Decoder;

const MAX_FRAME: usize = 1 << 20;

/// Decodes `input` fed `step` bytes at a time as an unauthenticated
/// client's: the first frame's length and what `parsed` says of it.
fn first_frame(input: &[u8], step: usize) -> Option<(usize, Result<(), ProtocolError>)> {
    let mut decoder = RespDecoder::default();
    decoder.require_auth(true);
    let mut fed = 0;
    while fed < input.len() {
        fed = (fed + step).min(input.len());
        if let Some(span) = decoder.decode(&input[..fed], MAX_FRAME).ok()? {
            let frame = &input[span.start..span.end];
            let mut args = Args::with_max_frame(MAX_FRAME);
            return Some((span.end, decoder.parsed(frame, &mut args)));
        }
    }
    None
}

#[test]
fn past_the_limits_is_refused_at_the_header_in_any_reads() {
    let cases: [(&[u8], usize, ProtocolError); 3] = [
        (b"*11\r\n", 5, ProtocolError::UnauthenticatedMultibulkLength),
        (
            b"*1\r\n$16385\r\n",
            12,
            ProtocolError::UnauthenticatedBulkLength,
        ),
        (
            b"*2\r\n$3\r\nGET\r\n$100000\r\nrest",
            22,
            ProtocolError::UnauthenticatedBulkLength,
        ),
    ];
    for (input, len, error) in cases {
        for step in [1, 3, input.len()] {
            assert_eq!(
                first_frame(input, step),
                Some((len, Err(error))),
                "{input:?} in reads of {step}"
            );
        }
    }
    // Past --max-frame is still the frame error every client gets.
    let mut decoder = RespDecoder::default();
    decoder.require_auth(true);
    assert!(decoder.decode(b"*1\r\n$2000000\r\n", MAX_FRAME).is_err());
}

#[test]
fn within_the_limits_or_authenticated_waits_for_the_data() {
    for input in [&b"*10\r\n"[..], b"*1\r\n$16384\r\n", b"*0\r\n"] {
        let frame = first_frame(input, input.len());
        assert!(matches!(frame, None | Some((_, Ok(())))), "{input:?}");
    }
    for input in [&b"*11\r\n"[..], b"*1\r\n$16385\r\n"] {
        let mut decoder = RespDecoder::default();
        decoder.require_auth(false);
        assert_eq!(decoder.decode(input, MAX_FRAME), Ok(None), "{input:?}");
    }
}
