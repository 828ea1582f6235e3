#!/usr/bin/python3
"""ntp-probe.py -- a packet-level NTP client for the NTP transport's tests.
  ntp-probe.py time HOST PORT          one mode-3 request; prints the answer's fields as JSON
                                       (times in Unix ns; t1/t4 this machine's clock)
  ntp-probe.py raw HOST PORT HEX       sends HEX; prints "answer" or "none" (after 0.5 s)
  ntp-probe.py flood HOST PORT N [S]   N requests at once, from S sockets (source ports;
                                       default 1); prints JSON counts of answers with time
                                       and of kiss codes
  ntp-probe.py queued HOST PORT PID N WAIT
                                       stops process PID (SIGSTOP), sends N requests, lets
                                       them wait WAIT seconds in its socket, continues it
                                       (SIGCONT); prints JSON: answered, and the least and
                                       most of rx - t1 (ns; t1 each request's sending time)
  ntp-probe.py steady HOST PORT SECS   one request at a time for SECS seconds, each from a
                                       new source port; prints JSON: answered, lost (no
                                       answer within 0.5 s) and the strata seen"""
import json
import os
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800


def to_ns(ts: int) -> int:
    sec, frac = ts >> 32, ts & 0xFFFFFFFF
    return (sec - NTP_EPOCH) * 1_000_000_000 + (frac * 1_000_000_000 >> 32) if sec else 0


def request(xmit: bytes, version: int = 4) -> bytes:
    return bytes([(version << 3) | 3, 0, 6, 0]) + bytes(36) + xmit


def decode(data: bytes) -> dict:
    li_vn_mode, stratum, poll, precision, delay, disp, refid = struct.unpack("!BBbbII4s", data[:16])
    ref, org, rx, tx = struct.unpack("!QQQQ", data[16:48])
    return {
        "li": li_vn_mode >> 6, "vn": (li_vn_mode >> 3) & 7, "mode": li_vn_mode & 7,
        "stratum": stratum, "poll": poll, "precision": precision,
        "root_delay_ns": delay * 1_000_000_000 >> 16,
        "root_dispersion_ns": -(-disp * 1_000_000_000 >> 16),
        "refid": refid.decode("ascii", "replace").rstrip("\0"),
        "ref_ns": to_ns(ref), "origin": org, "rx_ns": to_ns(rx), "tx_ns": to_ns(tx),
        "len": len(data),
    }


def main() -> int:
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5 if cmd == "raw" else 2.0)
    if cmd == "time":
        xmit = os.urandom(8)
        t1 = time.clock_gettime_ns(time.CLOCK_REALTIME)
        sock.sendto(request(xmit), (host, port))
        data = sock.recv(1024)
        t4 = time.clock_gettime_ns(time.CLOCK_REALTIME)
        answer = decode(data)
        answer["origin_matches"] = answer["origin"] == int.from_bytes(xmit, "big")
        answer["t1_ns"], answer["t4_ns"] = t1, t4
        print(json.dumps(answer))
        return 0
    if cmd == "raw":
        sock.sendto(bytes.fromhex(sys.argv[4]), (host, port))
        try:
            sock.recv(1024)
            print("answer")
        except socket.timeout:
            print("none")
        return 0
    if cmd == "flood":
        n, count = int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else 1
        socks = [sock] + [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(count - 1)]
        for i in range(n):
            socks[i % count].sendto(request(struct.pack("!Q", i + 1)), (host, port))
        counts = {"time": 0, "kiss": {}}
        deadline = time.monotonic() + 1.0
        for s in socks:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                while True:
                    a = decode(s.recv(1024))
                    if a["stratum"] == 0:
                        counts["kiss"][a["refid"]] = counts["kiss"].get(a["refid"], 0) + 1
                    else:
                        counts["time"] += 1
                    s.settimeout(max(0.01, deadline - time.monotonic()))
            except socket.timeout:
                pass
        print(json.dumps(counts))
        return 0
    if cmd == "queued":
        import signal
        pid, n, wait = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
        sent = {}
        os.kill(pid, signal.SIGSTOP)
        # kill() returns before every thread has stopped: a worker on another core could
        # still answer the first requests. Wait until each thread says stopped ('T').
        for _ in range(500):
            states = []
            for tid in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        states.append(f.read().rsplit(")", 1)[1].split()[0])
                except OSError:
                    pass
            if states and all(st in "Tt" for st in states):
                break
            time.sleep(0.01)
        try:
            for i in range(n):
                xmit = struct.pack("!Q", 0x5155455545440000 + i)
                sent[int.from_bytes(xmit, "big")] = time.clock_gettime_ns(time.CLOCK_REALTIME)
                sock.sendto(request(xmit), (host, port))
            time.sleep(wait)
        finally:
            os.kill(pid, signal.SIGCONT)
        ages = []
        try:
            while len(ages) < n:
                a = decode(sock.recv(1024))
                if a["origin"] in sent and a["stratum"] != 0:
                    ages.append(a["rx_ns"] - sent[a["origin"]])
        except socket.timeout:
            pass
        print(json.dumps({"answered": len(ages), "min_rx_minus_t1_ns": min(ages, default=0),
                          "max_rx_minus_t1_ns": max(ages, default=0)}))
        return 0
    if cmd == "steady":
        end = time.monotonic() + float(sys.argv[4])
        result = {"answered": 0, "lost": 0, "strata": []}
        i = 0
        while time.monotonic() < end:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.5)
            i += 1
            s.sendto(request(struct.pack("!Q", i)), (host, port))
            try:
                a = decode(s.recv(1024))
                result["answered"] += 1
                if a["stratum"] not in result["strata"]:
                    result["strata"].append(a["stratum"])
            except socket.timeout:
                result["lost"] += 1
            s.close()
            time.sleep(0.002)
        print(json.dumps(result))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
