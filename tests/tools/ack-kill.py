#!/usr/bin/env python3
# ack-kill.py -- posts one body to a node over HTTP/1.1 and kill -9s the node the instant a
# 2xx answer's status line arrives: what that answer acknowledged must survive the crash.
# Usage: ack-kill.py HOST PORT PATH BODYFILE PID [CONTENT_TYPE]
# Prints "STATUS MICROSECONDS" (the answer's status; the time from the request's last byte
# to its status line); exits 0 when an answer came, 1 otherwise. PID is killed only on 2xx.
import os
import signal
import socket
import sys
import time


def main():
    host, port, path, body_file, pid = sys.argv[1:6]
    ctype = sys.argv[6] if len(sys.argv) > 6 else "application/x-protobuf"
    with open(body_file, "rb") as f:
        body = f.read()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    s = socket.create_connection((host, int(port)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(head + body)
    sent = time.monotonic()
    got = b""
    while b"\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    took = int((time.monotonic() - sent) * 1e6)
    line = got.split(b"\r\n", 1)[0].split()
    if len(line) < 2:
        print(f"none {took}")
        return 1
    status = int(line[1])
    if 200 <= status < 300:
        os.kill(int(pid), signal.SIGKILL)  # the instant the answer is here
    print(f"{status} {took}")
    s.close()
    return 0


sys.exit(main())
