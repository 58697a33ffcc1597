#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent CRI client for the tests: Debian's python3-grpcio, with the messages compiled by
protoc from agent/cri/api.proto into a temp dir at each run.

usage: cri-client.py SOCKET METHOD [JSON] [--timeout S] [--raw HEXBYTES] [--repeat N]
  METHOD is Service/Name (RuntimeService/Version) or a full /pkg.Service/Name path.
  JSON is the request as protobuf JSON; the response is printed as JSON (field names as in the
  .proto). --raw sends these bytes as the request message instead. --repeat N calls N times and
  prints the mean latency in microseconds ("latency_us=X"). --concurrent N starts N calls at
  once on one connection and prints "ok=K" with how many succeeded.
On a gRPC error prints "grpc-error CODE_NAME: details" on stderr and exits 3.
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time

import grpc
from google.protobuf import json_format

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load_api():
    out = tempfile.mkdtemp(prefix="cri-proto-")
    subprocess.run(["protoc", "--python_out=" + out, "--proto_path=" + TOP + "/agent/cri",
                    TOP + "/agent/cri/api.proto"], check=True)
    sys.path.insert(0, out)
    mod = importlib.import_module("api_pb2")
    subprocess.run(["rm", "-rf", out])
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("method")
    ap.add_argument("json", nargs="?", default="{}")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--raw")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--concurrent", type=int, default=0)
    ap.add_argument("--stream", action="store_true",
                    help="a server-streaming call: 'subscribed' once the response headers came, "
                         "then each message as one JSON line, until the end or --timeout")
    a = ap.parse_args()
    api = load_api()
    path = a.method if a.method.startswith("/") else "/runtime.v1." + a.method
    name = path.rsplit("/", 1)[1]
    req_cls = getattr(api, name + "Request", None)
    resp_cls = getattr(api, name + "Response", None)
    if name == "GetContainerEvents":
        req_cls = api.GetEventsRequest
        resp_cls = api.ContainerEventResponse
    if a.raw is not None:
        req = bytes.fromhex(a.raw)
    elif req_cls is not None:
        req = json_format.Parse(a.json, req_cls()).SerializeToString()
    else:
        req = b""
    opts = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
    ch = grpc.insecure_channel("unix://" + a.socket, options=opts)
    if a.stream:
        scall = ch.unary_stream(path, request_serializer=None, response_deserializer=None)
        it = scall(req, timeout=a.timeout)
        try:
            it.initial_metadata()
            print("subscribed", flush=True)
            for data in it:
                msg = resp_cls.FromString(data)
                print(json_format.MessageToJson(msg, preserving_proto_field_name=True,
                                                including_default_value_fields=True, indent=None),
                      flush=True)
        except grpc.RpcError as e:
            print("grpc-error %s: %s" % (e.code().name, e.details()), file=sys.stderr)
            sys.exit(3)
        return
    call = ch.unary_unary(path, request_serializer=None, response_deserializer=None)
    if a.concurrent:
        futs = [call.future(req, timeout=a.timeout) for _ in range(a.concurrent)]
        ok = 0
        for f in futs:
            try:
                f.result()
                ok += 1
            except grpc.RpcError as e:
                print("grpc-error %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        print("ok=%d" % ok)
        return
    try:
        t0 = time.perf_counter()
        for _ in range(a.repeat):
            data = call(req, timeout=a.timeout)
        t1 = time.perf_counter()
    except grpc.RpcError as e:
        print("grpc-error %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        sys.exit(3)
    if a.repeat > 1:
        print("latency_us=%.0f" % ((t1 - t0) / a.repeat * 1e6))
        return
    if resp_cls is not None:
        msg = resp_cls.FromString(data)
        print(json_format.MessageToJson(msg, preserving_proto_field_name=True,
                                        including_default_value_fields=True))
    else:
        print(data.hex())


if __name__ == "__main__":
    main()
