#!/usr/bin/python3
"""check-metrics.py -- checks a /metrics exposition with the Prometheus client's own parser.
  check-metrics.py FILE [--dashboard JSON] [REQUIREMENT...]
FILE must parse (prometheus_client.parser); every family named quorum_*; each counter's
samples end in _total, no gauge's does; no family twice; units in names are base units
(no _ms, _us, _ns, _milliseconds, _kb ...). A REQUIREMENT is NAME{k="v",...}>=N or
NAME{...}==N (labels a subset of a sample's; >= compares the sum over the matching
samples): each must hold. --dashboard: every quorum_* metric the Grafana dashboard's
queries name is a sample name in FILE. Prints one line per family ("family N samples") and
exits 1 naming each failure."""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NON_BASE = re.compile(r"_(ms|us|ns|msec|usec|nsec|millis|milliseconds|microseconds|"
                      r"nanoseconds|kb|mb|gb|kib|mib|percent)(_total)?$")
REQ = re.compile(r"^([a-z_:][a-z0-9_:]*)(\{([^}]*)\})?(>=|==)([0-9.e+-]+)$")


def main(argv):
    args = argv[1:]
    dashboard = None
    if "--dashboard" in args:
        i = args.index("--dashboard")
        dashboard = args[i + 1]
        del args[i:i + 2]
    text = open(args[0], encoding="utf-8").read()
    failures = []
    samples = []
    seen = set()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's own complaint is the finding
        print(f"not parsed: {e}")
        return 1
    for fam in families:
        if fam.name in seen:
            failures.append(f"family {fam.name} twice")
        seen.add(fam.name)
        if not fam.name.startswith("quorum_"):
            failures.append(f"family {fam.name}: not quorum_*")
        if NON_BASE.search(fam.name):
            failures.append(f"family {fam.name}: not in a base unit")
        for s in fam.samples:
            if fam.type == "counter" and not s.name.endswith("_total") \
                    and not s.name.endswith("_created"):
                failures.append(f"counter sample {s.name} without _total")
            if fam.type == "gauge" and s.name.endswith("_total"):
                failures.append(f"gauge sample {s.name} ends in _total")
            samples.append(s)
        print(f"{fam.name} {fam.type} {len(fam.samples)} samples")
    # a family without samples yet (no refusal so far) still exists for a dashboard
    names = {s.name for s in samples} | {f.name for f in families} | \
        {f.name + "_total" for f in families if f.type == "counter"}
    for r in args[1:]:
        m = REQ.match(r)
        if not m:
            failures.append(f"requirement {r}: not understood")
            continue
        name, labels, op, value = m.group(1), m.group(3) or "", m.group(4), float(m.group(5))
        want = dict(re.findall(r'([a-z_]+)="([^"]*)"', labels))
        match = [s for s in samples if s.name == name
                 and all(s.labels.get(k) == v for k, v in want.items())]
        total = sum(s.value for s in match)
        if not match:
            failures.append(f"{r}: no such sample")
        elif op == ">=" and not total >= value:
            failures.append(f"{r}: is {total}")
        elif op == "==" and not total == value:
            failures.append(f"{r}: is {total}")
    if dashboard is not None:
        board = json.load(open(dashboard, encoding="utf-8"))
        exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
        if not exprs:
            failures.append("dashboard: no queries")
        queried = set()
        for e in exprs:
            queried.update(re.findall(r"\bquorum_[a-z0-9_]+", e))
        for q in sorted(queried):
            if q not in names:
                failures.append(f"dashboard queries {q}, which /metrics does not have")
        print(f"dashboard: {len(exprs)} queries over {len(queried)} metrics")
    for f in failures:
        print(f"FAIL {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
