#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A WebSocket client of the CRI streaming protocols for the tests, written from RFC 6455 and
Kubernetes' channel protocol (no library: Debian's python3-websocket is not needed).

usage: stream-client.py URL exec [--proto P] [--stdin TEXT] [--flood-stdin KIB] [--close-stdin] [--resize WxH] [--until TEXT]
                                 [--step STEP]...
       stream-client.py URL portforward --port N [--send TEXT]
       stream-client.py URL raw --hostile KIND
exec prints one JSON object: {"protocol", "stdout", "stderr", "status" (the error channel's
JSON, or null), "close" (the close code)}. Steps run in order after the options' input, for an
interactive session: send:TEXT (stdin), expect:TEXT (read until stdout holds it past the last
expect's match; "expected" in the output when the stream ends first), expect-stderr:TEXT, resize:WxH, close-stdin,
detach (close the connection now: "detached": true). --flood-stdin sends KIB KiB of stdin in 16 KiB
messages, going on to read when the server stops taking them. portforward prints {"data", "error", "prefix"}.
raw: KIND is oversized (a frame header announcing 2 GiB), unmasked, badhandshake (no
Sec-WebSocket-Key), spdy (an SPDY/3.1 upgrade), neverread (exec, then hold the
connection --hold S seconds, default 8, without reading, printing "held").
Prints "http STATUS" when the handshake is refused.
"""
import argparse
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse


def connect(url, protos, extra=None, key=True, upgrade="websocket"):
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=20)
    path = u.path + ("?" + u.query if u.query else "")
    hdrs = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (u.hostname, u.port),
            "Connection: Upgrade", "Upgrade: %s" % upgrade]
    if upgrade == "websocket":
        if key:
            hdrs.append("Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode())
        hdrs.append("Sec-WebSocket-Version: 13")
        if protos:
            hdrs.append("Sec-WebSocket-Protocol: " + ", ".join(protos))
    hdrs += extra or []
    s.sendall(("\r\n".join(hdrs) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
    proto = None
    for line in head.decode(errors="replace").split("\r\n"):
        if line.lower().startswith("sec-websocket-protocol:"):
            proto = line.split(":", 1)[1].strip()
    return s, status, proto


def send_frame(s, opcode, payload, mask=True):
    b0 = 0x80 | opcode
    n = len(payload)
    hdr = bytes([b0])
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr += bytes([mbit | n])
    elif n < 65536:
        hdr += bytes([mbit | 126]) + struct.pack(">H", n)
    else:
        hdr += bytes([mbit | 127]) + struct.pack(">Q", n)
    if mask:
        key = os.urandom(4)
        payload = bytes(c ^ key[i & 3] for i, c in enumerate(payload))
        hdr += key
    s.sendall(hdr + payload)


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b:
            raise EOFError
        out += b
    return out


def recv_frame(s):
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7f
    if n == 126:
        n = struct.unpack(">H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", recv_exact(s, 8))[0]
    return b0 & 0x0f, recv_exact(s, n)


def run_exec(a):
    protos = [a.proto] if a.proto else ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    s, status, proto = connect(a.url, protos)
    if status != 101:
        print("http %d" % status)
        return
    if a.resize:
        w, h = a.resize.split("x")
        send_frame(s, 2, b"\x04" + json.dumps({"Width": int(w), "Height": int(h)}).encode())
    if a.stdin is not None:
        send_frame(s, 2, b"\x00" + a.stdin.encode())
    try:
        for _ in range((a.flood_stdin or 0) // 16):
            send_frame(s, 2, b"\x00" + b"x" * 16384)
    except OSError:
        pass
    if a.close_stdin:
        send_frame(s, 2, b"\xff\x00")
    out = {"protocol": proto, "stdout": "", "stderr": "", "status": None, "close": None}

    def read_frame():
        """One frame into out: False once the stream has ended."""
        op, data = recv_frame(s)
        if op == 8:
            out["close"] = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
            return False
        if op != 2 or not data:
            return True
        ch, body = data[0], data[1:].decode(errors="replace")
        if ch == 1:
            out["stdout"] += body
        elif ch == 2:
            out["stderr"] += body
        elif ch == 3:
            out["status"] = json.loads(body)
        return True

    try:
        seen = {"stdout": 0, "stderr": 0}
        for step in a.step or []:
            kind, _, arg = step.partition(":")
            if kind == "send":
                send_frame(s, 2, b"\x00" + arg.encode())
            elif kind == "resize":
                w, h = arg.split("x")
                send_frame(s, 2, b"\x04" + json.dumps({"Width": int(w), "Height": int(h)}).encode())
            elif kind == "close-stdin":
                send_frame(s, 2, b"\xff\x00")
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
    except (EOFError, ConnectionResetError):
        pass
    print(json.dumps(out))


def run_portforward(a):
    sep = "&" if "?" in a.url else "?"
    s, status, proto = connect(a.url + sep + "port=%d" % a.port, ["v4.channel.k8s.io"])
    if status != 101:
        print("http %d" % status)
        return
    out = {"data": "", "error": "", "prefix": []}
    if a.send:
        send_frame(s, 2, b"\x00" + a.send.encode().decode("unicode_escape").encode())
    try:
        while True:
            op, data = recv_frame(s)
            if op == 8:
                break
            if op != 2 or not data:
                continue
            ch, body = data[0], data[1:]
            # The first message of each channel is its port, little-endian.
            if len(out["prefix"]) < 2 and len(body) == 2 and ch in (0, 1) and \
                    not any(p[0] == ch for p in out["prefix"]):
                out["prefix"].append([ch, struct.unpack("<H", body)[0]])
                continue
            if ch == 0:
                out["data"] += body.decode(errors="replace")
            elif ch == 1:
                out["error"] += body.decode(errors="replace")
    except EOFError:
        pass
    print(json.dumps(out))


def run_raw(a):
    if a.hostile == "badhandshake":
        s, status, _ = connect(a.url, ["v4.channel.k8s.io"], key=False)
        print("http %d" % status)
        return
    if a.hostile == "spdy":
        s, status, _ = connect(a.url, None, upgrade="SPDY/3.1",
                               extra=["X-Stream-Protocol-Version: v4.channel.k8s.io"])
        print("http %d" % status)
        return
    if a.hostile == "noproto":
        s, status, _ = connect(a.url, ["v1.channel.k8s.io"])
        print("http %d" % status)
        return
    s, status, _ = connect(a.url, ["v4.channel.k8s.io"])
    if status != 101:
        print("http %d" % status)
        return
    if a.hostile == "oversized":
        s.sendall(bytes([0x82, 0xff]) + struct.pack(">Q", 1 << 31) + os.urandom(4) + b"x" * 100)
    elif a.hostile == "unmasked":
        send_frame(s, 2, b"\x00abc", mask=False)
    elif a.hostile == "neverread":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(a.hold)
        print("held")
        return
    # The server answers a close frame (1009 or 1002) and closes.
    try:
        while True:
            op, data = recv_frame(s)
            if op == 8:
                print("close %d" % struct.unpack(">H", data[:2])[0])
                return
    except (EOFError, ConnectionResetError):
        print("eof")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("mode", choices=["exec", "portforward", "raw"])
    ap.add_argument("--proto")
    ap.add_argument("--stdin")
    ap.add_argument("--flood-stdin", type=int)
    ap.add_argument("--close-stdin", action="store_true")
    ap.add_argument("--resize")
    ap.add_argument("--until", help="detach (close) once stdout holds this text")
    ap.add_argument("--step", action="append", help="send:T, expect:T, expect-stderr:T, resize:WxH, close-stdin, detach")
    ap.add_argument("--port", type=int)
    ap.add_argument("--send")
    ap.add_argument("--hostile")
    ap.add_argument("--hold", type=float, default=8)
    a = ap.parse_args()
    {"exec": run_exec, "portforward": run_portforward, "raw": run_raw}[a.mode](a)


if __name__ == "__main__":
    main()
