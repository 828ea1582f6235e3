"""rest.py -- a node's REST transport, with the standard library (urllib, ssl): its time and
signed answer, its status, its latest checkpoint and proofs. What it fetches is verified
offline by attestation, checkpoint and merkle, against keys the caller holds; nothing here
trusts the transport."""

import base64
import binascii
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request

from . import attestation
from . import merkle
from .checkpoint import verify_checkpoint

ANSWER_MAX = 4 << 20


class RestError(Exception):
    """A request failed or was refused; .status is the HTTP status (0: no answer)."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


def read_token(path):
    """The bearer token in file PATH, by the transports' rule: 16 to 255 printable ASCII
    characters without spaces, then at most one line ending."""
    with open(path, "rb") as f:
        data = f.read(300)
    token = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
    if not 16 <= len(token) <= 255 or any(b <= 0x20 or b >= 0x7F for b in token):
        raise ValueError("%s must hold one token: 16 to 255 printable characters without "
                         "spaces, then at most one line ending" % path)
    return token.decode("ascii")


class RestClient:
    """A node's REST transport at URL (http://HOST:PORT or https://...). TOKEN: a bearer
    token (or TOKEN_FILE); CAFILE: the CA of an https node (default: the system's);
    CERTFILE/KEYFILE: a client certificate (mutual TLS)."""

    def __init__(self, url, token=None, token_file=None, cafile=None, certfile=None,
                 keyfile=None, timeout=5.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("%s: not an http:// or https:// URL" % url)
        self.url = url.rstrip("/")
        self.token = read_token(token_file) if token_file else token
        self.timeout = timeout
        self._context = None
        if parsed.scheme == "https":
            self._context = ssl.create_default_context(cafile=cafile)
            if certfile:
                self._context.load_cert_chain(certfile, keyfile)

    def get(self, path):
        """GET PATH: (status, content type, body bytes). Raises RestError when nothing
        answered."""
        request = urllib.request.Request(self.url + path, headers={"Accept": "*/*"})
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout,
                                        context=self._context) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read(ANSWER_MAX)
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers.get("Content-Type", ""), e.read(ANSWER_MAX)
        except (urllib.error.URLError, OSError) as e:
            raise RestError("%s%s: %s" % (self.url, path, getattr(e, "reason", e))) from e

    def get_json(self, path, ok=(200,)):
        """GET PATH's JSON object; RestError unless the status is in OK."""
        status, _, body = self.get(path)
        if status not in ok:
            raise RestError("%s%s: %d %s" % (self.url, path, status,
                                             body[:200].decode("utf-8", "replace")), status)
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise RestError("%s%s: not JSON" % (self.url, path), status) from e
        if not isinstance(doc, dict):
            raise RestError("%s%s: not a JSON object" % (self.url, path), status)
        return doc

    def time(self, nonce=None):
        """GET /v1/time?format=json (with NONCE, bytes, when given): the answer as a dict. A
        503 (unsynchronised) is a RestError with status 503."""
        path = "/v1/time?format=json"
        if nonce is not None:
            path += "&nonce=" + bytes(nonce).hex()
        return self.get_json(path)

    def signed_time(self, key, nonce=None):
        """The node's signed served time, verified offline against its public KEY: asked with
        NONCE (default: 32 fresh random bytes), so the answer is this one's and not a replay.
        Returns (attestation.ServedTime, the answer dict); raises RestError or
        attestation.VerificationError."""
        nonce = os.urandom(32) if nonce is None else bytes(nonce)
        answer = self.time(nonce)
        try:
            data = base64.b64decode(answer.get("attestation", ""), validate=True)
        except (binascii.Error, TypeError) as e:
            raise attestation.VerificationError("attestation_malformed") from e
        return attestation.verify_served_time(data, key, nonce), answer

    def status(self):
        """GET /v1/status."""
        return self.get_json("/v1/status")

    def checkpoint(self, key=None):
        """GET /v1/checkpoint: the signed note (str), or, with KEY, the Checkpoint verified
        against it (checkpoint.NoteError when it does not verify)."""
        status, _, body = self.get("/v1/checkpoint")
        if status != 200:
            raise RestError("%s/v1/checkpoint: %d" % (self.url, status), status)
        note = body.decode("utf-8")
        return note if key is None else verify_checkpoint(note, key)

    def inclusion_proof(self, index):
        """GET /v1/proof/inclusion?index=INDEX (verify with merkle.verify_inclusion_proof)."""
        return self.get_json("/v1/proof/inclusion?index=%d" % index)

    def consistency_proof(self, old_size):
        """GET /v1/proof/consistency?old=OLD_SIZE (merkle.verify_consistency_proof)."""
        return self.get_json("/v1/proof/consistency?old=%d" % old_size)

    def verified_inclusion(self, index, leaf, key):
        """Record INDEX's inclusion proof, verified for the leaf hash LEAF the client holds
        against the node's KEY: the Checkpoint it is in."""
        return merkle.verify_inclusion_proof(self.inclusion_proof(index), leaf, key)
