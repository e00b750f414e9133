//! ACL users (issue 26): SETUSER, DELUSER, GETUSER, LIST, USERS, WHOAMI,
//! AUTH and HELLO AUTH against the user table, RESET back to `default`,
//! and all-or-nothing permissions (NOPERM), compared byte for byte with
//! redis-server 7.0; the `user=` of CLIENT INFO; a deleted user's
//! connections closed; and users being server-wide: set through one shard's
//! connection, they authenticate a connection of the other shard.

use crate::common::resp::{assert_sequence_same_as_redis, connect_on, redis, RedisServer, Resp};
use crate::common::*;

/// The rules percore models, Redis's replies to them, and its errors.
const TABLE: &[&str] = &[
    "ACL WHOAMI",
    "ACL LIST",
    "ACL USERS",
    "ACL GETUSER default",
    "ACL SETUSER user1 on >secret +@all",
    "ACL GETUSER user1",
    "AUTH user1 secret",
    "ACL WHOAMI",
    "RESET",
    "ACL WHOAMI",
    "CLIENT KILL USER user1",
    "CLIENT KILL USER nosuch",
    "AUTH user1 wrong",
    "AUTH nosuch secret",
    "AUTH secret",
    "ACL SETUSER user2",
    "ACL GETUSER user2",
    "ACL SETUSER user2 reset",
    "ACL GETUSER user2",
    "ACL SETUSER user2 on nopass allkeys allchannels allcommands",
    "ACL LIST",
    "ACL SETUSER user2 resetpass >a >b >a <a",
    "ACL GETUSER user2",
    "ACL SETUSER user2 #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
    "ACL SETUSER user2 !2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
    "ACL SETUSER user2 resetkeys resetchannels nocommands skip-sanitize-payload",
    "ACL LIST",
    "ACL SETUSER user2 off ~* &* -@all +@all sanitize-payload",
    "ACL LIST",
    "AUTH user2 b",
    "ACL SETUSER user2 on",
    "HELLO 3 AUTH user2 wrong",
    "HELLO 3 AUTH nosuch b",
    "AUTH user2 b",
    "ACL WHOAMI",
    "RESET",
    "ACL SETUSER user3 foo",
    "ACL SETUSER user3 ~* ~a",
    "ACL SETUSER user3 &* &a",
    "ACL SETUSER user3 <nope",
    "ACL SETUSER user3 #abc",
    "ACL SETUSER user3 !abc",
    "ACL GETUSER user3",
    "ACL USERS",
    "ACL DELUSER default",
    "ACL DELUSER user1 default",
    "ACL DELUSER user1 user2 nosuch",
    "ACL DELUSER user1",
    "ACL USERS",
    "ACL GETUSER user1",
    "AUTH user1 secret",
    "ACL",
    "ACL FOO",
    "ACL SETUSER",
    "ACL DELUSER",
    "ACL GETUSER",
    "ACL GETUSER a b",
    "ACL LIST x",
    "ACL USERS x",
    "ACL WHOAMI x",
    "ACL LOAD",
    "ACL SAVE",
];

/// What a user without every command, key or channel is refused.
const PERMISSIONS: &[&str] = &[
    "SET k v",
    "ACL SETUSER none on >p",
    "AUTH none p",
    "GET k",
    "PING",
    "ACL WHOAMI",
    "CLIENT ID",
    "MULTI",
    "RESET",
    "ACL SETUSER nokeys on >p +@all",
    "AUTH nokeys p",
    "GET k",
    "MSET a 1 b 2",
    "PING",
    "ACL WHOAMI",
    "PUBLISH c m",
    "SPUBLISH c m",
    "SUBSCRIBE c",
    "MULTI",
    "GET k",
    "PING",
    "EXEC",
    // Its own permissions widened: in force from its next command.
    "ACL SETUSER nokeys ~*",
    "GET k",
    "PUBLISH c m",
    "ACL SETUSER nokeys &*",
    "PUBLISH c m",
    "ACL SETUSER nokeys -@all",
    "GET k",
    "AUTH nokeys p",
    "RESET",
    "ACL WHOAMI",
    "ACL DELUSER none nokeys",
];

#[test]
fn acl_users_as_redis() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let redis = redis();
    assert_sequence_same_as_redis(server.addr("resp"), &redis, TABLE);
    assert_sequence_same_as_redis(server.addr("resp"), &redis, PERMISSIONS);
}

/// With `--requirepass`, `default` has that password; ACL SETUSER default
/// nopass opens the server to connections that never AUTH, and a new
/// password closes it again.
#[test]
fn default_user_is_requirepass_as_redis() {
    const PASS: &str = "s3cret";
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(2)
        .args(&["--requirepass", PASS])
        .start();
    let redis = RedisServer::start_on(free_port(), &["--requirepass", PASS])
        .expect("redis-server is installed (scripts/test installs it)");
    let lines = [
        "ACL WHOAMI",
        "AUTH default wrong",
        "AUTH s3cret",
        "ACL WHOAMI",
        "ACL LIST",
        "ACL GETUSER default",
        "RESET",
        "ACL WHOAMI",
        "HELLO 3 AUTH default wrong",
        "AUTH default s3cret",
        "ACL SETUSER default nopass",
        "RESET",
        "ACL WHOAMI",
        "GET k",
        "ACL SETUSER default resetpass >s3cret",
        "GET k",
        "RESET",
        "GET k",
        "AUTH s3cret",
        "ACL LIST",
    ];
    assert_sequence_same_as_redis(server.addr("resp"), &redis, &lines);
}

/// CLIENT INFO and CLIENT LIST name the connection's user, and CLIENT
/// KILL USER ends its connections.
#[test]
fn client_list_shows_the_user() {
    let server = TestServer::builder().services(&["resp"]).shards(2).start();
    let mut conn = Resp::connect(server.addr("resp"));
    assert_eq!(
        conn.cmd("ACL SETUSER user1 on >secret +@all ~* &*"),
        "+OK\r\n"
    );
    assert!(conn.cmd("CLIENT INFO").contains(" user=default "));
    assert_eq!(conn.cmd("AUTH user1 secret"), "+OK\r\n");
    assert!(conn.cmd("CLIENT INFO").contains(" user=user1 "));
    let mut other = Resp::connect(server.addr("resp"));
    assert!(other.cmd("CLIENT LIST").contains(" user=user1 "));
    assert_eq!(conn.cmd("RESET"), "+RESET\r\n");
    assert!(conn.cmd("CLIENT INFO").contains(" user=default "));
    assert_eq!(conn.cmd("AUTH user1 secret"), "+OK\r\n");
    assert_eq!(other.cmd("CLIENT KILL USER user1"), ":1\r\n");
    assert_eq!(conn.rest_until_closed(), b"");
}

/// ACL DELUSER ends the connections authenticated as the user, on every
/// shard (percore: at their next command; Redis: at once), with no reply.
#[test]
fn a_deleted_users_connections_close() {
    let shards = 2;
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    let mut admin = connect_on(shards, addr, 0);
    assert_eq!(admin.cmd("ACL SETUSER gone on >p +@all ~* &*"), "+OK\r\n");
    let mut users: Vec<Resp> = (0..shards)
        .map(|shard| connect_on(shards, addr, shard))
        .collect();
    for user in &mut users {
        assert_eq!(user.cmd("AUTH gone p"), "+OK\r\n");
    }
    assert_eq!(admin.cmd("ACL DELUSER gone"), ":1\r\n");
    for user in &mut users {
        user.send_cmd("PING");
        assert_eq!(user.rest_until_closed(), b"");
    }
    // Made again under the same name: a connection of the old one is not
    // one of the new one's.
    let mut old = connect_on(shards, addr, 1);
    assert_eq!(admin.cmd("ACL SETUSER again on >p +@all"), "+OK\r\n");
    assert_eq!(old.cmd("AUTH again p"), "+OK\r\n");
    assert_eq!(admin.cmd("ACL DELUSER again"), ":1\r\n");
    assert_eq!(admin.cmd("ACL SETUSER again on >p +@all"), "+OK\r\n");
    old.send_cmd("PING");
    assert_eq!(old.rest_until_closed(), b"");
    assert_eq!(admin.cmd("PING"), "+PONG\r\n");
}

/// Users are server-wide: set through shard 0's connection, a user
/// authenticates a connection of shard 1, its changes hold there from the
/// next command, and its deletion through shard 1 refuses it on shard 0.
#[test]
fn users_are_the_same_on_every_shard() {
    let shards = 2;
    let server = TestServer::builder()
        .services(&["resp"])
        .shards(shards)
        .start();
    let addr = server.addr("resp");
    let mut zero = connect_on(shards, addr, 0);
    let mut one = connect_on(shards, addr, 1);
    assert_eq!(
        zero.cmd("ACL SETUSER user1 on >secret +@all ~* &*"),
        "+OK\r\n"
    );
    // HELLO's AUTH as well as AUTH's.
    assert!(one.cmd("HELLO 2 AUTH user1 secret").starts_with("*14\r\n"));
    assert_eq!(one.cmd("ACL WHOAMI"), "$5\r\nuser1\r\n");
    assert_eq!(one.cmd("SET k v"), "+OK\r\n");
    assert_eq!(zero.cmd("ACL SETUSER user1 resetkeys"), "+OK\r\n");
    assert_eq!(
        one.cmd("GET k"),
        "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
    );
    assert_eq!(one.cmd("ACL USERS"), zero.cmd("ACL USERS"));
    assert_eq!(one.cmd("ACL LIST"), zero.cmd("ACL LIST"));
    assert_eq!(one.cmd("RESET"), "+RESET\r\n");
    assert_eq!(one.cmd("ACL DELUSER user1"), ":1\r\n");
    assert_eq!(
        zero.cmd("AUTH user1 secret"),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(zero.cmd("ACL USERS"), "*1\r\n$7\r\ndefault\r\n");
}
