#!/usr/bin/python3
"""conn-hold.py -- connections that cost a server and give it nothing, for the overload test:
IDLE connections that send nothing (or, with --first-request, one request and then nothing)
and SLOW ones that dribble a request head that never ends, one byte every --interval
seconds (slowloris). It raises RLIMIT_NOFILE as far as it needs and may, opens them all,
writes "opened N" to --ready-file, and keeps them until the server closes each one or --hold
seconds pass. Then it prints one JSON object: per kind, how many were opened, how many the
server closed at once (within 0.5 s: refused at its connection cap), closed later (with
their lifetimes, seconds from connect to close) or left open.

Usage: conn-hold.py HOST PORT [--idle K] [--slow S] [--interval SEC] [--proto P]
                    [--first-request] [--hold SEC] [--ready-file FILE]
  --proto http (a request head), ws (a WebSocket upgrade), h2 (the HTTP/2 connection
  preface), h2-headers (preface and SETTINGS at once, then a HEADERS frame's header block)
  --first-request: idle connections first make one request (http: GET /healthz; h2: a
  gRPC GetStatus call), then send nothing
"""
import argparse
import errno
import json
import resource
import selectors
import socket
import statistics
import sys
import time

AT_ONCE_S = 0.5
OPEN_BATCH = 64


def slow_head(proto):
    """The bytes a slow client sends at once, and the ones it dribbles (never all of them)."""
    pad = b"a" * 4000
    if proto == "http":
        return b"", b"GET /v1/time HTTP/1.1\r\nHost: quorum\r\nX-Slow: " + pad
    if proto == "ws":
        return b"", (b"GET /v1/stream HTTP/1.1\r\nHost: quorum\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nX-Slow: " + pad)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # an empty SETTINGS frame
    if proto == "h2":
        return b"", preface + settings
    # A literal header "x-pad" (HPACK: without indexing, new name) whose 1000-byte value is
    # dribbled: every byte keeps the block valid, and it never ends.
    value_len = 1000
    block = b"\x00\x05x-pad\x7f" + bytes([0x80 | ((value_len - 127) & 0x7f),
                                           (value_len - 127) >> 7]) + b"a" * value_len
    header = len(block).to_bytes(3, "big") + b"\x01\x05" + (1).to_bytes(4, "big")
    return preface + settings + header, block


def h2_call(path):
    """The HTTP/2 preface, SETTINGS and one gRPC call of PATH with an empty message."""
    def literal(name, value):  # HPACK: literal without indexing, new name (short strings)
        return bytes([0, len(name)]) + name + bytes([len(value)]) + value
    block = b"".join(literal(n, v) for n, v in (
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
        (b":authority", b"quorum"), (b"content-type", b"application/grpc"),
        (b"te", b"trailers")))
    headers = len(block).to_bytes(3, "big") + b"\x01\x04" + (1).to_bytes(4, "big") + block
    data = b"\x00\x00\x05\x00\x01" + (1).to_bytes(4, "big") + b"\x00" * 5  # END_STREAM
    return slow_head("h2")[1] + headers + data


FIRST_REQUEST = {
    "http": b"GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\n",
    "h2": h2_call(b"/uml001.ClockService/GetStatus"),
}


class Conn:
    def __init__(self, sock, kind, started):
        self.sock = sock
        self.kind = kind
        self.started = started
        self.connected = None
        self.closed = None
        self.sent = 0
        self.next_send = 0.0


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    for limit in (max(need, hard), hard):  # root may raise the hard limit too
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, limit), limit))
            return min(need, limit)
        except (ValueError, OSError):
            continue
    return soft


def summary(conns):
    lives = sorted(c.closed - c.connected for c in conns
                   if c.closed is not None and c.connected is not None)
    at_once = sum(1 for x in lives if x < AT_ONCE_S)
    later = [x for x in lives if x >= AT_ONCE_S]
    out = {
        "opened": sum(1 for c in conns if c.connected is not None),
        "connect_failed": sum(1 for c in conns if c.connected is None),
        "closed_at_once": at_once,
        "closed": len(later),
        "open_at_end": sum(1 for c in conns if c.connected is not None and c.closed is None),
        "bytes_sent_max": max((c.sent for c in conns), default=0),
    }
    if later:
        out["lifetime_s"] = {"min": round(later[0], 3),
                             "median": round(statistics.median(later), 3),
                             "max": round(later[-1], 3)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--proto", default="http", choices=["http", "ws", "h2", "h2-headers"])
    ap.add_argument("--first-request", action="store_true")
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--ready-file")
    a = ap.parse_args()

    want = a.idle + a.slow
    limit = raise_nofile(want + 64)
    if limit < want + 16:
        print(json.dumps({"error": "RLIMIT_NOFILE is %d, %d connections need more"
                          % (limit, want)}))
        return 1
    burst, dribble = slow_head(a.proto)
    first = FIRST_REQUEST.get(a.proto, b"") if a.first_request else b""
    sel = selectors.DefaultSelector()
    conns = []
    t0 = time.monotonic()
    deadline = t0 + a.hold
    ready = False
    opened_after = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        pending = [c for c in conns if c.sock is not None and c.connected is None]
        # Connect in small batches, each once the last is through: a burst of thousands
        # would overflow the server's accept queue, whose dropped handshakes the client
        # takes for open connections the server never sees.
        if len(conns) < want and len(pending) == 0:
            for i in range(len(conns), min(want, len(conns) + OPEN_BATCH)):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                c = Conn(s, "idle" if i < a.idle else "slow", time.monotonic())
                err = s.connect_ex((a.host, a.port))
                if err not in (0, errno.EINPROGRESS):
                    s.close()
                    c.sock = None
                else:
                    sel.register(s, selectors.EVENT_WRITE, c)
                conns.append(c)
            continue
        if not ready and not pending and len(conns) == want:
            ready = True
            opened_after = now - t0
            if a.ready_file:
                with open(a.ready_file, "w") as f:
                    f.write("opened %d\n" % sum(1 for c in conns if c.connected))
        if ready and all(c.closed is not None or c.sock is None for c in conns):
            break
        timeout = min(0.05, max(0.0, deadline - now))
        for key, events in sel.select(timeout):
            c = key.data
            now = time.monotonic()
            if c.connected is None:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    sel.unregister(c.sock)
                    c.sock.close()
                    c.sock = None
                    continue
                c.connected = now
                sel.modify(c.sock, selectors.EVENT_READ, c)
                head = burst if c.kind == "slow" else first
                if head:
                    try:
                        c.sock.send(head)
                    except OSError:
                        pass
                # slow ones start dribbling at once, then every interval (staggered)
                c.next_send = now
                continue
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:  # the server closed it (FIN or reset)
                c.closed = now
                sel.unregister(c.sock)
                c.sock.close()
                c.sock = None
        now = time.monotonic()
        for c in conns:
            if (c.kind == "slow" and c.sock is not None and c.connected is not None
                    and now >= c.next_send and c.sent < len(dribble)):
                try:
                    c.sock.send(dribble[c.sent:c.sent + 1])
                    c.sent += 1
                except OSError:
                    pass
                c.next_send = now + a.interval
    result = {"seconds": round(time.monotonic() - t0, 3), "nofile": limit,
              "opened_after_s": round(opened_after, 3) if ready else None}
    for kind in ("idle", "slow"):
        mine = [c for c in conns if c.kind == kind]
        if mine:
            result[kind] = summary(mine)
    for c in conns:
        if c.sock is not None:
            c.sock.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
