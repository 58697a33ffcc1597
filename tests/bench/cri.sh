#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CRI server against containerd's CRI plugin, image calls for now (a benchmark, never part
# of the suite; the pod calls join when podrun serve implements them):
#   1. the busybox image is pushed to a local docker-registry on loopback;
#   2. `podrun serve` and containerd (Debian's, its CRI plugin, the registry as a plain-HTTP
#      host) each start on fresh roots in a temp dir, and each is measured with the same
#      client (tests/lib/cri-client.py, python3-grpcio): idle RSS, Version and ListImages
#      latency (mean of $CALLS calls), ImageStatus latency, and PullImage of the image (first
#      pull, nothing cached; best of $RUNS, each on fresh roots).
# The last line reads `version_ratio=R listimages_ratio=R pull_ratio=R rss_kib=K ctd_rss_kib=K`
# (ratios ours / containerd's: lower is better).
# usage: tests/bench/cri.sh   (as root; PODRUN_BUILD=DIR selects the build, default build/)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${PODRUN_BUILD:-$top/build}
podrun=$build/agent/podrun
runs=${RUNS:-3}
calls=${CALLS:-1000}
py=/usr/bin/python3
client=$top/tests/lib/cri-client.py
for tool in containerd skopeo docker-registry protoc; do
  command -v "$tool" > /dev/null || { echo "needs $tool" >&2; exit 1; }
done
[ -x "$podrun" ] || { echo "build first: $podrun" >&2; exit 1; }
busybox=$build/images/busybox.tar
[ -f "$busybox" ] || { echo "build first: $busybox" >&2; exit 1; }

work=$(mktemp -d /var/tmp/podrun-bench-cri.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # containerd's overlay snapshots may still be mounted under its root.
  grep -o " $work/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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
docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do
  "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "http://127.0.0.1:$port/v2/" 2> /dev/null && break
  sleep 0.1
done
skopeo copy -q --dest-tls-verify=false "oci-archive:$busybox" "docker://127.0.0.1:$port/busybox:latest"
image=127.0.0.1:$port/busybox:latest

# start_podrun DIR / start_containerd DIR: a server on fresh roots under DIR; sets sock and pid.
start_podrun() {
  local d=$1
  mkdir -p "$d"
  printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$port" > "$d/registries.conf"
  CONTAINERS_REGISTRIES_CONF=$d/registries.conf REGISTRY_AUTH_FILE=$d/auth.json \
    "$podrun" --images-root "$d/images" --run-root "$d/run" --cni-conf-dir "$d/cni" \
    serve --listen "unix://$d/podrun.sock" > "$d/log" 2>&1 &
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
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "$d/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$d/certs.d"
TOML
  containerd --config "$d/config.toml" > "$d/log" 2>&1 &
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
    fi
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
  res[$who.pull]=$best
  printf '%-10s idle_rss=%s KiB  Version=%s us  ListImages=%s us  ImageStatus=%s us  PullImage=%s ms\n' \
    "$who" "${res[$who.rss]}" "${res[$who.version]}" "${res[$who.list]}" "${res[$who.status]}" \
    "${res[$who.pull]}" >&2
done
ratio() { "$py" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
echo "version_ratio=$(ratio "${res[podrun.version]}" "${res[containerd.version]}")" \
  "listimages_ratio=$(ratio "${res[podrun.list]}" "${res[containerd.list]}")" \
  "pull_ratio=$(ratio "${res[podrun.pull]}" "${res[containerd.pull]}")" \
  "rss_kib=${res[podrun.rss]} ctd_rss_kib=${res[containerd.rss]}"
