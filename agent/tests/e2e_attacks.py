#!/usr/bin/env python3
"""Helpers of agent/tests/e2e_attacks.sh: a man-in-the-middle node, and proof bundles of
transactions the node logged but will not offer (failed releases, other hardware).

  e2e_attacks.py proxy UPSTREAM CONTROL PORTFILE
      An HTTP server on 127.0.0.1 (port written to PORTFILE) in front of the real node
      UPSTREAM. Every request is passed through unless the JSON file CONTROL (re-read at each
      request; absent = pass everything) says otherwise:
        "updates": FILE     answer GET /v1/updates with FILE's bytes (a saved or forged bundle)
        "no_update": true   answer GET /v1/updates with the node's current checkpoint note
                            ("no update"; a node hiding a release)
        "tamper": [CID..]   flip the first byte of every range of these blocks
        "mix": {"this": IMG, "other": IMG}
                            serve chunk i of IMG "other" for the raw leaf i of IMG "this"
                            (256 KiB chunks, CIDv1 raw leaves): a valid image of another
                            release under this release's CIDs
        "endless": true     after each range of a leaf, keep sending junk (up to 64 MiB)
        "trickle": true     send leaf ranges at about 200 bytes/s
        "log": FILE         append "METHOD PATH RANGE" of each request to FILE
      It exits by itself after 600 s.

  e2e_attacks.py bundle NODE OUT TXFILE [EXTRA_TXFILE...] [--flip-path] [--flip-cosig]
      The CBOR proof bundle (docs/formats/bundle.md) of TXFILE (a signed transaction as
      submitted; its id is its SHA-256) with EXTRA_TXFILEs as extra entries, all proven by the
      node's GET /v1/txs/{id} against one checkpoint (read again until they agree). --flip-path
      flips a bit of the release's inclusion path, --flip-cosig one character of the last
      cosignature's base64 (its length kept).

Nothing here is trusted by the device: it is the attacker's side of the test."""
import base64
import hashlib
import http.server
import json
import os
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.request


# ---- CBOR (the few major types a bundle uses, shortest heads, as the profile wants) ----
def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("too large")


def cbor(v):
    if isinstance(v, bool) or v is None:
        raise ValueError("unsupported")
    if isinstance(v, int):
        return cbor_head(0, v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):  # integer keys, in increasing order (canonical for small ints)
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(v[k]) for k in sorted(v))
    raise ValueError("unsupported")


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def bundle(args):
    node, out, rest = args[0], args[1], args[2:]
    flip_path = "--flip-path" in rest
    flip_cosig = "--flip-cosig" in rest
    files = [a for a in rest if not a.startswith("--")]
    txs = [open(f, "rb").read() for f in files]
    ids = [hashlib.sha256(t).hexdigest() for t in txs]
    for _ in range(100):
        infos = [get_json("%s/v1/txs/%s" % (node, i)) for i in ids]
        incs = [i.get("inclusion") for i in infos]
        if all(incs) and len({(x["tree_size"], x["checkpoint"]) for x in incs}) == 1:
            break
        time.sleep(0.1)
    else:
        sys.exit("bundle: no common checkpoint for %s: %s" % (files, infos))

    def entry(k):
        return incs[k]["leaf_index"], b"".join(base64.b64decode(h) for h in incs[k]["hashes"])

    idx, path = entry(0)
    if flip_path:
        if not path:
            sys.exit("bundle: empty path, nothing to flip")
        path = bytes([path[0] ^ 1]) + path[1:]
    note = incs[0]["checkpoint"]
    if flip_cosig:
        lines = note.split("\n")
        for k in range(len(lines) - 1, -1, -1):
            if lines[k].startswith("\u2014 "):
                name, sig = lines[k].rsplit(" ", 1)
                pos = len(sig) // 2
                c = "A" if sig[pos] != "A" else "B"
                lines[k] = name + " " + sig[:pos] + c + sig[pos + 1:]
                break
        note = "\n".join(lines)
    b = {0: 1, 1: txs[0], 2: idx, 3: incs[0]["tree_size"], 4: path, 5: note}
    extras = []
    for k in range(1, len(txs)):
        i, p = entry(k)
        extras.append({1: txs[k], 2: i, 4: p})
    if extras:
        b[6] = extras
    with open(out, "wb") as f:
        f.write(cbor(b))


# ---- the proxy ----
CHUNK = 262144


def b32(data):
    return "b" + base64.b32encode(data).decode().lower().rstrip("=")


def leaf_cids(path):
    img = open(path, "rb").read()
    chunks = [img[i:i + CHUNK] for i in range(0, len(img), CHUNK)]
    return {b32(b"\x01\x55\x12\x20" + hashlib.sha256(c).digest()): c for c in chunks}, chunks


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = ""
    control = ""

    def log_message(self, *a):
        pass

    def ctl(self):
        try:
            with open(self.control) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def send(self, status, body, ctype="application/octet-stream", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        req = urllib.request.Request(self.upstream + self.path, data=body, method=self.command)
        for h in ("Range", "Content-Type", "Accept", "If-None-Match"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def relay(self, status, data, hdrs):
        extra = {k: hdrs[k] for k in ("Content-Range", "ETag") if k in hdrs}
        self.send(status, data, hdrs.get("Content-Type", "application/octet-stream"), extra)

    def ranged(self, data):
        """Serve data honouring a single 'bytes=A-B' Range."""
        rg = self.headers.get("Range")
        if rg and rg.startswith("bytes="):
            a, b = rg[6:].split("-")
            a, b = int(a), min(int(b), len(data) - 1)
            if a >= len(data):
                return self.send(416, b"")
            return self.send(206, data[a:b + 1], extra={
                "Content-Range": "bytes %d-%d/%d" % (a, b, len(data))})
        return self.send(200, data)

    def do_POST(self):
        self.relay(*self.forward())

    def do_GET(self):
        c = self.ctl()
        if c.get("log"):
            with open(c["log"], "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range")))
        if self.path.startswith("/v1/updates") and c.get("updates"):
            data = open(c["updates"], "rb").read()
            ctype = "application/cbor" if data[:1] and 0xa0 <= data[0] <= 0xbb else "text/plain"
            return self.send(200, data, ctype)
        if self.path.startswith("/v1/updates") and c.get("no_update"):
            self.path = "/v1/checkpoint"
            return self.relay(*self.forward())
        if not self.path.startswith("/ipfs/"):
            return self.relay(*self.forward())
        cid = self.path[6:].split("?")[0]
        if c.get("mix"):
            this, _ = leaf_cids(c["mix"]["this"])
            _, other = leaf_cids(c["mix"]["other"])
            order = list(this)
            if cid in this:
                return self.ranged(other[order.index(cid)])
        status, data, hdrs = self.forward()
        leafish = cid.startswith("bafk")  # a raw leaf (CIDv1 raw): not the dag-pb root
        if status == 206 and cid in c.get("tamper", []) and data:
            data = bytes([data[0] ^ 0x5a]) + data[1:]
        if status == 206 and leafish and c.get("endless"):
            self.send_response(206)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Range", hdrs.get("Content-Range", ""))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(data)
                junk = b"\xa5" * 65536
                for _ in range(1024):  # 64 MiB at most: "endless" for the device
                    self.wfile.write(junk)
            except OSError:
                pass
            return
        if status == 206 and leafish and c.get("trickle"):
            self.send_response(206)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Range", hdrs.get("Content-Range", ""))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for i in range(0, len(data), 64):
                    self.wfile.write(data[i:i + 64])
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
            return
        self.relay(status, data, hdrs)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def proxy(args):
    Proxy.upstream, Proxy.control = args[0], args[1]
    srv = Server(("127.0.0.1", 0), Proxy)
    with open(args[2] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args[2] + ".tmp", args[2])
    threading.Timer(600, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "proxy":
        proxy(sys.argv[2:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "bundle":
        bundle(sys.argv[2:])
    else:
        sys.exit(__doc__)
