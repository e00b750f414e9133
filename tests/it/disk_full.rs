//! A disk that fills up under a running server (docs/PROTOCOLS.md §7.1): a write that
//! cannot be logged is refused, not applied, and counted (docs/PROTOCOLS.md §5); writes
//! resume once space comes back; a restart holds exactly the acknowledged
//! writes, without `--data-repair`. The disk is a 32 MiB tmpfs in a mount
//! namespace of its own (`unshare -Urm`), filled with a file the test
//! removes; kv and resp, 1 and 4 shards (forwarded writes), `always` and
//! `everysec`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::resp::Resp;
use crate::common::*;
use percore_protocols::kv::{KvClient, Reply, Request};

/// A 32 MiB tmpfs mounted on a fresh directory in a mount namespace held by
/// a `sleep`; servers run inside it (`nsenter`), the test reaches its files
/// through `/proc/<holder>/root`.
struct SmallDisk {
    holder: Child,
    dir: PathBuf,
    _mount_point: TempDir,
}

impl SmallDisk {
    /// None, with the reason printed, where the namespace cannot be made.
    fn new() -> Option<SmallDisk> {
        let mount_point = TempDir::new();
        let dir = mount_point.path.clone();
        let spawned = Command::new("unshare")
            .args(["-Urm", "sh", "-c"])
            .arg("mount -t tmpfs -o size=32m tmpfs \"$0\" && echo mounted && exec sleep 600")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut holder = match spawned {
            Ok(child) => child,
            Err(e) => {
                eprintln!("skipped: cannot run unshare: {e}");
                return None;
            }
        };
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let output = holder.wait_with_output().expect("unshare's output");
            eprintln!(
                "skipped: unshare -Urm with a tmpfs is not permitted here: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
        Some(SmallDisk {
            holder,
            dir,
            _mount_point: mount_point,
        })
    }

    /// A path on the tmpfs, as this process sees it.
    fn outside(&self, name: &str) -> PathBuf {
        let inside = self.dir.join(name);
        Path::new(&format!("/proc/{}/root", self.holder.id()))
            .join(inside.strip_prefix("/").unwrap())
    }

    /// Leaves about `free` bytes of the tmpfs free.
    fn fill(&self, free: u64) {
        let stat = nix_statvfs(&self.outside(""));
        let size = stat.saturating_sub(free);
        let file = std::fs::File::create(self.outside("filler")).expect("create the filler");
        let chunk = vec![7u8; 1 << 20];
        let mut written = 0;
        let mut file = file;
        while written < size {
            let n = chunk.len().min((size - written) as usize);
            std::io::Write::write_all(&mut file, &chunk[..n]).expect("write the filler");
            written += n as u64;
        }
    }

    fn free(&self) {
        std::fs::remove_file(self.outside("filler")).expect("remove the filler");
    }

    /// `percore serve` on the tmpfs, with `extra` options.
    fn serve(&self, service: &str, extra: &[&str]) -> Server {
        let holder = self.holder.id().to_string();
        let data = self.dir.join("data");
        TestServer::builder()
            .services(&[service])
            .shards_per_cpu()
            .wrap(&[
                "nsenter",
                "-t",
                &holder,
                "-U",
                "-m",
                "--preserve-credentials",
            ])
            .data_dir(&data)
            .args(extra)
            .start()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Free bytes of the file system holding `path`.
fn nix_statvfs(path: &Path) -> u64 {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs(3) with a NUL-terminated path and a zeroed struct.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    assert_eq!(rc, 0, "statvfs {}", path.display());
    stat.f_bavail * stat.f_frsize
}

/// kv or resp, as a client sees it.
enum Client {
    Kv(KvClient),
    Resp(Resp),
}

impl Client {
    fn connect(service: &str, addr: SocketAddr) -> Client {
        match service {
            "kv" => Client::Kv(kv_client(addr)),
            _ => Client::Resp(Resp::connect(addr)),
        }
    }

    /// Ok, or the error reply's text.
    fn put(&mut self, key: &str, val: &str) -> Result<(), String> {
        match self {
            Client::Kv(kv) => match kv.put(key, val).expect("a reply") {
                Reply::Nil => Ok(()),
                Reply::Error(reason) => Err(reason),
                other => panic!("{other:?}"),
            },
            Client::Resp(resp) => {
                let reply = resp.call(&[b"SET", key.as_bytes(), val.as_bytes()]);
                match reply.as_slice() {
                    b"+OK\r\n" => Ok(()),
                    [b'-', ..] => Err(String::from_utf8_lossy(&reply).trim_end().to_string()),
                    _ => panic!("{}", String::from_utf8_lossy(&reply)),
                }
            }
        }
    }

    /// Writes `val` to every key in one pipeline; each one's outcome.
    fn put_many(&mut self, keys: &[String], val: &str) -> Vec<Result<(), String>> {
        match self {
            Client::Kv(kv) => {
                let requests: Vec<Request<'_>> =
                    keys.iter().map(|key| Request::Put { key, val }).collect();
                kv.pipeline(&requests)
                    .expect("replies")
                    .into_iter()
                    .map(|reply| match reply {
                        Reply::Nil => Ok(()),
                        Reply::Error(reason) => Err(reason),
                        other => panic!("{other:?}"),
                    })
                    .collect()
            }
            Client::Resp(resp) => {
                for key in keys {
                    resp.send(&[b"SET", key.as_bytes(), val.as_bytes()]);
                }
                keys.iter()
                    .map(|_| {
                        let reply = resp.reply();
                        match reply.as_slice() {
                            b"+OK\r\n" => Ok(()),
                            [b'-', ..] => {
                                Err(String::from_utf8_lossy(&reply).trim_end().to_string())
                            }
                            _ => panic!("{}", String::from_utf8_lossy(&reply)),
                        }
                    })
                    .collect()
            }
        }
    }

    /// The value's length, if the key is there.
    fn get_len(&mut self, key: &str) -> Option<usize> {
        match self {
            Client::Kv(kv) => match kv.get(key).expect("a reply") {
                Reply::Nil => None,
                Reply::Str(val) => Some(val.len()),
                other => panic!("{other:?}"),
            },
            Client::Resp(resp) => {
                let reply = resp.call(&[b"GET", key.as_bytes()]);
                match reply.as_slice() {
                    b"$-1\r\n" => None,
                    [b'$', ..] => {
                        Some(reply.len() - reply.iter().position(|&b| b == b'\n').unwrap() - 3)
                    }
                    _ => panic!("{}", String::from_utf8_lossy(&reply)),
                }
            }
        }
    }
}

fn is_disk_refusal(service: &str, reason: &str) -> bool {
    match service {
        "kv" => reason.starts_with("disk: "),
        _ => reason.starts_with("-MISCONF "),
    }
}

const VALUE_LEN: usize = 60_000;

/// Fills the disk under a server until writes are refused, checks that no
/// refused write is there, frees space, writes again, and restarts: the
/// restart holds exactly the acknowledged writes.
fn refused_writes_are_not_applied(service: &str, shards: &str, fsync: &str) {
    let Some(disk) = SmallDisk::new() else {
        return;
    };
    let server = disk.serve(service, &["--shards", shards, "--fsync", fsync]);
    let mut client = Client::connect(service, server.addr(service));
    disk.fill(6 << 20);
    let value = "v".repeat(VALUE_LEN);
    let key = |i: u32| format!("key-{i:05}");
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    let mut i = 0;
    let give_up = Instant::now() + Duration::from_secs(60);
    // Until some writes were refused, on the full disk.
    while refused.len() < 5 {
        assert!(Instant::now() < give_up, "no write refused in 60 s");
        if fsync == "everysec" {
            // Acknowledged writes wait in memory for the next second's
            // write: at full speed a second of them would not fit the
            // whole disk, even once it is freed.
            std::thread::sleep(Duration::from_millis(20));
        }
        match client.put(&key(i), &value) {
            Ok(()) => acknowledged.push(i),
            Err(reason) => {
                assert!(is_disk_refusal(service, &reason), "{reason}");
                // docs/PROTOCOLS.md §7.1: a write that cannot be logged is not applied.
                assert_eq!(client.get_len(&key(i)), None, "refused {} is there", key(i));
                refused.push(i);
            }
        }
        i += 1;
    }
    // Reads go on.
    assert_eq!(client.get_len(&key(acknowledged[0])), Some(VALUE_LEN));

    // Space comes back: writes are taken again within a few seconds.
    disk.free();
    let give_up = Instant::now() + Duration::from_secs(20);
    let mut taken = 0;
    while taken < 20 {
        assert!(Instant::now() < give_up, "writes not taken again in 20 s");
        match client.put(&key(i), &value) {
            Ok(()) => {
                acknowledged.push(i);
                taken += 1;
            }
            Err(reason) => {
                assert!(is_disk_refusal(service, &reason), "{reason}");
                refused.push(i);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        i += 1;
    }
    for &r in &refused {
        assert_eq!(client.get_len(&key(r)), None, "refused {} is there", key(r));
    }
    drop(client);
    let stopped = server.stop();
    stopped.assert_clean();
    // docs/PROTOCOLS.md §5: every error reply is counted, whichever shard decided it.
    assert_eq!(
        stopped.json["services"][service]["errors"].as_u64(),
        Some(refused.len() as u64),
        "errors counted; stderr:\n{}",
        stopped.stderr
    );

    // A restart needs no --data-repair and holds exactly what was
    // acknowledged.
    let other_shards = if shards == "1" { "4" } else { "1" };
    let server = disk.serve(service, &["--shards", other_shards, "--fsync", fsync]);
    let mut client = Client::connect(service, server.addr(service));
    for &a in &acknowledged {
        assert_eq!(
            client.get_len(&key(a)),
            Some(VALUE_LEN),
            "acknowledged {}",
            key(a)
        );
    }
    for &r in &refused {
        assert_eq!(
            client.get_len(&key(r)),
            None,
            "refused {} came back",
            key(r)
        );
    }
    drop(client);
    let stopped = server.stop();
    stopped.assert_clean();
    let loaded: u64 = stopped.json["persistence"]
        .as_array()
        .expect("a persistence section")
        .iter()
        .map(|shard| shard["keys_loaded"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(loaded, acknowledged.len() as u64, "keys loaded");
    assert!(
        !stopped.stderr.contains("torn") && !stopped.stderr.contains("corrupt"),
        "the log after a full disk: {}",
        stopped.stderr
    );
}

#[test]
fn kv_one_shard_always_refused_writes_are_not_applied() {
    refused_writes_are_not_applied("kv", "1", "always");
}

#[test]
fn kv_four_shards_always_forwarded_refused_writes_are_not_applied() {
    refused_writes_are_not_applied("kv", "4", "always");
}

#[test]
fn kv_four_shards_everysec_refusals_are_counted_and_nothing_acknowledged_is_lost() {
    refused_writes_are_not_applied("kv", "4", "everysec");
}

#[test]
fn resp_four_shards_always_refused_writes_are_not_applied() {
    refused_writes_are_not_applied("resp", "4", "always");
}

#[test]
fn resp_one_shard_everysec_refusals_are_counted_and_nothing_acknowledged_is_lost() {
    refused_writes_are_not_applied("resp", "1", "everysec");
}

/// Many connections on a full disk under `always`: group commits carry
/// several batches' records, and a failed one fails every batch whose
/// records it dropped, also those that were waiting for their turn to
/// flush; a batch's writes on other shards stand as their owners answered.
/// Whatever each client was told is what a restart finds.
fn concurrent_writers_are_told_what_a_restart_finds(service: &'static str) {
    let Some(disk) = SmallDisk::new() else {
        return;
    };
    let server = disk.serve(service, &["--shards", "4", "--fsync", "always"]);
    disk.fill(4 << 20);
    let addr = server.addr(service);
    let value_len = 20_000;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            std::thread::spawn(move || {
                let mut client = Client::connect(service, addr);
                let value = "w".repeat(value_len);
                let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
                let give_up = Instant::now() + Duration::from_secs(60);
                let mut i = 0;
                while refused.len() < 8 {
                    assert!(Instant::now() < give_up, "no write refused in 60 s");
                    // Four writes per batch, to shards of all kinds.
                    let keys: Vec<String> = (i..i + 4).map(|i| format!("w{w}-{i:05}")).collect();
                    for (key, reply) in keys.iter().zip(client.put_many(&keys, &value)) {
                        match reply {
                            Ok(()) => acknowledged.push(key.clone()),
                            Err(reason) => {
                                assert!(is_disk_refusal(service, &reason), "{reason}");
                                refused.push(key.clone());
                            }
                        }
                    }
                    i += 4;
                }
                for key in &refused {
                    assert!(client.get_len(key).is_none(), "refused {key} is there");
                }
                (acknowledged, refused)
            })
        })
        .collect();
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    for writer in writers {
        let (a, r) = writer.join().expect("a writer");
        acknowledged.extend(a);
        refused.extend(r);
    }
    disk.free();
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(
        stopped.json["services"][service]["errors"].as_u64(),
        Some(refused.len() as u64)
    );

    let server = disk.serve(service, &["--shards", "2", "--fsync", "always"]);
    let mut client = Client::connect(service, server.addr(service));
    for key in &acknowledged {
        assert_eq!(client.get_len(key), Some(value_len), "acknowledged {key}");
    }
    for key in &refused {
        assert_eq!(client.get_len(key), None, "refused {key} came back");
    }
    drop(client);
    let stopped = server.stop();
    stopped.assert_clean();
    assert!(!stopped.stderr.contains("torn"), "{}", stopped.stderr);
}

#[test]
fn kv_always_a_failed_group_commit_fails_every_batch_it_dropped() {
    concurrent_writers_are_told_what_a_restart_finds("kv");
}

#[test]
fn resp_always_a_failed_group_commit_fails_every_batch_it_dropped() {
    concurrent_writers_are_told_what_a_restart_finds("resp");
}
