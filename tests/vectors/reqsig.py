#!/usr/bin/env python3
"""Independent reference for the worked example of docs/formats/content-auth.md.

Builds the request-signature message from the format page with hashlib only and signs it with
the BIP-340 code of payloads.py (written from the BIP, sharing nothing with lib/reqsig.c or
libsecp256k1); tests/unit/reqsig.c checks the C code against what this prints.
Run: python3 tests/vectors/reqsig.py
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payloads import bip340_pub, bip340_sign, tagged  # noqa: E402

CHAIN = "fwchain-dev-1d9c204f"
METHOD = "POST"
TARGET = "/v1/content?cid-version=1"
TIME = 1795239200
BODY = b"hello world"
SK = 3  # BIP-340 test vector 0's secret key
AUX = bytes(32)


def main():
    body_sha = hashlib.sha256(BODY).hexdigest()
    msg = "\n".join([CHAIN, METHOD, TARGET, str(TIME), body_sha]).encode()
    digest = tagged("fwchain/request/v1", msg)
    print("message", msg.hex())
    print("body_sha256", body_sha)
    print("digest", digest.hex())
    print("key bip340:" + bip340_pub(SK).hex())
    print("signature", bip340_sign(SK, digest, AUX).hex())


if __name__ == "__main__":
    main()
