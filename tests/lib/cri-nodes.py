#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""For cri-nodes.bats, many CRI calls in one process (importing grpc is the slow part of a call
under load). Every pod fetches from every other pod through CRI ExecSync: each pod
runs busybox httpd on port 8080 whose CGI /cgi-bin/ip answers the client's address as the
server saw it (REMOTE_ADDR), so an address translated on the way shows as another address.

usage: cri-nodes.py ready|mesh|from POD...
  POD is SOCKET,CONTAINER_ID,POD_IP (the CRI socket of the pod's node).
  ready: waits (at most 60 s) until each pod's httpd answers from inside the pod itself.
  mesh:  from each pod, one fetch of every other pod's /cgi-bin/ip; prints one line per pair,
         "FROM_IP TO_IP SEEN" (SEEN: the address the server saw, or "failed:" and wget's error).
  from:  the same, from the first pod only.
       cri-nodes.py batch
  reads lines "SOCKET Service/Method JSON" on stdin and prints, for each call in order, one JSON
  line: the response (field names as in the .proto, defaults included), or
  {"grpc_error": CODE_NAME, "details": ...}.
Exits 3 on a gRPC error, 1 when ready times out.
"""
import importlib.util
import json
import os
import sys
import time

import grpc
from google.protobuf import json_format

HERE = os.path.dirname(os.path.abspath(__file__))


def load_api():
    spec = importlib.util.spec_from_file_location("cri_client", os.path.join(HERE, "cri-client.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.load_api()


class Node:
    def __init__(self, api, sock):
        self.api = api
        self.ch = grpc.insecure_channel("unix://" + sock)
        self.exec_sync = self.ch.unary_unary(
            "/runtime.v1.RuntimeService/ExecSync",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=api.ExecSyncResponse.FromString)

    def run(self, ctr, cmd, timeout=10):
        req = json_format.ParseDict({"container_id": ctr, "cmd": cmd, "timeout": timeout},
                                    self.api.ExecSyncRequest())
        r = self.exec_sync(req, timeout=timeout + 10)
        return r.exit_code, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def fetch(node, ctr, ip):
    """What the httpd at ip saw as our address; None and wget's error when the fetch failed."""
    # No wget -T: busybox-static's wget dies of SIGSEGV with it; ExecSync's timeout bounds it.
    try:
        code, out, err = node.run(ctr, ["wget", "-q", "-O", "-", "http://%s:8080/cgi-bin/ip" % ip])
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise
        return None, "timed out"
    if code != 0:
        return None, err.strip() or "exit %d" % code
    seen = out.strip().splitlines()[-1] if out.strip() else ""
    # httpd's dual-stack socket writes [::ffff:A.B.C.D] for an IPv4 peer.
    seen = seen.strip("[]")
    if seen.startswith("::ffff:"):
        seen = seen[len("::ffff:"):]
    return seen, None


def batch(api):
    channels = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        sock, method, req = (line.strip().split(" ", 2) + ["{}"])[:3]
        if sock not in channels:
            channels[sock] = grpc.insecure_channel("unix://" + sock)
        service, name = method.split("/")
        req_cls = getattr(api, name + "Request")
        resp_cls = getattr(api, name + "Response")
        call = channels[sock].unary_unary("/runtime.v1.%s/%s" % (service, name),
                                          request_serializer=lambda m: m.SerializeToString(),
                                          response_deserializer=resp_cls.FromString)
        try:
            resp = call(json_format.Parse(req, req_cls()), timeout=60)
            print(json_format.MessageToJson(resp, preserving_proto_field_name=True,
                                            including_default_value_fields=True, indent=None),
                  flush=True)
        except grpc.RpcError as e:
            print(json.dumps({"grpc_error": e.code().name, "details": e.details()}), flush=True)


def main():
    if sys.argv[1:] == ["batch"]:
        batch(load_api())
        return
    if len(sys.argv) < 3 or sys.argv[1] not in ("ready", "mesh", "from"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    api = load_api()
    nodes = {}
    pods = []
    for spec in sys.argv[2:]:
        sock, ctr, ip = spec.split(",")
        if sock not in nodes:
            nodes[sock] = Node(api, sock)
        pods.append((nodes[sock], ctr, ip))
    try:
        if sys.argv[1] == "ready":
            deadline = time.monotonic() + 60
            for node, ctr, ip in pods:
                while True:
                    seen, err = fetch(node, ctr, "127.0.0.1")
                    if seen is not None:
                        break
                    if time.monotonic() > deadline:
                        print("httpd in %s never answered: %s" % (ip, err), file=sys.stderr)
                        sys.exit(1)
                    time.sleep(0.1)
            return
        for node, ctr, ip in pods[:1] if sys.argv[1] == "from" else pods:
            for _, _, dst in pods:
                if dst == ip:
                    continue
                seen, err = fetch(node, ctr, dst)
                print("%s %s %s" % (ip, dst, seen if seen is not None else "failed:" + err),
                      flush=True)
    except grpc.RpcError as e:
        print("grpc-error %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
