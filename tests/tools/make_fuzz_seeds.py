#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/{cid,dagpb,dag}/ (small valid and invalid inputs).
Blocks come from tests/tools/unixfs_ref.py, so they are real Kubo-layout blocks.
Usage: make_fuzz_seeds.py  (run from anywhere; overwrites the seed files it owns)"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import unixfs_ref as u  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "fuzz", "corpus")


def write(kind, name, data):
    d = os.path.join(ROOT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def dag_input(mode, root, store):
    out = bytes([mode])
    # parents before children: each block was stored after its children, so reverse that order
    blocks = [store[root]] + [b for c, b in reversed(list(store.items())) if c != root]
    for b in blocks:
        out += len(b).to_bytes(2, "big") + b
    return out


# cid: text and binary forms, valid and not
hello_v0 = "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
for name, text in [("v0", hello_v0),
                   ("v1-dagpb", "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa"),
                   ("v1-raw", "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"),
                   ("v1-z", "zb2rhj7crUKTQYRGCRATFaQ6YFLTde2YzdqbbhAASkL9uRDXn"),
                   ("bad-upper", "BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E"),
                   ("bad-v0-char", hello_v0[:-1] + "0")]:
    write("cid", name, text.encode())
digest = bytes.fromhex("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
write("cid", "bin-v0", b"\x12\x20" + digest)
write("cid", "bin-v1-raw", b"\x01\x55\x12\x20" + digest)
write("cid", "bin-nonminimal", b"\x01\xd5\x00\x12\x20" + digest)
write("cid", "bin-cbor", b"\x01\x71\x12\x20" + digest)
write("cid", "bin-trailing", b"\x12\x20" + digest + b"\x00")

# dagpb: leaves, an internal node, legacy order, broken ones
write("dagpb", "hello-leaf", bytes.fromhex("0a110802120b68656c6c6f20776f726c64180b"))
write("dagpb", "empty-leaf", bytes.fromhex("0a0408021800"))
imp = u.Importer(b"foobar\n", 0, False, chunk=2)
root = imp.run_bytes()
write("dagpb", "foobar-root", imp.store[root])
link = imp.store[root][:42]
write("dagpb", "legacy-order", bytes.fromhex("0a00") + link)
write("dagpb", "interleaved", link + bytes.fromhex("0a00") + link)
write("dagpb", "unknown-field", bytes.fromhex("1a00"))
write("dagpb", "unixfs-hamt", bytes.fromhex("0805280130ff01"))
imp1 = u.Importer(bytes(range(40)), 1, True, chunk=4, maxlinks=3)
r1 = imp1.run_bytes()
write("dagpb", "v1-raw-root", imp1.store[r1])

# dag: whole DAGs, root first
write("dag", "hello-v0", dag_input(1, root=bytes.fromhex("1220") + bytes.fromhex(
    "f852c7fa62f971817f54d8a80dcd63fcf7098b3cbde9ae8ec1ee449013ec5db0"),
    store={bytes.fromhex("1220f852c7fa62f971817f54d8a80dcd63fcf7098b3cbde9ae8ec1ee449013ec5db0"):
           bytes.fromhex("0a110802120b68656c6c6f20776f726c64180b")}))
write("dag", "foobar-v0", dag_input(1, root, imp.store))
write("dag", "three-level-raw", dag_input(0, r1, imp1.store))
imp2 = u.Importer(bytes(range(30)), 1, False, chunk=2, maxlinks=2)
r2 = imp2.run_bytes()
write("dag", "four-level-dagpb-leaves", dag_input(0, r2, imp2.store))
write("dag", "raw-root", bytes([2]) + (11).to_bytes(2, "big") + b"hello world")
write("dag", "empty", bytes([0]))
print("seeds written under", os.path.normpath(ROOT))
