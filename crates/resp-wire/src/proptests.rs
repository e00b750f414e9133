//! Property tests of the request side: frames do not depend on read
//! boundaries, every frame the decoder finds parses as itself (a command or
//! the error redis would see), well-formed commands and quoted inline words
//! come back unchanged.

use proptest::prelude::*;

use super::*;
use percore::fuzz::decode_in_reads;

/// Arguments, binary: any byte, CR and LF and NUL included.
fn arguments() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 0..8)
}

/// Pieces of streams: whole commands, headers (sometimes wrong), inline
/// text, and bytes the framing looks for.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let command = arguments().prop_map(|args| {
        let mut out = Vec::new();
        encode_command(args.iter().map(Vec::as_slice), &mut out);
        out
    });
    let special = prop_oneof![
        Just(b'*'),
        Just(b'$'),
        Just(b'\r'),
        Just(b'\n'),
        Just(0u8),
        Just(b'"'),
        Just(b'\''),
        Just(b'\\'),
        Just(b' '),
        Just(b'-'),
        (b'0'..=b'9'),
        any::<u8>(),
    ];
    prop_oneof![
        4 => command,
        2 => (-2i64..6).prop_map(|n| format!("*{n}\r\n").into_bytes()),
        2 => (-2i64..40).prop_map(|n| format!("${n}\r\n").into_bytes()),
        2 => proptest::collection::vec(special, 0..12),
        1 => Just(b"SET k \"a\\x41\" 'b'\r\n".to_vec()),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(piece(), 0..12).prop_map(|pieces| pieces.concat())
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(any::<usize>(), 0..40)
}

/// Feeds `input` to a decoder in reads cut at `cuts`, as the connection
/// loop does, and checks each frame's arguments as the decoder kept them
/// against a fresh parse of the frame.
fn decoder_parse_agrees(input: &[u8], cuts: &[usize], max_frame: usize) {
    use percore::codec::Decoder;
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let (mut decoder, mut buffer, mut fed) = (RespDecoder::default(), Vec::new(), 0);
    let (mut kept, mut fresh) = (
        Args::with_max_frame(max_frame),
        Args::with_max_frame(max_frame),
    );
    for end in ends {
        buffer.extend_from_slice(&input[fed..end]);
        fed = end;
        loop {
            match decoder.decode(&buffer, max_frame) {
                Ok(Some(span)) => {
                    let frame = buffer[..span.wire_len].to_vec();
                    let a = decoder.parsed(&frame, &mut kept);
                    let b = parse_command(&frame, &mut fresh);
                    assert_eq!(a, b, "{frame:?}");
                    let words = |args: &Args| {
                        args.view(&frame)
                            .iter()
                            .map(<[u8]>::to_vec)
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(words(&kept), words(&fresh), "{frame:?}");
                    buffer.drain(..span.wire_len);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_decoders_arguments_are_a_fresh_parse(
        input in stream(),
        cuts in cuts(),
        max_frame in 1usize..64,
    ) {
        decoder_parse_agrees(&input, &cuts, max_frame);
    }

    #[test]
    fn resp_commands_do_not_depend_on_read_boundaries(
        input in stream(),
        cuts in cuts(),
        max_frame in 0usize..64,
    ) {
        let whole = decode_in_reads::<RespDecoder>(&input, &[], max_frame);
        let split = decode_in_reads::<RespDecoder>(&input, &cuts, max_frame);
        prop_assert_eq!(&whole, &split);
        // Every frame is one command, or the error redis finds in it.
        let mut args = Args::with_max_frame(max_frame);
        for frame in &whole.0 {
            prop_assert!(!frame.is_empty());
            prop_assert_ne!(parse_command(frame, &mut args), Err(ProtocolError::NotOneCommand));
        }
    }

    #[test]
    fn well_formed_commands_round_trip(
        commands in proptest::collection::vec(arguments(), 0..10),
        cuts in cuts(),
    ) {
        let mut input = Vec::new();
        for args in &commands {
            encode_command(args.iter().map(Vec::as_slice), &mut input);
        }
        let (frames, too_long) = decode_in_reads::<RespDecoder>(&input, &cuts, 64);
        prop_assert!(!too_long);
        prop_assert_eq!(frames.len(), commands.len());
        let mut args = Args::default();
        for (frame, want) in frames.iter().zip(&commands) {
            prop_assert_eq!(parse_command(frame, &mut args), Ok(()));
            let got: Vec<&[u8]> = args.view(frame).iter().collect();
            let want: Vec<&[u8]> = want.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn quoted_inline_words_round_trip(
        words in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..16), 1..6),
        separator in prop_oneof![Just(&b" "[..]), Just(&b"\t"[..]), Just(&b" \x0b "[..])],
        ending in prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..])],
    ) {
        // A line must not start with `*`: that would be multibulk.
        let mut line = b" ".to_vec();
        for word in &words {
            push_inline_word(word, &mut line);
            line.extend_from_slice(separator);
        }
        line.extend_from_slice(ending);
        let (frames, _) = decode_in_reads::<RespDecoder>(&line, &[], 0);
        prop_assert_eq!(&frames, &vec![line.clone()]);
        let mut args = Args::default();
        prop_assert_eq!(parse_command(&line, &mut args), Ok(()));
        prop_assert!(args.is_inline());
        let got: Vec<&[u8]> = args.view(&line).iter().collect();
        let want: Vec<&[u8]> = words.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(got, want);
    }
}
