"""grpc_client.py -- a node's gRPC transport (uml001.ClockService, proto/clock_service.proto)
through grpcio, the one optional dependency (`pip install quorum-time[grpc]`, or Debian's
python3-grpcio): no generated stubs, the messages are read and written by protowire. The
signed answers are verified offline by attestation, against keys the caller holds.

GetTime carries no nonce: its attestation proves what the node served, not when it was
asked. AlignTime binds the signed answer to the caller's fresh anchor
(nonce = SHA-256(peer_id || 0x00 || local_anchor)): use aligned_time() for freshness."""

import os

from . import attestation
from . import protowire

SERVICE = "/uml001.ClockService/"


class GrpcClient:
    """A node's gRPC transport at TARGET ("HOST:PORT"). TOKEN: a bearer token, sent as
    authorization metadata. ROOT_CERTIFICATES (PEM bytes): TLS, checking the node with them;
    with CERTIFICATE_CHAIN and PRIVATE_KEY (PEM bytes): mutual TLS. Without them: h2c."""

    def __init__(self, target, token=None, root_certificates=None, private_key=None,
                 certificate_chain=None, timeout=5.0):
        import grpc  # optional: only this module needs it

        self._grpc = grpc
        if root_certificates is not None:
            credentials = grpc.ssl_channel_credentials(root_certificates, private_key,
                                                       certificate_chain)
            self._channel = grpc.secure_channel(target, credentials)
        else:
            self._channel = grpc.insecure_channel(target)
        self._metadata = [("authorization", "Bearer " + token)] if token else None
        self.timeout = timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, request=b""):
        """Calls unary METHOD ("GetTime", ...) with the encoded REQUEST: the encoded answer.
        Raises grpc.RpcError (e.g. UNAVAILABLE while the node is unsynchronised)."""
        stub = self._channel.unary_unary(SERVICE + method)
        return stub(request, timeout=self.timeout, metadata=self._metadata)

    def get_time(self):
        """GetTime's TimeResponse as a dict (attestation: the encoded signed answer)."""
        return protowire.decode_lenient(self.call("GetTime"), protowire.TIME_RESPONSE,
                                        "time_response")

    def signed_time(self, key):
        """GetTime's signed answer verified offline against the node's public KEY: (ServedTime,
        the TimeResponse dict). Raises attestation.VerificationError, grpc.RpcError."""
        answer = self.get_time()
        served = attestation.verify_served_time(answer["attestation"], key)
        return served, answer

    def aligned_time(self, key, peer_id="quorum-time-python", local_anchor=None):
        """AlignTime with a fresh LOCAL_ANCHOR (default 32 random bytes): its signed proof
        verified offline against KEY and bound to this very request by its nonce.
        Returns (ServedTime, the AlignTimeResponse dict)."""
        local_anchor = os.urandom(32) if local_anchor is None else bytes(local_anchor)
        request = protowire.encode({"peer_id": peer_id, "local_anchor": local_anchor},
                                   protowire.ALIGN_TIME_REQUEST)
        answer = protowire.decode_lenient(self.call("AlignTime", request),
                                          protowire.ALIGN_TIME_RESPONSE, "align_time_response")
        served = attestation.verify_served_time(
            answer["signature_proof"], key, attestation.align_nonce(peer_id, local_anchor))
        return served, answer
