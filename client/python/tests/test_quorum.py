#!/usr/bin/python3
"""test_quorum.py -- the Python client against a running local quorum (scripts/local-quorum.sh),
driven by tests/e2e/python-client.sh, which starts the nodes and says where they are:
  QT_DIR     the quorum's folder (node-K/clock, keys/node-K.pub, node-1/vault)
  QT_REST    node-1's REST URL;  QT_GRPC  node-1's gRPC address (HOST:PORT)
  QT_REST_TLS  node-2's REST URL (https, client certificates from QT_PKI/ca.pem, the bearer
             token in QT_DIR/node-2/token); QT_PKI  ca.pem, other-ca.pem, client.pem/.key
  QT_CTL     quorumctl, whose verdicts the client's must match
  QT_LAYOUT  tests/tools/clock-page-layout (the C compiler's layout of the page)
  QT_GRPC_MISSING  "1" when grpcio is not installed (the gRPC checks are skipped)
Live: the quorum is up. Lost: all but node-1 stopped, node-1 unsynchronised."""

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

try:  # the installed package (PYTHONPATH, pip install), else the one beside the tests
    import quorum_time as qt
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import quorum_time as qt
from quorum_time import clockpage  # noqa: E402

ENV = os.environ


def key(k):
    return os.path.join(ENV["QT_DIR"], "keys", "node-%d.pub" % k)


def ctl(*args):
    """quorumctl ARGS: (exit status, stdout)."""
    p = subprocess.run([ENV["QT_CTL"]] + list(args), capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stdout


def record_bytes(index):
    """Record INDEX of node-1's vault as the vault stores it (its leaf is SHA-256(0 || it)):
    read from a copy of the vault's files, as a client holding the record would have it, not
    from any proof; a copy that meets the tail mid-write is taken again."""
    for _ in range(20):
        copy = tempfile.mkdtemp(prefix="qt-vault-")
        try:
            shutil.rmtree(copy)
            shutil.copytree(os.path.join(ENV["QT_DIR"], "node-1", "vault"), copy)
            rc, out = ctl("vault", "dump", copy, "--json")
            for line in out.splitlines():
                r = json.loads(line)
                if r["index"] == index:
                    with open(os.path.join(copy, "segment-%012d.qv" % r["segment"]), "rb") as f:
                        f.seek(r["offset"])
                        n = struct.unpack("<I", f.read(4))[0]
                        f.seek(r["offset"])
                        return f.read(n)
        except (OSError, ValueError):
            pass
        finally:
            shutil.rmtree(copy, ignore_errors=True)
        time.sleep(0.1)
    raise AssertionError("record %d not found in node-1's vault" % index)


class Live(unittest.TestCase):
    def setUp(self):
        self.rest = qt.RestClient(ENV["QT_REST"])

    # ---- the clock page ----

    def test_page_layout_is_the_c_one(self):
        out = subprocess.run([ENV["QT_LAYOUT"]], capture_output=True, text=True,
                             check=True).stdout.split("\n")
        c = {f[0]: (int(f[1]), int(f[2])) for f in (l.split() for l in out) if len(f) == 3}
        self.assertEqual(c, clockpage.OFFSETS)
        self.assertIn("sizeof %d" % clockpage.LAYOUT.size, out)

    def test_clock_page_agrees_with_quorumctl(self):
        page_path = os.path.join(ENV["QT_DIR"], "node-1", "clock")
        before = time.time_ns()
        mine = qt.now(page_path)
        after = time.time_ns()
        rc, out = ctl("time", "--json", "--clock", page_path)
        spanned = time.time_ns() - before  # both readings lie within it
        theirs = json.loads(out)
        self.assertEqual(rc, 0)
        self.assertTrue(mine.synchronised)
        self.assertFalse(mine.busy)
        self.assertEqual((mine.n, mine.f), (theirs["n"], theirs["f"]))
        # quorumctl read the page later, by as many rounds (250 ms) as passed in between
        self.assertGreaterEqual(theirs["round"], mine.round)
        self.assertLessEqual(theirs["round"] - mine.round, spanned // 250_000_000 + 2)
        # and its estimate is later than the client's by no more than the time between them
        # (each within a served bound, ~0.1 ms here, of the machine's clock)
        slack = 5_000_000
        self.assertGreaterEqual(theirs["estimate_ns"] - mine.estimate_ns, -slack)
        self.assertLessEqual(theirs["estimate_ns"] - mine.estimate_ns, spanned + slack)
        self.assertLessEqual(mine.earliest_ns, mine.estimate_ns)
        self.assertLessEqual(mine.estimate_ns, mine.latest_ns)
        self.assertEqual(mine.error_bound_ns, max(mine.estimate_ns - mine.earliest_ns,
                                                  mine.latest_ns - mine.estimate_ns))
        # the nodes all read this machine's clock, which is therefore true time here: the
        # served interval holds it (give or take the instants around the reading)
        self.assertLessEqual(mine.earliest_ns - (after - before), before)
        self.assertGreaterEqual(mine.latest_ns + (after - before), after)
        # successive readings never go backwards
        with qt.ClockPage(page_path) as page:
            last = 0
            for _ in range(1000):
                r = page.now()
                self.assertGreaterEqual(r.estimate_ns, last)
                last = r.estimate_ns

    # ---- signed answers ----

    def test_rest_signed_answer_verifies_offline(self):
        nonce = os.urandom(32)
        served, answer = self.rest.signed_time(key(1), nonce)
        self.assertEqual(served.node_id, "node-1")
        self.assertEqual(served.nonce, nonce)
        self.assertEqual(served.key_id, qt.key_id(qt.load_public_key(key(1))))
        self.assertEqual(served.quorum_hash.hex(), answer["quorum"]["quorum_hash"])
        self.assertEqual((served.n, served.f), (answer["quorum"]["n"], answer["quorum"]["f"]))
        self.assertLessEqual(served.earliest_ns, served.estimate_ns)
        # quorumctl verify says the same of the same bytes
        with tempfile.NamedTemporaryFile(suffix=".att") as f:
            f.write(base64.b64decode(answer["attestation"]))
            f.flush()
            rc, out = ctl("verify", "--key", key(1), "--nonce", nonce.hex(), f.name)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.startswith("VALID"), out)

    def test_tampered_rest_attestation_refused(self):
        nonce = os.urandom(32)
        answer = self.rest.time(nonce)
        data = base64.b64decode(answer["attestation"])
        qt.verify_served_time(data, key(1), nonce)  # the untouched one verifies
        envelope = qt.protowire.decode_strict(data, qt.protowire.SIGNED_STATE, "e")
        signature = bytearray(envelope["signature"])
        signature[10] ^= 0x01  # one bit of the signature
        cases = [qt.protowire.encode(dict(envelope, signature=bytes(signature)),
                                     qt.protowire.SIGNED_STATE)]
        payload = qt.protowire.decode_strict(envelope["payload"], qt.protowire.SERVED_TIME, "s")
        payload["latest_ns"] += 1000  # a wider bound than signed
        cases.append(qt.protowire.encode(dict(envelope, payload=qt.protowire.encode(
            payload, qt.protowire.SERVED_TIME)), qt.protowire.SIGNED_STATE))
        payload["latest_ns"] -= 1000
        payload["estimate_ns"] += 1  # a later time than signed, envelope and payload alike
        cases.append(qt.protowire.encode(dict(envelope, logical_time_ns=envelope[
            "logical_time_ns"] + 1, payload=qt.protowire.encode(
                payload, qt.protowire.SERVED_TIME)), qt.protowire.SIGNED_STATE))
        for i, tampered in enumerate(cases):
            with self.assertRaises(qt.VerificationError, msg="case %d" % i) as e:
                qt.verify_served_time(tampered, key(1), nonce)
            self.assertEqual(e.exception.reason, "signature_invalid")
            with tempfile.NamedTemporaryFile(suffix=".att") as f:
                f.write(tampered)
                f.flush()
                rc, out = ctl("verify", "--key", key(1), f.name)
            self.assertEqual(rc, 1, "quorumctl accepted tampered case %d: %s" % (i, out))
        with self.assertRaises(qt.VerificationError) as e:
            qt.verify_served_time(data, key(2), nonce)  # another node's key
        self.assertEqual(e.exception.reason, "key_id_mismatch")
        with self.assertRaises(qt.VerificationError) as e:
            qt.verify_served_time(data, key(1), os.urandom(32))  # another question's answer
        self.assertEqual(e.exception.reason, "nonce_mismatch")

    def test_grpc_signed_answers_verify_offline(self):
        from quorum_time.grpc_client import GrpcClient

        with GrpcClient(ENV["QT_GRPC"]) as g:
            served, answer = g.signed_time(key(1))
            self.assertEqual(served.node_id, "node-1")
            self.assertEqual(answer["leader_id"], "node-1")
            self.assertEqual(served.estimate_ns,
                             answer["unix_timestamp"] * 10**9 + answer["unix_nanos"])
            anchor = os.urandom(32)
            aligned, reply = g.aligned_time(key(1), "python-test", anchor)
            self.assertEqual(aligned.nonce, qt.align_nonce("python-test", anchor))
            self.assertEqual(int.from_bytes(reply["remote_anchor"], "big"), aligned.estimate_ns)
            proof = bytearray(reply["signature_proof"])
            proof[-1] ^= 0x80
            with self.assertRaises(qt.VerificationError):
                qt.verify_served_time(bytes(proof), key(1), aligned.nonce)
            with self.assertRaises(qt.VerificationError) as e:  # bound to another anchor
                qt.verify_served_time(reply["signature_proof"], key(1),
                                      qt.align_nonce("python-test", os.urandom(32)))
            self.assertEqual(e.exception.reason, "nonce_mismatch")

    # ---- checkpoints and proofs ----

    def test_checkpoint_verifies_against_the_node_key_only(self):
        note = self.rest.checkpoint()
        cp = qt.verify_checkpoint(note, key(1))
        self.assertEqual(cp.origin, "quorum-time/node-1")
        self.assertGreater(cp.size, 0)
        self.assertTrue(cp.has_time)
        with self.assertRaises(qt.NoteError) as e:
            qt.verify_checkpoint(note, key(2))
        self.assertEqual(e.exception.reason, "note_no_signature_by_key")
        lines = note.split("\n")
        lines[1] = str(int(lines[1]) + 1)  # claims a bigger tree
        with self.assertRaises(qt.NoteError) as e:
            qt.verify_checkpoint("\n".join(lines), key(1))
        self.assertEqual(e.exception.reason, "note_signature_invalid")

    def test_inclusion_proof_of_a_record_held(self):
        leaf = qt.leaf_hash(record_bytes(3))
        doc = self.rest.inclusion_proof(3)
        cp = qt.verify_inclusion_proof(doc, leaf, key(1))
        self.assertEqual(cp.size, doc["tree_size"])
        self.assertEqual(doc["leaf_hash"], leaf.hex())
        rc, out = ctl_with_doc(doc, "proof", "verify", "--node-key", key(1), "--leaf-hash",
                               leaf.hex())
        self.assertEqual(rc, 0, out)
        with self.assertRaises(qt.ProofError) as e:  # another record
            qt.verify_inclusion_proof(doc, qt.leaf_hash(record_bytes(4)), key(1))
        self.assertEqual(e.exception.reason, "inclusion_invalid")
        if doc["inclusion"]:
            bad = dict(doc, inclusion=list(doc["inclusion"]))
            bad["inclusion"][0] = ("0" if bad["inclusion"][0][0] != "0" else "1") + \
                bad["inclusion"][0][1:]
            with self.assertRaises(qt.ProofError) as e:
                qt.verify_inclusion_proof(bad, leaf, key(1))
            self.assertEqual(e.exception.reason, "inclusion_invalid")
            rc, out = ctl_with_doc(bad, "proof", "verify", "--node-key", key(1),
                                   "--leaf-hash", leaf.hex())
            self.assertEqual(rc, 1, out)

    def test_consistency_proof_from_an_older_checkpoint(self):
        old_note = self.rest.checkpoint()
        old = qt.verify_checkpoint(old_note, key(1))
        for _ in range(100):  # a newer checkpoint (one a second)
            if qt.verify_checkpoint(self.rest.checkpoint(), key(1)).size > old.size:
                break
            time.sleep(0.1)
        doc = self.rest.consistency_proof(old.size)
        cp = qt.verify_consistency_proof(doc, old_note, key(1))
        self.assertGreater(cp.size, old.size)
        with tempfile.NamedTemporaryFile("w", suffix=".note") as f:
            f.write(old_note)
            f.flush()
            rc, out = ctl_with_doc(doc, "proof", "verify", "--node-key", key(1),
                                   "--old-checkpoint", f.name)
        self.assertEqual(rc, 0, out)
        bad = dict(doc, consistency=list(doc["consistency"]))
        bad["consistency"][-1] = "00" * 32
        with self.assertRaises(qt.ProofError) as e:
            qt.verify_consistency_proof(bad, old_note, key(1))
        self.assertEqual(e.exception.reason, "consistency_invalid")
        # node-2's checkpoint is no old checkpoint of node-1's log
        # node-3's checkpoint is no old checkpoint of node-1's log
        node3 = qt.RestClient(ENV["QT_REST"].replace("127.0.0.1", "127.0.0.3")).checkpoint()
        with self.assertRaises(qt.ProofError) as e:
            qt.verify_consistency_proof(doc, node3, key(1))
        self.assertEqual(e.exception.reason, "old_checkpoint_invalid")

    # ---- a node behind TLS, client certificates and a bearer token ----

    def test_rest_over_mutual_tls_with_a_token(self):
        pki = ENV["QT_PKI"]
        token_file = os.path.join(ENV["QT_DIR"], "node-2", "token")
        tls = dict(cafile=os.path.join(pki, "ca.pem"),
                   certfile=os.path.join(pki, "client.pem"),
                   keyfile=os.path.join(pki, "client.key"))
        node = qt.RestClient(ENV["QT_REST_TLS"], token_file=token_file, **tls)
        status = node.status()
        self.assertEqual(status["node"], "node-2")
        self.assertEqual(status["status"], "synchronised")
        served, _ = node.signed_time(key(2))
        self.assertEqual(served.node_id, "node-2")
        self.assertEqual(qt.verify_checkpoint(node.checkpoint(), key(2)).origin,
                         "quorum-time/node-2")
        # without the token: 401, and no time
        with self.assertRaises(qt.RestError) as e:
            qt.RestClient(ENV["QT_REST_TLS"], **tls).status()
        self.assertEqual(e.exception.status, 401)
        # another token: 401 too
        with tempfile.NamedTemporaryFile("w", suffix=".token") as f:
            f.write(os.urandom(24).hex() + "\n")
            f.flush()
            with self.assertRaises(qt.RestError) as e:
                qt.RestClient(ENV["QT_REST_TLS"], token_file=f.name, **tls).status()
            self.assertEqual(e.exception.status, 401)
        # a node whose certificate another CA signed is not this one: no answer taken
        with self.assertRaises(qt.RestError) as e:
            qt.RestClient(ENV["QT_REST_TLS"], token_file=token_file,
                          cafile=os.path.join(pki, "other-ca.pem"),
                          certfile=tls["certfile"], keyfile=tls["keyfile"]).status()
        self.assertEqual(e.exception.status, 0)
        self.assertIn("CERTIFICATE_VERIFY_FAILED", str(e.exception))
        # without a client certificate the TLS handshake is refused
        with self.assertRaises(qt.RestError) as e:
            qt.RestClient(ENV["QT_REST_TLS"], token_file=token_file,
                          cafile=tls["cafile"]).status()
        self.assertEqual(e.exception.status, 0)
        # a token file that is not one token is refused before anything is sent
        with tempfile.NamedTemporaryFile("w", suffix=".token") as f:
            f.write("short\n")
            f.flush()
            with self.assertRaises(ValueError):
                qt.RestClient(ENV["QT_REST_TLS"], token_file=f.name, **tls)


def ctl_with_doc(doc, *args):
    """quorumctl ARGS DOC (written to a file)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(doc, f)
        f.flush()
        return ctl(*(args + (f.name,)))


class Lost(unittest.TestCase):
    """node-1 alone: unsynchronised, and every way of asking says so, with no time."""

    def test_no_time_anywhere(self):
        r = qt.now(os.path.join(ENV["QT_DIR"], "node-1", "clock"))
        self.assertFalse(r.synchronised)
        self.assertEqual((r.earliest_ns, r.estimate_ns, r.latest_ns), (0, 0, 0))
        with self.assertRaises(qt.RestError) as e:
            qt.RestClient(ENV["QT_REST"]).signed_time(key(1))
        self.assertEqual(e.exception.status, 503)
        if ENV.get("QT_GRPC_MISSING") == "1":
            return  # grpcio, the client's optional dependency, is not installed
        import grpc
        from quorum_time.grpc_client import GrpcClient

        with GrpcClient(ENV["QT_GRPC"]) as g:
            with self.assertRaises(grpc.RpcError) as e:
                g.signed_time(key(1))
            self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main()
