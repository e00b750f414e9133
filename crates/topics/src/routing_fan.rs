//! The owner's fan-out and each shard's delivery to its own subscribers:
//! where a message goes, and what it reached (the count PUBLISH replies,
//! `reports.rs`).

use super::*;

/// What a fan-out did.
pub(super) struct Fanned {
    /// Subscriptions reached on this shard.
    pub here: u64,
    /// Subscriptions on the shards it was posted to, as the owner counts
    /// them (what a subscriber shard may have changed since).
    pub elsewhere: u64,
    /// Shards it was posted to.
    pub posted: usize,
}

impl Routing {
    /// As the topic's owner: once to every shard with subscribers of it, or
    /// of a pattern that matches it, each delivery to another shard
    /// reported with `report`'s token if given.
    pub(super) fn fan_out(
        &mut self,
        space: Space,
        topic: &[u8],
        payload: Payload<'_>,
        post: &dyn Post,
        report: Option<u32>,
    ) -> Fanned {
        let mut marks = std::mem::take(&mut self.marks);
        marks.clear();
        marks.resize(self.shards, false);
        let me = self.shard;
        let mut elsewhere = 0;
        let mut mark = |(shard, subscribers): (usize, u64)| {
            if let Some(marked) = marks.get_mut(shard) {
                *marked = true;
                if shard != me {
                    elsewhere += subscribers;
                }
            }
        };
        if space != Space::Pattern {
            self.interest[at(space)].shards(topic).for_each(&mut mark);
        }
        if space == Space::Channel && topic != MONITOR_CHANNEL {
            for counts in self.patterns.matching(topic) {
                counts.positive().for_each(&mut mark);
            }
        }
        let mut fanned = Fanned {
            here: 0,
            elsewhere,
            posted: 0,
        };
        for shard in (0..marks.len()).filter(|&s| marks[s]) {
            if shard == self.shard {
                fanned.here = self.deliver_here(space, topic, payload);
            } else {
                let record = Record::Deliver {
                    space,
                    topic,
                    payload,
                    report,
                };
                post.to_subscribers(shard, record);
                fanned.posted += 1;
                if report.is_some() {
                    self.reports.sent(shard);
                }
            }
        }
        self.marks = marks;
        fanned
    }

    /// To this shard's subscribers of the topic, and of the patterns that
    /// match it, each in its own protocol: a resp connection subscribed to
    /// both gets the message, then the pmessage, as from Redis. An outbox
    /// past its cap refuses the message, and its connection closes as a
    /// slow disconnect. Returns the subscriptions it reached, as Redis
    /// counts them: each channel subscriber, and each pattern subscriber
    /// once per matching pattern.
    pub(super) fn deliver_here(&mut self, space: Space, topic: &[u8], payload: Payload<'_>) -> u64 {
        let Routing {
            local,
            subscribers,
            renderer,
            ..
        } = self;
        let subscriber = |conn: ConnId| subscribers.get(conn as usize).and_then(Option::as_ref);
        renderer.start();
        let (kind, conns) = match space {
            Space::Channel => (Kind::Message, local[0].subscribers(topic)),
            Space::Shard => (Kind::SMessage, local[1].subscribers(topic)),
            Space::Pattern => return 0,
        };
        let mut reached = 0;
        let mut frame_made = None;
        for subscriber in conns.iter().filter_map(|&conn| subscriber(conn)) {
            reached += 1;
            if subscriber.format == Format::Line {
                subscriber.outbox.push(renderer.line(topic, payload));
                continue;
            }
            if subscriber.format == Format::Monitor {
                if let Payload::Message(line) = payload {
                    subscriber.outbox.push(line);
                }
                continue;
            }
            if *frame_made.get_or_insert_with(|| renderer.frame(kind, b"", topic, payload)) {
                renderer.push_frame(&subscriber.outbox, subscriber.format);
            }
        }
        if space != Space::Channel || topic == MONITOR_CHANNEL {
            return reached;
        }
        for (pattern, conns) in local[2].iter() {
            if !glob::matches(pattern, topic) {
                continue;
            }
            let framed = renderer.frame(Kind::PMessage, pattern, topic, payload);
            for subscriber in conns.iter().filter_map(|&conn| subscriber(conn)) {
                reached += 1;
                if framed {
                    renderer.push_frame(&subscriber.outbox, subscriber.format);
                }
            }
        }
        reached
    }
}
