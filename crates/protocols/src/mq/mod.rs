//! mq (docs/PROTOCOLS.md §3.4): the Python original asyncio message queue (§0), with subscribers and
//! senders on any shard.
//!
//! ```python
//! async def handle(reader, writer):
//!     while line := await reader.readline():
//!         msg = literal_eval(line.decode())
//!         if msg['command'] == 'subscribe': subscribers[msg['topic']].add(writer)
//!         elif msg['command'] == 'unsubscribe': subscribers[msg['topic']].discard(writer)
//!         elif msg['command'] == 'send':
//!             for subscriber in subscribers[msg['topic']]: subscriber.write(line)
//! ```
//!
//! Each topic has an owner shard, and the shards' brokers (`broker.rs`) pass
//! subscriptions and lines over FIFO lanes, so a sender's lines reach every
//! subscriber in order, and a connection that subscribes and then sends to
//! the topic gets its own line only once the owner knows about its
//! subscription (the handshake docs/PROTOCOLS.md §3.4 offers). The topics are resp's
//! channels too (docs/PROTOCOLS.md §6.3): one broker per shard serves both protocols
//! (`plan.rs`), and each subscriber gets a message in its own protocol
//! (`deliver.rs`). Topics are bytes inside (resp's channels are binary-safe);
//! an mq topic is its UTF-8 text.
//!
//! One file per piece: `topics` (a shard's subscribers), `interest` (what
//! an owner counts), `record` (what travels the lanes), `routing` (every
//! decision, as plain state), `deliver` (each protocol's bytes), `broker`
//! (routing on its lanes), `plan` (one broker per shard, shared).

use percore_topics::Gauges;
/// The topics mq serves, and their wire format: `percore_topics`, which
/// resp's pub/sub shares.
pub use percore_topics::{command, glob, record, topics};

use std::rc::Rc;

pub use percore_topics::{
    told_everywhere, Broker, BrokerPlan, Format, Published, Space, MONITOR_CHANNEL,
};

use command::Command;
use percore::codec::{split_line_ending, Lines};
use percore::server::outbox::Outbox;
use percore::server::ShardContext;
use percore::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use percore::stats::Counter;
use percore::stats::Metric::{Counter as MetricCounter, Gauge};
use topics::ConnId;

/// Cap on one connection's queued deliveries by default (docs/PROTOCOLS.md §2 `--mq-queue-bytes`).
pub const DEFAULT_QUEUE_BYTES: usize = 4 << 20;

/// Makes the mq service on every shard, over the shard's broker (shared
/// with resp when both run).
#[derive(Clone)]
pub struct MqFactory {
    /// Cap on one connection's queued deliveries (`--mq-queue-bytes`).
    queue_cap: usize,
    brokers: BrokerPlan,
}

impl MqFactory {
    /// mq with brokers of its own (or the shard's, if resp made one first).
    pub fn new(queue_cap: usize) -> MqFactory {
        MqFactory {
            queue_cap,
            brokers: BrokerPlan::default(),
        }
    }

    /// Serves the topics of `brokers`, the plan resp shares (docs/PROTOCOLS.md §6.3).
    pub fn with_brokers(mut self, brokers: BrokerPlan) -> MqFactory {
        self.brokers = brokers;
        self
    }
}

impl Default for MqFactory {
    fn default() -> Self {
        MqFactory::new(DEFAULT_QUEUE_BYTES)
    }
}

impl ServiceFactory for MqFactory {
    type Service = Mq;

    fn prepare(&mut self, shards: usize) {
        self.brokers.prepare(shards);
    }

    async fn start(&self, shard: &ShardContext) -> Result<Mq, StartError> {
        let broker = self.brokers.on_shard(shard).await?;
        broker.attach_gauges(Gauges {
            topics: shard.metric_counter("topics", Gauge("percore_mq_topics")),
            subscribers: shard.metric_counter("subscribers", Gauge("percore_mq_subscribers")),
        });
        Ok(Mq {
            broker,
            queue_cap: self.queue_cap,
            deliveries: shard
                .metric_counter("deliveries", MetricCounter("percore_mq_deliveries_total")),
            slow_disconnects: shard.metric_counter(
                "slow_disconnects",
                MetricCounter("percore_mq_slow_disconnects_total"),
            ),
        })
    }
}

/// The mq service on one shard.
pub struct Mq {
    broker: Rc<Broker>,
    queue_cap: usize,
    /// Lines written to subscribers.
    deliveries: Counter,
    /// Subscribers disconnected for not reading.
    slow_disconnects: Counter,
}

/// One mq connection. Dropping it unsubscribes the connection everywhere,
/// however the connection ended, a panic included.
pub struct Session {
    broker: Rc<Broker>,
    conn: ConnId,
    outbox: Rc<Outbox>,
    /// Where a topic written with escapes is decoded, reused line to line.
    scratch: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.broker.disconnect(self.conn);
    }
}

impl Service for Mq {
    type Decoder = Lines;
    type Session = Session;

    fn open_session(&self, _: &mut Opening<'_>) -> Session {
        let outbox = Rc::new(
            Outbox::new(self.queue_cap)
                .counting(self.deliveries.clone(), self.slow_disconnects.clone()),
        );
        Session {
            conn: self.broker.connect(outbox.clone(), Format::Line),
            broker: self.broker.clone(),
            outbox,
            scratch: String::new(),
        }
    }

    fn outbox(&self, session: &Session) -> Option<Rc<Outbox>> {
        Some(session.outbox.clone())
    }

    async fn serve(&self, session: &mut Session, batch: &mut Batch<'_, Lines>) -> Flow {
        let mut flow = Flow::Continue;
        while let Some(line) = batch.next_request() {
            let (content, _) = split_line_ending(line);
            if content.is_empty() {
                continue;
            }
            match command::parse(content, &mut session.scratch) {
                Ok(Command::Subscribe { topic }) => self.broker.subscribe(session.conn, topic),
                Ok(Command::Unsubscribe { topic }) => self.broker.unsubscribe(session.conn, topic),
                Ok(Command::Send { topic }) => self.broker.publish(topic, line),
                Ok(Command::Quit) => {
                    flow = Flow::Close;
                    break;
                }
                Ok(Command::Http) => {
                    push_error(batch.out(), "HTTP request refused");
                    batch.failed();
                    flow = Flow::Close;
                    break;
                }
                Err(error) => {
                    push_error(batch.out(), &error.to_string());
                    batch.failed();
                    continue;
                }
            }
            batch.served();
        }
        self.broker.room().await;
        flow
    }

    fn frame_too_long(&self, out: &mut Vec<u8>) {
        push_error(out, "line too long");
    }
}

/// `{"error": "<reason>"}\n`, the reason escaped as a JSON string.
fn push_error(out: &mut Vec<u8>, reason: &str) {
    out.extend_from_slice(b"{\"error\": ");
    // Writing JSON into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, reason);
    out.extend_from_slice(b"}\n");
}
