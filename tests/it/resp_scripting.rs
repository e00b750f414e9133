//! resp's scripting commands and WAIT (issue 26): percore runs no scripts
//! and has no replicas. Where a redis-server 7.0 with no scripts, functions
//! or replicas gives an answer that is true of percore too, the reply is
//! redis's, byte for byte; running or storing a script is refused with an
//! error that says scripting is not served; COMMAND knows every one of them
//! (INFO, GETKEYS, LIST FILTERBY ACLCAT), as the Tcl suite asks.

use crate::common::resp::{assert_sequence_same_as_redis, redis, Resp};
use crate::common::*;

#[test]
fn a_server_with_no_scripts_answers_as_redis() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    assert_sequence_same_as_redis(
        server.addr("resp"),
        &redis,
        &[
            // WAIT: no replica acknowledged anything.
            "WAIT 0 0",
            "WAIT 0 10",
            "WAIT x 0",
            "WAIT 1 x",
            "WAIT 1 -1",
            "WAIT 1",
            // The script cache and the function libraries are empty.
            "SCRIPT EXISTS a b 0123456789abcdef0123456789abcdef01234567",
            "SCRIPT FLUSH",
            "SCRIPT FLUSH ASYNC",
            "SCRIPT FLUSH sync",
            "SCRIPT FLUSH now",
            "SCRIPT KILL",
            "SCRIPT EXISTS",
            "SCRIPT bogus",
            "FUNCTION FLUSH",
            "FUNCTION FLUSH ASYNC",
            "FUNCTION FLUSH later",
            "FUNCTION LIST",
            "FUNCTION DELETE mylib",
            "FUNCTION KILL",
            "FUNCTION bogus",
            // COMMAND knows them.
            "COMMAND INFO eval evalsha eval_ro evalsha_ro fcall fcall_ro wait",
            "COMMAND INFO script|kill function|load",
            "COMMAND GETKEYS eval x 2 k1 k2 a1",
            "COMMAND GETKEYS fcall f 1 k1",
            "COMMAND DOCS wait",
        ],
    );
}

#[test]
fn running_a_script_is_refused_with_the_reason() {
    let server = TestServer::builder().services(&["resp"]).start();
    let mut conn = Resp::connect(server.addr("resp"));
    for (line, name) in [
        ("EVAL return 0", "EVAL"),
        ("evalsha 0123 0", "EVALSHA"),
        ("EVAL_RO return 0", "EVAL_RO"),
        ("EVALSHA_RO 0123 0", "EVALSHA_RO"),
        ("FCALL f 0", "FCALL"),
        ("FCALL_RO f 0", "FCALL_RO"),
        ("SCRIPT LOAD return", "SCRIPT LOAD"),
        ("FUNCTION LOAD code", "FUNCTION LOAD"),
        ("FUNCTION RESTORE payload", "FUNCTION RESTORE"),
        ("FUNCTION DUMP", "FUNCTION DUMP"),
        ("FUNCTION STATS", "FUNCTION STATS"),
    ] {
        let reply = conn.cmd(line);
        assert!(
            reply.starts_with(&format!(
                "-ERR {name} is not served: percore runs no scripts"
            )),
            "{line}: {reply}"
        );
    }
    // The connection goes on.
    assert_eq!(conn.cmd("PING"), "+PONG\r\n");
    let list = conn.cmd("COMMAND LIST FILTERBY ACLCAT scripting");
    for name in ["eval", "fcall", "script|kill", "function|flush"] {
        assert!(
            list.contains(&format!("\r\n{name}\r\n")),
            "{name} in {list}"
        );
    }
    assert!(!list.contains("\r\nset\r\n"));
}
