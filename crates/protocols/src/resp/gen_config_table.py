#!/usr/bin/env python3
"""Writes crates/protocols/src/resp/commands/config_table.rs: every configuration
parameter of Redis 7.0 (issue 26), read from Redis's own config table.

    python3 crates/protocols/src/resp/gen_config_table.py [--redis-src DIR]

Names, aliases, types, enum values, numeric bounds and units (memory,
percent, octal) and the IMMUTABLE, PROTECTED, HIDDEN and MULTI_ARG flags
come from `static_configs[]` in DIR/src/config.c (default
/work/redis-7.0.15, or $REDIS_SRC). Defaults come from a redis-server 7.0
(on PATH) started here without a config file and asked CONFIG GET for each
name, so that they read as Redis shows them (`save` as "3600 1 ...",
`client-output-buffer-limit` in bytes); the few that depend on how that
redis was started (port, unixsocket, dir) are set back to Redis's
documented defaults below. The TLS parameters are included: redis-server
7.0 as packaged is built with TLS and lists them.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "commands", "config_table.rs")

# What the redis started here reports differently from a plain start.
STARTED_AS = {"port": "6379", "unixsocket": "", "dir": ""}

BOUNDS = {
    "INT_MAX": 2**31 - 1, "INT_MIN": -(2**31), "UINT_MAX": 2**32 - 1,
    "LONG_MAX": 2**63 - 1, "LLONG_MAX": 2**63 - 1, "ULLONG_MAX": 2**64 - 1,
    "SSIZE_MAX": 2**63 - 1,
}

SPECIALS = {
    "setConfigDirOption": "Dir",
    "setConfigSaveOption": "Save",
    "setConfigClientOutputBufferLimitOption": "ClientOutputBufferLimit",
    "setConfigOOMScoreAdjValuesOption": "OomScoreAdjValues",
    "setConfigNotifyKeyspaceEventsOption": "NotifyKeyspaceEvents",
    "setConfigBindOption": "Bind",
    "setConfigReplicaOfOption": "ReplicaOf",
    "setConfigLatencyTrackingInfoPercentilesOutputOption": "Percentiles",
}

# Redis's numeric types whose bounds it checks as unsigned
# (numericBoundaryCheck).
UNSIGNED = {"UInt", "ULongLong", "SizeT"}


def split_args(text):
    """Splits a C argument list at its top-level commas."""
    args, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    args.append(cur.strip())
    return args


def bound(expr):
    expr = re.sub(r"(\d+)ll\b", r"\1", expr)
    if re.fullmatch(r"0[0-7]+", expr):
        return int(expr, 8)
    for name, value in BOUNDS.items():
        expr = re.sub(r"\b%s\b" % name, str(value), expr)
    return int(eval(expr, {"__builtins__": {}}))  # arithmetic on literals only


def enums(source):
    found = {}
    for name, body in re.findall(r"configEnum (\w+)\[\] = \{(.*?)\{NULL", source, re.S):
        found[name] = re.findall(r'\{"([^"]+)",\s*([^}]+?)\s*\}', body)
    return found


def parse(source):
    block = source[source.index("standardConfig static_configs[]"):]
    block = block[: block.index("{NULL}")]
    table = enums(source)
    params = []
    for kind, body in re.findall(r"create(\w+)Config\((.*)\),", block):
        a = split_args(body)
        name = a[0].strip('"')
        alias = None if a[1] == "NULL" else a[1].strip('"')
        flags = a[2]
        p = {"name": name, "alias": alias, "flags": flags}
        if kind == "Bool":
            p["kind"] = "Kind::Bool"
        elif kind in ("String", "SDS"):
            p["kind"] = "Kind::Text"
        elif kind == "Enum":
            values = table[a[3]]
            # The name Redis shows for a value: the first with that value
            # (configEnumGetName), e.g. oom-score-adj `relative` shows `yes`.
            shown = {}
            for n, v in values:
                shown.setdefault(v, n)
            pairs = ", ".join('("%s", "%s")' % (n, shown[v]) for n, v in values)
            multi = "MULTI_ARG_CONFIG" in flags
            p["kind"] = "Kind::%s(&[%s])" % ("Flags" if multi else "Enum", pairs)
        elif kind == "Special":
            p["kind"] = "Kind::Special(Special::%s)" % SPECIALS[a[3]]
        else:
            unit = a[7]
            if "PERCENT_CONFIG" in unit:
                unit = "Unit::MemoryOrPercent"
            elif "MEMORY_CONFIG" in unit:
                unit = "Unit::Memory"
            elif "OCTAL_CONFIG" in unit:
                unit = "Unit::Octal"
            else:
                unit = "Unit::Integer"
            p["kind"] = "Kind::Number { min: %d, max: %d, unit: %s, unsigned: %s }" % (
                bound(a[3]), bound(a[4]), unit, "true" if kind in UNSIGNED else "false")
        params.append(p)
    return params


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def defaults(names):
    """Each name's value as a redis-server started with no config file shows it."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while subprocess.run(["redis-cli", "-p", str(port), "ping"],
                                 capture_output=True).returncode != 0:
                if time.time() > deadline:
                    sys.exit("redis-server did not start")
                time.sleep(0.05)
            found = {}
            for name in names:
                out = subprocess.run(["redis-cli", "-p", str(port), "--no-raw", "config", "get", name],
                                     capture_output=True, text=True).stdout
                values = re.findall(r'^\d+\) "(.*)"$', out, re.M)
                if len(values) != 2:
                    sys.exit("no value for %s: %r" % (name, out))
                found[name] = values[1].encode().decode("unicode_escape")
            return found
        finally:
            server.terminate()
            server.wait()


def rust_string(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis-src", default=os.environ.get("REDIS_SRC", "/work/redis-7.0.15"))
    args = ap.parse_args()
    source = open(os.path.join(args.redis_src, "src", "config.c")).read()
    params = parse(source)
    values = defaults([p["name"] for p in params])
    values["bind"] = "* -::*"  # started with --bind 127.0.0.1: Redis's default
    values.update(STARTED_AS)
    lines = [
        "//! Every configuration parameter of Redis 7.0, from `static_configs[]` in",
        "//! Redis's src/config.c and the defaults a redis-server 7.0 shows (issue 26).",
        "//! Written by crates/protocols/src/resp/gen_config_table.py: do not edit; rerun it.",
        "",
        "use super::config_params::{Kind, Param, Special, Unit, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED};",
        "",
        "#[rustfmt::skip]",
        "pub const PARAMS: &[Param] = &[",
    ]
    for p in params:
        flags = [f for f, c in (("IMMUTABLE", "IMMUTABLE_CONFIG"), ("PROTECTED", "PROTECTED_CONFIG"),
                                ("HIDDEN", "HIDDEN_CONFIG"), ("MULTI_ARG", "MULTI_ARG_CONFIG"))
                 if c in p["flags"]]
        alias = "Some(%s)" % rust_string(p["alias"]) if p["alias"] else "None"
        lines.append("    Param { name: %s, alias: %s, flags: %s, default: %s, kind: %s }," % (
            rust_string(p["name"]), alias, " | ".join(flags) or "0",
            rust_string(values[p["name"]]), p["kind"]))
    lines.append("];")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d parameters" % (OUT, len(params)))


if __name__ == "__main__":
    main()
