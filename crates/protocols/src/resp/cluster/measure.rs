//! A micro-measure, not a test: what the redirect check costs a command
//! that is served here (the steady state of a cluster client: no MOVED).
//! Run it optimised:
//! `cargo test --release --lib resp::cluster::measure -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::Instant;

use super::super::commands::lookup;
use super::super::protocol::{encode_command, parse_command, Args};
use super::Cluster;

#[test]
#[ignore = "a measure; run by hand in release"]
fn check_cost_per_command() {
    let cluster = Cluster::from_options(Some("a=127.0.0.1:7000"), Some("a"))
        .ok()
        .flatten()
        .expect("a one-node cluster");
    // SET and GET of 16-byte keys, and an MSET of 8 keys with one tag.
    let mut frames = Vec::new();
    for i in 0..16 {
        let key = format!("key:{i:012}");
        for words in [
            vec!["SET", key.as_str(), "0123456789abcdef"],
            vec!["GET", &key],
        ] {
            let mut frame = Vec::new();
            let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            encode_command(words.iter().copied(), &mut frame);
            frames.push(frame);
        }
    }
    let mut mset = Vec::new();
    let pairs: Vec<String> = (0..8)
        .flat_map(|i| [format!("{{user:1}}:{i}"), "v".into()])
        .collect();
    let words: Vec<&[u8]> = std::iter::once(&b"MSET"[..])
        .chain(pairs.iter().map(|p| p.as_bytes()))
        .collect();
    encode_command(words.iter().copied(), &mut mset);
    for (what, frames) in [
        ("SET/GET, 16-byte keys", frames),
        ("MSET of 8 tagged keys", vec![mset]),
    ] {
        let parsed: Vec<(Args, Vec<u8>)> = frames
            .into_iter()
            .map(|frame| {
                let mut args = Args::default();
                parse_command(&frame, &mut args).expect("parses");
                (args, frame)
            })
            .collect();
        let rounds = 1_000_000;
        let started = Instant::now();
        for _ in 0..rounds {
            for (args, frame) in &parsed {
                let command = args.view(frame);
                let spec = lookup(command.at(0)).expect("served");
                black_box(cluster.check(spec.cmd, black_box(&command)).is_ok());
            }
        }
        let with = started.elapsed().as_nanos() as f64;
        let started = Instant::now();
        for _ in 0..rounds {
            for (args, frame) in &parsed {
                let command = args.view(frame);
                black_box(lookup(command.at(0)).expect("served"));
            }
        }
        let without = started.elapsed().as_nanos() as f64;
        let started = Instant::now();
        for _ in 0..rounds {
            for (args, frame) in &parsed {
                let command = args.view(frame);
                black_box(super::slot::key_slot(black_box(command.at(1))));
            }
        }
        let slot_alone = started.elapsed().as_nanos() as f64;
        let commands = (rounds * parsed.len()) as f64;
        println!(
            "{what}: lookup + check {:.1} ns, lookup alone {:.1} ns: the check {:.1} ns a command \
             (the first key's slot alone: {:.1} ns)",
            with / commands,
            without / commands,
            (with - without) / commands,
            slot_alone / commands
        );
    }
}
