#!/usr/bin/python3
"""witness-tool.py -- witnessed checkpoints checked independently of quorumd's code, for
tests/e2e/witness.sh. Everything is written here from the C2SP texts (signed-note,
tlog-checkpoint, tlog-cosignature/v1, tlog-witness) and our documented formats, with
python3-cryptography for Ed25519.

  verify NOTE LOG.pub [--witness W.pub]... [--min K]
        the log's note signature (key id byte 0x01) and each witness's cosignature (key id
        byte 0x04, "cosignature/v1\\ntime T\\n" + the note's text): exit 0 when the log's
        signature holds and at least K witnesses cosigned
  held STATE LOG_ID OUT
        the checkpoint of LOG_ID's log a witness-state file holds, written to OUT
  forks ORIGIN LOG.pub FILE...
        every checkpoint of ORIGIN signed by LOG.pub found in FILEs (signed notes, a
        witness-state file, `quorumctl vault dump --json` output): exit 1 when one size has
        two roots; prints how many checkpoints and sizes it saw
  forge --key NODE.key --node-id ID --from ADDR:PORT --to ADDR:PORT --size N --origin O
        plays a node whose log forked: signs a checkpoint of size N with a random root and
        sends it to a witness as an add-checkpoint request (uml001.merkle.checkpoint) in a
        peer-link gossip datagram from ADDR:PORT
"""
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014 "


def raw_pub(path):
    key = serialization.load_pem_public_key(open(path, "rb").read())
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name, algorithm, pub):
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + pub).digest()[:4]


def split_note(note):
    """(text, [(name, blob)]): the text ends at the blank line before the signatures."""
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise ValueError("no blank line")
    lines = []
    for line in sigs.split("\n"):
        if line == "":
            continue
        if not line.startswith(DASH):
            raise ValueError("not a signature line: %r" % line)
        name, _, b64 = line[len(DASH):].rpartition(" ")
        lines.append((name, base64.b64decode(b64, validate=True)))
    return text + "\n", lines


def checkpoint_of(text):
    lines = text.split("\n")
    return lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)


def log_signed(note, pub):
    text, lines = split_note(note)
    origin = text.split("\n")[0]
    for name, blob in lines:
        if name == origin and len(blob) == 68 and blob[:4] == key_hash(name, 1, pub):
            try:
                Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], text.encode())
                return True
            except InvalidSignature:
                return False
    return False


def cosigned(note, pub):
    """(name, timestamp) of a valid cosignature by PUB, or None."""
    text, lines = split_note(note)
    for name, blob in lines:
        if len(blob) != 76 or blob[:4] != key_hash(name, 4, pub):
            continue
        ts = struct.unpack(">Q", blob[4:12])[0]
        msg = b"cosignature/v1\ntime %d\n" % ts + text.encode()
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[12:], msg)
            return name, ts
        except InvalidSignature:
            return None
    return None


def cmd_verify(args):
    note_path, log_pub, witnesses, need = args[0], args[1], [], None
    rest = args[2:]
    while rest:
        if rest[0] == "--witness":
            witnesses.append(rest[1])
        elif rest[0] == "--min":
            need = int(rest[1])
        else:
            raise SystemExit("verify: unknown option " + rest[0])
        rest = rest[2:]
    note = open(note_path, encoding="utf-8").read()
    if not log_signed(note, raw_pub(log_pub)):
        print("log signature: INVALID")
        return 1
    count = 0
    for w in witnesses:
        got = cosigned(note, raw_pub(w))
        print("%s: %s" % (w, "cosigned by %s at %d" % got if got else "no valid cosignature"))
        count += got is not None
    need = len(witnesses) if need is None else need
    print("log signature valid; %d of %d witnesses cosigned, %d required" %
          (count, len(witnesses), need))
    return 0 if count >= need else 1


def state_entries(data):
    """[(log id, note)] of a witness-state file."""
    header = "quorum-witness-state/v1\n"
    if not data.startswith(header.encode()):
        raise ValueError("not a witness-state file")
    pos, out = len(header), []
    while pos < len(data):
        nl = data.index(b"\n", pos)
        word, log, length = data[pos:nl].decode().split(" ")
        assert word == "log"
        start = nl + 1
        out.append((log, data[start:start + int(length)].decode()))
        pos = start + int(length)
    return out


def cmd_held(args):
    data = open(args[0], "rb").read()
    for log, note in state_entries(data):
        if log == args[1]:
            open(args[2], "w", encoding="utf-8").write(note)
            return 0
    return 1


def notes_in(path):
    data = open(path, "rb").read()
    if data.startswith(b"quorum-witness-state/v1\n"):
        return [note for _, note in state_entries(data)]
    text = data.decode("utf-8", "replace")
    if text.startswith("{"):
        notes = []
        for line in text.splitlines():
            record = json.loads(line)
            if record.get("type") == "checkpoint" and "text" in record:
                notes.append(record["text"])
        return notes
    return [text] if text.strip() else []


def cmd_forks(args):
    origin, pub = args[0], raw_pub(args[1])
    roots, seen = {}, 0
    for path in args[2:]:
        for note in notes_in(path):
            try:
                text, _ = split_note(note)
                o, size, root = checkpoint_of(text)
            except (ValueError, IndexError):
                continue
            if o != origin or not log_signed(note, pub):
                continue
            seen += 1
            roots.setdefault(size, set()).add(root)
    forked = {s: r for s, r in roots.items() if len(r) > 1}
    print("checkpoints of %s signed: %d, sizes: %d (%s..%s), sizes with two roots: %d" %
          (origin, seen, len(roots), min(roots) if roots else "-",
           max(roots) if roots else "-", len(forked)))
    for size in sorted(forked):
        print("  size %d: %s" % (size, ", ".join(r.hex()[:16] for r in forked[size])))
    return 1 if forked or seen == 0 else 0


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number, wire, value):
    if wire == 0:
        return varint(number << 3) + varint(value) if value else b""
    return varint(number << 3 | 2) + varint(len(value)) + value if value else b""


def cmd_forge(args):
    opts = dict(zip(args[0::2], args[1::2]))
    key = serialization.load_pem_private_key(open(opts["--key"], "rb").read(), None)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    origin, size = opts["--origin"], int(opts["--size"])
    # A checkpoint of SIZE whose root no honest log of this node has.
    text = "%s\n%d\n%s\n" % (origin, size, base64.b64encode(os.urandom(32)).decode())
    sig = key.sign(text.encode())
    note = text + "\n" + DASH + origin + " " + base64.b64encode(
        key_hash(origin, 1, pub) + sig).decode() + "\n"
    body = ("old %d\n\n" % size + note).encode()
    event_id, key_id = "uml001.merkle.checkpoint", hashlib.sha256(pub).digest()[:8].hex()
    now = time.time_ns()
    signed = (b"uml001.signed-state.v1\0" + event_id.encode() + b"\0" + key_id.encode() +
              b"\0" + struct.pack(">Q", now) + body)
    gossip = field(1, 0, 1) + field(4, 2, opts["--node-id"].encode())
    state = (field(1, 0, now) + field(2, 2, event_id.encode()) + field(3, 2, body) +
             field(4, 2, key.sign(signed)) + field(5, 2, key_id.encode()) +
             field(6, 2, gossip))
    datagram = field(3, 2, state)
    src_host, src_port = opts["--from"].rsplit(":", 1)
    dst_host, dst_port = opts["--to"].rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src_host, int(src_port)))
        s.sendto(datagram, (dst_host, int(dst_port)))
    print("sent a forged checkpoint of %s, size %d, to %s" % (origin, size, opts["--to"]))
    return 0


def main():
    commands = {"verify": cmd_verify, "held": cmd_held, "forks": cmd_forks,
                "forge": cmd_forge}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
