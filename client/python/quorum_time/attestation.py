"""attestation.py -- a node's signed served time (uml001.served_time: REST's "attestation",
gRPC's TimeResponse.attestation and AlignTimeResponse.signature_proof), verified offline
against the node's Ed25519 public key, as `quorumctl verify --key NODE.pub` does.

What is checked, in order: the envelope (uml001.SignedState) and its payload
(uml001.ServedTime) decode strictly and are canonical; the envelope is a served time whose
payload agrees with it (same key id, estimate = the envelope's logical time, earliest <=
estimate <= latest, a nonce of at most 64 bytes); its key id is the key's; the Ed25519
signature over "uml001.signed-state.v1" NUL event_id NUL key_id NUL logical_time (8 bytes,
big-endian) payload verifies; and, when one is given, the nonce is the client's."""

import collections
import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from . import protowire

SIGNED_STATE_DOMAIN = b"uml001.signed-state.v1\x00"
EVENT_SERVED_TIME = "uml001.served_time"
NONCE_MAX = 64


class VerificationError(Exception):
    """The answer does not verify; .reason is the token quorumctl prints
    ("signature_invalid", "key_id_mismatch", "nonce_mismatch", ...)."""

    def __init__(self, reason, detail=""):
        super().__init__(reason + (": " + detail if detail else ""))
        self.reason = reason


ServedTime = collections.namedtuple(
    "ServedTime", "node_id key_id nonce earliest_ns estimate_ns latest_ns round quorum_hash "
    "n f accepted")
ServedTime.__doc__ = "What a node signed: its served time, bound and agreement."


def load_public_key(source):
    """An Ed25519 public key from SOURCE: a path to a PEM file (quorum-keygen's NODE.pub), PEM
    bytes, 32 raw bytes, or an Ed25519PublicKey."""
    if isinstance(source, ed25519.Ed25519PublicKey):
        return source
    if isinstance(source, (bytes, bytearray)) and len(source) == 32:
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes(source))
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        with open(source, "rb") as f:
            data = f.read(65536)
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def raw_public_key(key):
    """KEY's 32 raw bytes."""
    return load_public_key(key).public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)


def key_id(key):
    """The key id quorumd names KEY by: the first 8 bytes of SHA-256 of its raw public key, in
    lowercase hex."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()[:16]


def signed_message(envelope):
    """The bytes an envelope's signature covers (quorum_signed_state_message)."""
    return (SIGNED_STATE_DOMAIN + envelope["event_id"].encode("utf-8") + b"\x00" +
            envelope["key_id"].encode("utf-8") + b"\x00" +
            envelope["logical_time_ns"].to_bytes(8, "big") + envelope["payload"])


def decode_served_time(data):
    """The envelope and the served time of DATA (an encoded SignedState), decoded strictly and
    checked for consistency, not yet for its signature: (envelope dict, ServedTime). Raises
    VerificationError."""
    try:
        envelope = protowire.decode_strict(data, protowire.SIGNED_STATE, "envelope")
    except protowire.ProtoError as e:
        raise VerificationError(e.reason) from e
    if envelope["event_id"] != EVENT_SERVED_TIME:
        raise VerificationError("not_a_served_time", repr(envelope["event_id"]))
    try:
        t = protowire.decode_strict(envelope["payload"], protowire.SERVED_TIME, "served_time")
    except protowire.ProtoError as e:
        raise VerificationError(e.reason) from e
    if (not t["earliest_ns"] <= t["estimate_ns"] <= t["latest_ns"] or
            len(t["nonce"]) > NONCE_MAX or t["key_id"] != envelope["key_id"] or
            t["estimate_ns"] != envelope["logical_time_ns"]):
        raise VerificationError("served_time_inconsistent")
    return envelope, ServedTime(**t)


def verify_served_time(data, key, nonce=None):
    """Verifies DATA (an encoded SignedState, e.g. base64-decoded REST "attestation") offline
    against the node's public KEY (see load_public_key) and, when given, the client's NONCE
    (bytes). Returns the ServedTime; raises VerificationError saying why not."""
    key = load_public_key(key)
    envelope, served = decode_served_time(bytes(data))
    if envelope["key_id"] != key_id(key):
        raise VerificationError("key_id_mismatch", "signed with key %s, not %s"
                                % (envelope["key_id"], key_id(key)))
    if len(envelope["signature"]) != 64:
        raise VerificationError("signature_invalid", "not 64 bytes")
    try:
        key.verify(envelope["signature"], signed_message(envelope))
    except InvalidSignature as e:
        raise VerificationError("signature_invalid") from e
    if nonce is not None and not hmac.compare_digest(served.nonce, bytes(nonce)):
        raise VerificationError("nonce_mismatch")
    return served


def align_nonce(peer_id, local_anchor):
    """The nonce gRPC's AlignTime binds its signed answer to:
    SHA-256(peer_id || 0x00 || local_anchor)."""
    return hashlib.sha256(peer_id.encode("utf-8") + b"\x00" + bytes(local_anchor)).digest()
