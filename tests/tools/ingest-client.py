#!/usr/bin/python3
"""ingest-client.py -- the crash test's client: posts events (a SignedState whose event_id is
PREFIX.N) to a transport's POST /ingest, one after another, and writes each id the node
acknowledged (accepted, answered only after its vault fsync) to ACKFILE, one per line,
flushed at once. Stops at the first connection failure (the node was killed) or after
MAX events. Usage: ingest-client.py URL PREFIX ACKFILE [MAX]"""
import json
import sys
import urllib.error
import urllib.request


def signed_state(event_id: str) -> bytes:
    raw = event_id.encode()
    assert len(raw) < 128
    return b"\x12" + bytes([len(raw)]) + raw  # field 2 (event_id), length-delimited


def main() -> int:
    url, prefix, ackfile = sys.argv[1], sys.argv[2], sys.argv[3]
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 1 << 30
    sent = acked = 0
    with open(ackfile, "a", buffering=1) as acks:
        for n in range(limit):
            event_id = f"{prefix}.{n}"
            req = urllib.request.Request(url, data=signed_state(event_id), method="POST")
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    answer = json.loads(resp.read())
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                break
            sent += 1
            if answer.get("verdict") == "accept":
                acks.write(event_id + "\n")
                acked += 1
    print(f"sent={sent} acked={acked}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
