//! The durable key space (docs/PROTOCOLS.md §7) against the real binary and real files:
//! restarts with other shard counts, kill -9 under each fsync policy, torn
//! and corrupt files, a disk that refuses writes, the memory cap, and expiry
//! times in the log.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::*;
use percore_keyspace::durable::record::{self, Record};
use percore_protocols::kv::protocol::push_request_frame;
use percore_protocols::kv::{now_ms, KvClient, Reply, Request};

fn start(dir: &Path, extra: &[&str]) -> Server {
    TestServer::builder()
        .services(&["kv"])
        .shards_per_cpu()
        .data_dir(dir)
        .args(extra)
        .start()
}

fn key(i: u64) -> String {
    format!("key-{i:08}")
}

/// Puts keys `from..to` in pipelined writes of 1,000.
fn put_range(kv: &mut KvClient, from: u64, to: u64) {
    let mut i = from;
    while i < to {
        let end = (i + 1000).min(to);
        let keys: Vec<(String, String)> = (i..end).map(|i| (key(i), format!("v{i}"))).collect();
        let requests: Vec<Request<'_>> = keys
            .iter()
            .map(|(k, v)| Request::Put { key: k, val: v })
            .collect();
        for reply in kv.pipeline(&requests).expect("put replies") {
            assert_eq!(reply, Reply::Nil);
        }
        i = end;
    }
}

fn count_keys(kv: &mut KvClient) -> usize {
    match kv.list_keys().expect("list") {
        Reply::Keys(keys) => keys.len(),
        other => panic!("{other:?}"),
    }
}

/// The files of the live generation.
fn live_files(dir: &Path) -> Vec<PathBuf> {
    let generation = fs::read_to_string(dir.join("CURRENT")).unwrap();
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join(format!("gen-{}", generation.trim())))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn a_clean_restart_with_another_shard_count_keeps_every_key_and_delete() {
    let dir = TempDir::new();
    let server = start(&dir.path, &["--shards", "4"]);
    let mut kv = kv_client(server.addr("kv"));
    put_range(&mut kv, 0, 100_000);
    for i in (0..100_000).step_by(10) {
        assert_eq!(kv.delete(&key(i)).unwrap(), Reply::Nil);
    }
    assert_eq!(kv.put(&key(7), "changed").unwrap(), Reply::Nil);
    drop(kv);
    assert_eq!(server.stop().status.code(), Some(0));

    let server = start(&dir.path, &["--shards", "2"]);
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(count_keys(&mut kv), 90_000);
    assert_eq!(kv.get(&key(7)).unwrap(), Reply::Str("changed".into()));
    assert_eq!(kv.get(&key(10)).unwrap(), Reply::Nil);
    assert_eq!(kv.get(&key(99_999)).unwrap(), Reply::Str("v99999".into()));
    drop(kv);
    let stopped = server.stop();
    let loaded: u64 = stopped.json["persistence"]
        .as_array()
        .expect("a persistence section")
        .iter()
        .map(|shard| shard["keys_loaded"].as_u64().unwrap())
        .sum();
    assert_eq!(loaded, 90_000);
}

/// Pipelines Puts of keys 0, 1, 2, ... over one connection, counting the
/// replies that arrived, until the connection breaks.
fn put_until_killed(addr: SocketAddr, acked: Arc<AtomicU64>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut reader = conn.try_clone().unwrap();
        let writer = thread::spawn(move || {
            let mut frames = Vec::new();
            for i in 0.. {
                frames.clear();
                for j in 0..64 {
                    let (k, v) = (key(i * 64 + j), format!("v{}", i * 64 + j));
                    push_request_frame(&mut frames, &Request::Put { key: &k, val: &v });
                }
                if conn.write_all(&frames).is_err() {
                    return;
                }
            }
        });
        let mut reply = [0u8; 5];
        while reader.read_exact(&mut reply).is_ok() {
            assert_eq!(&reply, b"\0\0\0\x01\xc0");
            acked.fetch_add(1, Ordering::Release);
        }
        let _ = writer.join();
    })
}

fn wait_for(acked: &AtomicU64, at_least: u64) {
    wait_until(&format!("{at_least} acknowledged"), || {
        acked.load(Ordering::Acquire) >= at_least
    });
}

#[test]
fn with_fsync_always_every_acknowledged_put_survives_kill_9() {
    let dir = TempDir::new();
    let server = start(&dir.path, &["--shards", "4", "--fsync", "always"]);
    let acked = Arc::new(AtomicU64::new(0));
    let putter = put_until_killed(server.addr("kv"), acked.clone());
    wait_for(&acked, 5_000);
    server.signal(libc::SIGKILL);
    putter.join().unwrap();
    let acknowledged = acked.load(Ordering::Acquire);
    drop(server);

    let server = start(&dir.path, &["--shards", "4"]);
    let mut kv = kv_client(server.addr("kv"));
    // Replies come in request order: the first `acknowledged` keys are there.
    for i in (0..acknowledged)
        .rev()
        .step_by(97)
        .chain([0, acknowledged - 1])
    {
        assert_eq!(
            kv.get(&key(i)).unwrap(),
            Reply::Str(format!("v{i}")),
            "key {i} of {acknowledged}"
        );
    }
    assert!(count_keys(&mut kv) as u64 >= acknowledged);
    drop(kv);
    let stopped = server.stop();
    let flushes: u64 = stopped.json["persistence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["flushes"].as_u64().unwrap())
        .sum();
    // The new run flushed at least its final state; the killed one's group
    // commits are what made the keys survive.
    assert!(stopped.status.success(), "{flushes}");
}

#[test]
fn with_fsync_everysec_kill_9_loses_at_most_about_the_last_second() {
    let dir = TempDir::new();
    let server = start(&dir.path, &["--shards", "2", "--fsync", "everysec"]);
    let acked = Arc::new(AtomicU64::new(0));
    let putter = put_until_killed(server.addr("kv"), acked.clone());
    wait_for(&acked, 2_000);
    // Acknowledged 2.5 s before the kill: on disk by then.
    thread::sleep(Duration::from_millis(500));
    let safe = acked.load(Ordering::Acquire);
    thread::sleep(Duration::from_millis(2_500));
    server.signal(libc::SIGKILL);
    putter.join().unwrap();
    drop(server);

    let server = start(&dir.path, &["--shards", "2"]);
    let mut kv = kv_client(server.addr("kv"));
    for i in (0..safe).step_by(101).chain([safe - 1]) {
        assert_eq!(
            kv.get(&key(i)).unwrap(),
            Reply::Str(format!("v{i}")),
            "key {i} of {safe}"
        );
    }
    drop(kv);
    server.stop().assert_clean();
}

#[test]
fn a_torn_tail_is_dropped_with_a_warning_and_corruption_exits_3_unless_repaired() {
    let dir = TempDir::new();
    let server = start(&dir.path, &["--shards", "1"]);
    let mut kv = kv_client(server.addr("kv"));
    put_range(&mut kv, 0, 100);
    drop(kv);
    server.stop().assert_clean();

    // A torn tail: half a record and garbage after the last whole one.
    let log = live_files(&dir.path)
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("log-"))
        .unwrap();
    let mut bytes = fs::read(&log).unwrap();
    assert!(!bytes.is_empty(), "the clean stop flushed the log");
    bytes.extend_from_slice(&[42, 0, 0, 0, 1, 2, 3]);
    fs::write(&log, &bytes).unwrap();
    let mut server = start(&dir.path, &["--shards", "1"]);
    let stderr = lines_of(server.take_stderr());
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(count_keys(&mut kv), 100);
    drop(kv);
    server.stop().assert_clean();
    let warned = stderr
        .try_iter()
        .any(|line| line.contains("torn tail of 7 bytes"));
    assert!(warned, "a warning names the dropped bytes");

    // Corruption: a flipped byte in the first record, valid ones after it.
    let snapshot = live_files(&dir.path)
        .into_iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap-")
        })
        .unwrap();
    let mut bytes = fs::read(&snapshot).unwrap();
    bytes[10] ^= 0x40;
    fs::write(&snapshot, &bytes).unwrap();
    let dir_arg = dir.path.to_string_lossy().into_owned();
    let (output, _) = run_percore(&[
        "serve",
        "--services",
        "kv",
        "--kv",
        "127.0.0.1:0",
        "--data-dir",
        &dir_arg,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&*snapshot.to_string_lossy()) && stderr.contains("offset 0"),
        "{stderr}"
    );

    // --data-repair keeps the valid prefix (nothing before offset 0 here),
    // and later starts need no flag.
    let server = start(&dir.path, &["--shards", "1", "--data-repair"]);
    drop(server.stop());
    let server = start(&dir.path, &["--shards", "1"]);
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(kv.put("after", "repair").unwrap(), Reply::Nil);
    drop(kv);
    server.stop().assert_clean();
}

#[test]
fn a_disk_that_refuses_writes_gets_error_replies_and_loses_nothing_acknowledged() {
    let dir = TempDir::new();
    // A 64 KiB file size limit: the log fills up. SIGXFSZ is ignored, so a
    // write past the limit fails with EFBIG instead of killing the server.
    let server = TestServer::builder()
        .services(&["kv"])
        .shards(1)
        .shell("trap '' XFSZ; ulimit -f 128")
        .data_dir(&dir.path)
        .args(&["--fsync", "always"])
        .start();
    let addr = server.addr("kv");
    let mut kv = kv_client(addr);
    let value = "x".repeat(200);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for i in 0..1_000u64 {
        match kv.put(&key(i), &value).unwrap() {
            Reply::Nil => acknowledged.push(i),
            Reply::Error(reason) => {
                assert!(reason.starts_with("disk: "), "{reason}");
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(refused > 0 && !acknowledged.is_empty(), "{refused} refused");
    // Reads go on.
    assert_eq!(
        kv.get(&key(acknowledged[0])).unwrap(),
        Reply::Str(value.clone())
    );
    drop(kv);
    server.signal(libc::SIGKILL);
    drop(server);

    let server = start(&dir.path, &["--shards", "1"]);
    let mut kv = kv_client(server.addr("kv"));
    for &i in &acknowledged {
        assert_eq!(
            kv.get(&key(i)).unwrap(),
            Reply::Str(value.clone()),
            "acknowledged key {i}"
        );
    }
    drop(kv);
    server.stop().assert_clean();
}

#[test]
fn max_memory_refuses_writes_past_the_cap_and_takes_them_again_after_deletes() {
    let server = TestServer::builder()
        .services(&["kv"])
        .shards(1)
        .args(&["--max-memory", "20000"])
        .start();
    let mut kv = kv_client(server.addr("kv"));
    let value = "v".repeat(100);
    let mut stored = 0;
    let mut refusal = None;
    for i in 0..1_000 {
        match kv.put(&key(i), &value).unwrap() {
            Reply::Nil => stored += 1,
            Reply::Error(reason) => {
                refusal = Some((i, reason));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let (first_refused, reason) = refusal.expect("the cap was reached");
    assert_eq!(reason, "out of memory");
    assert!(stored > 50, "{stored}");
    // Reads, deletes and smaller overwrites go on.
    assert_eq!(kv.get(&key(0)).unwrap(), Reply::Str(value.clone()));
    assert_eq!(kv.put(&key(1), "small").unwrap(), Reply::Nil);
    assert_eq!(kv.delete(&key(2)).unwrap(), Reply::Nil);
    assert_eq!(kv.delete(&key(3)).unwrap(), Reply::Nil);
    assert_eq!(
        kv.put(&key(first_refused), &value).unwrap(),
        Reply::Nil,
        "room was made"
    );
    drop(kv);
    let stopped = server.stop();
    assert!(stopped.json["services"]["kv"]["errors"].as_u64() >= Some(1));
}

#[test]
fn a_log_twice_the_live_data_is_compacted_in_the_background() {
    let dir = TempDir::new();
    let server = start(&dir.path, &["--shards", "1", "--fsync", "no"]);
    let mut kv = kv_client(server.addr("kv"));
    // 100 keys overwritten 200 times with 500-byte values: about 10 MB of
    // log for 56 KB of live data.
    for round in 0..200u64 {
        let value = format!("{round:0>500}");
        let keys: Vec<String> = (0..100).map(key).collect();
        let requests: Vec<Request<'_>> = keys
            .iter()
            .map(|k| Request::Put {
                key: k,
                val: &value,
            })
            .collect();
        for reply in kv.pipeline(&requests).unwrap() {
            assert_eq!(reply, Reply::Nil);
        }
    }
    // Compactions run in the background: wait for one, with a deadline.
    let give_up = Instant::now() + DEADLINE;
    loop {
        let log_bytes: u64 = live_files(&dir.path)
            .iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("log-"))
            .map(|p| fs::metadata(p).map_or(0, |m| m.len()))
            .sum();
        let snapshots = live_files(&dir.path)
            .iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("snap-0-")
            })
            .count();
        if snapshots == 1
            && log_bytes < 4 << 20
            && !live_files(&dir.path)
                .iter()
                .any(|p| p.ends_with("snap-0-1"))
        {
            break;
        }
        assert!(
            Instant::now() < give_up,
            "no compaction: {:?}",
            live_files(&dir.path)
        );
        thread::sleep(Duration::from_millis(20));
    }
    drop(kv);
    let stopped = server.stop();
    assert!(
        stopped.json["persistence"][0]["compactions"].as_u64() >= Some(1),
        "{}",
        stopped.json
    );

    let server = start(&dir.path, &["--shards", "1"]);
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(count_keys(&mut kv), 100);
    assert_eq!(
        kv.get(&key(42)).unwrap(),
        Reply::Str(format!("{:0>500}", 199))
    );
    drop(kv);
    server.stop().assert_clean();
}

/// `--fsync always` acknowledges a write once its log write completes, which
/// is only a promise of stable storage if the log is open O_DSYNC (a kill -9
/// test cannot tell: the page cache outlives the process). Read the open
/// flags of the server's log files from /proc.
#[test]
fn under_fsync_always_every_log_file_is_open_o_dsync() {
    const O_DSYNC: u64 = libc::O_DSYNC as u64;
    for (policy, expect_dsync) in [("always", true), ("everysec", false)] {
        let dir = TempDir::new();
        let server = start(&dir.path, &["--shards", "2", "--fsync", policy]);
        let mut kv = kv_client(server.addr("kv"));
        assert_eq!(kv.put("k", "v").unwrap(), Reply::Nil);
        let fds = fs::read_dir(format!("/proc/{}/fd", server.pid())).unwrap();
        let mut logs = 0;
        for fd in fds {
            let fd = fd.unwrap();
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !target.starts_with(&dir.path) || !name.starts_with("log-") {
                continue;
            }
            let info = fs::read_to_string(format!(
                "/proc/{}/fdinfo/{}",
                server.pid(),
                fd.file_name().to_string_lossy()
            ))
            .unwrap();
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .map(|f| u64::from_str_radix(f.trim(), 8).unwrap())
                .unwrap();
            assert_eq!(
                flags & O_DSYNC != 0,
                expect_dsync,
                "{policy}: {target:?} flags {flags:o}"
            );
            logs += 1;
        }
        assert_eq!(logs, 2, "{policy}: one open log per shard");
        drop(kv);
        server.stop().assert_clean();
    }
}

/// Appends `records` to the live generation's log of shard `shard`.
fn append_to_log(dir: &Path, shard: usize, records: &[Record<'_>]) {
    let log = live_files(dir)
        .into_iter()
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(&format!("log-{shard}-"))
        })
        .expect("a log");
    let mut bytes = Vec::new();
    for record in records {
        record.encode(&mut bytes);
    }
    fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
}

/// The records of the live generation's snapshots, as owned `Debug` text.
fn snapshot_records(dir: &Path) -> Vec<String> {
    let mut records = Vec::new();
    for path in live_files(dir) {
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("snap-")
        {
            let bytes = fs::read(&path).unwrap();
            assert_eq!(
                record::scan(&bytes, |r| records.push(format!("{r:?}"))),
                record::Scan::Clean
            );
        }
    }
    records.sort();
    records
}

/// No protocol sets a TTL yet: the records are written into the log by hand,
/// as resp will log them. A restart (with another shard count) keeps the
/// keys whose time has not passed, with their times, and drops the others.
#[test]
fn expiry_times_in_the_log_survive_restarts_and_passed_ones_drop() {
    let dir = TempDir::new();
    let server = start(&dir.path, &["--shards", "1"]);
    let mut kv = kv_client(server.addr("kv"));
    assert_eq!(kv.put("cleared", "v").unwrap(), Reply::Nil);
    drop(kv);
    server.stop().assert_clean();

    let now = now_ms();
    let (soon, later) = (now + 3_600_000, now + 7_200_000);
    append_to_log(
        &dir.path,
        0,
        &[
            Record::Clear,
            Record::Put {
                key: b"plain",
                val: b"1",
            },
            Record::PutExpiring {
                key: b"past",
                val: b"1",
                at: now - 1,
            },
            Record::PutExpiring {
                key: b"future",
                val: b"2",
                at: soon,
            },
            Record::PutExpiring {
                key: b"moved",
                val: b"3",
                at: now - 10,
            },
            Record::Expire {
                key: b"moved",
                at: later,
            },
            Record::PutExpiring {
                key: b"persisted",
                val: b"4",
                at: now - 10,
            },
            Record::Persist { key: b"persisted" },
        ],
    );

    for shards in ["3", "1"] {
        let server = start(&dir.path, &["--shards", shards]);
        let mut kv = kv_client(server.addr("kv"));
        match kv.list_keys().unwrap() {
            Reply::Keys(keys) => assert_eq!(keys, ["future", "moved", "persisted", "plain"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(kv.get("past").unwrap(), Reply::Nil);
        assert_eq!(kv.get("cleared").unwrap(), Reply::Nil);
        assert_eq!(kv.get("moved").unwrap(), Reply::Str("3".into()));
        drop(kv);
        server.stop().assert_clean();
        // The new generation's snapshots hold the TTLs.
        let expected = [
            format!(
                "{:?}",
                Record::Put {
                    key: b"persisted",
                    val: b"4"
                }
            ),
            format!(
                "{:?}",
                Record::Put {
                    key: b"plain",
                    val: b"1"
                }
            ),
            format!(
                "{:?}",
                Record::PutExpiring {
                    key: b"future",
                    val: b"2",
                    at: soon
                }
            ),
            format!(
                "{:?}",
                Record::PutExpiring {
                    key: b"moved",
                    val: b"3",
                    at: later
                }
            ),
        ];
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(snapshot_records(&dir.path), expected);
    }
}
