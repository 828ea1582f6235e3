"""quorum_time -- a Python client of Quorum Time (standard library + cryptography).

- ClockPage / now(): the time a local quorumd serves, with its bound, read from its
  shared-memory clock page under the seqlock (the page libquorum-clock reads);
- RestClient (and GrpcClient in quorum_time.grpc_client, with grpcio): a node's signed
  answers, status, checkpoints and proofs;
- verify_served_time, verify_checkpoint, verify_inclusion_proof, verify_consistency_proof:
  offline verification against keys the caller holds (what `quorumctl verify` and
  `quorumctl proof verify` check).
"""

from .attestation import (ServedTime, VerificationError, align_nonce, key_id,
                          load_public_key, verify_served_time)
from .checkpoint import Checkpoint, NoteError, parse_checkpoint, verify_checkpoint
from .clockpage import (DEFAULT_PATH, ClockPage, NotAClockPage, PageError, PageUntrusted,
                        Reading, now)
from .merkle import (ProofError, leaf_hash, verify_consistency, verify_consistency_proof,
                     verify_inclusion, verify_inclusion_proof)
from .protowire import ProtoError
from .rest import RestClient, RestError, read_token

__version__ = "0.1.0"

__all__ = [
    "Checkpoint", "ClockPage", "DEFAULT_PATH", "NotAClockPage", "NoteError", "PageError",
    "PageUntrusted", "ProofError", "ProtoError", "Reading", "RestClient", "RestError",
    "ServedTime", "VerificationError", "align_nonce", "key_id", "leaf_hash",
    "load_public_key", "now", "parse_checkpoint", "read_token", "verify_checkpoint",
    "verify_consistency", "verify_consistency_proof", "verify_inclusion",
    "verify_inclusion_proof", "verify_served_time",
]
