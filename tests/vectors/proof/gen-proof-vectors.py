#!/usr/bin/env python3
# Generates the proof-bundle fixtures of this folder for tests/cli/proof.sh with an
# implementation independent of fwchain's C code: Python's hashlib and base64, pyca/cryptography's
# Ed25519 (OpenSSL; fwchain uses libsodium), and a small deterministic CBOR encoder written here
# from RFC 8949 §4.2.1. It follows the format pages as written:
#   transaction.md  body {0:1, 1:type, 2:chain id, 3:sender, 4:nonce, 5:time, 6:payload},
#                   signed {1: body bytes, 2: sig over tagged_hash("fwchain/tx/v1", body)}
#   payloads.md     release payload {1: signed manifest bytes}
#   manifest.md     body {0..9}, signed {1: body, 2: [[pubkey33, sig], ...] sorted by pubkey},
#                   sigs over tagged_hash("fwchain/manifest/v1", body)
#   merkle.md       RFC 6962 leaf SHA256(00||tx), node SHA256(01||l||r), RFC 9162 paths
#   checkpoint.md   origin, size, base64 root, extension lines; cosignature/v1 lines
#   bundle.md       {0:1, 1:tx, 2:index, 3:size, 4:path, 5:checkpoint[, 6:extra]} and tlog-proof
#   trust.md        fwchain-trust/v1
# Ed25519 is deterministic, so running it again gives the same bytes. Run from this folder; the
# outputs are checked in. Every file and what it breaks is listed in README.md.
import base64, hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

CHAIN = "fwchain-test-proof"
T0 = 1700000000


# ---- deterministic CBOR (unsigned ints, byte and text strings, arrays, int-keyed maps) ----
def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor(x):
    if isinstance(x, bool):
        return b"\xf5" if x else b"\xf4"
    if isinstance(x, int):
        return head(0, x)
    if isinstance(x, bytes):
        return head(2, len(x)) + x
    if isinstance(x, str):
        b = x.encode()
        return head(3, len(b)) + b
    if isinstance(x, list):
        return head(4, len(x)) + b"".join(cbor(i) for i in x)
    if isinstance(x, dict):
        items = sorted((cbor(k), cbor(v)) for k, v in x.items())  # bytewise key order
        return head(5, len(x)) + b"".join(k + v for k, v in items)
    raise TypeError(x)


# ---- keys and hashes ----
def tagged(tag, msg):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


class Key:
    def __init__(self, label):
        seed = hashlib.sha256(("fwchain proof vector " + label).encode()).digest()
        self.sk = Ed25519PrivateKey.from_private_bytes(seed)
        self.pub = self.sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)
        self.bin = b"\x02" + self.pub  # fwchain binary public key: ed25519 algorithm byte
        self.text = "ed25519:" + self.pub.hex()

    def sign(self, msg):
        return self.sk.sign(msg)


def keyid(name, typ, pub):
    return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + pub).digest()[:4]


def vkey(name, k):
    return "%s+%s+%s" % (name, keyid(name, 4, k.pub).hex(),
                         base64.b64encode(b"\x04" + k.pub).decode())


def cosig_line(name, k, text, t):
    msg = b"cosignature/v1\ntime " + str(t).encode() + b"\n" + text
    payload = keyid(name, 4, k.pub) + t.to_bytes(8, "big") + k.sign(msg)
    return "\u2014 ".encode() + name.encode() + b" " + base64.b64encode(payload) + b"\n"


# ---- RFC 6962 / 9162 Merkle tree ----
def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):  # RFC 6962 §2.1.1 PATH(m, D[n]), leaf sibling first
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


# ---- objects ----
validators = [Key("validator-%d" % i) for i in range(3)]
vnames = ["%s/validator-%d" % (CHAIN, i) for i in range(3)]
rogue = Key("rogue")
release_keys = [Key("release-%d" % i) for i in range(3)]
sender = Key("sender")
image = b"firmware image 1.4.2 for the acme thermostat\n"


def manifest(signers):
    digest = hashlib.sha256(image).digest()
    body = cbor({0: 1, 1: "acme-thermostat", 2: "1.4.2", 3: 42, 4: "stable",
                 5: b"\x01\x55\x12\x20" + digest, 6: len(image), 7: digest, 8: ["acme-hw-1"],
                 9: T0})
    d = tagged("fwchain/manifest/v1", body)
    sigs = sorted([k.bin, k.sign(d)] for k in signers)
    return cbor({1: body, 2: sigs})


def tx(typ, payload, chain=CHAIN, nonce=1, key=sender, corrupt=False):
    body = cbor({0: 1, 1: typ, 2: chain, 3: key.bin, 4: nonce, 5: T0, 6: payload})
    sig = key.sign(tagged("fwchain/tx/v1", body))
    if corrupt:
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return cbor({1: body, 2: sig})


def release_tx(signers=(0, 1), **kw):
    m = manifest([release_keys[i] for i in signers])
    return tx(9, cbor({1: m}), **kw)


def filler(i):
    # Other transactions of the log: config updates by the same sender (payload contents do not
    # matter to a proof of another leaf).
    return tx(12, cbor({1: "acme-thermostat", 4: "setting-%d" % i, 5: b"v"}), nonce=10 + i)


INDEX, SIZE = 5, 7


def bundle(rtx, cosigners=(0, 1), origin=CHAIN, index=INDEX, bad_path=False, bad_cosig=None,
           extra=None):
    txs = [filler(i) for i in range(SIZE)]
    txs[INDEX] = rtx
    if extra is not None:
        txs[1] = extra
    leaves = [leaf(t) for t in txs]
    root = mth(leaves)
    text = ("%s\n%d\n%s\nheight 3\ntime %d\n" %
            (origin, SIZE, base64.b64encode(root).decode(), T0)).encode()
    note = text + b"\n"
    for i in cosigners:
        line = cosig_line(vnames[i], validators[i], text, T0 + 100 * (i + 1))
        if bad_cosig == i:  # flip a bit of the signature (inside the base64 payload)
            raw = bytearray(base64.b64decode(line.split(b" ")[-1]))
            raw[20] ^= 1
            line = b" ".join(line.split(b" ")[:-1] + [base64.b64encode(bytes(raw)) + b"\n"])
        note += line
    p = path(INDEX, leaves)
    if bad_path:
        p[1] = bytes([p[1][0] ^ 0x80]) + p[1][1:]
    m = {0: 1, 1: rtx, 2: index, 3: SIZE, 4: b"".join(p), 5: note.decode()}
    if extra is not None:
        m[6] = [{1: extra, 2: 1, 4: b"".join(path(1, leaves))}]
    return cbor(m), rtx, index, p, note


def tlog_proof(rtx, index, p, note):
    out = "c2sp.org/tlog-proof@v1\nextra %s\nindex %d\n" % (base64.b64encode(rtx).decode(), index)
    out += "".join(base64.b64encode(h).decode() + "\n" for h in p)
    return out.encode() + b"\n" + note


def trust(vals, product=True):
    t = "fwchain-trust/v1\norigin %s\n" % CHAIN
    t += "".join("validator %s\n" % vkey(n, k) for n, k in vals)
    t += "quorum 2\nmax-age 86400\n"
    if product:
        t += "product acme-thermostat\nrelease-threshold 2\n"
        t += "".join("release-key %s\n" % k.text for k in release_keys)
    return t


def write(name, data):
    with open(name, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


vals = list(zip(vnames, validators))
write("trust.txt", trust(vals))
write("trust-noproduct.txt", trust(vals, product=False))
write("trust-wrong-validator.txt", trust([vals[0], (vnames[1], rogue), vals[2]]))
write("release-keys.txt", ",".join(k.text for k in release_keys) + "\n")

good = bundle(release_tx())
write("good.bundle", good[0])
write("good.tlog", tlog_proof(*good[1:]))
write("good.txid", hashlib.sha256(good[1]).hexdigest() + "\n")
write("image.bin", image)
write("quorum-1.bundle", bundle(release_tx(), cosigners=(0,))[0])
write("bad-cosig.bundle", bundle(release_tx(), bad_cosig=1)[0])
write("bad-path.bundle", bundle(release_tx(), bad_path=True)[0])
write("bad-index.bundle", bundle(release_tx(), index=4)[0])
write("other-chain-tx.bundle", bundle(release_tx(chain="another-chain"))[0])
write("other-origin.bundle", bundle(release_tx(), origin="another-chain")[0])
write("one-sig-manifest.bundle", bundle(release_tx(signers=(0,)))[0])
write("three-sig-manifest.bundle", bundle(release_tx(signers=(0, 1, 2)))[0])
m_rogue = manifest([release_keys[0], rogue])
write("rogue-sig-manifest.bundle", bundle(tx(9, cbor({1: m_rogue})))[0])
write("bad-tx-sig.bundle", bundle(release_tx(corrupt=True))[0])
write("not-release.bundle", bundle(filler(99))[0])
write("with-extra.bundle", bundle(release_tx(), extra=tx(4, cbor({1: b"statement"}), nonce=2))[0])
