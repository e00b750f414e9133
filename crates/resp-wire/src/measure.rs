//! A micro-measure, not a test: what cutting and parsing a pipeline costs
//! per command. Run it optimised:
//! `cargo test --release --lib resp::protocol::measure -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::Instant;

use super::*;
use percore::codec::Decoder;

#[test]
#[ignore = "a measure; run by hand in release"]
fn pipeline_cost_per_command() {
    let mut input = Vec::new();
    for i in 0..16 {
        let key = format!("key:{:06}", 123 + i);
        encode_command([&b"SET"[..], key.as_bytes(), &[b'v'; 16]], &mut input);
        encode_command([&b"GET"[..], key.as_bytes()], &mut input);
    }
    let rounds = 200_000;
    let mut decoder = RespDecoder::default();
    let mut args = Args::default();
    for (parse, kept) in [(false, false), (true, false), (true, true)] {
        let started = Instant::now();
        let mut commands = 0usize;
        for _ in 0..rounds {
            let mut rest = black_box(&input[..]);
            while let Ok(Some(span)) = decoder.decode(rest, 1 << 20) {
                let frame = &rest[span.start..span.end];
                if parse {
                    let _ = if kept {
                        decoder.parsed(frame, &mut args)
                    } else {
                        parse_command(frame, &mut args)
                    };
                    black_box(args.view(frame).arg(1));
                }
                rest = &rest[span.wire_len..];
                commands += 1;
            }
        }
        let per = started.elapsed().as_nanos() as f64 / commands as f64;
        let what = match (parse, kept) {
            (false, _) => "decode",
            (true, false) => "decode + parse_command",
            (true, true) => "decode + the decoder's own arguments",
        };
        println!("{what}: {per:.1} ns per command ({commands} commands)");
    }
}
