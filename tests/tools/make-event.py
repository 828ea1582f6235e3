#!/usr/bin/python3
"""make-event.py -- builds a uml001.SignedState for the passport tests, independently of
quorumd's code: the signed bytes are written here from their documented definition
("uml001.signed-state.v1" NUL event_id NUL key_id NUL logical_time_ns as 8 bytes big-endian,
then the payload), signed with `openssl pkeyutl -rawin` (Ed25519), and the protobuf is
encoded by hand (fields in number order, as canonical protobuf-c writes them).
Usage: make-event.py OUT EVENT_ID PAYLOAD [--key KEY.pem] [--key-id ID] [--time NS]
  --key     an Ed25519 private key (PEM): signs the event, and names its key id unless
            --key-id does; without --key the event is unsigned
Also: make-event.py --passport-check ROOT.pub PASSPORT.json  checks a passport's root
signature with openssl over the documented bytes ("quorum-time passport v1\\n" + the
document without its signature, compact, keys sorted). Exit status 0 valid, 1 not."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(number: int, data: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(data)) + data if data else b""


def openssl(*args: str, data: bytes = b"") -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True,
                          check=True).stdout


def key_id_of(key_path: str) -> str:
    der = openssl("pkey", "-in", key_path, "-pubout", "-outform", "DER")
    return hashlib.sha256(der[-32:]).hexdigest()[:16]


def sign(key_path: str, message: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        msg = os.path.join(d, "msg")
        with open(msg, "wb") as f:
            f.write(message)
        return openssl("pkeyutl", "-sign", "-inkey", key_path, "-rawin", "-in", msg)


def verify(pub_path: str, message: bytes, signature: bytes) -> bool:
    with tempfile.TemporaryDirectory() as d:
        msg, sig = os.path.join(d, "msg"), os.path.join(d, "sig")
        with open(msg, "wb") as f:
            f.write(message)
        with open(sig, "wb") as f:
            f.write(signature)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub_path,
                            "-rawin", "-in", msg, "-sigfile", sig], capture_output=True)
        return r.returncode == 0


def passport_check(root_pub: str, path: str) -> int:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    signature = doc.pop("signature")
    message = b"quorum-time passport v1\n" + json.dumps(
        doc, separators=(",", ":"), sort_keys=True).encode()
    ok = verify(root_pub, message, base64.b64decode(signature["ed25519"], validate=True))
    print("VALID" if ok else "INVALID")
    return 0 if ok else 1


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] == "--passport-check":
        return passport_check(args[1], args[2])
    out, event_id, payload = args[0], args[1], args[2].encode()
    opts = dict(zip(args[3::2], args[4::2]))
    key = opts.get("--key")
    key_id = opts.get("--key-id", key_id_of(key) if key else "")
    logical = int(opts.get("--time", time.time_ns()))
    signature = b""
    if key:
        message = (b"uml001.signed-state.v1\0" + event_id.encode() + b"\0" +
                   key_id.encode() + b"\0" + logical.to_bytes(8, "big") + payload)
        signature = sign(key, message)
    state = (varint(1 << 3 | 0) + varint(logical) + field_bytes(2, event_id.encode()) +
             field_bytes(3, payload) + field_bytes(4, signature) +
             field_bytes(5, key_id.encode()))
    with open(out, "wb") as f:
        f.write(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
