#!/usr/bin/env python3
# Generates the fwchain-*.{vkey,note,keys} known answers in this folder with an implementation
# independent of fwchain's (Python's hashlib and pyca/cryptography's Ed25519, i.e. OpenSSL, where
# fwchain uses libsodium). It follows c2sp.org/signed-note and c2sp.org/tlog-cosignature as
# written: key id = SHA-256(name || 0x0A || type || pubkey)[:4]; a cosignature/v1 signs
# "cosignature/v1\ntime <t>\n" || checkpoint text and its payload is
# key id || u64be(t) || signature. Run from this folder; the outputs are checked in.
import base64, hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

DASH = "\u2014".encode()

def key(label):
    seed = hashlib.sha256(("fwchain test vector " + label).encode()).digest()
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return seed, sk, pub

def keyid(name, typ, pub):
    return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + pub).digest()[:4]

def vkey(name, typ, pub):
    return "%s+%s+%s" % (name, keyid(name, typ, pub).hex(), base64.b64encode(bytes([typ]) + pub).decode())

def sigline(name, payload):
    return DASH + b" " + name.encode() + b" " + base64.b64encode(payload) + b"\n"

def ed_line(name, sk, pub, text):
    return sigline(name, keyid(name, 1, pub) + sk.sign(text))

def cosig_line(name, sk, pub, text, t):
    msg = b"cosignature/v1\ntime " + str(t).encode() + b"\n" + text
    return sigline(name, keyid(name, 4, pub) + t.to_bytes(8, "big") + sk.sign(msg))

signers = [("example.com/fwchain-log", 1, "log"), ("witness.example.com/w1", 4, "w1"),
           ("witness.example.com/w2", 4, "w2"), ("witness.example.com/w3", 4, "w3")]
keys = {}
with open("fwchain-keys.txt", "w") as f:
    f.write("# name type seed(hex): Ed25519 seeds = SHA-256(\"fwchain test vector <label>\")\n")
    for name, typ, label in signers:
        seed, sk, pub = key(label)
        keys[label] = (name, typ, sk, pub)
        f.write("%s %d %s\n" % (name, typ, seed.hex()))
        with open("fwchain-%s.vkey" % label, "w") as v:
            v.write(vkey(name, typ, pub))

root = hashlib.sha256(b"fwchain test root").digest()
text = ("example.com/fwchain-test\n42\n%s\nheight 12\ntime 1700000000\n" %
        base64.b64encode(root).decode()).encode()
n, _, sk, pub = keys["log"]
note = text + b"\n" + ed_line(n, sk, pub, text)
for label, t in (("w1", 1700000001), ("w2", 1700000002)):
    n, _, sk, pub = keys[label]
    note += cosig_line(n, sk, pub, text, t)
open("fwchain-checkpoint.note", "wb").write(note)

# The spec's own example checkpoint, cosigned by w1 at the time the spec's example message shows:
# verifying it proves the verifier rebuilds exactly the message printed in tlog-cosignature.md.
spec_msg = open("tlog-cosignature-message.txt", "rb").read()
spec_text = spec_msg.split(b"\n", 2)[2]
n, _, sk, pub = keys["w1"]
line = sigline(n, keyid(n, 4, pub) + (1679315147).to_bytes(8, "big") + sk.sign(spec_msg))
open("fwchain-spec-cosigned.note", "wb").write(spec_text + b"\n" + line)
