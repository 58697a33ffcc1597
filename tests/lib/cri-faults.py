#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The client side of tests/integration/cri-faults.bats: one process per step of a case (the
messages compiled once, as cri-pods.py does), each call as a kubelet makes it.

usage: cri-faults.py SOCKET run CONFIG              RunPodSandbox; prints the id
       cri-faults.py SOCKET up CONFIG               the same, and a container started in it
       cri-faults.py SOCKET create SB CONFIG        CreateContainer in SB; prints the id
       cri-faults.py SOCKET remove SB               StopPodSandbox (NOT_FOUND is done, as for
                                                    the kubelet) + RemovePodSandbox
       cri-faults.py SOCKET repair-run CONFIG [--container]
       cri-faults.py SOCKET repair-create SB CONFIG
CONFIG is a PodSandboxConfig as JSON. The repairs are what a kubelet does after a call that
failed or whose server died: repair-run retries RunPodSandbox with the same metadata, which
succeeds or names the sandbox that holds the name (ALREADY_EXISTS); that one must be listed, and
its StopPodSandbox and RemovePodSandbox succeed, and then the retry; with --container a
container is created and started in it; then the sandbox is stopped and removed.
repair-create does the same for CreateContainer in SB, then removes SB. Every problem is one
line on stdout, and the exit status is 1; a call's gRPC error is "grpc-error CODE: details" on
stderr with exit status 3.
"""
import importlib.util
import json
import os
import re
import sys

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("cri_pods", os.path.join(HERE, "cri-pods.py"))
cri_pods = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cri_pods)

PROBLEMS = []


def problem(msg):
    PROBLEMS.append(msg)


def container_config(name="app"):
    return {"metadata": {"name": name, "attempt": 0}, "image": {"image": "busybox"},
            "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
            "log_path": name + "/0.log"}


def reserved_by(err):
    """The id an ALREADY_EXISTS error names, else None."""
    if err.code() != grpc.StatusCode.ALREADY_EXISTS:
        return None
    m = re.search(r"reserved for (?:sandbox )?([0-9a-f]{64})", err.details() or "")
    return m.group(1) if m else None


def stop_remove(cl, sb):
    """As the kubelet: a StopPodSandbox that finds no sandbox (a remove was cut after its
    record went) is done; the RemovePodSandbox after it must succeed."""
    try:
        cl.call("StopPodSandbox", {"pod_sandbox_id": sb}, timeout=90)
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.NOT_FOUND:
            raise
    cl.call("RemovePodSandbox", {"pod_sandbox_id": sb}, timeout=90)


def remove_sandbox(cl, sb, what):
    for call in ("StopPodSandbox", "RemovePodSandbox"):
        try:
            cl.call(call, {"pod_sandbox_id": sb}, timeout=90)
        except grpc.RpcError as e:
            if call == "StopPodSandbox" and e.code() == grpc.StatusCode.NOT_FOUND:
                continue
            problem("%s: %s %s: %s %s" % (what, call, sb[:12], e.code().name, e.details()))
            return False
    return True


def run_retry(cl, config):
    """RunPodSandbox as a kubelet retries it: the id, or None (a problem said why)."""
    try:
        return cl.call("RunPodSandbox", {"config": config}, timeout=90).pod_sandbox_id
    except grpc.RpcError as e:
        old = reserved_by(e)
        if not old:
            problem("RunPodSandbox again: %s %s" % (e.code().name, e.details()))
            return None
    listed = [s.id for s in cl.call("ListPodSandbox", {}).items]
    if old not in listed:
        problem("RunPodSandbox again names sandbox %s, which ListPodSandbox does not show" % old)
    if not remove_sandbox(cl, old, "the half-made sandbox"):
        return None
    try:
        return cl.call("RunPodSandbox", {"config": config}, timeout=90).pod_sandbox_id
    except grpc.RpcError as e:
        problem("RunPodSandbox after removing %s: %s %s" % (old[:12], e.code().name, e.details()))
        return None


def create_retry(cl, sb, config):
    req = {"pod_sandbox_id": sb, "config": container_config(), "sandbox_config": config}
    try:
        return cl.call("CreateContainer", req, timeout=90).container_id
    except grpc.RpcError as e:
        old = reserved_by(e)
        if not old:
            problem("CreateContainer again: %s %s" % (e.code().name, e.details()))
            return None
    listed = [c.id for c in cl.call("ListContainers", {}).containers]
    if old not in listed:
        problem("CreateContainer again names container %s, which ListContainers does not show"
                % old)
    try:
        cl.call("RemoveContainer", {"container_id": old}, timeout=90)
        return cl.call("CreateContainer", req, timeout=90).container_id
    except grpc.RpcError as e:
        problem("CreateContainer after removing %s: %s %s" % (old[:12], e.code().name,
                                                               e.details()))
        return None


def start(cl, ctr):
    try:
        cl.call("StartContainer", {"container_id": ctr}, timeout=90)
        st = cl.call("ContainerStatus", {"container_id": ctr}).status.state
        if st != cl.api.CONTAINER_RUNNING:
            problem("container %s is %s after StartContainer" % (ctr[:12], st))
    except grpc.RpcError as e:
        problem("StartContainer: %s %s" % (e.code().name, e.details()))


def main():
    sock, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    cl = cri_pods.Client(cri_pods.load_api(), sock)
    try:
        if cmd == "run":
            print(cl.call("RunPodSandbox", {"config": json.loads(args[0])},
                          timeout=90).pod_sandbox_id)
            return 0
        if cmd == "up":
            config = json.loads(args[0])
            sb = cl.call("RunPodSandbox", {"config": config}, timeout=90).pod_sandbox_id
            req = {"pod_sandbox_id": sb, "config": container_config(), "sandbox_config": config}
            ctr = cl.call("CreateContainer", req, timeout=90).container_id
            cl.call("StartContainer", {"container_id": ctr}, timeout=90)
            print(sb)
            return 0
        if cmd == "create":
            config = json.loads(args[1])
            req = {"pod_sandbox_id": args[0], "config": container_config(),
                   "sandbox_config": config}
            print(cl.call("CreateContainer", req, timeout=90).container_id)
            return 0
        if cmd == "remove":
            stop_remove(cl, args[0])
            return 0
    except grpc.RpcError as e:
        print("grpc-error %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        return 3
    if cmd == "repair-run":
        config = json.loads(args[0])
        sb = run_retry(cl, config)
        if sb and "--container" in args[1:]:
            ctr = create_retry(cl, sb, config)
            if ctr:
                start(cl, ctr)
        if sb:
            remove_sandbox(cl, sb, "the sandbox run again")
    elif cmd == "repair-create":
        sb, config = args[0], json.loads(args[1])
        ctr = create_retry(cl, sb, config)
        if ctr:
            start(cl, ctr)
        remove_sandbox(cl, sb, "the container's sandbox")
    else:
        print("cri-faults.py: unknown command %s" % cmd, file=sys.stderr)
        return 2
    for p in PROBLEMS:
        print(p)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
