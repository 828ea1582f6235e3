#!/usr/bin/python3
"""rfc6962_verify.py -- checks mtree-proofs' output (on stdin) with nothing but hashlib.

Written from the RFCs' definitions, not from audit/mtree.c: roots are recomputed from the
leaf data with RFC 6962's recursive MTH; each proof is checked by rebuilding the root(s)
it claims, following the recursion of RFC 9162's PATH (2.1.3.1) and SUBPROOF (2.1.4.1)
from the top down (where audit/mtree.c walks RFC 9162's bit-twiddling algorithms of
2.1.3.2 and 2.1.4.2 from the bottom up); and each proof must be exactly the one those
definitions give. A self-check makes sure altered proofs fail here. Prints TAP; exits 1
when any check fails.

Input lines: "leaf INDEX DATA_HEX", "root SIZE HASH", "inclusion INDEX SIZE HASH...",
"consistency OLD NEW HASH..." (hashes hex, proofs leaf-first)."""
import hashlib
import sys


def sha256(data):
    return hashlib.sha256(data).digest()


def hash_leaf(data):
    return sha256(b"\x00" + data)


def hash_children(left, right):
    return sha256(b"\x01" + left + right)


def split(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Tree:
    """RFC 6962 section 2.1 over a list of leaf hashes, memoised by range."""

    def __init__(self, leaves):
        self.leaves = leaves
        self.memo = {}

    def mth(self, lo, hi):
        if hi == lo:
            return sha256(b"")
        key = (lo, hi)
        if key not in self.memo:
            if hi - lo == 1:
                self.memo[key] = self.leaves[lo]
            else:
                k = split(hi - lo)
                self.memo[key] = hash_children(self.mth(lo, lo + k), self.mth(lo + k, hi))
        return self.memo[key]

    def path(self, m, lo, hi):
        """PATH(m, D[lo:hi]), leaf-first."""
        n = hi - lo
        if n <= 1:
            return []
        k = split(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]

    def subproof(self, m, lo, hi, whole):
        """SUBPROOF(m, D[lo:hi], b)."""
        n = hi - lo
        if m == n:
            return [] if whole else [self.mth(lo, hi)]
        k = split(n)
        if m <= k:
            return self.subproof(m, lo, lo + k, whole) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]

    def consistency(self, m, n):
        return self.subproof(m, 0, n, True) if 0 < m < n else []


def root_from_path(m, n, leaf_hash, proof):
    """The root of an n-leaf tree with leaf_hash at m, as PROOF claims; None if PROOF
    does not have the shape PATH(m, D[n]) has. The last hash is the top sibling."""
    if n == 1:
        return leaf_hash if not proof else None
    if not proof:
        return None
    k = split(n)
    *below, sibling = proof
    if m < k:
        sub = root_from_path(m, k, leaf_hash, below)
        return None if sub is None else hash_children(sub, sibling)
    sub = root_from_path(m - k, n - k, leaf_hash, below)
    return None if sub is None else hash_children(sibling, sub)


def verify_inclusion(m, n, leaf_hash, proof, root):
    return 0 <= m < n and root_from_path(m, n, leaf_hash, proof) == root


def roots_from_subproof(m, n, proof, whole, old_root):
    """(old subtree hash, new subtree hash) that PROOF = SUBPROOF(m, D[n], whole) claims;
    None on a shape mismatch. Where the old tree is a whole subtree of the new one on its
    left edge, the proof leaves that node out: it is OLD_ROOT itself."""
    if m == n:
        if whole:
            return (old_root, old_root) if not proof else None
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = split(n)
    *below, sibling = proof
    if m <= k:
        sub = roots_from_subproof(m, k, below, whole, old_root)
        return None if sub is None else (sub[0], hash_children(sub[1], sibling))
    sub = roots_from_subproof(m - k, n - k, below, False, old_root)
    if sub is None:
        return None
    return hash_children(sibling, sub[0]), hash_children(sibling, sub[1])


def verify_consistency(m, n, old_root, new_root, proof):
    if m > n:
        return False
    if m == n:
        return not proof and old_root == new_root
    if m == 0:
        return not proof and old_root == sha256(b"")
    roots = roots_from_subproof(m, n, proof, True, old_root)
    return roots is not None and roots == (old_root, new_root)


def parse(lines):
    """(leaf data list, [(kind, numbers, hashes, line number)]); raises ValueError."""
    data, claims = [], []
    for number, line in enumerate(lines, 1):
        words = line.split()
        if not words:
            continue
        kind = words[0]
        if kind == "leaf":
            if len(words) not in (2, 3) or int(words[1]) != len(data):
                raise ValueError(f"line {number}: leaves must come in order: {line.strip()}")
            data.append(bytes.fromhex(words[2]) if len(words) == 3 else b"")
            continue
        arity = {"root": 1, "inclusion": 2, "consistency": 2}.get(kind)
        if arity is None:
            raise ValueError(f"line {number}: unknown line: {line.strip()[:80]}")
        numbers = [int(w) for w in words[1:1 + arity]]
        hashes = [bytes.fromhex(w) for w in words[1 + arity:]]
        if any(len(h) != 32 for h in hashes) or len(numbers) != arity:
            raise ValueError(f"line {number}: malformed: {line.strip()[:80]}")
        if any(x < 0 or x > len(data) for x in numbers):
            raise ValueError(f"line {number}: beyond the {len(data)} leaves: "
                             f"{line.strip()[:80]}")
        claims.append((kind, numbers, hashes, number))
    return data, claims


def check(tree, kind, numbers, hashes):
    """None when the claim holds, else what is wrong."""
    if kind == "root":
        (size,) = numbers
        if len(hashes) != 1:
            return "a root line needs one hash"
        return None if hashes[0] == tree.mth(0, size) else "root differs from MTH"
    if kind == "inclusion":
        index, size = numbers
        if index >= size:
            return "index beyond the size"
        if not verify_inclusion(index, size, tree.leaves[index], hashes, tree.mth(0, size)):
            return "inclusion proof does not verify"
        if hashes != tree.path(index, 0, size):
            return "inclusion proof is not RFC 6962's PATH"
        return None
    old, new = numbers
    if old > new:
        return "old size beyond the new"
    if not verify_consistency(old, new, tree.mth(0, old), tree.mth(0, new), hashes):
        return "consistency proof does not verify"
    if hashes != tree.consistency(old, new):
        return "consistency proof is not RFC 6962's PROOF"
    return None


def altered(hashes):
    """Wrong versions of a proof: each with one bit flipped, one short, one long."""
    out = []
    for i in range(len(hashes)):
        bad = list(hashes)
        bad[i] = bytes([bad[i][0] ^ 0x80]) + bad[i][1:]
        out.append(bad)
    if hashes:
        out.append(hashes[:-1])
        out.append(hashes[1:])
    out.append(hashes + [sha256(b"extra")])
    out.append([sha256(b"extra")] + hashes)
    return out


def self_check(tree, claims):
    """Altered proofs that this verifier would wrongly accept (should be none)."""
    accepted = []
    for kind, numbers, hashes, number in claims:
        if kind == "inclusion":
            index, size = numbers
            root = tree.mth(0, size)
            for bad in altered(hashes):
                if verify_inclusion(index, size, tree.leaves[index], bad, root):
                    accepted.append(number)
            if size > 1 and verify_inclusion((index + 1) % size, size, tree.leaves[index],
                                             hashes, root):
                accepted.append(number)
        elif kind == "consistency" and 0 < numbers[0] < numbers[1]:
            old, new = numbers
            r1, r2 = tree.mth(0, old), tree.mth(0, new)
            for bad in altered(hashes):
                if verify_consistency(old, new, r1, r2, bad):
                    accepted.append(number)
            if verify_consistency(old, new, r2, r1, hashes):
                accepted.append(number)
    return accepted


def main():
    results = []

    def report(ok, what, details=()):
        results.append(bool(ok))
        print(f"{'ok' if ok else 'not ok'} {len(results)} - {what}")
        for d in list(details)[:10]:
            print(f"# {d}")

    print("1..6")
    try:
        data, claims = parse(sys.stdin)
        error = None
    except ValueError as e:
        data, claims, error = [], [], str(e)
    counts = {k: sum(1 for c in claims if c[0] == k)
              for k in ("root", "inclusion", "consistency")}
    report(error is None and data and all(counts.values()),
           f"input parsed: {len(data)} leaves, {counts['root']} roots, "
           f"{counts['inclusion']} inclusion and {counts['consistency']} consistency proofs",
           [error] if error else [])
    wrong_data = [i for i, d in enumerate(data) if d != str(i).encode()]
    report(data and not wrong_data, "each leaf's data is the decimal text of its index",
           [f"leaf {i}: {data[i]!r}" for i in wrong_data])
    tree = Tree([hash_leaf(d) for d in data])
    for kind, what in (("root", "every root equals RFC 6962's MTH of the leaf data"),
                       ("inclusion", "every inclusion proof rebuilds its root and is PATH's"),
                       ("consistency",
                        "every consistency proof rebuilds both roots and is PROOF's")):
        failures = []
        for k, numbers, hashes, number in claims:
            why = check(tree, k, numbers, hashes) if k == kind else None
            if why:
                failures.append(f"line {number}: {k} {' '.join(map(str, numbers))}: {why}")
        report(counts[kind] > 0 and not failures, what, failures)
    fooled = self_check(tree, claims)
    report(claims and not fooled, "self-check: altered copies of the proofs are rejected",
           [f"line {n}: an altered copy of this proof was accepted" for n in fooled])
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
