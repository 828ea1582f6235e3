#!/usr/bin/python3
"""iso8601-check.py -- can Python's datetime read our RFC 3339 text the ways integrators do?
  iso8601-check.py TEXT NS
TEXT must be read by datetime.strptime(TEXT, "%Y-%m-%dT%H:%M:%S.%fZ") (which takes at most
six fraction digits), by datetime.fromisoformat(TEXT) (3.11 and later), and by what
datetime.fromisoformat did before 3.11 with the usual TEXT.replace("Z", "+00:00"): its
documented grammar YYYY-MM-DD[*HH[:MM[:SS[.fff[fff]]]][+HH:MM...]], checked here since this
machine has only one Python. Each must give the instant NS (ns since 1970) to the
microsecond, truncated. Exit 0 when all hold; else the reasons on stderr."""
import re
import sys
from datetime import datetime, timezone

text, ns = sys.argv[1], int(sys.argv[2])
# the instant to the microsecond, built without float rounding
secs, micros = divmod(ns // 1000, 1000000)
want = datetime.fromtimestamp(secs, tz=timezone.utc).replace(microsecond=micros)
bad = []
try:
    got = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    if got != want:
        bad.append(f"strptime %f gives {got}, wanted {want}")
except ValueError as e:
    bad.append(f"strptime %f: {e}")
try:
    got = datetime.fromisoformat(text)
    if got != want:
        bad.append(f"fromisoformat gives {got}, wanted {want}")
except ValueError as e:
    bad.append(f"fromisoformat: {e}")
legacy = text.replace("Z", "+00:00")
if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?\+00:00", legacy):
    bad.append(f"fromisoformat before 3.11 would refuse {legacy!r} (3 or 6 fraction digits)")
elif datetime.fromisoformat(legacy) != want:
    bad.append(f"{legacy!r} is not {want}")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
