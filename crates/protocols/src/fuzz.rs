//! Fuzz targets, one per decoder, shared by the coverage-guided fuzzer
//! (`fuzz/`, run with `cargo fuzz`) and the smoke run in `cargo test`. Test
//! scaffolding, not product: compiled only for tests and with the `fuzzing`
//! feature, which the fuzz crate turns on.
//!
//! Each target takes the fuzzer's bytes as a small header (the frame limit and
//! where reads are cut) followed by a byte stream, and checks what the
//! connection loop relies on: nothing panics, and the requests found do not
//! depend on how the stream was cut into reads. The request decoders are also
//! checked to give back what they were given when a request is re-encoded.

use crate::kv::forwarded::{push_forwarded, read_forwarded};
use crate::kv::protocol::{decode_request, push_request_frame};
use crate::mq::command;
use percore::codec::{frame_body, split_line_ending, LengthPrefixed, Lines};
use percore::fuzz::{decode_in_reads, frames_of, Case};
/// The framework's own targets, so that every target is found here.
pub use percore::fuzz::{length_prefixed, lines};

/// kv requests: each frame of the stream decoded as a request; a request
/// that decodes comes back the same from its own encoding, and from the
/// form it is forwarded to its owner in (`kv/forwarded.rs`); the bytes
/// themselves read as that form never panic.
pub fn kv_requests(data: &[u8]) {
    let (frames, _) = frames_of::<LengthPrefixed>(data);
    let mut encoded = Vec::new();
    for frame in std::iter::once(data).chain(frames.iter().map(Vec::as_slice)) {
        let _ = read_forwarded(frame);
        let Ok(request) = decode_request(frame) else {
            continue;
        };
        encoded.clear();
        push_request_frame(&mut encoded, &request);
        let again = decode_request(frame_body(&encoded));
        assert_eq!(again, Ok(request), "a request changed through its encoding");
        encoded.clear();
        push_forwarded(&mut encoded, &request);
        let forwarded = read_forwarded(&encoded);
        assert_eq!(
            forwarded,
            Some(request.into()),
            "a request changed on its way to its owner"
        );
    }
}

/// mq command lines, JSON or Python literals, one per line; the whole input
/// is also tried as one line.
pub fn mq_commands(data: &[u8]) {
    let (lines, _) = frames_of::<Lines>(data);
    let mut scratch = String::new();
    for line in std::iter::once(data).chain(lines.iter().map(Vec::as_slice)) {
        let (content, _) = split_line_ending(line);
        if let Ok(command::Command::Send { topic } | command::Command::Subscribe { topic }) =
            command::parse(content, &mut scratch)
        {
            assert!(
                topic.len() <= content.len(),
                "escapes never lengthen a topic"
            );
        }
    }
}

/// resp requests: the frames do not depend on read boundaries, each is one
/// command or the error redis finds in it, and a command written again as
/// multibulk (as an inline one is forwarded) parses to the same arguments.
pub fn resp_requests(data: &[u8]) {
    use crate::resp::protocol::{
        command_limit, encode_command, parse_command, Args, ProtocolError, RespDecoder, MAX_LINE,
    };
    let case = Case::new(data);
    let whole = decode_in_reads::<RespDecoder>(case.stream, &[], case.max_frame);
    let split = decode_in_reads::<RespDecoder>(case.stream, &case.cuts, case.max_frame);
    assert_eq!(whole, split, "frames depend on read boundaries");
    let longest = command_limit(case.max_frame).max(MAX_LINE + 1);
    let mut args = Args::with_max_frame(case.max_frame);
    let mut again = Args::default();
    let mut encoded = Vec::new();
    for frame in &whole.0 {
        assert!(frame.len() <= longest, "a frame passed the limit");
        match parse_command(frame, &mut args) {
            Ok(()) => {}
            Err(ProtocolError::NotOneCommand) => panic!("a frame is not one command"),
            Err(_) => continue,
        }
        let command = args.view(frame);
        encoded.clear();
        encode_command(command.iter(), &mut encoded);
        assert_eq!(parse_command(&encoded, &mut again), Ok(()));
        assert!(
            again.view(&encoded).iter().eq(command.iter()),
            "a command changed through its encoding"
        );
    }
    // The look ahead a shard prefetches by (`second_words`) reads the
    // second word of the same commands the decoder cuts, in order, until
    // it stops.
    let mut second_words = crate::resp::protocol::second_words(case.stream);
    for frame in &whole.0 {
        if frame.first() != Some(&b'*') || parse_command(frame, &mut args).is_err() {
            break;
        }
        let command = args.view(frame);
        if command.len() >= 2 {
            match second_words.next() {
                Some(word) => assert_eq!(word, command.at(1), "the look ahead read another word"),
                None => break,
            }
        }
    }
    // Any bytes as one frame: an answer, never a panic.
    let _ = parse_command(data, &mut args);
}

/// A kv log or snapshot file as the loader reads it: never a panic; a torn
/// tail or corruption point inside the file; a clean scan of the valid
/// prefix, re-encoded, gives back the same bytes.
pub fn kv_log(data: &[u8]) {
    use percore_keyspace::durable::record::{scan, Scan};
    let mut valid = Vec::new();
    let scanned = scan(data, |record| record.encode(&mut valid));
    match scanned {
        Scan::Clean => assert_eq!(valid, data),
        Scan::TornTail { valid_up_to } => {
            assert!(valid_up_to < data.len());
            assert_eq!(valid, &data[..valid_up_to]);
        }
        Scan::Corrupt { at } => {
            assert!(at < data.len());
            assert_eq!(valid, &data[..at]);
        }
    }
}

/// A DUMP payload as RESTORE reads it. Byte 0 chooses: even, the rest is
/// the payload as sent; odd, the rest is a value's body, given a sound
/// footer so that the decoding past the checksum is reached. Never a panic;
/// a value read is written again and read back the same.
pub fn rdb_payloads(data: &[u8]) {
    use crate::resp::rdb::{read_payload, sealed, write_payload};
    let (&choice, rest) = data.split_first().unwrap_or((&0, &[]));
    let payload = match choice % 2 {
        0 => rest.to_vec(),
        _ => sealed(rest),
    };
    if let Ok(value) = read_payload(&payload) {
        let mut written = Vec::new();
        write_payload(value.as_ref(), &mut written);
        let again = read_payload(&written).expect("a written payload reads back");
        let mut rewritten = Vec::new();
        write_payload(again.as_ref(), &mut rewritten);
        assert_eq!(written, rewritten);
    }
}

#[cfg(test)]
mod smoke {
    //! A short run of every target in `cargo test`: the seed corpus, then
    //! random inputs. The coverage-guided runs are `cargo fuzz` (README).

    use std::path::Path;

    use proptest::prelude::*;

    /// Runs `target` on every file under `fuzz/seeds/NAME`.
    fn seeds(name: &str, target: fn(&[u8])) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/seeds")
            .join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
        let mut count = 0;
        for entry in entries {
            let path = entry.expect("a seed file").path();
            target(&std::fs::read(&path).expect("a readable seed"));
            count += 1;
        }
        assert!(count > 0, "no seeds in {dir:?}");
    }

    #[test]
    fn every_target_passes_its_seeds() {
        seeds("lines", super::lines);
        seeds("length_prefixed", super::length_prefixed);
        seeds("kv_requests", super::kv_requests);
        seeds("mq_commands", super::mq_commands);
        seeds("kv_log", super::kv_log);
        seeds("resp_requests", super::resp_requests);
        seeds("rdb_payloads", super::rdb_payloads);
    }

    /// Bytes rich in what the decoders look for.
    fn input() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            8 => any::<u8>(),
            2 => Just(b'\n'),
            1 => Just(b'\r'),
            1 => Just(0u8),
            1 => Just(b'{'),
            1 => Just(b'\''),
            1 => Just(b'"'),
            1 => Just(0x80u8),
            1 => Just(0xa3u8),
            1 => Just(b'*'),
            1 => Just(b'$'),
        ];
        proptest::collection::vec(byte, 0..400)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn targets_survive_random_input(data in input()) {
            super::lines(&data);
            super::length_prefixed(&data);
            super::kv_requests(&data);
            super::mq_commands(&data);
            super::kv_log(&data);
            super::resp_requests(&data);
            super::rdb_payloads(&data);
        }
    }
}
