#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Many pods through a CRI socket at once, as a kubelet starts them, for the tests and the
benchmark (tests/bench/cri.sh). Messages come from agent/cri/api.proto (cri-client.py's loader).

usage: cri-pods.py SOCKET up N --image IMAGE --logs DIR [--prefix NAME] [--cgroup-parent DIR]
                   [--host-network] [-- CMD...]
         N pods at once, each RunPodSandbox + CreateContainer + StartContainer in a thread of
         its own on one channel; prints one JSON line {"sandboxes": [...], "containers": [...],
         "ms": [each pod's latency], "wall_ms": all of them}
       cri-pods.py SOCKET down
         stops and removes every sandbox the server lists
On a gRPC error prints "grpc-error CODE_NAME: details" on stderr and exits 3.
"""
import argparse
import importlib.util
import json
import os
import sys
import threading
import time

import grpc
from google.protobuf import json_format

HERE = os.path.dirname(os.path.abspath(__file__))


def load_api():
    spec = importlib.util.spec_from_file_location("cri_client", os.path.join(HERE, "cri-client.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.load_api()


class Client:
    def __init__(self, api, sock):
        self.api = api
        self.ch = grpc.insecure_channel("unix://" + sock)

    def call(self, name, req, timeout=120):
        api = self.api
        fn = self.ch.unary_unary("/runtime.v1.RuntimeService/" + name,
                                 request_serializer=lambda m: m.SerializeToString(),
                                 response_deserializer=getattr(api, name + "Response").FromString)
        return fn(json_format.ParseDict(req, getattr(api, name + "Request")()), timeout=timeout)


def sandbox_config(a, i):
    name = "%s-%d" % (a.prefix, i)
    uid = "uid-%s-%d-%d" % (a.prefix, i, os.getpid())
    c = {"metadata": {"name": name, "namespace": "default", "uid": uid, "attempt": 0},
         "hostname": name, "log_directory": os.path.join(a.logs, "default_%s_%s" % (name, uid)),
         "labels": {"app": a.prefix}}
    linux = {}
    if a.cgroup_parent:
        linux["cgroup_parent"] = "%s/pod%s" % (a.cgroup_parent, uid)
    if a.host_network:
        linux["security_context"] = {"namespace_options": {"network": "NODE"}}
    if linux:
        c["linux"] = linux
    return c


def one_pod(cl, a, i, out):
    t0 = time.perf_counter()
    sc = sandbox_config(a, i)
    sb = cl.call("RunPodSandbox", {"config": sc}).pod_sandbox_id
    cc = {"metadata": {"name": "app", "attempt": 0}, "image": {"image": a.image},
          "log_path": "app/0.log", "labels": {"app": a.prefix}}
    if a.cmd:
        cc["command"] = a.cmd
    ctr = cl.call("CreateContainer", {"pod_sandbox_id": sb, "config": cc,
                                      "sandbox_config": sc}).container_id
    cl.call("StartContainer", {"container_id": ctr})
    out[i] = (sb, ctr, (time.perf_counter() - t0) * 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("what", choices=["up", "down"])
    ap.add_argument("n", nargs="?", type=int, default=1)
    ap.add_argument("--image", default="busybox")
    ap.add_argument("--logs", default="/tmp")
    ap.add_argument("--prefix", default="pod")
    ap.add_argument("--cgroup-parent")
    ap.add_argument("--host-network", action="store_true")
    argv = sys.argv[1:]
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    a.cmd = cmd
    cl = Client(load_api(), a.socket)
    try:
        if a.what == "down":
            for it in cl.call("ListPodSandbox", {}).items:
                cl.call("StopPodSandbox", {"pod_sandbox_id": it.id})
                cl.call("RemovePodSandbox", {"pod_sandbox_id": it.id})
            return
        out = [None] * a.n
        errors = []

        def run(i):
            try:
                one_pod(cl, a, i, out)
            except grpc.RpcError as e:
                errors.append(e)

        t0 = time.perf_counter()
        ts = [threading.Thread(target=run, args=(i,)) for i in range(a.n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = (time.perf_counter() - t0) * 1000
        if errors:
            raise errors[0]
        print(json.dumps({"sandboxes": [o[0] for o in out], "containers": [o[1] for o in out],
                          "ms": [round(o[2], 1) for o in out], "wall_ms": round(wall, 1)}))
    except grpc.RpcError as e:
        print("grpc-error %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
