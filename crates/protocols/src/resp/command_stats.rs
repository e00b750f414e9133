//! Per-shard command statistics for INFO's commandstats, errorstats and
//! latencystats sections (issue 26), as Redis 7.0 keeps them: per command,
//! calls, microseconds, calls rejected before they ran and calls that ran
//! and answered an error; per error prefix (`ERR`, `WRONGTYPE`...), the
//! error replies; per command, a latency histogram.
//!
//! Each shard keeps its own ([`CommandStats`], in the shard's `RespShard`):
//! an array indexed by the command's number, so counting costs an index and
//! two adds, no lock and no shared memory. INFO gathers every shard's
//! ([`CommandStats::write_shard`], one internal command per shard) and
//! merges them ([`Merged`], `command_stats_merged.rs`); CONFIG RESETSTAT clears them on every shard.
//!
//! Calls are counted on the connection's shard, once per client command;
//! time, latency and failures where the command ran. A command split into
//! parts over several shards (MGET, DEL over shards) is timed as its parts,
//! under the part's name (README).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;

use hdrhistogram::Histogram;

pub use super::command_stats_merged::Merged;
use super::command_table;
use super::commands::{Cmd, NAMES};
use super::protocol::Command;

/// What a command's figures are kept under: its number, or, for a
/// container's subcommand, its name (`config|get`), as Redis 7.0 keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Cmd(Cmd),
    Sub(&'static str),
}

impl From<Cmd> for Key {
    fn from(cmd: Cmd) -> Key {
        Key::Cmd(cmd)
    }
}

/// The key of `command`, whose number is `cmd`.
pub fn key(cmd: Cmd, command: &Command<'_>) -> Key {
    let container = matches!(
        cmd,
        Cmd::Client
            | Cmd::Config
            | Cmd::Acl
            | Cmd::Command
            | Cmd::PubSub
            | Cmd::Cluster
            | Cmd::Function
            | Cmd::Script
            | Cmd::Object
    );
    if container && command.len() >= 2 {
        let sub = command_table::lookup(NAMES[cmd as usize].as_bytes())
            .and_then(|parent| command_table::lookup_subcommand(parent, command.at(1)));
        if let Some(sub) = sub {
            return Key::Sub(sub.name);
        }
    }
    Key::Cmd(cmd)
}

/// One run in this many of a command is timed: two clock reads and a
/// histogram record per command cost a GET under `-P 16` about a tenth of
/// its CPU on this VM (results/scaling.md). The first run of each command
/// is always timed; `usec` is the timed runs' sum scaled to all runs.
const TIME_ONE_IN: u64 = 8;

/// One command's figures on one shard.
#[derive(Default)]
struct CommandStat {
    calls: u64,
    /// Runs on this shard (a command counts where its client is; a run,
    /// where its key is), and those of them timed.
    runs: u64,
    timed_runs: u64,
    /// Microseconds of the timed runs.
    timed_usec: u64,
    rejected: u64,
    failed: u64,
    /// Microseconds per timed run; made at the command's first run.
    latency: Option<Box<Histogram<u64>>>,
}

impl CommandStat {
    /// Microseconds of every run, estimated from the timed ones.
    fn usec(&self) -> u64 {
        if self.timed_runs == 0 {
            return 0;
        }
        (self.timed_usec as u128 * self.runs as u128 / self.timed_runs as u128) as u64
    }
}

#[derive(Default)]
struct Stats {
    commands: Vec<CommandStat>,
    /// Containers' subcommands, by name.
    subcommands: BTreeMap<&'static str, CommandStat>,
    /// Error replies per prefix (the error's first word).
    errors: BTreeMap<Vec<u8>, u64>,
    error_replies: u64,
}

impl Stats {
    fn of(&mut self, key: impl Into<Key>) -> &mut CommandStat {
        let cmd = match key.into() {
            Key::Cmd(cmd) => cmd,
            Key::Sub(name) => return self.subcommands.entry(name).or_default(),
        };
        let n = cmd as usize;
        if self.commands.len() <= n {
            self.commands
                .resize_with(NAMES.len().max(n + 1), Default::default);
        }
        &mut self.commands[n]
    }

    fn error(&mut self, reply: &[u8]) {
        self.error_replies += 1;
        let prefix = error_prefix(reply);
        if let Some(count) = self.errors.get_mut(prefix) {
            *count += 1;
        } else if self.errors.len() >= 128 {
            // Redis caps the distinct prefixes at 128 too.
            *self
                .errors
                .entry(b"ERRORSTATS_OVERFLOW".to_vec())
                .or_default() += 1;
        } else {
            self.errors.insert(prefix.to_vec(), 1);
        }
    }
}

/// The first word of an error reply (`-ERR wrong...` gives `ERR`).
fn error_prefix(reply: &[u8]) -> &[u8] {
    let body = reply.strip_prefix(b"-").unwrap_or(reply);
    let end = body
        .iter()
        .position(|&b| b == b' ' || b == b'\r')
        .unwrap_or(body.len());
    &body[..end]
}

/// One shard's command statistics, in its `RespShard`: reached only
/// through these synchronous methods, so no borrow of them outlives a call
/// (`observe` runs its command outside the borrow).
#[derive(Default)]
pub struct CommandStats {
    stats: RefCell<Stats>,
}

impl CommandStats {
    /// A client's command about to run on this shard (queued ones count when
    /// EXEC runs them).
    pub fn call(&self, cmd: impl Into<Key>) {
        self.stats.borrow_mut().of(cmd).calls += 1;
    }

    /// A command refused before it ran (wrong arity, NOAUTH, ...): `reply` is
    /// its error. An unknown command counts only as an error.
    pub fn rejected(&self, cmd: Option<Key>, reply: &[u8]) {
        let mut stats = self.stats.borrow_mut();
        if let Some(cmd) = cmd {
            stats.of(cmd).rejected += 1;
        }
        stats.error(reply);
    }

    /// An error reply that belongs to no command's run (a protocol error).
    pub fn error_reply(&self, reply: &[u8]) {
        self.stats.borrow_mut().error(reply);
    }

    /// Runs `run`, which writes `cmd`'s reply to `out`, and records its time
    /// and, if the reply is an error, the failure.
    pub fn observe<R>(
        &self,
        cmd: impl Into<Key>,
        out: &mut Vec<u8>,
        run: impl FnOnce(&mut Vec<u8>) -> R,
    ) -> R {
        let cmd = cmd.into();
        let start = out.len();
        let timed = {
            let mut stats = self.stats.borrow_mut();
            let stat = stats.of(cmd);
            stat.runs += 1;
            stat.runs % TIME_ONE_IN == 1
        };
        let began = timed.then(Instant::now);
        let result = run(out);
        self.record(cmd, began, out.get(start..).unwrap_or_default());
        result
    }

    /// `cmd` ran since `began` and answered `reply` (always timed: for the
    /// commands served over every shard, few and slow).
    pub fn ran(&self, cmd: impl Into<Key>, began: Instant, reply: &[u8]) {
        let cmd = cmd.into();
        self.stats.borrow_mut().of(cmd).runs += 1;
        self.record(cmd, Some(began), reply);
    }

    /// Records a run counted in `runs` already: its time if it was timed, its
    /// failure if `reply` is an error.
    fn record(&self, cmd: Key, began: Option<Instant>, reply: &[u8]) {
        let usec = began.map(|began| began.elapsed().as_micros() as u64);
        let failed = reply.first() == Some(&b'-');
        if usec.is_none() && !failed {
            return;
        }
        let mut stats = self.stats.borrow_mut();
        let stat = stats.of(cmd);
        if let Some(usec) = usec {
            stat.timed_runs += 1;
            stat.timed_usec += usec;
            let latency = stat
                .latency
                .get_or_insert_with(|| Box::new(percore::stats::new_latency_histogram()));
            latency.saturating_record(usec.max(1));
        }
        if failed {
            stat.failed += 1;
            stats.error(reply);
        }
    }

    /// CONFIG RESETSTAT on this shard.
    pub fn reset(&self) {
        *self.stats.borrow_mut() = Stats::default();
    }

    /// This shard's figures as text, for [`Merged::add`]: a line per command
    /// (`c name calls usec rejected failed value:count...`), per error prefix
    /// (`e count prefix`), and the error replies (`t count`).
    pub fn write_shard(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        let stats = self.stats.borrow();
        let commands = stats
            .commands
            .iter()
            .enumerate()
            .map(|(n, stat)| (NAMES[n], stat));
        let subcommands = stats.subcommands.iter().map(|(name, stat)| (*name, stat));
        for (name, stat) in commands.chain(subcommands) {
            let usec = stat.usec();
            if stat.calls + stat.rejected + stat.failed + usec == 0 && stat.latency.is_none() {
                continue;
            }
            let _ = write!(
                out,
                "c {name} {} {} {} {}",
                stat.calls, usec, stat.rejected, stat.failed
            );
            if let Some(latency) = &stat.latency {
                for value in latency.iter_recorded() {
                    let _ = write!(
                        out,
                        " {}:{}",
                        value.value_iterated_to(),
                        value.count_at_value()
                    );
                }
            }
            out.push(b'\n');
        }
        for (prefix, count) in &stats.errors {
            let _ = write!(out, "e {count} ");
            out.extend_from_slice(prefix);
            out.push(b'\n');
        }
        let _ = writeln!(out, "t {}", stats.error_replies);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_s_figures_travel_as_text_and_merge() {
        let stats = CommandStats::default();
        stats.call(Cmd::Get);
        stats.call(Cmd::Get);
        let mut out = Vec::new();
        stats.observe(Cmd::Get, &mut out, |out| {
            out.extend_from_slice(b"$1\r\nx\r\n")
        });
        stats.observe(Cmd::Incr, &mut out, |out| {
            out.extend_from_slice(b"-WRONGTYPE Operation\r\n")
        });
        stats.rejected(Some(Key::Cmd(Cmd::Set)), b"-ERR wrong number\r\n");
        stats.call(Key::Sub("config|get"));
        stats.rejected(None, b"-ERR unknown command\r\n");
        let mut text = Vec::new();
        stats.write_shard(&mut text);
        let mut merged = Merged::default();
        merged.add(&text);
        merged.add(&text);
        let mut lines = String::new();
        merged.commandstats(&mut lines);
        assert!(lines.contains("cmdstat_get:calls=4,"), "{lines}");
        assert!(
            lines.contains("rejected_calls=2,failed_calls=0\r\n"),
            "{lines}"
        );
        assert!(lines.contains("cmdstat_incr:calls=0,"), "{lines}");
        assert!(lines.contains("cmdstat_config|get:calls=2,"), "{lines}");
        let mut errors = String::new();
        merged.errorstats(&mut errors);
        assert_eq!(
            errors,
            "errorstat_ERR:count=4\r\nerrorstat_WRONGTYPE:count=2\r\n"
        );
        assert_eq!(merged.error_replies, 6);
        let mut latency = String::new();
        merged.latencystats(&mut latency);
        assert!(
            latency.starts_with("latency_percentiles_usec_get:p50="),
            "{latency}"
        );
        stats.reset();
        let mut empty = Vec::new();
        stats.write_shard(&mut empty);
        assert_eq!(empty, b"t 0\n");
    }
}
