#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CRI server against containerd's CRI plugin (a benchmark, never part of the suite):
#   1. the busybox image, and a "pause" image made from it whose command sleeps (containerd's
#      sandbox_image), are pushed to a local docker-registry on loopback;
#   2. `podrun serve` and containerd (Debian's, its CRI plugin with runc and the reference CNI
#      bridge + host-local, the registry as a plain-HTTP host) each start on fresh roots in a
#      temp dir, inside a network namespace of the benchmark's own, and each is measured with
#      the same clients (tests/lib/cri-client.py and cri-pods.py, python3-grpcio): idle RSS
#      (2 s after it answers, nothing done yet; and again 2 s after the pods below are gone),
#      Version and ListImages latency (mean of $CALLS calls), ImageStatus latency, PullImage of
#      the image (first pull, nothing cached; best of $RUNS, each on fresh roots), and
#      RunPodSandbox + CreateContainer + StartContainer of a pod running `sleep`: one pod
#      alone (the mean of $RUNS, each removed before the next) and 20 pods at once (the time
#      until the last one has started).
# The last line reads `ratio_1=R ratio_20=R rss_kib=K version_ratio=R listimages_ratio=R
# pull_ratio=R ctd_rss_kib=K rss_after_kib=K ctd_rss_after_kib=K` (ratios ours / containerd's:
# lower is better; rss_after: idle again after the pulls and the 20 pods).
# usage: tests/bench/cri.sh   (as root; PODRUN_BUILD=DIR selects the build, default build/)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODRUN_BUILD:-$top/build}
podrun=$build/agent/podrun
runs=${RUNS:-3}
calls=${CALLS:-1000}
py=/usr/bin/python3
client=$top/tests/lib/cri-client.py
pods_client=$top/tests/lib/cri-pods.py
for tool in containerd runc skopeo docker-registry protoc; do
  command -v "$tool" > /dev/null || { echo "needs $tool" >&2; exit 1; }
done
[ -x "$podrun" ] || { echo "build first: $podrun" >&2; exit 1; }
busybox=$build/images/busybox.tar
[ -f "$busybox" ] || { echo "build first: $busybox" >&2; exit 1; }

work=$(mktemp -d /var/tmp/podrun-bench-cri.XXXXXX)
netns=prbench$$
cgroot=/podrun-bench-$$
ip netns add "$netns"
ip -n "$netns" link set lo up
pids=()
cleanup() {
  local p cg
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Pods left by a failed run: their shims (podrun's and containerd's) and containers.
  for p in $(pgrep -f "podrun-shim --pod-dir $work/" 2>/dev/null) \
    $(pgrep -f "containerd-shim-runc-v2 -namespace k8s.io .*-address $work/" 2>/dev/null); do
    kill -9 "$p" 2>/dev/null || true
  done
  for cg in /sys/fs/cgroup/*"$cgroot" /sys/fs/cgroup"$cgroot"; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec sh -c 'for d; do kill -9 $(cat "$d/cgroup.procs" 2>/dev/null) 2>/dev/null; done' _ {} + || true
  done
  sleep 0.2
  for cg in /sys/fs/cgroup/*"$cgroot" /sys/fs/cgroup"$cgroot"; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # Snapshots and rootfs may still be mounted under the roots.
  grep -o " $work/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  ip netns del "$netns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The registry, like both servers, is in the benchmark's network namespace (its own loopback).
port=5000
inns() { nsenter --net="/run/netns/$netns" "$@"; }
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<CFG
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: 127.0.0.1:$port
CFG
# A simple command, not the function: $! is then the registry itself (nsenter execs it).
nsenter --net="/run/netns/$netns" docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do
  inns "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/v2/" 2> /dev/null && break
  sleep 0.1
done
inns skopeo copy -q --dest-tls-verify=false "oci-archive:$busybox" "docker://127.0.0.1:$port/busybox:latest"
image=127.0.0.1:$port/busybox:latest
# containerd's sandbox image: busybox whose command sleeps (no internet for a real pause).
skopeo copy -q "oci-archive:$busybox" "oci:$work/pause-oci:latest"
"$py" - "$work/pause-oci" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
def blob(dig):
    return os.path.join(d, "blobs", "sha256", dig.split(":", 1)[1])
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(d, "blobs", "sha256", h), "wb").write(data)
    return "sha256:" + h, len(data)
idx = json.load(open(os.path.join(d, "index.json")))
man = json.load(open(blob(idx["manifests"][0]["digest"])))
cfg = json.load(open(blob(man["config"]["digest"])))
cfg["config"]["Cmd"] = ["sleep", "1000000000"]
cfg["config"].pop("Entrypoint", None)
man["config"]["digest"], man["config"]["size"] = put(json.dumps(cfg).encode())
idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = put(json.dumps(man).encode())
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
inns skopeo copy -q --dest-tls-verify=false "oci:$work/pause-oci:latest" "docker://127.0.0.1:$port/pause:latest"
pause=127.0.0.1:$port/pause:latest

# start_podrun DIR / start_containerd DIR: a server on fresh roots under DIR; sets sock and pid.
start_podrun() {
  local d=$1
  mkdir -p "$d"
  printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$port" > "$d/registries.conf"
  CONTAINERS_REGISTRIES_CONF=$d/registries.conf REGISTRY_AUTH_FILE=$d/auth.json \
    nsenter --net="/run/netns/$netns" "$podrun" --images-root "$d/images" --run-root "$d/run" \
    --lib-root "$d/lib" --log-root "$d/log-root" --cni-conf-dir "$d/cni" \
    --ipam-data-dir "$d/ipam" --cgroup-root "$cgroot/podrun" \
    serve --listen "unix://$d/podrun.sock" --cgroup-driver cgroupfs > "$d/log" 2>&1 &
  pid=$!
  pids+=("$pid")
  sock=$d/podrun.sock
}
start_containerd() {
  local d=$1
  mkdir -p "$d/certs.d/127.0.0.1:$port"
  cat > "$d/certs.d/127.0.0.1:$port/hosts.toml" <<TOML
server = "http://127.0.0.1:$port"
[host."http://127.0.0.1:$port"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
TOML
  cat > "$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "$pause"
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      BinaryName = "$(command -v runc)"
      SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$d/certs.d"
TOML
  mkdir -p "$d/cni"
  cat > "$d/cni/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "bench", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/16"}]],
            "dataDir": "$d/ipam"}},
  {"type": "loopback"}]}
JSON
  nsenter --net="/run/netns/$netns" containerd --config "$d/config.toml" > "$d/log" 2>&1 &
  pid=$!
  pids+=("$pid")
  sock=$d/containerd.sock
}
wait_ready() {
  for ((i = 0; i < 200; i++)); do
    "$py" "$client" "$sock" RuntimeService/Version > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server on $sock never answered" >&2
  return 1
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
lat() { "$py" "$client" "$sock" "$@" --repeat "$calls" | sed 's/latency_us=//'; }
# pull_ms: the first pull on a fresh server, in milliseconds.
pull_ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$py" "$client" "$sock" ImageService/PullImage '{"image":{"image":"'"$image"'"}}' > /dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}

# pods WHO DIR: one pod alone ($RUNS times, removed between) and 20 at once, the sandbox
# image pulled first (containerd would pull it on the first RunPodSandbox).
pods() {
  local who=$1 d=$2 out sum=0 k
  [ "$who" = containerd ] && "$py" "$client" "$sock" ImageService/PullImage '{"image":{"image":"'"$pause"'"}}' > /dev/null
  for ((k = 0; k < runs; k++)); do
    out=$("$py" "$pods_client" "$sock" up 1 --image "$image" --logs "$d/podlogs" \
      --prefix "one$k" --cgroup-parent "$cgroot/$who" -- sleep 1000000)
    sum=$("$py" -c 'import json, sys; print(float(sys.argv[1]) + json.loads(sys.argv[2])["ms"][0])' "$sum" "$out")
    "$py" "$pods_client" "$sock" down
  done
  res[$who.pod1]=$("$py" -c 'import sys; print("%.1f" % (float(sys.argv[1]) / int(sys.argv[2])))' "$sum" "$runs")
  out=$("$py" "$pods_client" "$sock" up 20 --image "$image" --logs "$d/podlogs" \
    --prefix many --cgroup-parent "$cgroot/$who" -- sleep 1000000)
  res[$who.pod20]=$("$py" -c 'import json, sys; print(json.loads(sys.argv[1])["wall_ms"])' "$out")
  "$py" "$pods_client" "$sock" down
}

declare -A res
for who in podrun containerd; do
  best=
  for ((r = 0; r < runs; r++)); do
    "start_$who" "$work/$who-$r"
    wait_ready
    if [ "$r" -eq 0 ]; then
      sleep 2
      res[$who.rss]=$(rss_kib "$pid")
      res[$who.version]=$(lat RuntimeService/Version)
    fi
    ms=$(pull_ms)
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    if [ "$r" -eq 0 ]; then
      res[$who.list]=$(lat ImageService/ListImages)
      res[$who.status]=$(lat ImageService/ImageStatus '{"image":{"image":"'"$image"'"}}')
      pods "$who" "$work/$who-$r"
      sleep 2
      res[$who.rss_after]=$(rss_kib "$pid")
    fi
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
  res[$who.pull]=$best
  printf '%-10s idle_rss=%s KiB (after the pods %s KiB)  Version=%s us  ListImages=%s us  ImageStatus=%s us  PullImage=%s ms  pod=%s ms  20 pods=%s ms\n' \
    "$who" "${res[$who.rss]}" "${res[$who.rss_after]}" "${res[$who.version]}" "${res[$who.list]}" "${res[$who.status]}" \
    "${res[$who.pull]}" "${res[$who.pod1]}" "${res[$who.pod20]}" >&2
done
ratio() { "$py" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
echo "ratio_1=$(ratio "${res[podrun.pod1]}" "${res[containerd.pod1]}")" \
  "ratio_20=$(ratio "${res[podrun.pod20]}" "${res[containerd.pod20]}")" \
  "rss_kib=${res[podrun.rss]}" \
  "version_ratio=$(ratio "${res[podrun.version]}" "${res[containerd.version]}")" \
  "listimages_ratio=$(ratio "${res[podrun.list]}" "${res[containerd.list]}")" \
  "pull_ratio=$(ratio "${res[podrun.pull]}" "${res[containerd.pull]}")" \
  "ctd_rss_kib=${res[containerd.rss]}" \
  "rss_after_kib=${res[podrun.rss_after]}" "ctd_rss_after_kib=${res[containerd.rss_after]}"
