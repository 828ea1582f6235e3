"""merkle.py -- RFC 9162 proofs over a node's audit log, checked against a signed checkpoint
and against what the client holds, never against what a proof says of itself (as
`quorumctl proof verify` does): an inclusion proof against the record's leaf hash, a
consistency proof against the client's own earlier checkpoint signed by the same key.

The verification algorithms are RFC 9162's (sections 2.1.3.2 and 2.1.4.2); leaves and nodes
are hashed as RFC 6962 says: SHA-256(0x00 || leaf), SHA-256(0x01 || left || right)."""

import hashlib
import hmac

from .checkpoint import NoteError, verify_checkpoint

HASH_LEN = 32
PROOF_MAX = 64  # a tree of 2^64 leaves needs 64 hashes


class ProofError(Exception):
    """The proof does not verify, or is malformed; .reason says which."""

    def __init__(self, reason, detail=""):
        super().__init__(reason + (": " + detail if detail else ""))
        self.reason = reason


def leaf_hash(record):
    """The leaf hash of RECORD (bytes: a vault record as the vault stores it)."""
    return hashlib.sha256(b"\x00" + bytes(record)).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, proof, root):
    """Whether PROOF (a list of 32-byte hashes, leaf first) shows the leaf hash LEAF at INDEX
    in the tree of SIZE leaves whose root is ROOT (RFC 9162 2.1.3.2)."""
    if index < 0 or index >= size or len(proof) > PROOF_MAX:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """Whether PROOF shows the tree of OLD_SIZE leaves with root OLD_ROOT to be a prefix of
    the tree of NEW_SIZE leaves with root NEW_ROOT (RFC 9162 2.1.4.2)."""
    if old_size < 0 or old_size > new_size or len(proof) > PROOF_MAX:
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if old_size == 0:  # every tree extends the empty one, whose root is SHA-256("")
        return not proof and hmac.compare_digest(old_root, hashlib.sha256(b"").digest())
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return (sn == 0 and hmac.compare_digest(fr, old_root) and
            hmac.compare_digest(sr, new_root))


def _hashes(values, what):
    if not isinstance(values, list) or len(values) > PROOF_MAX:
        raise ProofError("proof_malformed", what)
    out = []
    for v in values:
        if not isinstance(v, str) or len(v) != 2 * HASH_LEN:
            raise ProofError("proof_malformed", what)
        try:
            out.append(bytes.fromhex(v))
        except ValueError as e:
            raise ProofError("proof_malformed", what) from e
    return out


def _checkpoint_of(doc, key):
    if not isinstance(doc, dict) or not isinstance(doc.get("checkpoint"), str):
        raise ProofError("proof_malformed", "no checkpoint")
    try:
        cp = verify_checkpoint(doc["checkpoint"], key)
    except NoteError as e:
        raise ProofError("checkpoint_invalid", e.reason) from e
    if doc.get("tree_size") != cp.size:
        raise ProofError("proof_malformed", "the proof is for another tree size than its "
                         "checkpoint's")
    return cp


def verify_inclusion_proof(doc, leaf, key):
    """Verifies DOC (GET /v1/proof/inclusion?index=I's JSON, a dict) for the record whose
    leaf hash the client computed itself (LEAF, 32 bytes; see leaf_hash), against the
    checkpoint DOC carries, which must verify with the node's KEY. The proof's own
    "leaf_hash" is not used. Returns the Checkpoint; raises ProofError."""
    cp = _checkpoint_of(doc, key)
    index = doc.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ProofError("proof_malformed", "index")
    if not verify_inclusion(index, cp.size, bytes(leaf), _hashes(doc.get("inclusion"),
                                                                  "inclusion"), cp.root):
        raise ProofError("inclusion_invalid", "record %d is not proven to be in the tree of "
                         "%d records signed by %s" % (index, cp.size, cp.origin))
    return cp


def verify_consistency_proof(doc, old_checkpoint, key):
    """Verifies DOC (GET /v1/proof/consistency?old=M's JSON) against OLD_CHECKPOINT, a signed
    checkpoint the client saved earlier (str or bytes), both signed by the node's KEY and by
    the same origin: the old tree is a prefix of the new one. The proof's own "old_root" is
    not used. Returns the new Checkpoint; raises ProofError."""
    cp = _checkpoint_of(doc, key)
    try:
        old = verify_checkpoint(old_checkpoint, key)
    except NoteError as e:
        raise ProofError("old_checkpoint_invalid", e.reason) from e
    if old.origin != cp.origin:
        raise ProofError("origin_mismatch", "%s, not %s" % (old.origin, cp.origin))
    if doc.get("old_size") != old.size:
        raise ProofError("proof_malformed", "the proof starts at another tree size than "
                         "the old checkpoint's %d" % old.size)
    if not verify_consistency(old.size, cp.size, old.root, cp.root,
                              _hashes(doc.get("consistency"), "consistency")):
        raise ProofError("consistency_invalid", "the tree of %d records is not proven a "
                         "prefix of the tree of %d records signed by %s"
                         % (old.size, cp.size, cp.origin))
    return cp
