#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny OCI distribution registry for the pull tests, serving the one image of an OCI layout
under any repository name, and misbehaving on request.

usage: images-fake-registry.py LAYOUT_DIR PORT_FILE LOG_FILE [ADDRESS]
When LAYOUT_DIR/../repos exists, only the repositories it lists (one a line) have the image;
manifests of others are MANIFEST_UNKNOWN (404).
The mode is read per request from LAYOUT_DIR/../mode (so one server serves every test):
  ok            behave
  wrong-digest  serve layer blobs with a byte changed
  truncated     send half of each layer blob, then close the connection (always)
  drop-once     like truncated for the first request of a blob, then honour Range requests
  bad-manifest-digest  a Docker-Content-Digest header that does not match the manifest
  bearer        want a bearer token from /token, given for basic auth user:secret
  401           answer 401 with a Basic challenge to everything
  basic         want basic auth user:secret
  slow          answer manifests after 3 seconds
  stall         send half of each layer blob, then nothing for 20 seconds (a puller that gives
                up meanwhile has a blob half written)
"""
import base64
import hashlib
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAYOUT, PORT_FILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
MODE_FILE = os.path.join(os.path.dirname(os.path.abspath(LAYOUT)), "mode")
REPOS_FILE = os.path.join(os.path.dirname(os.path.abspath(LAYOUT)), "repos")
dropped = set()


def mode():
    try:
        return open(MODE_FILE).read().strip()
    except OSError:
        return "ok"


def served(repo):
    try:
        return repo in open(REPOS_FILE).read().split()
    except OSError:
        return True


def blob(digest):
    path = os.path.join(LAYOUT, "blobs", "sha256", digest.split(":", 1)[1])
    return open(path, "rb").read() if os.path.isfile(path) else None


def image_manifest():
    idx = json.load(open(os.path.join(LAYOUT, "index.json")))
    return blob(idx["manifests"][0]["digest"]), idx["manifests"][0].get("mediaType")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        with open(LOG, "a") as f:
            f.write("%s %s range=%s\n" % (self.command, self.path, self.headers.get("Range")))

    def send(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorized(self, m):
        if m == "401":
            self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                      {"WWW-Authenticate": 'Basic realm="fake"'})
            return False
        if m == "basic":
            if self.headers.get("Authorization") == "Basic " + base64.b64encode(b"user:secret").decode():
                return True
            self.send(401, b"", {"WWW-Authenticate": 'Basic realm="fake"'})
            return False
        if m == "bearer":
            if self.headers.get("Authorization") == "Bearer good-token":
                return True
            host = self.headers.get("Host")
            self.send(401, b"", {"WWW-Authenticate":
                                 'Bearer realm="http://%s/token",service="fake",scope="repository:x:pull"' % host})
            return False
        return True

    def do_GET(self):
        m = mode()
        path = self.path.split("?")[0]
        if path == "/token":
            want = "Basic " + base64.b64encode(b"user:secret").decode()
            if self.headers.get("Authorization") == want:
                return self.send(200, json.dumps({"token": "good-token"}).encode())
            return self.send(401, b"{}")
        if not self.authorized(m):
            return
        if path == "/v2/":
            return self.send(200, b"{}")
        parts = path.split("/")
        if len(parts) >= 5 and parts[-2] == "manifests":
            if m == "slow":
                time.sleep(3)
            if not served("/".join(parts[2:-2])):
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            body, mt = image_manifest()
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            if m == "bad-manifest-digest":
                digest = "sha256:" + "0" * 64
            return self.send(200, body, {"Content-Type": mt or "application/vnd.oci.image.manifest.v1+json",
                                         "Docker-Content-Digest": digest})
        if len(parts) >= 5 and parts[-2] == "blobs":
            data = blob(parts[-1])
            if data is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            is_layer = len(data) > 4096
            if is_layer and m == "wrong-digest":
                data = bytes([data[0] ^ 1]) + data[1:]
            rng = self.headers.get("Range")
            if is_layer and (m == "truncated" or (m == "drop-once" and parts[-1] not in dropped)):
                if m == "drop-once":
                    dropped.add(parts[-1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if is_layer and m == "stall":
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                time.sleep(20)
                self.close_connection = True
                return
            if rng and rng.startswith("bytes=") and m == "drop-once":
                start = int(rng[6:].split("-")[0])
                return self.send(206, data[start:], {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})
            return self.send(200, data)
        self.send(404, b"{}")


srv = ThreadingHTTPServer((sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1", 0), H)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
srv.serve_forever()
