//! The integration tests, one test binary (issue 24 item 5): every file in
//! tests/it/ is a module of it, so the dependency graph is linked once, not
//! once a file. They start the real `percore` binary on port 0 through
//! [`common::TestServer`] and talk to it over loopback; `common` holds every
//! helper they share.
//!
//! Running them (README, the paragraph after the first commands):
//!
//! ```text
//! scripts/test                            # every crate's tests, this binary's included
//! scripts/test --test it                  # this binary alone
//! scripts/test --test it kv::             # one module: its tests' paths start with `kv::`
//! scripts/test --test it kv::pipelines    # the tests whose path contains `kv::pipelines`
//! ```
//!
//! `examples::` runs the framework's example programs, which a whole
//! `cargo test` builds and `--test it` alone does not: build them once with
//! `cargo build --examples -p percore` before running that module alone.
//! The ignored campaigns are run by name with `-- --ignored`:
//! `crash_campaign::`, `stop_cycles::`, `soak::` (each file's first lines
//! give its command, e.g. `cargo test --test it crash_campaign:: -- --ignored
//! --nocapture`).
//!
//! To add a test file: put `NAME.rs` in tests/it/, add `mod NAME;` below (in
//! order), reach the helpers with `use crate::common::{...}`, and move any
//! helper a second file would want into tests/it/common/ instead of copying
//! it. All the tests run in one process, on parallel threads: a test must not
//! change what the process shares (environment variables, the current
//! directory, signal dispositions); a setting for the server goes on its
//! command line or [`common::Builder::env`].

mod common;

mod big_values;
mod chat;
mod cli;
mod cluster;
mod cluster_redis;
mod cluster_shards;
mod counted;
mod crash_campaign;
mod cross_protocol;
mod disk_full;
mod durable;
mod echo;
mod examples;
mod faults;
mod io_path;
mod kv;
mod load;
mod metrics;
mod moving;
mod mq;
mod open_files;
mod resp;
mod resp_acl;
mod resp_bits;
mod resp_blocking;
mod resp_blocking_chain;
mod resp_blocking_load;
mod resp_config;
mod resp_config_port;
mod resp_dirty;
mod resp_dump;
mod resp_eviction;
mod resp_geo;
mod resp_hash;
mod resp_introspect;
mod resp_introspection;
mod resp_list;
mod resp_migrate;
mod resp_multi;
mod resp_multi_across;
mod resp_multi_refusals;
mod resp_notify;
mod resp_pubsub;
mod resp_pubsub_mq;
mod resp_pubsub_order;
mod resp_querybuf;
mod resp_scripting;
mod resp_set;
mod resp_sort;
mod resp_strings;
mod resp_tracking;
mod resp_unauth;
mod resp_zset;
mod restart;
mod shutdown;
mod soak;
mod stats;
mod stop_cycles;
mod tls;
mod yell;
