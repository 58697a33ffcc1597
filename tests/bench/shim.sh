#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shim's footprint against conmon's, in one run on this machine:
#  1. RSS of one podrun-shim supervising a 3-container pod, against the RSS of conmon supervising
#     one container (podman --runtime runc, private store).
#  2. CPU of 50 pods (one shim each) whose container has 1 s probes (liveness httpGet, readiness
#     tcpSocket) over BENCH_SECONDS (60), as a percentage of one core: user+system time of the
#     shims and of the children they reaped.
# Last line: shim_rss_kib=S conmon_rss_kib=C probes_cpu_pct=P
# usage: tests/bench/shim.sh   (PODRUN_BUILD=DIR picks the build, BENCH_PODS, BENCH_SECONDS)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${PODRUN_BUILD:-$TOP/build}
RUNTIME=$BUILD/runtime/podrun-runtime
SHIM=$BUILD/shim/podrun-shim
PODS=${BENCH_PODS:-50}
SECONDS_RUN=${BENCH_SECONDS:-60}
ROOTFS=${PODRUN_ROOTFS_CACHE:-$TOP/tests/build/rootfs}
[ -x "$ROOTFS/bin/busybox" ] || "$TOP/tests/lib/busybox-rootfs.sh" "$ROOTFS"

WORK=$(mktemp -d /tmp/shim-bench.XXXXXX)
PM_DIR=$WORK/pm
PM_CG=/podrun-shim-bench-$$
pods=()

pm() {
  podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
    --runtime /usr/sbin/runc "$@"
}

. "$TOP/tests/lib/cgroup-parents.bash"
podrun_parents_note
cleanup() {
  set +e
  for p in "${pods[@]}"; do
    [ -S "$p/shim.sock" ] && timeout 30 "$SHIM" --pod-dir "$p" --request '{"cmd":"remove"}' >/dev/null 2>&1
  done
  for id in $("$RUNTIME" --root "$WORK/state" list -q 2>/dev/null); do
    "$RUNTIME" --root "$WORK/state" delete --force "$id" >/dev/null 2>&1
  done
  if [ -d "$PM_DIR" ]; then
    pm rm -af -t 0 >/dev/null 2>&1
    pm rmi -af >/dev/null 2>&1
    for mp in $(awk -v d="$PM_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
      umount -l "$mp"
    done
  fi
  for hier in /sys/fs/cgroup/*; do
    [ -d "$hier$PM_CG" ] && find "$hier$PM_CG" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  rm -rf "$WORK"
  podrun_parents_remove
}
trap cleanup EXIT

# Bundles share one read-only copy of the rootfs; /tmp and /www are tmpfs.
cp -a "$ROOTFS" "$WORK/rootfs"
make_bundle() { # DIR SCRIPT
  mkdir -p "$1"
  (cd "$1" && "$RUNTIME" spec)
  jq --arg s "$2" --arg r "$WORK/rootfs" '
    .process.terminal = false | .process.args = ["sh", "-c", $s] | .root.path = $r
    | .root.readonly = true
    | .process.capabilities.bounding += ["CAP_NET_ADMIN"]
    | .process.capabilities.effective += ["CAP_NET_ADMIN"]
    | .process.capabilities.permitted += ["CAP_NET_ADMIN"]
    | .mounts += [{"destination": "/www", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]}]
    ' "$1/config.json" > "$1/config.json.new"
  mv "$1/config.json.new" "$1/config.json"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# ---- 1. RSS: a 3-container pod ----
pod=$WORK/pods/rss
mkdir -p "$pod"
ctrs=()
for n in a b c; do
  make_bundle "$WORK/bundles/rss-$n" 'exec sleep 100000'
  ctrs+=("$(jq -nc --arg n "$n" --arg b "$WORK/bundles/rss-$n" '{name: $n, bundle: $b}')")
done
jq -n --arg rt "$RUNTIME" --arg root "$WORK/state" --arg logs "$WORK/logs" \
  --argjson c "[$(IFS=,; echo "${ctrs[*]}")]" \
  '{name: "rss", runtime: $rt, runtimeRoot: $root, logDir: $logs, terminationGracePeriodSeconds: 1,
    containers: $c}' > "$pod/spec.json"
pods+=("$pod")
shim_pid=$("$SHIM" --pod-dir "$pod")
for _ in $(seq 50); do
  [ "$(jq '[.containerStatuses[] | select(.state == "running")] | length' "$pod/status.json")" = 3 ] && break
  sleep 0.1
done
sleep 1
shim_rss=$(rss_kib "$shim_pid")
echo "podrun-shim (pid $shim_pid) supervising 3 containers: VmRSS ${shim_rss} KiB"

# ---- conmon for one container (podman with runc) ----
conmon_rss=NA
if command -v podman >/dev/null && command -v conmon >/dev/null; then
  mkdir -p "$PM_DIR"
  tar -C "$ROOTFS" -cf "$PM_DIR/busybox.tar" .
  pm import "$PM_DIR/busybox.tar" localhost/shim-bench:1 >/dev/null
  cid=$(pm run -d --network none --cgroup-parent "$PM_CG" --ulimit nofile=1024:1024 \
    --ulimit nproc=1024:1024 localhost/shim-bench:1 sleep 100000)
  cpid=$(pm inspect --format '{{.State.ConmonPid}}' "$cid")
  sleep 1
  conmon_rss=$(rss_kib "$cpid")
  echo "conmon (pid $cpid) supervising 1 container under runc: VmRSS ${conmon_rss} KiB"
  pm rm -f -t 0 "$cid" >/dev/null
fi

# ---- 2. CPU: PODS pods with 1 s probes ----
clk=$(getconf CLK_TCK)
make_bundle "$WORK/bundles/web" \
  'ip link set lo up; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www'
probe_pods=()
for i in $(seq 1 "$PODS"); do
  p=$WORK/pods/probe-$i
  mkdir -p "$p"
  # One bundle per container id is not needed: the runtime keeps state by id, the bundle is read-only.
  jq -n --arg rt "$RUNTIME" --arg root "$WORK/state" --arg logs "$WORK/logs/p$i" \
    --arg b "$WORK/bundles/web" --arg n "probe-$i" '
    {name: $n, runtime: $rt, runtimeRoot: $root, logDir: $logs, terminationGracePeriodSeconds: 1,
     containers: [{name: "web", bundle: $b,
       livenessProbe: {httpGet: {path: "/index.html", port: 8080}, periodSeconds: 1},
       readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}}]}' > "$p/spec.json"
  pods+=("$p")
  probe_pods+=("$p")
  "$SHIM" --pod-dir "$p" >/dev/null
done
for p in "${probe_pods[@]}"; do
  for _ in $(seq 100); do
    [ "$(jq -r '.containerStatuses[0].ready' "$p/status.json")" = true ] && break
    sleep 0.1
  done
done
ready=$(for p in "${probe_pods[@]}"; do jq -r '.containerStatuses[0].ready' "$p/status.json"; done | grep -c true || true)
echo "$ready of $PODS pods ready (probes every second)"
shim_pids=$(for p in "${probe_pods[@]}"; do jq -r .shimPid "$p/status.json"; done)
ticks() { # utime stime cutime cstime of the given pids
  local t=0 pid
  for pid in $shim_pids; do
    t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")))
  done
  echo "$t"
}
t0=$(ticks)
start=$(date +%s.%N)
sleep "$SECONDS_RUN"
t1=$(ticks)
end=$(date +%s.%N)
restarts=$(for p in "${probe_pods[@]}"; do jq -r '.containerStatuses[0].restartCount' "$p/status.json"; done | awk '{s += $1} END {print s}')
probes_cpu=$(awk -v d=$((t1 - t0)) -v hz="$clk" -v s="$start" -v e="$end" 'BEGIN {printf "%.2f", d / hz / (e - s) * 100}')
echo "$PODS shims over $(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f", e - s}') s: $((t1 - t0)) ticks = ${probes_cpu}% of one core ($restarts restarts)"
echo "shim_rss_kib=$shim_rss conmon_rss_kib=$conmon_rss probes_cpu_pct=$probes_cpu"
