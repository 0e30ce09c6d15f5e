#!/usr/bin/env python3
"""A misbehaving trustless gateway for fwchaind's replication tests (127.0.0.1 only).

    bad_gateway.py PORTFILE [MODE ...]
    bad_gateway.py PORTFILE --proxy URL N


Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, and answers every
GET /ipfs/{cid}?format=raw with a bad block, cycling through the MODEs given (default: all):

  wrong     200 with random bytes of a plausible size (they do not hash to the CID)
  other     200 with the bytes of another block ("hello world")
  truncated 200 announcing 262144 bytes, sending 1000, then closing the connection
  long      200 with 3 MiB of bytes and no Content-Length (more than any block may be)
  huge      200 announcing 3 MiB in Content-Length (refusable before reading)
  trickle   200 announcing 262144 bytes, then 100 bytes a second (below any sane minimum rate)
  missing   404

With --proxy, the first N block requests are forwarded to the gateway at URL (answered
faithfully), every later one is a 500: a gateway that dies in the middle of a download.

GET /v1/pins answers an empty list, GET /v1/content/{cid}/status?local=1 claims "complete"
(a lie: the status endpoint reports what peers say, it does not trust it). Each request is
appended to PORTFILE.log as "MODE CID". Stops after 300 s whatever happens (bounded tests).
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ["wrong", "other", "truncated", "long", "huge", "trickle", "missing"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # close-delimited bodies when there is no Content-Length
    counter = 0
    lock = threading.Lock()
    modes = MODES
    log_path = None
    proxy = None
    proxy_left = 0

    def log_message(self, fmt, *args):  # quiet
        pass

    def _json(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/v1/pins":
            return self._json({"pins": [], "wanted": [], "truncated": False})
        if path.startswith("/v1/content/") and path.endswith("/status"):
            return self._json({"cid": path.split("/")[3], "complete": True, "pinned": True})
        if not path.startswith("/ipfs/"):
            return self._json({"code": "not_found", "message": "no"}, 404)
        if Handler.proxy is not None:
            return self._proxy()
        with Handler.lock:
            mode = Handler.modes[Handler.counter % len(Handler.modes)]
            Handler.counter += 1
        with open(Handler.log_path, "a") as f:
            f.write(f"{mode} {path[6:]}\n")
        try:
            self._bad(mode)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _proxy(self):
        import urllib.request
        with Handler.lock:
            ok = Handler.proxy_left > 0
            Handler.proxy_left -= 1
        with open(Handler.log_path, "a") as f:
            f.write(("proxy " if ok else "dead ") + self.path + "\n")
        if not ok:
            return self._json({"code": "internal", "message": "gone"}, 500)
        req = urllib.request.Request(Handler.proxy + self.path,
                                     headers={"Accept": "application/vnd.ipld.raw"})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.ipld.raw")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _bad(self, mode):
        if mode == "missing":
            return self._json({"code": "not_found", "message": "not here"}, 404)
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.ipld.raw")
        if mode == "wrong":
            body = os.urandom(4096)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "other":
            body = b"hello world"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "truncated":
            self.send_header("Content-Length", "262144")
            self.end_headers()
            self.wfile.write(os.urandom(1000))
            self.wfile.flush()
        elif mode == "long":
            self.end_headers()
            for _ in range(48):
                self.wfile.write(os.urandom(65536))
        elif mode == "huge":
            self.send_header("Content-Length", str(3 << 20))
            self.end_headers()
            for _ in range(48):
                self.wfile.write(os.urandom(65536))
        elif mode == "trickle":
            self.send_header("Content-Length", "262144")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(os.urandom(100))
                self.wfile.flush()
                time.sleep(1)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: bad_gateway.py PORTFILE [MODE ...]")
    modes = sys.argv[2:] or MODES
    if modes[0] == "--proxy":
        Handler.proxy = modes[1]
        Handler.proxy_left = int(modes[2])
        modes = MODES
    for m in modes:
        if m not in MODES:
            sys.exit(f"unknown mode {m}")
    Handler.modes = modes
    Handler.log_path = sys.argv[1] + ".log"
    open(Handler.log_path, "w").close()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    threading.Timer(300, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
