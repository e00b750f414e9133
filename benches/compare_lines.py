"""The lines ../shared/bench/compare.sh prints (`LABEL {judge JSON ...}`),
read back for the A/B scripts in benches/: each label's rounds, in order.
A redis-benchmark run prints one line per test, its label then taken as
LABEL-TEST. Lines that are not a result are skipped; a failed run is shown
on stdout and skipped."""

import json


def rows(path):
    """{label: [result dict per round]} from compare.sh's output in `path`."""
    found = {}
    for line in open(path):
        if " {" not in line:
            continue
        label, text = line.split(" ", 1)
        try:
            result = json.loads(text)
        except ValueError:
            continue
        if "error" in result:
            print("ERROR", label, result)
            continue
        if result.get("test"):
            label += "-" + result["test"]
        found.setdefault(label, []).append(result)
    return found


def cpu_us(result):
    """Server CPU µs per request of one round."""
    return result["server_cpu"] / result["rps"] * 1e6
