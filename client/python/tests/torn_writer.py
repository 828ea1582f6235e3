#!/usr/bin/python3
"""torn_writer.py -- a writer process of the tests' own for a clock page, to tear it under a
reader: usage torn_writer.py PATH MODE SECONDS.

It creates PATH (mode 0644) as a clock page of the layout quorumd writes and, for SECONDS:
  flip  publishes state after state, each under the seqlock (generation odd, fields, even),
        writing each state's fields in two halves with a pause between them, so that a
        reader that ignores the generation sees a page torn between two states;
  busy  keeps the generation odd (an update that never ends).
State k is consistent when every field is the one state_fields(k) gives; a reader can tell
a torn page from a whole one with consistent(). Prints "ready" once the page exists."""

import hashlib
import mmap
import os
import struct
import sys
import time

try:  # the installed package (PYTHONPATH, pip install), else the one beside the tests
    from quorum_time import clockpage
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from quorum_time import clockpage

BASE_ESTIMATE = 1_800_000_000 * 10**9


def state_fields(k, mono0):
    """The fields of state K (a dict of the page's fields but the generation)."""
    estimate = BASE_ESTIMATE + k * 10**9
    return {
        "magic": clockpage.MAGIC, "version": clockpage.VERSION, "size": clockpage.PAGE_SIZE,
        "status": 1, "drift_ppm": 0, "slew_ppm": 0, "n": 4, "f": 1, "accepted": 3,
        "writer_pid": os.getpid(), "ref_mono_ns": mono0, "ref_estimate_ns": estimate,
        "ref_earliest_ns": estimate - 1000 - k, "ref_latest_ns": estimate + 1000 + k,
        "line_mono_ns": mono0, "floor_base_ns": clockpage.INT64_MIN,
        "cap_base_ns": clockpage.INT64_MAX, "max_error_ns": 10**15, "drift_ns": k,
        "round": k, "warp_score": k / 1e6,
        "quorum_hash": hashlib.sha256(k.to_bytes(8, "little")).digest(),
    }


def consistent(page):
    """Whether PAGE (a clockpage.Page) is one state, not a mix of two."""
    want = state_fields(page.round, page.ref_mono_ns)
    return all(getattr(page, name) == value for name, value in want.items()
               if name != "writer_pid")


FIRST_HALF = ("ref_estimate_ns", "ref_earliest_ns", "round", "drift_ns")
SECOND_HALF = ("ref_latest_ns", "warp_score", "quorum_hash")


CODES = dict(zip(clockpage.FIELDS, clockpage.FIELD_CODES))


def put(m, name, value):
    """Writes field NAME of the page mapped at M."""
    offset, size = clockpage.OFFSETS[name]
    m[offset:offset + size] = struct.pack("=" + CODES[name], value)


def main():
    path, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    os.ftruncate(fd, clockpage.PAGE_SIZE)
    m = mmap.mmap(fd, clockpage.PAGE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    os.close(fd)
    mono0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    for name, value in state_fields(0, mono0).items():
        put(m, name, value)
    generation = 1 if mode == "busy" else 0
    put(m, "generation", generation)
    print("ready", flush=True)
    end = time.monotonic() + seconds
    if mode == "busy":
        time.sleep(seconds)
        return 0
    k = 0
    while time.monotonic() < end:
        k += 1
        fields = state_fields(k, mono0)
        generation += 1
        put(m, "generation", generation)  # odd: an update under way
        for name in FIRST_HALF:
            put(m, name, fields[name])
        for _ in range(200):  # the torn window, long enough for a reader to fall into
            pass
        for name in SECOND_HALF:
            put(m, name, fields[name])
        generation += 1
        put(m, "generation", generation)
        for _ in range(200):  # and a whole page for as long
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
