//! Unit tests of [`Routing`]: shards as plain values, what would travel
//! between them recorded and handed over by hand.

use std::cell::RefCell;

use super::*;

/// Records what would travel, encoded as the lanes would carry it.
#[derive(Default)]
struct Posted {
    to_owner: RefCell<Vec<(usize, Vec<u8>)>>,
    to_subscribers: RefCell<Vec<(usize, Vec<u8>)>>,
}

impl Post for Posted {
    fn to_owner(&self, owner: usize, record: Record<'_>) {
        let mut encoded = Vec::new();
        record.encode(&mut encoded);
        self.to_owner.borrow_mut().push((owner, encoded));
    }

    fn to_subscribers(&self, shard: usize, record: Record<'_>) {
        let mut encoded = Vec::new();
        record.encode(&mut encoded);
        self.to_subscribers.borrow_mut().push((shard, encoded));
    }
}

fn topic_owned_by(shard: usize, shards: usize) -> String {
    (0..)
        .map(|i| format!("t{i}"))
        .find(|topic| owner_of(topic.as_bytes(), shards) == shard)
        .unwrap()
}

fn taken(outbox: &Outbox) -> Vec<u8> {
    let mut out = Vec::new();
    outbox.take(&mut out);
    outbox.written();
    out
}

fn outbox() -> Rc<Outbox> {
    Rc::new(Outbox::new(1 << 12))
}

/// Hands everything posted to `shards[to]` as its owner messages.
fn to_owners(posted: &Posted, from: usize, shards: &mut [Routing], post: &Posted) {
    for (to, message) in posted.to_owner.take() {
        shards[to].on_owner_message(from, &message, post);
    }
}

/// Hands everything `from` posted for subscribers to their shards, and
/// their reports back to `from`.
fn to_subscribers(posted: &Posted, from: usize, shards: &mut [Routing]) {
    for (to, message) in posted.to_subscribers.take() {
        let reports = Posted::default();
        shards[to].on_deliveries(from, &message, &reports);
        for (back, report) in reports.to_subscribers.take() {
            assert_eq!(back, from);
            shards[from].on_deliveries(to, &report, &Posted::default());
        }
    }
}

#[test]
fn one_shard_delivers_to_every_subscriber_once_in_its_protocol() {
    let mut routing = Routing::new(0, 1);
    let post = Posted::default();
    let (a, b, c) = (outbox(), outbox(), outbox());
    let ca = routing.connect(a.clone(), Format::Line);
    let cb = routing.connect(b.clone(), Format::Line);
    let cc = routing.connect(c.clone(), Format::Resp3);
    routing.subscribe(ca, b"news", &post);
    routing.subscribe(ca, b"news", &post);
    routing.subscribe(cb, b"news", &post);
    assert!(routing.change(cc, Space::Channel, b"news", true));
    routing.tell(Space::Channel, b"news", 1, &post);
    assert!(routing.change(cc, Space::Pattern, b"n*", true));
    routing.tell(Space::Pattern, b"n*", 1, &post);
    let line = b"{\"command\": \"send\", \"topic\": \"news\", \"msg\": \"hi\"}\n";
    routing.publish(b"news", line, &post);
    assert_eq!(taken(&a), line);
    assert_eq!(taken(&b), line);
    assert_eq!(
        taken(&c),
        b">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n>4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
    );
    assert!(post.to_owner.borrow().is_empty());
    assert_eq!((routing.topics(), routing.subscriptions()), (1, 3));
    // A resp message: the count is every subscription it reached.
    assert_eq!(
        routing.publish_message(Space::Channel, b"news", b"m", &post, false),
        Published::Counted(4)
    );
    let as_line = b"{\"command\": \"send\", \"topic\": \"news\", \"msg\": \"m\"}\n";
    assert_eq!(taken(&a), as_line);
    assert_eq!(routing.conn_counts(cc), (1, 1, 0));
    routing.disconnect(cb, &post);
    routing.disconnect(cc, &post);
    assert_eq!(
        routing.publish_message(Space::Channel, b"news", b"x", &post, false),
        Published::Counted(1)
    );
    assert_eq!(routing.subscriptions(), 1);
    assert_eq!(routing.names(Space::Pattern).count(), 0);
}

#[test]
fn a_remote_topic_goes_through_its_owner_and_back() {
    // Shard 1 has the subscribers; shard 0 owns the topic.
    let topic = topic_owned_by(0, 2);
    let topic = topic.as_bytes();
    let mut shards = [Routing::new(0, 2), Routing::new(1, 2)];
    let (at_owner, at_subscriber) = (Posted::default(), Posted::default());
    let (mq, resp) = (outbox(), outbox());
    let mq_conn = shards[1].connect(mq.clone(), Format::Line);
    let resp_conn = shards[1].connect(resp.clone(), Format::Resp2);
    shards[1].subscribe(mq_conn, topic, &at_subscriber);
    // Every subscription is counted at the owner, not only the first.
    assert_eq!(at_subscriber.to_owner.borrow().len(), 1);
    to_owners(&at_subscriber, 1, &mut shards, &at_owner);
    // resp's change reaches the owner another way (the mesh): applied there.
    assert!(shards[1].change(resp_conn, Space::Channel, topic, true));
    shards[0].apply(Space::Channel, topic, 1, 1);
    assert_eq!(
        (shards[0].topics(), shards[0].count(Space::Channel, topic)),
        (1, 2)
    );

    // An mq line sent on shard 1 goes to the owner, which sends it once to shard 1.
    let line = b"{'command':'send','topic':'x','msg':'line'}\n";
    shards[1].publish(topic, line, &at_subscriber);
    to_owners(&at_subscriber, 1, &mut shards, &at_owner);
    assert_eq!(at_owner.to_subscribers.borrow().len(), 1);
    to_subscribers(&at_owner, 0, &mut shards);
    assert_eq!(taken(&mq), line);
    let name = std::str::from_utf8(topic).unwrap();
    let frame = format!(
        "*3\r\n$7\r\nmessage\r\n${}\r\n{name}\r\n$4\r\nline\r\n",
        name.len()
    );
    assert_eq!(taken(&resp), frame.as_bytes());

    // A resp PUBLISH at the owner: counted, and mq gets it as a JSON line.
    assert_eq!(
        shards[0].publish_message(Space::Channel, topic, b"\xff", &at_owner, false),
        Published::Counted(2)
    );
    to_subscribers(&at_owner, 0, &mut shards);
    let json = format!("{{\"command\": \"send\", \"topic\": \"{name}\", \"msg\": \"\u{fffd}\"}}\n");
    assert_eq!(taken(&mq), json.as_bytes());

    // Both leave (the connection's close tells the owner one way).
    shards[1].disconnect(resp_conn, &at_subscriber);
    shards[1].unsubscribe(mq_conn, topic, &at_subscriber);
    to_owners(&at_subscriber, 1, &mut shards, &at_owner);
    shards[0].publish(topic, b"nobody\n", &at_owner);
    assert!(at_owner.to_subscribers.borrow().is_empty());
    assert_eq!(shards[0].topics(), 0);
}

#[test]
fn a_pattern_on_any_shard_is_known_to_every_owner() {
    let shards_n = 3;
    let mut shards: Vec<Routing> = (0..shards_n).map(|s| Routing::new(s, shards_n)).collect();
    let post = Posted::default();
    let resp = outbox();
    let conn = shards[2].connect(resp.clone(), Format::Resp2);
    assert!(shards[2].change(conn, Space::Pattern, b"t*", true));
    shards[2].tell(Space::Pattern, b"t*", 1, &post);
    // Told to both other shards, applied on its own at once.
    let told: Vec<usize> = post.to_owner.borrow().iter().map(|(to, _)| *to).collect();
    assert_eq!(told, [0, 1]);
    to_owners(&post, 2, &mut shards, &Posted::default());
    for owner in 0..shards_n {
        let topic = topic_owned_by(owner, shards_n);
        let fanned = Posted::default();
        let reached =
            shards[owner].publish_message(Space::Channel, topic.as_bytes(), b"m", &fanned, false);
        assert_eq!(reached, Published::Counted(1), "owner {owner}");
        to_subscribers(&fanned, owner, &mut shards);
        let delivered = taken(&resp);
        assert!(
            delivered.starts_with(b"*4\r\n$8\r\npmessage\r\n$2\r\nt*\r\n"),
            "owner {owner}"
        );
        assert_eq!(shards[owner].names(Space::Pattern).count(), 1);
    }
    // Only one shard accounts for the pattern in INFO.
    let owned: usize = shards.iter().map(|s| s.owned(Space::Pattern)).sum();
    assert_eq!(owned, 1);
    // A shard channel of the same name is another space: nothing matches.
    let fanned = Posted::default();
    let shard_channel = topic_owned_by(0, shards_n);
    assert_eq!(
        shards[0].publish_message(Space::Shard, shard_channel.as_bytes(), b"m", &fanned, false),
        Published::Counted(0)
    );
    // The close takes the pattern off every shard.
    shards[2].disconnect(conn, &post);
    to_owners(&post, 2, &mut shards, &Posted::default());
    assert!(shards.iter().all(|s| s.names(Space::Pattern).count() == 0));
}

#[test]
fn shard_channels_reach_only_their_own_subscribers() {
    let topic = topic_owned_by(1, 2);
    let topic = topic.as_bytes();
    let mut shards = [Routing::new(0, 2), Routing::new(1, 2)];
    let post = Posted::default();
    let (plain, sharded) = (outbox(), outbox());
    let plain_conn = shards[0].connect(plain.clone(), Format::Resp2);
    let sharded_conn = shards[0].connect(sharded.clone(), Format::Resp3);
    shards[0].change(plain_conn, Space::Channel, topic, true);
    shards[1].apply(Space::Channel, topic, 0, 1);
    shards[0].change(sharded_conn, Space::Shard, topic, true);
    shards[1].apply(Space::Shard, topic, 0, 1);
    assert_eq!(
        shards[1].publish_message(Space::Shard, topic, b"s", &post, false),
        Published::Counted(1)
    );
    to_subscribers(&post, 1, &mut shards);
    assert!(taken(&plain).is_empty());
    assert!(taken(&sharded).starts_with(b">3\r\n$8\r\nsmessage\r\n"));
    assert_eq!(shards[0].conn_counts(sharded_conn), (0, 0, 1));
    assert_eq!(shards[1].owned(Space::Shard), 1);
    assert_eq!(
        shards[0].conn_names(plain_conn, Space::Channel),
        [topic.into()]
    );
}

#[test]
fn a_full_outbox_refuses_and_others_still_get_theirs() {
    let mut routing = Routing::new(0, 1);
    let post = Posted::default();
    let small = Rc::new(Outbox::new(40));
    let big = outbox();
    let cs = routing.connect(small.clone(), Format::Resp2);
    let cb = routing.connect(big.clone(), Format::Resp2);
    for conn in [cs, cb] {
        routing.change(conn, Space::Channel, b"c", true);
        routing.tell(Space::Channel, b"c", 1, &post);
    }
    for _ in 0..3 {
        routing.publish_message(Space::Channel, b"c", b"0123456789", &post, false);
    }
    assert!(small.has_overflowed());
    assert_eq!(taken(&big).len(), 3 * 41);
}

#[test]
fn a_notification_channel_is_known_everywhere_and_counted_once() {
    // A subscriber on shard 2 of 3 to a key's keyspace channel, and a
    // monitor there: every shard learns both, so shard 0 (where the key
    // lives) fans its events out itself, in order, with no hop to the
    // channel's owner.
    let channel = b"__keyspace@0__:foo";
    let mut shards = [Routing::new(0, 3), Routing::new(1, 3), Routing::new(2, 3)];
    let post = Posted::default();
    let (resp, monitor) = (outbox(), outbox());
    let conn = shards[2].connect(resp.clone(), Format::Resp2);
    let watcher = shards[2].connect(monitor.clone(), Format::Monitor);
    assert!(shards[2].change(conn, Space::Channel, channel, true));
    shards[2].tell(Space::Channel, channel, 1, &post);
    assert!(shards[2].change(watcher, Space::Channel, MONITOR_CHANNEL, true));
    shards[2].tell(Space::Channel, MONITOR_CHANNEL, 1, &post);
    to_owners(&post, 2, &mut shards, &post);
    assert!(shards.iter().all(Routing::monitored));
    // PUBSUB and INFO count the channel on its owner only; never the
    // monitors' channel.
    let owner = owner_of(channel, 3);
    for (n, shard) in shards.iter().enumerate() {
        let own = u64::from(n == owner);
        assert_eq!(shard.count(Space::Channel, channel), own);
        assert_eq!(shard.owned(Space::Channel) as u64, own);
        assert_eq!(shard.count(Space::Channel, MONITOR_CHANNEL), 0);
    }
    let events = Posted::default();
    shards[0].notify(channel, b"set", &events, true);
    shards[0].notify(channel, b"del", &events, true);
    shards[0].notify(
        MONITOR_CHANNEL,
        b"+1.000001 [0 ] \"GET\" \"foo\"\r\n",
        &events,
        false,
    );
    assert!(shards[0].reports().pending());
    assert!(events.to_owner.borrow().is_empty());
    to_subscribers(&events, 0, &mut shards);
    assert_eq!(
        taken(&resp),
        b"*3\r\n$7\r\nmessage\r\n$18\r\n__keyspace@0__:foo\r\n$3\r\nset\r\n\
          *3\r\n$7\r\nmessage\r\n$18\r\n__keyspace@0__:foo\r\n$3\r\ndel\r\n"
    );
    assert_eq!(taken(&monitor), b"+1.000001 [0 ] \"GET\" \"foo\"\r\n");
    // Both events were reported back to the key's shard.
    assert!(!shards[0].reports().pending());
    shards[2].disconnect(watcher, &post);
    to_owners(&post, 2, &mut shards, &post);
    assert!(!shards.iter().any(Routing::monitored));
}

#[test]
fn a_late_count_is_what_the_subscriber_shards_delivered_to() {
    // Shard 0 owns the topic; shard 1 has a subscriber, which has just
    // unsubscribed there (its owner not told yet), and one that stays.
    let topic = topic_owned_by(0, 2);
    let topic = topic.as_bytes();
    let mut shards = [Routing::new(0, 2), Routing::new(1, 2)];
    let post = Posted::default();
    let (gone, stays, here) = (outbox(), outbox(), outbox());
    let gone_conn = shards[1].connect(gone.clone(), Format::Resp2);
    let stays_conn = shards[1].connect(stays.clone(), Format::Resp2);
    let here_conn = shards[0].connect(here.clone(), Format::Resp2);
    for conn in [gone_conn, stays_conn] {
        assert!(shards[1].change(conn, Space::Channel, topic, true));
        shards[0].apply(Space::Channel, topic, 1, 1);
    }
    assert!(shards[0].change(here_conn, Space::Pattern, b"t*", true));
    shards[0].apply(Space::Pattern, b"t*", 0, 1);
    assert!(shards[1].change(gone_conn, Space::Channel, topic, false));
    let Published::Late(token) =
        shards[0].publish_message(Space::Channel, topic, b"m", &post, true)
    else {
        panic!("subscribers on shard 1: the count waits for its report");
    };
    assert!(shards[0].reports().pending());
    to_subscribers(&post, 0, &mut shards);
    assert!(!shards[0].reports().pending());
    assert_eq!(shards[0].close_count(token), 2);
    assert!(taken(&gone).is_empty());
    assert!(!taken(&stays).is_empty());
    // Without late counting, the owner's count of shard 1 stands.
    assert_eq!(
        shards[0].publish_message(Space::Channel, topic, b"m", &post, false),
        Published::Counted(3)
    );
    // All here: counted at once.
    let local = (0..)
        .map(|i| format!("t{i}x"))
        .find(|t| owner_of(t.as_bytes(), 2) == 0)
        .unwrap();
    assert_eq!(
        shards[0].publish_message(Space::Channel, local.as_bytes(), b"m", &post, true),
        Published::Counted(1)
    );
}
