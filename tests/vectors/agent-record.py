#!/usr/bin/env python3
"""Independent encoder of the agent's state record (docs/formats/agent-record.md), written from
the layout table of that page with struct.pack and hashlib, not from agent/core/record.c.
Prints the worked example of the page (format version 3) as the hex dump the page shows;
with --v2 the same record in format version 2 (no abandoned counter), with --v1 in format
version 1 (no transaction nonce either), both of which the agent still reads. agent/tests/record.c checks the C encoder and decoder against these bytes."""
import hashlib
import struct
import sys

Q = 8
v1 = "--v1" in sys.argv[1:]
v2 = "--v2" in sys.argv[1:]
version = 1 if v1 else 2 if v2 else 3


def image(counter, size, sha):
    return struct.pack("<QQ", counter, size) + sha


def record():
    fixed = {1: 272, 2: 280, 3: 288}[version]
    length = fixed + 24 * Q + 32
    b = b"FWAR" + bytes([version, Q]) + struct.pack("<H", length)
    b += struct.pack("<I", 7)                   # sequence number
    b += bytes([1, 0xFF, 0, 1])                 # active B, nothing pending, 0 attempts, download
    b += struct.pack("<Q", 42)                  # floor
    b += image(42, 1 << 20, hashlib.sha256(bytes(1 << 20)).digest())
    b += bytes(48)                              # pending image
    b += struct.pack("<QQ", 1234, 1700000000) + b"\x11" * 32  # checkpoint
    b += bytes([0, 0, 0, 0])                    # download slot A, reserved
    b += b"\x22" * 32                           # download target
    b += image(43, 2 << 20, b"\x33" * 32)
    b += struct.pack("<Q", 524288)              # verified
    b += struct.pack("<II", 3, 0)               # next event seq, dropped
    b += bytes([2, 0, 0, 0])                    # event count, reserved
    if version >= 2:
        b += struct.pack("<Q", 5)               # transaction nonce
    if version >= 3:
        b += struct.pack("<Q", 40)              # abandoned release counter
    assert len(b) == fixed
    b += struct.pack("<IBBhQQ", 1, 1, 0, 0, 42, 1700000100)
    b += struct.pack("<IBBhQQ", 2, 3, 0, -14, 43, 1700000200)
    b += bytes(24 * (Q - 2))
    b += hashlib.sha256(b).digest()
    assert len(b) == length
    return b


rec = record()
for off in range(0, len(rec), 16):
    print("%03x: %s" % (off, " ".join("%02x" % x for x in rec[off:off + 16])))
print("sha256 of the first %d bytes: %s" % (len(rec) - 32, rec[-32:].hex()), file=sys.stderr)
