#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Raw HTTP/2 against the CRI socket (python3-h2), for what a gRPC library will not send.

usage: cri-raw.py SOCKET SCENARIO
Prints one line per stream: "stream N: http=S grpc-status=C grpc-message=M" (and "reset=E" for
a stream the server reset), then exits 0; exits 1 when the server closed the connection early.
Scenarios:
  content-type   a POST with content-type text/plain
  get            a GET
  bad-proto      Version with bytes that are no protobuf message
  compressed     a message with the compressed flag set
  two-messages   two messages on a unary call
  no-message     END_STREAM with no message
  cut-message    END_STREAM in the middle of a message
  oversize       a prefix announcing 17 MiB and 64 KiB of it: the answer comes before the rest
  deadline       grpc-timeout 200m and a request that never ends
  bad-timeout    grpc-timeout "soon"
  reset          a stream reset halfway, then Version on the same connection
  events-cancel  GetContainerEvents, RST_STREAM (CANCEL) once its headers came, then Version on
                 the same connection
  events-deadline GetContainerEvents with grpc-timeout 300m: its end (trailers)
  never-read     opens a connection with a zero receive window, sends 100 Version calls and
                 never reads; sleeps until killed
"""
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

SOCK, SCEN = sys.argv[1], sys.argv[2]
VERSION = "/runtime.v1.RuntimeService/Version"
EVENTS = "/runtime.v1.RuntimeService/GetContainerEvents"


def frame(msg, flag=0):
    return struct.pack(">BI", flag, len(msg)) + msg


def headers(path=VERSION, method="POST", ctype="application/grpc", extra=()):
    return [(":method", method), (":scheme", "http"), (":path", path), (":authority", "localhost"),
            ("content-type", ctype), ("te", "trailers")] + list(extra)


class Client:
    def __init__(self, window=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(SOCK)
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                       header_encoding="utf-8"))
        self.c.initiate_connection()
        if window is not None:
            self.c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.results = {}
        self.closed = False

    def flush(self):
        self.s.sendall(self.c.data_to_send())

    def send(self, sid, hdrs, body=b"", end=True):
        self.c.send_headers(sid, hdrs, end_stream=end and not body)
        if body:
            self.send_data(sid, body, end)
        self.flush()

    def send_data(self, sid, body, end):
        # Within the peer's windows (the server's default 64 KiB), in frames of 16 KiB.
        while body:
            n = min(len(body), 16384, self.c.local_flow_control_window(sid))
            self.c.send_data(sid, body[:n], end_stream=end and n == len(body))
            body = body[n:]
            self.flush()
            if body and self.c.local_flow_control_window(sid) == 0:
                self.pump(until=lambda: self.c.local_flow_control_window(sid) > 0 or sid in self.results)
                if sid in self.results:
                    return

    def pump(self, until, timeout=10):
        end = time.time() + timeout
        while not until() and time.time() < end:
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                break
            if not data:
                self.closed = True
                break
            for ev in self.c.receive_data(data):
                r = self.results.setdefault(getattr(ev, "stream_id", 0), {})
                if isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    for k, v in ev.headers:
                        r[k] = v
                elif isinstance(ev, h2.events.DataReceived):
                    r["data"] = r.get("data", b"") + ev.data
                    self.c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    r["ended"] = True
                elif isinstance(ev, h2.events.StreamReset):
                    r["reset"] = ev.error_code
                    r["ended"] = True
            self.flush()

    def wait(self, *sids):
        self.pump(lambda: all(self.results.get(s, {}).get("ended") for s in sids))

    def report(self, *sids):
        for s in sids:
            r = self.results.get(s, {})
            line = "stream %d: http=%s grpc-status=%s grpc-message=%s" % (
                s, r.get(":status"), r.get("grpc-status"), r.get("grpc-message"))
            if "reset" in r:
                line += " reset=%d" % r["reset"]
            print(line)
        sys.stdout.flush()


def main():
    if SCEN == "never-read":
        cl = Client(window=0)
        for i in range(100):
            cl.send(1 + 2 * i, headers(), frame(b""))
        print("sent", flush=True)
        while True:
            time.sleep(60)
    cl = Client()
    if SCEN == "content-type":
        cl.send(1, headers(ctype="text/plain"), frame(b""))
    elif SCEN == "get":
        cl.send(1, headers(method="GET"))
    elif SCEN == "bad-proto":
        cl.send(1, headers(), frame(b"\xff\xff\xff\xff"))
    elif SCEN == "compressed":
        cl.send(1, headers(), frame(b"", flag=1))
    elif SCEN == "two-messages":
        cl.send(1, headers(), frame(b"") + frame(b""))
    elif SCEN == "no-message":
        cl.send(1, headers(), b"", end=True)
    elif SCEN == "cut-message":
        cl.send(1, headers(), frame(b"\x0a\x05hello")[:6])
    elif SCEN == "oversize":
        cl.send(1, headers(), struct.pack(">BI", 0, 17 << 20) + b"\0" * 65530, end=False)
    elif SCEN == "deadline":
        cl.send(1, headers(extra=[("grpc-timeout", "200m")]), frame(b"")[:3], end=False)
    elif SCEN == "bad-timeout":
        cl.send(1, headers(extra=[("grpc-timeout", "soon")]), frame(b""))
    elif SCEN == "reset":
        cl.send(1, headers(), frame(b"\x0a\x05hello")[:4], end=False)
        cl.c.reset_stream(1)
        cl.flush()
        cl.send(3, headers(), frame(b""))
        cl.wait(3)
        cl.report(3)
        return 1 if cl.closed else 0
    elif SCEN == "events-cancel":
        cl.send(1, headers(path=EVENTS), frame(b""))
        cl.pump(lambda: ":status" in cl.results.get(1, {}))
        if cl.results.get(1, {}).get(":status") != "200" or cl.results[1].get("ended"):
            print("stream 1: no open stream: %s" % cl.results.get(1))
            return 1
        cl.c.reset_stream(1)
        cl.flush()
        cl.send(3, headers(), frame(b""))
        cl.wait(3)
        cl.report(3)
        return 1 if cl.closed else 0
    elif SCEN == "events-deadline":
        cl.send(1, headers(path=EVENTS, extra=[("grpc-timeout", "300m")]), frame(b""))
    else:
        print("unknown scenario", SCEN, file=sys.stderr)
        return 2
    cl.wait(1)
    cl.report(1)
    return 1 if cl.closed and not cl.results.get(1, {}).get("ended") else 0


if __name__ == "__main__":
    sys.exit(main())
