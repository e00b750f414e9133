//! Running a planned command where its key lives (docs/PROTOCOLS.md §6):
//! on this shard at once, into the round's output, or forwarded to the
//! owner's outbox as it came, to run there through the same `execute`
//! (`execute.rs`). `plan.rs` decides which; this is how either happens.

use super::*;

impl Resp {
    /// Runs `command` on `shard`: here at once, or forwarded as it came.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_at(
        &self,
        plan: &mut RoundPlan,
        out: &mut Vec<u8>,
        shard: usize,
        cmd: Cmd,
        command: &Command<'_>,
        frame: &[u8],
        proto: Proto,
        now: u64,
    ) {
        if shard == self.shard {
            // A PUBLISH may leave its count late: written once the round's
            // reports are in (`late_counts.rs`).
            let late = &self.here.late;
            plan.here_or_late(out, |out| {
                late.run(|| self.execute_here(cmd, command, proto, now, out))
            });
        } else {
            self.forward(plan, shard, proto, cmd, |body| {
                if command.is_inline() {
                    encode_command(command.iter(), body);
                } else {
                    body.extend_from_slice(frame);
                }
            });
        }
    }

    /// Sends `cmd` to `shard` in this round: `[protocol][command number]`,
    /// then the command as `encode` writes it (multibulk).
    fn forward(
        &self,
        plan: &mut RoundPlan,
        shard: usize,
        proto: Proto,
        cmd: Cmd,
        encode: impl FnOnce(&mut Vec<u8>),
    ) {
        if let Some(mesh) = &self.keys.mesh {
            plan.forward(
                shard,
                || tagged_buffer(mesh),
                |body| {
                    body.push(proto as u8);
                    body.push(cmd as u8);
                    encode(body);
                },
            );
        }
    }

    /// Runs one part of a multi-key command (`GET key`, `SET key value`...)
    /// on `shard`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_part_at(
        &self,
        plan: &mut RoundPlan,
        out: &mut Vec<u8>,
        shard: usize,
        part: Cmd,
        part_args: &[&[u8]],
        proto: Proto,
        now: u64,
    ) {
        let name = commands::NAMES[part as usize].as_bytes();
        let words = [
            name,
            part_args.first().copied().unwrap_or_default(),
            part_args.get(1).copied().unwrap_or_default(),
        ];
        let words = &words[..1 + part_args.len().min(2)];
        if shard == self.shard {
            let mut args = self.part_args.borrow_mut();
            args.set_words(words);
            let command = args.view(&[]);
            plan.here(out, |out| {
                self.execute_here(part, &command, proto, now, out)
            });
        } else {
            self.forward(plan, shard, proto, part, |body| {
                encode_command(words.iter().copied(), body)
            });
        }
    }

    /// Runs a key command against this shard's keys.
    pub(super) fn execute_here(
        &self,
        cmd: Cmd,
        command: &Command<'_>,
        proto: Proto,
        now: u64,
        out: &mut Vec<u8>,
    ) {
        let marks = self.keys.store.marks();
        self.keys.store.with_mut(|store| {
            let mut keys = ShardKeys::new(store, marks, self.keys.log.as_deref(), now);
            execute(cmd, command, &mut keys, proto, &self.here, out)
        });
    }
}

/// An empty mesh buffer with resp's protocol tag in place.
pub(super) fn tagged_buffer(mesh: &Mesh) -> Vec<u8> {
    let mut buffer = mesh.buffer();
    buffer.push(super::PROTOCOL.tag());
    buffer
}

/// Sends every non-empty outbox to its shard, then waits for each reply
/// (empty for a shard sent nothing), in shard order.
pub(super) async fn exchange(mesh: &Mesh, outboxes: &mut [Vec<u8>]) -> Vec<Vec<u8>> {
    let mut replies = Vec::with_capacity(outboxes.len());
    round::exchange(mesh, outboxes, &mut Vec::new(), |reply| replies.push(reply)).await;
    replies
}
