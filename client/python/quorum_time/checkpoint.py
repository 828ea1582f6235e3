"""checkpoint.py -- a node's signed checkpoints (GET /v1/checkpoint): the C2SP tlog-checkpoint
text inside a C2SP signed note, verified offline against the node's Ed25519 key, by the
rules quorumd's own verifier (audit/note.c) applies.

A checkpoint's text: the origin line, the tree size, the base64 root, then extension lines;
quorumd adds "time EARLIEST_NS LATEST_NS synchronised|unsynchronised", so a checkpoint also
witnesses the node's served time. The note: the text, an empty line, then signature lines
"\u2014 NAME BASE64(key hash[4] || signature)", key hash = the first 4 bytes of
SHA-256(NAME || "\\n" || 0x01 || public key). The text ends at the LAST empty line."""

import base64
import binascii
import collections
import hashlib
import re

from cryptography.exceptions import InvalidSignature

from .attestation import load_public_key, raw_public_key

SIGNATURES_MAX = 100
EM_DASH = "\u2014"
_NAME_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]")

Checkpoint = collections.namedtuple(
    "Checkpoint", "origin size root has_time earliest_ns latest_ns synchronised text "
    "signers")
Checkpoint.__doc__ = ("A checkpoint: its origin, tree size and 32-byte root, its time line "
                      "if any, its signed text (str), and the names of its signature lines.")


class NoteError(Exception):
    """The note or checkpoint is refused; .reason as quorumd says it ("note_malformed",
    "note_signature_invalid", "note_no_signature_by_key", "checkpoint_root_invalid", ...)."""

    def __init__(self, reason, detail=""):
        super().__init__(reason + (": " + detail if detail else ""))
        self.reason = reason


def b64decode_canonical(text):
    """Strict RFC 4648 base64: padded, no white space, the bits padding leaves over zero.
    Raises ValueError."""
    if not text or len(text) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        raise ValueError("not base64")
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def key_hash(name, key):
    """The 4-byte key hash of Ed25519 KEY under NAME."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + raw_public_key(key)).digest()[:4]


def _chars_valid(note):
    # UTF-8 (decoding checked it) without ASCII control characters but "\n" (no NUL, CR or
    # tab) and without C1 controls (U+0080..U+009F)
    return not re.search("[\x00-\x09\x0b-\x1f\x80-\x9f]", note)


def split_note(note):
    """NOTE (str) as (text, [(name, blob bytes), ...]). Raises NoteError."""
    if not note.endswith("\n") or not _chars_valid(note):
        raise NoteError("note_malformed")
    cut = note.rfind("\n\n")
    if cut <= 0:
        raise NoteError("note_malformed")
    text, lines = note[:cut + 1], note[cut + 2:].split("\n")[:-1]
    if len(lines) > SIGNATURES_MAX:
        raise NoteError("note_too_many_signatures")
    signatures = []
    for line in lines:
        m = re.fullmatch(EM_DASH + " ([^ ]+) ([^ ]+)", line)
        try:
            if m is None or _NAME_SPACES.search(m.group(1)):
                raise ValueError("not a signature line")
            blob = b64decode_canonical(m.group(2))
        except (ValueError, binascii.Error) as e:
            raise NoteError("note_signature_line_malformed", repr(line)) from e
        if len(blob) < 5:
            raise NoteError("note_signature_line_malformed", repr(line))
        signatures.append((m.group(1), blob))
    return text, signatures


def parse_checkpoint(text):
    """The checkpoint TEXT (str, a note's text) parsed into a Checkpoint (not verified: text
    and signers from the caller). Raises NoteError."""
    if "\x00" in text or not text.endswith("\n"):
        raise NoteError("checkpoint_malformed")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("checkpoint_malformed")
    origin = lines[0]
    if not origin or len(origin) >= 128 or not re.fullmatch(r"[\x21-\x2a\x2c-\x7e]+", origin):
        raise NoteError("checkpoint_origin_invalid")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[1]) or int(lines[1]) >= 1 << 64:
        raise NoteError("checkpoint_size_invalid")
    try:
        root = b64decode_canonical(lines[2])
    except ValueError as e:
        raise NoteError("checkpoint_root_invalid") from e
    if len(root) != 32:
        raise NoteError("checkpoint_root_invalid")
    has_time, earliest, latest, synchronised = False, 0, 0, False
    for line in lines[3:]:
        if not line:
            raise NoteError("checkpoint_extension_invalid")
        if line.startswith("time "):
            m = re.fullmatch(r"time (-?[0-9]+) (-?[0-9]+) (synchronised|unsynchronised)", line)
            if m is None or int(m.group(1)) > int(m.group(2)):
                raise NoteError("checkpoint_time_invalid")
            has_time, earliest, latest = True, int(m.group(1)), int(m.group(2))
            synchronised = m.group(3) == "synchronised"
    return Checkpoint(origin, int(lines[1]), root, has_time, earliest, latest, synchronised,
                      text, ())


def verify_checkpoint(note, key, name=None):
    """Verifies NOTE (str or UTF-8 bytes: a signed checkpoint) offline: well formed, and
    signed by KEY (see attestation.load_public_key) under NAME (default: the checkpoint's
    origin, as quorumd signs). A line by that name and key whose signature fails refuses the
    note, wherever it is; lines by other names or keys (witnesses' cosignatures) are
    ignored. Returns the Checkpoint; raises NoteError."""
    if isinstance(note, (bytes, bytearray)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError("note_malformed") from e
    key = load_public_key(key)
    text, signatures = split_note(note)
    cp = parse_checkpoint(text)
    name = cp.origin if name is None else name
    expected = key_hash(name, key)
    verified = invalid = False
    for signer, blob in signatures:
        if signer != name or blob[:4] != expected:
            continue  # another signer's line, or another key of that name
        try:
            if len(blob) != 68:
                raise InvalidSignature()
            key.verify(blob[4:], text.encode("utf-8"))
            verified = True
        except InvalidSignature:
            invalid = True
    if invalid:
        raise NoteError("note_signature_invalid")
    if not verified:
        raise NoteError("note_unsigned" if not signatures else "note_no_signature_by_key")
    return cp._replace(signers=tuple(s for s, _ in signatures))
