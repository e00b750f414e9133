//! Faults and limits, docs/PROTOCOLS.md §2 and §4: bind failures and usage errors exit 2,
//! `--idle-timeout`, `--max-conns`, garbage and resets never hurt a shard.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::common::embedded::Embedded;
use crate::common::http::scrape_sum;
use crate::common::*;
use percore::server::outbox::Outbox;
use percore::server::ShardContext;
use percore::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use percore_protocols::kv::protocol::push_request_frame;
use percore_protocols::kv::Request;
use percore_protocols::{Chat, Echo, KvFactory, MqFactory, RespFactory, Yell};
use std::rc::Rc;

/// Runs `percore serve ARGS`, expecting it to fail fast; returns its stderr.
fn serve_fails(args: &[&str]) -> (Option<i32>, Duration, String) {
    let mut argv = vec!["serve"];
    argv.extend_from_slice(args);
    let (output, elapsed) = run_percore(&argv);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), elapsed, stderr)
}

#[test]
fn an_address_in_use_exits_2_naming_service_and_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, elapsed, stderr) = serve_fails(&[
        "--shards",
        "4",
        "--services",
        "yell,chat",
        "--yell",
        "127.0.0.1:0",
        "--chat",
        &addr,
    ]);
    assert_eq!(code, Some(2));
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("chat") && stderr.contains(&addr),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_second_percore_on_the_same_port_is_refused() {
    let server = TestServer::builder().services(&["yell"]).start();
    let yell = server.addr("yell").to_string();
    let (code, _, stderr) = serve_fails(&["--services", "yell", "--yell", &yell]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("yell") && stderr.contains(&yell),
        "{stderr}"
    );
    // The first server still has its port to itself.
    let mut conn = server.connect("yell");
    assert_eq!(round_trip(&mut conn, b"mine\n", 5), b"MINE\n");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--yell", "127.0.0.1:65536"][..],
        &["--yell", "nowhere"],
        &["--services", "yell,gopher"],
        &["--mq-queue-bytes", "0"],
        &["--shards", "0"],
        &["--max-frame", "lots"],
    ] {
        let (code, _, stderr) = serve_fails(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            !stderr.is_empty() && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn idle_timeout_closes_a_silent_connection() {
    let server = TestServer::builder()
        .services(&["yell", "chat"])
        .args(&["--idle-timeout", "0.3"])
        .start();
    let mut talker = server.connect("yell");
    assert_eq!(round_trip(&mut talker, b"hi\n", 3), b"HI\n");
    let mut silent = server.connect("chat");
    assert!(is_closed_by_server(&mut silent));
    assert!(is_closed_by_server(&mut talker));
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["chat"]["idle_closes"], 1);
    assert_eq!(stopped.json["services"]["yell"]["idle_closes"], 1);
    assert_eq!(stopped.json["services"]["yell"]["messages"], 1);
}

#[test]
fn connections_beyond_max_conns_are_closed_and_counted() {
    // One connection per shard: with 4 shards, some of 8 must be refused.
    let server = TestServer::builder()
        .services(&["yell"])
        .args(&["--max-conns", "1"])
        .start();
    let mut kept = Vec::new();
    let mut refused = 0;
    for _ in 0..8 {
        let mut conn = server.connect("yell");
        conn.write_all(b"ping\n").unwrap();
        if is_closed_by_server(&mut conn) {
            refused += 1;
        } else {
            assert_eq!(read_n(&mut conn, 4), b"ING\n");
            kept.push(conn);
        }
    }
    assert!(refused >= 4, "only {refused} refused");
    assert!(kept.len() <= 4);
    let stopped = server.stop();
    let yell = &stopped.json["services"]["yell"];
    assert_eq!(yell["rejected_connections"], refused);
    assert_eq!(yell["connections"], kept.len());
}

#[test]
fn garbage_and_resets_leave_every_service_serving() {
    let server = TestServer::builder().args(&["--max-frame", "4096"]).start();
    // A small xorshift: the same "random" garbage on every run.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for service in SERVICES {
        for round in 0..20 {
            let conn = server.connect(service);
            let garbage: Vec<u8> = (0..(next() % 20_000)).map(|_| next() as u8).collect();
            let mut writer = conn.try_clone().unwrap();
            let _ = writer.write_all(&garbage);
            if round % 2 == 0 {
                reset(conn);
            }
        }
    }
    let mut kv_get = Vec::new();
    push_request_frame(&mut kv_get, &Request::Get { key: "still here" });
    for service in SERVICES {
        let mut conn = server.connect(service);
        let (request, expected): (&[u8], &[u8]) = match service {
            "yell" => (b"still here\n", b"STILL HERE\n"),
            "echo" => (b"still here\n", b"still here\n"),
            "kv" => (&kv_get, b"\0\0\0\x01\xc0"),
            "resp" => (b"PING \"still here\"\r\n", b"$10\r\nstill here\r\n"),
            "mq" => (
                b"{'command': 'subscribe', 'topic': 's'}\n{'command': 'send', 'topic': 's', 'msg': 'still here'}\n",
                b"{'command': 'send', 'topic': 's', 'msg': 'still here'}\n",
            ),
            _ => (b"still here\n", b"You sent: still here\r\n"),
        };
        assert_eq!(round_trip(&mut conn, request, expected.len()), expected);
    }
    let stopped = server.stop();
    assert_eq!(stopped.status.code(), Some(0));
    for service in SERVICES {
        assert_eq!(stopped.json["services"][service]["panics"], 0);
    }
}

/// A request holding these bytes makes [`Panicking`] panic.
const TRIGGER: &[u8] = b"please panic";

/// A built-in service, wrapped so that a read holding [`TRIGGER`] panics
/// inside the service, as a bug would: the product carries no such hook.
#[derive(Clone)]
struct Panicking<F>(F);

struct PanickingService<S>(S);

impl<F: ServiceFactory> ServiceFactory for Panicking<F> {
    type Service = PanickingService<F::Service>;

    fn prepare(&mut self, shards: usize) {
        self.0.prepare(shards)
    }

    async fn start(&self, shard: &ShardContext) -> Result<Self::Service, StartError> {
        Ok(PanickingService(self.0.start(shard).await?))
    }
}

impl<S: Service> Service for PanickingService<S> {
    type Decoder = S::Decoder;
    type Session = S::Session;

    fn open_session(&self, opening: &mut Opening<'_>) -> S::Session {
        self.0.open_session(opening)
    }

    async fn serve(&self, session: &mut S::Session, batch: &mut Batch<'_, S::Decoder>) -> Flow {
        if batch
            .remaining()
            .windows(TRIGGER.len())
            .any(|w| w == TRIGGER)
        {
            panic!("test fault injection: a request asked for a panic");
        }
        self.0.serve(session, batch).await
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        self.0.frame_too_long(out)
    }

    fn outbox(&self, session: &S::Session) -> Option<Rc<Outbox>> {
        self.0.outbox(session)
    }

    fn close_session(&self, session: S::Session) {
        self.0.close_session(session)
    }
}

#[test]
fn a_panic_ends_only_its_own_connection() {
    // One shard: the connections after the panics are on the shard that
    // panicked. Four: kv's forwarding and mq's topic tables survive too.
    for shards in [1, 4] {
        panic_one_connection_per_service(shards);
    }
}

/// On every service, a victim connection sends the trigger and is closed by
/// its panic, while a bystander is served before and after, and newcomers
/// are served.
fn panic_one_connection_per_service(shards: usize) {
    let server = Embedded::start(shards, &SERVICES, |builder, addrs| {
        let at = |name: &str| addrs.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        builder
            .service("yell", at("yell"), Panicking(Yell))
            .service("echo", at("echo"), Panicking(Echo))
            .service("chat", at("chat"), Panicking(Chat))
            .service("mq", at("mq"), Panicking(MqFactory::default()))
            .service("kv", at("kv"), Panicking(KvFactory::default()))
            .service("resp", at("resp"), Panicking(RespFactory::default()))
    });
    let mut bystanders: Vec<TcpStream> = SERVICES.iter().map(|s| server.connect(s)).collect();
    for (service, bystander) in SERVICES.iter().zip(&mut bystanders) {
        let (request, reply) = probe(service);
        assert_eq!(round_trip(bystander, &request, reply.len()), reply);
    }
    // An mq subscriber that will stay, and one that will panic: both
    // subscribed to "t" for sure (each has seen its own line come back).
    let mut listener = server.connect("mq");
    mq_subscribe(&mut listener, "t", "listener here");
    for service in SERVICES {
        let mut victim = server.connect(service);
        if service == "mq" {
            mq_subscribe(&mut victim, "t", "victim here");
        }
        let request = match service {
            "kv" => {
                let mut put = Vec::new();
                let val = String::from_utf8(TRIGGER.to_vec()).unwrap();
                push_request_frame(
                    &mut put,
                    &Request::Put {
                        key: "k",
                        val: &val,
                    },
                );
                put
            }
            _ => [TRIGGER, b"\n"].concat(),
        };
        victim.write_all(&request).unwrap();
        assert!(is_closed_by_server(&mut victim), "{service}: still open");
    }
    for (service, bystander) in SERVICES.iter().zip(&mut bystanders) {
        let (request, reply) = probe(service);
        assert_eq!(
            round_trip(bystander, &request, reply.len()),
            reply,
            "{service}"
        );
        let mut newcomer = server.connect(service);
        assert_eq!(
            round_trip(&mut newcomer, &request, reply.len()),
            reply,
            "{service}"
        );
    }
    // Keys on every shard are still served, and "t" still reaches its listener.
    let mut kv = server.connect("kv");
    for i in 0..32 {
        let key = format!("key{i}");
        let mut put = Vec::new();
        push_request_frame(
            &mut put,
            &Request::Put {
                key: &key,
                val: "v",
            },
        );
        assert_eq!(round_trip(&mut kv, &put, 5), b"\0\0\0\x01\xc0");
    }
    let mut sender = server.connect("mq");
    let line = b"{\"command\": \"send\", \"topic\": \"t\", \"msg\": \"after\"}\n";
    sender.write_all(line).unwrap();
    // The victim's hello came to the listener first.
    let hello = read_line_unbuffered(&mut listener);
    assert!(String::from_utf8_lossy(&hello).contains("victim here"));
    assert_eq!(read_line_unbuffered(&mut listener), line);

    let stopped = server.stop();
    for service in SERVICES {
        assert_eq!(stopped["services"][service]["panics"], 1, "{service}");
    }
    // The victim's subscription went with it: only the listener is left.
    assert_eq!(stopped["services"]["mq"]["subscribers"], 1);
}

/// Subscribes to `topic`, then sends `hello` to it and waits for it to come
/// back: from then on, the subscription is known everywhere.
fn mq_subscribe(conn: &mut TcpStream, topic: &str, hello: &str) {
    let subscribe = serde_json::json!({"command": "subscribe", "topic": topic});
    let send = serde_json::json!({"command": "send", "topic": topic, "msg": hello});
    let send = format!("{send}\n");
    conn.write_all(format!("{subscribe}\n{send}").as_bytes())
        .unwrap();
    while read_line_unbuffered(conn) != send.as_bytes() {}
}

#[test]
fn half_closed_clients_still_get_their_replies() {
    let server = TestServer::builder().start();
    for service in SERVICES {
        let (request, reply) = probe(service);
        let mut conn = server.connect(service);
        // Three requests in one write, then the write side shut.
        conn.write_all(&request.repeat(3)).unwrap();
        conn.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(read_to_close(&mut conn), reply.repeat(3), "{service}");
    }
}

#[test]
fn a_client_sending_one_byte_per_100ms_is_answered_and_stalls_no_one() {
    let server = TestServer::builder().services(&["yell", "kv"]).start();
    for service in ["yell", "kv"] {
        let (request, reply) = probe(service);
        let mut trickler = server.connect(service);
        let mut writer = trickler.try_clone().unwrap();
        let trickle = std::thread::spawn(move || {
            for byte in request {
                writer.write_all(&[byte]).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        // Meanwhile another client on the same service is served at once,
        // many times over.
        let (quick, quick_reply) = probe(service);
        let mut other = server.connect(service);
        for _ in 0..20 {
            assert_eq!(
                round_trip(&mut other, &quick, quick_reply.len()),
                quick_reply
            );
        }
        trickle.join().unwrap();
        assert_eq!(read_n(&mut trickler, reply.len()), reply, "{service}");
    }
}

#[test]
fn a_thousand_resets_mid_frame_leave_every_service_serving() {
    let server = TestServer::builder()
        .args(&["--metrics", "127.0.0.1:0"])
        .start();
    for service in SERVICES {
        let (request, reply) = probe(service);
        for _ in 0..200 {
            let mut conn = server.connect(service);
            // Half a request, then a reset.
            conn.write_all(&request[..request.len() / 2]).unwrap();
            reset(conn);
        }
        let mut conn = server.connect(service);
        assert_eq!(
            round_trip(&mut conn, &request, reply.len()),
            reply,
            "{service}"
        );
    }
    // Each shard accepts from its own queue (SO_REUSEPORT): the probe's
    // reply says its shard took every connection before it, not that the
    // others did, and a stop stops accepting (docs/PROTOCOLS.md "Stopping"):
    // wait until every reset connection was accepted (README "Live metrics").
    let metrics = server.metrics_addr();
    for service in SERVICES {
        wait_until(&format!("{service}'s 201 connections accepted"), || {
            scrape_sum(metrics, "percore_connections_accepted_total", Some(service)) == 201.0
        });
    }
    let stopped = server.stop();
    for service in SERVICES {
        let served = &stopped.json["services"][service];
        assert_eq!(served["panics"], 0, "{service}");
        assert_eq!(served["connections"], 201, "{service}");
    }
}

#[test]
fn ten_thousand_open_connections_while_others_are_served() {
    let limit = raise_fd_limit();
    if limit < 12_000 {
        // The hard limit is this machine's; without room the test means nothing.
        panic!("the open-file hard limit ({limit}) is too low for 10,000 connections");
    }
    let server = TestServer::builder().services(&["yell"]).start();
    let addr = server.addr("yell");
    let idle: Vec<TcpStream> = (0..10_000).map(|_| connect(addr)).collect();
    // Every one of them is accepted and served, and a newcomer too.
    let mut newcomer = server.connect("yell");
    assert_eq!(round_trip(&mut newcomer, b"new\n", 4), b"NEW\n");
    for mut conn in idle.iter().step_by(97) {
        conn.write_all(b"old\n").unwrap();
        let mut reply = [0u8; 4];
        std::io::Read::read_exact(&mut conn, &mut reply).unwrap();
        assert_eq!(&reply, b"OLD\n");
    }
    drop(idle);
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["yell"]["connections"], 10_001);
    assert_eq!(stopped.json["services"]["yell"]["rejected_connections"], 0);
}

#[test]
fn a_kv_client_that_pipelines_without_reading_does_not_grow_the_server() {
    let server = TestServer::builder().services(&["kv"]).start();
    let mut setup = server.connect("kv");
    let mut put = Vec::new();
    let value = "v".repeat(100);
    push_request_frame(
        &mut put,
        &Request::Put {
            key: "k",
            val: &value,
        },
    );
    assert_eq!(round_trip(&mut setup, &put, 5), b"\0\0\0\x01\xc0");
    let before = proc_status_bytes(server.pid(), "VmRSS:");

    // Gets, 100,000 at a time, and never a read, until the server stops
    // taking them: nothing writable for half a second.
    let mut get = Vec::new();
    push_request_frame(&mut get, &Request::Get { key: "k" });
    let requests = get.repeat(100_000);
    let mut greedy = server.connect("kv");
    greedy.set_nonblocking(true).unwrap();
    let mut sent = 0usize;
    loop {
        match greedy.write(&requests[sent % requests.len()..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let mut pollfd = libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(&greedy),
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: poll on one valid descriptor.
                if unsafe { libc::poll(&mut pollfd, 1, 500) } == 0 {
                    break;
                }
            }
            Err(e) => panic!("writing to kv: {e}"),
        }
    }
    assert!(sent >= get.len() * 100_000, "only {sent} bytes taken");
    // Others are still served, and the server holds at most one read's
    // worth of replies for the greedy one.
    for _ in 0..50 {
        assert_eq!(round_trip(&mut setup, &put, 5), b"\0\0\0\x01\xc0");
    }
    let grown = proc_status_bytes(server.pid(), "VmRSS:").saturating_sub(before);
    assert!(
        grown < 16 << 20,
        "RSS grew by {grown} bytes after {sent} bytes of Gets"
    );
    drop(greedy);
}

#[test]
fn replies_far_larger_than_their_requests_are_written_within_a_budget() {
    // One shard serves every key itself; four forward most Gets.
    for shards in [1, 4] {
        let grown = peak_rss_growth_for_amplified_gets(shards);
        eprintln!("{shards} shard(s): peak RSS grew by {grown} bytes");
        assert!(
            grown < 64 << 20,
            "{shards} shard(s): the server's peak RSS grew by {grown} bytes for 540 MB of replies"
        );
    }
}

/// Sends 600 Gets of 900 kB values in one 12 kB write, reads and checks
/// every reply, and returns how much the server's peak RSS grew meanwhile.
fn peak_rss_growth_for_amplified_gets(shards: usize) -> u64 {
    // One key per owner shard, so that wherever the connection lands, its
    // Gets are served both locally and across shards.
    let keys: Vec<String> = (0..shards)
        .map(|owner| {
            (0..)
                .map(|i| format!("big{i}"))
                .find(|key| percore::cross_shard::owner_of(key.as_bytes(), shards) == owner)
                .unwrap()
        })
        .collect();
    let value = "v".repeat(900_000);
    let server = TestServer::builder()
        .services(&["kv"])
        .shards(shards)
        .start();
    let mut client = server.connect("kv");
    for key in &keys {
        let mut put = Vec::new();
        push_request_frame(&mut put, &Request::Put { key, val: &value });
        assert_eq!(round_trip(&mut client, &put, 5), b"\0\0\0\x01\xc0");
    }
    let peak_before = proc_status_bytes(server.pid(), "VmHWM:");

    const GETS: usize = 600;
    let mut gets = Vec::new();
    for i in 0..GETS {
        push_request_frame(
            &mut gets,
            &Request::Get {
                key: &keys[i % shards],
            },
        );
    }
    client.write_all(&gets).unwrap();
    let mut header = [0u8; 4];
    let mut body = vec![0u8; 1 << 20];
    for i in 0..GETS {
        client
            .read_exact(&mut header)
            .unwrap_or_else(|e| panic!("reply {i}: {e}"));
        let len = u32::from_be_bytes(header) as usize;
        assert_eq!(len, 5 + value.len(), "reply {i}");
        client.read_exact(&mut body[..len]).unwrap();
        assert_eq!(&body[..5], b"\xdb\0\x0d\xbb\xa0", "reply {i}");
        assert!(body[5..len].iter().all(|&b| b == b'v'), "reply {i}");
    }
    proc_status_bytes(server.pid(), "VmHWM:").saturating_sub(peak_before)
}
