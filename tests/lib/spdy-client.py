#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A minimal SPDY/3.1 client of the CRI streaming server for the tests, written from the SPDY
draft 3 and Kubernetes' remotecommand v4 protocol (what kubectl and crictl speak): the upgrade,
one stream per channel (streamtype header), header blocks through zlib with SPDY/3's
dictionary (read from agent/stream/spdydict.c, the server's copy of the spec's bytes).

usage: spdy-client.py URL exec [--stdin TEXT] [--tty] [--resize WxH] [--no-stdout] [--until TEXT]
                               [--step STEP]...
       spdy-client.py URL portforward --port N --send TEXT [--count K]
       spdy-client.py URL raw --hostile KIND
exec prints {"stdout", "stderr", "status" (the error stream's JSON or null), "goaway"}.
Steps, as stream-client.py's (send:TEXT, expect:TEXT, expect-stderr:TEXT, resize:WxH, close-stdin: a FIN on the
stdin stream, detach), run after the options' input; with steps, --stdin's text goes without
its FIN.
portforward (portforward.k8s.io) makes K forwarded connections one after another on the one
SPDY connection (error and data streams, requestid 0..K-1), each sending TEXT (escapes
allowed) then FIN, and prints [{"data", "error"}, ...].
raw KINDs: bigframe, badversion, zlibgarbage, headerbomb, manystreams, noversion (no
X-Stream-Protocol-Version); prints "goaway STATUS", "eof" or "http STATUS". manypairs (a
port-forward URL, --port N) opens 20 error streams and prints "replies=R refused=F".
"""
import argparse
import json
import os
import re
import socket
import struct
import sys
import urllib.parse
import zlib

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def dictionary():
    text = open(os.path.join(TOP, "agent/stream/spdydict.c")).read()
    body = text[text.index("{"):text.index("}")]
    return bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", body))


class Conn:
    def __init__(self, url, versions=("v4.channel.k8s.io",)):
        u = urllib.parse.urlsplit(url)
        self.s = socket.create_connection((u.hostname, u.port), timeout=20)
        hdrs = ["POST %s HTTP/1.1" % u.path, "Host: %s:%d" % (u.hostname, u.port),
                "Connection: Upgrade", "Upgrade: SPDY/3.1"]
        hdrs += ["X-Stream-Protocol-Version: %s" % v for v in versions]
        self.s.sendall(("\r\n".join(hdrs) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = self.s.recv(1)
            if not b:
                break
            head += b
        self.status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        d = dictionary()
        self.zout = zlib.compressobj(zdict=d)
        self.zin = zlib.decompressobj(zdict=d)
        self.buf = b""

    def block(self, headers):
        raw = struct.pack(">I", len(headers))
        for k, v in headers.items():
            raw += struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
        return self.zout.compress(raw) + self.zout.flush(zlib.Z_SYNC_FLUSH)

    def control(self, ftype, flags, data):
        self.s.sendall(struct.pack(">HHI", 0x8003, ftype, (flags << 24) | len(data)) + data)

    def syn_stream(self, sid, headers):
        self.control(1, 0, struct.pack(">IIH", sid, 0, 0) + self.block(headers))

    def data(self, sid, payload, fin=False):
        self.s.sendall(struct.pack(">II", sid, ((1 if fin else 0) << 24) | len(payload)) + payload)

    def recv_exact(self, n):
        while len(self.buf) < n:
            b = self.s.recv(65536)
            if not b:
                raise EOFError
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self):
        h = self.recv_exact(8)
        w0, w1 = struct.unpack(">II", h)
        flags, length = w1 >> 24, w1 & 0xffffff
        data = self.recv_exact(length)
        if w0 & 0x80000000:
            return ("control", (w0 & 0xffff), flags, data)
        return ("data", w0 & 0x7fffffff, flags, data)


def run_exec(a):
    c = Conn(a.url)
    if c.status != 101:
        print("http %d" % c.status)
        return
    types = ["error"]
    steps = a.step or []
    if a.stdin is not None or any(t.startswith(("send:", "close-stdin")) for t in steps):
        types.append("stdin")
    if not a.no_stdout:
        types.append("stdout")
    types.append("resize" if a.tty else "stderr")
    sid = {}
    for i, t in enumerate(types):
        sid[t] = 2 * i + 1
        c.syn_stream(sid[t], {"streamtype": t})
        # As spdystream's client, wait for the reply before the next stream.
        while True:
            kind, x, flags, data = c.frame()
            if kind == "control" and x == 2:
                c.zin.decompress(data[4:])
                if struct.unpack(">I", data[:4])[0] & 0x7fffffff == sid[t]:
                    break
    if a.resize:
        w, h = a.resize.split("x")
        c.data(sid["resize"], json.dumps({"Width": int(w), "Height": int(h)}).encode())
    if a.stdin is not None:
        c.data(sid["stdin"], a.stdin.encode(), fin=not steps)
    by_id = {v: k for k, v in sid.items()}
    out = {"stdout": "", "stderr": "", "status": None, "goaway": None}
    err = b""
    fins = set()

    def read_frame():
        """One frame into out: False once the connection has ended (GOAWAY)."""
        nonlocal err
        kind, x, flags, data = c.frame()
        if kind == "control":
            if x == 7:
                out["goaway"] = struct.unpack(">II", data[:8])[1]
                return False
            return True
        name = by_id.get(x)
        if name == "stdout":
            out["stdout"] += data.decode(errors="replace")
        elif name == "stderr":
            out["stderr"] += data.decode(errors="replace")
        elif name == "error":
            err += data
        if flags & 1:
            fins.add(name)
        return True

    try:
        seen = {"stdout": 0, "stderr": 0}
        for step in steps:
            kind, _, arg = step.partition(":")
            if kind == "send":
                c.data(sid["stdin"], arg.encode())
            elif kind == "resize":
                w, h = arg.split("x")
                c.data(sid["resize"], json.dumps({"Width": int(w), "Height": int(h)}).encode())
            elif kind == "close-stdin":
                c.data(sid["stdin"], b"", fin=True)
            elif kind in ("expect", "expect-stderr"):
                key = "stderr" if kind == "expect-stderr" else "stdout"
                while out[key].find(arg, seen[key]) < 0:
                    if not read_frame():
                        out["expected"] = arg
                        raise EOFError
                seen[key] = out[key].find(arg, seen[key]) + len(arg)
            elif kind == "detach":
                out["detached"] = True
                raise EOFError
            else:
                raise SystemExit("unknown step " + step)
        while read_frame():
            if a.until and a.until in out["stdout"]:
                out["detached"] = True
                break
    except EOFError:
        pass
    if err:
        out["status"] = json.loads(err)
    out["fins"] = sorted(f for f in fins if f)
    print(json.dumps(out))


def wait_reply(c, sid):
    """Reads frames until the SYN_REPLY (True) or RST_STREAM (False) of stream sid."""
    while True:
        kind, x, flags, data = c.frame()
        if kind == "control" and x in (2, 3) and \
                struct.unpack(">I", data[:4])[0] & 0x7fffffff == sid:
            if x == 2:
                c.zin.decompress(data[4:])
            return x == 2
        if kind == "control" and x == 2:
            c.zin.decompress(data[4:])


def run_portforward(a):
    c = Conn(a.url, ("portforward.k8s.io",))
    if c.status != 101:
        print("http %d" % c.status)
        return
    results = []
    for k in range(a.count):
        es, ds = 4 * k + 1, 4 * k + 3
        hdr = {"port": str(a.port), "requestid": str(k)}
        c.syn_stream(es, dict(hdr, streamtype="error"))
        if not wait_reply(c, es):
            results.append("refused")
            continue
        c.syn_stream(ds, dict(hdr, streamtype="data"))
        if not wait_reply(c, ds):
            results.append("refused")
            continue
        c.data(ds, a.send.encode().decode("unicode_escape").encode(), fin=True)
        r = {"data": "", "error": ""}
        fins = set()
        try:
            while fins != {es, ds}:
                kind, x, flags, data = c.frame()
                if kind != "data":
                    continue
                if x == ds:
                    r["data"] += data.decode(errors="replace")
                elif x == es:
                    r["error"] += data.decode(errors="replace")
                if flags & 1:
                    fins.add(x)
        except EOFError:
            r["eof"] = True
        results.append(r)
    print(json.dumps(results))


def run_raw(a):
    if a.hostile == "manypairs":
        # 20 half-made forwarded connections (error streams only): the server takes 16.
        c = Conn(a.url, ("portforward.k8s.io",))
        replies = refused = 0
        for k in range(20):
            c.syn_stream(2 * k + 1, {"streamtype": "error", "port": str(a.port),
                                     "requestid": str(k)})
            if wait_reply(c, 2 * k + 1):
                replies += 1
            else:
                refused += 1
        print("replies=%d refused=%d" % (replies, refused))
        return
    versions = () if a.hostile == "noversion" else ("v4.channel.k8s.io",)
    c = Conn(a.url, versions)
    if c.status != 101:
        print("http %d" % c.status)
        return
    if a.hostile == "bigframe":
        c.s.sendall(struct.pack(">HHI", 0x8003, 1, 0xffffff) + b"x" * 64)
    elif a.hostile == "badversion":
        c.s.sendall(struct.pack(">HHI", 0x8002, 1, 10) + b"\0" * 10)
    elif a.hostile == "zlibgarbage":
        c.control(1, 0, struct.pack(">IIH", 1, 0, 0) + b"not zlib at all")
    elif a.hostile == "headerbomb":
        raw = struct.pack(">I", 1) + struct.pack(">I", 10) + b"streamtype" + \
            struct.pack(">I", 1 << 20) + b"a" * (1 << 20)
        z = c.zout.compress(raw) + c.zout.flush(zlib.Z_SYNC_FLUSH)
        c.control(1, 0, struct.pack(">IIH", 1, 0, 0) + z)
    elif a.hostile == "manystreams":
        try:
            for i in range(20):
                c.syn_stream(2 * i + 1, {"streamtype": "nonsense"})
        except (BrokenPipeError, ConnectionResetError):
            pass
    try:
        while True:
            kind, x, flags, data = c.frame()
            if kind == "control" and x == 7:
                print("goaway %d" % struct.unpack(">II", data[:8])[1])
                return
    except (EOFError, ConnectionResetError):
        print("eof")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("mode", choices=["exec", "portforward", "raw"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--send")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--stdin")
    ap.add_argument("--tty", action="store_true")
    ap.add_argument("--resize")
    ap.add_argument("--until", help="detach (close) once stdout holds this text")
    ap.add_argument("--step", action="append", help="send:T, expect:T, expect-stderr:T, resize:WxH, close-stdin, detach")
    ap.add_argument("--no-stdout", action="store_true")
    ap.add_argument("--hostile")
    a = ap.parse_args()
    {"exec": run_exec, "portforward": run_portforward, "raw": run_raw}[a.mode](a)


if __name__ == "__main__":
    main()
