#!/usr/bin/python3
"""rfc6962_verify.py -- an independent check of Quorum Time's Merkle proofs, with nothing
but hashlib: reads mtree-proofs' lines on stdin, recomputes every root from the leaf data
with RFC 6962's recursive MTH, and checks each inclusion and consistency proof by
rebuilding the root(s) it claims (RFC 9162 sections 2.1.3.2 and 2.1.4.2). Prints TAP."""
import hashlib
import sys


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf(data: bytes) -> bytes:
    return h(b"\x00" + data)


def node(left: bytes, right: bytes) -> bytes:
    return h(b"\x01" + left + right)


def mth(hashes: list, lo: int, hi: int, memo: dict) -> bytes:
    key = (lo, hi)
    if key not in memo:
        n = hi - lo
        if n == 1:
            memo[key] = hashes[lo]
        else:
            k = 1 << ((n - 1).bit_length() - 1)
            memo[key] = node(mth(hashes, lo, lo + k, memo), mth(hashes, lo + k, hi, memo))
    return memo[key]


def verify_inclusion(index: int, size: int, leaf_hash: bytes, path: list, root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes,
                       path: list) -> bool:
    if first == second:
        return not path and first_hash == second_hash
    if first == 0 or first > second or not path:
        return first == 0 and not path
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def main() -> int:
    leaves, memo, failures, checked = [], {}, [], 0
    for number, line in enumerate(sys.stdin, 1):
        word, *rest = line.split()
        if word == "leaf":
            assert int(rest[0]) == len(leaves)
            leaves.append(leaf(bytes.fromhex(rest[1]) if len(rest) > 1 else b""))
            continue
        checked += 1
        if word == "root":
            size, claimed = int(rest[0]), bytes.fromhex(rest[1])
            ok = mth(leaves, 0, size, memo) == claimed
        elif word == "inclusion":
            index, size = int(rest[0]), int(rest[1])
            path = [bytes.fromhex(x) for x in rest[2:]]
            ok = verify_inclusion(index, size, leaves[index], path, mth(leaves, 0, size, memo))
        elif word == "consistency":
            first, second = int(rest[0]), int(rest[1])
            path = [bytes.fromhex(x) for x in rest[2:]]
            ok = verify_consistency(first, second, mth(leaves, 0, first, memo),
                                    mth(leaves, 0, second, memo), path)
        else:
            ok = False
        if not ok:
            failures.append(f"line {number}: {line.strip()[:100]}")
    print("1..1")
    if failures or checked == 0:
        print(f"not ok 1 - {len(failures)} of {checked} roots and proofs fail the independent check")
        for f in failures[:10]:
            print(f"# {f}")
        return 1
    print(f"ok 1 - {checked} roots and proofs over {len(leaves)} leaves verified independently")
    return 0


if __name__ == "__main__":
    sys.exit(main())
