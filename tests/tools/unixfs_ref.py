#!/usr/bin/env python3
"""Independent reference for fwchain's UnixFS importer (lib/unixfs.c), written from the specs
(dag-pb, UnixFS, CID, multibase) using only the standard library (hashlib).

It builds the same balanced DAG as Kubo's `ipfs add` (fixed-size chunker, at most 174 links per
node, the go-unixfs "balanced" layout) for the deterministic inputs listed in
docs/formats/unixfs.md and prints their root CIDs. The C unit test tests/unit/unixfs.c checks
the same constants; `--check` makes this script compare its results against the table in the
doc, so doc, python and C cannot drift.

The tree is built recursively (fill a node of depth d with up to 174 subtrees of depth d-1, grow
the root one level whenever it is full and data remains), deliberately a different shape of
algorithm from the C importer, which streams with one pending node per level.

Usage: unixfs_ref.py            print the table
       unixfs_ref.py --check    compare with docs/formats/unixfs.md, exit 1 on a difference
"""
import hashlib
import os
import re
import sys

CHUNK = 262144
MAXLINKS = 174


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def field_varint(num, n):
    return varint(num << 3) + varint(n)


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
B32 = "abcdefghijklmnopqrstuvwxyz234567"


def base58(b):
    n = int.from_bytes(b, "big")
    s = ""
    while n:
        n, r = divmod(n, 58)
        s = B58[r] + s
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + s


def base32(b):
    bits = "".join(f"{x:08b}" for x in b)
    bits += "0" * (-len(bits) % 5)
    return "".join(B32[int(bits[i:i + 5], 2)] for i in range(0, len(bits), 5))


def cid_bytes(version, codec, block):
    mh = b"\x12\x20" + hashlib.sha256(block).digest()
    if version == 0:
        return mh
    return varint(1) + varint(codec) + mh


def cid_text(cb):
    if len(cb) == 34 and cb[0] == 0x12:
        return base58(cb)
    return "b" + base32(cb)


class Importer:
    """Kubo's balanced layout over a list of chunks, recursion as in the UnixFS spec."""

    def __init__(self, data, cid_version=0, raw_leaves=False, chunk=CHUNK, maxlinks=MAXLINKS):
        self.data, self.v, self.raw = data, cid_version, raw_leaves
        self.chunk, self.maxlinks = chunk, maxlinks
        self.pos = 0
        self.blocks = 0
        self.store = {}  # cid bytes -> block bytes (used by make_fuzz_seeds.py)

    def done(self):
        return self.pos >= len(self.data)

    def leaf(self):
        d = self.data[self.pos:self.pos + self.chunk]
        self.pos += len(d)
        self.blocks += 1
        if self.raw:
            self.store[cid_bytes(1, 0x55, d)] = d
            return cid_bytes(1, 0x55, d), len(d), len(d)
        u = field_varint(1, 2) + (field_bytes(2, d) if d else b"") + field_varint(3, len(d))
        blk = field_bytes(1, u)
        self.store[cid_bytes(self.v, 0x70, blk)] = blk
        return cid_bytes(self.v, 0x70, blk), len(blk), len(d)

    def node(self, children):
        """children: list of (cid bytes, tsize, filesize) -> (cid, tsize, filesize)."""
        links = b"".join(
            field_bytes(2, field_bytes(1, c) + field_bytes(2, b"") + field_varint(3, t))
            for c, t, _ in children)
        fs = sum(f for _, _, f in children)
        u = field_varint(1, 2) + field_varint(3, fs) + b"".join(
            field_varint(4, f) for _, _, f in children)
        blk = links + field_bytes(1, u)
        self.blocks += 1
        self.store[cid_bytes(self.v, 0x70, blk)] = blk
        return cid_bytes(self.v, 0x70, blk), len(blk) + sum(t for _, t, _ in children), fs

    def fill(self, depth, first=None):
        kids = [first] if first else []
        while len(kids) < self.maxlinks and not self.done():
            kids.append(self.leaf() if depth == 1 else self.fill(depth - 1))
        return self.node(kids)

    def run(self):
        return cid_text(self.run_bytes())

    def run_bytes(self):
        root = self.leaf()  # the empty file is one empty leaf, as in Kubo
        depth = 1
        while not self.done():
            root = self.fill(depth, root)
            depth += 1
        return root[0]


def prng(n):
    """The documented test content: SHA-256 in counter mode. Byte i is byte (i % 32) of
    SHA256("fwchain-unixfs-test" || le64(i // 32))."""
    out = bytearray()
    for k in range((n + 31) // 32):
        out += hashlib.sha256(b"fwchain-unixfs-test" + k.to_bytes(8, "little")).digest()
    return bytes(out[:n])


# (label, size, cid_version, raw_leaves)
CASES = []
for size_name, size in [("256KiB", CHUNK), ("256KiB+1", CHUNK + 1),
                        ("174x256KiB", 174 * CHUNK), ("174x256KiB+1", 174 * CHUNK + 1),
                        ("64MiB+12345", 64 * 1024 * 1024 + 12345)]:
    CASES.append((size_name, size, 1, True))
    CASES.append((size_name, size, 0, False))


def table():
    cache = {}
    rows = []
    for label, size, v, raw in CASES:
        if size not in cache:
            cache = {size: prng(size)}
        cid = Importer(cache[size], v, raw).run()
        rows.append((label, size, f"v{v}{'-raw' if raw else ''}", cid))
    return rows


def check_small_vectors(path):
    """The go-ipfs multi-block vectors: the reference must reproduce them to be trusted."""
    import json
    bad = rows = 0
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or line.startswith("label\t"):
            continue
        label, inp, chunk, want = line.rstrip("\n").split("\t")
        kind, arg = inp.split(":", 1)
        if kind == "json":
            data = json.loads(arg).encode()
        elif kind == "zeros":
            data = bytes(int(arg))
        else:
            data = bytes(i % 251 for i in range(int(arg)))
        got = Importer(data, 0, False, chunk=int(chunk)).run()
        rows += 1
        if got != want:
            print(f"MISMATCH {label}: python {got}, go-ipfs {want}")
            bad += 1
    print(f"{rows - bad} of {rows} go-ipfs small-chunk vectors reproduced")
    return bad


def main():
    rows = table()
    if "--check" not in sys.argv:
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | `{r[3]}` |")
        return 0
    here = os.path.dirname(__file__)
    bad = check_small_vectors(os.path.join(here, "..", "vectors", "unixfs-small-chunks.tsv"))
    doc = os.path.join(here, "..", "..", "docs", "formats", "unixfs.md")
    text = open(doc, encoding="utf-8").read()
    for label, size, opts, cid in rows:
        m = re.search(r"^\| %s \| %d \| %s \| `([^`]+)` \|" % (re.escape(label), size, opts),
                      text, re.M)
        if not m or m.group(1) != cid:
            print(f"MISMATCH {label} {opts}: python {cid}, doc {m.group(1) if m else None}")
            bad += 1
    print(f"{len(rows) - bad} of {len(rows)} rows agree with docs/formats/unixfs.md")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
