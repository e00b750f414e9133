//! The report's tests: shard snapshots merged into one report, every shard
//! and every service listed, in the JSON document and the totals.

use std::net::SocketAddr;

use super::*;
use crate::stats::IntervalReporter;

fn listen(service: &'static str, port: u16) -> Listen {
    Listen {
        service,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        tls: false,
    }
}

fn snapshot(shard: usize, messages: u64) -> ShardSnapshot {
    let mut stats = ServiceStats::default();
    stats.counters.accepted = 1;
    stats.record_served(messages, Duration::from_micros(7), Duration::ZERO);
    ShardSnapshot {
        shard,
        services: vec![("yell", stats)],
    }
}

#[test]
fn json_lists_every_shard_and_every_service() {
    let listens = [listen("yell", 1234), listen("echo", 8008)];
    let report = Report::merge(
        Duration::from_secs(2),
        3,
        &listens,
        &[snapshot(0, 5), snapshot(2, 7)],
    );
    let json = report.to_json();
    let yell = &json["services"]["yell"];
    assert_eq!(yell["messages"], 12);
    assert_eq!(yell["msgs_per_sec"], 6.0);
    assert_eq!(yell["per_shard"].as_array().unwrap().len(), 3);
    assert_eq!(yell["per_shard"][1]["messages"], 0);
    assert_eq!(yell["per_shard"][2]["messages"], 7);
    assert_eq!(yell["latency_us"]["p50"], 7);
    assert_eq!(json["services"]["echo"]["messages"], 0);
    assert!(json["services"]["echo"].get("slow_disconnects").is_none());
    assert!(report.table().contains("yell on 127.0.0.1:1234"));
}

#[test]
fn a_service_s_own_figures_are_listed_in_totals_and_per_shard_when_asked() {
    let with_figures = |shard, deliveries, forwarded| {
        let stats = ServiceStats {
            own: vec![
                OwnFigure {
                    name: "deliveries",
                    per_shard: true,
                    section: None,
                    metric: None,
                    value: deliveries,
                },
                OwnFigure {
                    name: "forwarded",
                    per_shard: false,
                    section: None,
                    metric: None,
                    value: forwarded,
                },
            ],
            counters: Counters {
                accepted: 1,
                ..Counters::default()
            },
            ..ServiceStats::default()
        };
        ShardSnapshot {
            shard,
            services: vec![("pubsub", stats)],
        }
    };
    let report = Report::merge(
        Duration::from_secs(1),
        3,
        &[listen("pubsub", 7777)],
        &[with_figures(0, 5, 1), with_figures(1, 7, 2)],
    );
    let json = report.to_json();
    let service = &json["services"]["pubsub"];
    assert_eq!(service["deliveries"], 12);
    assert_eq!(service["forwarded"], 3);
    assert_eq!(service["per_shard"][1]["deliveries"], 7);
    assert_eq!(
        service["per_shard"][2]["deliveries"], 0,
        "an idle shard shows 0"
    );
    assert!(service["per_shard"][0].get("forwarded").is_none());
    let table = report.table();
    assert!(table.contains("  deliveries   12"), "{table}");
    let mut reporter = IntervalReporter::default();
    assert!(reporter
        .line(report)
        .contains(", deliveries 12, forwarded 3"));
}
