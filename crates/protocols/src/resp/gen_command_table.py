#!/usr/bin/env python3
"""Generates the resp service's COMMAND table from a live redis-server 7.0.

Writes, next to this script:
  command_table/data.rs      the table: COMMAND INFO and COMMAND DOCS of every
                             command (and subcommand) percore serves
  command_table/captured.rs  what the unit tests compare against: a few of
                             redis's replies in full, and a hash of every
                             entry's COMMAND INFO and COMMAND DOCS reply

To rerun (from anywhere; needs python3 and redis-server 7.0.x on PATH, and
rustfmt for the lines it writes unformatted):

    python3 crates/protocols/src/resp/gen_command_table.py

It starts its own redis-server on a free port and stops it at the end; pass
`--port N` to ask a server already running instead. The commands served
are the rows of the registry, commands/table.rs (read by served() below),
and a container's subcommands are SUBCOMMANDS below: rerun it when either
changes.

How the replies are taken: raw RESP over a socket, once on a RESP2
connection and once on a connection that sent `HELLO 3`, for
`COMMAND INFO name` and `COMMAND DOCS name` of each served command and
subcommand. Each RESP3 reply is parsed into a typed tree, and the script
checks that writing that tree back gives redis's exact bytes in both
protocols before it uses it.

What differs from redis on purpose:
  * a container (CLIENT, CONFIG, ...) lists only the subcommands percore
    serves, sorted by name (redis's order is its hash table's, which changes
    with every start);
  * CLIENT SETINFO is not in 7.0 (it came in 7.2): its entry is written here
    in 7.0's shape with 7.2's values (arity 4, flags noscript loading stale,
    @slow @connection, no keys; docs from 7.2's client-setinfo.json).
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import time

# The subcommands percore serves, for each container it serves (the
# commands themselves are the registry"s rows, read by served() below).
SUBCOMMANDS = {
    "client": ["setname", "getname", "id", "setinfo", "list", "kill", "info", "reply", "no-evict", "unblock", "help", "tracking", "caching", "getredir", "trackinginfo"],
    "acl": ["setuser", "deluser", "getuser", "list", "users", "whoami", "help", "load", "save"],
    "memory": ["usage"],
    "object": ["encoding", "refcount", "idletime", "freq", "help"],
    "function": ["flush", "list", "load", "delete", "dump", "restore", "kill", "stats", "help"],
    "script": ["load", "exists", "flush", "kill", "help"],
    "pubsub": ["channels", "numsub", "numpat", "shardchannels", "shardnumsub"],
    "command": ["count", "info", "docs", "list", "getkeys", "getkeysandflags"],
    "config": ["get", "set", "resetstat", "rewrite", "help"],
    "cluster": ["slots", "shards", "nodes", "info", "myid", "keyslot", "countkeysinslot", "getkeysinslot", "help"],
}

# Subcommands redis 7.0 lacks, as typed trees (see parse below) in 7.0's
# shape: COMMAND INFO's entry and COMMAND DOCS's map.
SYNTHETIC = {
    # CLIENT SETINFO came in redis 7.2. 7.2's src/commands/client-setinfo.json:
    # arity 4, NOSCRIPT LOADING STALE (SENTINEL is never shown), acl
    # CONNECTION (and @slow, as for every command not fast), no keys.
    "client|setinfo": (
        (
            "array",
            [
                ("bulk", "client|setinfo"),
                ("int", 4),
                ("set", [("status", "noscript"), ("status", "loading"), ("status", "stale")]),
                ("int", 0),
                ("int", 0),
                ("int", 0),
                ("set", [("status", "@slow"), ("status", "@connection")]),
                ("set", []),
                ("set", []),
                ("set", []),
            ],
        ),
        (
            "map",
            [
                ("summary", ("bulk", "Sets information specific to the client or connection.")),
                ("since", ("bulk", "7.2.0")),
                ("group", ("bulk", "connection")),
                ("complexity", ("bulk", "O(1)")),
                (
                    "arguments",
                    (
                        "array",
                        [
                            (
                                "map",
                                [
                                    ("name", ("bulk", "attr")),
                                    ("type", ("bulk", "oneof")),
                                    (
                                        "arguments",
                                        (
                                            "array",
                                            [
                                                (
                                                    "map",
                                                    [
                                                        ("name", ("bulk", "libname")),
                                                        ("type", ("bulk", "string")),
                                                        ("token", ("bulk", "lib-name")),
                                                    ],
                                                ),
                                                (
                                                    "map",
                                                    [
                                                        ("name", ("bulk", "libver")),
                                                        ("type", ("bulk", "string")),
                                                        ("token", ("bulk", "lib-ver")),
                                                    ],
                                                ),
                                            ],
                                        ),
                                    ),
                                ],
                            )
                        ],
                    ),
                ),
            ],
        ),
    ),
}

# The replies the unit tests hold in full (the rest they check by hash).
FULL_INFO = ["get", "set", "mget", "client|kill", "nosuch"]
FULL_DOCS = ["get", "client|kill", "nosuch"]

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "command_table")
REGISTRY = os.path.join(HERE, "commands", "table.rs")


def served():
    """The commands percore's resp service serves, from the registry's rows
    (commands/table.rs: `b"NAME" => Variant, "name", arity, keys, route,
    [flags], handler;`), resp's own INTERNAL parts left out: name -> the
    subcommands it serves ([] for a plain command)."""
    with open(REGISTRY) as f:
        text = f.read()
    rows = re.findall(r'^\s*b"[^"]+" => \w+, "([^"]+)",.*\[([A-Z_ ]*)\], [^,;]+;$', text, re.M)
    names = [name for name, flags in rows if "INTERNAL" not in flags.split()]
    if not names:
        raise RuntimeError("no rows found in %s" % REGISTRY)
    unknown = set(SUBCOMMANDS) - set(names)
    if unknown:
        raise RuntimeError("SUBCOMMANDS of commands not served: %r" % sorted(unknown))
    return {name: SUBCOMMANDS.get(name, []) for name in names}


SERVED = served()


# ---------------------------------------------------------------- RESP


class Conn:
    def __init__(self, port, resp3):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        if resp3:
            self.call("HELLO", "3")

    def call(self, *args):
        """Sends a command; returns its reply's exact bytes."""
        args = [a.encode() if isinstance(a, str) else a for a in args]
        req = b"*%d\r\n" % len(args)
        for a in args:
            req += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(req)
        return self.read_raw()

    def read_raw(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise RuntimeError("connection closed: %r" % line)
        kind, body = line[:1], line[1:-2]
        if kind in b"+-:_#,(":
            return line
        if kind in b"$=!":
            n = int(body)
            return line if n < 0 else line + self.file.read(n + 2)
        if kind in b"*~>%|":
            n = int(body)
            if n < 0:
                return line
            if kind in b"%|":
                n *= 2
            return line + b"".join(self.read_raw() for _ in range(n))
        raise RuntimeError("unexpected reply %r" % line)

    def close(self):
        self.file.close()
        self.sock.close()


def parse(raw):
    """A RESP3 reply as a typed tree: ("bulk", str), ("status", str),
    ("int", n), ("null",), ("array", [..]), ("set", [..]),
    ("map", [(key str, value), ..]) (keys are always bulk strings here)."""

    def node(pos):
        end = raw.index(b"\r\n", pos)
        kind, body = raw[pos : pos + 1], raw[pos + 1 : end].decode()
        pos = end + 2
        if kind == b"+":
            return ("status", body), pos
        if kind == b":":
            return ("int", int(body)), pos
        if kind == b"_":
            return ("null",), pos
        if kind == b"$":
            n = int(body)
            return ("bulk", raw[pos : pos + n].decode()), pos + n + 2
        if kind in (b"*", b"~"):
            items = []
            for _ in range(int(body)):
                item, pos = node(pos)
                items.append(item)
            return ("array" if kind == b"*" else "set", items), pos
        if kind == b"%":
            pairs = []
            for _ in range(int(body)):
                key, pos = node(pos)
                if key[0] != "bulk":
                    raise RuntimeError("map key not a bulk string: %r" % (key,))
                value, pos = node(pos)
                pairs.append((key[1], value))
            return ("map", pairs), pos
        raise RuntimeError("unexpected RESP3 type %r" % kind)

    tree, end = node(0)
    if end != len(raw):
        raise RuntimeError("trailing bytes after reply")
    return tree


def write(tree, resp3):
    """The tree's bytes as redis writes them in RESP3 or RESP2."""
    kind = tree[0]
    if kind == "bulk":
        b = tree[1].encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)
    if kind == "status":
        return b"+%s\r\n" % tree[1].encode()
    if kind == "int":
        return b":%d\r\n" % tree[1]
    if kind == "null":
        return b"_\r\n" if resp3 else b"$-1\r\n"
    if kind in ("array", "set"):
        head = b"~" if kind == "set" and resp3 else b"*"
        return head + b"%d\r\n" % len(tree[1]) + b"".join(write(t, resp3) for t in tree[1])
    if kind == "map":
        pairs = tree[1]
        head = b"%%%d\r\n" % len(pairs) if resp3 else b"*%d\r\n" % (2 * len(pairs))
        return head + b"".join(write(("bulk", k), resp3) + write(v, resp3) for k, v in pairs)
    raise RuntimeError("unknown node %r" % (tree,))


def capture(c2, c3, *args):
    """Asks both connections; returns the parsed tree after checking that
    writing it back gives redis's bytes in both protocols."""
    raw2, raw3 = c2.call(*args), c3.call(*args)
    tree = parse(raw3)
    if write(tree, False) != raw2 or write(tree, True) != raw3:
        raise RuntimeError("writing %r back does not give redis's bytes" % (args,))
    return tree, raw2, raw3


# ---------------------------------------------------------------- capture


def capture_all(port):
    """Returns {fullname: (info entry tree, docs map tree)} for every served
    command and subcommand (containers filtered and sorted), and the raw
    replies the tests hold in full."""
    c2, c3 = Conn(port, False), Conn(port, True)
    info = c2.call("INFO", "server").decode()
    version = [l for l in info.split("\r\n") if l.startswith("redis_version:")][0]
    table = {}
    for name, subs in SERVED.items():
        info, _, _ = capture(c2, c3, "COMMAND", "INFO", name)
        docs, _, _ = capture(c2, c3, "COMMAND", "DOCS", name)
        entry = info[1][0]
        if entry[0] != "array" or entry[1][0] != ("bulk", name):
            raise RuntimeError("no COMMAND INFO for %s" % name)
        if docs[0] != "map" or len(docs[1]) != 1 or docs[1][0][0] != name:
            raise RuntimeError("no COMMAND DOCS for %s" % name)
        doc = docs[1][0][1]
        redis_subs = entry[1][9][1]
        sub_doc_fields = [v for k, v in doc[1] if k == "subcommands"]
        redis_sub_docs = dict(sub_doc_fields[0][1]) if sub_doc_fields else None
        if bool(subs) != bool(redis_subs):
            raise RuntimeError("%s: subcommands %r, redis has %d" % (name, subs, len(redis_subs)))
        if subs:
            by_name = {e[1][0][1]: e for e in redis_subs}
            sub_docs = dict(redis_sub_docs)
            kept = []
            for sub in sorted(subs):
                full = "%s|%s" % (name, sub)
                if full in SYNTHETIC:
                    sub_entry, sub_doc = SYNTHETIC[full]
                    if full in by_name:
                        raise RuntimeError("%s is in this redis now: drop SYNTHETIC" % full)
                else:
                    sub_entry, sub_doc = by_name[full], sub_docs[full]
                    # Each subcommand asked alone must agree with its
                    # container's reply.
                    alone, _, _ = capture(c2, c3, "COMMAND", "INFO", full)
                    alone_docs, _, _ = capture(c2, c3, "COMMAND", "DOCS", full)
                    if alone != ("array", [sub_entry]) or alone_docs != ("map", [(full, sub_doc)]):
                        raise RuntimeError("%s alone differs from %s's reply" % (full, name))
                if sub_entry[1][9] != ("set", []):
                    raise RuntimeError("%s has subcommands of its own" % full)
                table[full] = (sub_entry, sub_doc)
                kept.append((full, sub_entry, sub_doc))
            entry = ("array", entry[1][:9] + [("array", [k[1] for k in kept])])
            if doc[1][-1][0] != "subcommands":
                raise RuntimeError("%s: docs' subcommands not last" % name)
            doc = ("map", doc[1][:-1] + [("subcommands", ("map", [(k[0], k[2]) for k in kept]))])
        elif redis_sub_docs is not None:
            raise RuntimeError("%s: docs list subcommands" % name)
        table[name] = (entry, doc)
    full = {
        "info": [capture(c2, c3, "COMMAND", "INFO", *FULL_INFO)[1:]],
        "docs": [capture(c2, c3, "COMMAND", "DOCS", *FULL_DOCS)[1:]],
    }
    c2.close()
    c3.close()
    return version, table, full


# ---------------------------------------------------------------- Rust


def rust_str(s):
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    out.append('"')
    return "".join(out)


# Rust expressions to lay out: a str is an atom; ("seq", open, [items],
# close) is a list (`&[`...`]`, `Map(&[`...`])`); ("struct", open, [(field,
# expr)], close) a struct literal. layout() puts one on a line when it fits
# in WIDTH columns, else one item a line.
WIDTH = 100


def layout(expr, indent, tail, col=None):
    """expr's text at column col (indent when None) of a line indented by
    indent, followed by tail."""
    flat = flat_text(expr)
    col = indent if col is None else col
    if isinstance(expr, str) or col + len(flat) + len(tail) <= WIDTH:
        return flat + tail
    pad = " " * (indent + 4)
    if expr[0] == "seq":
        _, open_, items, close = expr
        lines = [pad + layout(i, indent + 4, ",") for i in items]
    else:
        _, open_, fields, close = expr
        lines = [pad + f + ": " + layout(e, indent + 4, ",", indent + 6 + len(f)) for f, e in fields]
    return open_ + "\n" + "\n".join(lines) + "\n" + " " * indent + close + tail


def flat_text(expr):
    if isinstance(expr, str):
        return expr
    if expr[0] == "seq":
        _, open_, items, close = expr
        return open_ + ", ".join(flat_text(i) for i in items) + close
    _, open_, fields, close = expr
    return open_ + " " + ", ".join(f + ": " + flat_text(e) for f, e in fields) + " " + close


def strs(items, kind):
    for item in items:
        if item[0] != kind:
            raise RuntimeError("expected %s, got %r" % (kind, item))
    return ("seq", "&[", [rust_str(i[1]) for i in items], "]")


def as_map(tree):
    if tree[0] != "map":
        raise RuntimeError("expected a map, got %r" % (tree,))
    return dict(tree[1]), [k for k, _ in tree[1]]


def get_int(tree):
    if tree[0] != "int":
        raise RuntimeError("expected an integer, got %r" % (tree,))
    return tree[1]


def key_spec(tree):
    spec, keys = as_map(tree)
    expect = (["notes"] if "notes" in spec else []) + ["flags", "begin_search", "find_keys"]
    if keys != expect:
        raise RuntimeError("key spec fields %r" % keys)
    notes = "Some(%s)" % rust_str(spec["notes"][1]) if "notes" in spec else "None"
    if spec["flags"][0] != "set":
        raise RuntimeError("key spec flags not a set")
    bs, bs_keys = as_map(spec["begin_search"])
    fk, fk_keys = as_map(spec["find_keys"])
    if bs_keys != ["type", "spec"] or fk_keys != ["type", "spec"]:
        raise RuntimeError("key spec begin_search/find_keys fields")
    bs_spec, bs_spec_keys = as_map(bs["spec"])
    fk_spec, fk_spec_keys = as_map(fk["spec"])
    bs_type, fk_type = bs["type"], fk["type"]
    if bs_type == ("bulk", "index") and bs_spec_keys == ["index"]:
        begin = "BeginSearch::Index { index: %d }" % get_int(bs_spec["index"])
    elif bs_type == ("bulk", "keyword") and bs_spec_keys == ["keyword", "startfrom"]:
        if bs_spec["keyword"][0] != "bulk":
            raise RuntimeError("keyword not a bulk string")
        begin = "BeginSearch::Keyword { keyword: %s, startfrom: %d }" % (
            rust_str(bs_spec["keyword"][1]),
            get_int(bs_spec["startfrom"]),
        )
    elif bs_type == ("bulk", "unknown") and bs_spec_keys == []:
        begin = "BeginSearch::Unknown"
    else:
        raise RuntimeError("begin_search %r" % (bs,))
    if fk_type == ("bulk", "range") and fk_spec_keys == ["lastkey", "keystep", "limit"]:
        find = "FindKeys::Range { lastkey: %d, keystep: %d, limit: %d }" % tuple(
            get_int(fk_spec[k]) for k in fk_spec_keys
        )
    elif fk_type == ("bulk", "keynum") and fk_spec_keys == ["keynumidx", "firstkey", "keystep"]:
        find = "FindKeys::Keynum { keynumidx: %d, firstkey: %d, keystep: %d }" % tuple(
            get_int(fk_spec[k]) for k in fk_spec_keys
        )
    elif fk_type == ("bulk", "unknown") and fk_spec_keys == []:
        find = "FindKeys::Unknown"
    else:
        raise RuntimeError("find_keys %r" % (fk,))
    return (
        "struct",
        "KeySpec {",
        [
            ("notes", notes),
            ("flags", strs(spec["flags"][1], "status")),
            ("begin_search", begin),
            ("find_keys", find),
        ],
        "}",
    )


def doc_value(tree):
    kind = tree[0]
    if kind == "bulk":
        return "Bulk(%s)" % rust_str(tree[1])
    if kind == "status":
        return "Status(%s)" % rust_str(tree[1])
    if kind == "int":
        return "Int(%d)" % tree[1]
    if kind in ("array", "set"):
        name = "Array" if kind == "array" else "Set"
        return ("seq", name + "(&[", [doc_value(t) for t in tree[1]], "])")
    if kind == "map":
        return ("seq", "Map(&[", doc_fields(tree[1])[2], "])")
    raise RuntimeError("no DocValue for %r" % (tree,))


def doc_fields(pairs):
    return ("seq", "&[", [("seq", "(", [rust_str(k), doc_value(v)], ")") for k, v in pairs], "]")


def rust_entry(table, name):
    entry, doc = table[name]
    f = entry[1]
    if len(f) != 10 or f[0] != ("bulk", name):
        raise RuntimeError("%s: entry shape" % name)
    for i, kind in ((2, "set"), (6, "set"), (7, "set"), (8, "set")):
        if f[i][0] != kind:
            raise RuntimeError("%s: field %d not a %s" % (name, i, kind))
    subs = f[9][1]
    if f[9][0] != ("array" if subs else "set"):
        raise RuntimeError("%s: subcommands field" % name)
    fields = doc[1]
    if subs:
        if fields[-1][0] != "subcommands":
            raise RuntimeError("%s: docs without subcommands" % name)
        fields = fields[:-1]
    elif any(k == "subcommands" for k, _ in fields):
        raise RuntimeError("%s: docs list subcommands" % name)
    sub_names = [s[1][0][1] for s in subs]
    return (
        "struct",
        "CommandEntry {",
        [
            ("name", rust_str(name)),
            ("arity", str(get_int(f[1]))),
            ("flags", strs(f[2][1], "status")),
            ("first_key", str(get_int(f[3]))),
            ("last_key", str(get_int(f[4]))),
            ("step", str(get_int(f[5]))),
            ("acl_categories", strs(f[6][1], "status")),
            ("tips", strs(f[7][1], "bulk")),
            ("key_specs", ("seq", "&[", [key_spec(k) for k in f[8][1]], "]")),
            ("subcommands", ("seq", "&[", [rust_entry(table, s) for s in sub_names], "]")),
            ("docs", doc_fields(fields)),
        ],
        "}",
    )


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def rust_bytes(raw):
    """A reply as a concat! of str literals, one RESP line each."""
    lines = [l + "\r\n" for l in raw.decode().split("\r\n")[:-1]]
    return "concat!(\n" + "".join("    %s,\n" % rust_str(l) for l in lines) + ")"


def generate(version, table, full):
    header = (
        "// Generated by crates/protocols/src/resp/gen_command_table.py from redis-server %s\n"
        "// (%s); do not edit: rerun the script.\n" % (version.split(":")[1], version)
    )
    top = sorted(SERVED)
    max_len = max(len(n) for n in table)
    data = (
        "//! The command table's data: what redis 7.0's `COMMAND INFO` and\n"
        "//! `COMMAND DOCS` say of every command percore's resp service serves.\n\n"
        + header
        + "\n// (Which of these the data uses depends on the commands served.)\n"
        "#[allow(unused_imports)]\n"
        "use super::DocValue::{Array, Bulk, Int, Map, Set, Status};\n"
        "#[allow(unused_imports)]\n"
        "use super::{BeginSearch, CommandEntry, FindKeys, KeySpec};\n\n"
        "/// The longest name in the table, a subcommand's `parent|sub` included.\n"
        "pub(super) const MAX_NAME_LEN: usize = %d;\n\n"
        "/// Every command served, sorted by name (for [`super::lookup`]'s binary\n"
        "/// search); a container's subcommands are sorted too.\n"
        "#[rustfmt::skip]\n"
        "pub static COMMANDS: &[CommandEntry] = &[\n" % max_len
        + "".join("    " + layout(rust_entry(table, n), 4, ",") + "\n" for n in top)
        + "];\n"
    )
    hashes = []
    for name in top:
        for n in [name] + ["%s|%s" % (name, s) for s in sorted(SERVED[name])]:
            entry, doc = table[n]
            info = ("array", [entry])
            docs = ("map", [(n, doc)])
            hashes.append(
                "    (%s, [0x%016x, 0x%016x], [0x%016x, 0x%016x]),\n"
                % (
                    rust_str(n),
                    fnv1a(write(info, False)),
                    fnv1a(write(info, True)),
                    fnv1a(write(docs, False)),
                    fnv1a(write(docs, True)),
                )
            )
    (info2, info3), (docs2, docs3) = full["info"][0], full["docs"][0]
    captured = (
        "//! What the command table's tests compare against: redis-server's own\n"
        "//! replies, taken by crates/protocols/src/resp/gen_command_table.py (raw RESP over a\n"
        "//! socket, on a RESP2 connection and on one that sent `HELLO 3`).\n\n"
        + header
        + "\n/// `COMMAND INFO %s`, RESP2 and RESP3, as redis wrote them.\n"
        % " ".join(FULL_INFO)
        + "pub(super) const INFO_NAMES: &[&str] = &[%s];\n" % ", ".join(rust_str(n) for n in FULL_INFO)
        + "#[rustfmt::skip]\npub(super) const INFO_RESP2: &str = %s;\n" % rust_bytes(info2)
        + "#[rustfmt::skip]\npub(super) const INFO_RESP3: &str = %s;\n\n" % rust_bytes(info3)
        + "/// `COMMAND DOCS %s`, RESP2 and RESP3, as redis wrote them.\n" % " ".join(FULL_DOCS)
        + "pub(super) const DOCS_NAMES: &[&str] = &[%s];\n" % ", ".join(rust_str(n) for n in FULL_DOCS)
        + "#[rustfmt::skip]\npub(super) const DOCS_RESP2: &str = %s;\n" % rust_bytes(docs2)
        + "#[rustfmt::skip]\npub(super) const DOCS_RESP3: &str = %s;\n\n" % rust_bytes(docs3)
        + "/// For every name in the table, the FNV-1a hash of redis's reply to\n"
        "/// `COMMAND INFO name` ([RESP2, RESP3]) and to `COMMAND DOCS name`. A\n"
        "/// container's replies are redis's with the subcommands percore does not\n"
        "/// serve taken out (and the rest sorted); CLIENT SETINFO's are 7.2's values\n"
        "/// in 7.0's shape.\n"
        "pub(super) const REPLY_HASHES: &[(&str, [u64; 2], [u64; 2])] = &[\n"
        + "".join(hashes)
        + "];\n"
    )
    paths = []
    for fname, text in (("data.rs", data), ("captured.rs", captured)):
        path = os.path.join(OUT_DIR, fname)
        with open(path, "w") as f:
            f.write(text)
        paths.append(path)
    try:
        subprocess.run(["rustfmt", "--edition", "2021"] + paths, check=True)
    except FileNotFoundError:
        print("rustfmt not found: run cargo fmt", file=sys.stderr)
    return paths


# ---------------------------------------------------------------- main


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, help="a redis-server already running (else one is started)")
    args = ap.parse_args()
    server = None
    port = args.port
    if port is None:
        port = free_port()
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
    try:
        version, table, full = capture_all(port)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    if not version.startswith("redis_version:7.0."):
        print("warning: %s, not 7.0" % version, file=sys.stderr)
    os.makedirs(OUT_DIR, exist_ok=True)
    for path in generate(version, table, full):
        print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    main()
