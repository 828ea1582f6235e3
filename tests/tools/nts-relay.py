#!/usr/bin/python3
"""nts-relay.py -- an on-path attacker for the NTS tests: a UDP relay between one NTP
client and a server that alters NTS answers (RFC 8915 section 5) on their way back.

  nts-relay.py LISTEN_HOST LISTEN_PORT SERVER_HOST SERVER_PORT MODE_FILE

MODE_FILE holds the mode, read again before every datagram (a missing file is "pass"):
  pass           relay both ways unchanged
  authenticator  flip a bit of the authenticator field's nonce in each answer
  encrypted      flip a bit of the encrypted part (the ciphertext after its tag)
  tag            flip a bit of the ciphertext's tag (the synthetic IV)
  cookie         flip a bit inside the first cookie the answer carries (in the ciphertext)
  timestamps     flip a bit of the answer's receive and transmit timestamps
  uid            flip a bit of the Unique Identifier the answer echoes
  replay         answer each request with the first answer relayed (a replay)
  request-cookie flip a bit of the cookie in each request (the server must NAK it)
  request-authenticator  flip a bit of each request's authenticator (NAK too)
Each altered or replayed answer is counted; the counts are written to MODE_FILE.counts
as JSON after every datagram ({"mode": n, ...}, plus "relayed")."""
import json
import os
import select
import socket
import struct
import sys

EF_UID, EF_COOKIE, EF_AUTH = 0x0104, 0x0204, 0x0404


def fields(data):
    """The extension fields after the 48-byte header: (type, offset, length) each."""
    out, pos = [], 48
    while pos + 4 <= len(data):
        ftype, flen = struct.unpack("!HH", data[pos:pos + 4])
        if flen < 16 or flen % 4 or pos + flen > len(data):
            break
        out.append((ftype, pos, flen))
        pos += flen
    return out


def flip(data, offset):
    b = bytearray(data)
    b[offset] ^= 0x01
    return bytes(b)


def alter(mode, data):
    """The answer DATA altered as MODE says, or None when it has no such part."""
    if mode == "timestamps" and len(data) >= 48:
        return flip(flip(data, 39), 47)  # receive and transmit, lowest bits
    for ftype, pos, flen in fields(data):
        if ftype == EF_UID and mode == "uid":
            return flip(data, pos + 4)
        if ftype != EF_AUTH:
            continue
        nonce_len, ct_len = struct.unpack("!HH", data[pos + 4:pos + 8])
        nonce = pos + 8
        ct = nonce + ((nonce_len + 3) & ~3)
        if mode == "authenticator":
            return flip(data, nonce)
        if mode == "tag":
            return flip(data, ct + 3)
        if mode == "encrypted" and ct_len > 16:
            return flip(data, ct + ct_len - 1)
        if mode == "cookie" and ct_len > 16 + 4 + 8:
            return flip(data, ct + 16 + 4 + 8)  # past the tag and the cookie field's header
    return None


def read_mode(path):
    try:
        with open(path) as f:
            return f.read().strip() or "pass"
    except FileNotFoundError:
        return "pass"


def main():
    listen_host, listen_port, server_host, server_port, mode_file = sys.argv[1:6]
    down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    down.bind((listen_host, int(listen_port)))
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.connect((server_host, int(server_port)))
    client, first_answer, counts = None, None, {"relayed": 0}
    while True:
        ready, _, _ = select.select([down, up], [], [])
        mode = read_mode(mode_file)
        if down in ready:
            data, client = down.recvfrom(4096)
            if mode == "replay" and first_answer is not None:
                down.sendto(first_answer, client)
                counts["replay"] = counts.get("replay", 0) + 1
            else:
                for ftype, pos, flen in fields(data):
                    if (mode, ftype) in (("request-cookie", EF_COOKIE),
                                         ("request-authenticator", EF_AUTH)):
                        data = flip(data, pos + flen - 1)
                        counts[mode] = counts.get(mode, 0) + 1
                up.send(data)
        if up in ready:
            data = up.recv(4096)
            if first_answer is None and fields(data):
                first_answer = data
            altered = alter(mode, data) if not mode.startswith("request-") else None
            if altered is not None:
                data = altered
                counts[mode] = counts.get(mode, 0) + 1
            if client is not None:
                down.sendto(data, client)
                counts["relayed"] += 1
        tmp = mode_file + ".counts.tmp"
        with open(tmp, "w") as f:
            json.dump(counts, f)
        os.replace(tmp, mode_file + ".counts")


if __name__ == "__main__":
    main()
