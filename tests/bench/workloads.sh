#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Deployment of 50 replicas against `podman kube play` of the same Deployment (podman 4 with
# runc, as ../shared/notes/podman-kube-play-here.md sets it up), and the controller loop at rest:
#  1. time from `apply` until the Deployment reports 50 ready replicas (podrun), and the time
#     `podman kube play` takes to start the same 50 pods (it returns once they run);
#  2. the controller loop's CPU over 30 s with the 50 pods running and nothing changing;
#  3. the loop's RSS with the 50 pods (and what it maps: smaps_rollup, its libraries).
# podrun's pods get a network through CNI (podrun-bridge, in a network namespace made here);
# podman's run with --network=none, which spares podman that work.
# Last line: ready50_ratio=R idle_cpu_pct=C rss_kib=K
# usage: tests/bench/workloads.sh   (PODRUN_BUILD=DIR picks the build; BENCH_IDLE_S, 30)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${PODRUN_BUILD:-$TOP/build}
PODRUN=$BUILD/agent/podrun
IDLE_S=${BENCH_IDLE_S:-30}
N=50
WORK=$(mktemp -d /tmp/workloads-bench.XXXXXX)
NODE=prwlbench$$
PM_DIR=$WORK/pm

pr() {
  nsenter --net="/run/netns/$NODE" "$PODRUN" --images-root "$WORK/images" --run-root "$WORK/run" \
    --lib-root "$WORK/lib" --log-root "$WORK/log" --cni-conf-dir "$WORK/cni" \
    --ipam-data-dir "$WORK/ipam" "$@"
}

pm() {
  CONTAINERS_CONF=$PM_DIR/containers.conf podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" \
    --tmpdir "$PM_DIR/tmp" --storage-driver overlay "$@"
}

loop_pid() {
  pgrep -f -- "--run-root $WORK/run .*serve --controllers-only" | head -1 || true
}

. "$TOP/tests/lib/cgroup-parents.bash"
podrun_parents_note
libpod_before=$(ls -d /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent 2>/dev/null || true)
cleanup() {
  set +e
  if [ -e "/run/netns/$NODE" ] && [ -f "$WORK/deploy.yaml" ]; then
    pr delete -f "$WORK/deploy.yaml" --ignore-not-found >/dev/null 2>&1
  fi
  local p
  for p in $(pgrep -f -- "--run-root $WORK/run .*serve --controllers-only"); do kill -9 "$p"; done
  pkill -9 -f "podrun-shim --pod-dir $WORK/" 2>/dev/null
  # The cluster DNS, which runs while a ClusterFirst pod uses it.
  pkill -9 -f -- "--conf-file=$WORK/run/dns/dnsmasq.conf" 2>/dev/null
  for id in $("$BUILD/runtime/podrun-runtime" --root "$WORK/run/runtime" list -q 2>/dev/null); do
    "$BUILD/runtime/podrun-runtime" --root "$WORK/run/runtime" delete --force "$id" >/dev/null 2>&1
  done
  if [ -d "$PM_DIR/root" ]; then
    pm kube down "$WORK/deploy.yaml" >/dev/null 2>&1
    pm system reset -f >/dev/null 2>&1
  fi
  awk -v d="$WORK/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r mp; do umount -l "$mp"; done
  ip netns del "$NODE" 2>/dev/null
  rm -rf "$WORK"
  if [ -z "$libpod_before" ]; then
    for d in /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  fi
  podrun_parents_remove
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- set-up ----
ip netns add "$NODE"
ip -n "$NODE" link set lo up
pr load -q "$BUILD/images/busybox.tar" >/dev/null
mkdir -p "$PM_DIR"
cat >"$PM_DIR/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
pm load -q -i "$BUILD/images/busybox.tar" >/dev/null
cat >"$WORK/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: $N
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox:latest
        imagePullPolicy: Never
        command: ["httpd", "-f", "-p", "80", "-h", "/"]
YAML

# ---- 50 replicas to Ready ----
t0=$(now_ms)
pr apply -f "$WORK/deploy.yaml" >/dev/null
until [ "$(pr get deployment web -o json | jq '.status.readyReplicas // 0')" -ge "$N" ]; do
  (($(now_ms) - t0 < 300000)) || { echo "workloads.sh: the Deployment never had $N ready replicas" >&2; exit 1; }
  sleep 0.05
done
ours=$(($(now_ms) - t0))
echo "$N replicas, ms to Ready: podrun $ours"

# ---- the loop at rest ----
pid=$(loop_pid)
[ -n "$pid" ] || { echo "workloads.sh: no controller loop runs" >&2; exit 1; }
sleep 2 # the last passes after the pods turned Ready
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c0=$(ticks "$pid")
sleep "$IDLE_S"
c1=$(ticks "$pid")
cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$IDLE_S" 'BEGIN { printf "%.2f", 100 * t / hz / s }')
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
echo "controller loop (pid $pid), $N pods, idle ${IDLE_S} s: CPU $cpu% of a core, VmRSS $rss KiB"
echo "its memory (smaps_rollup):"
grep -E '^(Rss|Pss|Private_Dirty|Anonymous|Shared_Clean|Private_Clean):' "/proc/$pid/smaps_rollup" | sed 's/^/  /'
echo "its mapped files with their RSS, KiB (largest first):"
awk '/^[0-9a-f]+-[0-9a-f]+ / { f = (NF >= 6 ? $6 : "[anon]") } /^Rss:/ { r[f] += $2 } END { for (f in r) if (r[f]) print r[f], f }' \
  "/proc/$pid/smaps" | sort -rn | head -15 | sed 's/^/  /'

# ---- podman kube play of the same Deployment ----
pr delete -f "$WORK/deploy.yaml" >/dev/null
t0=$(now_ms)
pm kube play --network=none "$WORK/deploy.yaml" >/dev/null
theirs=$(($(now_ms) - t0))
echo "$N replicas, podman kube play: $theirs ms"
pm kube down "$WORK/deploy.yaml" >/dev/null
ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
echo "ready50_ratio=$ratio idle_cpu_pct=$cpu rss_kib=$rss"
