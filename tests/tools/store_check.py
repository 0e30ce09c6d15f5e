#!/usr/bin/env python3
"""Check an fwchaind block store offline: every block file must hash to its name, and every
live record of every pack (docs/content-store.md, "Layout") must hash to the digest in its
header. Prints the number of distinct live blocks; exits 1 (naming the first bad block) on a
mismatch or a malformed pack.

Usage: store_check.py STORE_DIR   (a node's <data dir>/blocks)"""
import hashlib
import os
import struct
import sys


def align_up(x, a):
    return x if a <= 1 else (x + a - 1) // a * a


def main():
    root = sys.argv[1]
    seen = set()
    bdir = os.path.join(root, "blocks")
    for shard in sorted(os.listdir(bdir)) if os.path.isdir(bdir) else []:
        for name in os.listdir(os.path.join(bdir, shard)):
            path = os.path.join(bdir, shard, name)
            with open(path, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != name:
                    sys.exit("%s does not hash to its name" % path)
            seen.add(name)
    pdir = os.path.join(root, "packs")
    for name in sorted(os.listdir(pdir)) if os.path.isdir(pdir) else []:
        path = os.path.join(pdir, name)
        data = open(path, "rb").read()
        if data[:8] != b"FWCPACK1":
            sys.exit("%s: not a pack" % path)
        align = struct.unpack_from("<I", data, 8)[0]
        hs = align_up(48, align)
        pos = align_up(16, align)
        while pos + hs <= len(data):
            magic, flags, length = data[pos:pos + 4], *struct.unpack_from("<II", data, pos + 4)
            digest = data[pos + 16:pos + 48].hex()
            if magic != b"FWB1" or pos + hs + length > len(data):
                sys.exit("%s: bad record at %d" % (path, pos))
            if not flags & 1:
                if hashlib.sha256(data[pos + hs:pos + hs + length]).hexdigest() != digest:
                    sys.exit("%s: record at %d does not hash to %s" % (path, pos, digest))
                seen.add(digest)
            pos += align_up(hs + length, align)
    print(len(seen))


main()
