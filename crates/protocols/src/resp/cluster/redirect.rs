//! The redirect check (docs/PROTOCOLS.md §6.4): before a command is routed, on the shard
//! that read it, its keys are found where redis 7.0's COMMAND says they are
//! (first key, last key, step: the command's registry row), and a command whose keys are in different
//! slots gets `-CROSSSLOT`, one whose slot another node serves gets
//! `-MOVED <slot> <host>:<port>`, in that order, as redis-server's
//! `getNodeByQuery`. A command without keys is served here. The check reads
//! only this shard's copy of the cluster: a CRC16 of each key and a range
//! test, no allocation and no cross-shard hop.

use super::super::commands::{spec_of, Cmd};
use super::super::protocol::{write, Command};
use super::slot::key_slot;
use super::{Cluster, Node};

/// Why a command is not served on this node.
#[derive(Debug, PartialEq, Eq)]
pub enum Redirect<'c> {
    /// Its keys are in more than one slot.
    CrossSlot,
    /// Its keys' slot is served by `node`.
    Moved { slot: u16, node: &'c Node },
}

impl Redirect<'_> {
    /// The error reply, as redis-server writes it.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Redirect::CrossSlot => {
                write::error(out, "CROSSSLOT Keys in request don't hash to the same slot")
            }
            Redirect::Moved { slot, node } => {
                write::error(out, &format!("MOVED {slot} {}:{}", node.host, node.port))
            }
        }
    }
}

impl Cluster {
    /// Whether `command` (known, of arity checked) is served on this node:
    /// `Ok` when it has no keys or all its keys are in one slot this node
    /// serves.
    pub fn check(&self, cmd: Cmd, command: &Command<'_>) -> Result<(), Redirect<'_>> {
        let mut first: Option<(&[u8], u16)> = None;
        // Where redis 7.0's COMMAND says the keys are: the command's row
        // (none past the arguments given: a variadic command short of them
        // reports its own error).
        for i in spec_of(cmd).keys.positions(command.len()) {
            let key = command.at(i);
            match first {
                None => first = Some((key, key_slot(key))),
                Some((first_key, slot)) => {
                    if key != first_key && key_slot(key) != slot {
                        return Err(Redirect::CrossSlot);
                    }
                }
            }
        }
        match first {
            Some((_, slot)) if !self.owns(slot) => Err(Redirect::Moved {
                slot,
                node: self.owner(slot),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::commands::lookup;
    use super::super::super::protocol::{parse_command, Args};
    use super::*;

    /// `line`'s check on node `me` of a three-node cluster, as the reply.
    fn reply(me: &str, line: &str) -> String {
        let cluster = Cluster::from_options(
            Some("a=127.0.0.1:7001,b=127.0.0.1:7002,c=127.0.0.1:7003"),
            Some(me),
        )
        .expect("valid")
        .expect("a cluster");
        let mut frame = Vec::new();
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        super::super::super::protocol::encode_command(words.iter().copied(), &mut frame);
        let mut args = Args::default();
        parse_command(&frame, &mut args).expect("parses");
        let command = args.view(&frame);
        let spec = lookup(command.at(0)).expect("served");
        let mut out = Vec::new();
        if let Err(redirect) = cluster.check(spec.cmd, &command) {
            redirect.write(&mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn a_key_of_another_node_is_moved() {
        // foo is slot 12182 (node c), a is 15495 (c), {x}1 16287 (c).
        assert_eq!(reply("c", "GET foo"), "");
        assert_eq!(reply("a", "GET foo"), "-MOVED 12182 127.0.0.1:7003\r\n");
        assert_eq!(
            reply("b", "SET foo bar EX 10"),
            "-MOVED 12182 127.0.0.1:7003\r\n"
        );
        assert_eq!(
            reply("a", "DEL {x}1 {x}2"),
            "-MOVED 16287 127.0.0.1:7003\r\n"
        );
        assert_eq!(reply("a", "MGET a a"), "-MOVED 15495 127.0.0.1:7003\r\n");
        assert_eq!(
            reply("a", "SPUBLISH foo x"),
            "-MOVED 12182 127.0.0.1:7003\r\n"
        );
        assert_eq!(
            reply("a", "SSUBSCRIBE foo"),
            "-MOVED 12182 127.0.0.1:7003\r\n"
        );
    }

    #[test]
    fn keys_in_two_slots_are_crossslot_before_moved() {
        let crossslot = "-CROSSSLOT Keys in request don't hash to the same slot\r\n";
        for me in ["a", "b", "c"] {
            assert_eq!(reply(me, "MSET a 1 b 2"), crossslot);
            assert_eq!(reply(me, "MSET {a}x 1 b 2"), crossslot);
            assert_eq!(reply(me, "EXISTS a b"), crossslot);
            assert_eq!(reply(me, "SSUBSCRIBE a b"), crossslot);
            assert_eq!(reply(me, "SUNSUBSCRIBE foo bar"), crossslot);
        }
        assert_eq!(reply("c", "MSET {a}x 1 a 2"), "");
        // MSET's keys are every second argument: values are not keys.
        assert_eq!(reply("c", "MSET foo b foo c"), "");
    }

    #[test]
    fn commands_without_keys_are_served_here() {
        for line in [
            "PING",
            "PUBLISH foo x",
            "SUNSUBSCRIBE",
            "KEYS *",
            "DBSIZE",
            "CLUSTER KEYSLOT foo",
            "INFO",
        ] {
            assert_eq!(reply("b", line), "", "{line}");
        }
        // A variadic command short of arguments still has the keys it
        // names (the arity check, before this one, refuses MSET a).
        assert_eq!(reply("a", "MSET a"), "-MOVED 15495 127.0.0.1:7003\r\n");
        assert_eq!(
            reply("a", "MSET b 1 a"),
            "-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        );
    }
}
