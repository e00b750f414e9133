//! `percore serve`'s options as the command line gives them: defaults,
//! repeated and refused addresses, the checks of services, cluster options
//! and shard counts.

use super::*;
use crate::cli::{Action, Cli};
use clap::Parser;
use percore_protocols::resp::cluster::ClusterError;

fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
    let mut argv = vec!["percore", "serve"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).map(|cli| match cli.action {
        Action::Serve(args) => args,
        _ => unreachable!("parsed serve"),
    })
}

#[test]
fn defaults_follow_the_spec() {
    let args = serve(&[]).unwrap();
    let services = args.services().unwrap();
    let names: Vec<_> = services.iter().map(|(s, _)| s.name).collect();
    assert_eq!(names, ["yell", "echo", "chat", "mq", "kv", "resp"]);
    let plain = |addr: &str| Endpoint::plain(addr.parse().unwrap());
    assert_eq!(services[0].1, [plain("127.0.0.1:1234")]);
    assert_eq!(services[4].1, [plain("127.0.0.1:8888")]);
    let (config, _) = args.config().unwrap();
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.stats_interval, None);
    assert_eq!(
        args.mq_queue_bytes as usize,
        percore_protocols::mq::DEFAULT_QUEUE_BYTES
    );
}

#[test]
fn an_address_option_may_be_repeated() {
    let args = serve(&["--kv", "127.0.0.1:9001", "--kv", "tls://127.0.0.1:9002"]).unwrap();
    let services = args.services().unwrap();
    let kv = services.iter().find(|(s, _)| s.name == "kv").unwrap();
    assert_eq!(
        kv.1,
        [
            Endpoint::plain("127.0.0.1:9001".parse().unwrap()),
            Endpoint::tls("127.0.0.1:9002".parse().unwrap())
        ]
    );
    let tls_twice = serve(&["--kv", "127.0.0.1:9001", "--kv", "tls://127.0.0.1:9001"]).unwrap();
    assert!(matches!(
        tls_twice.services(),
        Err(UsageError::SharedAddress { .. })
    ));
    let twice = serve(&["--kv", "127.0.0.1:9001", "--kv", "127.0.0.1:9001"]).unwrap();
    assert!(matches!(
        twice.services(),
        Err(UsageError::SharedAddress { .. })
    ));
}

#[test]
fn garbage_addresses_are_refused_and_port_zero_is_not_shared() {
    let zeros = serve(&["--yell", "127.0.0.1:0", "--echo", "127.0.0.1:0"]).unwrap();
    assert!(zeros.services().is_ok());
    assert!(serve(&["--yell", "not an address"]).is_err());
    assert!(serve(&["--idle-timeout", "-1"]).is_err());
}

#[test]
fn services_are_checked() {
    let unknown = serve(&["--services", "yell,ftp"]).unwrap().services();
    assert_eq!(
        unknown.unwrap_err(),
        UsageError::UnknownService("ftp".into())
    );
    let shared = serve(&["--services", "yell,echo", "--echo", "127.0.0.1:1234"])
        .unwrap()
        .services();
    assert!(matches!(shared, Err(UsageError::SharedAddress { .. })));
}

#[test]
fn cluster_options_are_checked_together() {
    let error = |args: &[&str]| serve(args).unwrap().into_builder().err();
    assert_eq!(
        error(&["--cluster-id", "a"]),
        Some(UsageError::Cluster(ClusterError::IdWithoutNodes))
    );
    assert_eq!(
        error(&[
            "--cluster-nodes",
            "a=127.0.0.1:7000,b=127.0.0.1:7001",
            "--cluster-id",
            "c"
        ]),
        Some(UsageError::Cluster(ClusterError::NotListed {
            id: "c".into(),
            listed: "a, b".into()
        }))
    );
    assert_eq!(
        error(&["--cluster-nodes", "a=127.0.0.1:7000", "--cluster-id", "a"]),
        None
    );
}

fn cpus() -> usize {
    core_affinity::get_core_ids().unwrap().len()
}

#[test]
fn more_shards_than_cpus_run_unpinned_with_a_warning() {
    let most = (cpus() * MAX_SHARDS_PER_CPU).to_string();
    let (config, warnings) = serve(&["--shards", &most]).unwrap().config().unwrap();
    assert_eq!(
        config.placement,
        Placement::Unpinned(cpus() * MAX_SHARDS_PER_CPU)
    );
    assert_eq!(warnings.len(), 1);
}

#[test]
fn more_than_four_shards_per_cpu_are_refused() {
    let asked = cpus() * MAX_SHARDS_PER_CPU + 1;
    let error = serve(&["--shards", &asked.to_string()])
        .unwrap()
        .config()
        .unwrap_err();
    assert_eq!(
        error,
        UsageError::TooManyShards {
            asked,
            max: asked - 1,
            cpus: cpus(),
            per_cpu: MAX_SHARDS_PER_CPU
        }
    );
    assert!(error
        .to_string()
        .starts_with(&format!("--shards {asked}: ")));
}
