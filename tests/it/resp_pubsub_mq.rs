//! mq and resp share one set of topics (docs/PROTOCOLS.md §6.3), on 4 shards: an mq send
//! reaches resp subscribers as its `msg`, a PUBLISH reaches mq subscribers
//! as a JSON send line, counts include both, one sender's messages keep
//! their order for subscribers of either protocol, and a slow resp
//! subscriber is capped by `--mq-queue-bytes` as mq's are.

use std::io::Write;

use crate::common::mq::Client as Mq;
use crate::common::resp::Resp;
use crate::common::*;
use percore_protocols::resp::protocol::encode_command;

/// `message` (or `pmessage` for `pattern`) as a RESP2 array or RESP3 push.
fn message(push: bool, pattern: Option<&str>, channel: &str, payload: &[u8]) -> Vec<u8> {
    let mut words: Vec<&[u8]> = vec![if pattern.is_some() {
        b"pmessage"
    } else {
        b"message"
    }];
    words.extend(pattern.map(str::as_bytes));
    words.extend([channel.as_bytes(), payload]);
    let mut frame = Vec::new();
    encode_command(words.iter().copied(), &mut frame);
    if push {
        frame[0] = b'>';
    }
    frame
}

#[test]
fn mq_and_resp_share_one_set_of_topics() {
    let server = TestServer::builder().services(&["resp", "mq"]).start();
    let mut mq = Mq::connect(&server);
    mq.subscribe("t", "mq");
    let mut resp2 = Resp::connect(server.addr("resp"));
    assert_eq!(
        resp2.cmd("SUBSCRIBE t"),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nt\r\n:1\r\n"
    );
    let mut resp3 = Resp::connect(server.addr("resp"));
    resp3.cmd("HELLO 3");
    assert_eq!(
        resp3.cmd("PSUBSCRIBE t*"),
        ">3\r\n$10\r\npsubscribe\r\n$2\r\nt*\r\n:1\r\n"
    );

    // An mq send: resp subscribers get its msg, escapes decoded.
    let mut sender = Mq::connect(&server);
    let line = b"{'command': 'send', 'topic': 't', 'msg': 'it\\'s \\xe9'}\n";
    sender.send_raw(line);
    let msg = "it's \u{e9}".as_bytes();
    assert_eq!(resp2.reply(), message(false, None, "t", msg));
    assert_eq!(resp3.reply(), message(true, Some("t*"), "t", msg));
    assert_eq!(
        mq.read_line().as_bytes(),
        line,
        "mq to mq: the line as sent"
    );

    // A PUBLISH: every subscription counts, mq's too; mq gets a JSON line,
    // invalid UTF-8 replaced.
    let mut publisher = Resp::connect(server.addr("resp"));
    let payload = b"bin\xff\x00\"ary\"";
    assert_eq!(publisher.call(&[b"PUBLISH", b"t", payload]), b":3\r\n");
    assert_eq!(
        mq.read_line(),
        "{\"command\": \"send\", \"topic\": \"t\", \"msg\": \"bin\u{fffd}\\u0000\\\"ary\\\"\"}\n"
    );
    assert_eq!(resp2.reply(), message(false, None, "t", payload));
    assert_eq!(resp3.reply(), message(true, Some("t*"), "t", payload));
    assert_eq!(publisher.cmd("PUBSUB NUMSUB t"), "*2\r\n$1\r\nt\r\n:2\r\n");
    // A pattern subscriber alone is counted too; a shard channel is another space.
    assert_eq!(publisher.cmd("PUBLISH tx m"), ":1\r\n");
    assert_eq!(resp3.reply(), message(true, Some("t*"), "tx", b"m"));
    assert_eq!(publisher.cmd("SPUBLISH t m"), ":0\r\n");
    // Channel names are bytes.
    assert_eq!(resp2.call(&[b"SUBSCRIBE", b"\xff"]).len(), 30);
    assert_eq!(publisher.call(&[b"PUBLISH", b"\xff", b"x"]), b":1\r\n");
    assert_eq!(
        resp2.reply(),
        [
            &b"*3\r\n$7\r\nmessage\r\n$1\r\n\xff\r\n"[..],
            b"$1\r\nx\r\n"
        ]
        .concat()
    );
    let stopped = server.stop();
    stopped.assert_clean();
    let mq_figures = &stopped.json["services"]["mq"];
    assert_eq!(
        mq_figures["subscribers"], 3,
        "mq's gauge counts resp's channel subscribers"
    );
    assert_eq!(mq_figures["topics"], 2);
    assert!(
        stopped.json["services"]["resp"]["deliveries"]
            .as_u64()
            .unwrap()
            >= 5
    );
}

#[test]
fn a_thousand_messages_keep_their_order_across_protocols() {
    let server = TestServer::builder().services(&["resp", "mq"]).start();
    let mut mq = Mq::connect(&server);
    mq.subscribe("ordered", "mq");
    let mut resp2 = Resp::connect(server.addr("resp"));
    resp2.cmd("SUBSCRIBE ordered");
    let mut resp3 = Resp::connect(server.addr("resp"));
    resp3.cmd("HELLO 3");
    resp3.cmd("PSUBSCRIBE order*");

    // One resp publisher, 1000 PUBLISHes in one write.
    let mut publisher = Resp::connect(server.addr("resp"));
    let mut wire = Vec::new();
    for i in 0..1000 {
        let payload = i.to_string();
        encode_command([&b"PUBLISH"[..], b"ordered", payload.as_bytes()], &mut wire);
    }
    publisher.stream.write_all(&wire).expect("send");
    for _ in 0..1000 {
        assert_eq!(publisher.reply(), b":3\r\n");
    }
    for i in 0..1000 {
        let payload = i.to_string();
        assert_eq!(
            resp2.reply(),
            message(false, None, "ordered", payload.as_bytes())
        );
        let pushed = message(true, Some("order*"), "ordered", payload.as_bytes());
        assert_eq!(resp3.reply(), pushed);
        let line: serde_json::Value = serde_json::from_str(&mq.read_line()).expect("JSON");
        assert_eq!(line["msg"], payload);
    }

    // One mq sender, 1000 lines in one write.
    let mut sender = Mq::connect(&server);
    let lines: String = (0..1000)
        .map(|i| format!("{{\"command\":\"send\",\"topic\":\"ordered\",\"msg\":\"mq {i}\"}}\n"))
        .collect();
    sender.send_raw(lines.as_bytes());
    for i in 0..1000 {
        let payload = format!("mq {i}");
        assert_eq!(
            resp2.reply(),
            message(false, None, "ordered", payload.as_bytes())
        );
        let pushed = message(true, Some("order*"), "ordered", payload.as_bytes());
        assert_eq!(resp3.reply(), pushed);
        assert!(mq.read_line().contains(&payload));
    }
    server.stop().assert_clean();
}

#[test]
fn a_subscriber_that_never_reads_is_disconnected_past_the_cap() {
    let cap = 64 * 1024;
    let server = TestServer::builder()
        .services(&["resp", "mq"])
        .args(&["--mq-queue-bytes", &cap.to_string()])
        .start();
    let addr = server.addr("resp");
    // mq's handshake first: it is a message on the topic.
    let mut mq = Mq::connect(&server);
    mq.subscribe("firehose", "mq");
    let mut sleeper = Resp::connect(addr);
    sleeper.cmd("SUBSCRIBE firehose");
    let mut reader = Resp::connect(addr);
    reader.cmd("SUBSCRIBE firehose");
    let mut publisher = Resp::connect(addr);

    // Rounds small enough that the readers never near the cap, until the
    // sleeper is dropped from the topic (the count falls), and a few more.
    let msg = "x".repeat(1000);
    let round = 16;
    let (mut r, mut after) = (0, 0);
    while after < 10 {
        let mut wire = Vec::new();
        for i in 0..round {
            let payload = format!("{r}.{i} {msg}");
            encode_command(
                [&b"PUBLISH"[..], b"firehose", payload.as_bytes()],
                &mut wire,
            );
        }
        publisher.stream.write_all(&wire).expect("send");
        let mut counts = Vec::new();
        for _ in 0..round {
            counts.push(publisher.reply());
        }
        for i in 0..round {
            let got = reader.reply();
            let head = format!("{r}.{i} ");
            assert!(
                got.windows(head.len()).any(|w| w == head.as_bytes()),
                "{head}"
            );
            assert!(mq.read_line().contains(&head), "{head}");
        }
        if counts.last().map(Vec::as_slice) == Some(b":2\r\n") {
            after += 1;
        }
        r += 1;
        assert!(r < 100_000, "the sleeper was never disconnected");
    }
    let received = sleeper.rest_until_closed().len();
    assert!(received < r * round * 1000, "{received} bytes");
    let stopped = server.stop();
    stopped.assert_clean();
    assert_eq!(stopped.json["services"]["resp"]["slow_disconnects"], 1);
    assert_eq!(stopped.json["services"]["mq"]["slow_disconnects"], 0);
}
