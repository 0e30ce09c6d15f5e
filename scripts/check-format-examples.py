#!/usr/bin/env python3
"""Independent check of the worked examples in docs/formats/manifest.md and transaction.md.

Reads the example bytes from tests/unit/manifest.c and tests/unit/tx.c (which the unit tests
compare against the C code) and re-derives them without the C library: tagged hashes with
hashlib, BIP-340 signatures with a small implementation written from the BIP text (signing
with the same fixed keys and zero aux must reproduce the bytes exactly). Not run by ctest;
run it after changing an example: python3 scripts/check-format-examples.py
"""
import hashlib
import os
import re
import sys

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], P - 2, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], P - 2, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def mul(pt, k):
    r = None
    while k:
        if k & 1:
            r = add(r, pt)
        pt = add(pt, pt)
        k >>= 1
    return r


def tagged(tag, msg):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


def b32(x):
    return x.to_bytes(32, 'big')


def sign(secret, msg, aux):
    pub = mul(G, secret)
    d = secret if pub[1] % 2 == 0 else N - secret
    t = (d ^ int.from_bytes(tagged("BIP0340/aux", aux), 'big')).to_bytes(32, 'big')
    k0 = int.from_bytes(tagged("BIP0340/nonce", t + b32(pub[0]) + msg), 'big') % N
    r = mul(G, k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    e = int.from_bytes(tagged("BIP0340/challenge", b32(r[0]) + b32(pub[0]) + msg), 'big') % N
    return b32(r[0]) + b32((k + e * d) % N)


def grab(src, name):
    m = re.search(r'static const char \*const ' + name + r' =\s*(.*?);', src, re.S)
    return bytes.fromhex(''.join(re.findall(r'"([^"]*)"', m.group(1))).replace(' ', ''))


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    ok = True
    aux = bytes(32)

    src = open(os.path.join(root, 'tests/unit/manifest.c')).read()
    body = grab(src, 'example_body')
    digest = tagged("fwchain/manifest/v1", body)
    ok &= digest.hex() == grab(src, 'example_digest').hex()
    img = b"fwchain example image\n"
    ok &= hashlib.sha256(img).digest() == body[41:73] == body[78:110]
    want = (bytes.fromhex('0282')
            + bytes.fromhex('825821') + b'\x01' + b32(mul(G, 1)[0]) + bytes.fromhex('5840')
            + sign(1, digest, aux)
            + bytes.fromhex('825821') + b'\x01' + b32(mul(G, 2)[0]) + bytes.fromhex('5840')
            + sign(2, digest, aux))
    ok &= want == grab(src, 'example_sigs')
    print('manifest example:', 'ok' if ok else 'MISMATCH')

    src = open(os.path.join(root, 'tests/unit/tx.c')).read()
    tb = grab(src, 'example_body')
    td = tagged("fwchain/tx/v1", tb)
    sig = sign(1, td, aux)
    tx = bytes.fromhex('a2015843') + tb + bytes.fromhex('025840') + sig
    tok = (td == grab(src, 'example_digest') and sig == grab(src, 'example_sig')
           and hashlib.sha256(tx).digest() == grab(src, 'example_id'))
    print('transaction example:', 'ok' if tok else 'MISMATCH')
    return 0 if ok and tok else 1


if __name__ == '__main__':
    sys.exit(main())
