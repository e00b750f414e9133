//! SORT and SORT_RO over the sharded key space (issue 27), served alone:
//! the list, set or sorted set is read from its owner (`internal-dump`), each
//! `BY` and `GET` pattern's key from its own owner, the elements sorted here
//! as redis sorts them (`commands/sort.rs`), and a STORE written on the
//! destination's owner. Each read is atomic on its shard; the whole is not
//! atomic across shards, as the gathered commands are not (`gather.rs`,
//! README "What differs from Redis").

use super::*;
use crate::kv::durable::ops::snapshot_records;
use crate::kv::values::{Aggregate, List, OwnedValue};
use commands::collections::wrong_type;
use commands::sort::{lookup, score_of, sort, Lookup, SortRequest, Sortable, NOT_A_DOUBLE};

/// How the value to sort keeps its elements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Native {
    /// In an order of its own (a list, a sorted set): kept without BY.
    Ordered,
    /// In no order that means anything (a set).
    Unordered,
}

impl Resp {
    /// SORT or SORT_RO; its reply goes to `reply`.
    pub(super) async fn sort(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let cluster = self.config.cluster.is_some();
        let request = match SortRequest::read(command, cmd == Cmd::SortRo, cluster) {
            Ok(request) => request,
            Err(error) => return write::error(reply, error),
        };
        let (elements, native) = match self.fetch(request.key, now).await {
            None => (Vec::new(), Native::Ordered),
            Some(OwnedValue::Agg(Aggregate::List(list))) => {
                (list.iter().map(<[u8]>::to_vec).collect(), Native::Ordered)
            }
            Some(OwnedValue::Agg(Aggregate::ZSet(zset))) => (
                zset.iter().map(|(member, _)| member.to_vec()).collect(),
                Native::Ordered,
            ),
            Some(OwnedValue::Agg(Aggregate::Set(set))) => {
                (set.iter().map(<[u8]>::to_vec).collect(), Native::Unordered)
            }
            Some(_) => return wrong_type(reply),
        };
        let (mut dont_sort, mut alpha, mut by) = (request.dont_sort, request.alpha, request.by);
        // A set stored unsorted would store an order that means nothing:
        // redis sorts it, ALPHA.
        if dont_sort && native == Native::Unordered && request.store.is_some() {
            (dont_sort, alpha, by) = (false, true, None);
        }
        let (start, end) = request.range(elements.len());
        let mut items: Vec<Sortable> = if dont_sort && native == Native::Ordered {
            // The native order (reversed by DESC), the LIMIT taken here.
            let wanted = if end >= start {
                (end - start + 1) as usize
            } else {
                0
            };
            let skip = start.max(0) as usize;
            let sortable = |element: Vec<u8>| Sortable {
                element,
                score: 0.0,
                by_value: None,
            };
            if request.desc {
                let rev = elements.into_iter().rev();
                rev.skip(skip).take(wanted).map(sortable).collect()
            } else {
                let fwd = elements.into_iter();
                fwd.skip(skip).take(wanted).map(sortable).collect()
            }
        } else {
            elements
                .into_iter()
                .map(|element| Sortable {
                    element,
                    score: 0.0,
                    by_value: None,
                })
                .collect()
        };
        let range = if dont_sort && native == Native::Ordered {
            0..items.len()
        } else if end >= start {
            start as usize..end as usize + 1
        } else {
            0..0
        };
        if !dont_sort {
            let mut not_a_number = false;
            for item in &mut items {
                let value = match by {
                    Some(pattern) => self.pattern_value(pattern, &item.element, now).await,
                    None => Some(item.element.clone()),
                };
                let Some(value) = value else { continue };
                if alpha {
                    if by.is_some() {
                        item.by_value = Some(value);
                    }
                } else {
                    match score_of(&value) {
                        Some(score) => item.score = score,
                        None => not_a_number = true,
                    }
                }
            }
            if not_a_number {
                return write::error(reply, NOT_A_DOUBLE);
            }
            sort(&mut items, alpha, by.is_some(), request.desc);
        }
        let chosen = &items[range];
        // Each element's output: itself, or its GET patterns' values.
        let mut outputs: Vec<Option<Vec<u8>>> = Vec::new();
        for item in chosen {
            if request.gets.is_empty() {
                outputs.push(Some(item.element.clone()));
            }
            for pattern in &request.gets {
                outputs.push(self.pattern_value(pattern, &item.element, now).await);
            }
        }
        match request.store {
            None => {
                write::array_len(reply, outputs.len());
                for output in outputs {
                    match output {
                        Some(value) => write::bulk(reply, &value),
                        None => write::null(reply, proto),
                    }
                }
            }
            Some(destination) => self.sort_store(destination, outputs, now, reply).await,
        }
    }

    /// What `pattern` names for `element`: a string key's value or a hash
    /// field's, the element itself for `#`; `None` when there is none.
    async fn pattern_value(&self, pattern: &[u8], element: &[u8], now: u64) -> Option<Vec<u8>> {
        match lookup(pattern, element) {
            Lookup::Itself => Some(element.to_vec()),
            Lookup::Nothing => None,
            Lookup::Key(key) => match self.fetch(&key, now).await? {
                OwnedValue::Str(value) => Some(value.into_vec()),
                OwnedValue::Agg(_) => None,
            },
            Lookup::Field(key, field) => match self.fetch(&key, now).await? {
                OwnedValue::Agg(Aggregate::Hash(hash)) => hash.get(field).map(<[u8]>::to_vec),
                _ => None,
            },
        }
    }

    /// SORT ... STORE: the outputs as a list (a missing value as an empty
    /// string) replace `destination`, whatever it held; none deletes it.
    /// Replies with the count.
    async fn sort_store(
        &self,
        destination: &[u8],
        outputs: Vec<Option<Vec<u8>>>,
        now: u64,
        reply: &mut Vec<u8>,
    ) {
        let owner = owner_of(destination, self.shards);
        let count = outputs.len();
        let stored = if count == 0 {
            let deleted = self
                .on_shard_as(owner, Cmd::Del, &[destination], Proto::Resp2, now, true)
                .await;
            if deleted == b":1\r\n" {
                notify::publish(&self.here, notify::GENERIC, "del", destination);
            }
            deleted
        } else {
            let mut list = List::default();
            for output in &outputs {
                list.push_back(output.as_deref().unwrap_or_default());
            }
            let mut payload = Vec::new();
            let value = OwnedValue::Agg(Aggregate::List(list));
            snapshot_records(destination, value.as_ref(), None, &mut payload);
            let args: [&[u8]; 2] = [destination, &payload];
            let restored = self
                .on_shard_as(owner, Cmd::Restore, &args, Proto::Resp2, now, true)
                .await;
            if restored.first() != Some(&b'-') {
                notify::publish(&self.here, notify::LIST, "sortstore", destination);
            }
            restored
        };
        if stored.first() == Some(&b'-') {
            reply.extend_from_slice(&stored);
        } else {
            write::int(reply, count as i64);
        }
    }
}
