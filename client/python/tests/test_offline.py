#!/usr/bin/python3
"""test_offline.py -- the Python client without a quorum: the clock page under a writer
process of the tests' own that tears it (tests/torn_writer.py), the page trust rule, and the
offline verification of signed answers, checkpoints and proofs with real Ed25519 keys
(cryptography) and real SHA-256 trees, each with its tampered counterparts refused.
Run: /usr/bin/python3 -m unittest discover -s client/python/tests -p 'test_offline.py'"""

import base64
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:  # the installed package (PYTHONPATH, pip install), else the one beside the tests
    import quorum_time  # noqa: F401
except ImportError:
    sys.path.insert(1, os.path.join(HERE, ".."))

from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

import quorum_time as qt  # noqa: E402
from quorum_time import attestation, clockpage, merkle, protowire  # noqa: E402
import torn_writer  # noqa: E402


def start_writer(path, mode, seconds):
    """A torn_writer.py process writing PATH; returns once the page exists."""
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "torn_writer.py"), path, mode,
                          str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def stop_writer(p):
    p.kill()
    p.wait()
    p.stdout.close()


class TornPage(unittest.TestCase):
    """A page a writer process keeps rewriting: the seqlock read never returns a mix."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="qt-page-")
        self.path = os.path.join(self.dir, "clock")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_seqlock_never_returns_a_torn_page(self):
        writer = start_writer(self.path, "flip", 3)
        torn_unlocked = whole = busy = 0
        rounds = set()
        try:
            with clockpage.ClockPage(self.path) as page:
                m = page._map
                while writer.poll() is None and whole < 200000:
                    # what a reader ignoring the generation would take
                    naive = clockpage.Page(*clockpage.LAYOUT.unpack(m[:clockpage.LAYOUT.size]))
                    if not torn_writer.consistent(naive):
                        torn_unlocked += 1
                    got = page.snapshot()
                    if got is None:  # busy for every attempt: no copy rather than a torn one
                        busy += 1
                    else:
                        snap, _ = got
                        self.assertTrue(torn_writer.consistent(snap),
                                        "the seqlock read returned a torn page: %r" % (snap,))
                        rounds.add(snap.round)
                    reading = page.now()
                    if reading.busy:  # fail-closed: no time rather than a torn one
                        busy += 1
                        self.assertFalse(reading.synchronised)
                    else:
                        self.assertTrue(reading.synchronised)
                        # drift 0: the bound is the state's own, 1000 + k, of one state
                        self.assertEqual(reading.error_bound_ns, 1000 + reading.round)
                    whole += 1
        finally:
            stop_writer(writer)
        # the test can fail: the writer did tear the page under a reader that ignores it
        self.assertGreater(torn_unlocked, 0, "the writer never tore the page")
        self.assertGreater(len(rounds), 100, "the writer hardly wrote")
        self.assertLess(busy, whole // 10, "the page was busy for most readings")
        print("# %d seqlock reads over %d states, all whole (%d busy); %d torn unlocked "
              "reads" % (whole, len(rounds), busy, torn_unlocked), file=sys.stderr)

    def test_writer_keeping_the_page_busy_gives_no_time(self):
        writer = start_writer(self.path, "busy", 2)
        try:
            with clockpage.ClockPage(self.path) as page:
                self.assertIsNone(page.snapshot(attempts=1000))
                reading = page.now()
        finally:
            stop_writer(writer)
        self.assertFalse(reading.synchronised)
        self.assertTrue(reading.busy)
        self.assertEqual((reading.earliest_ns, reading.estimate_ns, reading.latest_ns),
                         (0, 0, 0))


class PageEvaluation(unittest.TestCase):
    """evaluate() is quorum_clock_page_eval: the line, the floor, the cap, the bound."""

    def page(self, **kw):
        fields = torn_writer.state_fields(0, 1000)
        fields.update(generation=0, drift_ppm=50, max_error_ns=10**6)
        fields.update(kw)
        return clockpage.Page(**fields)

    def test_extrapolates_and_grows_the_bound(self):
        p = self.page()
        ok, earliest, estimate, latest, bound = clockpage.evaluate(p, 1000 + 10**9)
        self.assertTrue(ok)
        self.assertEqual(estimate, p.ref_estimate_ns + 10**9)
        self.assertEqual(latest - estimate, 1000 + 50000)  # 50 ppm of a second
        self.assertEqual(bound, 51000)

    def test_floor_cap_and_limits(self):
        p = self.page(floor_base_ns=torn_writer.BASE_ESTIMATE + 5000, line_mono_ns=1000,
                      slew_ppm=0)
        self.assertEqual(clockpage.evaluate(p, 1000)[2], torn_writer.BASE_ESTIMATE + 5000)
        p = self.page(cap_base_ns=torn_writer.BASE_ESTIMATE - 5000, line_mono_ns=1000)
        ok, earliest, estimate, latest, _ = clockpage.evaluate(p, 1000)
        self.assertEqual(estimate, torn_writer.BASE_ESTIMATE - 5000)
        self.assertEqual(earliest, estimate)  # the bound always contains the estimate
        self.assertFalse(clockpage.evaluate(self.page(status=0), 2000)[0])
        self.assertFalse(clockpage.evaluate(self.page(), 999)[0])  # before the reference
        # the bound past max_error: unsynchronised
        self.assertFalse(clockpage.evaluate(self.page(max_error_ns=1500), 1000 + 10**8)[0])


class PageTrust(unittest.TestCase):
    """The reader's half of clock-page.h's trust rule, as libquorum-clock applies it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="qt-trust-")
        self.path = os.path.join(self.dir, "clock")
        writer = start_writer(self.path, "flip", 0)
        writer.wait()
        writer.stdout.close()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_a_page_its_writer_alone_can_write_is_read(self):
        with clockpage.ClockPage(self.path) as page:
            self.assertEqual(page.snapshot()[0].magic, clockpage.MAGIC)

    def test_group_writable_page_refused(self):
        os.chmod(self.path, 0o664)
        with self.assertRaisesRegex(qt.PageUntrusted, "writable by group or others"):
            clockpage.ClockPage(self.path)

    def test_symbolic_link_refused(self):
        link = os.path.join(self.dir, "link")
        os.symlink(self.path, link)
        with self.assertRaisesRegex(qt.PageUntrusted, "symbolic link"):
            clockpage.ClockPage(link)

    def test_open_folder_refused_unless_sticky(self):
        os.chmod(self.dir, 0o777)
        with self.assertRaisesRegex(qt.PageUntrusted, "without the sticky bit"):
            clockpage.ClockPage(self.path)
        os.chmod(self.dir, 0o1777)
        clockpage.ClockPage(self.path).close()

    def test_not_a_clock_page(self):
        with open(self.path, "r+b") as f:
            f.write(b"XXXX")
        with self.assertRaises(qt.NotAClockPage):
            clockpage.ClockPage(self.path)
        os.truncate(self.path, 100)
        with self.assertRaises(qt.NotAClockPage):
            clockpage.ClockPage(self.path)

    def test_missing_page(self):
        with self.assertRaisesRegex(qt.PageError, "No such file"):
            clockpage.ClockPage(os.path.join(self.dir, "none"))


def served_time(key, nonce=b"", estimate=1_800_000_000_123_456_789, **changes):
    """An encoded SignedState of a served time signed by KEY, as attest_time makes one."""
    kid = attestation.key_id(key.public_key())
    payload = {"node_id": "node-9", "key_id": kid, "nonce": nonce,
               "earliest_ns": estimate - 5000, "estimate_ns": estimate,
               "latest_ns": estimate + 7000, "round": 42,
               "quorum_hash": hashlib.sha256(b"agreement").digest(), "n": 4, "f": 1,
               "accepted": 4}
    payload.update(changes.pop("payload", {}))
    envelope = {"logical_time_ns": estimate, "event_id": attestation.EVENT_SERVED_TIME,
                "payload": protowire.encode(payload, protowire.SERVED_TIME), "key_id": kid}
    envelope.update(changes)
    envelope["signature"] = key.sign(attestation.signed_message(envelope))
    return protowire.encode(envelope, protowire.SIGNED_STATE)


class SignedAnswers(unittest.TestCase):
    """verify_served_time: a real signature verifies; every alteration is refused, and why."""

    def setUp(self):
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.pub = self.key.public_key()
        self.nonce = os.urandom(32)
        self.data = served_time(self.key, self.nonce)

    def refused(self, data, reason, key=None, nonce=None):
        with self.assertRaises(qt.VerificationError) as e:
            qt.verify_served_time(data, key or self.pub, nonce)
        self.assertEqual(e.exception.reason, reason)

    def test_valid(self):
        t = qt.verify_served_time(self.data, self.pub, self.nonce)
        self.assertEqual((t.node_id, t.round, t.n, t.f, t.accepted), ("node-9", 42, 4, 1, 4))
        self.assertEqual(t.latest_ns - t.estimate_ns, 7000)
        # the key also loads from raw bytes and PEM
        raw = attestation.raw_public_key(self.pub)
        qt.verify_served_time(self.data, raw)

    def test_every_flipped_bit_is_refused(self):
        for i in range(len(self.data) * 8):
            tampered = bytearray(self.data)
            tampered[i // 8] ^= 1 << (i % 8)
            with self.assertRaises(qt.VerificationError, msg="bit %d" % i):
                qt.verify_served_time(bytes(tampered), self.pub, self.nonce)

    def test_reasons(self):
        other = ed25519.Ed25519PrivateKey.generate()
        self.refused(self.data, "key_id_mismatch", key=other.public_key())
        self.refused(self.data, "nonce_mismatch", nonce=os.urandom(32))
        envelope = protowire.decode_strict(self.data, protowire.SIGNED_STATE, "e")
        envelope["signature"] = bytes(64)
        self.refused(protowire.encode(envelope, protowire.SIGNED_STATE), "signature_invalid")
        # signed by another key that claims this one's id
        forged = served_time(other, self.nonce, key_id=attestation.key_id(self.pub),
                             payload={"key_id": attestation.key_id(self.pub)})
        self.refused(forged, "signature_invalid")
        self.refused(served_time(self.key, payload={"latest_ns": 0}),
                     "served_time_inconsistent")
        self.refused(served_time(self.key, event_id="uml001.worker.ntp_sync"),
                     "not_a_served_time")
        self.refused(self.data + b"\x38\x01", "envelope_unknown_field")  # field 7
        # the same fields out of order: decodes, but not the one byte form that is signed
        fields = {}
        for number, _, raw in protowire._fields(self.data):
            fields[number] = raw
        reordered = b""
        for number in sorted(fields, reverse=True):
            raw = fields[number]
            if number == 1:
                part = bytearray([number << 3])
                protowire._put_varint(raw, part)
            else:
                part = bytearray([number << 3 | 2])
                protowire._put_varint(len(raw), part)
                part += raw
            reordered += bytes(part)
        self.refused(reordered, "envelope_not_canonical")
        self.refused(self.data[:-10], "envelope_decode_failed")


def note(text, signers):
    """A C2SP signed note of TEXT with a line per (name, private key or raw blob)."""
    lines = []
    for name, key in signers:
        if isinstance(key, bytes):
            blob = key
        else:
            blob = (qt.checkpoint.key_hash(name, key.public_key()) +
                    key.sign(text.encode("utf-8")))
        lines.append("\u2014 %s %s\n" % (name, base64.b64encode(blob).decode()))
    return text + "\n" + "".join(lines)


class Checkpoints(unittest.TestCase):
    """verify_checkpoint: quorumd's rules for signed notes and checkpoint bodies."""

    def setUp(self):
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.root = hashlib.sha256(b"root").digest()
        self.text = ("quorum-time/node-9\n12\n%s\ntime 100 200 synchronised\n"
                     % base64.b64encode(self.root).decode())

    def refused(self, n, reason, key=None):
        with self.assertRaises(qt.NoteError) as e:
            qt.verify_checkpoint(n, (key or self.key).public_key())
        self.assertEqual(e.exception.reason, reason)

    def test_valid_with_witness_cosignatures_ignored(self):
        witness = ed25519.Ed25519PrivateKey.generate()
        cp = qt.verify_checkpoint(note(self.text, [("witness.example", witness),
                                                   ("quorum-time/node-9", self.key)]),
                                  self.key.public_key())
        self.assertEqual((cp.origin, cp.size, cp.root), ("quorum-time/node-9", 12, self.root))
        self.assertEqual((cp.has_time, cp.earliest_ns, cp.latest_ns, cp.synchronised),
                         (True, 100, 200, True))
        self.assertEqual(cp.signers, ("witness.example", "quorum-time/node-9"))

    def test_refusals(self):
        good = note(self.text, [("quorum-time/node-9", self.key)])
        other = ed25519.Ed25519PrivateKey.generate()
        self.refused(good, "note_no_signature_by_key", key=other)
        self.refused(good.replace("\n12\n", "\n13\n"), "note_signature_invalid")
        bad_line = (qt.checkpoint.key_hash("quorum-time/node-9", self.key.public_key()) +
                    bytes(64))
        # a failing line by the right name and key refuses the note, even beside a good one
        self.refused(note(self.text, [("quorum-time/node-9", self.key),
                                      ("quorum-time/node-9", bad_line)]),
                     "note_signature_invalid")
        self.refused(self.text + "\n", "note_unsigned")
        self.refused(good.replace("\n", "\r\n"), "note_malformed")
        self.refused(good[:-1], "note_malformed")
        self.refused(good.rstrip("\n") + "=\n", "note_signature_line_malformed")
        self.refused(note(self.text.replace("\n12\n", "\n012\n"),
                          [("quorum-time/node-9", self.key)]), "checkpoint_size_invalid")
        self.refused(note(self.text.replace("time 100 200", "time 300 200"),
                          [("quorum-time/node-9", self.key)]), "checkpoint_time_invalid")

    def test_base64_canonical(self):
        self.assertEqual(qt.checkpoint.b64decode_canonical("AAE="), b"\x00\x01")
        for text in ("AAF=", "AAE", "AA E=", "AAE==", ""):
            with self.assertRaises(ValueError, msg=text):
                qt.checkpoint.b64decode_canonical(text)


def mth(leaves):
    """RFC 6962's Merkle tree hash over leaf hashes, by its recursive definition."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    """RFC 6962's PATH(m, D[n]), leaf first."""
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, whole):
    """RFC 6962's SUBPROOF(m, D[n], b)."""
    if m == len(leaves):
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


class Proofs(unittest.TestCase):
    """RFC 9162's verification against proofs from RFC 6962's definitions, every size to 33;
    an altered hash, a wrong leaf or another tree's root fails."""

    def test_inclusion_and_consistency(self):
        leaves = [merkle.leaf_hash(b"record %d" % i) for i in range(33)]
        for n in range(1, 34):
            root = mth(leaves[:n])
            for m in range(n):
                p = path(m, leaves[:n])
                self.assertTrue(merkle.verify_inclusion(m, n, leaves[m], p, root), (m, n))
                if n < 33:  # another tree's root
                    self.assertFalse(merkle.verify_inclusion(m, n, leaves[m], p,
                                                             mth(leaves[:n + 1])))
                self.assertFalse(merkle.verify_inclusion(m, n, leaves[(m + 1) % 33], p, root))
                if p:
                    bad = list(p)
                    bad[-1] = bytes([bad[-1][0] ^ 1]) + bad[-1][1:]
                    self.assertFalse(merkle.verify_inclusion(m, n, leaves[m], bad, root))
            for old in range(1, n):
                p = subproof(old, leaves[:n], True)
                old_root = mth(leaves[:old])
                self.assertTrue(merkle.verify_consistency(old, n, old_root, root, p), (old, n))
                self.assertFalse(merkle.verify_consistency(old, n, root, root, p))
                if p:
                    bad = list(p)
                    bad[0] = bytes([bad[0][0] ^ 1]) + bad[0][1:]
                    self.assertFalse(merkle.verify_consistency(old, n, old_root, root, bad))
        self.assertTrue(merkle.verify_consistency(5, 5, leaves[0], leaves[0], []))
        self.assertFalse(merkle.verify_consistency(6, 5, leaves[0], leaves[0], []))

    def test_proof_documents_against_a_signed_checkpoint(self):
        key = ed25519.Ed25519PrivateKey.generate()
        leaves = [merkle.leaf_hash(b"record %d" % i) for i in range(20)]

        def signed(n):
            text = "quorum-time/node-9\n%d\n%s\n" % (n, base64.b64encode(mth(leaves[:n])).decode())
            return note(text, [("quorum-time/node-9", key)])

        doc = {"checkpoint": signed(20), "tree_size": 20, "index": 7,
               "leaf_hash": "00" * 32, "inclusion": [h.hex() for h in path(7, leaves)]}
        self.assertEqual(qt.verify_inclusion_proof(doc, leaves[7], key.public_key()).size, 20)
        with self.assertRaises(qt.ProofError) as e:
            qt.verify_inclusion_proof(doc, leaves[8], key.public_key())
        self.assertEqual(e.exception.reason, "inclusion_invalid")
        with self.assertRaises(qt.ProofError) as e:
            qt.verify_inclusion_proof(dict(doc, tree_size=19), leaves[7], key.public_key())
        self.assertEqual(e.exception.reason, "proof_malformed")
        other = ed25519.Ed25519PrivateKey.generate()
        with self.assertRaises(qt.ProofError) as e:
            qt.verify_inclusion_proof(doc, leaves[7], other.public_key())
        self.assertEqual(e.exception.reason, "checkpoint_invalid")
        cons = {"checkpoint": signed(20), "tree_size": 20, "old_size": 6, "old_root": "ab" * 32,
                "consistency": [h.hex() for h in subproof(6, leaves, True)]}
        self.assertEqual(qt.verify_consistency_proof(cons, signed(6), key.public_key()).size, 20)
        with self.assertRaises(qt.ProofError) as e:
            qt.verify_consistency_proof(cons, signed(7), key.public_key())
        self.assertEqual(e.exception.reason, "proof_malformed")


if __name__ == "__main__":
    unittest.main()
