//! TLS for every service (docs/PROTOCOLS.md §9), against the real binary: certificates
//! made with openssl, clients on rustls and Python's ssl, plain and TLS
//! listeners of one service side by side.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::certs::{tls_connect, Certs, TlsClient};
use crate::common::*;
use percore_protocols::kv::protocol::push_request_frame;
use percore_protocols::kv::Request;

/// A server with every service on its plain address and on a TLS one.
struct TlsServer {
    server: Server,
    certs: Certs,
}

impl TlsServer {
    fn start(extra: &[&str]) -> TlsServer {
        let certs = Certs::new();
        let builder = SERVICES
            .iter()
            .fold(TestServer::builder(), |b, service| {
                b.listen(service, "tls://127.0.0.1:0")
            })
            .tls(&certs)
            .args(extra);
        TlsServer {
            server: builder.start(),
            certs,
        }
    }

    fn tls_addr(&self, service: &str) -> SocketAddr {
        self.server.tls_addr(service)
    }

    fn connect(&self, service: &str) -> TlsClient {
        tls_connect(self.tls_addr(service), &self.certs.path("ca.pem"), None)
            .expect("a TLS handshake")
    }
}

#[test]
fn every_service_answers_over_tls_as_over_tcp() {
    let server = TlsServer::start(&[]);
    // yell, echo, chat.
    let mut yell = server.connect("yell");
    yell.write_all(b"hello, world\n").unwrap();
    let mut yell = BufReader::new(yell);
    assert_eq!(read_line(&mut yell), "HELLO, WORLD\n");
    let mut echo = server.connect("echo");
    echo.write_all(b"raw \x00 bytes").unwrap();
    let mut got = [0u8; 11];
    echo.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"raw \x00 bytes");
    let mut chat = server.connect("chat");
    chat.write_all(b"hi\r\n.\r\n").unwrap();
    let mut chat = BufReader::new(chat);
    assert_eq!(read_line(&mut chat), "You sent: hi\r\n");
    assert_eq!(read_line(&mut chat), "", "chat's . closes");

    // mq: subscribers on TLS and on plain TCP, a sender on TLS; with four
    // shards, they are spread over them.
    let subscribe = b"{\"command\": \"subscribe\", \"topic\": \"t\"}\n";
    let mut tls_subscribers: Vec<BufReader<TlsClient>> = (0..4)
        .map(|_| {
            let mut s = server.connect("mq");
            s.write_all(subscribe).unwrap();
            BufReader::new(s)
        })
        .collect();
    let mut plain_subscriber = BufReader::new(server.server.connect("mq"));
    plain_subscriber.get_mut().write_all(subscribe).unwrap();
    // Each subscriber sees its own hello: then every subscription is known.
    for (i, s) in tls_subscribers.iter_mut().enumerate() {
        let hello =
            format!("{{\"command\": \"send\", \"topic\": \"t\", \"msg\": \"hello {i}\"}}\n");
        s.get_mut().write_all(hello.as_bytes()).unwrap();
        while !read_line(s).contains(&format!("hello {i}")) {}
    }
    let hello = "{\"command\": \"send\", \"topic\": \"t\", \"msg\": \"hello plain\"}\n";
    plain_subscriber
        .get_mut()
        .write_all(hello.as_bytes())
        .unwrap();
    while !read_line(&mut plain_subscriber).contains("hello plain") {}
    let mut sender = server.connect("mq");
    let line = "{\"command\": \"send\", \"topic\": \"t\", \"msg\": \"over tls\"}\n";
    sender.write_all(line.as_bytes()).unwrap();
    for s in tls_subscribers.iter_mut() {
        while read_line(s) != line {}
    }
    while read_line(&mut plain_subscriber) != line {}

    // kv: keys on every shard, through one TLS connection.
    let mut kv = server.connect("kv");
    for i in 0..32 {
        let (key, val) = (format!("key{i}"), format!("val{i}"));
        let mut frames = Vec::new();
        push_request_frame(
            &mut frames,
            &Request::Put {
                key: &key,
                val: &val,
            },
        );
        push_request_frame(&mut frames, &Request::Get { key: &key });
        kv.write_all(&frames).unwrap();
        let mut nil = [0u8; 5];
        kv.read_exact(&mut nil).unwrap();
        assert_eq!(&nil, b"\0\0\0\x01\xc0");
        let mut header = [0u8; 4];
        kv.read_exact(&mut header).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
        kv.read_exact(&mut body).unwrap();
        assert!(body.ends_with(val.as_bytes()), "{body:?}");
    }

    let stopped = server.server.stop();
    assert_eq!(stopped.status.code(), Some(0), "{}", stopped.stderr);
    for service in SERVICES {
        assert_eq!(
            stopped.json["services"][service]["tls_errors"], 0,
            "{service}"
        );
    }
    assert!(
        stopped.stdout.contains("tls://127.0.0.1:"),
        "{}",
        stopped.stdout
    );
}

#[test]
fn the_seed_python_kv_client_runs_its_session_over_tls() {
    let server = TlsServer::start(&[]);
    let addr = server.tls_addr("kv");
    let args = [
        "localhost".to_string(),
        addr.port().to_string(),
        server.certs.path_str("ca.pem"),
    ];
    assert_eq!(
        run_python_client("msgspec_kv_client_tls.py", &args),
        SEED_KV_SESSION
    );
}

#[test]
fn garbage_and_plain_text_on_a_tls_port_fail_the_handshake_and_disturb_no_one() {
    let server = TlsServer::start(&[]);
    let mut bystander = BufReader::new(server.connect("yell"));
    for garbage in [
        &b"plain text, not TLS\n"[..],
        b"\x16\x03\x01\x00\x05hello",
        b"\x00\xff\x00\xff",
    ] {
        let mut conn = TcpStream::connect(server.tls_addr("yell")).unwrap();
        conn.set_read_timeout(Some(DEADLINE)).unwrap();
        conn.write_all(garbage).unwrap();
        assert!(closed_after_an_alert(&mut conn), "{garbage:?}");
    }
    bystander.get_mut().write_all(b"still here\n").unwrap();
    assert_eq!(read_line(&mut bystander), "STILL HERE\n");
    // A client that trusts another CA fails too.
    let stranger = tls_connect(
        server.tls_addr("yell"),
        &server.certs.path("other-ca.pem"),
        None,
    );
    assert!(stranger.is_err());
    let stopped = server.server.stop();
    let yell = &stopped.json["services"]["yell"];
    assert!(yell["tls_errors"].as_u64() >= Some(3), "{yell}");
    assert_eq!(yell["panics"], 0);
}

#[test]
fn a_client_that_never_handshakes_is_closed_after_the_deadline() {
    let server = TlsServer::start(&[]);
    let mut silent = TcpStream::connect(server.tls_addr("echo")).unwrap();
    silent.set_read_timeout(Some(DEADLINE)).unwrap();
    let began = Instant::now();
    assert!(is_closed_by_server(&mut silent));
    let waited = began.elapsed();
    assert!(waited >= Duration::from_secs(9), "closed after {waited:?}");
    let stopped = server.server.stop();
    assert_eq!(stopped.json["services"]["echo"]["tls_errors"], 1);
}

#[test]
fn mutual_tls_admits_the_ca_s_clients_and_refuses_others() {
    let certs = Certs::new();
    let server = TestServer::builder()
        .services(&["yell"])
        .args(&[
            "--yell",
            "tls://127.0.0.1:0",
            "--tls-cert",
            &certs.path_str("server.pem"),
            "--tls-key",
            &certs.path_str("server.key"),
            "--tls-client-ca",
            &certs.path_str("ca.pem"),
        ])
        .start();
    let addr = server.tls_addr("yell");
    let ca = certs.path("ca.pem");
    let identity = (certs.path("client.pem"), certs.path("client.key"));
    let mut admitted = tls_connect(addr, &ca, Some((&identity.0, &identity.1))).expect("admitted");
    admitted.write_all(b"mutual\n").unwrap();
    let mut admitted = BufReader::new(admitted);
    assert_eq!(read_line(&mut admitted), "MUTUAL\n");

    // Without a certificate, or with another CA's: the server refuses. In
    // TLS 1.3 the client may finish first; then its first read fails.
    let stranger = (certs.path("stranger.pem"), certs.path("stranger.key"));
    for identity in [None, Some((stranger.0.as_path(), stranger.1.as_path()))] {
        let refused = tls_connect(addr, &ca, identity).and_then(|mut conn| {
            conn.write_all(b"let me in\n")?;
            let mut line = String::new();
            BufReader::new(conn).read_line(&mut line)?;
            Ok(line)
        });
        assert!(
            refused.as_ref().map_or(true, |line| line.is_empty()),
            "{refused:?}"
        );
    }
    let stopped = server.stop();
    assert_eq!(stopped.json["services"]["yell"]["tls_errors"], 2);
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections_only() {
    let mut server = TlsServer::start(&[]);
    let stderr = lines_of(server.server.take_stderr());
    let old = server.connect("yell");
    assert_eq!(peer_certificate(&old), server.certs.der("server.pem"));

    // The new certificate under the same file names, then SIGHUP.
    std::fs::copy(
        server.certs.path("server2.pem"),
        server.certs.path("server.pem"),
    )
    .unwrap();
    std::fs::copy(
        server.certs.path("server2.key"),
        server.certs.path("server.key"),
    )
    .unwrap();
    server.server.signal(libc::SIGHUP);
    wait_for_line(&stderr, "reloaded line", |line| line.contains("reloaded"));
    let new = server.connect("yell");
    assert_eq!(peer_certificate(&new), server.certs.der("server2.pem"));

    // The old connection keeps its session and is served.
    let mut old = BufReader::new(old);
    old.get_mut().write_all(b"old\n").unwrap();
    assert_eq!(read_line(&mut old), "OLD\n");

    // A reload that fails keeps what was loaded, and says why.
    std::fs::write(server.certs.path("server.key"), "not a key").unwrap();
    server.server.signal(libc::SIGHUP);
    let why = wait_for_line(&stderr, "reload failed line", |line| {
        line.contains("reload failed")
    });
    assert!(why.contains("server.key"), "{why}");
    let after = server.connect("yell");
    assert_eq!(peer_certificate(&after), server.certs.der("server2.pem"));
    assert_eq!(server.server.stop().status.code(), Some(0));
}

/// The server may send a TLS alert before it closes: read past it.
fn closed_after_an_alert(conn: &mut TcpStream) -> bool {
    let mut scratch = [0u8; 1024];
    for _ in 0..64 {
        match conn.read(&mut scratch) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return matches!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }
    }
    false
}

fn peer_certificate(conn: &TlsClient) -> Vec<u8> {
    conn.conn.peer_certificates().expect("a server certificate")[0].to_vec()
}

#[test]
fn missing_mismatched_or_absent_certificates_exit_2_naming_the_file() {
    let certs = Certs::new();
    let tls_addr = "tls://127.0.0.1:0".to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "--tls-cert".into(),
                "/nonexistent/cert.pem".into(),
                "--tls-key".into(),
                certs.path_str("server.key"),
            ],
            "/nonexistent/cert.pem".into(),
        ),
        (
            vec![
                "--tls-cert".into(),
                certs.path_str("server.pem"),
                "--tls-key".into(),
                certs.path_str("client.key"),
            ],
            certs.path_str("server.pem"),
        ),
        (vec![], "--tls-cert".into()),
    ];
    for (tls_args, named) in cases {
        let mut argv: Vec<String> = vec![
            "serve".into(),
            "--services".into(),
            "yell".into(),
            "--yell".into(),
            tls_addr.clone(),
        ];
        argv.extend(tls_args);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let (output, _) = run_percore(&argv);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{argv:?}: {stderr}");
        assert!(stderr.contains(&named), "{argv:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn percore_kv_and_percore_load_talk_tls() {
    let server = TlsServer::start(&[]);
    let ca = server.certs.path_str("ca.pem");
    let kv = server.tls_addr("kv").to_string();
    let (put, _) = run_percore(&[
        "kv", "--addr", &kv, "--tls", "--tls-ca", &ca, "put", "k", "over tls",
    ]);
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let (get, _) = run_percore(&["kv", "--addr", &kv, "--tls", "--tls-ca", &ca, "get", "k"]);
    assert_eq!(String::from_utf8_lossy(&get.stdout), "\"over tls\"\n");
    // Trusting another CA, the client refuses the server: exit 2.
    let other = server.certs.path_str("other-ca.pem");
    let (refused, _) = run_percore(&["kv", "--addr", &kv, "--tls", "--tls-ca", &other, "get", "k"]);
    assert_eq!(refused.status.code(), Some(2));

    let yell = server.tls_addr("yell").to_string();
    let dir = TempDir::new();
    let json = dir.path.join("load.json");
    let json_arg = json.to_string_lossy().into_owned();
    let (load, _) = run_percore(&[
        "load",
        "yell",
        "--addr",
        &yell,
        "--tls",
        "--tls-ca",
        &ca,
        "--conns",
        "4",
        "--pipeline",
        "8",
        "--requests",
        "4000",
        "--quiet",
        "--json",
        &json_arg,
    ]);
    assert!(
        load.status.success(),
        "{}",
        String::from_utf8_lossy(&load.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["errors"], 0, "{report}");
    let stopped = server.server.stop();
    assert_eq!(stopped.json["services"]["yell"]["messages"], 4000);
    assert_eq!(stopped.json["services"]["kv"]["messages"], 2);
}

#[test]
fn tls_1_2_and_1_3_are_both_served() {
    let server = TlsServer::start(&[]);
    let ca = server.certs.path("ca.pem");
    for (version, expected) in [
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ] {
        let conn =
            crate::common::certs::tls_connect_with(server.tls_addr("yell"), &ca, None, &[version])
                .expect("a handshake");
        assert_eq!(conn.conn.protocol_version(), Some(expected));
        let mut conn = BufReader::new(conn);
        conn.get_mut().write_all(b"version\n").unwrap();
        assert_eq!(read_line(&mut conn), "VERSION\n");
    }
}
