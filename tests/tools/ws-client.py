#!/usr/bin/python3
"""ws-client.py -- python3-websockets scenarios against the WebSocket transport; each prints
one JSON line of what it saw, the shell test judges it.
  ws-client.py stream URL N          the first N messages (JSON), and the seconds they took
  ws-client.py subscribe URL SECONDS subscribes to agreements, checkpoints and modes; counts
                                     events (the last mode event in "mode")
  ws-client.py refused URL           the HTTP status of a refused upgrade (and its
                                     WWW-Authenticate header)
  ws-client.py close URL             the close code and reason after the first messages
  ws-client.py slow URL SECONDS      connects and never reads; reports whether it was dropped
  ws-client.py big URL               sends an 8 KiB message; the close code
WS_TOKEN: sent as an Authorization: Bearer header. For wss:// URLs: WS_CA (the CA to
trust), WS_CERT and WS_KEY (a client certificate). WS_READY_FILE (close): written once the
stream is open."""
import asyncio
import json
import os
import socket
import ssl
import sys
import time

import websockets


def tls():
    # wss:// trusts $WS_CA and presents $WS_CERT / $WS_KEY when set.
    if not os.environ.get("WS_CA"):
        return None
    ctx = ssl.create_default_context(cafile=os.environ["WS_CA"])
    if os.environ.get("WS_CERT"):
        ctx.load_cert_chain(os.environ["WS_CERT"], os.environ["WS_KEY"])
    return ctx


def headers():
    # $WS_TOKEN as a bearer token in the Authorization header.
    token = os.environ.get("WS_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


async def stream(url, n):
    t0 = time.monotonic()
    async with websockets.connect(url, ssl=tls(), extra_headers=headers()) as ws:
        msgs = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(n)]
    return {"messages": msgs, "seconds": time.monotonic() - t0}


async def subscribe(url, seconds):
    counts = {"agreement": 0, "checkpoint": 0, "time": 0, "subscribed": None, "mode": None,
              "others": []}  # every message that is not a time frame, as received
    async with websockets.connect(url, extra_headers=headers()) as ws:
        await ws.send(json.dumps({"subscribe": ["agreements", "checkpoints", "modes"]}))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, end - time.monotonic())))
            except asyncio.TimeoutError:
                break
            if not ("unix_seconds" in m or "timestamp" in m):
                counts["others"].append(m)
            if "subscribed" in m:
                counts["subscribed"] = m["subscribed"]
            elif m.get("event") == "mode":
                counts["mode"] = m
            elif m.get("event") in ("agreement", "checkpoint"):
                counts[m["event"]] += 1
                if m["event"] == "checkpoint":
                    counts["note_head"] = m["note"].split("\n")[0]
            elif "unix_seconds" in m or "timestamp" in m:
                counts["time"] += 1
    return counts


async def refused(url):
    try:
        async with websockets.connect(url, extra_headers=headers()):
            return {"status": 101}
    except websockets.exceptions.InvalidStatusCode as e:
        return {"status": e.status_code,
                "www_authenticate": e.headers.get("WWW-Authenticate", "")}


async def close(url):
    async with websockets.connect(url, extra_headers=headers()) as ws:
        if os.environ.get("WS_READY_FILE"):  # the stream is open: a test may act now
            with open(os.environ["WS_READY_FILE"], "w") as f:
                f.write("connected\n")
        msgs = []
        try:
            while True:
                msgs.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        except websockets.exceptions.ConnectionClosed as e:
            return {"code": e.code, "reason": e.reason, "messages": msgs}


async def big(url):
    async with websockets.connect(url, max_size=None, extra_headers=headers()) as ws:
        await ws.recv()
        await ws.send("x" * 8192)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.exceptions.ConnectionClosed as e:
            return {"code": e.code}


def slow(url, seconds):
    # A raw socket: upgrade, then never read, while the server keeps pushing.
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    s.connect((host, int(port)))
    auth = "".join(f"{k}: {v}\r\n" for k, v in headers().items())
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"{auth}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    time.sleep(seconds)
    s.setblocking(False)
    dropped = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                dropped = True
                break
    except BlockingIOError:
        pass
    except ConnectionResetError:
        dropped = True
    return {"dropped": dropped}


def main():
    cmd, url = sys.argv[1], sys.argv[2]
    if cmd == "slow":
        print(json.dumps(slow(url, float(sys.argv[3]))))
        return
    coro = {"stream": lambda: stream(url, int(sys.argv[3])),
            "subscribe": lambda: subscribe(url, float(sys.argv[3])),
            "refused": lambda: refused(url), "close": lambda: close(url),
            "big": lambda: big(url)}[cmd]()
    print(json.dumps(asyncio.run(coro)))


if __name__ == "__main__":
    main()
