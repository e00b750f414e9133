//! `percore load mq`: publishers and subscribers over topics.
//!
//! Connections `0..S` are subscribers, subscriber i on topic `i % T`; the
//! next P are publishers, each sending round-robin over every topic. A
//! message's text is `<publisher> <seq> <sent ns> <padding>`, seq counting
//! per publisher and topic, sent ns counted from the run's start, so a
//! subscriber measures publish→delivery latency and checks that each
//! publisher's messages come exactly once and in order. A publisher ends
//! with `<publisher> end <count>` on every topic, which tells subscribers
//! how many to expect.
//!
//! Publishers subscribe to the topics they send to, and their own copies
//! are their acknowledgements: at most `--pipeline` messages of a publisher
//! are in flight (closed loop), also at a fixed `--rate` (open loop, where
//! latency runs from each message's intended send time).
//!
//! `messages` holds the lines both sides write and read.

mod messages;

use std::cell::RefCell;
use std::io;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use glommio::net::TcpStream;
use glommio::timer::sleep;

use self::messages::{for_each_line, msg_of, push_command, Delivery};
use super::ReplyBuffer;
use crate::plan::ConnPlan;
use crate::stats::LoadStats;
use crate::workload::MqMix;

/// How long a subscriber waits for more once publishers should be done.
const DRAIN: Duration = Duration::from_secs(5);

/// What one connection of an mq run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Subscriber { topic: usize },
    Publisher { id: usize },
}

impl MqMix {
    fn role(&self, conn: usize) -> Role {
        if conn < self.subscribers {
            Role::Subscriber {
                topic: conn % self.topics,
            }
        } else {
            Role::Publisher {
                id: conn - self.subscribers,
            }
        }
    }

    fn topics_of(&self, role: Role) -> std::ops::Range<usize> {
        match role {
            Role::Subscriber { topic } => topic..topic + 1,
            Role::Publisher { .. } => 0..self.topics,
        }
    }
}

/// A connection whose subscriptions are active; bytes read past its
/// handshake wait in its inbox.
pub struct Prepared {
    stream: TcpStream,
    inbox: ReplyBuffer,
    role: Role,
}

impl Prepared {
    /// Reads once into the inbox; none if nothing came until `until`. The
    /// server closing the connection is an error.
    async fn read_until(&mut self, until: Instant) -> io::Result<Option<usize>> {
        let read = async { Some(self.stream.read(self.inbox.spare()).await) };
        let outcome = read
            .or(async {
                sleep(until.saturating_duration_since(Instant::now())).await;
                None
            })
            .await;
        match outcome {
            None => Ok(None),
            Some(Ok(0)) => Err(io::ErrorKind::UnexpectedEof.into()),
            Some(Ok(n)) => {
                self.inbox.filled(n);
                Ok(Some(n))
            }
            Some(Err(e)) => Err(e),
        }
    }
}

/// Before the clock starts: subscribes, and waits for its own `hello` on
/// each topic, which proves every subscription active (docs/PROTOCOLS.md §3.4).
pub async fn prepare(mut stream: TcpStream, conn: usize, mix: MqMix) -> io::Result<Prepared> {
    let role = mix.role(conn);
    let mut request = Vec::new();
    for topic in mix.topics_of(role) {
        push_command(&mut request, "subscribe", topic, None);
        push_command(
            &mut request,
            "send",
            topic,
            Some(format_args!("hello {conn}")),
        );
    }
    stream.write_all(&request).await?;
    let hello = format!("hello {conn}");
    let mut inbox = ReplyBuffer::new(mix.line_size() * 64);
    let mut greeted = 0;
    while greeted < mix.topics_of(role).len() {
        let n = stream.read(inbox.spare()).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        inbox.filled(n);
        for_each_line(&mut inbox, |line| {
            greeted += usize::from(msg_of(line) == Some(hello.as_bytes()));
        });
    }
    Ok(Prepared {
        stream,
        inbox,
        role,
    })
}

/// Runs a prepared connection as its role says.
pub async fn drive(prepared: Prepared, plan: ConnPlan, mix: MqMix, stats: &RefCell<LoadStats>) {
    match prepared.role {
        Role::Subscriber { .. } => subscribe(prepared, plan, mix, stats).await,
        Role::Publisher { id } => publish(prepared, id, plan, mix, stats).await,
    }
}

async fn publish(
    mut conn: Prepared,
    id: usize,
    plan: ConnPlan,
    mix: MqMix,
    stats: &RefCell<LoadStats>,
) {
    let interval = plan.rate.map(|rate| Duration::from_secs_f64(1.0 / rate));
    let due = |sent: u64| interval.map(|i| plan.start + i.mul_f64(sent as f64));
    let mut seqs = vec![0u64; mix.topics];
    let own = format!("{id} ");
    let padding = "x".repeat(mix.msg_size);
    let mut request = Vec::with_capacity(mix.line_size() * plan.pipeline);
    let (mut sent, mut acked) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        let room = plan.pipeline.saturating_sub((sent - acked) as usize);
        let mut batch = plan.allowed(sent, room, now);
        if plan.allowed(sent, 1, now) == 0 {
            break;
        }
        if let Some(interval) = interval {
            let overdue =
                now.saturating_duration_since(plan.start).as_secs_f64() / interval.as_secs_f64();
            batch = batch.min((overdue as u64 + 1).saturating_sub(sent) as usize);
        }
        request.clear();
        for _ in 0..batch {
            let topic = (id + sent as usize) % mix.topics;
            let at = due(sent).unwrap_or_else(Instant::now);
            let nanos = at.saturating_duration_since(plan.start).as_nanos();
            let header = format!("{id} {} {nanos} ", seqs[topic]);
            let pad = &padding[..mix.msg_size.saturating_sub(header.len())];
            push_command(
                &mut request,
                "send",
                topic,
                Some(format_args!("{header}{pad}")),
            );
            seqs[topic] += 1;
            sent += 1;
        }
        if !request.is_empty() && conn.stream.write_all(&request).await.is_err() {
            stats.borrow_mut().errors += 1;
            return;
        }
        // Wait for acknowledgements, or for the next message to fall due.
        let window_full = sent - acked >= plan.pipeline as u64;
        let wake = match due(sent) {
            Some(next) if !window_full => next,
            _ => Instant::now() + DRAIN,
        };
        match read_acks(&mut conn, &own, wake).await {
            Ok(Some(n)) => acked += n,
            Ok(None) if window_full => {
                // Nothing came back for a whole drain period: lost.
                stats.borrow_mut().errors += sent - acked;
                return;
            }
            Ok(None) => {}
            Err(_) => {
                stats.borrow_mut().errors += 1;
                return;
            }
        }
    }
    // Tell every topic's subscribers how many to expect, then see it through.
    request.clear();
    for (topic, count) in seqs.iter().enumerate() {
        push_command(
            &mut request,
            "send",
            topic,
            Some(format_args!("{id} end {count}")),
        );
    }
    sent += mix.topics as u64;
    if conn.stream.write_all(&request).await.is_err() {
        stats.borrow_mut().errors += 1;
        return;
    }
    let give_up = Instant::now() + DRAIN;
    while acked < sent && Instant::now() < give_up {
        match read_acks(&mut conn, &own, give_up).await {
            Ok(Some(n)) => acked += n,
            Ok(None) | Err(_) => break,
        }
    }
}

/// Reads once and counts the publisher's own lines; none if nothing came
/// until `until`.
async fn read_acks(conn: &mut Prepared, own: &str, until: Instant) -> io::Result<Option<u64>> {
    if conn.read_until(until).await?.is_none() {
        return Ok(None);
    }
    let mut acks = 0;
    for_each_line(&mut conn.inbox, |line| {
        acks += u64::from(msg_of(line).is_some_and(|m| m.starts_with(own.as_bytes())));
    });
    Ok(Some(acks))
}

async fn subscribe(mut conn: Prepared, plan: ConnPlan, mix: MqMix, stats: &RefCell<LoadStats>) {
    // Per publisher: the next seq expected, and the count it announced.
    let mut expected = vec![0u64; mix.publishers];
    let mut ended: Vec<Option<u64>> = vec![None; mix.publishers];
    let mut last_news = Instant::now();
    loop {
        let now = Instant::now();
        let mut news = false;
        for_each_line(&mut conn.inbox, |line| {
            news = true;
            let mut stats = stats.borrow_mut();
            match Delivery::parse(msg_of(line)) {
                Delivery::Hello => {}
                Delivery::Malformed => stats.errors += 1,
                Delivery::End { publisher, count } if publisher < mix.publishers => {
                    stats.errors += count.saturating_sub(expected[publisher]);
                    ended[publisher] = Some(count);
                }
                Delivery::Message {
                    publisher,
                    seq,
                    nanos,
                } if publisher < mix.publishers => {
                    // A gap is messages lost, a step back a duplicate or a
                    // reordering: either is an error, counted once.
                    let next = &mut expected[publisher];
                    let wrong = u64::from(seq != *next) + seq.saturating_sub(*next);
                    *next = (*next).max(seq + 1);
                    let sent = plan.start + Duration::from_nanos(nanos);
                    stats.record(
                        now,
                        plan.measure_from,
                        1,
                        wrong,
                        now.saturating_duration_since(sent),
                    );
                }
                _ => stats.errors += 1,
            }
        });
        if ended.iter().all(Option::is_some) {
            return;
        }
        if news {
            last_news = now;
        }
        let deadline = plan.end.unwrap_or(last_news).max(last_news) + DRAIN;
        match conn.read_until(deadline).await {
            Ok(Some(_)) => {}
            // Closed, failed, or silent for too long: what is missing is lost.
            _ => {
                let silent = ended.iter().filter(|e| e.is_none()).count();
                stats.borrow_mut().errors += silent as u64;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_split_connections_and_topics() {
        let mix = MqMix {
            publishers: 2,
            subscribers: 4,
            topics: 3,
            msg_size: 16,
        };
        assert_eq!(mix.role(0), Role::Subscriber { topic: 0 });
        assert_eq!(mix.role(3), Role::Subscriber { topic: 0 });
        assert_eq!(mix.role(5), Role::Publisher { id: 1 });
        assert_eq!(mix.topics_of(mix.role(4)), 0..3);
    }
}
