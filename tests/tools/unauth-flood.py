#!/usr/bin/python3
"""unauth-flood.py -- requests without a token to every route of every TCP transport of one
node, for the end-to-end tests: on REST, batches of 2,000 pipelined requests per route; on
WebSocket, upgrade requests; on gRPC, calls of every method; all for SECONDS. Prints one JSON
line: what was sent and the status each kind of answer had.

  unauth-flood.py flood REST_PORT WS_PORT GRPC_PORT SECONDS [SOURCE_ADDRESS]
  unauth-flood.py latency REST_PORT TOKEN SECONDS [SOURCE_ADDRESS]
      GET /v1/time with the token, 20 a second on one kept-alive connection: prints the
      median and 90th percentile of the answer times in ms."""
import collections
import json
import re
import socket
import sys
import threading
import time

import grpc

REST_ROUTES = [
    ("GET", "/v1/time?format=json"), ("GET", "/healthz"), ("GET", "/readyz"),
    ("GET", "/metrics"), ("GET", "/v1/status"), ("GET", "/v1/checkpoint"),
    ("GET", "/v1/proof/inclusion?index=0"), ("GET", "/v1/proof/consistency?from=1&to=2"),
    ("POST", "/time/sync"), ("GET", "/v1/time/sync"), ("POST", "/v1/events"),
    ("POST", "/time/shared-state"), ("POST", "/v1/time/shared-state"), ("GET", "/nowhere"),
    ("DELETE", "/v1/time"), ("BREW", "/v1/time"),
]
GRPC_METHODS = [
    "/uml001.ClockService/GetTime", "/uml001.ClockService/GetStatus",
    "/uml001.ClockService/AlignTime", "/aegisbridge.BridgeTimeService/GetTime",
    "/aegisbridge.BridgeTimeService/GetTimeAttested", "/uml001.ClockService/Nowhere",
]
BATCH = 2000
STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) ")


def connect(port, source):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def rest_worker(port, source, until, counts, lock):
    """Batches of BATCH pipelined requests per route; counts the answers' status codes."""
    while time.monotonic() < until:
        for method, path in REST_ROUTES:
            if time.monotonic() >= until:
                return
            body = b"x" if method == "POST" else b""
            one = (f"{method} {path} HTTP/1.1\r\nHost: q\r\nContent-Length: {len(body)}\r\n"
                   "\r\n").encode() + body
            try:
                s = connect(port, source)
                s.sendall(one * BATCH)
                s.shutdown(socket.SHUT_WR)
                data = bytearray()
                while True:
                    chunk = s.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
                s.close()
            except OSError as e:
                with lock:
                    counts["rest_error " + type(e).__name__] += 1
                continue
            with lock:
                counts["rest_sent"] += BATCH
                for m in STATUS_LINE.finditer(bytes(data)):
                    counts["rest_" + m.group(1).decode()] += 1


def ws_worker(port, source, until, counts, lock):
    """One upgrade request per connection, without a token."""
    request = (b"GET /v1/stream HTTP/1.1\r\nHost: q\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")
    while time.monotonic() < until:
        try:
            s = connect(port, source)
            s.sendall(request)
            head = s.recv(4096)
            s.close()
            status = head[9:12].decode() if head.startswith(b"HTTP/1.1 ") else "none"
        except OSError as e:
            status = "error " + type(e).__name__
        with lock:
            counts["ws_sent"] += 1
            counts["ws_" + status] += 1


def grpc_worker(port, until, counts, lock):
    """Calls of every method without the token, 200 in flight at a time."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        calls = [ch.unary_unary(m) for m in GRPC_METHODS]
        while time.monotonic() < until:
            futures = [calls[i % len(calls)].future(b"", timeout=10) for i in range(200)]
            for f in futures:
                try:
                    f.result()
                    code = "OK"
                except grpc.RpcError as e:
                    code = e.code().name
                with lock:
                    counts["grpc_sent"] += 1
                    counts["grpc_" + code] += 1


def flood(rest_port, ws_port, grpc_port, seconds, source):
    until = time.monotonic() + seconds
    counts, lock = collections.Counter(), threading.Lock()
    threads = [threading.Thread(target=rest_worker, args=(rest_port, source, until, counts, lock)),
               threading.Thread(target=ws_worker, args=(ws_port, source, until, counts, lock)),
               threading.Thread(target=grpc_worker, args=(grpc_port, until, counts, lock))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(dict(sorted(counts.items()))))


def latency(rest_port, token, seconds, source):
    request = (f"GET /v1/time?format=unix HTTP/1.1\r\nHost: q\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    s = connect(rest_port, source)
    times, statuses = [], collections.Counter()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        t0 = time.monotonic()
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(rest) < length:
            rest += s.recv(4096)
        times.append((time.monotonic() - t0) * 1000)
        statuses[head[9:12].decode()] += 1
        time.sleep(max(0, 0.05 - (time.monotonic() - t0)))
    s.close()
    times.sort()
    print(json.dumps({"p50_ms": times[len(times) // 2], "p90_ms": times[len(times) * 9 // 10],
                      "answers": len(times), "statuses": statuses}))


def main():
    if sys.argv[1] == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
              sys.argv[6] if len(sys.argv) > 6 else "127.0.0.1")
    elif sys.argv[1] == "latency":
        latency(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]),
                sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
