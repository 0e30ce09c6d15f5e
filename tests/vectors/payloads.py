#!/usr/bin/env python3
"""Independent reference for the worked examples of docs/formats/payloads.md.

A few lines of deterministic CBOR (RFC 8949 section 4.2.1) and BIP-340 signing written from
the specifications, sharing no code with lib/payload.c; tests/unit/payload.c checks the C
encoders and decoders against the hex this prints. Run: python3 tests/vectors/payloads.py
"""
import hashlib


# --- deterministic CBOR -------------------------------------------------------------------
def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def enc(v):
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    if isinstance(v, Raw):
        return v.b
    raise TypeError(v)


class Raw:
    """Already-encoded CBOR embedded as is."""

    def __init__(self, b):
        self.b = b


# --- BIP-340 (from the BIP's pseudocode) ----------------------------------------------------
P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def tagged(tag, msg):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + msg).digest()


def add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and p1[1] != p2[1]:
        return None
    if p1 == p2:
        lam = 3 * p1[0] * p1[0] * pow(2 * p1[1], P - 2, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], P - 2, P) % P
    x = (lam * lam - p1[0] - p2[0]) % P
    return (x, (lam * (p1[0] - x) - p1[1]) % P)


def mul(p, n):
    r = None
    for i in range(256):
        if (n >> i) & 1:
            r = add(r, p)
        p = add(p, p)
    return r


def bip340_pub(sk):
    return mul(G, sk)[0].to_bytes(32, "big")


def bip340_sign(sk, msg, aux):
    pt = mul(G, sk)
    d = sk if pt[1] % 2 == 0 else N - sk
    t = (d ^ int.from_bytes(tagged("BIP0340/aux", aux), "big")).to_bytes(32, "big")
    k0 = int.from_bytes(tagged("BIP0340/nonce", t + pt[0].to_bytes(32, "big") + msg), "big") % N
    r = mul(G, k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    e = int.from_bytes(tagged("BIP0340/challenge", r[0].to_bytes(32, "big") +
                              pt[0].to_bytes(32, "big") + msg), "big") % N
    return r[0].to_bytes(32, "big") + ((k + e * d) % N).to_bytes(32, "big")


# --- the examples ---------------------------------------------------------------------------
# Keys: BIP-340 test vectors 0 (secret 3) and 1, RFC 8032 test 1 (Ed25519).
SK_A = 3
SK_B = 0xB7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF
KEY_A = b"\x01" + bip340_pub(SK_A)
KEY_B = b"\x01" + bip340_pub(SK_B)
KEY_V = b"\x02" + bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RID = bytes(range(32))  # a release id for the examples

EXAMPLES = {
    "org_register": {1: "acme", 2: "ACME Corp", 3: KEY_A},
    "member_add": {1: KEY_B, 2: 3, 3: "ops"},
    "member_remove": {1: KEY_B},
    "device_register": {1: KEY_B, 2: "thermo", 3: "rev-b", 4: ["eu", "pilot"], 5: "eu-west",
                        6: {"site": "lyon"}, 7: 5},
    "release_revoke": {1: RID, 2: "bad"},
    "rollout": {1: RID, 2: 1},
    "postpone": {2: RID, 3: 1700086400, 5: "pilot"},
    "config_update": {1: "thermo", 2: "eu", 4: "interval", 5: b"\x3c"},
    "licence_issue": {1: "lic-1", 2: "thermo", 3: KEY_B, 4: "pro", 5: 1700000000, 6: 0},
    "licence_revoke": {1: "lic-1", 2: "thermo"},
    "key_revoke": {1: KEY_B, 2: "lost"},
    "validator_set": {1: 2, 2: [{1: KEY_V, 2: "v1"}], 3: 1},
}

# A key set (keyset.h): {0: 1, 1: threshold, 2: [keys sorted]}, 1-of-2.
KEYSET = enc({0: 1, 1: 1, 2: sorted([KEY_A, KEY_B])})
EXAMPLES["product_register"] = {1: "thermo", 2: "Thermostat", 3: Raw(KEYSET)}


def main():
    for name, value in EXAMPLES.items():
        print(f"{name} {enc(value).hex()}")
    # Device event signed by key B (BIP-340 vector 1's secret), auxiliary randomness zero.
    body = enc({1: KEY_B, 2: 7, 3: 1700000000, 4: 4, 5: RID, 6: 5})
    digest = tagged("fwchain/event/v1", body)
    sig = bip340_sign(SK_B, digest, bytes(32))
    event = enc({1: Raw(body), 2: sig})
    print(f"event_body {body.hex()}")
    print(f"event_digest {digest.hex()}")
    print(f"event {event.hex()}")
    # The same body self-reported (payload field 2, no event signature) in a DEVICE_EVENT
    # transaction of device B itself (docs/formats/transaction.md), whose envelope signature
    # is then the only one: chain "fwchain-dev", nonce 3, time 1700000000.
    payload = enc({2: Raw(body)})
    txbody = enc({0: 1, 1: 11, 2: "fwchain-dev", 3: KEY_B, 4: 3, 5: 1700000000, 6: payload})
    txdigest = tagged("fwchain/tx/v1", txbody)
    txsig = bip340_sign(SK_B, txdigest, bytes(32))
    tx = enc({1: txbody, 2: txsig})
    print(f"event_self_payload {payload.hex()}")
    print(f"event_self_txbody {txbody.hex()}")
    print(f"event_self_txdigest {txdigest.hex()}")
    print(f"event_self_tx {tx.hex()}")
    print(f"event_self_txid {hashlib.sha256(tx).hexdigest()}")
    # Key-set statement: release set v1 of "thermo" (1-of-1, key B), signed by root key A.
    rel = enc({0: 1, 1: 1, 2: [KEY_B]})
    sbody = enc({1: "thermo", 2: 2, 3: 1, 4: Raw(rel)})
    sdigest = tagged("fwchain/keyset-statement/v1", sbody)
    ssig = bip340_sign(SK_A, sdigest, bytes(32))
    stmt = enc({1: Raw(sbody), 2: [{1: KEY_A, 2: ssig}]})
    print(f"statement_body {sbody.hex()}")
    print(f"statement_digest {sdigest.hex()}")
    print(f"statement {stmt.hex()}")
    print(f"keyset {KEYSET.hex()}")


if __name__ == "__main__":
    main()
