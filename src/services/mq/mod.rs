//! mq (SPEC 3.4): the seed's asyncio message queue, with subscribers and
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
//! subscription (the handshake SPEC 3.4 offers).

mod broker;
pub mod command;
pub mod record;
mod routing;
pub mod topics;

use std::rc::Rc;

use crate::codec::{split_line_ending, Lines};
use crate::server::outbox::Outbox;
use crate::server::ShardContext;
use crate::service::{Batch, Flow, Opening, Service, ServiceFactory, StartError};
use crate::stats::Metric::{Counter, Gauge};
use broker::{Broker, Figures, MqPlan, Session};
use command::Command;

/// Cap on one connection's queued deliveries by default (SPEC 2 `--mq-queue-bytes`).
pub const DEFAULT_QUEUE_BYTES: usize = 4 << 20;

/// Makes the mq service on every shard: its broker, joined to the other
/// shards' over the lanes planned here.
#[derive(Clone)]
pub struct MqFactory {
    /// Cap on one connection's queued deliveries (`--mq-queue-bytes`).
    queue_cap: usize,
    lanes: Option<MqPlan>,
}

impl MqFactory {
    pub fn new(queue_cap: usize) -> MqFactory {
        MqFactory {
            queue_cap,
            lanes: None,
        }
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
        self.lanes = (shards > 1).then(|| MqPlan::new(shards));
    }

    async fn start(&self, shard: &ShardContext) -> Result<Mq, StartError> {
        let figures = Figures {
            deliveries: shard.metric_counter("deliveries", Counter("percore_mq_deliveries_total")),
            slow_disconnects: shard.metric_counter(
                "slow_disconnects",
                Counter("percore_mq_slow_disconnects_total"),
            ),
            topics: shard.metric_counter("topics", Gauge("percore_mq_topics")),
            subscribers: shard.metric_counter("subscribers", Gauge("percore_mq_subscribers")),
        };
        let broker = Broker::start(
            self.lanes.clone(),
            shard.id(),
            shard.shards(),
            self.queue_cap,
            figures,
            shard.stop_watch(),
        )
        .await?;
        Ok(Mq { broker })
    }
}

/// The mq service on one shard.
pub struct Mq {
    broker: Rc<Broker>,
}

impl Service for Mq {
    type Decoder = Lines;
    type Session = Session;

    fn open_session(&self, _: &mut Opening<'_>) -> Session {
        self.broker.connect()
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
